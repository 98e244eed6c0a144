/* Databases and pools: lookup and creation, size limits, pairing clients
 * with servers (pool_link / pool_unlink are the only places that set
 * client->server and server->client), and launching servers on demand. */
#include "pool.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "authquery.h"
#include "hba.h"
#include "log.h"
#include "sqlstate.h"
#include "util.h"
#include <stdio.h>

static bool give_slot_to_other_pool(struct server *sv);
static enum pool_mode pool_mode_compute(const struct pool *pool);

static const struct user_conf *user_conf_of(const struct pool *pool, const char *name)
{
	return config_find_user(pool->fw->cfg, name);
}

static struct pool_user *pool_user_get(struct fairway *fw, const char *name)
{
	struct list_head *pos;
	struct pool_user *pu;

	list_for_each(pos, &fw->users)
	{
		pu = list_entry(pos, struct pool_user, link);
		if (strcmp(pu->name, name) == 0)
			return pu;
	}
	pu = calloc(1, sizeof(*pu));
	if (pu == NULL)
		return NULL;
	pu->name = strdup(name);
	if (pu->name == NULL) {
		free(pu);
		return NULL;
	}
	list_add_tail(&fw->users, &pu->link);
	return pu;
}

struct database *db_lookup(struct fairway *fw, const char *name, bool create)
{
	const struct db_conf *conf;
	struct list_head *pos;
	struct database *db;

	list_for_each(pos, &fw->databases)
	{
		db = list_entry(pos, struct database, link);
		if (strcmp(db->name, name) == 0)
			return db;
	}
	if (!create)
		return NULL;
	conf = config_find_db(fw->cfg, name, true);
	if (conf == NULL)
		return NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	db->name = strdup(name);
	if (db->name == NULL) {
		free(db);
		return NULL;
	}
	db->fw = fw;
	db->conf = conf;
	db->is_auto = strcmp(conf->name, "*") == 0;
	list_init(&db->pools);
	list_add_tail(&fw->databases, &db->link);
	return db;
}

void db_free(struct database *db)
{
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, &db->pools) pool_free(list_entry(pos, struct pool, link));
	list_del(&db->link);
	free(db->name);
	free(db);
}

struct pool *pool_get(struct database *db, const char *client_user)
{
	return pool_get_for_user(db, db->conf->user ? db->conf->user : client_user);
}

static struct pool *pool_find_or_create(struct database *db, const char *user, int replication);

struct pool *pool_get_for_user(struct database *db, const char *user)
{
	return pool_find_or_create(db, user, HBA_REPL_NONE);
}

struct pool *pool_get_replication(struct database *db, const char *client_user, int replication)
{
	return pool_find_or_create(db, db->conf->user ? db->conf->user : client_user, replication);
}

static struct pool *pool_find_or_create(struct database *db, const char *user, int replication)
{
	struct fairway *fw = db->fw;
	/* The entry's password belongs to its forced user, or to every user. */
	const char *db_password =
	    db->conf->user == NULL || strcmp(db->conf->user, user) == 0 ? db->conf->password : NULL;
	const struct auth_entry *ae;
	struct list_head *pos;
	struct pool *pool;

	list_for_each(pos, &db->pools)
	{
		pool = list_entry(pos, struct pool, link);
		if (strcmp(pool->user, user) == 0 && pool->replication == replication)
			return pool;
	}
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	pool->fw = fw;
	pool->db = db;
	pool->replication = (uint8_t)replication;
	pool->user = strdup(user);
	pool->puser = pool_user_get(fw, user);
	if (db_password != NULL)
		pool->password = strdup(db_password);
	else if ((ae = config_find_auth(fw->cfg, user)) != NULL)
		pool->password = strdup(ae->secret);
	if (pool->user == NULL || pool->puser == NULL ||
	    (pool->password == NULL &&
	     (db_password != NULL || config_find_auth(fw->cfg, user) != NULL))) {
		free(pool->user);
		free(pool->password);
		free(pool);
		return NULL;
	}
	list_init(&pool->servers);
	list_init(&pool->idle_servers);
	list_init(&pool->login_waiters);
	sched_init(&pool->waitq, fw->cfg->fair_key == FAIR_NONE,
	           (size_t)fw->cfg->max_waiting_clients, (size_t)fw->cfg->max_waiting_per_flow);
	hist_reset(&pool->wait_total);
	hist_reset(&pool->wait_period);
	pool->period_start_us = fw->now_us;
	pool->created_us = fw->now_us;
	list_add_tail(&db->pools, &pool->link);
	pool_refresh_settings(pool);
	return pool;
}

void pool_free(struct pool *pool)
{
	OPENSSL_cleanse(pool->scram_client_key, sizeof(pool->scram_client_key));
	/* Servers were closed and reaped before: the pool owns none now. */
	list_del(&pool->link);
	if (pool->keep_timer != NULL)
		event_free(pool->keep_timer);
	sched_free(&pool->waitq);
	for (size_t i = 0; i < pool->n_welcome; i++) {
		free(pool->welcome[i].name);
		free(pool->welcome[i].value);
	}
	free(pool->welcome);
	free(pool->user);
	free(pool->password);
	free(pool);
}

int pool_size_limit(const struct pool *pool)
{
	const struct user_conf *uc;

	/* Replication connections are never shared: no pool_size applies to
	 * them (max_db_connections and max_user_connections still do). */
	if (pool->replication != HBA_REPL_NONE)
		return 0;
	if (pool->db->conf->pool_size >= 0)
		return pool->db->conf->pool_size;
	uc = user_conf_of(pool, pool->user);
	if (uc != NULL && uc->pool_size >= 0)
		return uc->pool_size;
	return pool->fw->cfg->default_pool_size;
}

int pool_reserve_limit(const struct pool *pool)
{
	const struct user_conf *uc;

	if (pool->replication != HBA_REPL_NONE)
		return 0;
	if (pool->db->conf->reserve_pool_size >= 0)
		return pool->db->conf->reserve_pool_size;
	uc = user_conf_of(pool, pool->user);
	if (uc != NULL && uc->reserve_pool_size >= 0)
		return uc->reserve_pool_size;
	return pool->fw->cfg->reserve_pool_size;
}

void pool_refresh_settings(struct pool *pool)
{
	pool->mode = pool_mode_compute(pool);
}

enum pool_mode pool_mode_of(const struct pool *pool)
{
	return pool->mode;
}

static enum pool_mode pool_mode_compute(const struct pool *pool)
{
	const struct user_conf *uc = user_conf_of(pool, pool->user);

	if (pool->replication != HBA_REPL_NONE)
		return POOL_SESSION; /* a replication session keeps its server throughout */
	if (uc != NULL && uc->pool_mode != POOL_MODE_UNSET)
		return uc->pool_mode;
	if (pool->db->conf->pool_mode != POOL_MODE_UNSET)
		return pool->db->conf->pool_mode;
	return pool->fw->cfg->pool_mode;
}

int64_t pool_query_wait_timeout_us(const struct pool *pool)
{
	const struct user_conf *uc = user_conf_of(pool, pool->user);

	if (uc != NULL && uc->query_wait_timeout_us >= 0)
		return uc->query_wait_timeout_us;
	if (pool->db->conf->query_wait_timeout_us >= 0)
		return pool->db->conf->query_wait_timeout_us;
	return pool->fw->cfg->query_wait_timeout_us;
}

void pool_count_client(struct pool *pool, enum client_state s, int delta)
{
	if (pool != NULL)
		pool->cl_count[s] += delta;
}

void pool_count_server(struct pool *pool, enum server_state s, int delta)
{
	pool->sv_count[s] += delta;
}

uint64_t pool_maxwait_us(const struct pool *pool)
{
	const struct sched_entry *e = sched_oldest(&pool->waitq);

	if (e == NULL || pool->fw->now_us < e->enqueue_us)
		return 0;
	return pool->fw->now_us - e->enqueue_us;
}

bool pool_is_paused(const struct pool *pool)
{
	return pool->fw->paused || pool->db->paused;
}

/* Takes a usable idle server off the idle list, starting health checks on
 * servers that idled past server_check_delay; NULL if none is ready. */
static struct server *take_idle(struct pool *pool)
{
	const struct config *cfg = pool->fw->cfg;

	while (!list_empty(&pool->idle_servers)) {
		struct list_head *pos =
		    cfg->server_round_robin ? pool->idle_servers.prev : pool->idle_servers.next;
		struct server *sv = list_entry(pos, struct server, idle_link);

		if (sv->close_needed) {
			server_close(sv, "database configuration changed");
			continue;
		}
		if (cfg->server_check_query != NULL && cfg->server_check_query[0] != '\0' &&
		    cfg->server_check_delay_us >= 0 &&
		    pool->fw->now_us - sv->idle_since_us > (uint64_t)cfg->server_check_delay_us) {
			/* "<empty>" is PgBouncer's spelling of the empty query. */
			const char *q = strcmp(cfg->server_check_query, "<empty>") == 0
			                    ? ""
			                    : cfg->server_check_query;

			sv->is_tested = true;
			server_set_state(sv, SV_RESETTING);
			if (!server_send_internal(sv, q))
				server_close(sv, "out of memory");
			continue;
		}
		return sv;
	}
	return NULL;
}

const char *pool_fair_key(const struct client *c, char *buf, size_t n)
{
	int slot, port;

	switch (c->fw->cfg->fair_key) {
	case FAIR_APPLICATION_NAME:
		slot = PARAM_SLOT_APPLICATION_NAME;
		return params_get(&c->params, slot) != NULL ? params_get(&c->params, slot) : "";
	case FAIR_CLIENT_ADDR:
		client_addr_str(c, buf, n, &port);
		return buf;
	case FAIR_USER:
		return c->user;
	case FAIR_NONE:
		break;
	}
	return "none";
}

/* [weights] for the key, else the user's fair_weight, else 1. */
static uint32_t fair_weight_of(const struct client *c, const char *key)
{
	const struct config *cfg = c->fw->cfg;

	for (size_t i = 0; i < cfg->n_weights; i++)
		if (strcmp(cfg->weights[i].name, key) == 0)
			return (uint32_t)cfg->weights[i].weight;
	return c->user_weight;
}

void pool_request(struct client *c)
{
	struct pool *pool = c->pool;
	struct server *sv = NULL;
	char buf[64];
	const char *key = pool_fair_key(c, buf, sizeof(buf));
	uint32_t weight = fair_weight_of(c, key);
	enum sched_admit adm;

	c->request_us = c->fw->now_us;
	c->wait_notified = false;
	if (pool->kept != NULL && sched_is_anticipated(&pool->waitq, key) &&
	    !pool_is_paused(pool)) {
		/* The server kept for this client's flow (see keep_for_flow). */
		sv = pool->kept;
		pool_end_keep(pool, true);
	} else if (!pool_is_paused(pool) && sched_count(&pool->waitq) == 0) {
		sv = take_idle(pool);
	}
	if (sv != NULL) {
		if (!sched_acquire(&pool->waitq, &c->wait, key, weight, c->fw->now_us)) {
			pool_server_idle(sv);
			client_fail(c, "08P01", "out of memory");
			return;
		}
		pool_link(c, sv);
		return;
	}
	adm = sched_enqueue(&pool->waitq, &c->wait, key, weight, c->fw->now_us);
	if (adm != SCHED_QUEUED) {
		char msg[256];

		if (adm == SCHED_NO_MEMORY) {
			client_fail(c, "08P01", "out of memory");
			return;
		}
		snprintf(msg, sizeof(msg),
		         adm == SCHED_FULL_POOL
		             ? "too many clients waiting in pool %s/%s (max_waiting_clients)"
		             : "too many clients waiting in pool %s/%s for flow \"%.64s\" "
		               "(max_waiting_per_flow)",
		         pool->db->name, pool->user, key);
		if (c->state == CL_LOOKUP) /* a login has no request to refuse */
			client_fail(c, SQLSTATE_TOO_MANY_CONNECTIONS, "%s", msg);
		else
			client_refuse_request(c, msg);
		return;
	}
	if (c->state != CL_LOOKUP) /* a lookup waits in its own state */
		client_set_state(c, CL_WAITING);
	if (sched_count(&pool->waitq) > pool->max_queue_period)
		pool->max_queue_period = sched_count(&pool->waitq);
	if (sched_count(&pool->waitq) > pool->max_queue_total)
		pool->max_queue_total = sched_count(&pool->waitq);
	pool_maybe_launch(pool);
}

void pool_link(struct client *c, struct server *sv)
{
	struct fairway *fw = c->fw;
	struct database *db = c->pool->db;
	bool oom = false;
	char *sql;

	c->server = sv;
	sv->client = c;
	if (c->state == CL_LOOKUP) {
		authquery_linked(c);
		return;
	}
	client_set_state(c, CL_ACTIVE);
	server_set_state(sv, SV_ACTIVE);
	sv->link_us = fw->now_us;
	c->linked_us = fw->now_us;
	hist_record(&c->pool->wait_total, fw->now_us - c->request_us);
	hist_record(&c->pool->wait_period, fw->now_us - c->request_us);
	db->stats.server_assignment_count++;
	fw->stats.server_assignment_count++;
	if (fw->now_us > c->request_us) {
		db->stats.wait_time_us += fw->now_us - c->request_us;
		fw->stats.wait_time_us += fw->now_us - c->request_us;
	}
	/* A physical walsender runs no SET: it keeps its startup values. */
	sql = c->pool->replication == HBA_REPL_PHYSICAL
	          ? NULL
	          : params_sync_sql(&fw->tracked, &c->params, &sv->params, &oom);
	if (sql != NULL) {
		bool ok = server_send_internal(sv, sql);

		free(sql);
		if (!ok)
			oom = true;
	}
	if (oom) {
		client_fail(c, "08P01", "out of memory");
		return;
	}
	client_process(c);
}

void pool_drop_link(struct client *c)
{
	struct server *sv = c->server;

	if (sv == NULL)
		return;
	c->server = NULL;
	sv->client = NULL;
	c->pkt_remain = 0;
	sched_release(&c->pool->waitq, &c->wait, c->fw->now_us - c->linked_us, c->fw->now_us);
	if (c->state == CL_ACTIVE)
		client_set_state(c, CL_IDLE);
}

void pool_unlink(struct client *c, bool clean)
{
	struct server *sv = c->server;

	if (sv == NULL)
		return;
	pool_drop_link(c);
	server_client_gone(sv, clean);
}

static void keep_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool *pool = arg;
	struct server *sv = pool->kept;

	(void)fd;
	(void)what;
	if (sv == NULL)
		return;
	fw_update_now(pool->fw);
	pool_end_keep(pool, false);
	pool_server_idle(sv); /* the flow did not come back: the next waiter gets it */
}

void pool_end_keep(struct pool *pool, bool taken)
{
	if (pool->kept == NULL)
		return;
	pool->kept = NULL;
	evtimer_del(pool->keep_timer);
	sched_antic_end(&pool->waitq, taken);
}

/* sv was just given back by a flow whose next request is due in a moment and
 * that would win the next pick anyway: keep sv idle for it a little instead
 * of starting a long hold of another flow (sched_anticipate).  true = kept. */
static bool keep_for_flow(struct pool *pool, struct server *sv)
{
	const struct config *cfg = pool->fw->cfg;
	uint64_t us;
	struct timeval tv;

	if (pool->kept != NULL || cfg->fair_anticipation_us <= 0 || pool_is_paused(pool))
		return false;
	us = sched_anticipate(&pool->waitq, pool->fw->now_us, (uint64_t)cfg->fair_anticipation_us);
	if (us == 0)
		return false;
	if (pool->keep_timer == NULL) /* made on first use: most pools never keep */
		pool->keep_timer = evtimer_new(pool->fw->base, keep_timer_cb, pool);
	tv.tv_sec = (time_t)(us / USEC);
	tv.tv_usec = (suseconds_t)(us % USEC);
	if (pool->keep_timer == NULL || evtimer_add(pool->keep_timer, &tv) != 0) {
		sched_antic_end(&pool->waitq, false);
		return false;
	}
	sv->idle_since_us = pool->fw->now_us;
	server_set_state(sv, SV_IDLE);
	pool->kept = sv;
	return true;
}

void pool_server_idle(struct server *sv)
{
	struct pool *pool = sv->pool;
	const struct config *cfg = pool->fw->cfg;
	int64_t lifetime = pool->db->conf->server_lifetime_us >= 0
	                       ? pool->db->conf->server_lifetime_us
	                       : cfg->server_lifetime_us;
	struct sched_entry *e;

	if (sv->close_needed) {
		server_close(sv, "database configuration changed");
		pool_maybe_launch(pool);
		return;
	}
	if (lifetime > 0 && pool->fw->now_us - sv->connect_us > (uint64_t)lifetime) {
		server_close(sv, "server lifetime over");
		pool_maybe_launch(pool);
		return;
	}
	if (pool->fw->shutdown == SHUTDOWN_WAIT_SERVERS && sched_count(&pool->waitq) == 0) {
		server_close(sv, "server shutting down");
		return;
	}
	if (pool_is_paused(pool) || pool->fw->suspended) {
		/* PAUSE disconnects from the servers once their work is done. */
		server_close(sv, "pause");
		return;
	}
	/* Only a server that just served a client changes hands: a fresh login
	 * always serves its own pool once, so slots cannot bounce unused. */
	if (sv->state == SV_ACTIVE && give_slot_to_other_pool(sv))
		return;
	if (sv->state == SV_ACTIVE && keep_for_flow(pool, sv))
		return;
	if ((e = sched_pick(&pool->waitq, pool->fw->now_us)) != NULL) {
		struct client *c = container_of(e, struct client, wait);

		pool_link(c, sv);
		return;
	}
	if (pool->replication != HBA_REPL_NONE) {
		/* Opened for a client that is gone: never handed to another. */
		server_close(sv, "replication client gone");
		return;
	}
	sv->idle_since_us = pool->fw->now_us;
	if (sv->state != SV_IDLE)
		server_set_state(sv, SV_IDLE); /* joins pool->idle_servers, most recent first */
}

void pool_note_busy(struct pool *pool)
{
	int size;
	bool busy = pool->sv_count[SV_IDLE] == 0 && (size = pool_size_limit(pool)) > 0 &&
	            pool->n_servers >= size;
	uint64_t now = pool->fw->now_us;

	if (busy == pool->is_busy)
		return;
	if (busy) {
		pool->busy_since_us = now;
	} else {
		uint64_t since = pool->busy_since_us > pool->period_start_us
		                     ? pool->busy_since_us
		                     : pool->period_start_us;

		pool->busy_total_us += now - pool->busy_since_us;
		pool->busy_period_us += now - since;
	}
	pool->is_busy = busy;
}

double pool_saturation_pct(const struct pool *pool, bool period)
{
	uint64_t now = pool->fw->now_us, start = period ? pool->period_start_us : pool->created_us;
	uint64_t busy = period ? pool->busy_period_us : pool->busy_total_us;

	if (pool->is_busy)
		busy += now - (period && pool->busy_since_us < start ? start : pool->busy_since_us);
	if (now <= start)
		return 0;
	return 100.0 * (double)busy / (double)(now - start);
}

void pool_period_reset(struct pool *pool)
{
	hist_reset(&pool->wait_period);
	sched_period_reset(&pool->waitq);
	pool->max_queue_period = sched_count(&pool->waitq);
	pool->busy_period_us = 0;
	pool->period_start_us = pool->fw->now_us;
	sched_forget_idle(&pool->waitq, pool->fw->now_us,
	                  pool->fw->cfg->stats_period_us > 0
	                      ? (uint64_t)pool->fw->cfg->stats_period_us
	                      : 60 * USEC);
}

static int db_max_connections(const struct database *db)
{
	if (db->conf->max_db_connections >= 0)
		return db->conf->max_db_connections;
	return db->fw->cfg->max_db_connections;
}

static int user_max_connections(const struct pool *pool)
{
	const struct user_conf *uc = user_conf_of(pool, pool->user);

	if (uc != NULL && uc->max_user_connections >= 0)
		return uc->max_user_connections;
	return pool->fw->cfg->max_user_connections;
}

/* May one more server be opened for pool?  Logs when the reserve is used. */
/* An idle server of another pool is taken for a pool at max_db_connections
 * only once it has idled this long (or its pool is over its share): lending
 * idle capacity without closing and reopening servers on every query. */
#define EVICT_IDLE_US (250 * 1000)

static uint64_t pool_weight(const struct pool *pool)
{
	const struct user_conf *uc = user_conf_of(pool, pool->user);

	return uc != NULL && uc->fair_weight > 0 ? (uint64_t)uc->fair_weight : 1;
}

/* The pools that share a connection limit with pool: those of its database
 * (max_db_connections, weighted by the users' fair_weight) or those of its
 * user in every database (max_user_connections, equal weights). */
enum slot_group { GROUP_DB, GROUP_USER };

static bool in_group(const struct pool *pool, const struct pool *p, enum slot_group g)
{
	return g == GROUP_DB ? p->db == pool->db : p->puser == pool->puser;
}

static uint64_t group_weight(const struct pool *p, enum slot_group g)
{
	return g == GROUP_DB ? pool_weight(p) : 1;
}

static int group_count(const struct pool *pool, enum slot_group g)
{
	return g == GROUP_DB ? pool->db->n_servers : pool->puser->n_servers;
}

static int group_max(const struct pool *pool, enum slot_group g)
{
	return g == GROUP_DB ? db_max_connections(pool->db) : user_max_connections(pool);
}

/* A pool's share of the group's limit among the group's pools that want
 * servers (hold some or wait for one); at least 1. */
static int fair_share(const struct pool *pool, enum slot_group g, int max)
{
	struct list_head *dpos, *ppos;
	uint64_t sum = 0;
	int share;

	list_for_each(dpos, &pool->fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			const struct pool *p = list_entry(ppos, struct pool, link);

			if (in_group(pool, p, g) &&
			    (p == pool || p->n_servers > 0 || sched_count(&p->waitq) > 0))
				sum += group_weight(p, g);
		}
	}
	share = sum == 0 ? max : (int)((uint64_t)max * group_weight(pool, g) / sum);
	return share < 1 ? 1 : share;
}

/* The waiting pool of the group furthest below its share; NULL if none. */
static struct pool *neediest_other_pool(const struct pool *pool, enum slot_group g, int max)
{
	struct list_head *dpos, *ppos;
	struct pool *best = NULL;
	int best_gap = 0;

	list_for_each(dpos, &pool->fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);
			int gap;

			if (p == pool || !in_group(pool, p, g) || sched_count(&p->waitq) == 0 ||
			    pool_is_paused(p))
				continue;
			gap = fair_share(p, g, max) - p->n_servers;
			if (gap > best_gap) {
				best = p;
				best_gap = gap;
			}
		}
	}
	return best;
}

/* A connection limit binds (max_db_connections, then max_user_connections):
 * a server released by a pool at or over its share goes, as a new
 * connection (a server belongs to its database and user), to a waiting pool
 * of the group under its share.  true if sv was closed for that. */
static bool give_slot_to_other_pool(struct server *sv)
{
	static const enum slot_group groups[] = {GROUP_DB, GROUP_USER};
	struct pool *pool = sv->pool, *other;

	for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
		enum slot_group g = groups[i];
		int max = group_max(pool, g);

		if (max <= 0 || group_count(pool, g) < max ||
		    pool->n_servers < fair_share(pool, g, max))
			continue;
		other = neediest_other_pool(pool, g, max);
		if (other == NULL)
			continue;
		server_close(sv, "evicted");
		pool_maybe_launch(other);
		return true;
	}
	return false;
}

/* At a group's limit, an idle server of another pool of the group makes room
 * for this one if that pool is over its share or the server idled a while. */
static bool evict_idle_for(struct pool *pool, enum slot_group g)
{
	struct list_head *dpos, *ppos;
	int max = group_max(pool, g);

	list_for_each(dpos, &pool->fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);
			struct server *sv;

			if (p == pool || !in_group(pool, p, g) || list_empty(&p->idle_servers))
				continue;
			sv = list_entry(p->idle_servers.prev, struct server, idle_link);
			if (p->n_servers <= fair_share(p, g, max) &&
			    pool->fw->now_us - sv->idle_since_us < EVICT_IDLE_US)
				continue;
			server_close(sv, "evicted");
			return true;
		}
	}
	return false;
}

static bool may_open_server(struct pool *pool)
{
	int size = pool_size_limit(pool), max_db = db_max_connections(pool->db),
	    max_user = user_max_connections(pool);

	if (max_db > 0 && pool->db->n_servers >= max_db && !evict_idle_for(pool, GROUP_DB))
		return false;
	if (max_user > 0 && pool->puser->n_servers >= max_user && !evict_idle_for(pool, GROUP_USER))
		return false;
	if (size == 0 || pool->n_servers < size)
		return true;
	if (pool->n_servers < size + pool_reserve_limit(pool) &&
	    pool_maxwait_us(pool) >= (uint64_t)pool->fw->cfg->reserve_pool_timeout_us) {
		log_info("S: %s/%s taking connection from reserve_pool", pool->db->name,
		         pool->user);
		return true;
	}
	return false;
}

void pool_maybe_launch(struct pool *pool)
{
	struct fairway *fw = pool->fw;
	size_t demand, in_progress;

	/* WAIT_FOR_CLIENTS keeps serving the clients still connected. */
	if (fw->shutdown == SHUTDOWN_WAIT_SERVERS || fw->shutdown == SHUTDOWN_NOW ||
	    pool_is_paused(pool))
		return;
	if (pool->last_login_fail_us != 0 &&
	    fw->now_us - pool->last_login_fail_us < (uint64_t)fw->cfg->server_login_retry_us)
		return;
	demand = sched_count(&pool->waitq);
	if (!pool->has_welcome && !list_empty(&pool->login_waiters))
		demand++;
	in_progress = (size_t)(pool->sv_count[SV_CONNECTING] + pool->sv_count[SV_LOGIN] +
	                       pool->sv_count[SV_RESETTING]);
	while (in_progress < demand && may_open_server(pool)) {
		if (!server_launch(pool))
			break;
		in_progress++;
	}
}

void pool_set_welcome(struct pool *pool, const struct welcome_param *params, size_t n)
{
	struct welcome_param *copy = calloc(n ? n : 1, sizeof(*copy));
	struct list_head *pos, *next;

	if (copy == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		copy[i].name = strdup(params[i].name);
		copy[i].value = strdup(params[i].value);
		if (copy[i].name == NULL || copy[i].value == NULL) {
			for (size_t j = 0; j <= i; j++) {
				free(copy[j].name);
				free(copy[j].value);
			}
			free(copy);
			return;
		}
	}
	for (size_t i = 0; i < pool->n_welcome; i++) {
		free(pool->welcome[i].name);
		free(pool->welcome[i].value);
	}
	free(pool->welcome);
	pool->welcome = copy;
	pool->n_welcome = n;
	pool->has_welcome = true;
	pool->last_login_fail_us = 0;
	list_for_each_safe(pos, next, &pool->login_waiters)
	{
		struct client *c = container_of(pos, struct client_login, link)->client;

		list_del(pos);
		client_send_welcome(c);
	}
}

void pool_login_failed(struct pool *pool, const char *sqlstate, const char *msg)
{
	struct list_head *pos, *next;

	authquery_pool_failed(pool, sqlstate, msg);
	pool->last_login_fail_us = pool->fw->now_us;
	if (pool->last_login_fail_us == 0)
		pool->last_login_fail_us = 1;
	if (sqlstate == NULL)
		return; /* connect failures: clients keep waiting until query_wait_timeout */
	if (pool->replication != HBA_REPL_NONE && sched_oldest(&pool->waitq) != NULL) {
		/* The refused server was opened for the oldest waiter: it hears
		 * why now instead of at query_wait_timeout. */
		struct sched_entry *e = sched_oldest(&pool->waitq);

		client_fail(container_of(e, struct client, wait), sqlstate, "%s", msg);
	}
	list_for_each_safe(pos, next, &pool->login_waiters)
	{
		struct client *c = container_of(pos, struct client_login, link)->client;

		client_fail(c, sqlstate, "%s", msg);
	}
}

void pool_each_server(struct fairway *fw, struct database *db, pool_server_fn fn, void *arg)
{
	struct list_head *dpos, *ppos, *spos, *snext;

	list_for_each(dpos, &fw->databases)
	{
		struct database *d = list_entry(dpos, struct database, link);

		if (db != NULL && d != db)
			continue;
		list_for_each(ppos, &d->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			list_for_each_safe(spos, snext, &p->servers)
			    fn(list_entry(spos, struct server, link), arg);
		}
	}
}
