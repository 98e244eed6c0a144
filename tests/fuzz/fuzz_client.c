/* libFuzzer harness: a whole client connection, through the daemon's own
 * code.  One struct fairway is set up once (auth_type md5; an md5 user, a
 * SCRAM user, a plain-password user; a database whose server refuses
 * connections); each input is the byte stream of one client on a socket
 * pair: client.c splits and handles it (SSLRequest, GSSENCRequest,
 * CancelRequest, StartupMessage and its parameters, NegotiateProtocolVersion)
 * and auth.c answers passwords, md5 and SCRAM exchanges, exactly as for a
 * TCP client.  The client must be gone after its EOF, with nothing leaked. */
#include <assert.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "daemon.h"
#include "fairway.h"
#include "list.h"
#include "log.h"

static struct fairway fw;

static char dir[] = "/tmp/fairway-fuzz-client-XXXXXX";

/* Leaves nothing behind in /tmp: files, listening socket, directory. */
static void remove_dir(void)
{
	static const char *const names[] = {"fairway.ini", "userlist.txt", ".s.PGSQL.6432"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct log_settings quiet = {.quiet = true};
	char ini[128], users[128], text[1024];
	struct config *cfg;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(remove_dir);
	snprintf(ini, sizeof(ini), "%s/fairway.ini", dir);
	snprintf(users, sizeof(users), "%s/userlist.txt", dir);
	write_file(users, "\"app\" \"md5240aeccb7a1d859a99844d012bfe74cc\"\n"
	                  "\"user\" \"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
	                  "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	                  "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"\n"
	                  "\"plain\" \"pencil\"\n");
	snprintf(text, sizeof(text),
	         "[databases]\napp = host=127.0.0.1 port=1 dbname=app\n"
	         "* = host=127.0.0.1 port=1\n"
	         "[pgbouncer]\nlisten_addr =\nunix_socket_dir = %s\nauth_type = md5\n"
	         "auth_file = %s\nadmin_users = app\nstats_users = plain\n"
	         "ignore_startup_parameters = extra_float_digits, options\n"
	         "track_extra_parameters = search_path\n"
	         "log_connections = 0\nlog_disconnections = 0\n",
	         dir, users);
	write_file(ini, text);
	log_configure(&quiet);
	cfg = config_load(ini, NULL, NULL);
	if (cfg == NULL || !daemon_init(&fw, cfg))
		abort();
	return 0;
}

static void spin(int turns)
{
	for (int i = 0; i < turns; i++)
		event_base_loop(fw.base, EVLOOP_NONBLOCK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(5555)};
	char sink[4096];
	int sv[2];

	peer.sin_addr.s_addr = htonl(0x0a000001); /* 10.0.0.1: no peer auth */
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return 0;
	client_accept(&fw, sv[0], (const struct sockaddr *)&peer, sizeof(peer), false);
	for (size_t off = 0; off < size;) {
		ssize_t n = write(sv[1], data + off, size - off);

		if (n > 0)
			off += (size_t)n;
		spin(2);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
		if (n <= 0 && fw.n_clients == 0)
			break; /* the client was closed: nobody reads any more */
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 20 && fw.n_clients > 0; i++) {
		spin(1);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
	}
	/* A client waiting for its pool's first server login (its server is
	 * down) may outlive its EOF for a moment: close it as shutdown would. */
	while (!list_empty(&fw.clients))
		client_close(list_entry(fw.clients.next, struct client, link), "fuzz input done");
	spin(2);
	close(sv[1]);
	assert(fw.n_clients == 0);
	return 0;
}
