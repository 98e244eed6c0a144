/* Listening sockets: TCP on listen_addr:listen_port (comma list, "*" = all)
 * and the Unix socket unix_socket_dir/.s.PGSQL.<port>. */
#include "listener.h"

#include <errno.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "fairway.h"
#include "log.h"

struct listener {
	struct listener *next; /* owned chain */
	struct fairway *fw;
	struct evconnlistener *evl; /* owned; closes the fd */
	bool is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* Unix: unlinked on close */
	char name[128];                                         /* for log lines */
};

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *addr,
                      int addrlen, void *arg)
{
	struct listener *l = arg;

	(void)evl;
	fw_update_now(l->fw);
	client_accept(l->fw, fd, addr, addrlen, l->is_unix);
}

static void accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();

	fw_update_now(l->fw);
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		/* Out of descriptors or memory: the pending connection stays in the
		 * backlog; stop accepting for a moment instead of spinning. */
		evconnlistener_disable(evl);
		l->fw->accept_paused_until_us = l->fw->now_us + 1000000;
		log_warning("accept() failed on %s: %s; pausing accepts for 1s", l->name,
		            strerror(err));
		return;
	}
	log_warning("accept() failed on %s: %s", l->name, strerror(err));
}

static bool add_listener(struct fairway *fw, int fd, bool is_unix, const char *path,
                         const char *name)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		close(fd);
		return false;
	}
	l->fw = fw;
	l->is_unix = is_unix;
	snprintf(l->path, sizeof(l->path), "%s", path ? path : "");
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->evl =
	    evconnlistener_new(fw->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE,
	                       fw->cfg->listen_backlog > 0 ? fw->cfg->listen_backlog : 128, fd);
	if (l->evl == NULL) {
		close(fd);
		free(l);
		return false;
	}
	evconnlistener_set_error_cb(l->evl, accept_error_cb);
	l->next = fw->listeners;
	fw->listeners = l;
	log_info("listening on %s", name);
	return true;
}

static bool open_tcp(struct fairway *fw, const char *host)
{
	const struct config *cfg = fw->cfg;
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	bool any = false;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%d", cfg->listen_port);
	rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
	if (rc != 0) {
		log_error("cannot resolve listen_addr %s: %s", host, gai_strerror(rc));
		return false;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1;
		char name[128], hostbuf[64];

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (cfg->so_reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		getnameinfo(ai->ai_addr, ai->ai_addrlen, hostbuf, sizeof(hostbuf), NULL, 0,
		            NI_NUMERICHOST);
		snprintf(name, sizeof(name), "%s:%d", hostbuf, cfg->listen_port);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			int err = errno;

			log_error("bind %s: %s", name, strerror(err));
			close(fd);
			freeaddrinfo(res);
			return false;
		}
		if (listen(fd, cfg->listen_backlog > 0 ? cfg->listen_backlog : 128) != 0 ||
		    !add_listener(fw, fd, false, NULL, name)) {
			log_error("listen %s failed", name);
			freeaddrinfo(res);
			return false;
		}
		any = true;
	}
	freeaddrinfo(res);
	return any;
}

static bool open_unix(struct fairway *fw)
{
	const struct config *cfg = fw->cfg;
	struct sockaddr_un un;
	int fd;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	if ((size_t)snprintf(un.sun_path, sizeof(un.sun_path), "%s/.s.PGSQL.%d",
	                     cfg->unix_socket_dir, cfg->listen_port) >= sizeof(un.sun_path)) {
		log_error("unix_socket_dir too long: %s", cfg->unix_socket_dir);
		return false;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	unlink(un.sun_path); /* a stale socket from a previous run */
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
		int err = errno;

		log_error("bind %s: %s", un.sun_path, strerror(err));
		close(fd);
		return false;
	}
	chmod(un.sun_path, (mode_t)(cfg->unix_socket_mode > 0 ? cfg->unix_socket_mode : 0777));
	if (listen(fd, cfg->listen_backlog > 0 ? cfg->listen_backlog : 128) != 0) {
		close(fd);
		unlink(un.sun_path);
		return false;
	}
	if (!add_listener(fw, fd, true, un.sun_path, un.sun_path)) {
		unlink(un.sun_path);
		return false;
	}
	return true;
}

bool listener_open_all(struct fairway *fw)
{
	const struct config *cfg = fw->cfg;
	const char *p = cfg->listen_addr;

	while (p != NULL && *p != '\0') {
		char host[256];
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (len >= sizeof(host)) {
			log_error("listen_addr entry too long");
			return false;
		}
		memcpy(host, p, len);
		host[len] = '\0';
		p += len;
		if (!open_tcp(fw, host))
			return false;
	}
	if (cfg->unix_socket_dir != NULL && cfg->unix_socket_dir[0] != '\0' && !open_unix(fw))
		return false;
	if (fw->listeners == NULL) {
		log_error("nothing to listen on: set listen_addr or unix_socket_dir");
		return false;
	}
	return true;
}

void listener_close(struct fairway *fw, bool include_unix)
{
	struct listener **pp = &fw->listeners;

	while (*pp != NULL) {
		struct listener *l = *pp;

		if (l->is_unix && !include_unix) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		evconnlistener_free(l->evl);
		if (l->is_unix)
			unlink(l->path);
		free(l);
	}
}

void listener_pause(struct fairway *fw, bool pause)
{
	for (struct listener *l = fw->listeners; l != NULL; l = l->next) {
		if (pause)
			evconnlistener_disable(l->evl);
		else
			evconnlistener_enable(l->evl);
	}
}
