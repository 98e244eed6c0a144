/* The client state machine: accept, startup packet, authentication (auth.c),
 * welcome, then forwarding messages to the linked server.  Every way a client
 * ends goes through client_close(). */
#include "client.h"

#include "io.h"
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "auth.h"
#include "authquery.h"
#include "cancel.h"
#include "config.h"
#include "fairway.h"
#include "hba.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "ps_forward.h"
#include "server.h"
#include "sqlstate.h"
#include "util.h"

/* Stop reading the other side when this much output is queued. */
#define BACKLOG_HIGH_BYTES (512 * 1024)
/* Resume once the queue has drained below this. */
#define BACKLOG_LOW_BYTES (64 * 1024)
/* After each of a client's first answers that leave it idle, its buffers go
 * back at once.  Application pools log in, check the connection with a query
 * or two and let it idle: buffers kept until the housekeeping tick trims them
 * would stay as holes between the clients logging in after it.  A busy client
 * keeps them from then on (the tick trims it once it idles). */
#define EARLY_TRIMS 4

static const char *const client_state_names[] = {
    [CL_STARTUP] = "startup",   [CL_AUTH] = "auth",       [CL_LOGIN] = "login",
    [CL_IDLE] = "idle",         [CL_WAITING] = "waiting", [CL_ACTIVE] = "active",
    [CL_DRAINING] = "draining", [CL_CLOSED] = "closed",   [CL_LOOKUP] = "lookup",
};
_Static_assert(sizeof(client_state_names) / sizeof(client_state_names[0]) == CL_STATE_COUNT,
               "every client state needs a name");

#define TO(s) (1u << (s))
static const unsigned client_may_enter[CL_STATE_COUNT] = {
    [CL_STARTUP] =
        TO(CL_AUTH) | TO(CL_LOOKUP) | TO(CL_LOGIN) | TO(CL_IDLE) | TO(CL_DRAINING) | TO(CL_CLOSED),
    [CL_LOOKUP] = TO(CL_AUTH) | TO(CL_DRAINING) | TO(CL_CLOSED),
    [CL_AUTH] = TO(CL_LOGIN) | TO(CL_IDLE) | TO(CL_DRAINING) | TO(CL_CLOSED),
    [CL_LOGIN] = TO(CL_IDLE) | TO(CL_DRAINING) | TO(CL_CLOSED),
    [CL_IDLE] = TO(CL_WAITING) | TO(CL_ACTIVE) | TO(CL_DRAINING) | TO(CL_CLOSED),
    [CL_WAITING] = TO(CL_ACTIVE) | TO(CL_DRAINING) | TO(CL_CLOSED),
    [CL_ACTIVE] = TO(CL_IDLE) | TO(CL_DRAINING) | TO(CL_CLOSED),
    [CL_DRAINING] = TO(CL_CLOSED),
    [CL_CLOSED] = 0,
};

const char *client_state_name(enum client_state s)
{
	return client_state_names[s];
}

void client_set_state(struct client *c, enum client_state next)
{
	assert(client_may_enter[c->state] & TO(next));
	pool_count_client(c->pool, c->state, -1);
	pool_count_client(c->pool, next, +1);
	c->state = next;
	c->state_since_us = c->fw->now_us;
}

void client_addr_str(const struct client *c, char *buf, size_t n, int *port)
{
	*port = 0;
	if (c->is_unix) {
		snprintf(buf, n, "unix");
	} else if (c->addr.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &c->addr.in4.sin_addr, buf, (socklen_t)n);
		*port = ntohs(c->addr.in4.sin_port);
	} else if (c->addr.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &c->addr.in6.sin6_addr, buf, (socklen_t)n);
		*port = ntohs(c->addr.in6.sin6_port);
	} else {
		snprintf(buf, n, "unknown");
	}
}

void client_log(int level, const struct client *c, const char *fmt, ...)
{
	char msg[1024], addr[64];
	va_list ap;
	int port;

	if (!log_enabled((enum log_level)level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	client_addr_str(c, addr, sizeof(addr), &port);
	log_msg((enum log_level)level, "C-%" PRIu64 ": %s/%s@%s:%d %s", c->id,
	        c->dbname ? c->dbname : "(nodb)", c->user ? c->user : "(nouser)", addr, port, msg);
}

static void client_read_cb(struct io *io, void *arg);
static void client_write_cb(struct io *io, void *arg);
static void client_event_cb(struct io *io, int what, void *arg);

void client_accept(struct fairway *fw, int fd, const struct sockaddr *addr, int addrlen,
                   bool is_unix)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->login = calloc(1, sizeof(*c->login))) == NULL) {
		free(c);
		close(fd);
		log_warning("out of memory accepting a client");
		return;
	}
	c->fw = fw;
	c->id = ++fw->next_id;
	c->state = CL_STARTUP;
	c->is_unix = is_unix;
	memcpy(&c->addr, addr,
	       (size_t)addrlen < sizeof(c->addr) ? (size_t)addrlen : sizeof(c->addr));
	c->addr.sa.sa_family = addr->sa_family;
	c->connect_us = fw->now_us;
	c->connect_wall_us = util_wall_us();
	c->state_since_us = fw->now_us;
	c->last_activity_us = fw->now_us;
	sched_entry_init(&c->wait);
	c->login->client = c;
	list_init(&c->login->link);
	list_add_tail(&fw->clients, &c->link);
	fw->n_clients++;
	if (!is_unix) {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		util_tune_tcp(fd, fw->cfg);
	}
	c->io = io_new(fw, fd); /* owns fd, also when it fails */
	if (c->io == NULL) {
		client_close(c, "out of memory");
		return;
	}
	io_setcb(c->io, client_read_cb, client_write_cb, client_event_cb, c);
	io_set_low_mark(c->io, BACKLOG_LOW_BYTES);
	io_read_on(c->io);
	if (fw->cfg->max_client_conn > 0 && fw->n_clients > fw->cfg->max_client_conn) {
		client_fail(c, SQLSTATE_TOO_MANY_CONNECTIONS,
		            "no more connections allowed (max_client_conn)");
		return;
	}
	if (fw->shutdown != SHUTDOWN_NONE && !is_unix) {
		client_fail(c, SQLSTATE_CANNOT_CONNECT_NOW, "pooler is shutting down");
		return;
	}
}

void client_close(struct client *c, const char *reason)
{
	struct fairway *fw = c->fw;

	if (c->state == CL_CLOSED)
		return;
	if ((c->state != CL_STARTUP || c->user != NULL) && !c->close_logged) {
		if (fw->cfg->log_disconnections)
			client_log(LOG_LVL_INFO, c, "closing because: %s (age=%" PRIu64 "s)",
			           reason, (fw->now_us - c->connect_us) / USEC);
	}
	if (c->state == CL_LOOKUP)
		authquery_abort(c);
	if (c->state == CL_WAITING)
		sched_remove(&c->pool->waitq, &c->wait, false);
	if (c->state == CL_LOGIN)
		list_del(&c->login->link);
	if (c->server != NULL)
		pool_unlink(c, server_is_clean(c->server) && c->pkt_remain == 0);
	cancel_unregister(fw->cancels, c);
	if (c->counted_in_db) {
		c->db->n_clients--;
		if (c->pool != NULL)
			c->pool->puser->n_clients--;
		c->counted_in_db = false;
	}
	auth_clear(c);
	if (c->io != NULL) {
		io_free(c->io);
		c->io = NULL;
	}
	fw->n_clients--;
	client_set_state(c, CL_CLOSED);
	list_del(&c->link);
	list_add_tail(&fw->graveyard_clients, &c->link);
	fw_schedule_reap(fw);
}

/* Wipes and frees the login's secrets: the client is authenticated (it
 * needs them no more) or going. */
static void login_wipe(struct client *c)
{
	struct client_login *l = c->login;

	if (l == NULL)
		return;
	auth_clear(c);
	authquery_clear(c);
	if (l->cleartext_password != NULL) {
		OPENSSL_cleanse(l->cleartext_password, strlen(l->cleartext_password));
		free(l->cleartext_password);
		l->cleartext_password = NULL;
	}
	OPENSSL_cleanse(l->scram_client_key, sizeof(l->scram_client_key));
	l->has_scram_key = false;
}

/* Frees the login state: the client is logged in or going (and out of
 * pool->login_waiters). */
static void login_free(struct client *c)
{
	login_wipe(c);
	free(c->login);
	c->login = NULL;
}

void client_detach(struct client *c)
{
	if (c->counted_in_db) {
		c->db->n_clients--;
		if (c->pool != NULL)
			c->pool->puser->n_clients--;
		c->counted_in_db = false;
	}
	pool_count_client(c->pool, c->state, -1);
	c->pool = NULL;
	c->db = NULL;
}

void client_free(struct client *c)
{
	list_del(&c->link);
	ps_client_free(c);
	params_clear(&c->params);
	params_release(c->user);
	params_release(c->dbname);
	login_free(c);
	free(c->refusal);
	free(c->admin_wait_db);
	free(c);
}

/* Log lines about refused logins allowed per second: a client guessing
 * passwords must not flood the log.  The rest are counted and summed up. */
#define LOGIN_FAILURE_LOGS_PER_SEC 10

void client_login_failures_summary(struct fairway *fw)
{
	if (fw->now_us - fw->login_fail_window_us < USEC)
		return;
	if (fw->login_fail_suppressed > 0)
		log_warning("%" PRIu64 " more failed logins not logged (more than %d a second)",
		            fw->login_fail_suppressed, LOGIN_FAILURE_LOGS_PER_SEC);
	fw->login_fail_window_us = fw->now_us;
	fw->login_fail_logged = 0;
	fw->login_fail_suppressed = 0;
}

/* A refused login (SQLSTATE class 28 before the client is in): counted;
 * false when it must not be logged. */
static bool login_failure_loggable(struct client *c, const char *sqlstate)
{
	struct fairway *fw = c->fw;

	if ((c->state != CL_STARTUP && c->state != CL_AUTH && c->state != CL_LOOKUP) ||
	    strncmp(sqlstate, "28", 2) != 0)
		return true;
	fw->failed_logins++;
	client_login_failures_summary(fw);
	if (fw->login_fail_logged < LOGIN_FAILURE_LOGS_PER_SEC) {
		fw->login_fail_logged++;
		return true;
	}
	fw->login_fail_suppressed++;
	return false;
}

void client_fail(struct client *c, const char *sqlstate, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	bool loggable;

	if (c->state == CL_DRAINING || c->state == CL_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	loggable = login_failure_loggable(c, sqlstate);
	if (c->fw->cfg->log_pooler_errors && loggable)
		client_log(LOG_LVL_WARNING, c, "pooler error: %s", msg);
	if (c->fw->cfg->log_disconnections && loggable)
		client_log(LOG_LVL_INFO, c, "closing because: %s (age=%" PRIu64 "s)", msg,
		           (c->fw->now_us - c->connect_us) / USEC);
	c->close_logged = true;
	if (c->state == CL_LOOKUP)
		authquery_abort(c);
	if (c->server != NULL)
		pool_unlink(c, server_is_clean(c->server) && c->pkt_remain == 0);
	if (c->state == CL_WAITING)
		sched_remove(&c->pool->waitq, &c->wait, false);
	if (c->state == CL_LOGIN)
		list_del(&c->login->link);
	if (!proto_put_error(io_output(c->io), "FATAL", sqlstate, msg)) {
		client_close(c, "out of memory while reporting an error");
		return;
	}
	io_read_off(c->io);
	io_set_low_mark(c->io, 0);
	client_set_state(c, CL_DRAINING);
	/* The reason for the log line is the message itself. */
	login_free(c);
	/* client_write_cb closes once the error has been written. */
}

/* Sends what a fresh session needs: parameters, cancel key, ReadyForQuery. */
void client_send_welcome(struct client *c)
{
	struct evbuffer *out = io_output(c->io);
	struct pool *pool = c->pool;
	bool ok = true;

	for (size_t i = 0; ok && i < pool->n_welcome; i++) {
		int slot = params_slot(&c->fw->tracked, pool->welcome[i].name);
		const char *val = pool->welcome[i].value;

		if (slot >= 0) {
			if (params_get(&c->params, slot) != NULL)
				val = params_get(&c->params, slot);
			else
				ok = params_set(&c->params, slot, val);
		}
		ok = ok && proto_put_param_status(out, pool->welcome[i].name, val);
	}
	ok = ok && cancel_register(c->fw->cancels, c);
	ok = ok && proto_put_backend_key(out, c->cancel_pid, c->cancel_key) &&
	     proto_put_rfq(out, 'I');
	if (!ok) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	client_set_state(c, CL_IDLE);
	login_free(c);
	if (c->replication != HBA_REPL_NONE) {
		/* Its own server for the whole session, opened now. */
		io_read_off(c->io);
		pool_request(c);
		return;
	}
	io_read_on(c->io);
	client_process(c);
}

void client_refresh_settings(struct client *c)
{
	const struct user_conf *uc = config_find_user(c->fw->cfg, c->user);

	c->user_weight = uc != NULL && uc->fair_weight > 0 ? (uint32_t)uc->fair_weight : 1;
}

void client_auth_done(struct client *c)
{
	struct fairway *fw = c->fw;
	struct pool *pool;

	if (!c->is_console && c->db == NULL) {
		client_fail(c, SQLSTATE_INVALID_CATALOG_NAME, "no such database: %s", c->dbname);
		return;
	}
	if (!proto_put_auth(io_output(c->io), 0, NULL, 0)) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	if (c->is_console) {
		login_free(c);
		admin_welcome(c);
		return;
	}
	pool = c->replication != HBA_REPL_NONE
	           ? pool_get_replication(c->db, c->user, c->replication)
	           : pool_get(c->db, c->user);
	if (pool == NULL) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	c->pool = pool;
	client_refresh_settings(c);
	pool_count_client(pool, c->state, +1);
	authquery_set_pool_password(c, pool);
	if (c->login->has_scram_key && pool->password != NULL && strcmp(pool->user, c->user) == 0 &&
	    strncmp(pool->password, "SCRAM-SHA-256$", 14) == 0) {
		memcpy(pool->scram_client_key, c->login->scram_client_key,
		       sizeof(pool->scram_client_key));
		pool->has_scram_key = true;
	}
	login_wipe(c);
	c->db->n_clients++;
	pool->puser->n_clients++;
	c->counted_in_db = true;
	{
		const struct user_conf *uc = config_find_user(fw->cfg, c->user);
		int max_user = uc != NULL && uc->max_user_client_connections >= 0
		                   ? uc->max_user_client_connections
		                   : fw->cfg->max_user_client_connections;

		if (max_user > 0 && pool->puser->n_clients > max_user) {
			client_fail(c, SQLSTATE_TOO_MANY_CONNECTIONS,
			            "no more connections allowed (max_user_client_connections)");
			return;
		}
	}
	if (pool->has_welcome) {
		client_send_welcome(c);
		return;
	}
	/* The pool has never logged in to its server: wait for its parameters. */
	io_read_off(c->io);
	client_set_state(c, CL_LOGIN);
	list_add_tail(&pool->login_waiters, &c->login->link);
	c->request_us = fw->now_us;
	pool_maybe_launch(pool);
}

/* replication=database / a boolean, as PostgreSQL reads it.  auth_hba_file
 * lines match on it; such a client then gets a replication pool's server of
 * its own (pool_get_replication). */
static bool parse_replication(struct client *c, const char *value)
{
	static const char *const yes[] = {"1", "on", "true", "yes", "t", "y"};
	static const char *const no[] = {"0", "off", "false", "no", "f", "n"};

	if (strcmp(value, "database") == 0) {
		c->replication = HBA_REPL_LOGICAL;
		return true;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			c->replication = HBA_REPL_PHYSICAL;
			return true;
		}
		if (strcasecmp(value, no[i]) == 0) {
			c->replication = HBA_REPL_NONE;
			return true;
		}
	}
	client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
	            "invalid value for parameter \"replication\": \"%s\"", value);
	return false;
}

/* Applies one startup parameter; false after failing the client. */
static bool apply_startup_param(struct client *c, const char *name, const char *value)
{
	const struct config *cfg = c->fw->cfg;
	int slot;

	if (strcmp(name, "user") == 0) {
		params_release(c->user);
		c->user = params_intern(value);
		return c->user != NULL;
	}
	if (strcmp(name, "database") == 0) {
		params_release(c->dbname);
		c->dbname = params_intern(value);
		return c->dbname != NULL;
	}
	if ((slot = params_slot(&c->fw->tracked, name)) >= 0)
		return params_set(&c->params, slot, value);
	if (config_list_has(cfg->ignore_startup_parameters, name))
		return true;
	if (strcmp(name, "replication") == 0)
		return parse_replication(c, value);
	client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "unsupported startup parameter: %s", name);
	return false;
}

/* Returns false if the client was failed. */
static bool check_login_limits(struct client *c)
{
	const struct config *cfg = c->fw->cfg;
	int max_db;

	if (c->db->disabled) {
		client_fail(c, SQLSTATE_CANNOT_CONNECT_NOW, "database \"%s\" is disabled",
		            c->dbname);
		return false;
	}
	max_db = c->db->conf->max_db_client_connections >= 0
	             ? c->db->conf->max_db_client_connections
	             : cfg->max_db_client_connections;
	if (max_db > 0 && c->db->n_clients >= max_db) {
		client_fail(c, SQLSTATE_TOO_MANY_CONNECTIONS,
		            "no more connections allowed (max_db_client_connections)");
		return false;
	}
	return true;
}

/* application_name_add_host: "app - host:port", as PgBouncer writes it. */
static bool append_host_to_appname(struct client *c)
{
	int slot = params_slot(&c->fw->tracked, "application_name");
	const char *app;
	char addr[64], buf[512];
	int port;

	if (slot < 0)
		return true;
	if ((app = params_get(&c->params, slot)) == NULL)
		app = "";
	client_addr_str(c, addr, sizeof(addr), &port);
	snprintf(buf, sizeof(buf), "%s - %s:%d", app, addr, port);
	return params_set(&c->params, slot, buf);
}

static void handle_startup_params(struct client *c, const struct startup_pkt *sp)
{
	struct fairway *fw = c->fw;
	const char *unknown[PROTO_MAX_STARTUP_PARAMS];
	size_t n_unknown = 0;

	for (size_t i = 0; i < sp->n_params; i++) {
		if (strncmp(sp->names[i], "_pq_.", 5) == 0) {
			unknown[n_unknown++] = sp->names[i];
			continue;
		}
		if (!apply_startup_param(c, sp->names[i], sp->values[i])) {
			if (c->state != CL_DRAINING)
				client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
			return;
		}
	}
	if ((sp->code & 0xffff) != 0 || n_unknown > 0) {
		if (!proto_put_negotiate(io_output(c->io), 0, unknown, n_unknown)) {
			client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
			return;
		}
	}
	if (fw->cfg->application_name_add_host && !append_host_to_appname(c)) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	if (c->user == NULL || c->user[0] == '\0') {
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "no username supplied");
		return;
	}
	if (c->dbname == NULL || c->dbname[0] == '\0') {
		params_release(c->dbname);
		c->dbname = params_intern(c->user);
		if (c->dbname == NULL) {
			client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
			return;
		}
	}
	if (fw->cfg->log_connections) {
		char tls[128];

		io_tls_describe(c->io, tls, sizeof(tls));
		client_log(LOG_LVL_INFO, c, "login attempt: db=%s user=%s tls=%s", c->dbname,
		           c->user, tls[0] != '\0' ? tls : "no");
	}
	if (strcmp(c->dbname, "pgbouncer") == 0 || strcmp(c->dbname, "fairway") == 0) {
		c->is_console = true;
		auth_begin(c);
		return;
	}
	if (fw->shutdown != SHUTDOWN_NONE) {
		client_fail(c, SQLSTATE_CANNOT_CONNECT_NOW, "pooler is shutting down");
		return;
	}
	/* An unknown database is reported only after authentication, so that
	 * database names are not revealed to clients without a password. */
	c->db = db_lookup(fw, c->dbname, true);
	if (c->db != NULL && !check_login_limits(c))
		return;
	auth_begin(c);
}

/* SSLRequest with TLS on: 'S', then the handshake.  Bytes sent after the
 * request but before the handshake would be plain text slipped into the
 * TLS session (CVE-2021-23222): refused. */
static void answer_ssl_request(struct client *c)
{
	if (io_is_tls(c->io)) {
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "SSL request on a TLS connection");
		return;
	}
	if (evbuffer_get_length(io_input(c->io)) > 0) {
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
		            "received unencrypted data after SSL request");
		return;
	}
	if (evbuffer_add(io_output(c->io), "S", 1) != 0 ||
	    !io_tls_accept(c->io, c->fw->tls.accept)) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
}

/* TLS is on for this client and has not begun. */
static bool may_start_tls(const struct client *c)
{
	return c->fw->tls.accept != NULL && !c->is_unix && !io_is_tls(c->io);
}

/* The first packet: SSLRequest, GSSENCRequest, CancelRequest or StartupMessage. */
static void process_startup(struct client *c)
{
	struct evbuffer *in = io_input(c->io);
	struct startup_pkt sp;
	struct pg_msg_hdr h;
	uint8_t hdr[4], *body;
	enum proto_status st;

	while (c->state == CL_STARTUP) {
		size_t avail = evbuffer_get_length(in);

		if (avail < 4 && !(avail >= 1 && may_start_tls(c)))
			return;
		evbuffer_copyout(in, hdr, avail < 4 ? avail : 4);
		if (hdr[0] == TLS_HANDSHAKE_BYTE && may_start_tls(c)) {
			/* No startup packet starts with 0x16 (its length would be far
			 * too big): this is a direct TLS ClientHello (PostgreSQL 17).
			 * With TLS off it is bad input like any other (08P01). */
			c->tls_direct = true;
			if (!io_tls_accept(c->io, c->fw->tls.accept))
				client_close(c, "out of memory");
			return;
		}
		if (avail < 4)
			return;
		st = proto_parse_hdr(hdr, 4, true, PROTO_STARTUP_MAX_LEN, &h);
		if (st == PROTO_BAD_LENGTH || st == PROTO_TOO_BIG) {
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
			            "invalid startup packet length");
			return;
		}
		if (avail < 4 + (size_t)h.body_len)
			return;
		evbuffer_drain(in, 4);
		body = malloc(h.body_len + 1);
		if (body == NULL) {
			client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
			return;
		}
		evbuffer_remove(in, body, h.body_len);
		body[h.body_len] = '\0';
		st = proto_parse_startup(body, h.body_len, &sp);
		if (st != PROTO_OK) {
			free(body);
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "invalid startup packet");
			return;
		}
		if (sp.code == PROTO_SSL_CODE && c->fw->tls.accept != NULL && !c->is_unix) {
			free(body);
			answer_ssl_request(c);
			return;
		}
		if (sp.code == PROTO_SSL_CODE || sp.code == PROTO_GSSENC_CODE) {
			free(body);
			/* TLS off (or a Unix socket), no GSS: the client goes on in plain text. */
			if (evbuffer_add(io_output(c->io), "N", 1) != 0) {
				client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
				return;
			}
			continue;
		}
		if (sp.code == PROTO_CANCEL_CODE) {
			struct client *target =
			    cancel_lookup(c->fw->cancels, sp.cancel_pid, sp.cancel_key);

			free(body);
			if (target != NULL && target->server != NULL)
				cancel_forward(c->fw, target->server);
			client_close(c, "cancel request");
			return;
		}
		if ((sp.code >> 16) != 3) {
			free(body);
			client_fail(c, SQLSTATE_FEATURE_NOT_SUPPORTED,
			            "unsupported frontend protocol %u.%u: server supports 3.0",
			            sp.code >> 16, sp.code & 0xffff);
			return;
		}
		if (c->fw->tls.client_mode >= TLS_REQUIRE && !c->is_unix && !io_is_tls(c->io)) {
			free(body);
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "SSL required");
			return;
		}
		handle_startup_params(c, &sp);
		free(body);
		return;
	}
}

/* Password and SASL messages while authenticating. */
static void process_auth(struct client *c)
{
	struct evbuffer *in = io_input(c->io);

	while (c->state == CL_AUTH) {
		uint8_t hdr[5], *body;
		struct pg_msg_hdr h;
		enum proto_status st;

		if (evbuffer_get_length(in) < 5)
			return;
		evbuffer_copyout(in, hdr, 5);
		st = proto_parse_hdr(hdr, 5, false, 8192, &h);
		if (st != PROTO_OK || h.type != 'p') {
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
			            st == PROTO_OK ? "expected password message"
			                           : "invalid packet length");
			return;
		}
		if (evbuffer_get_length(in) < 5 + (size_t)h.body_len)
			return;
		evbuffer_drain(in, 5);
		body = malloc(h.body_len + 1);
		if (body == NULL) {
			client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
			return;
		}
		evbuffer_remove(in, body, h.body_len);
		body[h.body_len] = '\0';
		auth_handle(c, body, h.body_len);
		free(body);
	}
}

/* Resumes reading from the linked server once our output has drained. */
static void resume_server(struct client *c)
{
	struct server *sv = c->server;

	if (sv != NULL && sv->read_held) {
		sv->read_held = false;
		io_read_on(sv->io);
		server_process(sv);
	}
}

enum client_msg_action {
	MSG_FORWARD, /* forward as it is */
	MSG_REWRITE, /* a prepared-statement message for ps_client_msg() */
	MSG_CLOSE,   /* Terminate */
	MSG_REFUSED, /* unknown type: the client was failed */
};

/* What the pooler must know of a client message on its way to sv: queries
 * and Syncs (ReadyForQuery owed), open extended batches, statistics. */
static enum client_msg_action note_client_msg(struct client *c, struct server *sv, uint8_t type,
                                              bool ps)
{
	switch (type) {
	case 'X':
		return MSG_CLOSE;
	case 'Q':
		sv->expect_rfq++;
		sv->syncs_sent++;
		if (sv->query_start_us == 0)
			sv->query_start_us = c->fw->now_us;
		c->pool->db->stats.query_count++;
		c->fw->stats.query_count++;
		return MSG_FORWARD;
	case 'F':
		sv->expect_rfq++;
		sv->syncs_sent++;
		return MSG_FORWARD;
	case 'S':
		sv->expect_rfq++;
		sv->syncs_sent++;
		sv->ext_open = false;
		return MSG_FORWARD;
	case 'E':
		c->pool->db->stats.query_count++;
		c->fw->stats.query_count++;
		if (sv->query_start_us == 0)
			sv->query_start_us = c->fw->now_us;
		sv->ext_open = true;
		return MSG_FORWARD;
	case 'P':
	case 'B':
	case 'D':
	case 'C':
		sv->ext_open = true;
		return ps ? MSG_REWRITE : MSG_FORWARD;
	case 'H':
		sv->ext_open = true;
		return MSG_FORWARD;
	case 'd':
	case 'c':
	case 'f':
		return MSG_FORWARD;
	default:
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "unsupported pkt type: %d", type);
		return MSG_REFUSED;
	}
}

/* The complete messages at the front of the client's input that need no
 * rewriting, as long as they lie in its first contiguous block: noted one by
 * one and moved to the server in one piece.  Returns the bytes moved; 0 when
 * the first message needs the message-at-a-time path. */
static size_t forward_batch(struct client *c, struct server *sv, uint32_t max_body, bool ps)
{
	size_t len, off = 0;
	const uint8_t *p = io_input_peek(c->io, &len);

	while (p != NULL && off + 5 <= len) {
		struct pg_msg_hdr h;
		size_t n;

		if (proto_parse_hdr(p + off, 5, false, max_body, &h) != PROTO_OK)
			break; /* reported by the slow path */
		n = 5 + (size_t)h.body_len;
		if (n > len - off)
			break;
		if (h.type == 'X' ||
		    (h.type == 'Q' && c->ps != NULL && n > 5 && (p[off + 5] | 0x20) == 'd'))
			break; /* Terminate; a Query that may be a DEALLOCATE */
		switch (note_client_msg(c, sv, h.type, ps)) {
		case MSG_FORWARD:
			break;
		case MSG_REWRITE: {
			int plain = ps_client_plain(c, sv, &h, p + off);

			if (plain < 0) {
				client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
				return 0;
			}
			if (plain == 0)
				goto done;
			break;
		}
		default:
			return 0; /* refused: the client has been failed */
		}
		off += n;
	}
done:
	if (off > 0)
		io_forward(sv->io, c->io, off);
	return off;
}

/* Moves client messages to the linked server: whole runs of messages at once
 * where possible, else one at a time (messages split across reads, COPY
 * data, prepared-statement rewriting). */
static void forward_to_server(struct client *c)
{
	struct server *sv = c->server;
	uint32_t max_body =
	    (uint32_t)(c->fw->cfg->max_packet_size > 0x7fffffff ? 0x7fffffff
	                                                        : c->fw->cfg->max_packet_size);
	uint64_t moved = 0;
	bool ps = ps_wanted(c);

	while (c->server == sv && c->state == CL_ACTIVE) {
		size_t avail, n;
		struct pg_msg_hdr h;
		uint8_t hdr[5];
		enum proto_status st;
		enum client_msg_action act;

		if (io_output_length(sv->io) > BACKLOG_HIGH_BYTES) {
			c->read_held = true;
			io_read_off(c->io);
			break;
		}
		avail = io_input_length(c->io);
		if (c->pkt_remain > 0) {
			n = avail < c->pkt_remain ? avail : c->pkt_remain;
			if (n == 0)
				break;
			io_forward(sv->io, c->io, n);
			c->pkt_remain -= (uint32_t)n;
			moved += n;
			continue;
		}
		if (avail < 5)
			break;
		n = forward_batch(c, sv, max_body, ps);
		if (c->state != CL_ACTIVE)
			return;
		if (n > 0) {
			moved += n;
			continue;
		}
		evbuffer_copyout(io_input(c->io), hdr, 5);
		st = proto_parse_hdr(hdr, 5, false, max_body, &h);
		if (st != PROTO_OK) {
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
			            st == PROTO_TOO_BIG ? "max_packet_size exceeded"
			                                : "invalid packet length");
			return;
		}
		if (h.type == 'Q' && c->ps != NULL && sv->expect_rfq <= 0 && !sv->ext_open &&
		    sv->xact_status != 'E' && ps_client_deallocate(c, &h, sv->xact_status)) {
			if (c->state != CL_ACTIVE)
				return;
			continue;
		}
		act = note_client_msg(c, sv, h.type, ps);
		if (act == MSG_CLOSE) {
			client_close(c, "client close request");
			return;
		}
		if (act == MSG_REFUSED)
			return;
		if (act == MSG_REWRITE) {
			enum ps_fwd r = ps_client_msg(c, sv, &h);

			if (r == PS_FWD_FAILED)
				return;
			if (r == PS_FWD_MORE)
				break;
			if (r == PS_FWD_DONE) {
				moved += 5 + (uint64_t)h.body_len - c->pkt_remain;
				continue;
			}
		}
		c->pkt_remain = 5 + h.body_len;
	}
	c->last_activity_us = c->fw->now_us;
	c->pool->db->stats.bytes_received += moved;
	c->fw->stats.bytes_received += moved;
}

void client_refuse_request(struct client *c, const char *msg)
{
	char *copy = strdup(msg);

	if (copy == NULL) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	client_log(LOG_LVL_WARNING, c, "refused: %s (SQLSTATE %s)", msg,
	           SQLSTATE_TOO_MANY_CONNECTIONS);
	free(c->refusal);
	c->refusal = copy;
	c->pkt_remain = 0;
	io_read_on(c->io);
	client_process(c);
}

/* Discards the refused request up to its Query or Sync, then answers it.
 * Returns true when the refusal is answered (normal processing resumes). */
static bool discard_refused(struct client *c)
{
	struct evbuffer *in = io_input(c->io);

	while (c->refusal != NULL) {
		size_t avail = evbuffer_get_length(in);
		struct pg_msg_hdr h;
		uint8_t hdr[5];

		if (c->pkt_remain > 0) {
			size_t n = avail < c->pkt_remain ? avail : c->pkt_remain;

			if (n == 0)
				return false;
			evbuffer_drain(in, n);
			c->pkt_remain -= (uint32_t)n;
			if (c->pkt_remain > 0)
				return false;
			continue;
		}
		if (avail < 5)
			return false;
		evbuffer_copyout(in, hdr, 5);
		if (proto_parse_hdr(hdr, 5, false, 0x7fffffff, &h) != PROTO_OK) {
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "invalid packet length");
			return false;
		}
		if (h.type == 'X') {
			client_close(c, "client close request");
			return false;
		}
		c->pkt_remain = 5 + h.body_len;
		if (h.type == 'Q' || h.type == 'S') {
			/* The refused request ends here: answer once it is consumed. */
			char *msg = c->refusal;

			c->refusal = NULL;
			if (!proto_put_error(io_output(c->io), "ERROR",
			                     SQLSTATE_TOO_MANY_CONNECTIONS, msg) ||
			    !proto_put_rfq(io_output(c->io), 'I')) {
				free(msg);
				client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
				return false;
			}
			free(msg);
			c->discard_tail = true;
		}
	}
	/* Drain the rest of the final Query/Sync message. */
	if (c->discard_tail) {
		size_t avail = evbuffer_get_length(in);
		size_t n = avail < c->pkt_remain ? avail : c->pkt_remain;

		evbuffer_drain(in, n);
		c->pkt_remain -= (uint32_t)n;
		if (c->pkt_remain > 0)
			return false;
		c->discard_tail = false;
	}
	return true;
}

/* An idle client sent something: Terminate closes, anything else needs a server. */
static void process_idle(struct client *c)
{
	struct pg_msg_hdr h;
	uint8_t hdr[5];
	enum proto_status st;

	for (;;) {
		const uint8_t *p;
		size_t len;

		if ((c->refusal != NULL || c->discard_tail) && !discard_refused(c))
			return;
		if (io_input_length(c->io) < 5)
			return;
		p = io_input_peek(c->io, &len);
		if (len < 5) {
			evbuffer_copyout(io_input(c->io), hdr, 5);
			p = hdr;
		}
		st = proto_parse_hdr(p, 5, false, 0x7fffffff, &h);
		if (st != PROTO_OK) {
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "invalid packet length");
			return;
		}
		if (h.type == 'X') {
			client_close(c, "client close request");
			return;
		}
		if (c->fw->shutdown == SHUTDOWN_WAIT_SERVERS) {
			client_fail(c, SQLSTATE_ADMIN_SHUTDOWN, "pooler is shutting down");
			return;
		}
		/* Answered without a server: on to the next message. */
		if (h.type == 'Q' && c->ps != NULL && ps_client_deallocate(c, &h, 'I')) {
			if (c->state != CL_IDLE)
				return;
			continue;
		}
		/* Reads stay on while it waits: a client that gives up is seen at
		 * once, and a wait costs no epoll_ctl to stop and resume reading.
		 * What it sends meanwhile is kept, up to BACKLOG_HIGH_BYTES. */
		pool_request(c);
		return;
	}
}

void client_process(struct client *c)
{
	switch (c->state) {
	case CL_STARTUP:
		process_startup(c);
		break;
	case CL_AUTH:
		process_auth(c);
		break;
	case CL_LOOKUP:
		/* Reads stay on to notice a client that gives up; nothing is due
		 * from it before the password challenge. */
		if (evbuffer_get_length(io_input(c->io)) > 0)
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
			            "unexpected message during authentication");
		break;
	case CL_LOGIN:
		break;
	case CL_WAITING:
		if (io_input_length(c->io) > BACKLOG_HIGH_BYTES)
			io_read_off(c->io); /* on again when it gets a server */
		break;
	case CL_IDLE:
		if (c->is_console)
			admin_process(c);
		else
			process_idle(c);
		break;
	case CL_ACTIVE:
		io_read_on(c->io);
		forward_to_server(c);
		break;
	case CL_DRAINING:
	case CL_CLOSED:
		if (c->io != NULL)
			evbuffer_drain(io_input(c->io), evbuffer_get_length(io_input(c->io)));
		break;
	}
}

static void client_read_cb(struct io *io, void *arg)
{
	struct client *c = arg;

	if (c->fw->suspended && !c->is_console) {
		io_read_off(io); /* SUSPEND: resumed by RESUME */
		return;
	}
	client_process(c);
}

static void client_write_cb(struct io *io, void *arg)
{
	struct client *c = arg;

	if (c->state == CL_DRAINING) {
		if (io_output_length(io) == 0)
			client_close(c, "error sent");
		return;
	}
	if (c->is_console) {
		client_resume_reading(c); /* admin_process held it while answers piled up */
		return;
	}
	resume_server(c);
	if (c->state == CL_IDLE && c->early_trims < EARLY_TRIMS && c->io != NULL) {
		c->early_trims++;
		io_trim(c->io);
	}
}

static void client_event_cb(struct io *io, int what, void *arg)
{
	struct client *c = arg;

	if (what & IO_EV_TLS_READY) {
		/* Direct TLS must say it carries PostgreSQL (ALPN), as in PostgreSQL 17. */
		if (c->tls_direct && !io_tls_alpn_ok(io))
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
			            "direct TLS connection without ALPN protocol \"postgresql\"");
		return;
	}
	if ((what & IO_EV_ERROR) && io_is_tls(io) && c->state == CL_STARTUP) {
		char err[160];

		io_tls_error(io, err, sizeof(err));
		client_log(LOG_LVL_WARNING, c, "TLS handshake failed: %s", err);
		client_close(c, "TLS handshake failed");
		return;
	}
	if (what & IO_EV_EOF)
		client_close(c, "client unexpected eof");
	else if (what & IO_EV_ERROR)
		client_close(c, "client connection error");
}

void client_resume_reading(struct client *c)
{
	if (c->read_held) {
		c->read_held = false;
		io_read_on(c->io);
		client_process(c);
	}
}
