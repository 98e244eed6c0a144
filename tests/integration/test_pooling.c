/* Pooling as libpq clients see it: the three pool modes, sharing and resetting
 * servers, waiting for a full pool, query_wait_timeout, the reserve pool,
 * parameter sync between clients that share a server, cancel requests, and
 * requests that arrive pipelined or split across reads. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define ONE_SERVER_DB "testdb = @PG@ dbname=testdb pool_size=1\n"

static void select_through_pool_mode(const char *mode)
{
	char extra[64];
	struct fw fw;
	PGconn *c;
	PGresult *res;
	int row;

	snprintf(extra, sizeof(extra), "pool_mode = %s\n", mode);
	fw_start(&fw, extra, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	ck_assert_int_eq(query_ll(c, "SELECT count(*) FROM pgbench_branches"), 1);
	ck_assert_int_eq(query_ll(c, "SELECT 40 + 2"), 42);

	res = console_show(&fw, "SHOW POOLS");
	row = res_find_row(res, "database", FW_TESTDB, "user", FW_SUPERUSER);
	ck_assert_msg(row >= 0, "SHOW POOLS has no testdb/fwsuper row");
	ck_assert_str_eq(res_str(res, row, "pool_mode"), mode);
	PQclear(res);
	PQfinish(c);
	fw_stop(&fw);
}

START_TEST(session_mode_runs_select_through_the_pooler)
{
	select_through_pool_mode("session");
}
END_TEST

START_TEST(transaction_mode_runs_select_through_the_pooler)
{
	select_through_pool_mode("transaction");
}
END_TEST

START_TEST(statement_mode_runs_select_through_the_pooler)
{
	select_through_pool_mode("statement");
}
END_TEST

START_TEST(transaction_mode_hands_one_server_to_clients_in_turn)
{
	struct fw fw;
	PGconn *a, *b;
	long long pid_a, pid_b;

	fw_start(&fw, "pool_mode = transaction\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	for (int round = 0; round < 3; round++) {
		pid_a = query_ll(a, "SELECT pg_backend_pid()");
		pid_b = query_ll(b, "SELECT pg_backend_pid()");
		ck_assert_msg(pid_a == pid_b, "round %d: backends %lld and %lld, pool_size=1",
		              round, pid_a, pid_b);
	}
	ck_assert_int_eq(pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_active") +
	                     pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting"),
	                 2);
	PQfinish(a);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(session_mode_keeps_the_server_until_the_client_leaves)
{
	struct fw fw;
	PGconn *a, *b;
	PGresult *res;
	long long pid_a;

	fw_start(&fw, "pool_mode = session\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	pid_a = query_ll(a, "SELECT pg_backend_pid()");
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert(PQsendQuery(b, "SELECT pg_backend_pid()"));
	ck_assert_msg(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1),
	              "second session client never waited");
	/* a is idle but still owns the server: b keeps waiting until a leaves */
	ck_assert_int_eq(query_ll(a, "SELECT 1"), 1);
	ck_assert_int_eq(pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting"), 1);
	PQfinish(a);
	res = get_result_ok(b);
	ck_assert_msg(strtoll(PQgetvalue(res, 0, 0), NULL, 10) == pid_a,
	              "b should inherit a's server after reset");
	PQclear(res);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(session_mode_resets_server_state_between_clients)
{
	struct fw fw;
	PGconn *a, *b;
	char buf[64];

	fw_start(&fw, "pool_mode = session\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "SET statement_timeout = '123s'"));
	PQclear(exec_ok(a, "CREATE TEMP TABLE left_behind (x int)"));
	PQfinish(a);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_str_eq(query_str(b, "SHOW statement_timeout", buf, sizeof(buf)), "0");
	ck_assert_int_eq(query_ll(b, "SELECT count(*) FROM pg_class WHERE relname = 'left_behind'"),
	                 0);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(statement_mode_refuses_a_transaction_block)
{
	struct fw fw;
	PGconn *c, *d;

	fw_start(&fw, "pool_mode = statement\n", ONE_SERVER_DB, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 7"), 7);
	/* PgBouncer: "transaction blocks not allowed in statement pooling mode"
	 * on the server, "long transactions not allowed" to the client */
	expect_query_error(c, "BEGIN; SELECT 1;", "08P01", "not allowed");
	PQfinish(c);

	/* the server did not stay in the transaction: the next client is clean */
	d = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(d, "SELECT count(*) FROM pg_stat_activity "
	                             "WHERE state LIKE 'idle in transaction%'"),
	                 0);
	ck_assert_int_eq(query_ll(d, "SELECT 8"), 8);
	PQfinish(d);
	fw_stop(&fw);
}
END_TEST

START_TEST(full_pool_queues_second_client_until_first_commits)
{
	struct fw fw;
	PGconn *a, *b;
	PGresult *res;

	fw_start(&fw, "pool_mode = transaction\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	ck_assert_int_eq(query_ll(a, "SELECT 1"), 1);
	ck_assert(PQsendQuery(b, "SELECT 2"));
	ck_assert_msg(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1),
	              "second client never showed as waiting in SHOW POOLS");
	ck_assert_int_eq(pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "sv_active"), 1);
	PQclear(exec_ok(a, "COMMIT"));
	res = get_result_ok(b);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "2");
	PQclear(res);
	ck_assert_int_eq(pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting"), 0);
	PQfinish(a);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

/* One pipelined extended-protocol query with its Sync. */
static void send_pipelined(PGconn *c, const char *sql)
{
	ck_assert(PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0));
	ck_assert(PQpipelineSync(c));
	ck_assert_int_eq(PQflush(c), 0);
}

static void expect_pipelined(PGconn *c, const char *want)
{
	PGresult *res = PQgetResult(c);

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
	PQclear(res);
	ck_assert_ptr_null(PQgetResult(c));
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_PIPELINE_SYNC);
	PQclear(res);
}

START_TEST(waiting_clients_are_read_a_leaver_is_forgotten_and_more_input_is_kept)
{
	struct fw fw;
	PGconn *a, *b, *c;

	fw_start(&fw, "pool_mode = transaction\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	ck_assert_int_eq(query_ll(a, "SELECT 1"), 1);
	/* A waiting client that hangs up leaves the queue while the server
	 * is still busy, not when it would have had its turn. */
	ck_assert(PQsendQuery(b, "SELECT 2"));
	ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1));
	PQfinish(b);
	ck_assert_msg(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 0),
	              "a client that left while waiting still waits");
	/* What a waiting client sends meanwhile is kept and forwarded, in order. */
	ck_assert(PQenterPipelineMode(c));
	send_pipelined(c, "SELECT 3");
	ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1));
	send_pipelined(c, "SELECT 4");
	send_pipelined(c, "SELECT 5");
	ck_assert_int_eq(pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "sv_active"), 1);
	PQclear(exec_ok(a, "COMMIT"));
	expect_pipelined(c, "3");
	expect_pipelined(c, "4");
	expect_pipelined(c, "5");
	ck_assert(PQexitPipelineMode(c));
	ck_assert_int_eq(query_ll(c, "SELECT 6"), 6);
	PQfinish(a);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(waiting_past_query_wait_timeout_gets_08P01_query_wait_timeout)
{
	struct fw fw;
	PGconn *a, *b;

	fw_start(&fw, "pool_mode = transaction\nquery_wait_timeout = 1\n", ONE_SERVER_DB, NULL,
	         NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	ck_assert_int_eq(query_ll(a, "SELECT 1"), 1);
	expect_query_error(b, "SELECT 2", "08P01", "query_wait_timeout");
	PQfinish(b);
	/* the holder is unaffected */
	ck_assert_int_eq(query_ll(a, "SELECT 3"), 3);
	PQclear(exec_ok(a, "COMMIT"));
	PQfinish(a);
	ck_assert(fw_wait_log(&fw, "query_wait_timeout"));
	fw_stop(&fw);
}
END_TEST

START_TEST(reserve_pool_serves_a_waiting_client_after_reserve_pool_timeout)
{
	struct fw fw;
	PGconn *a, *b;
	PGresult *res;

	fw_start(&fw, "pool_mode = transaction\nreserve_pool_size = 1\nreserve_pool_timeout = 1\n",
	         ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	ck_assert_int_eq(query_ll(a, "SELECT 1"), 1);
	/* a keeps its transaction open; only the reserve can serve b */
	ck_assert(PQsendQuery(b, "SELECT 2"));
	res = get_result_ok(b);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "2");
	PQclear(res);
	ck_assert(fw_wait_log(&fw, "taking connection from reserve_pool"));
	PQclear(exec_ok(a, "COMMIT"));
	PQfinish(a);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

struct client_params {
	PGconn *conn;
	const char *app, *tz, *datestyle, *encoding;
};

static void assert_own_params(const struct client_params *p)
{
	char buf[128];

	ck_assert_str_eq(query_str(p->conn, "SHOW application_name", buf, sizeof(buf)), p->app);
	ck_assert_str_eq(query_str(p->conn, "SHOW TimeZone", buf, sizeof(buf)), p->tz);
	ck_assert_str_eq(query_str(p->conn, "SHOW DateStyle", buf, sizeof(buf)), p->datestyle);
	ck_assert_str_eq(query_str(p->conn, "SHOW client_encoding", buf, sizeof(buf)), p->encoding);
	/* what the client was told in ParameterStatus agrees */
	ck_assert_str_eq(PQparameterStatus(p->conn, "application_name"), p->app);
	ck_assert_str_eq(PQparameterStatus(p->conn, "TimeZone"), p->tz);
	ck_assert_str_eq(PQparameterStatus(p->conn, "DateStyle"), p->datestyle);
	ck_assert_str_eq(PQparameterStatus(p->conn, "client_encoding"), p->encoding);
}

START_TEST(each_client_sees_its_own_parameters_on_a_shared_server)
{
	struct fw fw;
	struct client_params a = {NULL, "alpha", "Asia/Tokyo", "SQL, DMY", "LATIN1"};
	struct client_params b = {NULL, "beta", "America/New_York", "ISO, MDY", "UTF8"};
	long long pid_a, pid_b;

	fw_start(&fw, "pool_mode = transaction\n", ONE_SERVER_DB, NULL, NULL);
	/* a sets everything with startup parameters, b with SET */
	a.conn = fw_connect_ok(&fw, FW_AS_SUPER " application_name=alpha client_encoding=LATIN1");
	PQclear(exec_ok(a.conn, "SET TimeZone = 'Asia/Tokyo'"));
	PQclear(exec_ok(a.conn, "SET DateStyle = 'SQL, DMY'"));
	b.conn = fw_connect_ok(&fw, FW_AS_SUPER " application_name=beta client_encoding=UTF8");
	PQclear(exec_ok(b.conn, "SET TimeZone = 'America/New_York'"));
	PQclear(exec_ok(b.conn, "SET DateStyle = 'ISO, MDY'"));
	for (int round = 0; round < 3; round++) {
		assert_own_params(&a);
		assert_own_params(&b);
	}
	pid_a = query_ll(a.conn, "SELECT pg_backend_pid()");
	pid_b = query_ll(b.conn, "SELECT pg_backend_pid()");
	ck_assert_msg(pid_a == pid_b, "the two clients did not share the one server");
	PQfinish(a.conn);
	PQfinish(b.conn);
	fw_stop(&fw);
}
END_TEST

static bool sleeper_running(void *arg)
{
	(void)arg;
	return pg_query_ll("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
	                   "AND query LIKE 'SELECT pg_sleep(30) /* cancel-me */%'") == 1;
}

START_TEST(cancel_request_stops_a_running_query_with_57014)
{
	struct fw fw;
	PGconn *c;
	PGcancel *cancel;
	PGresult *res;
	char err[256];

	fw_start(&fw, "pool_mode = transaction\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert(PQsendQuery(c, "SELECT pg_sleep(30) /* cancel-me */"));
	ck_assert_msg(wait_until(sleeper_running, NULL, FW_WAIT_MS), "query never started");
	cancel = PQgetCancel(c);
	ck_assert_msg(PQcancel(cancel, err, sizeof(err)), "PQcancel: %s", err);
	PQfreeCancel(cancel);
	/* only a cancel ends pg_sleep(30) with 57014 */
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "57014");
	PQclear(res);
	while ((res = PQgetResult(c)) != NULL)
		PQclear(res);
	/* the client and its next transaction carry on */
	ck_assert_int_eq(query_ll(c, "SELECT 5"), 5);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(cancel_with_an_unknown_key_is_ignored)
{
	struct fw fw;
	PGconn *c;
	uint8_t pkt[16] = {0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t buf[256];
	bool closed;
	int fd;

	fw_start(&fw, "pool_mode = transaction\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert(PQsendQuery(c, "SELECT pg_sleep(1), 9"));
	fd = raw_connect(&fw);
	ck_assert(raw_send(fd, pkt, sizeof(pkt)));
	raw_read(fd, buf, sizeof(buf), 10000, false, &closed);
	ck_assert_msg(closed, "fairway kept a CancelRequest connection open");
	close(fd);
	{
		PGresult *res = get_result_ok(c);

		ck_assert_str_eq(PQgetvalue(res, 0, 1), "9");
		PQclear(res);
	}
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* A simple Query message for sql, into buf; returns its length. */
static size_t put_query(uint8_t *buf, const char *sql)
{
	size_t n = strlen(sql) + 1;

	buf[0] = 'Q';
	raw_put_be32(buf + 1, (uint32_t)(4 + n));
	memcpy(buf + 5, sql, n);
	return 5 + n;
}

/* Reads replies until want ReadyForQuery messages have come, appending the
 * first column of each DataRow to got (comma-separated). */
static void read_answers(int fd, int want, char *got, size_t size)
{
	static uint8_t buf[65536];
	size_t have = 0, off = 0;
	int rfq = 0;

	got[0] = '\0';
	while (rfq < want) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		while (have - off >= 5 && have - off >= 1 + raw_get_be32(buf + off + 1)) {
			const uint8_t *m = buf + off;
			uint32_t len = raw_get_be32(m + 1);

			if (m[0] == 'E') {
				struct raw_error err;

				ck_assert(raw_find_error(m, 1 + len, false, &err));
				ck_abort_msg("ErrorResponse %s: %s", err.sqlstate, err.message);
			}
			if (m[0] == 'Z')
				rfq++;
			if (m[0] == 'D' && len >= 10) {
				uint32_t vlen = raw_get_be32(m + 7);

				snprintf(got + strlen(got), size - strlen(got), "%s%.*s",
				         got[0] ? "," : "", (int)vlen, (const char *)m + 11);
			}
			off += 1 + len;
		}
		if (rfq >= want)
			break;
		memmove(buf, buf + off, have - off);
		have -= off;
		off = 0;
		ck_assert_msg(poll(&pfd, 1, FW_WAIT_MS) == 1, "no answer (got \"%s\" so far)", got);
		n = read(fd, buf + have, sizeof(buf) - have);
		ck_assert_msg(n > 0, "connection closed (got \"%s\" so far)", got);
		have += (size_t)n;
	}
}

/* Sends bytes in separate writes; the pause between them only makes separate
 * reads on the pooler's side likely: the answers must be right either way. */
static void send_pieces(int fd, const uint8_t *bytes, const size_t *cuts, size_t n_cuts, size_t len)
{
	size_t from = 0;

	for (size_t i = 0; i <= n_cuts; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;

		ck_assert(raw_send(fd, bytes + from, to - from));
		if (i < n_cuts)
			usleep(50 * 1000);
		from = to;
	}
}

/* Requests forwarded from where they were read (whole, pipelined, split
 * across reads, or a whole one with the start of the next behind it) reach
 * the one shared server intact and in order, between another client's
 * transactions. */
START_TEST(transaction_mode_forwards_pipelined_and_split_queries_in_order)
{
	uint8_t q[512];
	char got[8192];
	size_t n, a;
	struct fw fw;
	PGconn *other;
	int fd;

	fw_start(&fw, "pool_mode = transaction\nauth_type = trust\n", ONE_SERVER_DB, NULL, NULL);
	fd = raw_login_trust(&fw, FW_SUPERUSER, FW_TESTDB);
	other = fw_connect_ok(&fw, FW_AS_SUPER);

	/* two queries in one write */
	n = put_query(q, "SELECT 1");
	n += put_query(q + n, "SELECT 2");
	ck_assert(raw_send(fd, q, n));
	read_answers(fd, 2, got, sizeof(got));
	ck_assert_str_eq(got, "1,2");
	ck_assert_int_eq(query_ll(other, "SELECT 10"), 10);

	/* one query in three pieces, cut inside the header and the text */
	n = put_query(q, "SELECT 3");
	send_pieces(fd, q, (const size_t[]){3, 8}, 2, n);
	read_answers(fd, 1, got, sizeof(got));
	ck_assert_str_eq(got, "3");
	ck_assert_int_eq(query_ll(other, "SELECT 11"), 11);

	/* a whole query with the start of the next behind it */
	a = put_query(q, "SELECT 4");
	n = a + put_query(q + a, "SELECT 5");
	send_pieces(fd, q, (const size_t[]){a + 7}, 1, n);
	read_answers(fd, 2, got, sizeof(got));
	ck_assert_str_eq(got, "4,5");
	ck_assert_int_eq(query_ll(other, "SELECT 12"), 12);

	/* a reply larger than one small read, then a small one */
	n = put_query(q, "SELECT repeat('x', 5000)");
	n += put_query(q + n, "SELECT 6");
	ck_assert(raw_send(fd, q, n));
	read_answers(fd, 2, got, sizeof(got));
	ck_assert_int_eq(strlen(got), 5000 + 2);
	ck_assert_str_eq(got + 5000, ",6");

	close(fd);
	PQfinish(other);
	fw_stop(&fw);
}
END_TEST

Suite *pooling_suite(void)
{
	Suite *s = suite_create("pooling");
	TCase *tc = tcase_create("pooling");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, session_mode_runs_select_through_the_pooler);
	tcase_add_test(tc, transaction_mode_runs_select_through_the_pooler);
	tcase_add_test(tc, statement_mode_runs_select_through_the_pooler);
	tcase_add_test(tc, transaction_mode_hands_one_server_to_clients_in_turn);
	tcase_add_test(tc, session_mode_keeps_the_server_until_the_client_leaves);
	tcase_add_test(tc, session_mode_resets_server_state_between_clients);
	tcase_add_test(tc, statement_mode_refuses_a_transaction_block);
	tcase_add_test(tc, full_pool_queues_second_client_until_first_commits);
	tcase_add_test(tc, waiting_past_query_wait_timeout_gets_08P01_query_wait_timeout);
	tcase_add_test(tc, reserve_pool_serves_a_waiting_client_after_reserve_pool_timeout);
	tcase_add_test(tc, each_client_sees_its_own_parameters_on_a_shared_server);
	tcase_add_test(tc, cancel_request_stops_a_running_query_with_57014);
	tcase_add_test(tc, cancel_with_an_unknown_key_is_ignored);
	tcase_add_test(tc, transaction_mode_forwards_pipelined_and_split_queries_in_order);
	tcase_add_test(tc, waiting_clients_are_read_a_leaver_is_forgotten_and_more_input_is_kept);
	suite_add_tcase(s, tc);
	return s;
}
