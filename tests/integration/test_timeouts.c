/* Timeouts and pool maintenance: each is observed through its effect (a
 * client or server gone, a new backend), never by measuring time. The
 * settings are one second; the deadlines in wait_until() only guard hangs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

struct clients_with_app {
	struct fw *fw;
	const char *app;
};

static long long clients_named(struct fw *fw, const char *app)
{
	PGresult *res = console_show(fw, "SHOW CLIENTS");
	int c = col(res, "application_name");
	long long n = 0;

	for (int r = 0; r < PQntuples(res); r++)
		if (strcmp(PQgetvalue(res, r, c), app) == 0)
			n++;
	PQclear(res);
	return n;
}

static bool client_gone(void *arg)
{
	struct clients_with_app *w = arg;

	return clients_named(w->fw, w->app) == 0;
}

static void wait_client_gone(struct fw *fw, const char *app)
{
	struct clients_with_app w = {fw, app};

	ck_assert_msg(clients_named(fw, app) == 1, "client %s is not in SHOW CLIENTS", app);
	ck_assert_msg(wait_until(client_gone, &w, FW_WAIT_MS), "client %s was never closed", app);
}

struct backend {
	long long pid;
};

static bool backend_gone(void *arg)
{
	struct backend *b = arg;
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %lld",
	         b->pid);
	return pg_query_ll(sql) == 0;
}

static bool no_idle_in_transaction(void *arg)
{
	(void)arg;
	return pg_query_ll("SELECT count(*) FROM pg_stat_activity WHERE datname = 'testdb' AND "
	                   "state LIKE 'idle in transaction%'") == 0;
}

static void assert_connection_dead(PGconn *c)
{
	PGresult *res = PQexec(c, "SELECT 1");

	ck_assert_msg(PQresultStatus(res) != PGRES_TUPLES_OK,
	              "query on a timed-out connection succeeded");
	PQclear(res);
	PQfinish(c);
}

START_TEST(client_idle_timeout_closes_an_idle_client)
{
	struct fw fw;
	PGconn *victim, *other;

	fw_start(&fw, "pool_mode = transaction\nclient_idle_timeout = 1\n", NULL, NULL, NULL);
	victim = fw_connect_ok(&fw, FW_AS_SUPER " application_name=idle-victim");
	ck_assert_int_eq(query_ll(victim, "SELECT 1"), 1);
	wait_client_gone(&fw, "idle-victim");
	assert_connection_dead(victim);
	ck_assert(fw_wait_log(&fw, "client_idle_timeout"));
	/* new clients are welcome */
	other = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(other, "SELECT 2"), 2);
	PQfinish(other);
	fw_stop(&fw);
}
END_TEST

START_TEST(idle_transaction_timeout_closes_the_client_and_rolls_back)
{
	struct fw fw;
	PGconn *victim;
	char sql[128];
	long long id = (long long)getpid() * 10 + 1;

	fw_start(&fw, "pool_mode = transaction\nidle_transaction_timeout = 1\n", NULL, NULL, NULL);
	victim = fw_connect_ok(&fw, FW_AS_SUPER " application_name=idle-tx-victim");
	PQclear(exec_ok(victim, "BEGIN"));
	snprintf(sql, sizeof(sql), "INSERT INTO fw_rows VALUES (%lld, 'idle-tx')", id);
	PQclear(exec_ok(victim, sql));
	wait_client_gone(&fw, "idle-tx-victim");
	assert_connection_dead(victim);
	ck_assert(fw_wait_log(&fw, "idle transaction timeout"));
	ck_assert_msg(wait_until(no_idle_in_transaction, NULL, FW_WAIT_MS),
	              "a server stayed idle in transaction");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM fw_rows WHERE id = %lld", id);
	ck_assert_int_eq(pg_query_ll(sql), 0);
	fw_stop(&fw);
}
END_TEST

START_TEST(transaction_timeout_closes_a_long_transaction)
{
	struct fw fw;
	PGconn *victim;

	/* transaction_timeout is PgBouncer 1.25; its log reason "transaction timeout" */
	fw_start(&fw, "pool_mode = transaction\ntransaction_timeout = 1\n", NULL, NULL, NULL);
	victim = fw_connect_ok(&fw, FW_AS_SUPER " application_name=long-tx-victim");
	PQclear(exec_ok(victim, "BEGIN"));
	ck_assert_int_eq(query_ll(victim, "SELECT 1"), 1);
	wait_client_gone(&fw, "long-tx-victim");
	assert_connection_dead(victim);
	ck_assert(fw_wait_log(&fw, "transaction timeout"));
	ck_assert_msg(wait_until(no_idle_in_transaction, NULL, FW_WAIT_MS),
	              "a server stayed idle in transaction");
	fw_stop(&fw);
}
END_TEST

START_TEST(server_idle_timeout_closes_an_unused_server)
{
	struct fw fw;
	PGconn *c;
	struct backend b;

	fw_start(&fw, "pool_mode = transaction\nserver_idle_timeout = 1\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	b.pid = query_ll(c, "SELECT pg_backend_pid()");
	PQfinish(c);
	ck_assert_msg(wait_until(backend_gone, &b, FW_WAIT_MS), "idle server %lld never closed",
	              b.pid);
	ck_assert(fw_wait_log(&fw, "server idle timeout"));
	fw_stop(&fw);
}
END_TEST

START_TEST(server_lifetime_replaces_an_old_server_between_transactions)
{
	struct fw fw;
	PGconn *c;
	struct backend b;
	long long next;

	fw_start(&fw, "pool_mode = transaction\nserver_lifetime = 1\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	b.pid = query_ll(c, "SELECT pg_backend_pid()");
	ck_assert_msg(wait_until(backend_gone, &b, FW_WAIT_MS), "old server %lld never closed",
	              b.pid);
	ck_assert(fw_wait_log(&fw, "server lifetime over"));
	/* the client never noticed: its next transaction gets a new server */
	next = query_ll(c, "SELECT pg_backend_pid()");
	ck_assert_msg(next != b.pid, "still on the old server");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(query_timeout_ends_a_running_query_and_its_server)
{
	struct fw fw;
	PGconn *c, *d;
	char buf[16];

	fw_start(&fw, "pool_mode = transaction\nquery_timeout = 1\n",
	         "testdb = @PG@ dbname=testdb pool_size=1\n", NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	/* PgBouncer closes the server with "query timeout" and tells the client
	 * so (a client still waiting for a server gets "query_timeout");
	 * PGBOUNCER-COMPAT.md lists "query_timeout". Either text will do. */
	expect_query_error(c, "SELECT pg_sleep(30), 'late'", "08P01",
	                   "query timeout|query_timeout");
	PQfinish(c);
	/* the only server slot was not handed on with the query still going:
	 * d gets its own answer, at once, on a clean server */
	d = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_str_eq(query_str(d, "SELECT 'prompt'", buf, sizeof(buf)), "prompt");
	ck_assert_str_eq(
	    query_str(d, "SELECT txid_current_if_assigned() IS NULL", buf, sizeof(buf)), "t");
	PQfinish(d);
	fw_stop(&fw);
}
END_TEST

START_TEST(min_pool_size_opens_servers_before_any_client)
{
	struct fw fw;

	fw_start(&fw, "pool_mode = transaction\n",
	         "testdb = @PG@ dbname=testdb user=" FW_SUPERUSER " min_pool_size=2\n", NULL, NULL);
	ck_assert_msg(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "sv_idle", 2),
	              "min_pool_size=2 never showed two idle servers");
	fw_stop(&fw);
}
END_TEST

START_TEST(client_login_timeout_closes_a_silent_connection)
{
	struct fw fw;
	uint8_t buf[512];
	bool closed;
	int fd;

	fw_start(&fw, "client_login_timeout = 1\n", NULL, NULL, NULL);
	fd = raw_connect(&fw);
	raw_read(fd, buf, sizeof(buf), FW_WAIT_MS, false, &closed);
	ck_assert_msg(closed, "a connection that never sent a startup packet stayed open");
	close(fd);
	fw_stop(&fw);
}
END_TEST

Suite *timeouts_suite(void)
{
	Suite *s = suite_create("timeouts");
	TCase *tc = tcase_create("timeouts");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, client_idle_timeout_closes_an_idle_client);
	tcase_add_test(tc, idle_transaction_timeout_closes_the_client_and_rolls_back);
	tcase_add_test(tc, transaction_timeout_closes_a_long_transaction);
	tcase_add_test(tc, server_idle_timeout_closes_an_unused_server);
	tcase_add_test(tc, server_lifetime_replaces_an_old_server_between_transactions);
	tcase_add_test(tc, query_timeout_ends_a_running_query_and_its_server);
	tcase_add_test(tc, min_pool_size_opens_servers_before_any_client);
	tcase_add_test(tc, client_login_timeout_closes_a_silent_connection);
	suite_add_tcase(s, tc);
	return s;
}
