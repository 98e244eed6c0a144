/* Prometheus endpoint on libevent's evhttp.  Histogram buckets are the
 * powers of two in microseconds (edges of the log-linear buckets, so the
 * cumulative counts are exact), exposed in seconds as Prometheus expects.
 * Flows are labelled too, at most METRICS_MAX_FLOWS per pool. */
#include "metrics.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fairway.h"
#include "hba.h"
#include "histogram.h"
#include "log.h"
#include "pool.h"
#include "sched.h"
#include "util.h"

#define METRICS_MAX_FLOWS 32

/* Label values escaped as the exposition format wants (\\, \", \n). */
static void esc(char *dst, size_t n, const char *src)
{
	size_t j = 0;

	for (; src != NULL && *src && j + 3 < n; src++) {
		if (*src == '\\' || *src == '"') {
			dst[j++] = '\\';
			dst[j++] = *src;
		} else if (*src == '\n') {
			dst[j++] = '\\';
			dst[j++] = 'n';
		} else {
			dst[j++] = *src;
		}
	}
	dst[j] = '\0';
}

static bool put_hist(struct evbuffer *out, const char *name, const char *labels,
                     const struct hist *h)
{
	uint64_t cum = 0;
	size_t i = 0;
	bool ok = true;

	for (int k = 0; k < HIST_OCTAVES && ok; k++) {
		uint64_t edge = (uint64_t)1 << k; /* us */

		while (i < HIST_BUCKETS && hist_bucket_upper(i) <= edge)
			cum += h->counts[i++];
		ok = evbuffer_add_printf(out, "%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n", name, labels,
		                         (double)edge / 1e6, cum) >= 0;
	}
	ok = ok &&
	     evbuffer_add_printf(out, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels,
	                         h->total) >= 0 &&
	     evbuffer_add_printf(out, "%s_sum{%s} %.6f\n", name, labels, (double)h->sum_us / 1e6) >=
	         0 &&
	     evbuffer_add_printf(out, "%s_count{%s} %" PRIu64 "\n", name, labels, h->total) >= 0;
	return ok;
}

static const char *const headers =
    "# HELP fairway_pool_clients Client connections of a pool by state.\n"
    "# TYPE fairway_pool_clients gauge\n"
    "# HELP fairway_pool_servers Server connections of a pool by state.\n"
    "# TYPE fairway_pool_servers gauge\n"
    "# HELP fairway_pool_maxwait_seconds Age of the oldest waiting client.\n"
    "# TYPE fairway_pool_maxwait_seconds gauge\n"
    "# HELP fairway_pool_saturation_ratio Share of time since start every server was busy.\n"
    "# TYPE fairway_pool_saturation_ratio gauge\n"
    "# HELP fairway_pool_max_queue Most clients waiting at once since start.\n"
    "# TYPE fairway_pool_max_queue gauge\n"
    "# HELP fairway_pool_wait_seconds Time from needing a server to getting one.\n"
    "# TYPE fairway_pool_wait_seconds histogram\n"
    "# HELP fairway_flow_wait_seconds Wait time per fairness flow.\n"
    "# TYPE fairway_flow_wait_seconds histogram\n"
    "# HELP fairway_flow_served_total Servers handed to a flow.\n"
    "# TYPE fairway_flow_served_total counter\n"
    "# HELP fairway_flow_server_seconds_total Server time a flow held.\n"
    "# TYPE fairway_flow_server_seconds_total counter\n"
    "# HELP fairway_flow_refused_total Requests refused by admission control.\n"
    "# TYPE fairway_flow_refused_total counter\n"
    "# HELP fairway_flow_timed_out_total Waits that ended in query_wait_timeout.\n"
    "# TYPE fairway_flow_timed_out_total counter\n"
    "# HELP fairway_flow_kept_total Freed servers kept for a flow that took them "
    "(fair_anticipation).\n"
    "# TYPE fairway_flow_kept_total counter\n"
    "# HELP fairway_flow_kept_expired_total Freed servers kept for a flow in vain.\n"
    "# TYPE fairway_flow_kept_expired_total counter\n"
    "# HELP fairway_database_transactions_total Transactions (SHOW STATS total_xact_count).\n"
    "# TYPE fairway_database_transactions_total counter\n"
    "# HELP fairway_database_queries_total Queries (SHOW STATS total_query_count).\n"
    "# TYPE fairway_database_queries_total counter\n"
    "# HELP fairway_database_received_bytes_total Bytes from clients.\n"
    "# TYPE fairway_database_received_bytes_total counter\n"
    "# HELP fairway_database_sent_bytes_total Bytes to clients.\n"
    "# TYPE fairway_database_sent_bytes_total counter\n"
    "# HELP fairway_database_wait_seconds_total Total client wait time.\n"
    "# TYPE fairway_database_wait_seconds_total counter\n"
    "# HELP fairway_client_connections Client connections of the whole daemon.\n"
    "# TYPE fairway_client_connections gauge\n"
    "# HELP fairway_failed_logins_total Logins refused (wrong password, no hba entry...).\n"
    "# TYPE fairway_failed_logins_total counter\n";

static bool render_pool(struct evbuffer *out, struct pool *p)
{
	char db[256], user[256], labels[600], flabels[900], fkey[256];
	struct list_head *fpos;
	int n_flows = 0;
	bool ok;

	if (p->replication != HBA_REPL_NONE)
		return true; /* series are per (database, user): the normal pool's */
	esc(db, sizeof(db), p->db->name);
	esc(user, sizeof(user), p->user);
	snprintf(labels, sizeof(labels), "database=\"%s\",user=\"%s\"", db, user);
	ok = evbuffer_add_printf(
	         out,
	         "fairway_pool_clients{%s,state=\"active\"} %d\n"
	         "fairway_pool_clients{%s,state=\"idle\"} %d\n"
	         "fairway_pool_clients{%s,state=\"waiting\"} %d\n"
	         "fairway_pool_servers{%s,state=\"active\"} %d\n"
	         "fairway_pool_servers{%s,state=\"idle\"} %d\n"
	         "fairway_pool_servers{%s,state=\"login\"} %d\n"
	         "fairway_pool_servers{%s,state=\"tested\"} %d\n"
	         "fairway_pool_maxwait_seconds{%s} %.6f\n"
	         "fairway_pool_saturation_ratio{%s} %.4f\n"
	         "fairway_pool_max_queue{%s} %zu\n",
	         labels, p->cl_count[CL_ACTIVE], labels, p->cl_count[CL_IDLE], labels,
	         p->cl_count[CL_WAITING] + p->cl_count[CL_LOGIN] + p->cl_count[CL_LOOKUP], labels,
	         p->sv_count[SV_ACTIVE], labels, p->sv_count[SV_IDLE], labels,
	         p->sv_count[SV_CONNECTING] + p->sv_count[SV_LOGIN], labels,
	         p->sv_count[SV_RESETTING], labels, (double)pool_maxwait_us(p) / 1e6, labels,
	         pool_saturation_pct(p, false) / 100.0, labels, p->max_queue_total) >= 0;
	ok = ok && put_hist(out, "fairway_pool_wait_seconds", labels, &p->wait_total);
	list_for_each(fpos, &p->waitq.flows)
	{
		const struct sched_flow *f = list_entry(fpos, struct sched_flow, link);

		if (!ok || n_flows++ >= METRICS_MAX_FLOWS)
			break;
		esc(fkey, sizeof(fkey), f->key);
		snprintf(flabels, sizeof(flabels), "%s,flow=\"%s\"", labels, fkey);
		ok = evbuffer_add_printf(out,
		                         "fairway_flow_served_total{%s} %" PRIu64 "\n"
		                         "fairway_flow_server_seconds_total{%s} %.6f\n"
		                         "fairway_flow_refused_total{%s} %" PRIu64 "\n"
		                         "fairway_flow_timed_out_total{%s} %" PRIu64 "\n"
		                         "fairway_flow_kept_total{%s} %" PRIu64 "\n"
		                         "fairway_flow_kept_expired_total{%s} %" PRIu64 "\n",
		                         flabels, f->served, flabels,
		                         (double)f->server_time_us / 1e6, flabels, f->refused,
		                         flabels, f->timed_out, flabels, f->anticipated, flabels,
		                         f->antic_expired) >= 0 &&
		     put_hist(out, "fairway_flow_wait_seconds", flabels, &f->wait_hist);
	}
	return ok;
}

bool metrics_render(struct fairway *fw, struct evbuffer *out)
{
	struct list_head *dpos, *ppos;
	bool ok = evbuffer_add(out, headers, strlen(headers)) == 0;

	ok = ok && evbuffer_add_printf(out, "fairway_client_connections %d\n", fw->n_clients) >= 0;
	ok = ok && evbuffer_add_printf(out, "fairway_failed_logins_total %" PRIu64 "\n",
	                               fw->failed_logins) >= 0;
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);
		char name[256];

		esc(name, sizeof(name), db->name);
		ok =
		    ok && evbuffer_add_printf(
		              out,
		              "fairway_database_transactions_total{database=\"%s\"} %" PRIu64 "\n"
		              "fairway_database_queries_total{database=\"%s\"} %" PRIu64 "\n"
		              "fairway_database_received_bytes_total{database=\"%s\"} %" PRIu64 "\n"
		              "fairway_database_sent_bytes_total{database=\"%s\"} %" PRIu64 "\n"
		              "fairway_database_wait_seconds_total{database=\"%s\"} %.6f\n",
		              name, db->stats.xact_count, name, db->stats.query_count, name,
		              db->stats.bytes_received, name, db->stats.bytes_sent, name,
		              (double)db->stats.wait_time_us / 1e6) >= 0;
		list_for_each(ppos, &db->pools) ok =
		    ok && render_pool(out, list_entry(ppos, struct pool, link));
	}
	return ok;
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct fairway *fw = arg;
	struct evbuffer *buf = evbuffer_new();

	fw_update_now(fw);
	if (buf == NULL || !metrics_render(fw, buf)) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		if (buf != NULL)
			evbuffer_free(buf);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", buf);
	evbuffer_free(buf);
}

static void other_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is served here");
}

bool metrics_start(struct fairway *fw)
{
	const char *spec = fw->cfg->metrics_listen;
	char host[256];
	const char *colon;
	long port;

	if (spec == NULL || spec[0] == '\0')
		return true;
	colon = strrchr(spec, ':');
	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host)) {
		log_error("metrics_listen must be host:port, got %s", spec);
		return false;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535) {
		log_error("metrics_listen: bad port in %s", spec);
		return false;
	}
	fw->metrics = evhttp_new(fw->base);
	if (fw->metrics == NULL)
		return false;
	evhttp_set_allowed_methods(fw->metrics, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_cb(fw->metrics, "/metrics", metrics_cb, fw);
	evhttp_set_gencb(fw->metrics, other_cb, fw);
	if (evhttp_bind_socket(fw->metrics, host[0] && strcmp(host, "*") ? host : "0.0.0.0",
	                       (uint16_t)port) != 0) {
		log_error("metrics_listen: cannot listen on %s", spec);
		return false;
	}
	log_info("serving Prometheus metrics on http://%s/metrics", spec);
	return true;
}

void metrics_stop(struct fairway *fw)
{
	if (fw->metrics != NULL)
		evhttp_free(fw->metrics);
	fw->metrics = NULL;
}
