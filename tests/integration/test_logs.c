/* The log file as operators grep it (PGBOUNCER-COMPAT.md section 6): one
 * event per line in PgBouncer's shapes, an object prefix ending in
 * db/user@host:port, "closing because: <reason> (age=Ns)" with PgBouncer's
 * reasons, server logins, the periodic stats line, the switches that silence
 * connection and disconnection lines, and no password in the log whatever
 * the authentication method. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "suites.h"

#define TRANSACTION_MODE "pool_mode = transaction\n"
#define ONE_SERVER_DB    "testdb = @PG@ dbname=testdb pool_size=1\n"

static void expect_log(const struct fw *fw, const char *needle)
{
	ck_assert_msg(fw_wait_log(fw, needle), "no \"%s\" in the log:\n%s", needle,
	              fw_log_tail(fw));
}

/* The one line of the log that contains needle and, if given, also and. */
static bool log_line_with(const struct fw *fw, const char *needle, const char *and)
{
	char *log = read_file(fw->logfile);
	bool found = false;

	for (char *line = log; line != NULL && *line != '\0' && !found;) {
		char *end = strchr(line, '\n');

		if (end != NULL)
			*end = '\0';
		found = strstr(line, needle) != NULL && (and == NULL || strstr(line, and) != NULL);
		line = end != NULL ? end + 1 : NULL;
	}
	free(log);
	return found;
}

START_TEST(login_is_logged_with_database_user_and_client_address)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	expect_log(&fw, "login attempt: db=testdb user=" FW_SUPERUSER);
	ck_assert_msg(log_line_with(&fw, "login attempt: db=testdb user=" FW_SUPERUSER,
	                            "testdb/" FW_SUPERUSER "@127.0.0.1:"),
	              "the login line lacks the testdb/fwsuper@127.0.0.1:port prefix:\n%s",
	              fw_log_tail(&fw));
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(client_disconnect_is_logged_as_client_close_request_with_age)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	expect_log(&fw, "closing because: client close request (age=");
	ck_assert_msg(log_line_with(&fw, "closing because: client close request (age=",
	                            "testdb/" FW_SUPERUSER "@127.0.0.1:"),
	              "the close line lacks the testdb/fwsuper@127.0.0.1:port prefix:\n%s",
	              fw_log_tail(&fw));
	fw_stop(&fw);
}
END_TEST

START_TEST(server_login_is_logged_as_new_connection_from_the_local_address)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	expect_log(&fw, "new connection to server (from 127.0.0.1:");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(query_wait_timeout_is_logged_as_the_close_reason)
{
	struct fw fw;
	PGconn *holder, *waiter;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE "query_wait_timeout = 1\n", ONE_SERVER_DB, NULL, NULL);
	holder = fw_connect_ok(&fw, FW_AS_SUPER);
	waiter = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(holder, "BEGIN"));
	ck_assert_int_eq(query_ll(holder, "SELECT 1"), 1);
	res = PQexec(waiter, "SELECT 2");
	ck_assert_msg(PQresultStatus(res) != PGRES_TUPLES_OK,
	              "the waiter was served with the only server taken");
	PQclear(res);
	expect_log(&fw, "closing because: query_wait_timeout (age=");
	PQclear(exec_ok(holder, "COMMIT"));
	PQfinish(waiter);
	PQfinish(holder);
	fw_stop(&fw);
}
END_TEST

START_TEST(server_idle_timeout_is_logged_as_the_close_reason)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE "server_idle_timeout = 1\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	expect_log(&fw, "closing because: server idle timeout (age=");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(wrong_password_is_logged_as_the_close_reason)
{
	struct fw fw;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=" FW_MD5USER " password=not-the-password"), NULL,
	    "password authentication failed");
	expect_log(&fw, "closing because: password authentication failed (age=");
	fw_stop(&fw);
}
END_TEST

START_TEST(unknown_database_is_logged_as_the_close_reason)
{
	struct fw fw;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	expect_connect_error(fw_connect(&fw, "dbname=nosuchdb " FW_AS_SUPER_CREDENTIALS), NULL,
	                     "no such database: nosuchdb");
	expect_log(&fw, "closing because: no such database: nosuchdb (age=");
	fw_stop(&fw);
}
END_TEST

START_TEST(log_connections_off_suppresses_login_lines)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, "log_connections = 0\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	/* the disconnect line, still on, says the login was handled long ago */
	expect_log(&fw, "closing because: client close request");
	ck_assert_msg(!fw_log_contains(&fw, "login attempt"),
	              "log_connections = 0 still logged a login:\n%s", fw_log_tail(&fw));
	fw_stop(&fw);
}
END_TEST

struct used_clients_wait {
	struct fw *fw;
	long long want;
};

static bool used_clients_are(void *arg)
{
	const struct used_clients_wait *w = arg;
	PGresult *res = console_show(w->fw, "SHOW LISTS");
	int row = res_find_row(res, "list", "used_clients", NULL, NULL);
	bool ok = row >= 0 && res_ll(res, row, "items") == w->want;

	PQclear(res);
	return ok;
}

START_TEST(log_disconnections_off_suppresses_close_lines)
{
	struct fw fw;
	struct used_clients_wait only_console = {&fw, 1};
	PGconn *c;

	fw_start(&fw, "log_disconnections = 0\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	expect_log(&fw, "login attempt: db=testdb");
	PQfinish(c);
	ck_assert_msg(wait_until(used_clients_are, &only_console, FW_WAIT_MS),
	              "the client never left SHOW LISTS used_clients");
	ck_assert_msg(!fw_log_contains(&fw, "closing because: client close request"),
	              "log_disconnections = 0 still logged a disconnect:\n%s", fw_log_tail(&fw));
	fw_stop(&fw);
}
END_TEST

START_TEST(stats_line_is_logged_every_stats_period)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, "stats_period = 1\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	expect_log(&fw, "stats: ");
	ck_assert_msg(
	    fw_wait_log(&fw, " xacts/s") && log_line_with(&fw, "stats: ", "queries/s"),
	    "the stats line is not PgBouncer's \"stats: N xacts/s, N queries/s, ...\":\n%s",
	    fw_log_tail(&fw));
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

static void assert_no_password_in_log(const struct fw *fw, const char *auth_type)
{
	static const char *const secrets[] = {FW_SUPER_PW,       FW_MD5_PW,   FW_SCRAM_PW,
	                                      FW_TRUST_PW,       FW_ADMIN_PW, FW_STATS_PW,
	                                      "wrong-secret-77", NULL};

	for (int i = 0; secrets[i] != NULL; i++)
		ck_assert_msg(!fw_log_contains(fw, secrets[i]),
		              "auth_type = %s: the password \"%s\" is in the log:\n%s", auth_type,
		              secrets[i], fw_log_tail(fw));
}

static void logins_leave_no_password_in_the_log(const char *auth_type)
{
	static const char *const users[][2] = {
	    {FW_SUPERUSER, FW_SUPER_PW},
	    {FW_MD5USER, FW_MD5_PW},
	    {FW_SCRAMUSER, FW_SCRAM_PW},
	    {FW_TRUSTUSER, FW_TRUST_PW},
	};
	char extra[128];
	struct fw fw;
	PGconn *c;

	snprintf(extra, sizeof(extra), "auth_type = %s\nverbose = 2\nstats_period = 1\n",
	         auth_type);
	fw_start(&fw, extra, NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		c = fw_connect_ok(&fw, "dbname=testdb user=%s password=%s", users[i][0],
		                  users[i][1]);
		ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
		PQfinish(c);
	}
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=" FW_MD5USER " password=wrong-secret-77"), NULL,
	    NULL);
	c = fw_connect_ok(&fw, "dbname=pgbouncer user=" FW_STATS " password=" FW_STATS_PW);
	PQclear(exec_ok(c, "SHOW POOLS"));
	PQfinish(c);
	PQclear(console_show(&fw, "SHOW CONFIG"));
	expect_log(&fw, "closing because: client close request");
	expect_log(&fw, "stats: ");
	assert_no_password_in_log(&fw, auth_type);
	fw_stop(&fw);
}

START_TEST(md5_logins_leave_no_password_in_the_log)
{
	logins_leave_no_password_in_the_log("md5");
}
END_TEST

START_TEST(plain_logins_leave_no_password_in_the_log)
{
	logins_leave_no_password_in_the_log("plain");
}
END_TEST

START_TEST(scram_logins_leave_no_password_in_the_log)
{
	logins_leave_no_password_in_the_log("scram-sha-256");
}
END_TEST

Suite *logs_suite(void)
{
	Suite *s = suite_create("logs");
	TCase *tc = tcase_create("logs");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, login_is_logged_with_database_user_and_client_address);
	tcase_add_test(tc, client_disconnect_is_logged_as_client_close_request_with_age);
	tcase_add_test(tc, server_login_is_logged_as_new_connection_from_the_local_address);
	tcase_add_test(tc, query_wait_timeout_is_logged_as_the_close_reason);
	tcase_add_test(tc, server_idle_timeout_is_logged_as_the_close_reason);
	tcase_add_test(tc, wrong_password_is_logged_as_the_close_reason);
	tcase_add_test(tc, unknown_database_is_logged_as_the_close_reason);
	tcase_add_test(tc, log_connections_off_suppresses_login_lines);
	tcase_add_test(tc, log_disconnections_off_suppresses_close_lines);
	tcase_add_test(tc, stats_line_is_logged_every_stats_period);
	tcase_add_test(tc, md5_logins_leave_no_password_in_the_log);
	tcase_add_test(tc, plain_logins_leave_no_password_in_the_log);
	tcase_add_test(tc, scram_logins_leave_no_password_in_the_log);
	suite_add_tcase(s, tc);
	return s;
}
