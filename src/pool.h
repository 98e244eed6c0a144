/* Databases and pools.  A database is one [databases] entry in use; a pool
 * is one (database, server user) pair with its servers, its wait queue and
 * its counters.  pool_link()/pool_unlink() are the only places that pair a
 * client with a server. */
#ifndef FAIRWAY_POOL_H
#define FAIRWAY_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "config.h"
#include "fairway.h"
#include "list.h"
#include "sched.h"
#include "server.h"

/* Per user name across databases (max_user_connections etc.). */
struct pool_user {
	struct list_head link; /* fw->users */
	char *name;            /* owned */
	int n_servers;
	int n_clients;
};

struct database {
	struct list_head link; /* fw->databases */
	struct fairway *fw;
	char *name;                 /* owned */
	const struct db_conf *conf; /* borrowed from fw->cfg; refreshed on reload */
	struct list_head pools;     /* struct pool, owned */
	int n_servers;              /* for max_db_connections */
	int n_clients;              /* for max_db_client_connections */
	unsigned host_rr;           /* next host of a comma list */
	bool is_auto;               /* created from the "*" entry */
	bool paused, disabled;
	struct fw_stats stats;        /* totals since start */
	struct fw_stats period_start; /* totals at the start of the stats period */
	struct fw_stats period_avg;   /* averages of the last full period */
};

/* One ParameterStatus the first server of a pool reported. */
struct welcome_param {
	char *name, *value;
};

struct pool {
	struct list_head link; /* db->pools */
	struct fairway *fw;
	struct database *db;            /* borrowed: the database owns its pools */
	struct pool_user *puser;        /* borrowed */
	char *user;                     /* owned: server login user */
	char *password;                 /* owned: server login secret (plain or md5), may be NULL */
	bool has_dynamic_password;      /* password came from auth_query: a reload keeps it */
	struct list_head servers;       /* struct server, owned */
	struct list_head idle_servers;  /* subset in SV_IDLE, most recently used first */
	struct sched_queue waitq;       /* CL_WAITING clients */
	struct server *kept;            /* borrowed: an idle server kept for the flow
	                                 * sched_anticipate chose, or NULL */
	struct event *keep_timer;       /* owned, made on first use: ends the keeping */
	struct list_head login_waiters; /* CL_LOGIN clients */
	int sv_count[SV_STATE_COUNT];
	int cl_count[CL_STATE_COUNT];
	int n_servers;       /* not closed */
	enum pool_mode mode; /* cached pool_mode (user > database > global) */
	int n_reserve_used;  /* servers opened beyond pool_size */
	uint8_t replication; /* enum hba_replication: a replication pool (session mode,
	                      * one fresh server per client, closed when it leaves) */

	struct welcome_param *welcome; /* owned; parameters for new clients */
	size_t n_welcome;
	bool has_welcome;

	/* Wait-time statistics (SHOW WAITS / HISTOGRAM / POOLS, /metrics). */
	struct hist wait_total;  /* since start */
	struct hist wait_period; /* since the current stats_period began */
	size_t max_queue_total, max_queue_period;
	bool is_busy; /* every server busy and no more may open */
	uint64_t busy_since_us;
	uint64_t busy_total_us, busy_period_us; /* time spent busy */
	uint64_t period_start_us;
	uint64_t created_us;

	uint8_t scram_client_key[32]; /* from a client's SCRAM proof: logs in with a SCRAM secret */
	bool has_scram_key;

	uint64_t last_login_fail_us; /* server_login_retry */
	uint64_t last_connect_start_us;
};

struct database *db_lookup(struct fairway *fw, const char *name, bool create);
void db_free(struct database *db);
/* Finds or creates the pool for a client of db logging in as user. */
struct pool *pool_get(struct database *db, const char *client_user);
/* The pool for a replication client (replication is an enum hba_replication
 * other than HBA_REPL_NONE): apart from db's normal pools, one per kind. */
struct pool *pool_get_replication(struct database *db, const char *client_user, int replication);
/* Finds or creates the pool of db that logs in as server_user, whatever the
 * database's forced user (the auth_user's pool). */
struct pool *pool_get_for_user(struct database *db, const char *server_user);
void pool_free(struct pool *pool);

int pool_size_limit(const struct pool *pool); /* 0 = unlimited */
bool pool_is_paused(const struct pool *pool);
int pool_reserve_limit(const struct pool *pool);
enum pool_mode pool_mode_of(const struct pool *pool); /* cached: pool_refresh_settings */
/* Recomputes what a pool caches from the config (after a reload). */
void pool_refresh_settings(struct pool *pool);
int64_t pool_query_wait_timeout_us(const struct pool *pool);

void pool_count_client(struct pool *pool, enum client_state s, int delta);
void pool_count_server(struct pool *pool, enum server_state s, int delta);

/* A logged-in client needs a server: link now or queue. */
void pool_request(struct client *c);
/* Pairs c and sv (both ready); sends parameter sync. */
void pool_link(struct client *c, struct server *sv);
/* Unpairs c and its server and ends its hold in the scheduler; the server's
 * fate is the caller's (server_close uses this directly). */
void pool_drop_link(struct client *c);
/* Unpairs them; clean says whether the server may be reused. */
void pool_unlink(struct client *c, bool clean);
/* A server became idle (login done, reset done, released). */
void pool_server_idle(struct server *sv);
/* The kept server stops being kept (server.c calls it when it leaves SV_IDLE). */
void pool_end_keep(struct pool *pool, bool taken);
/* Starts servers if clients wait and limits allow; called after changes. */
void pool_maybe_launch(struct pool *pool);
/* A server login finished: remember parameters, welcome waiting clients. */
void pool_set_welcome(struct pool *pool, const struct welcome_param *params, size_t n);
/* A server login failed with msg: fail clients waiting for a welcome. */
void pool_login_failed(struct pool *pool, const char *sqlstate, const char *msg);
/* Saturation bookkeeping: call when idle or total server counts change. */
void pool_note_busy(struct pool *pool);
/* Share (0..100) of the period / since start that every server was busy. */
double pool_saturation_pct(const struct pool *pool, bool period);
/* A new stats_period starts: period histograms and maxima restart. */
void pool_period_reset(struct pool *pool);
/* The fairness key of a client under the current fair_key setting. */
const char *pool_fair_key(const struct client *c, char *buf, size_t n);
/* Calls fn on every server of db (every database when db is NULL); fn may
 * close the server it is given. */
typedef void (*pool_server_fn)(struct server *sv, void *arg);
void pool_each_server(struct fairway *fw, struct database *db, pool_server_fn fn, void *arg);
/* Age of the oldest waiter in microseconds (0 if none). */
uint64_t pool_maxwait_us(const struct pool *pool);

#endif
