/* The housekeeping tick, every TICK_MS: waits past query_wait_timeout, server
 * connect timeouts, idle/lifetime closes, min_pool_size, login retries, client
 * timeouts (checked once a second), stats_period averages, shutdown progress. */
#include "timer.h"

#include "io.h"
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "client.h"
#include "config.h"
#include "daemon.h"
#include "fairway.h"
#include "hba.h"
#include "io.h"
#include "listener.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "server.h"
#include "sqlstate.h"
#include "util.h"

#define TICK_MS 200

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	timer_tick(arg);
}

bool timer_start(struct fairway *fw)
{
	struct timeval tv = {0, TICK_MS * 1000};

	fw->tick = event_new(fw->base, -1, EV_PERSIST, tick_cb, fw);
	return fw->tick != NULL && event_add(fw->tick, &tv) == 0;
}

static void check_waiters(struct pool *pool)
{
	struct fairway *fw = pool->fw;
	int64_t timeout = pool_query_wait_timeout_us(pool);
	struct sched_entry *e;
	struct list_head *pos, *next;

	if (timeout <= 0)
		return;
	while ((e = sched_oldest(&pool->waitq)) != NULL &&
	       fw->now_us - e->enqueue_us >= (uint64_t)timeout) {
		struct client *c = container_of(e, struct client, wait);

		sched_remove(&pool->waitq, e, true);
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "query_wait_timeout");
	}
	list_for_each_safe(pos, next, &pool->login_waiters)
	{
		struct client *c = container_of(pos, struct client_login, link)->client;

		if (fw->now_us - c->request_us >= (uint64_t)timeout)
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "query_wait_timeout");
	}
}

static void check_servers(struct pool *pool)
{
	struct fairway *fw = pool->fw;
	const struct config *cfg = fw->cfg;
	int64_t lifetime = pool->db->conf->server_lifetime_us >= 0
	                       ? pool->db->conf->server_lifetime_us
	                       : cfg->server_lifetime_us;
	struct list_head *pos, *next;
	int min =
	    pool->db->conf->min_pool_size >= 0 ? pool->db->conf->min_pool_size : cfg->min_pool_size;

	list_for_each_safe(pos, next, &pool->servers)
	{
		struct server *sv = list_entry(pos, struct server, link);
		uint64_t age = fw->now_us - sv->connect_us;

		switch (sv->state) {
		case SV_CONNECTING:
		case SV_LOGIN:
			if (cfg->server_connect_timeout_us > 0 &&
			    age > (uint64_t)cfg->server_connect_timeout_us) {
				pool_login_failed(pool, NULL, NULL);
				server_close(sv, "connect timeout");
			}
			break;
		case SV_IDLE:
			io_trim(sv->io);
			if (sv->close_needed)
				server_close(sv, "database configuration changed");
			else if (cfg->server_idle_timeout_us > 0 &&
			         fw->now_us - sv->idle_since_us >
			             (uint64_t)cfg->server_idle_timeout_us &&
			         pool->n_servers > min)
				server_close(sv, "server idle timeout");
			else if (lifetime > 0 && age > (uint64_t)lifetime)
				server_close(sv, "server lifetime over");
			break;
		case SV_ACTIVE:
		case SV_RESETTING:
		case SV_CLOSED:
			break;
		}
	}
	if (fw->shutdown == SHUTDOWN_NONE && !fw->paused && !pool->db->paused &&
	    (pool->db->conf->user != NULL ||
	     pool->cl_count[CL_IDLE] + pool->cl_count[CL_ACTIVE] + pool->cl_count[CL_WAITING] >
	         0)) {
		while (pool->n_servers < min && (pool->last_login_fail_us == 0 ||
		                                 fw->now_us - pool->last_login_fail_us >=
		                                     (uint64_t)cfg->server_login_retry_us)) {
			if (!server_launch(pool))
				break;
		}
	}
	pool_maybe_launch(pool);
}

/* Per-client timeouts; once a second is precise enough for them. */
static void check_clients(struct fairway *fw)
{
	const struct config *cfg = fw->cfg;
	struct list_head *pos, *next;

	list_for_each_safe(pos, next, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		struct server *sv = c->server;
		uint64_t in_state = fw->now_us - c->state_since_us;

		switch (c->state) {
		case CL_STARTUP:
		case CL_AUTH:
		case CL_LOOKUP:
			if (cfg->client_login_timeout_us > 0 &&
			    fw->now_us - c->connect_us > (uint64_t)cfg->client_login_timeout_us)
				client_fail(
				    c, SQLSTATE_PROTOCOL_VIOLATION,
				    "client_login_timeout (server down or wrong password?)");
			break;
		case CL_IDLE:
			/* Its empty buffers go back at every tick (made again when it
			 * sends): kept longer, the buffers of the clients that have
			 * just logged in stay as holes between the ones logging in
			 * after them. */
			if (!c->is_console && cfg->client_idle_timeout_us > 0 &&
			    in_state > (uint64_t)cfg->client_idle_timeout_us)
				client_fail(c, SQLSTATE_IDLE_SESSION_TIMEOUT,
				            "client_idle_timeout");
			else
				io_trim(c->io);
			break;
		case CL_ACTIVE:
			if (sv == NULL)
				break;
			/* A replication stream is one command that runs for good. */
			if (cfg->query_timeout_us > 0 && sv->query_start_us != 0 &&
			    sv->pool->replication == HBA_REPL_NONE &&
			    fw->now_us - sv->query_start_us > (uint64_t)cfg->query_timeout_us) {
				pool_unlink(c, false);
				client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "query timeout");
				break;
			}
			if (cfg->idle_transaction_timeout_us > 0 && sv->xact_status != 'I' &&
			    sv->expect_rfq == 0 &&
			    fw->now_us - c->last_activity_us >
			        (uint64_t)cfg->idle_transaction_timeout_us) {
				pool_unlink(c, false);
				client_fail(c, SQLSTATE_IDLE_IN_TRANSACTION,
				            "idle transaction timeout");
				break;
			}
			if (cfg->transaction_timeout_us > 0 && sv->xact_status != 'I' &&
			    fw->now_us - sv->link_us > (uint64_t)cfg->transaction_timeout_us) {
				pool_unlink(c, false);
				client_fail(c, SQLSTATE_IDLE_IN_TRANSACTION, "transaction timeout");
			}
			break;
		case CL_WAITING:
			if (cfg->query_wait_notify_us > 0 && !c->wait_notified &&
			    fw->now_us - c->request_us >= (uint64_t)cfg->query_wait_notify_us) {
				char msg[256];

				snprintf(msg, sizeof(msg),
				         "no server connection available in pool %s/%s yet, "
				         "waiting (query_wait_notify)",
				         c->pool->db->name, c->pool->user);
				c->wait_notified = true;
				if (!proto_put_notice(io_output(c->io), "00000", msg))
					client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
			}
			break;
		case CL_LOGIN:
		case CL_DRAINING:
		case CL_CLOSED:
			break;
		}
	}
}

static uint64_t per_sec(uint64_t delta, uint64_t period_us)
{
	return period_us == 0 ? 0 : delta * USEC / period_us;
}

static uint64_t per_item(uint64_t total, uint64_t count)
{
	return count == 0 ? 0 : total / count;
}

static void stats_period(struct fairway *fw)
{
	uint64_t period = fw->now_us - fw->last_stats_us;
	struct fw_stats sum = {0};
	struct list_head *pos;

	list_for_each(pos, &fw->databases)
	{
		struct database *db = list_entry(pos, struct database, link);
		const struct fw_stats *t = &db->stats, *s = &db->period_start;
		struct fw_stats *a = &db->period_avg;
		uint64_t xacts = t->xact_count - s->xact_count,
		         queries = t->query_count - s->query_count,
		         assigns = t->server_assignment_count - s->server_assignment_count;

		a->server_assignment_count = per_sec(assigns, period);
		a->xact_count = per_sec(xacts, period);
		a->query_count = per_sec(queries, period);
		a->bytes_received = per_sec(t->bytes_received - s->bytes_received, period);
		a->bytes_sent = per_sec(t->bytes_sent - s->bytes_sent, period);
		a->xact_time_us = per_item(t->xact_time_us - s->xact_time_us, xacts);
		a->query_time_us = per_item(t->query_time_us - s->query_time_us, queries);
		a->wait_time_us = per_item(t->wait_time_us - s->wait_time_us, assigns);
		a->client_parse_count =
		    per_sec(t->client_parse_count - s->client_parse_count, period);
		a->server_parse_count =
		    per_sec(t->server_parse_count - s->server_parse_count, period);
		a->bind_count = per_sec(t->bind_count - s->bind_count, period);
		db->period_start = db->stats;
		{
			struct list_head *ppos;

			list_for_each(ppos, &db->pools)
			    pool_period_reset(list_entry(ppos, struct pool, link));
		}
		sum.xact_count += a->xact_count;
		sum.query_count += a->query_count;
		sum.bytes_received += a->bytes_received;
		sum.bytes_sent += a->bytes_sent;
		sum.xact_time_us += a->xact_time_us;
		sum.query_time_us += a->query_time_us;
		sum.wait_time_us += a->wait_time_us;
		sum.client_parse_count += a->client_parse_count;
		sum.server_parse_count += a->server_parse_count;
		sum.bind_count += a->bind_count;
	}
	fw->last_stats_us = fw->now_us;
	if (fw->cfg->log_stats)
		log_info("stats: %" PRIu64 " xacts/s, %" PRIu64 " queries/s, %" PRIu64
		         " client parses/s, %" PRIu64 " server parses/s, %" PRIu64
		         " binds/s, in %" PRIu64 " B/s, out %" PRIu64 " B/s, xact %" PRIu64
		         " us, query %" PRIu64 " us, wait %" PRIu64 " us",
		         sum.xact_count, sum.query_count, sum.client_parse_count,
		         sum.server_parse_count, sum.bind_count, sum.bytes_received, sum.bytes_sent,
		         sum.xact_time_us, sum.query_time_us, sum.wait_time_us);
}

static void check_shutdown(struct fairway *fw)
{
	struct list_head *dpos, *ppos;
	int active = 0, clients = 0;

	if (fw->shutdown == SHUTDOWN_NONE)
		return;
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			active += p->sv_count[SV_ACTIVE];
			clients += p->cl_count[CL_ACTIVE] + p->cl_count[CL_IDLE] +
			           p->cl_count[CL_WAITING] + p->cl_count[CL_LOGIN];
		}
	}
	if ((fw->shutdown == SHUTDOWN_WAIT_SERVERS && active == 0) ||
	    (fw->shutdown == SHUTDOWN_WAIT_CLIENTS && clients == 0))
		daemon_shutdown(fw, SHUTDOWN_NOW);
}

/* Databases with a forced user have one pool: open it at once so that
 * min_pool_size is kept even before the first client. */
static void ensure_forced_pools(struct fairway *fw)
{
	const struct config *cfg = fw->cfg;

	for (size_t i = 0; i < cfg->n_dbs; i++) {
		const struct db_conf *dc = &cfg->dbs[i];
		int min = dc->min_pool_size >= 0 ? dc->min_pool_size : cfg->min_pool_size;
		struct database *db;

		if (dc->user == NULL || min <= 0 || strcmp(dc->name, "*") == 0)
			continue;
		db = db_lookup(fw, dc->name, true);
		if (db != NULL && list_empty(&db->pools))
			pool_get(db, dc->user);
	}
}

void timer_tick(struct fairway *fw)
{
	static const uint64_t client_check_us = USEC;
	struct list_head *dpos, *dnext, *ppos, *pnext;

	fw_update_now(fw);
	if (fw->shutdown == SHUTDOWN_NONE)
		ensure_forced_pools(fw);
	if (fw->accept_paused_until_us != 0 && fw->now_us >= fw->accept_paused_until_us) {
		fw->accept_paused_until_us = 0;
		if (!fw->suspended)
			listener_pause(fw, false);
	}
	list_for_each_safe(dpos, dnext, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each_safe(ppos, pnext, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			check_waiters(p);
			check_servers(p);
		}
	}
	if (fw->now_us / client_check_us != (fw->now_us - TICK_MS * 1000) / client_check_us) {
		check_clients(fw);
		client_login_failures_summary(fw);
	}
	if (fw->cfg->stats_period_us > 0 &&
	    fw->now_us - fw->last_stats_us >= (uint64_t)fw->cfg->stats_period_us)
		stats_period(fw);
	admin_check_waits(fw);
	check_shutdown(fw);
}
