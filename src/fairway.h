/* The root context: struct fairway owns everything a running daemon has
 * (config, event loop, listeners, databases, clients, the graveyard).
 * There are no global variables besides the process-wide log sink. */
#ifndef FAIRWAY_H
#define FAIRWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "params.h"
#include "prepared.h"
#include "tls.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif
#define FAIRWAY_VERSION_STR "Fairway " PACKAGE_VERSION

struct event_base;
struct event;
struct evdns_base;
struct config;
struct listener;
struct cancel_map;
struct evhttp;
struct evbuffer;

enum shutdown_mode {
	SHUTDOWN_NONE,
	SHUTDOWN_WAIT_SERVERS, /* SIGINT: let transactions finish, then exit */
	SHUTDOWN_WAIT_CLIENTS, /* SIGTERM: let every client leave, then exit */
	SHUTDOWN_NOW,          /* SIGQUIT or a second signal */
};

/* Totals since start for SHOW STATS / TOTALS, per database in struct database. */
struct fw_stats {
	uint64_t server_assignment_count;
	uint64_t xact_count;
	uint64_t query_count;
	uint64_t bytes_received; /* from clients */
	uint64_t bytes_sent;     /* to clients */
	uint64_t xact_time_us;
	uint64_t query_time_us;
	uint64_t wait_time_us;
	uint64_t client_parse_count; /* named Parse messages from clients */
	uint64_t server_parse_count; /* Parse messages sent to servers for them */
	uint64_t bind_count;         /* Bind messages of named statements */
};

struct io_block;

/* A small read handed to its owner where it lies (io.c): while the read
 * callback of io runs, its input is the len bytes at p, in the pooled block
 * blk (not yet copied into its evbuffer, which is empty). */
struct io_pending {
	struct io *io;    /* whose read callback runs; NULL once that io is freed */
	uint8_t *blk;     /* NULL when the read went into the io's evbuffer */
	const uint8_t *p; /* the bytes not consumed yet */
	size_t len;
};

struct fairway {
	struct event_base *base;    /* owned */
	struct evdns_base *dns;     /* owned; async name lookups for server hosts */
	struct config *cfg;         /* owned; replaced as a whole on reload */
	char *config_path;          /* owned; as given on the command line */
	struct param_names tracked; /* owned; from track_extra_parameters at start */

	/* Command-line overrides. */
	bool opt_quiet;
	int opt_verbose;
	bool opt_daemon;
	char *opt_user;

	uint64_t now_us; /* CLOCK_MONOTONIC, refreshed once per callback */
	uint64_t start_wall_us;
	uint64_t next_id; /* one counter for client and server ids */
	uint32_t daemon_uid;
	uint8_t scram_mock_key[32]; /* random per process: fake SCRAM for unknown users */

	struct list_head databases;         /* struct database, owned */
	struct list_head users;             /* struct pool_user, owned */
	struct list_head clients;           /* every live struct client, owned */
	struct list_head graveyard_clients; /* closed clients, freed by the reaper */
	struct list_head graveyard_servers; /* closed servers, freed by the reaper */
	struct list_head cancel_reqs;       /* struct cancel_req in flight, owned */
	struct event *reaper;               /* owned; frees the graveyard after the loop turn */
	struct event *io_flusher;    /* owned; writes queued output after each batch (io.c) */
	struct list_head io_flush;   /* struct io with output or read changes to apply */
	bool io_in_read;             /* inside a plain read callback: it flushes at its end */
	struct io_pending io_read;   /* the read whose callback runs (io.c) */
	struct evbuffer *io_empty;   /* owned; io_input() of a connection with nothing read */
	struct evbuffer *io_scratch; /* owned; output of a connection that could not get a buffer */
	bool io_scratch_used;        /* io_scratch was handed out since the last flush */
	struct io_block *io_blocks;  /* owned; spare read blocks (io.c) */
	size_t n_io_blocks;
	struct event *tick;         /* owned; housekeeping timer (timer.c) */
	struct event *signals[7];   /* owned */
	struct listener *listeners; /* owned, NULL-terminated list via ->next */
	struct cancel_map *cancels; /* owned */
	struct evhttp *metrics;     /* owned; NULL unless metrics_listen */
	struct tls_contexts tls;    /* owned; rebuilt as a whole on reload (tls.c) */

	int n_clients; /* live client connections (max_client_conn) */
	enum shutdown_mode shutdown;
	int shutdown_signals;            /* count of SIGINT/SIGTERM received */
	bool paused;                     /* PAUSE / SIGUSR1 */
	bool suspended;                  /* SUSPEND: no reads, no accepts, until RESUME */
	uint64_t accept_paused_until_us; /* accept() ran out of fds: listeners resume then */
	int exit_code;

	struct ps_registry prepared; /* owned; statement texts of named prepared statements */

	uint64_t failed_logins;         /* refused logins since start (SHOW STATE, /metrics) */
	uint64_t login_fail_window_us;  /* start of the current second of login-failure logging */
	uint32_t login_fail_logged;     /* refused logins logged in that second */
	uint64_t login_fail_suppressed; /* and not logged */

	struct fw_stats stats;         /* all databases, for SHOW TOTALS */
	struct fw_stats console_stats; /* the console's own logins and commands ("pgbouncer" row) */
	uint64_t last_stats_us;        /* start of the current stats_period */
};

/* Monotonic time, refreshed: call at the top of every callback. */
uint64_t fw_update_now(struct fairway *fw);
/* Queues the reaper so the graveyard is freed after the current callbacks. */
void fw_schedule_reap(struct fairway *fw);

#endif
