/* SHOW result sets for the console.  Each command is a column table (name,
 * type) in PgBouncer's wire order and a row producer; numbers go out as int8
 * so exporters that read PgBouncer read Fairway the same way. */
#include "show.h"

#include "io.h"
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cancel.h"
#include "client.h"
#include "config.h"
#include "fairway.h"
#include "hba.h"
#include "pool.h"
#include "proto.h"
#include "ps_forward.h"
#include "server.h"
#include "util.h"

#define T PG_TYPE_TEXT
#define I PG_TYPE_INT8
#define N PG_TYPE_NUMERIC

struct column {
	const char *name;
	uint32_t type;
};

/* A result set being written: counts rows for the CommandComplete tag. */
struct result {
	struct evbuffer *out;
	size_t ncols;
	size_t rows;
	bool ok;
};

static void result_begin(struct result *r, struct evbuffer *out, const struct column *cols,
                         size_t n)
{
	const char *names[64];
	uint32_t types[64];

	r->out = out;
	r->ncols = n;
	r->rows = 0;
	for (size_t i = 0; i < n; i++) {
		names[i] = cols[i].name;
		types[i] = cols[i].type;
	}
	r->ok = proto_put_row_desc(out, n, names, types);
}

static void result_row(struct result *r, const char *const *values)
{
	if (r->ok)
		r->ok = proto_put_data_row(r->out, r->ncols, values);
	r->rows++;
}

static bool result_end(struct result *r)
{
	return r->ok && proto_put_command_complete(r->out, "SHOW");
}

/* Number formatting into a small ring of buffers, so a row can hold many. */
struct numbuf {
	char buf[64][32];
	int next;
};

static const char *num(struct numbuf *nb, uint64_t v)
{
	char *b = nb->buf[nb->next++ % 64];

	snprintf(b, 32, "%" PRIu64, v);
	return b;
}

static const char *snum(struct numbuf *nb, int64_t v)
{
	char *b = nb->buf[nb->next++ % 64];

	snprintf(b, 32, "%" PRId64, v);
	return b;
}

static const char *timestr(struct numbuf *nb, uint64_t wall_us)
{
	char *b = nb->buf[nb->next++ % 64];

	if (wall_us == 0)
		return NULL;
	util_fmt_time(wall_us, b, 32);
	return b;
}

/* --- SHOW POOLS ----------------------------------------------------------- */

static const struct column pools_cols[] = {
    {"database", T},
    {"user", T},
    {"cl_active", I},
    {"cl_waiting", I},
    {"cl_active_cancel_req", I},
    {"cl_waiting_cancel_req", I},
    {"sv_active", I},
    {"sv_active_cancel", I},
    {"sv_being_canceled", I},
    {"sv_idle", I},
    {"sv_used", I},
    {"sv_tested", I},
    {"sv_login", I},
    {"maxwait", I},
    {"maxwait_us", I},
    {"pool_mode", T},
    {"load_balance_hosts", T},
    /* Fairway's own, after PgBouncer's. */
    {"p50_wait_us", I},
    {"p99_wait_us", I},
    {"saturation_pct", N},
};

static const char *pct(struct numbuf *nb, double v)
{
	char *b = nb->buf[nb->next++ % 64];

	snprintf(b, 32, "%.1f", v);
	return b;
}

static bool show_pools(struct fairway *fw, struct evbuffer *out)
{
	struct list_head *dpos, *ppos;
	struct result r;
	struct numbuf nb = {.next = 0};

	result_begin(&r, out, pools_cols, ARRAY_SIZE(pools_cols));
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);
			uint64_t maxwait = pool_maxwait_us(p);
			const char *lbh = NULL;

			if (p->replication != HBA_REPL_NONE)
				continue; /* one row per (database, user), as PgBouncer */
			const char *v[ARRAY_SIZE(pools_cols)];

			if (db->conf->host != NULL && strchr(db->conf->host, ',') != NULL)
				lbh = db->conf->load_balance_hosts ? db->conf->load_balance_hosts
				                                   : "round-robin";
			nb.next = 0;
			v[0] = db->name;
			v[1] = p->user;
			v[2] = num(&nb, (uint64_t)(p->cl_count[CL_ACTIVE] + p->cl_count[CL_IDLE]));
			/* Logins waiting for an auth_query server count, as in PgBouncer. */
			v[3] = num(&nb, (uint64_t)(p->cl_count[CL_WAITING] + p->cl_count[CL_LOGIN] +
			                           p->cl_count[CL_LOOKUP]));
			v[4] = num(&nb, 0);
			v[5] = num(&nb, 0);
			v[6] = num(&nb, (uint64_t)p->sv_count[SV_ACTIVE]);
			v[7] = num(&nb, 0);
			v[8] = num(&nb, 0);
			v[9] = num(&nb, (uint64_t)p->sv_count[SV_IDLE]);
			v[10] = num(&nb, 0);
			v[11] = num(&nb, (uint64_t)p->sv_count[SV_RESETTING]);
			v[12] = num(&nb,
			            (uint64_t)(p->sv_count[SV_CONNECTING] + p->sv_count[SV_LOGIN]));
			v[13] = num(&nb, maxwait / USEC);
			v[14] = num(&nb, maxwait % USEC);
			v[15] = config_pool_mode_name(pool_mode_of(p));
			v[16] = lbh;
			v[17] = num(&nb, hist_quantile(&p->wait_total, 0.50));
			v[18] = num(&nb, hist_quantile(&p->wait_total, 0.99));
			v[19] = pct(&nb, pool_saturation_pct(p, false));
			result_row(&r, v);
		}
	}
	return result_end(&r);
}

/* --- SHOW CLIENTS / SERVERS ------------------------------------------------ */

static const struct column sockets_cols[] = {
    {"type", T},
    {"user", T},
    {"database", T},
    {"replication", T},
    {"state", T},
    {"addr", T},
    {"port", I},
    {"local_addr", T},
    {"local_port", I},
    {"connect_time", T},
    {"request_time", T},
    {"wait", I},
    {"wait_us", I},
    {"close_needed", I},
    {"ptr", T},
    {"link", T},
    {"remote_pid", I},
    {"tls", T},
    {"application_name", T},
    {"prepared_statements", I},
    {"id", I},
};

/* The replication column: PgBouncer's words. */
static const char *replication_name(int replication)
{
	switch (replication) {
	case HBA_REPL_LOGICAL:
		return "logical";
	case HBA_REPL_PHYSICAL:
		return "physical";
	default:
		return "none";
	}
}

static const char *client_show_state(const struct client *c)
{
	switch (c->state) {
	case CL_ACTIVE:
		return "active";
	case CL_WAITING:
	case CL_LOGIN:
		return "waiting";
	case CL_IDLE:
		return "idle";
	case CL_STARTUP:
	case CL_AUTH:
	case CL_LOOKUP:
		return "login";
	case CL_DRAINING:
	case CL_CLOSED:
		break;
	}
	return "closing";
}

static void sockaddr_text(const struct sockaddr *sa, char *buf, size_t n, int *port)
{
	*port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)n);
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)n);
		*port = ntohs(in6->sin6_port);
	} else {
		snprintf(buf, n, "unix");
	}
}

static bool show_clients(struct fairway *fw, struct evbuffer *out)
{
	struct list_head *pos;
	struct result r;
	struct numbuf nb;

	result_begin(&r, out, sockets_cols, ARRAY_SIZE(sockets_cols));
	list_for_each(pos, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		char addr[64], laddr[64], ptr[32], link[32], tls[128] = "";
		const char *v[ARRAY_SIZE(sockets_cols)];
		int port, lport;
		uint64_t wait = c->state == CL_WAITING ? fw->now_us - c->request_us : 0;
		int slot = params_slot(&fw->tracked, "application_name");

		nb.next = 0;
		client_addr_str(c, addr, sizeof(addr), &port);
		{
			/* Asked of the socket: clients do not keep it (memory per idle client). */
			struct sockaddr_storage ls;
			socklen_t ll = sizeof(ls);

			memset(&ls, 0, sizeof(ls));
			if (c->is_unix || c->io == NULL ||
			    getsockname(io_fd(c->io), (struct sockaddr *)&ls, &ll) != 0)
				ls.ss_family = AF_UNIX;
			sockaddr_text((const struct sockaddr *)&ls, laddr, sizeof(laddr), &lport);
		}
		snprintf(ptr, sizeof(ptr), "C-%" PRIu64, c->id);
		if (c->server != NULL)
			snprintf(link, sizeof(link), "S-%" PRIu64, c->server->id);
		v[0] = "C";
		v[1] = c->user;
		v[2] = c->dbname;
		v[3] = replication_name(c->replication);
		v[4] = client_show_state(c);
		v[5] = addr;
		v[6] = snum(&nb, port);
		v[7] = laddr;
		v[8] = snum(&nb, lport);
		v[9] = timestr(&nb, c->connect_wall_us);
		v[10] = timestr(&nb, c->connect_wall_us + (c->request_us > c->connect_us
		                                               ? c->request_us - c->connect_us
		                                               : 0));
		v[11] = num(&nb, wait / USEC);
		v[12] = num(&nb, wait % USEC);
		v[13] = num(&nb, 0);
		v[14] = ptr;
		v[15] = c->server != NULL ? link : NULL;
		v[16] = num(&nb, 0);
		if (c->io != NULL)
			io_tls_describe(c->io, tls, sizeof(tls));
		v[17] = tls; /* "" when plain, as PgBouncer */
		v[18] = slot >= 0 ? params_get(&c->params, slot) : NULL;
		v[19] = num(&nb, ps_client_count(c));
		v[20] = num(&nb, c->id);
		result_row(&r, v);
	}
	return result_end(&r);
}

static const char *server_show_state(const struct server *sv)
{
	switch (sv->state) {
	case SV_ACTIVE:
		return "active";
	case SV_IDLE:
		return "idle";
	case SV_RESETTING:
		return sv->is_tested ? "tested" : "used";
	case SV_CONNECTING:
	case SV_LOGIN:
		return "new";
	case SV_CLOSED:
		break;
	}
	return "closing";
}

static bool show_servers(struct fairway *fw, struct evbuffer *out)
{
	struct list_head *dpos, *ppos, *spos;
	struct result r;
	struct numbuf nb;

	result_begin(&r, out, sockets_cols, ARRAY_SIZE(sockets_cols));
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			list_for_each(spos, &p->servers)
			{
				struct server *sv = list_entry(spos, struct server, link);
				const char *v[ARRAY_SIZE(sockets_cols)];
				char laddr[64] = "", ptr[32], link[32], tls[128] = "";
				struct sockaddr_storage ss;
				socklen_t sl = sizeof(ss);
				int lport = 0;

				nb.next = 0;
				memset(&ss, 0, sizeof(ss));
				if (sv->io != NULL &&
				    getsockname(io_fd(sv->io), (struct sockaddr *)&ss, &sl) == 0)
					sockaddr_text((const struct sockaddr *)&ss, laddr,
					              sizeof(laddr), &lport);
				snprintf(ptr, sizeof(ptr), "S-%" PRIu64, sv->id);
				if (sv->client != NULL)
					snprintf(link, sizeof(link), "C-%" PRIu64, sv->client->id);
				v[0] = "S";
				v[1] = p->user;
				v[2] = db->name;
				v[3] = replication_name(p->replication);
				v[4] = server_show_state(sv);
				v[5] = sv->host;
				v[6] = snum(&nb, sv->port);
				v[7] = laddr;
				v[8] = snum(&nb, lport);
				v[9] = timestr(&nb, sv->connect_wall_us);
				v[10] = timestr(&nb, sv->connect_wall_us);
				v[11] = num(&nb, 0);
				v[12] = num(&nb, 0);
				v[13] = num(&nb, sv->close_needed ? 1 : 0);
				v[14] = ptr;
				v[15] = sv->client != NULL ? link : NULL;
				v[16] = num(&nb, sv->backend_pid);
				if (sv->io != NULL)
					io_tls_describe(sv->io, tls, sizeof(tls));
				v[17] = tls;
				v[18] = NULL;
				v[19] = num(&nb, ps_server_count(sv));
				v[20] = num(&nb, sv->id);
				result_row(&r, v);
			}
		}
	}
	return result_end(&r);
}

/* --- SHOW STATS and friends -------------------------------------------------- */

static const struct column stats_cols[] = {
    {"database", T},
    {"total_server_assignment_count", I},
    {"total_xact_count", I},
    {"total_query_count", I},
    {"total_received", I},
    {"total_sent", I},
    {"total_xact_time", I},
    {"total_query_time", I},
    {"total_wait_time", I},
    {"total_client_parse_count", I},
    {"total_server_parse_count", I},
    {"total_bind_count", I},
    {"avg_server_assignment_count", I},
    {"avg_xact_count", I},
    {"avg_query_count", I},
    {"avg_recv", I},
    {"avg_sent", I},
    {"avg_xact_time", I},
    {"avg_query_time", I},
    {"avg_wait_time", I},
    {"avg_client_parse_count", I},
    {"avg_server_parse_count", I},
    {"avg_bind_count", I},
};

static const struct column stats_totals_cols[] = {
    {"database", T},           {"server_assignment_count", I},
    {"xact_count", I},         {"query_count", I},
    {"bytes_received", I},     {"bytes_sent", I},
    {"xact_time", I},          {"query_time", I},
    {"wait_time", I},          {"client_parse_count", I},
    {"server_parse_count", I}, {"bind_count", I},
};

static const struct column stats_averages_cols[] = {
    {"database", T},
    {"server_assignment_count", I},
    {"xact_count", I},
    {"query_count", I},
    {"bytes_received", I},
    {"bytes_sent", I},
    {"xact_time", I},
    {"query_time", I},
    {"wait_time", I},
    {"avg_client_parse_count", I},
    {"avg_server_parse_count", I},
    {"avg_bind_count", I},
};

/* Writes the 11 numbers of a stats struct into v. */
static void stats_values(struct numbuf *nb, const struct fw_stats *s, const char **v)
{
	v[0] = num(nb, s->server_assignment_count);
	v[1] = num(nb, s->xact_count);
	v[2] = num(nb, s->query_count);
	v[3] = num(nb, s->bytes_received);
	v[4] = num(nb, s->bytes_sent);
	v[5] = num(nb, s->xact_time_us);
	v[6] = num(nb, s->query_time_us);
	v[7] = num(nb, s->wait_time_us);
	v[8] = num(nb, s->client_parse_count);
	v[9] = num(nb, s->server_parse_count);
	v[10] = num(nb, s->bind_count);
}

enum stats_kind { STATS_BOTH, STATS_TOTALS, STATS_AVERAGES };

static bool show_stats(struct fairway *fw, struct evbuffer *out, enum stats_kind kind)
{
	struct list_head *pos;
	struct result r;
	struct numbuf nb;

	if (kind == STATS_BOTH)
		result_begin(&r, out, stats_cols, ARRAY_SIZE(stats_cols));
	else if (kind == STATS_TOTALS)
		result_begin(&r, out, stats_totals_cols, ARRAY_SIZE(stats_totals_cols));
	else
		result_begin(&r, out, stats_averages_cols, ARRAY_SIZE(stats_averages_cols));
	list_for_each(pos, &fw->databases)
	{
		struct database *db = list_entry(pos, struct database, link);
		const char *v[ARRAY_SIZE(stats_cols)];

		nb.next = 0;
		v[0] = db->name;
		if (kind == STATS_BOTH) {
			stats_values(&nb, &db->stats, v + 1);
			stats_values(&nb, &db->period_avg, v + 12);
		} else {
			stats_values(&nb, kind == STATS_TOTALS ? &db->stats : &db->period_avg,
			             v + 1);
		}
		result_row(&r, v);
	}
	{
		/* The console, as PgBouncer's "pgbouncer" row: its commands count. */
		const char *v[ARRAY_SIZE(stats_cols)];
		static const struct fw_stats zero;

		nb.next = 0;
		v[0] = "pgbouncer";
		if (kind == STATS_BOTH) {
			stats_values(&nb, &fw->console_stats, v + 1);
			stats_values(&nb, &zero, v + 12);
		} else {
			stats_values(&nb, kind == STATS_TOTALS ? &fw->console_stats : &zero, v + 1);
		}
		result_row(&r, v);
	}
	return result_end(&r);
}

static bool show_totals(struct fairway *fw, struct evbuffer *out)
{
	static const struct column cols[] = {{"name", T}, {"value", I}};
	static const char *const names[] = {
	    "server_assignment_count",
	    "xact_count",
	    "query_count",
	    "client_bytes",
	    "server_bytes",
	    "xact_time",
	    "query_time",
	    "wait_time",
	    "ps_client_parse_count",
	    "ps_server_parse_count",
	    "ps_bind_count",
	};
	struct fw_stats avg = {0};
	struct list_head *pos;
	struct result r;
	struct numbuf nb;
	const char *vals[11];
	char name[64];

	list_for_each(pos, &fw->databases)
	{
		const struct database *db = list_entry(pos, struct database, link);

		avg.server_assignment_count += db->period_avg.server_assignment_count;
		avg.xact_count += db->period_avg.xact_count;
		avg.query_count += db->period_avg.query_count;
		avg.bytes_received += db->period_avg.bytes_received;
		avg.bytes_sent += db->period_avg.bytes_sent;
		avg.xact_time_us += db->period_avg.xact_time_us;
		avg.query_time_us += db->period_avg.query_time_us;
		avg.wait_time_us += db->period_avg.wait_time_us;
		avg.client_parse_count += db->period_avg.client_parse_count;
		avg.server_parse_count += db->period_avg.server_parse_count;
		avg.bind_count += db->period_avg.bind_count;
	}
	struct fw_stats total = fw->stats;

	total.xact_count += fw->console_stats.xact_count;
	total.query_count += fw->console_stats.query_count;
	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	for (int pass = 0; pass < 2; pass++) {
		nb.next = 0;
		stats_values(&nb, pass == 0 ? &total : &avg, vals);
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			const char *v[2];

			snprintf(name, sizeof(name), "%s_%s", pass == 0 ? "total" : "avg",
			         names[i]);
			v[0] = name;
			v[1] = vals[i];
			result_row(&r, v);
		}
	}
	return result_end(&r);
}

/* --- SHOW DATABASES / USERS / LISTS / STATE / VERSION / CONFIG --------------- */

static const struct column databases_cols[] = {
    {"name", T},
    {"host", T},
    {"port", I},
    {"database", T},
    {"force_user", T},
    {"pool_size", I},
    {"min_pool_size", I},
    {"reserve_pool_size", I},
    {"server_lifetime", I},
    {"pool_mode", T},
    {"load_balance_hosts", T},
    {"max_connections", I},
    {"current_connections", I},
    {"max_client_connections", I},
    {"current_client_connections", I},
    {"paused", I},
    {"disabled", I},
};

static void database_row(struct fairway *fw, struct result *r, const char *name,
                         const struct db_conf *dc, const struct database *db)
{
	const struct config *cfg = fw->cfg;
	const char *v[ARRAY_SIZE(databases_cols)];
	struct numbuf nb = {.next = 0};
	int max_db = dc->max_db_connections >= 0 ? dc->max_db_connections : cfg->max_db_connections;
	int max_cl = dc->max_db_client_connections >= 0 ? dc->max_db_client_connections
	                                                : cfg->max_db_client_connections;
	int64_t lifetime =
	    dc->server_lifetime_us >= 0 ? dc->server_lifetime_us : cfg->server_lifetime_us;

	v[0] = name;
	v[1] = dc->host;
	v[2] = snum(&nb, dc->port > 0 ? dc->port : 5432);
	v[3] = dc->dbname ? dc->dbname : name;
	v[4] = dc->user;
	v[5] = snum(&nb, dc->pool_size >= 0 ? dc->pool_size : cfg->default_pool_size);
	v[6] = snum(&nb, dc->min_pool_size >= 0 ? dc->min_pool_size : cfg->min_pool_size);
	v[7] =
	    snum(&nb, dc->reserve_pool_size >= 0 ? dc->reserve_pool_size : cfg->reserve_pool_size);
	v[8] = snum(&nb, lifetime / (int64_t)USEC);
	v[9] = dc->pool_mode != POOL_MODE_UNSET ? config_pool_mode_name(dc->pool_mode) : NULL;
	v[10] = dc->host != NULL && strchr(dc->host, ',') != NULL
	            ? (dc->load_balance_hosts ? dc->load_balance_hosts : "round-robin")
	            : NULL;
	v[11] = snum(&nb, max_db);
	v[12] = snum(&nb, db ? db->n_servers : 0);
	v[13] = snum(&nb, max_cl);
	v[14] = snum(&nb, db ? db->n_clients : 0);
	v[15] = snum(&nb, db && db->paused ? 1 : 0);
	v[16] = snum(&nb, db && db->disabled ? 1 : 0);
	result_row(r, v);
}

static bool show_databases(struct fairway *fw, struct evbuffer *out)
{
	const struct config *cfg = fw->cfg;
	struct list_head *pos;
	struct result r;

	result_begin(&r, out, databases_cols, ARRAY_SIZE(databases_cols));
	for (size_t i = 0; i < cfg->n_dbs; i++) {
		if (strcmp(cfg->dbs[i].name, "*") == 0)
			continue;
		database_row(fw, &r, cfg->dbs[i].name, &cfg->dbs[i],
		             db_lookup(fw, cfg->dbs[i].name, false));
	}
	list_for_each(pos, &fw->databases)
	{
		struct database *db = list_entry(pos, struct database, link);

		if (db->is_auto)
			database_row(fw, &r, db->name, db->conf, db);
	}
	{
		/* The console itself, as PgBouncer lists it. */
		const char *v[ARRAY_SIZE(databases_cols)] = {
		    "pgbouncer", NULL, "6432", "pgbouncer", "pgbouncer", "2", "0", "0", "0",
		    "statement", NULL, "0",    "0",         "0",         "0", "0", "0"};
		struct numbuf nb = {.next = 0};

		v[2] = snum(&nb, cfg->listen_port);
		result_row(&r, v);
	}
	return result_end(&r);
}

struct result;
static struct pool_user *user_lookup(struct fairway *fw, const char *name);
static void users_row(struct fairway *fw, struct result *rp, const char *name,
                      const struct pool_user *pu);
static size_t count_user_rows(struct fairway *fw);

static bool show_users(struct fairway *fw, struct evbuffer *out)
{
	static const struct column cols[] = {
	    {"name", T},
	    {"pool_size", T},
	    {"reserve_pool_size", T},
	    {"pool_mode", T},
	    {"max_user_connections", I},
	    {"current_connections", I},
	    {"max_user_client_connections", I},
	    {"current_client_connections", I},
	};
	const struct config *cfg = fw->cfg;
	struct list_head *pos;
	struct result r;

	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	/* [users] entries first, then users seen only at login. */
	for (size_t i = 0; i <= cfg->n_users; i++) {
		const char *name = i < cfg->n_users ? cfg->users[i].name : NULL;

		if (name != NULL)
			users_row(fw, &r, name, user_lookup(fw, name));
	}
	list_for_each(pos, &fw->users)
	{
		struct pool_user *pu = list_entry(pos, struct pool_user, link);

		if (config_find_user(cfg, pu->name) == NULL)
			users_row(fw, &r, pu->name, pu);
	}
	return result_end(&r);
}

static size_t count_user_rows(struct fairway *fw)
{
	struct list_head *pos;
	size_t n = fw->cfg->n_users;

	list_for_each(
	    pos, &fw->users) if (config_find_user(fw->cfg,
	                                          list_entry(pos, struct pool_user, link)->name) ==
	                         NULL) n++;
	return n;
}

static struct pool_user *user_lookup(struct fairway *fw, const char *name)
{
	struct list_head *pos;

	list_for_each(pos, &fw->users)
	{
		struct pool_user *pu = list_entry(pos, struct pool_user, link);

		if (strcmp(pu->name, name) == 0)
			return pu;
	}
	return NULL;
}

static void users_row(struct fairway *fw, struct result *rp, const char *name,
                      const struct pool_user *pu)
{
	const struct config *cfg = fw->cfg;
	{
		const struct user_conf *uc = config_find_user(cfg, name);
		struct numbuf nb = {.next = 0};
		const char *v[8];
		struct result *r = rp;

		v[0] = name;
		v[1] = uc && uc->pool_size >= 0 ? snum(&nb, uc->pool_size) : "";
		v[2] = uc && uc->reserve_pool_size >= 0 ? snum(&nb, uc->reserve_pool_size) : "";
		v[3] = uc && uc->pool_mode != POOL_MODE_UNSET ? config_pool_mode_name(uc->pool_mode)
		                                              : NULL;
		v[4] = snum(&nb, uc && uc->max_user_connections >= 0 ? uc->max_user_connections
		                                                     : cfg->max_user_connections);
		v[5] = snum(&nb, pu ? pu->n_servers : 0);
		v[6] = snum(&nb, uc && uc->max_user_client_connections >= 0
		                     ? uc->max_user_client_connections
		                     : cfg->max_user_client_connections);
		v[7] = snum(&nb, pu ? pu->n_clients : 0);
		result_row(r, v);
	}
}

static bool show_lists(struct fairway *fw, struct evbuffer *out)
{
	static const struct column cols[] = {{"list", T}, {"items", I}};
	struct list_head *dpos, *ppos;
	uint64_t n_db = 0, n_pools = 0, used_cl = 0, login_cl = 0, free_sv = 0, used_sv = 0,
	         n_users = 0;
	struct numbuf nb = {.next = 0};
	struct result r;

	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			n_pools++;
			/* PgBouncer's free_* count cached, unused objects: Fairway keeps none. */
			used_sv += (uint64_t)p->n_servers;
		}
	}
	n_users = count_user_rows(fw);
	/* As SHOW DATABASES lists them: configured, auto-created, the console. */
	n_db = 1;
	for (size_t i = 0; i < fw->cfg->n_dbs; i++)
		if (strcmp(fw->cfg->dbs[i].name, "*") != 0)
			n_db++;
	list_for_each(dpos, &fw->databases) if (list_entry(dpos, struct database, link)->is_auto)
	    n_db++;
	list_for_each(dpos, &fw->clients)
	{
		struct client *c = list_entry(dpos, struct client, link);

		if (c->state == CL_STARTUP || c->state == CL_AUTH || c->state == CL_LOOKUP)
			login_cl++;
		else
			used_cl++;
	}
	const char *rows[][2] = {
	    {"databases", num(&nb, n_db)},
	    {"users", num(&nb, n_users)},
	    {"peers", num(&nb, 0)},
	    {"pools", num(&nb, n_pools)},
	    {"peer_pools", num(&nb, 0)},
	    {"free_clients", num(&nb, 0)},
	    {"used_clients", num(&nb, used_cl)},
	    {"login_clients", num(&nb, login_cl)},
	    {"free_servers", num(&nb, free_sv)},
	    {"used_servers", num(&nb, used_sv)},
	    {"dns_names", num(&nb, 0)},
	    {"dns_zones", num(&nb, 0)},
	    {"dns_queries", num(&nb, 0)},
	    {"dns_pending", num(&nb, 0)},
	};

	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		result_row(&r, rows[i]);
	return result_end(&r);
}

static bool show_state(struct fairway *fw, struct evbuffer *out)
{
	static const struct column cols[] = {{"key", T}, {"value", T}};
	char failed[32];
	const char *rows[][2] = {
	    {"active", fw->paused || fw->suspended ? "no" : "yes"},
	    {"paused", fw->paused ? "yes" : "no"},
	    {"suspended", fw->suspended ? "yes" : "no"},
	    {"failed_logins", failed},
	};
	struct result r;

	snprintf(failed, sizeof(failed), "%" PRIu64, fw->failed_logins);
	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		result_row(&r, rows[i]);
	return result_end(&r);
}

static bool show_version(struct evbuffer *out)
{
	static const struct column cols[] = {{"version", T}};
	const char *v[1] = {FAIRWAY_VERSION_STR};
	struct result r;

	result_begin(&r, out, cols, 1);
	result_row(&r, v);
	return result_end(&r);
}

struct config_rows {
	struct result *r;
};

static void config_row_cb(void *arg, const char *key, const char *value, const char *dflt,
                          const char *changeable)
{
	struct config_rows *cr = arg;
	const char *v[4] = {key, value, dflt, changeable};

	result_row(cr->r, v);
}

static bool show_config(struct fairway *fw, struct evbuffer *out)
{
	static const struct column cols[] = {
	    {"key", T}, {"value", T}, {"default", T}, {"changeable", T}};
	struct result r;
	struct config_rows cr = {&r};

	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	config_show(fw->cfg, config_row_cb, &cr);
	return result_end(&r);
}

static bool show_help(struct evbuffer *out)
{
	static const char detail[] =
	    "\n\tSHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION"
	    "\n\tSHOW PEERS|PEER_POOLS"
	    "\n\tSHOW FDS|SOCKETS|ACTIVE_SOCKETS|LISTS|MEM|STATE"
	    "\n\tSHOW DNS_HOSTS|DNS_ZONES"
	    "\n\tSHOW WAITS|FLOWS|HISTOGRAM [<db> [<user>]]"
	    "\n\tSHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS"
	    "\n\tSET key = arg"
	    "\n\tRELOAD"
	    "\n\tPAUSE [<db>]"
	    "\n\tRESUME [<db>]"
	    "\n\tDISABLE <db>"
	    "\n\tENABLE <db>"
	    "\n\tRECONNECT [<db>]"
	    "\n\tKILL [<db>]"
	    "\n\tKILL_CLIENT <id>"
	    "\n\tSUSPEND"
	    "\n\tSHUTDOWN"
	    "\n\tSHUTDOWN WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS"
	    "\n\tWAIT_CLOSE [<db>]";

	return proto_put_notice_detail(out, "Console usage", detail) &&
	       proto_put_command_complete(out, "SHOW");
}

/* --- SHOW MEM / FDS / SOCKETS / DNS_* / PEERS ------------------------------------ */

static bool show_mem(struct fairway *fw, struct evbuffer *out)
{
	static const struct column cols[] = {
	    {"name", T}, {"size", I}, {"used", I}, {"free", I}, {"memtotal", I}};
	struct list_head *dpos, *ppos;
	uint64_t n_db = 0, n_pool = 0, n_user = 0, n_client = 0, n_server = 0, n_flow = 0;
	struct numbuf nb = {.next = 0};
	struct result r;

	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			n_pool++;
			n_server += (uint64_t)p->n_servers;
			n_flow += p->waitq.n_flows;
		}
	}
	list_for_each(dpos, &fw->users) n_user++;
	list_for_each(dpos, &fw->clients) n_client++;
	const struct {
		const char *name;
		uint64_t size, used;
	} rows[] = {
	    {"user_cache", sizeof(struct pool_user), n_user},
	    {"db_cache", sizeof(struct database), n_db},
	    {"pool_cache", sizeof(struct pool), n_pool},
	    {"server_cache", sizeof(struct server), n_server},
	    {"client_cache", sizeof(struct client), n_client},
	    {"flow_cache", sizeof(struct sched_flow), n_flow},
	};
	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const char *v[5];

		nb.next = 0;
		v[0] = rows[i].name;
		v[1] = num(&nb, rows[i].size);
		v[2] = num(&nb, rows[i].used);
		v[3] = num(&nb, 0);
		v[4] = num(&nb, rows[i].size * rows[i].used);
		result_row(&r, v);
	}
	return result_end(&r);
}

/* SHOW FDS exists for online restart; secrets are never shown (NULL). */
static bool show_fds(struct fairway *fw, struct evbuffer *out)
{
	static const struct column cols[] = {
	    {"fd", I},
	    {"task", T},
	    {"user", T},
	    {"database", T},
	    {"addr", T},
	    {"port", I},
	    {"cancel", I},
	    {"link", I},
	    {"client_encoding", T},
	    {"std_strings", T},
	    {"datestyle", T},
	    {"timezone", T},
	    {"password", T},
	    {"scram_client_key", T},
	    {"scram_server_key", T},
	};
	struct list_head *pos;
	struct result r;

	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	list_for_each(pos, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		const char *v[ARRAY_SIZE(cols)] = {NULL};
		struct numbuf nb = {.next = 0};
		char addr[64];
		int port;

		if (c->io == NULL)
			continue;
		client_addr_str(c, addr, sizeof(addr), &port);
		v[0] = snum(&nb, io_fd(c->io));
		v[1] = "client";
		v[2] = c->user;
		v[3] = c->dbname;
		v[4] = addr;
		v[5] = snum(&nb, port);
		v[6] = num(&nb, ((uint64_t)c->cancel_pid << 32) | c->cancel_key);
		v[7] = num(&nb, c->server != NULL ? (uint64_t)io_fd(c->server->io) : 0);
		result_row(&r, v);
	}
	return result_end(&r);
}

static bool show_empty(struct evbuffer *out, const struct column *cols, size_t n)
{
	struct result r;

	result_begin(&r, out, cols, n);
	return result_end(&r);
}

static bool show_sockets(struct fairway *fw, struct evbuffer *out, bool active_only)
{
	static const char *const extra[] = {"recv_pos",    "pkt_pos",   "pkt_remain", "send_pos",
	                                    "send_remain", "pkt_avail", "send_avail"};
	struct column cols[ARRAY_SIZE(sockets_cols) + ARRAY_SIZE(extra)];
	struct list_head *pos;
	struct result r;

	memcpy(cols, sockets_cols, sizeof(sockets_cols));
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
		cols[ARRAY_SIZE(sockets_cols) + i].name = extra[i];
		cols[ARRAY_SIZE(sockets_cols) + i].type = I;
	}
	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	list_for_each(pos, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		const char *v[ARRAY_SIZE(cols)] = {NULL};
		struct numbuf nb = {.next = 0};
		char addr[64], ptr[32];
		size_t in, outq;
		int port;

		if (c->io == NULL)
			continue;
		in = evbuffer_get_length(io_input(c->io));
		outq = evbuffer_get_length(io_output(c->io));
		if (active_only && in == 0 && outq == 0 && c->state != CL_ACTIVE)
			continue;
		client_addr_str(c, addr, sizeof(addr), &port);
		snprintf(ptr, sizeof(ptr), "C-%" PRIu64, c->id);
		v[0] = "C";
		v[1] = c->user;
		v[2] = c->dbname;
		v[3] = replication_name(c->replication);
		v[4] = client_show_state(c);
		v[5] = addr;
		v[6] = snum(&nb, port);
		v[9] = timestr(&nb, c->connect_wall_us);
		v[11] = num(&nb, 0);
		v[12] = num(&nb, 0);
		v[13] = num(&nb, 0);
		v[14] = ptr;
		v[16] = num(&nb, 0);
		v[19] = num(&nb, 0);
		v[20] = num(&nb, c->id);
		v[21] = num(&nb, 0);
		v[22] = num(&nb, 0);
		v[23] = num(&nb, c->pkt_remain);
		v[24] = num(&nb, 0);
		v[25] = num(&nb, outq);
		v[26] = num(&nb, in);
		v[27] = num(&nb, outq);
		result_row(&r, v);
	}
	return result_end(&r);
}

/* --- Fairway's own: SHOW WAITS / FLOWS / HISTOGRAM ----------------------------- */

static const struct column waits_cols[] = {
    {"database", T},      {"user", T},         {"waits", I},           {"p50_us", I},
    {"p90_us", I},        {"p99_us", I},       {"p999_us", I},         {"max_us", I},
    {"total_waits", I},   {"total_p50_us", I}, {"total_p90_us", I},    {"total_p99_us", I},
    {"total_p999_us", I}, {"total_max_us", I}, {"saturation_pct", N},  {"total_saturation_pct", N},
    {"cl_waiting", I},    {"max_queue", I},    {"total_max_queue", I},
};

static void hist_values(struct numbuf *nb, const struct hist *h, const char **v)
{
	v[0] = num(nb, h->total);
	v[1] = num(nb, hist_quantile(h, 0.50));
	v[2] = num(nb, hist_quantile(h, 0.90));
	v[3] = num(nb, hist_quantile(h, 0.99));
	v[4] = num(nb, hist_quantile(h, 0.999));
	v[5] = num(nb, h->max_us);
}

static bool show_waits(struct fairway *fw, struct evbuffer *out)
{
	struct list_head *dpos, *ppos;
	struct numbuf nb;
	struct result r;

	result_begin(&r, out, waits_cols, ARRAY_SIZE(waits_cols));
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);
			const char *v[ARRAY_SIZE(waits_cols)];

			if (p->replication != HBA_REPL_NONE)
				continue;

			nb.next = 0;
			v[0] = db->name;
			v[1] = p->user;
			hist_values(&nb, &p->wait_period, v + 2);
			hist_values(&nb, &p->wait_total, v + 8);
			v[14] = pct(&nb, pool_saturation_pct(p, true));
			v[15] = pct(&nb, pool_saturation_pct(p, false));
			v[16] = num(&nb, sched_count(&p->waitq));
			v[17] = num(&nb, p->max_queue_period);
			v[18] = num(&nb, p->max_queue_total);
			result_row(&r, v);
		}
	}
	return result_end(&r);
}

static const struct column flows_cols[] = {
    {"database", T},
    {"user", T},
    {"flow", T},
    {"weight", I},
    {"cl_waiting", I},
    {"cl_active", I},
    {"served", I},
    {"server_time_share_pct", N},
    {"p99_wait_us", I},
    {"refused", I},
    {"timed_out", I},
    {"kept", I},
    {"kept_expired", I},
    {"gap_us", I},
    {"period_p99_wait_us", I},
};

static bool show_flows(struct fairway *fw, struct evbuffer *out)
{
	struct list_head *dpos, *ppos, *fpos;
	struct numbuf nb;
	struct result r;

	result_begin(&r, out, flows_cols, ARRAY_SIZE(flows_cols));
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			list_for_each(fpos, &p->waitq.flows)
			{
				struct sched_flow *f = list_entry(fpos, struct sched_flow, link);
				const char *v[ARRAY_SIZE(flows_cols)];
				uint64_t total = p->waitq.total_server_time_us;

				nb.next = 0;
				v[0] = db->name;
				v[1] = p->user;
				v[2] = f->key;
				v[3] = num(&nb, f->weight);
				v[4] = num(&nb, f->n_waiting);
				v[5] = num(&nb, f->n_active);
				v[6] = num(&nb, f->served);
				v[7] = pct(&nb,
				           total ? 100.0 * (double)f->server_time_us / (double)total
				                 : 0.0);
				v[8] = num(&nb, hist_quantile(&f->wait_hist, 0.99));
				v[9] = num(&nb, f->refused);
				v[10] = num(&nb, f->timed_out);
				v[11] = num(&nb, f->anticipated);
				v[12] = num(&nb, f->antic_expired);
				v[13] = f->ewma_gap_us == SCHED_GAP_UNKNOWN
				            ? NULL
				            : num(&nb, f->ewma_gap_us);
				v[14] = num(&nb, hist_quantile(&f->wait_period, 0.99));
				result_row(&r, v);
			}
		}
	}
	return result_end(&r);
}

/* SHOW HISTOGRAM [db [user]]: the since-start wait histogram of the matching
 * pools, merged; one row per non-empty bucket with a bar readable in psql. */
static bool show_histogram(struct fairway *fw, const char *dbname, const char *user,
                           struct evbuffer *out)
{
	static const struct column cols[] = {
	    {"le_us", I}, {"count", I}, {"share_pct", N}, {"cumulative_pct", N}, {"bar", T}};
	struct list_head *dpos, *ppos;
	struct hist *h = calloc(1, sizeof(*h));
	uint64_t top = 0, cum = 0;
	struct result r;

	if (h == NULL)
		return false;
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		if (dbname != NULL && strcmp(db->name, dbname) != 0)
			continue;
		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			if (user == NULL || strcmp(p->user, user) == 0)
				hist_merge(h, &p->wait_total);
		}
	}
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (h->counts[i] > top)
			top = h->counts[i];
	result_begin(&r, out, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		char bar[41];
		const char *v[5];
		struct numbuf nb = {.next = 0};
		size_t len;

		if (h->counts[i] == 0)
			continue;
		cum += h->counts[i];
		len = (size_t)((h->counts[i] * 40 + top - 1) / top);
		memset(bar, '#', len);
		bar[len] = '\0';
		v[0] = num(&nb, hist_bucket_upper(i));
		v[1] = num(&nb, h->counts[i]);
		v[2] = pct(&nb, 100.0 * (double)h->counts[i] / (double)h->total);
		v[3] = pct(&nb, 100.0 * (double)cum / (double)h->total);
		v[4] = bar;
		result_row(&r, v);
	}
	free(h);
	return result_end(&r);
}

bool show_command(struct client *c, const char *what, struct evbuffer *out, bool *oom)
{
	struct fairway *fw = c->fw;
	bool ok;

	*oom = false;
	if (strcasecmp(what, "pools") == 0)
		ok = show_pools(fw, out);
	else if (strcasecmp(what, "clients") == 0)
		ok = show_clients(fw, out);
	else if (strcasecmp(what, "servers") == 0)
		ok = show_servers(fw, out);
	else if (strcasecmp(what, "stats") == 0)
		ok = show_stats(fw, out, STATS_BOTH);
	else if (strcasecmp(what, "stats_totals") == 0)
		ok = show_stats(fw, out, STATS_TOTALS);
	else if (strcasecmp(what, "stats_averages") == 0)
		ok = show_stats(fw, out, STATS_AVERAGES);
	else if (strcasecmp(what, "totals") == 0)
		ok = show_totals(fw, out);
	else if (strcasecmp(what, "databases") == 0)
		ok = show_databases(fw, out);
	else if (strcasecmp(what, "users") == 0)
		ok = show_users(fw, out);
	else if (strcasecmp(what, "lists") == 0)
		ok = show_lists(fw, out);
	else if (strcasecmp(what, "state") == 0)
		ok = show_state(fw, out);
	else if (strcasecmp(what, "version") == 0)
		ok = show_version(out);
	else if (strcasecmp(what, "config") == 0)
		ok = show_config(fw, out);
	else if (strcasecmp(what, "help") == 0)
		ok = show_help(out);
	else if (strcasecmp(what, "mem") == 0)
		ok = show_mem(fw, out);
	else if (strcasecmp(what, "fds") == 0)
		ok = show_fds(fw, out);
	else if (strcasecmp(what, "sockets") == 0)
		ok = show_sockets(fw, out, false);
	else if (strcasecmp(what, "active_sockets") == 0)
		ok = show_sockets(fw, out, true);
	else if (strcasecmp(what, "dns_hosts") == 0) {
		static const struct column c3[] = {{"hostname", T}, {"ttl", I}, {"addrs", T}};
		ok = show_empty(out, c3, ARRAY_SIZE(c3));
	} else if (strcasecmp(what, "dns_zones") == 0) {
		static const struct column c3[] = {{"zonename", T}, {"serial", I}, {"count", I}};
		ok = show_empty(out, c3, ARRAY_SIZE(c3));
	} else if (strcasecmp(what, "peers") == 0) {
		static const struct column c4[] = {
		    {"peer_id", I}, {"host", T}, {"port", I}, {"pool_size", I}};
		ok = show_empty(out, c4, ARRAY_SIZE(c4));
	} else if (strcasecmp(what, "peer_pools") == 0) {
		static const struct column c5[] = {{"peer_id", I},
		                                   {"cl_active_cancel_req", I},
		                                   {"cl_waiting_cancel_req", I},
		                                   {"sv_active_cancel", I},
		                                   {"sv_login", I}};
		ok = show_empty(out, c5, ARRAY_SIZE(c5));
	} else if (strcasecmp(what, "waits") == 0)
		ok = show_waits(fw, out);
	else if (strcasecmp(what, "flows") == 0)
		ok = show_flows(fw, out);
	else
		return false;
	*oom = !ok;
	return true;
}

bool show_histogram_cmd(struct client *c, const char *db, const char *user, struct evbuffer *out)
{
	return show_histogram(c->fw, db, user, out);
}
