/* Fair scheduling, admission control and wait statistics, seen from outside:
 * the order in which waiting clients were served is read back from a table
 * (counts, never latencies), refusals from SQLSTATEs, statistics from SHOW. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define N_NOISY 10

static const char *const fair_main =
    "pool_mode = transaction\ndefault_pool_size = 1\nquery_wait_timeout = 60\n";

static void order_table_reset(void)
{
	PGconn *pg = pg_connect(FW_TESTDB);

	PQclear(exec_ok(pg, "CREATE TABLE IF NOT EXISTS fw_order(seq serial, who text)"));
	PQclear(exec_ok(pg, "TRUNCATE fw_order"));
	PQfinish(pg);
}

/* Position (1-based) at which the quiet client's insert ran. */
static long long quiet_position(void)
{
	return pg_query_ll("SELECT rn FROM (SELECT who, row_number() OVER (ORDER BY seq) AS rn "
	                   "FROM fw_order) t WHERE who = 'quiet'");
}

/* One blocker holds the only server; N_NOISY clients of one application,
 * then one of another, queue behind it; the blocker commits. */
static long long run_scenario(struct fw *fw)
{
	PGconn *blocker, *noisy[N_NOISY], *quiet;

	order_table_reset();
	blocker = fw_connect_ok(fw, FW_AS_SUPER " application_name=blocker");
	PQclear(exec_ok(blocker, "BEGIN"));
	PQclear(exec_ok(blocker, "SELECT 1"));
	for (int i = 0; i < N_NOISY; i++) {
		noisy[i] = fw_connect_ok(fw, FW_AS_SUPER " application_name=noisy");
		ck_assert(PQsendQuery(noisy[i], "INSERT INTO fw_order(who) VALUES ('noisy')"));
		ck_assert_msg(wait_pool_stat(fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", i + 1),
		              "noisy client %d never waited", i);
	}
	quiet = fw_connect_ok(fw, FW_AS_SUPER " application_name=quiet");
	ck_assert(PQsendQuery(quiet, "INSERT INTO fw_order(who) VALUES ('quiet')"));
	ck_assert(wait_pool_stat(fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", N_NOISY + 1));
	PQclear(exec_ok(blocker, "COMMIT"));
	for (int i = 0; i < N_NOISY; i++) {
		PQclear(get_result_ok(noisy[i]));
		PQfinish(noisy[i]);
	}
	PQclear(get_result_ok(quiet));
	PQfinish(quiet);
	PQfinish(blocker);
	return quiet_position();
}

START_TEST(quiet_flow_is_served_before_the_noisy_backlog)
{
	struct fw fw;
	long long pos;

	fw_start(&fw, fair_main, NULL, NULL, NULL);
	pos = run_scenario(&fw);
	ck_assert_msg(pos <= 2, "quiet client served at position %lld of %d", pos, N_NOISY + 1);
	fw_stop(&fw);
}
END_TEST

START_TEST(fair_key_none_serves_waiters_in_arrival_order)
{
	struct fw fw;
	long long pos;

	fw_start(&fw, "pool_mode = transaction\ndefault_pool_size = 1\nfair_key = none\n", NULL,
	         NULL, NULL);
	pos = run_scenario(&fw);
	ck_assert_msg(pos == N_NOISY + 1, "FIFO served the quiet client at %lld, expected %d", pos,
	              N_NOISY + 1);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_flows_counts_what_each_flow_was_served)
{
	struct fw fw;
	PGresult *res;
	int noisy, quiet;

	fw_start(&fw, fair_main, NULL, NULL, NULL);
	run_scenario(&fw);
	res = console_show(&fw, "SHOW FLOWS");
	noisy = res_find_row(res, "flow", "noisy", NULL, NULL);
	quiet = res_find_row(res, "flow", "quiet", NULL, NULL);
	ck_assert_msg(noisy >= 0 && quiet >= 0, "SHOW FLOWS lacks the noisy or quiet flow");
	ck_assert_int_eq(res_ll(res, noisy, "served"), N_NOISY);
	ck_assert_int_eq(res_ll(res, quiet, "served"), 1);
	/* One stats_period so far: the period p99 is the since-start one. */
	ck_assert_int_gt(res_ll(res, noisy, "p99_wait_us"), 0);
	ck_assert_int_eq(res_ll(res, noisy, "period_p99_wait_us"),
	                 res_ll(res, noisy, "p99_wait_us"));
	ck_assert_int_eq(res_ll(res, noisy, "cl_waiting"), 0);
	ck_assert_int_eq(res_ll(res, noisy, "refused"), 0);
	ck_assert_str_eq(res_str(res, noisy, "database"), FW_TESTDB);
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(max_waiting_per_flow_refuses_with_53300_and_the_client_stays)
{
	struct fw fw;
	PGconn *blocker, *w[2], *extra, *other;
	PGresult *res;
	int row;

	fw_start(&fw, "pool_mode = transaction\ndefault_pool_size = 1\nmax_waiting_per_flow = 2\n",
	         NULL, NULL, NULL);
	blocker = fw_connect_ok(&fw, FW_AS_SUPER " application_name=blocker");
	PQclear(exec_ok(blocker, "BEGIN"));
	PQclear(exec_ok(blocker, "SELECT 1"));
	for (int i = 0; i < 2; i++) {
		w[i] = fw_connect_ok(&fw, FW_AS_SUPER " application_name=noisy");
		ck_assert(PQsendQuery(w[i], "SELECT 1"));
		ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", i + 1));
	}
	extra = fw_connect_ok(&fw, FW_AS_SUPER " application_name=noisy");
	expect_query_error(extra, "SELECT 1", "53300", "max_waiting_per_flow");
	/* Another flow is not affected by the noisy flow's cap. */
	other = fw_connect_ok(&fw, FW_AS_SUPER " application_name=quiet");
	ck_assert(PQsendQuery(other, "SELECT 1"));
	ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 3));
	PQclear(exec_ok(blocker, "COMMIT"));
	for (int i = 0; i < 2; i++) {
		PQclear(get_result_ok(w[i]));
		PQfinish(w[i]);
	}
	PQclear(get_result_ok(other));
	PQfinish(other);
	/* The refused client kept its session and can retry. */
	ck_assert_int_eq(query_ll(extra, "SELECT 42"), 42);
	res = console_show(&fw, "SHOW FLOWS");
	row = res_find_row(res, "flow", "noisy", NULL, NULL);
	ck_assert(row >= 0);
	ck_assert_int_eq(res_ll(res, row, "refused"), 1);
	PQclear(res);
	PQfinish(extra);
	PQfinish(blocker);
	fw_stop(&fw);
}
END_TEST

START_TEST(max_waiting_clients_refuses_extended_protocol_requests_too)
{
	struct fw fw;
	PGconn *blocker, *w, *extra;
	PGresult *res;
	const char *params[1] = {"7"};

	fw_start(&fw, "pool_mode = transaction\ndefault_pool_size = 1\nmax_waiting_clients = 1\n",
	         NULL, NULL, NULL);
	blocker = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(blocker, "BEGIN"));
	PQclear(exec_ok(blocker, "SELECT 1"));
	w = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert(PQsendQuery(w, "SELECT 1"));
	ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1));
	extra = fw_connect_ok(&fw, FW_AS_SUPER);
	res = PQexecParams(extra, "SELECT $1::int", 1, NULL, params, NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "53300");
	PQclear(res);
	PQclear(exec_ok(blocker, "COMMIT"));
	PQclear(get_result_ok(w));
	res = PQexecParams(extra, "SELECT $1::int", 1, NULL, params, NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "7");
	PQclear(res);
	PQfinish(w);
	PQfinish(extra);
	PQfinish(blocker);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_waits_and_histogram_count_every_assignment)
{
	static const char *const waits_cols[] = {
	    "database", "user", "waits", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", NULL};
	struct fw fw;
	PGresult *res;
	long long waits, sum = 0;
	int row;

	fw_start(&fw, fair_main, NULL, NULL, NULL);
	run_scenario(&fw);
	res = console_show(&fw, "SHOW WAITS");
	assert_columns_start_with(res, "SHOW WAITS", waits_cols);
	row = res_find_row(res, "database", FW_TESTDB, "user", FW_SUPERUSER);
	ck_assert(row >= 0);
	waits = res_ll(res, row, "total_waits");
	/* blocker's BEGIN, SELECT, COMMIT are one transaction: one assignment;
	 * then every noisy and the quiet insert. */
	ck_assert_int_eq(waits, N_NOISY + 2);
	ck_assert(res_ll(res, row, "total_max_us") >= res_ll(res, row, "total_p99_us"));
	ck_assert(res_ll(res, row, "total_max_queue") == N_NOISY + 1);
	PQclear(res);
	res = console_show(&fw, "SHOW HISTOGRAM " FW_TESTDB " " FW_SUPERUSER);
	for (int i = 0; i < PQntuples(res); i++) {
		ck_assert(strchr(res_str(res, i, "bar"), '#') != NULL);
		sum += res_ll(res, i, "count");
	}
	ck_assert_int_eq(sum, waits);
	PQclear(res);
	res = console_show(&fw, "SHOW POOLS");
	row = res_find_row(res, "database", FW_TESTDB, "user", FW_SUPERUSER);
	ck_assert(row >= 0);
	ck_assert(res_ll(res, row, "p99_wait_us") > 0);
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(max_db_connections_gives_a_freed_slot_to_the_least_served_user)
{
	struct fw fw;
	PGconn *blocker, *supers[3], *other, *pg;

	fw_start(&fw, "pool_mode = transaction\nmax_db_connections = 1\n", NULL, NULL, NULL);
	order_table_reset();
	pg = pg_connect(FW_TESTDB);
	PQclear(exec_ok(pg, "GRANT ALL ON fw_order TO " FW_TRUSTUSER));
	PQclear(exec_ok(pg, "GRANT USAGE ON SEQUENCE fw_order_seq_seq TO " FW_TRUSTUSER));
	PQfinish(pg);
	/* Both pools log in first (a pool's first login needs a server); the
	 * blocker then takes the database's only slot, evicting the idle one. */
	other =
	    fw_connect_ok(&fw, "dbname=" FW_TESTDB " user=" FW_TRUSTUSER " password=" FW_TRUST_PW);
	ck_assert_int_eq(query_ll(other, "SELECT 1"), 1);
	blocker = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(blocker, "BEGIN"));
	PQclear(exec_ok(blocker, "SELECT 1"));
	for (int i = 0; i < 3; i++) {
		supers[i] = fw_connect_ok(&fw, FW_AS_SUPER);
		ck_assert(PQsendQuery(supers[i], "INSERT INTO fw_order(who) VALUES ('super')"));
		ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", i + 1));
	}
	ck_assert(PQsendQuery(other, "INSERT INTO fw_order(who) VALUES ('quiet')"));
	ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_TRUSTUSER, "cl_waiting", 1));
	PQclear(exec_ok(blocker, "COMMIT"));
	for (int i = 0; i < 3; i++) {
		PQclear(get_result_ok(supers[i]));
		PQfinish(supers[i]);
	}
	PQclear(get_result_ok(other));
	PQfinish(other);
	PQfinish(blocker);
	ck_assert_int_eq(quiet_position(), 1);
	fw_stop(&fw);
}
END_TEST

/* One slot for the user across two databases: the database whose client
 * has had no server yet goes before the other's backlog.  The single slot
 * serializes the transactions, so their commit timestamps give the order. */
START_TEST(max_user_connections_gives_a_freed_slot_to_the_least_served_database)
{
	struct fw fw;
	PGconn *blocker, *busy[3], *other, *pg;
	char at[64], sql[256];
	long long before;

	fw_start(&fw, "pool_mode = transaction\nmax_user_connections = 1\n",
	         "testdb = @PG@ dbname=testdb\npostgres = @PG@ dbname=postgres\n", NULL, NULL);
	order_table_reset();
	pg = pg_connect("postgres");
	PQclear(exec_ok(pg, "CREATE TABLE IF NOT EXISTS fw_order2(at timestamptz)"));
	PQclear(exec_ok(pg, "TRUNCATE fw_order2"));
	PQfinish(pg);
	other = fw_connect_ok(&fw, "dbname=postgres " FW_AS_SUPER_CREDENTIALS);
	ck_assert_int_eq(query_ll(other, "SELECT 1"), 1);
	blocker = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(blocker, "BEGIN"));
	PQclear(exec_ok(blocker, "SELECT 1"));
	for (int i = 0; i < 3; i++) {
		busy[i] = fw_connect_ok(&fw, FW_AS_SUPER);
		ck_assert(PQsendQuery(busy[i], "INSERT INTO fw_order(who) "
		                               "VALUES (clock_timestamp()::text)"));
		ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", i + 1));
	}
	ck_assert(PQsendQuery(other, "INSERT INTO fw_order2 VALUES (clock_timestamp())"));
	ck_assert(wait_pool_stat(&fw, "postgres", FW_SUPERUSER, "cl_waiting", 1));
	PQclear(exec_ok(blocker, "COMMIT"));
	for (int i = 0; i < 3; i++) {
		PQclear(get_result_ok(busy[i]));
		PQfinish(busy[i]);
	}
	PQclear(get_result_ok(other));
	pg = pg_connect("postgres");
	query_str(pg, "SELECT at::text FROM fw_order2", at, sizeof(at));
	PQfinish(pg);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM fw_order WHERE who::timestamptz < '%s'::timestamptz", at);
	before = pg_query_ll(sql);
	ck_assert_msg(before == 0, "%lld of the first database's backlog went first", before);
	PQfinish(other);
	PQfinish(blocker);
	fw_stop(&fw);
}
END_TEST

/* GET /metrics over a plain socket; the body (and headers) into buf. */
static size_t http_get_metrics(int port, char *buf, size_t size)
{
	struct sockaddr_in sin;
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	              "cannot connect to metrics_listen");
	ck_assert(send(fd, req, sizeof(req) - 1, 0) == (ssize_t)(sizeof(req) - 1));
	for (;;) {
		ssize_t n = recv(fd, buf + got, size - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == size - 1)
			break;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

/* A small Prometheus text-format parser: every line is a comment (# HELP /
 * # TYPE) or `name{label="value",...} number`.  Returns the number of
 * samples, or -1 (with the bad line in bad) if a line does not parse. */
static long prom_parse(const char *body, char *bad, size_t bad_len)
{
	const char *p = strstr(body, "\r\n\r\n");
	long samples = 0;

	p = p != NULL ? p + 4 : body;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n'), *q = p;
		char *end;

		if (eol == NULL)
			eol = p + strlen(p);
		if (*q == '#') {
			if (strncmp(q, "# HELP ", 7) != 0 && strncmp(q, "# TYPE ", 7) != 0)
				goto fail;
		} else {
			if (!(isalpha((unsigned char)*q) || *q == '_' || *q == ':'))
				goto fail;
			while (isalnum((unsigned char)*q) || *q == '_' || *q == ':')
				q++;
			if (*q == '{') {
				q++;
				while (*q != '}') {
					if (!(isalpha((unsigned char)*q) || *q == '_'))
						goto fail;
					while (isalnum((unsigned char)*q) || *q == '_')
						q++;
					if (q[0] != '=' || q[1] != '"')
						goto fail;
					q += 2;
					while (*q != '"' && q < eol)
						q += *q == '\\' ? 2 : 1;
					if (*q != '"')
						goto fail;
					q++;
					if (*q == ',')
						q++;
					else if (*q != '}')
						goto fail;
				}
				q++;
			}
			if (*q != ' ')
				goto fail;
			q++;
			if (strncmp(q, "+Inf", 4) == 0)
				end = (char *)q + 4;
			else
				strtod(q, &end);
			if (end == q || end != eol)
				goto fail;
			samples++;
		}
		p = *eol ? eol + 1 : eol;
		continue;
	fail:
		snprintf(bad, bad_len, "%.*s", (int)(eol - p), p);
		return -1;
	}
	return samples;
}

START_TEST(metrics_endpoint_serves_the_wait_histogram_seen_in_show_waits)
{
	struct fw fw;
	char extra[256], want[256];
	char *body = malloc(1 << 20);
	PGresult *res;
	long long waits;
	int port = free_port(), row;

	ck_assert(body != NULL);
	snprintf(extra, sizeof(extra), "%smetrics_listen = 127.0.0.1:%d\n", fair_main, port);
	fw_start(&fw, extra, NULL, NULL, NULL);
	run_scenario(&fw);
	res = console_show(&fw, "SHOW WAITS");
	row = res_find_row(res, "database", FW_TESTDB, "user", FW_SUPERUSER);
	ck_assert(row >= 0);
	waits = res_ll(res, row, "total_waits");
	PQclear(res);
	http_get_metrics(port, body, 1 << 20);
	ck_assert_msg(strstr(body, "200 OK") != NULL, "no 200 from /metrics: %.200s", body);
	{
		char bad[512];
		long n = prom_parse(body, bad, sizeof(bad));

		ck_assert_msg(n > 0, "/metrics line does not parse as Prometheus text: %s", bad);
	}
	snprintf(want, sizeof(want),
	         "fairway_pool_wait_seconds_count{database=\"%s\",user=\"%s\"} %lld\n", FW_TESTDB,
	         FW_SUPERUSER, waits);
	ck_assert_msg(strstr(body, want) != NULL, "missing \"%s\" in /metrics", want);
	snprintf(want, sizeof(want),
	         "fairway_pool_wait_seconds_bucket{database=\"%s\",user=\"%s\",le=\"+Inf\"} %lld\n",
	         FW_TESTDB, FW_SUPERUSER, waits);
	ck_assert_msg(strstr(body, want) != NULL, "missing \"%s\" in /metrics", want);
	ck_assert(strstr(body, "fairway_flow_served_total{database=\"testdb\",user=\"fwsuper\","
	                       "flow=\"noisy\"} 10\n") != NULL);
	ck_assert(strstr(body, "# TYPE fairway_pool_wait_seconds histogram") != NULL);
	free(body);
	fw_stop(&fw);
}
END_TEST

/* The quiet client (application quiet) runs short transactions one after
 * another while a noisy client waits for the only server: each time quiet
 * gives the server back it may be kept for quiet's next request
 * (fair_anticipation).  Returns SHOW FLOWS' kept and kept_expired of quiet. */
static void run_keeping(struct fw *fw, long long *kept, long long *expired, long long *gap)
{
	PGconn *noisy, *waiter, *quiet;
	PGresult *res;
	int row;

	noisy = fw_connect_ok(fw, FW_AS_SUPER " application_name=noisy");
	waiter = fw_connect_ok(fw, FW_AS_SUPER " application_name=noisy");
	quiet = fw_connect_ok(fw, FW_AS_SUPER " application_name=quiet");
	/* The noisy flow has had 200 ms of server time: quiet is owed more. */
	PQclear(exec_ok(noisy, "SELECT pg_sleep(0.2)"));
	for (int i = 0; i < 3; i++) /* quiet's pace: how soon it asks again */
		ck_assert_int_eq(query_ll(quiet, "SELECT 1"), 1);
	PQclear(exec_ok(quiet, "BEGIN"));
	ck_assert(PQsendQuery(waiter, "SELECT 7"));
	ck_assert(wait_pool_stat(fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1));
	PQclear(exec_ok(quiet, "COMMIT"));
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(query_ll(quiet, "SELECT 2"), 2);
	/* quiet stops asking: the kept server goes to the waiter. */
	res = get_result_ok(waiter);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "7");
	PQclear(res);
	res = console_show(fw, "SHOW FLOWS");
	row = res_find_row(res, "flow", "quiet", NULL, NULL);
	ck_assert(row >= 0);
	*kept = res_ll(res, row, "kept");
	*expired = res_ll(res, row, "kept_expired");
	*gap = PQgetisnull(res, row, PQfnumber(res, "gap_us")) ? -1 : res_ll(res, row, "gap_us");
	row = res_find_row(res, "flow", "noisy", NULL, NULL);
	ck_assert(row >= 0);
	ck_assert_int_eq(res_ll(res, row, "kept"), 0);
	ck_assert_int_eq(res_ll(res, row, "served"), 2);
	PQclear(res);
	PQfinish(waiter);
	PQfinish(noisy);
	PQfinish(quiet);
}

START_TEST(a_freed_server_is_kept_for_a_quiet_flow_that_asks_again_at_once)
{
	struct fw fw;
	long long kept, expired, gap;
	char extra[256], want[256];
	char *body = malloc(1 << 20);
	int port = free_port();

	ck_assert(body != NULL);
	/* A sanitizer build on a loaded machine may take a millisecond or more
	 * between queries: allow gaps of up to 250 ms. */
	snprintf(extra, sizeof(extra), "%sfair_anticipation = 0.5\nmetrics_listen = 127.0.0.1:%d\n",
	         fair_main, port);
	fw_start(&fw, extra, NULL, NULL, NULL);
	run_keeping(&fw, &kept, &expired, &gap);
	/* At least one of quiet's 21 releases was followed by its next
	 * request within twice its usual gap (normally all are); the last one
	 * waited in vain, or the waiter took it while the suite was
	 * descheduled. */
	ck_assert_msg(kept >= 1, "kept %lld, expired %lld, quiet's gap %lld us", kept, expired,
	              gap);
	ck_assert_int_ge(expired, 1);
	ck_assert_int_le(kept + expired, 21);
	http_get_metrics(port, body, 1 << 20);
	snprintf(want, sizeof(want),
	         "fairway_flow_kept_total{database=\"%s\",user=\"%s\",flow=\"quiet\"} %lld\n",
	         FW_TESTDB, FW_SUPERUSER, kept);
	ck_assert_msg(strstr(body, want) != NULL, "missing \"%s\" in /metrics", want);
	snprintf(want, sizeof(want),
	         "fairway_flow_kept_expired_total{database=\"%s\",user=\"%s\",flow=\"quiet\"} "
	         "%lld\n",
	         FW_TESTDB, FW_SUPERUSER, expired);
	ck_assert_msg(strstr(body, want) != NULL, "missing \"%s\" in /metrics", want);
	free(body);
	fw_stop(&fw);
}
END_TEST

START_TEST(fair_anticipation_0_never_keeps_a_server)
{
	struct fw fw;
	long long kept, expired, gap;

	fw_start(&fw, "pool_mode = transaction\ndefault_pool_size = 1\nfair_anticipation = 0\n",
	         NULL, NULL, NULL);
	run_keeping(&fw, &kept, &expired, &gap);
	ck_assert_int_eq(kept, 0);
	ck_assert_int_eq(expired, 0);
	fw_stop(&fw);
}
END_TEST

Suite *fairness_suite(void)
{
	Suite *s = suite_create("fairness");
	TCase *tc = tcase_create("fairness");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, quiet_flow_is_served_before_the_noisy_backlog);
	tcase_add_test(tc, fair_key_none_serves_waiters_in_arrival_order);
	tcase_add_test(tc, show_flows_counts_what_each_flow_was_served);
	tcase_add_test(tc, a_freed_server_is_kept_for_a_quiet_flow_that_asks_again_at_once);
	tcase_add_test(tc, fair_anticipation_0_never_keeps_a_server);
	tcase_add_test(tc, max_waiting_per_flow_refuses_with_53300_and_the_client_stays);
	tcase_add_test(tc, max_waiting_clients_refuses_extended_protocol_requests_too);
	tcase_add_test(tc, show_waits_and_histogram_count_every_assignment);
	tcase_add_test(tc, metrics_endpoint_serves_the_wait_histogram_seen_in_show_waits);
	tcase_add_test(tc, max_db_connections_gives_a_freed_slot_to_the_least_served_user);
	tcase_add_test(tc, max_user_connections_gives_a_freed_slot_to_the_least_served_database);
	suite_add_tcase(s, tc);
	return s;
}
