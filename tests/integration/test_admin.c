/* The admin console's control commands as PgBouncer 1.25 has them
 * (PGBOUNCER-COMPAT.md sections 2, 3 and 6): PAUSE/RESUME, DISABLE/ENABLE,
 * KILL, KILL_CLIENT, RECONNECT, WAIT_CLOSE, SUSPEND, the SHUTDOWN modes, SET,
 * RELOAD of a changed or removed database, and the SHOW commands whose values
 * follow from known traffic. Column lists already checked in test_console.c
 * are not repeated here. Each effect is observed through what a client or
 * the console sees; wait_until() synchronises, nothing measures time. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define TWO_DBS          "testdb = @PG@ dbname=testdb\notherdb = @PG@ dbname=testdb\n"
#define ONE_SERVER_DB    "testdb = @PG@ dbname=testdb pool_size=1\n"
#define TRANSACTION_MODE "pool_mode = transaction\n"
#define AS_SUPER_ON(db)  "dbname=" db " " FW_AS_SUPER_CREDENTIALS

/* ---- helpers ------------------------------------------------------------ */

/* Runs a console command that must succeed (CommandComplete or rows). */
static void console_ok(struct fw *fw, const char *sql)
{
	PGresult *res = console_query(fw, sql);
	ExecStatusType st = PQresultStatus(res);

	ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "console %s: %s %s\n%s", sql,
	              PQresStatus(st), PQresultErrorMessage(res), fw_log_tail(fw));
	PQclear(res);
}

static void send_query(PGconn *c, const char *sql)
{
	ck_assert_msg(PQsendQuery(c, sql) == 1, "PQsendQuery(%s): %s", sql, PQerrorMessage(c));
}

/* The answer to a query sent with send_query() has not arrived. */
static void assert_no_answer_yet(PGconn *c)
{
	ck_assert_msg(PQconsumeInput(c) == 1, "connection broke: %s", PQerrorMessage(c));
	ck_assert_msg(PQisBusy(c) == 1, "the query was answered while it should wait");
}

/* Collects the answer to send_query() and checks its one value. */
static void assert_answer(PGconn *c, const char *want)
{
	PGresult *res = get_result_ok(c);

	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
	PQclear(res);
}

static long long one_select(PGconn *c)
{
	return query_ll(c, "SELECT 1");
}

static void wait_backend_gone(long long pid)
{
	ck_assert_msg(pg_wait_backend_gone(pid), "backend %lld was never closed", pid);
}

/* Value of one row of a key/value SHOW (STATE) or a per-database SHOW. */
static char *show_value(struct fw *fw, const char *sql, const char *key_col, const char *key,
                        const char *value_col)
{
	PGresult *res = console_show(fw, sql);
	int row = res_find_row(res, key_col, key, NULL, NULL);
	const char *v;
	char *copy;

	ck_assert_msg(row >= 0, "%s has no row %s", sql, key);
	v = res_str(res, row, value_col);
	copy = strdup(v != NULL ? v : "(null)");
	PQclear(res);
	return copy;
}

static void assert_show_value(struct fw *fw, const char *sql, const char *key_col, const char *key,
                              const char *value_col, const char *want)
{
	char *got = show_value(fw, sql, key_col, key, value_col);

	ck_assert_msg(strcmp(got, want) == 0, "%s: %s of %s is \"%s\", expected \"%s\"", sql,
	              value_col, key, got, want);
	free(got);
}

/* SHOW CLIENTS id of the client with this application_name. */
static long long client_id(struct fw *fw, const char *app)
{
	PGresult *res = console_show(fw, "SHOW CLIENTS");
	int row = res_find_row(res, "application_name", app, NULL, NULL);
	long long id;

	ck_assert_msg(row >= 0, "client %s is not in SHOW CLIENTS", app);
	id = res_ll(res, row, "id");
	PQclear(res);
	return id;
}

static int clients_named(struct fw *fw, const char *app)
{
	PGresult *res = console_show(fw, "SHOW CLIENTS");
	int c = col(res, "application_name"), n = 0;

	for (int r = 0; r < PQntuples(res); r++)
		n += strcmp(PQgetvalue(res, r, c), app) == 0;
	PQclear(res);
	return n;
}

static long long rows_with_id(long long id)
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

/* Counters must be numbers on the wire: int8 as PgBouncer sends them (or
 * numeric, which exporters read the same way). */
static void assert_int8(const PGresult *res, const char *what, const char *column)
{
	Oid type = PQftype(res, col(res, column));

	ck_assert_msg(type == 20 || type == 1700, "%s: column %s has type oid %u, not int8", what,
	              column, (unsigned)type);
}

/* ---- PAUSE / RESUME ----------------------------------------------------- */

START_TEST(pause_makes_a_query_wait_and_resume_answers_it)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	console_ok(&fw, "PAUSE");
	assert_show_value(&fw, "SHOW STATE", "key", "paused", "value", "yes");
	send_query(c, "SELECT 40 + 2");
	ck_assert_msg(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1),
	              "the query did not wait during PAUSE\n%s", fw_log_tail(&fw));
	assert_no_answer_yet(c);
	console_ok(&fw, "RESUME");
	assert_answer(c, "42");
	assert_show_value(&fw, "SHOW STATE", "key", "paused", "value", "no");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* Runs in a forked child during pgbench: no Check assertions, libpq only.
 * Waits for pgbench's clients, PAUSEs for about a second (seeing clients
 * queue up), then RESUMEs. Exit code 0 when all of that happened. */
static int pause_in_the_middle(int port)
{
	char conninfo[256];
	PGconn *c;
	PGresult *res;
	bool started = false, queued = false;

	snprintf(conninfo, sizeof(conninfo),
	         "host=127.0.0.1 port=%d dbname=pgbouncer user=%s password=%s sslmode=disable",
	         port, FW_ADMIN, FW_ADMIN_PW);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pause child: console: %s", PQerrorMessage(c));
		return 10;
	}
	for (int i = 0; i < 2000 && !started; i++) {
		res = PQexec(c, "SHOW POOLS");
		for (int r = 0; PQresultStatus(res) == PGRES_TUPLES_OK && r < PQntuples(res); r++)
			if (strcmp(PQgetvalue(res, r, PQfnumber(res, "database")), FW_TESTDB) ==
			        0 &&
			    atoll(PQgetvalue(res, r, PQfnumber(res, "cl_active"))) +
			            atoll(PQgetvalue(res, r, PQfnumber(res, "cl_waiting"))) >=
			        10)
				started = true;
		PQclear(res);
		usleep(10000);
	}
	if (!started) {
		fprintf(stderr, "pause child: pgbench's 10 clients never showed up\n");
		return 11;
	}
	res = PQexec(c, "PAUSE");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pause child: PAUSE: %s", PQerrorMessage(c));
		return 12;
	}
	PQclear(res);
	/* hold the pause for about a second, watching clients queue up */
	for (int i = 0; i < 100; i++) {
		res = PQexec(c, "SHOW POOLS");
		for (int r = 0; PQresultStatus(res) == PGRES_TUPLES_OK && r < PQntuples(res); r++)
			if (strcmp(PQgetvalue(res, r, PQfnumber(res, "database")), FW_TESTDB) ==
			        0 &&
			    atoll(PQgetvalue(res, r, PQfnumber(res, "cl_waiting"))) > 0)
				queued = true;
		PQclear(res);
		usleep(10000);
	}
	res = PQexec(c, "RESUME");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pause child: RESUME: %s", PQerrorMessage(c));
		return 13;
	}
	PQclear(res);
	PQfinish(c);
	if (!queued) {
		fprintf(stderr, "pause child: no client waited during PAUSE\n");
		return 14;
	}
	return 0;
}

START_TEST(pause_and_resume_under_pgbench_load_fail_no_transaction)
{
	static struct pgbench_result r;
	const char *const args[] = {"-n", "-c", "10", "-j", "2", "-T", "5", "-M", "simple", NULL};
	struct fw fw;
	pid_t child;
	int status;

	fw_start(&fw, TRANSACTION_MODE "default_pool_size = 5\n", NULL, NULL, NULL);
	child = fork();
	ck_assert_msg(child >= 0, "fork: %s", strerror(errno));
	if (child == 0)
		_exit(pause_in_the_middle(fw.port));
	pgbench_run(&fw, args, &r);
	ck_assert_msg(waitpid(child, &status, 0) == child, "waitpid: %s", strerror(errno));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "PAUSE/RESUME during pgbench did not happen as planned (child status "
	              "0x%x)\n%s",
	              (unsigned)status, fw_log_tail(&fw));
	ck_assert_msg(r.status == 0, "pgbench exit status %d:\n%.8000s\n%s", r.status, r.out,
	              fw_log_tail(&fw));
	ck_assert_msg(r.processed > 0, "pgbench processed no transactions:\n%.8000s", r.out);
	ck_assert_msg(r.failed <= 0, "pgbench had %lld failed transactions:\n%.8000s", r.failed,
	              r.out);
	fw_stop(&fw);
}
END_TEST

START_TEST(pause_of_one_database_leaves_the_others_running)
{
	struct fw fw;
	PGconn *paused, *other;

	fw_start(&fw, TRANSACTION_MODE, TWO_DBS, NULL, NULL);
	paused = fw_connect_ok(&fw, AS_SUPER_ON("otherdb"));
	other = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(paused), 1);
	console_ok(&fw, "PAUSE otherdb");
	assert_show_value(&fw, "SHOW DATABASES", "name", "otherdb", "paused", "1");
	assert_show_value(&fw, "SHOW DATABASES", "name", FW_TESTDB, "paused", "0");
	send_query(paused, "SELECT 7");
	ck_assert(wait_pool_stat(&fw, "otherdb", FW_SUPERUSER, "cl_waiting", 1));
	ck_assert_int_eq(query_ll(other, "SELECT 8"), 8);
	assert_no_answer_yet(paused);
	console_ok(&fw, "RESUME otherdb");
	assert_answer(paused, "7");
	assert_show_value(&fw, "SHOW DATABASES", "name", "otherdb", "paused", "0");
	PQfinish(paused);
	PQfinish(other);
	fw_stop(&fw);
}
END_TEST

/* ---- DISABLE / ENABLE, KILL, KILL_CLIENT -------------------------------- */

START_TEST(disabled_database_refuses_new_clients_and_keeps_existing_ones)
{
	struct fw fw;
	PGconn *existing, *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	existing = fw_connect_ok(&fw, FW_AS_SUPER);
	console_ok(&fw, "DISABLE testdb");
	assert_show_value(&fw, "SHOW DATABASES", "name", FW_TESTDB, "disabled", "1");
	expect_connect_error(fw_connect(&fw, FW_AS_SUPER), NULL, "database \"testdb\" is disabled");
	ck_assert_int_eq(one_select(existing), 1);
	console_ok(&fw, "ENABLE testdb");
	assert_show_value(&fw, "SHOW DATABASES", "name", FW_TESTDB, "disabled", "0");
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	PQfinish(c);
	PQfinish(existing);
	fw_stop(&fw);
}
END_TEST

START_TEST(kill_of_a_database_closes_its_clients_and_servers_only)
{
	struct fw fw;
	PGconn *victim, *bystander, *c;
	long long backend;

	fw_start(&fw, TRANSACTION_MODE, TWO_DBS, NULL, NULL);
	victim = fw_connect_ok(&fw, FW_AS_SUPER);
	bystander = fw_connect_ok(&fw, AS_SUPER_ON("otherdb"));
	PQclear(exec_ok(victim, "BEGIN"));
	backend = query_ll(victim, "SELECT pg_backend_pid()");
	ck_assert_int_eq(one_select(bystander), 1);
	console_ok(&fw, "KILL testdb");
	assert_connection_closed(victim, "KILL testdb");
	wait_backend_gone(backend);
	ck_assert_int_eq(query_ll(bystander, "SELECT 2"), 2);
	/* a killed database is paused until RESUME, as in PgBouncer */
	assert_show_value(&fw, "SHOW DATABASES", "name", FW_TESTDB, "paused", "1");
	console_ok(&fw, "RESUME testdb");
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	PQfinish(c);
	PQfinish(bystander);
	fw_stop(&fw);
}
END_TEST

START_TEST(kill_without_a_database_closes_every_pool_but_the_console)
{
	struct fw fw;
	PGconn *a, *b, *c;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE, TWO_DBS, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, AS_SUPER_ON("otherdb"));
	ck_assert_int_eq(one_select(a), 1);
	ck_assert_int_eq(one_select(b), 1);
	console_ok(&fw, "KILL"); /* 1.25: KILL without a database = all */
	assert_connection_closed(a, "KILL");
	assert_connection_closed(b, "KILL");
	ck_assert_int_eq(PQstatus(fw.console), CONNECTION_OK);
	res = console_show(&fw, "SHOW POOLS");
	PQclear(res);
	/* whatever KILL left paused, RESUME lets clients in again */
	PQclear(console_query(&fw, "RESUME"));
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(kill_client_closes_exactly_the_client_with_that_id)
{
	struct fw fw;
	PGconn *a, *b, *c;
	char sql[64];

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER " application_name=kc-a");
	b = fw_connect_ok(&fw, FW_AS_SUPER " application_name=kc-b");
	c = fw_connect_ok(&fw, FW_AS_SUPER " application_name=kc-c");
	snprintf(sql, sizeof(sql), "KILL_CLIENT %lld", client_id(&fw, "kc-b"));
	console_ok(&fw, sql);
	assert_connection_closed(b, sql);
	ck_assert_int_eq(clients_named(&fw, "kc-b"), 0);
	ck_assert_int_eq(one_select(a), 1);
	ck_assert_int_eq(one_select(c), 1);
	ck_assert_int_eq(clients_named(&fw, "kc-a"), 1);
	ck_assert_int_eq(clients_named(&fw, "kc-c"), 1);
	expect_query_error(fw.console, "KILL_CLIENT 999999999", "08P01", "client not found");
	ck_assert_int_eq(PQstatus(fw.console), CONNECTION_OK);
	PQfinish(a);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* ---- RECONNECT, WAIT_CLOSE, SUSPEND ------------------------------------- */

START_TEST(reconnect_replaces_an_idle_server_with_a_new_backend)
{
	struct fw fw;
	PGconn *c;
	long long before, after;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	before = query_ll(c, "SELECT pg_backend_pid()");
	console_ok(&fw, "RECONNECT testdb");
	wait_backend_gone(before);
	after = query_ll(c, "SELECT pg_backend_pid()");
	ck_assert_msg(after != before, "RECONNECT kept backend %lld", before);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

struct close_needed_wait {
	struct fw *fw;
	long long pid;
};

static bool server_marked_to_close(void *arg)
{
	const struct close_needed_wait *w = arg;
	PGresult *res = console_show(w->fw, "SHOW SERVERS");
	bool marked = false;
	char pid[32];
	int row;

	snprintf(pid, sizeof(pid), "%lld", w->pid);
	row = res_find_row(res, "remote_pid", pid, NULL, NULL);
	if (row >= 0)
		marked = res_ll(res, row, "close_needed") == 1;
	PQclear(res);
	return marked;
}

START_TEST(wait_close_returns_once_a_reconnected_server_is_released_and_closed)
{
	struct fw fw;
	struct close_needed_wait w = {&fw, 0};
	PGconn *c, *console2;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(c, "BEGIN"));
	w.pid = query_ll(c, "SELECT pg_backend_pid()");
	console_ok(&fw, "RECONNECT testdb");
	ck_assert_msg(wait_until(server_marked_to_close, &w, FW_WAIT_MS),
	              "SHOW SERVERS never showed close_needed = 1 after RECONNECT");
	/* the busy server is closed only when its transaction ends */
	console2 = fw_connect_ok(&fw, FW_AS_ADMIN);
	send_query(console2, "WAIT_CLOSE testdb");
	ck_assert_int_eq(query_ll(c, "SELECT 5"), 5);
	assert_no_answer_yet(console2);
	PQclear(exec_ok(c, "COMMIT"));
	res = get_result_ok(console2);
	PQclear(res);
	wait_backend_gone(w.pid);
	/* without a database it waits for all; nothing is left to close */
	res = exec_ok(console2, "WAIT_CLOSE");
	PQclear(res);
	PQfinish(console2);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(suspend_holds_client_traffic_until_resume)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	console_ok(&fw, "SUSPEND");
	/* the console keeps working: an online restart reads SHOW FDS next */
	assert_show_value(&fw, "SHOW STATE", "key", "suspended", "value", "yes");
	send_query(c, "SELECT 9");
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	usleep(300 * 1000); /* not a measurement: give a wrong answer the chance to show */
	assert_no_answer_yet(c);
	console_ok(&fw, "RESUME");
	assert_answer(c, "9");
	assert_show_value(&fw, "SHOW STATE", "key", "suspended", "value", "no");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* ---- SHUTDOWN ----------------------------------------------------------- */

START_TEST(shutdown_exits_with_status_zero)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	/* the console may or may not see CommandComplete before the exit */
	PQclear(console_query(&fw, "SHUTDOWN"));
	fw_assert_exited_cleanly(&fw, "SHUTDOWN");
	PQfinish(c);
}
END_TEST

START_TEST(shutdown_wait_for_servers_lets_an_open_transaction_commit)
{
	struct fw fw;
	PGconn *c;
	long long id = (long long)getpid() * 10 + 2;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(c, "BEGIN"));
	insert_row(c, id, "wait-for-servers");
	PQclear(console_show(&fw, "SHOW VERSION")); /* opens the console */
	send_query(fw.console, "SHUTDOWN WAIT_FOR_SERVERS");
	fw_wait_new_clients_refused(&fw, "the shutdown command");
	ck_assert_msg(fw_still_running(&fw), "fairway exited with a transaction open\n%s",
	              fw_log_tail(&fw));
	ck_assert_int_eq(query_ll(c, "SELECT 3"), 3);
	PQclear(exec_ok(c, "COMMIT"));
	fw_assert_exited_cleanly(&fw, "SHUTDOWN WAIT_FOR_SERVERS and COMMIT");
	ck_assert_int_eq(rows_with_id(id), 1);
	PQfinish(c);
}
END_TEST

START_TEST(shutdown_wait_for_clients_exits_only_after_the_last_client_leaves)
{
	struct fw fw;
	PGconn *first, *last;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	first = fw_connect_ok(&fw, FW_AS_SUPER);
	last = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(console_show(&fw, "SHOW VERSION"));
	send_query(fw.console, "SHUTDOWN WAIT_FOR_CLIENTS");
	PQfinish(fw.console); /* the console is a client too */
	fw.console = NULL;
	fw_wait_new_clients_refused(&fw, "the shutdown command");
	fw_assert_query_answered(&fw, first, "SELECT 1", "1", "SHUTDOWN WAIT_FOR_CLIENTS");
	PQfinish(first);
	fw_assert_query_answered(&fw, last, "SELECT 2", "2", "SHUTDOWN WAIT_FOR_CLIENTS");
	ck_assert_msg(fw_still_running(&fw), "fairway exited while a client was connected\n%s",
	              fw_log_tail(&fw));
	PQfinish(last);
	fw_assert_exited_cleanly(&fw, "SHUTDOWN WAIT_FOR_CLIENTS and the last client leaving");
}
END_TEST

START_TEST(resume_during_shutdown_errors_pooler_is_shutting_down)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	PQclear(console_query(&fw, "SHUTDOWN WAIT_FOR_CLIENTS"));
	expect_query_error(fw.console, "RESUME", "08P01", "pooler is shutting down");
	PQfinish(c);
	fw_assert_exited_cleanly(&fw, "SHUTDOWN WAIT_FOR_CLIENTS and every client leaving");
}
END_TEST

START_TEST(console_over_the_unix_socket_still_answers_during_shutdown)
{
	struct fw fw;
	PGconn *c, *admin;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	PQclear(console_query(&fw, "SHUTDOWN WAIT_FOR_CLIENTS"));
	PQfinish(fw.console);
	fw.console = NULL;
	fw_wait_new_clients_refused(&fw, "the shutdown command");
	admin = fw_connect_unix(&fw, FW_AS_ADMIN);
	ck_assert_msg(PQstatus(admin) == CONNECTION_OK,
	              "the console over the Unix socket refused an admin during shutdown: %s",
	              PQerrorMessage(admin));
	res = exec_ok(admin, "SHOW VERSION");
	PQclear(res);
	PQfinish(admin);
	PQfinish(c);
	fw_assert_exited_cleanly(&fw, "SHUTDOWN WAIT_FOR_CLIENTS and every client leaving");
}
END_TEST

/* ---- SET ---------------------------------------------------------------- */

START_TEST(set_default_pool_size_shows_in_show_config)
{
	struct fw fw;
	char buf[32];

	fw_start(&fw, NULL, NULL, NULL, NULL);
	console_ok(&fw, "SET default_pool_size = 3");
	ck_assert_str_eq(config_value(&fw, "default_pool_size", buf, sizeof(buf)), "3");
	fw_stop(&fw);
}
END_TEST

START_TEST(set_of_a_key_that_cannot_change_errors_and_keeps_the_value)
{
	struct fw fw;
	char buf[32], port[16];

	fw_start(&fw, NULL, NULL, NULL, NULL);
	snprintf(port, sizeof(port), "%d", fw.port);
	PQclear(console_show(&fw, "SHOW VERSION"));
	expect_query_error(fw.console, "SET listen_port = 1", "08P01", NULL);
	ck_assert_int_eq(PQstatus(fw.console), CONNECTION_OK);
	ck_assert_str_eq(config_value(&fw, "listen_port", buf, sizeof(buf)), port);
	fw_stop(&fw);
}
END_TEST

START_TEST(set_of_an_unknown_key_errors_and_the_console_stays_usable)
{
	struct fw fw;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	PQclear(console_show(&fw, "SHOW VERSION"));
	expect_query_error(fw.console, "SET no_such_setting = 1", "08P01", NULL);
	ck_assert_int_eq(PQstatus(fw.console), CONNECTION_OK);
	PQclear(console_show(&fw, "SHOW CONFIG"));
	fw_stop(&fw);
}
END_TEST

/* ---- RELOAD ------------------------------------------------------------- */

START_TEST(reload_of_a_changed_database_applies_pool_size_and_closes_idle_servers)
{
	struct fw fw;
	PGconn *c;
	PGresult *res;
	long long before;

	fw_start(&fw, TRANSACTION_MODE, "testdb = @PG@ dbname=testdb pool_size=2\n", NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	before = query_ll(c, "SELECT pg_backend_pid()");
	fw_ini_replace(&fw, "pool_size=2", "pool_size=4");
	console_ok(&fw, "RELOAD");
	res = console_show(&fw, "SHOW DATABASES");
	ck_assert_int_eq(res_ll(res, res_find_row(res, "name", FW_TESTDB, NULL, NULL), "pool_size"),
	                 4);
	PQclear(res);
	wait_backend_gone(before);
	ck_assert_msg(fw_wait_log(&fw, "database configuration changed"),
	              "no \"database configuration changed\" in the log:\n%s", fw_log_tail(&fw));
	ck_assert_msg(query_ll(c, "SELECT pg_backend_pid()") != before,
	              "the changed database kept its old server");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(reload_after_removing_a_database_closes_its_clients)
{
	struct fw fw;
	PGconn *gone, *kept;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE, TWO_DBS, NULL, NULL);
	gone = fw_connect_ok(&fw, AS_SUPER_ON("otherdb"));
	kept = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(gone), 1);
	fw_write_config(&fw, TRANSACTION_MODE, FW_DB_DEFAULT, NULL, NULL);
	console_ok(&fw, "RELOAD");
	ck_assert_msg(fw_wait_log(&fw, "database removed"),
	              "no \"database removed\" in the log:\n%s", fw_log_tail(&fw));
	assert_connection_closed(gone, "removing otherdb");
	res = console_show(&fw, "SHOW DATABASES");
	ck_assert_int_lt(res_find_row(res, "name", "otherdb", NULL, NULL), 0);
	PQclear(res);
	ck_assert_int_eq(one_select(kept), 1);
	PQfinish(kept);
	fw_stop(&fw);
}
END_TEST

static int count_in_log(const struct fw *fw, const char *needle)
{
	char *log = read_file(fw->logfile);
	int n = 0;

	for (const char *p = log; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(log);
	return n;
}

START_TEST(reload_keeps_the_old_listen_port_with_a_warning)
{
	struct fw fw;
	char from[64], to[64], buf[32];
	PGconn *c;
	int before;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	snprintf(from, sizeof(from), "listen_port = %d\n", fw.port);
	snprintf(to, sizeof(to), "listen_port = %d\n", free_port());
	fw_ini_replace(&fw, from, to);
	before = count_in_log(&fw, "listen_port");
	console_ok(&fw, "RELOAD");
	snprintf(from, sizeof(from), "%d", fw.port);
	ck_assert_str_eq(config_value(&fw, "listen_port", buf, sizeof(buf)), from);
	ck_assert_msg(count_in_log(&fw, "listen_port") > before,
	              "no warning naming listen_port after RELOAD:\n%s", fw_log_tail(&fw));
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* ---- SHOW values after known traffic ------------------------------------ */

struct totals_wait {
	struct fw *fw;
	long long want;
};

static bool stats_totals_reached(void *arg)
{
	const struct totals_wait *w = arg;
	PGresult *res = console_show(w->fw, "SHOW STATS_TOTALS");
	int row = res_find_row(res, "database", FW_TESTDB, NULL, NULL);
	bool ok = row >= 0 && res_ll(res, row, "xact_count") >= w->want &&
	          res_ll(res, row, "query_count") >= w->want;

	PQclear(res);
	return ok;
}

START_TEST(stats_totals_count_exactly_five_single_statement_transactions)
{
	static const char *const counters[] = {"server_assignment_count",
	                                       "xact_count",
	                                       "query_count",
	                                       "bytes_received",
	                                       "bytes_sent",
	                                       "xact_time",
	                                       "query_time",
	                                       "wait_time",
	                                       NULL};
	struct fw fw;
	struct totals_wait w = {&fw, 5};
	PGresult *res;
	PGconn *c;
	int row;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(one_select(c), 1);
	PQfinish(c);
	ck_assert_msg(wait_until(stats_totals_reached, &w, FW_WAIT_MS),
	              "SHOW STATS_TOTALS never counted 5 transactions for testdb");
	res = console_show(&fw, "SHOW STATS_TOTALS");
	for (int i = 0; counters[i] != NULL; i++)
		assert_int8(res, "SHOW STATS_TOTALS", counters[i]);
	row = res_find_row(res, "database", FW_TESTDB, NULL, NULL);
	ck_assert_int_eq(res_ll(res, row, "xact_count"), 5);
	ck_assert_int_eq(res_ll(res, row, "query_count"), 5);
	ck_assert_int_eq(res_ll(res, row, "server_assignment_count"), 5);
	ck_assert_int_gt(res_ll(res, row, "bytes_received"), 0);
	ck_assert_int_gt(res_ll(res, row, "bytes_sent"), 0);
	PQclear(res);
	res = console_show(&fw, "SHOW STATS");
	assert_int8(res, "SHOW STATS", "total_xact_count");
	assert_int8(res, "SHOW STATS", "total_query_count");
	assert_int8(res, "SHOW STATS", "total_server_assignment_count");
	assert_int8(res, "SHOW STATS", "avg_query_count");
	PQclear(res);
	res = console_show(&fw, "SHOW TOTALS");
	assert_int8(res, "SHOW TOTALS", "value");
	/* totals also count console traffic: at least the five */
	row = res_find_row(res, "name", "total_xact_count", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_int_ge(res_ll(res, row, "value"), 5);
	row = res_find_row(res, "name", "total_query_count", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_int_ge(res_ll(res, row, "value"), 5);
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_clients_reports_idle_waiting_and_active_states)
{
	struct fw fw;
	PGconn *idle, *active, *waiting;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE, ONE_SERVER_DB, NULL, NULL);
	idle = fw_connect_ok(&fw, FW_AS_SUPER " application_name=st-idle");
	active = fw_connect_ok(&fw, FW_AS_SUPER " application_name=st-active");
	waiting = fw_connect_ok(&fw, FW_AS_SUPER " application_name=st-waiting");
	ck_assert_int_eq(one_select(idle), 1);
	PQclear(exec_ok(active, "BEGIN"));
	ck_assert_int_eq(one_select(active), 1);
	send_query(waiting, "SELECT 3");
	ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1));
	res = console_show(&fw, "SHOW CLIENTS");
	ck_assert_str_eq(
	    res_str(res, res_find_row(res, "application_name", "st-idle", NULL, NULL), "state"),
	    "idle");
	ck_assert_str_eq(
	    res_str(res, res_find_row(res, "application_name", "st-active", NULL, NULL), "state"),
	    "active");
	ck_assert_str_eq(
	    res_str(res, res_find_row(res, "application_name", "st-waiting", NULL, NULL), "state"),
	    "waiting");
	PQclear(res);
	PQclear(exec_ok(active, "COMMIT"));
	assert_answer(waiting, "3");
	PQfinish(idle);
	PQfinish(active);
	PQfinish(waiting);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_users_pool_size_is_empty_text_when_unset)
{
	struct fw fw;
	PGresult *res;
	int row;

	fw_start(&fw, NULL, NULL,
	         FW_SUPERUSER " = pool_mode=session\n" FW_TRUSTUSER " = pool_size=4", NULL);
	res = console_show(&fw, "SHOW USERS");
	ck_assert_msg(PQftype(res, col(res, "pool_size")) == 25,
	              "SHOW USERS pool_size has type oid %u, not text",
	              (unsigned)PQftype(res, col(res, "pool_size")));
	row = res_find_row(res, "name", FW_SUPERUSER, NULL, NULL);
	ck_assert_msg(row >= 0, "SHOW USERS has no row for %s from [users] (%d rows)", FW_SUPERUSER,
	              PQntuples(res));
	ck_assert_ptr_nonnull(res_str(res, row, "pool_size"));
	ck_assert_str_eq(res_str(res, row, "pool_size"), "");
	row = res_find_row(res, "name", FW_TRUSTUSER, NULL, NULL);
	ck_assert_msg(row >= 0, "SHOW USERS has no row for %s from [users] (%d rows)", FW_TRUSTUSER,
	              PQntuples(res));
	ck_assert_str_eq(res_str(res, row, "pool_size"), "4");
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

static long long list_items(const PGresult *lists, const char *name)
{
	int row = res_find_row(lists, "list", name, NULL, NULL);

	ck_assert_msg(row >= 0, "SHOW LISTS has no row %s", name);
	return res_ll(lists, row, "items");
}

static int show_rows(struct fw *fw, const char *sql)
{
	PGresult *res = console_show(fw, sql);
	int n = PQntuples(res);

	PQclear(res);
	return n;
}

START_TEST(show_lists_counts_agree_with_the_other_show_commands)
{
	struct fw fw;
	PGconn *a, *b;
	PGresult *lists;

	fw_start(&fw, TRANSACTION_MODE, TWO_DBS, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, AS_SUPER_ON("otherdb"));
	ck_assert_int_eq(one_select(a), 1);
	ck_assert_int_eq(one_select(b), 1);
	lists = console_show(&fw, "SHOW LISTS");
	ck_assert_int_eq(list_items(lists, "databases"), show_rows(&fw, "SHOW DATABASES"));
	ck_assert_int_eq(list_items(lists, "users"), show_rows(&fw, "SHOW USERS"));
	ck_assert_int_eq(list_items(lists, "pools"), show_rows(&fw, "SHOW POOLS"));
	ck_assert_int_eq(list_items(lists, "used_clients"), show_rows(&fw, "SHOW CLIENTS"));
	ck_assert_int_eq(list_items(lists, "used_servers"), show_rows(&fw, "SHOW SERVERS"));
	ck_assert_int_eq(list_items(lists, "login_clients"), 0);
	ck_assert_int_eq(list_items(lists, "peers"), 0);
	PQclear(lists);
	PQfinish(a);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

static const char *const mem_columns[] = {"name", "size", "used", "free", "memtotal", NULL};

static const char *const fds_columns[] = {
    "fd",        "task",     "user",     "database",         "addr",
    "port",      "cancel",   "link",     "client_encoding",  "std_strings",
    "datestyle", "timezone", "password", "scram_client_key", "scram_server_key",
    NULL,
};

static const char *const sockets_columns[] = {
    "type",
    "user",
    "database",
    "replication",
    "state",
    "addr",
    "port",
    "local_addr",
    "local_port",
    "connect_time",
    "request_time",
    "wait",
    "wait_us",
    "close_needed",
    "ptr",
    "link",
    "remote_pid",
    "tls",
    "application_name",
    "prepared_statements",
    "id",
    "recv_pos",
    "pkt_pos",
    "pkt_remain",
    "send_pos",
    "send_remain",
    "pkt_avail",
    "send_avail",
    NULL,
};

START_TEST(show_mem_fds_sockets_and_state_have_pgbouncer_columns)
{
	static const char *const state_columns[] = {"key", "value", NULL};
	struct fw fw;
	PGresult *res;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(one_select(c), 1);
	res = console_show(&fw, "SHOW MEM");
	assert_columns_start_with(res, "SHOW MEM", mem_columns);
	ck_assert_int_gt(PQntuples(res), 0);
	PQclear(res);
	res = console_show(&fw, "SHOW FDS");
	assert_columns_start_with(res, "SHOW FDS", fds_columns);
	PQclear(res);
	res = console_show(&fw, "SHOW SOCKETS");
	assert_columns_start_with(res, "SHOW SOCKETS", sockets_columns);
	ck_assert_int_ge(PQntuples(res), 2); /* the client and its server, at least */
	PQclear(res);
	res = console_show(&fw, "SHOW STATE");
	assert_columns_start_with(res, "SHOW STATE", state_columns);
	ck_assert_int_eq(PQnfields(res), 2);
	PQclear(res);
	assert_show_value(&fw, "SHOW STATE", "key", "active", "value", "yes");
	assert_show_value(&fw, "SHOW STATE", "key", "paused", "value", "no");
	assert_show_value(&fw, "SHOW STATE", "key", "suspended", "value", "no");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

static void collect_ids(struct fw *fw, const char *sql, long long *ids, int *n, int max)
{
	PGresult *res = console_show(fw, sql);

	for (int r = 0; r < PQntuples(res) && *n < max; r++)
		ids[(*n)++] = res_ll(res, r, "id");
	PQclear(res);
}

START_TEST(client_and_server_ids_come_from_one_counter)
{
	struct fw fw;
	long long ids[64];
	int n = 0, clients;
	PGconn *a, *b;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	ck_assert_int_eq(one_select(a), 1);
	PQclear(exec_ok(b, "BEGIN"));
	ck_assert_int_eq(one_select(b), 1);
	collect_ids(&fw, "SHOW CLIENTS", ids, &n, 64);
	clients = n;
	collect_ids(&fw, "SHOW SERVERS", ids, &n, 64);
	ck_assert_int_ge(clients, 3); /* a, b and the console */
	ck_assert_int_ge(n - clients, 2);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			ck_assert_msg(ids[i] != ids[j], "id %lld is shared by a %s and a %s",
			              ids[i], i < clients ? "client" : "server",
			              j < clients ? "client" : "server");
	PQclear(exec_ok(a, "COMMIT"));
	PQclear(exec_ok(b, "COMMIT"));
	PQfinish(a);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

START_TEST(stats_user_may_show_but_not_pause_kill_or_set)
{
	static const char *const refused[] = {
	    "PAUSE",
	    "PAUSE testdb",
	    "KILL testdb",
	    "KILL_CLIENT 1",
	    "SET default_pool_size = 3",
	    "DISABLE testdb",
	    "RECONNECT",
	    NULL,
	};
	struct fw fw;
	char buf[32];
	PGconn *stats, *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	stats = fw_connect_ok(&fw, "dbname=pgbouncer user=" FW_STATS " password=" FW_STATS_PW);
	PQclear(exec_ok(stats, "SHOW POOLS"));
	PQclear(exec_ok(stats, "SHOW CLIENTS"));
	PQclear(exec_ok(stats, "SHOW STATS_TOTALS"));
	for (int i = 0; refused[i] != NULL; i++) {
		expect_query_error(stats, refused[i], "08P01|42501", "admin access needed");
		ck_assert_int_eq(PQstatus(stats), CONNECTION_OK);
	}
	PQclear(exec_ok(stats, "SHOW VERSION"));
	assert_show_value(&fw, "SHOW STATE", "key", "paused", "value", "no");
	assert_show_value(&fw, "SHOW DATABASES", "name", FW_TESTDB, "disabled", "0");
	ck_assert_str_eq(config_value(&fw, "default_pool_size", buf, sizeof(buf)), "20");
	ck_assert_int_eq(one_select(c), 1);
	PQfinish(stats);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = tcase_create("admin");
	TCase *slow = tcase_create("admin-pgbench");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, pause_makes_a_query_wait_and_resume_answers_it);
	tcase_add_test(tc, pause_of_one_database_leaves_the_others_running);
	tcase_add_test(tc, disabled_database_refuses_new_clients_and_keeps_existing_ones);
	tcase_add_test(tc, kill_of_a_database_closes_its_clients_and_servers_only);
	tcase_add_test(tc, kill_without_a_database_closes_every_pool_but_the_console);
	tcase_add_test(tc, kill_client_closes_exactly_the_client_with_that_id);
	tcase_add_test(tc, reconnect_replaces_an_idle_server_with_a_new_backend);
	tcase_add_test(tc, wait_close_returns_once_a_reconnected_server_is_released_and_closed);
	tcase_add_test(tc, suspend_holds_client_traffic_until_resume);
	tcase_add_test(tc, shutdown_exits_with_status_zero);
	tcase_add_test(tc, shutdown_wait_for_servers_lets_an_open_transaction_commit);
	tcase_add_test(tc, shutdown_wait_for_clients_exits_only_after_the_last_client_leaves);
	tcase_add_test(tc, resume_during_shutdown_errors_pooler_is_shutting_down);
	tcase_add_test(tc, console_over_the_unix_socket_still_answers_during_shutdown);
	tcase_add_test(tc, set_default_pool_size_shows_in_show_config);
	tcase_add_test(tc, set_of_a_key_that_cannot_change_errors_and_keeps_the_value);
	tcase_add_test(tc, set_of_an_unknown_key_errors_and_the_console_stays_usable);
	tcase_add_test(tc, reload_of_a_changed_database_applies_pool_size_and_closes_idle_servers);
	tcase_add_test(tc, reload_after_removing_a_database_closes_its_clients);
	tcase_add_test(tc, reload_keeps_the_old_listen_port_with_a_warning);
	tcase_add_test(tc, stats_totals_count_exactly_five_single_statement_transactions);
	tcase_add_test(tc, show_clients_reports_idle_waiting_and_active_states);
	tcase_add_test(tc, show_users_pool_size_is_empty_text_when_unset);
	tcase_add_test(tc, show_lists_counts_agree_with_the_other_show_commands);
	tcase_add_test(tc, show_mem_fds_sockets_and_state_have_pgbouncer_columns);
	tcase_add_test(tc, client_and_server_ids_come_from_one_counter);
	tcase_add_test(tc, stats_user_may_show_but_not_pause_kill_or_set);
	suite_add_tcase(s, tc);
	tcase_set_timeout(slow, FW_SLOW_TIMEOUT);
	tcase_add_test(slow, pause_and_resume_under_pgbench_load_fail_no_transaction);
	suite_add_tcase(s, slow);
	return s;
}
