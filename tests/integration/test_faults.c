/* Faults: PostgreSQL restarted or a backend killed in the middle of a
 * transaction, and clients that vanish mid-transaction or mid-query. The
 * client concerned gets an error; nobody else notices; no server is ever
 * handed on in the middle of someone else's transaction. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define ONE_SERVER_DB "testdb = @PG@ dbname=testdb pool_size=1\n"

static long long unique_id(int salt)
{
	return (long long)getpid() * 100 + salt;
}

static long long committed_rows(long long id)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM fw_rows WHERE id = %lld", id);
	return pg_query_ll(sql);
}

static void insert_row(PGconn *c, long long id, const char *note)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "INSERT INTO fw_rows VALUES (%lld, '%s')", id, note);
	PQclear(exec_ok(c, sql));
}

/* The socket goes away without a Terminate message, as when a client
 * process is killed. PQfinish() afterwards only frees memory. */
static void vanish(PGconn *c)
{
	shutdown(PQsocket(c), SHUT_RDWR);
	PQfinish(c);
}

static bool no_idle_in_transaction(void *arg)
{
	(void)arg;
	return pg_query_ll("SELECT count(*) FROM pg_stat_activity WHERE datname = 'testdb' AND "
	                   "state LIKE 'idle in transaction%'") == 0;
}

/* A new backend has no transaction open: no xid, and now() is this
 * statement's start, not that of an older transaction. */
static void assert_clean_server(PGconn *c)
{
	char buf[16];

	ck_assert_str_eq(
	    query_str(c, "SELECT txid_current_if_assigned() IS NULL", buf, sizeof(buf)), "t");
	ck_assert_str_eq(query_str(c, "SELECT now() = statement_timestamp()", buf, sizeof(buf)),
	                 "t");
}

struct fresh_client {
	struct fw *fw;
};

static bool fresh_client_works(void *arg)
{
	struct fresh_client *f = arg;
	PGconn *c = fw_connect(f->fw, FW_AS_SUPER);
	PGresult *res = NULL;
	bool ok = false;

	if (PQstatus(c) == CONNECTION_OK) {
		res = PQexec(c, "SELECT 1");
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
	PQfinish(c);
	return ok;
}

START_TEST(server_restart_mid_transaction_errors_the_client_and_the_pool_recovers)
{
	struct fw fw;
	struct fresh_client f = {&fw};
	long long id = unique_id(1);
	PGconn *a, *b;
	PGresult *res;

	fw_start(&fw, "pool_mode = transaction\nserver_login_retry = 1\n", NULL, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	insert_row(a, id, "before restart");
	pg_restart_immediate();

	res = PQexec(a, "SELECT 1");
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR,
	              "a query in a transaction whose server died did not fail: %s",
	              PQresStatus(PQresultStatus(res)));
	PQclear(res);
	PQfinish(a);

	ck_assert_msg(wait_until(fresh_client_works, &f, 60000),
	              "no client got through after PostgreSQL came back:\n%s", fw_log_tail(&fw));
	ck_assert_int_eq(committed_rows(id), 0);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	assert_clean_server(b);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(server_killed_mid_transaction_errors_only_its_client)
{
	struct fw fw;
	PGconn *a, *b;
	PGresult *res;
	char sql[96];
	long long pid_a;

	fw_start(&fw, "pool_mode = transaction\n", NULL, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	PQclear(exec_ok(b, "BEGIN"));
	pid_a = query_ll(a, "SELECT pg_backend_pid()");
	ck_assert(query_ll(b, "SELECT pg_backend_pid()") != pid_a);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)::int", pid_a);
	ck_assert_int_eq(pg_query_ll(sql), 1);

	res = PQexec(a, "SELECT 1");
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
	PQfinish(a);
	/* b's transaction goes on as if nothing happened */
	ck_assert_int_eq(query_ll(b, "SELECT 2"), 2);
	PQclear(exec_ok(b, "COMMIT"));
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(client_vanishing_mid_transaction_leaves_no_row_and_a_clean_server)
{
	struct fw fw;
	long long id = unique_id(2);
	PGconn *a, *b;

	fw_start(&fw, "pool_mode = transaction\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	insert_row(a, id, "vanished");
	vanish(a);

	/* pool_size=1: b gets the same server back, or a new one, but never
	 * one still inside a's transaction */
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	assert_clean_server(b);
	ck_assert_int_eq(committed_rows(id), 0);
	ck_assert_msg(wait_until(no_idle_in_transaction, NULL, FW_WAIT_MS),
	              "a server stayed idle in transaction");
	/* and b's own transactions work */
	PQclear(exec_ok(b, "BEGIN"));
	insert_row(b, id, "committed");
	PQclear(exec_ok(b, "COMMIT"));
	ck_assert_int_eq(committed_rows(id), 1);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(client_vanishing_during_a_query_does_not_pass_on_a_busy_server)
{
	struct fw fw;
	PGconn *a, *b;
	char buf[32];

	fw_start(&fw, "pool_mode = transaction\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert(PQsendQuery(a, "SELECT 'from a', pg_sleep(2)"));
	vanish(a);
	/* b must see its own answer, not the tail of a's */
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_str_eq(query_str(b, "SELECT 'from b'", buf, sizeof(buf)), "from b");
	assert_clean_server(b);
	ck_assert_str_eq(query_str(b, "SELECT 'again b'", buf, sizeof(buf)), "again b");
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(session_client_vanishing_mid_transaction_leaves_no_row)
{
	struct fw fw;
	long long id = unique_id(3);
	PGconn *a, *b;

	fw_start(&fw, "pool_mode = session\n", ONE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	insert_row(a, id, "vanished in session mode");
	vanish(a);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	assert_clean_server(b);
	ck_assert_int_eq(committed_rows(id), 0);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");

	tcase_set_timeout(tc, FW_SLOW_TIMEOUT);
	tcase_add_test(tc, server_restart_mid_transaction_errors_the_client_and_the_pool_recovers);
	tcase_add_test(tc, server_killed_mid_transaction_errors_only_its_client);
	tcase_add_test(tc, client_vanishing_mid_transaction_leaves_no_row_and_a_clean_server);
	tcase_add_test(tc, client_vanishing_during_a_query_does_not_pass_on_a_busy_server);
	tcase_add_test(tc, session_client_vanishing_mid_transaction_leaves_no_row);
	suite_add_tcase(s, tc);
	return s;
}
