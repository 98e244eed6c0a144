/* A server connection: connect, login, then idle / active / resetting,
 * forwarding the server's messages to the linked client. */
#ifndef FAIRWAY_SERVER_H
#define FAIRWAY_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "list.h"
#include "params.h"

struct fairway;
struct io;
struct pool;
struct client;
struct scram_client;
struct ps_server;

/* TLS progress within SV_LOGIN (orthogonal to the state: a TLS login is a
 * login, as SHOW SERVERS and the pool counters see it). */
enum server_tls_step {
	SV_TLS_NONE,      /* plain, or TLS done: login messages flow */
	SV_TLS_ASKED,     /* SSLRequest sent, waiting for 'S' or 'N' */
	SV_TLS_HANDSHAKE, /* 'S' received, handshake in progress */
};

enum server_state {
	SV_CONNECTING, /* TCP / Unix connect in flight */
	SV_LOGIN,      /* StartupMessage sent; authenticating; reading parameters */
	SV_IDLE,       /* clean, in pool->idle_servers */
	SV_ACTIVE,     /* linked to sv->client */
	SV_RESETTING,  /* running server_reset_query, connect_query or check query; no client */
	SV_CLOSED,     /* in fw->graveyard_servers */
};
#define SV_STATE_COUNT (SV_CLOSED + 1)

struct server {
	struct fairway *fw; /* borrowed root */
	uint64_t id;
	enum server_state state;
	struct list_head link;      /* pool->servers while alive; graveyard when closed */
	struct list_head idle_link; /* pool->idle_servers while SV_IDLE */
	struct pool *pool;          /* borrowed: the pool owns its servers */
	struct client *client;      /* borrowed; set and cleared only by pool_link/unlink */
	struct io *io;              /* owned */
	struct param_set params;    /* owned; values the server reported */
	struct scram_client *scram; /* owned during SCRAM login */
	struct ps_server *ps;       /* owned; prepared statements, NULL until used */

	char host[256];               /* host we connected to (or socket dir) */
	struct sockaddr_storage addr; /* resolved address (for cancel requests) */
	int addrlen;                  /* 0 until resolved */
	int port;
	uint32_t backend_pid, backend_key;

	uint32_t pkt_remain;  /* bytes of the current message still to forward */
	int expect_rfq;       /* ReadyForQuery messages the client is still owed */
	int internal_rfq;     /* ReadyForQuery of Fairway's own queries to swallow */
	uint32_t syncs_sent;  /* client Sync, Query, FunctionCall forwarded (ps_forward.c) */
	uint32_t syncs_seen;  /* ReadyForQuery forwarded for them */
	bool internal_failed; /* one of Fairway's own queries got an error */
	bool ext_open;        /* client sent extended-protocol messages with no Sync yet */
	bool in_copy;         /* COPY in progress */
	char xact_status;     /* last ReadyForQuery status: 'I', 'T' or 'E' */
	bool close_needed;    /* close when it next becomes idle (reload, lifetime) */
	bool is_tested;       /* running server_check_query */
	bool read_held;       /* reads paused for backpressure (client output full) */

	/* SV_LOGIN only: where the TLS negotiation is. */
	enum server_tls_step tls_step;

	uint64_t connect_us; /* monotonic, connect start */
	uint64_t connect_wall_us;
	uint64_t idle_since_us;  /* last return to idle */
	uint64_t link_us;        /* when it was linked (xact start) */
	uint64_t query_start_us; /* first unanswered query */
};

/* Starts a new connection for pool; false if it could not even start. */
bool server_launch(struct pool *pool);
/* The only way a server dies.  Safe to call twice and from any callback. */
void server_close(struct server *sv, const char *reason);
void server_set_state(struct server *sv, enum server_state next);
const char *server_state_name(enum server_state s);
/* Sends one of Fairway's own queries; the answer is swallowed. */
bool server_send_internal(struct server *sv, const char *sql);
/* Processes what the server has sent. */
void server_process(struct server *sv);
/* A client was unlinked from this server: reuse it or close it. */
void server_client_gone(struct server *sv, bool clean);
/* True if the server is between transactions with nothing in flight. */
bool server_is_clean(const struct server *sv);
void server_log(int level, const struct server *sv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void server_free(struct server *sv);

#endif
