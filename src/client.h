/* A client connection: startup, authentication, then idle / waiting /
 * active, forwarding its messages to the server it is linked to. */
#ifndef FAIRWAY_CLIENT_H
#define FAIRWAY_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "list.h"
#include "params.h"
#include "sched.h"

struct fairway;
struct io;
struct pool;
struct database;
struct server;
struct scram_server;
struct ps_client;
struct authq;

enum client_state {
	CL_STARTUP,  /* expecting StartupMessage, SSLRequest or CancelRequest; no pool */
	CL_AUTH,     /* password / SASL exchange in progress; no pool */
	CL_LOOKUP,   /* its secret is being looked up with auth_query (authquery.c):
	              * c->pool is the auth_user's pool, c->wait queued in it or
	              * c->server running the query; reads on, only to see EOF */
	CL_LOGIN,    /* authenticated; in pool->login_waiters (c->login->link) until the pool knows
	              * the server's parameters for the welcome message */
	CL_IDLE,     /* logged in, holds no server; reads on */
	CL_WAITING,  /* needs a server; in its pool's wait queue; reads off */
	CL_ACTIVE,   /* linked to c->server */
	CL_DRAINING, /* ErrorResponse queued; closes when output is flushed */
	CL_CLOSED,   /* in fw->graveyard_clients; memory freed after this loop turn */
};
#define CL_STATE_COUNT (CL_CLOSED + 1)

enum auth_step {
	AUTH_STEP_NONE,
	AUTH_STEP_PASSWORD,  /* sent AuthenticationCleartextPassword */
	AUTH_STEP_MD5,       /* sent AuthenticationMD5Password */
	AUTH_STEP_SASL,      /* sent AuthenticationSASL, expect SASLInitialResponse */
	AUTH_STEP_SASL_CONT, /* sent SASLContinue, expect SASLResponse */
};

/* What only the login needs: allocated at accept, its secrets wiped once
 * the client is authenticated, freed once it is logged in (the welcome is
 * sent), so an idle client does not carry it. */
struct client_login {
	struct client *client; /* the client it belongs to */
	struct list_head link; /* pool->login_waiters while CL_LOGIN */
	enum auth_step auth_step;
	uint8_t md5_salt[4];
	bool has_scram_key;           /* scram_client_key valid (auth against a SCRAM secret) */
	bool authq_done;              /* auth_query ran for this login: do not ask again */
	struct scram_server *scram;   /* owned while AUTH_STEP_SASL* */
	char *cleartext_password;     /* owned; the password a plain-auth client sent */
	struct authq *authq;          /* owned while CL_LOOKUP (authquery.c) */
	char *authq_secret;           /* owned: the secret auth_query returned, until login */
	uint8_t scram_client_key[32]; /* ClientKey recovered from a SCRAM proof, handed to
	                               * the pool for SCRAM pass-through to servers */
};

/* Laid out without padding holes (thousands of idle ones are in memory). */
struct client {
	struct fairway *fw; /* borrowed root */
	uint64_t id;
	enum client_state state;
	uint32_t user_weight;    /* fair_weight of its user ([users]), 1 when unset */
	struct list_head link;   /* fw->clients while alive; graveyard when closed */
	struct sched_entry wait; /* pool wait queue while CL_WAITING */
	struct io *io;           /* owned; NULL once closed */

	struct database *db;     /* borrowed; NULL until startup names one (or console) */
	struct pool *pool;       /* borrowed; NULL for the console and before login */
	struct server *server;   /* borrowed; set and cleared only by pool_link/unlink */
	const char *user;        /* interned (params_intern); the name the client logged in with */
	const char *dbname;      /* interned; the database name the client asked for */
	struct param_set params; /* owned; tracked values this client wants */
	struct ps_client *ps;    /* owned; its named prepared statements, NULL if none */

	/* Peer address: IPv4 or IPv6 (a Unix client keeps only the family); the
	 * local one is asked of the socket when SHOW needs it.
	 * sockaddr_in6 instead of sockaddr_storage saves 200 bytes per client. */
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	bool is_unix;
	bool tls_direct;     /* began with a TLS ClientHello (no SSLRequest) */
	bool is_admin;       /* console: admin rights */
	bool is_console;     /* connected to the console database */
	bool counted_in_db;  /* counted in db->n_clients / user->n_clients */
	bool close_logged;   /* client_fail already logged why it closes */
	bool wait_notified;  /* query_wait_notify NOTICE sent for the current wait */
	uint8_t replication; /* enum hba_replication: the `replication` startup parameter */
	bool discard_tail;   /* the refused request's last message is still arriving */
	bool read_held;      /* reads paused for backpressure (server output full, or a
	                      * console client's own unread answers) */
	uint8_t early_trims; /* answers after which it was idle and trimmed at once */
	int admin_wait;      /* console: a PAUSE / WAIT_CLOSE still waiting (admin.c) */
	uint32_t pkt_remain; /* bytes of the current message still to forward */
	uint32_t cancel_pid, cancel_key; /* the key Fairway gave this client */
	char *admin_wait_db;             /* owned: its database, NULL = all */
	struct client_login *login;      /* owned; from accept until the welcome, then NULL */
	struct client *cancel_next;      /* borrowed: next in the cancel hash chain */
	char *refusal;                   /* owned: admission refusal to answer once the refused
	                                  * request has been read up to its Query or Sync */

	uint64_t connect_us; /* monotonic */
	uint64_t connect_wall_us;
	uint64_t request_us; /* when it last asked for a server (wait start) */
	uint64_t state_since_us;
	uint64_t linked_us; /* when it got its current server (hold time for fairness) */
	uint64_t last_activity_us;
};

/* Takes ownership of fd (an accepted socket). */
void client_accept(struct fairway *fw, int fd, const struct sockaddr *addr, int addrlen,
                   bool is_unix);
/* The only way a client dies.  Safe to call twice and from any callback. */
void client_close(struct client *c, const char *reason);
/* Sends a FATAL ErrorResponse, stops reading, closes once it is flushed. */
void client_fail(struct client *c, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void client_set_state(struct client *c, enum client_state next);
const char *client_state_name(enum client_state s);
/* Reads and forwards whatever the client has sent (after a link or a state change). */
void client_process(struct client *c);
/* Admission control refused the pending request: it is discarded up to its
 * Query or Sync and answered with an ERROR (53300) and ReadyForQuery; the
 * session stays. */
void client_refuse_request(struct client *c, const char *msg);
/* Once a second (timer): the count of refused logins that were not logged. */
void client_login_failures_summary(struct fairway *fw);
/* Sends the welcome (AuthenticationOk, parameters, key, ReadyForQuery). */
void client_send_welcome(struct client *c);
/* Recomputes what a client caches from the config (at login and reload). */
void client_refresh_settings(struct client *c);
/* Called by auth.c when authentication succeeded. */
void client_auth_done(struct client *c);
/* Log with the "C-<id>: db/user@addr:port" prefix. */
void client_log(int level, const struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "addr" and port of the peer as text. */
void client_addr_str(const struct client *c, char *buf, size_t n, int *port);
/* The server's output drained: let a client held by backpressure send again. */
void client_resume_reading(struct client *c);
/* Drops the client's ties to its database and pool (counters included);
 * for a client whose last error is being flushed while its database goes. */
void client_detach(struct client *c);
/* Frees a closed client (the reaper). */
void client_free(struct client *c);

#endif
