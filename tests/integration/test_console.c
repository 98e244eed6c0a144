/* The admin console: PgBouncer's SHOW commands with PgBouncer 1.25's columns
 * in wire order (PGBOUNCER-COMPAT.md section 2; Fairway may append columns
 * after them), the values that follow from what the test did, and who may
 * use the console on which database name. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"
#include "suites.h"

#define THREE_SERVER_DB "testdb = @PG@ dbname=testdb pool_size=3\n"

static const char *const pools_columns[] = {
    "database",
    "user",
    "cl_active",
    "cl_waiting",
    "cl_active_cancel_req",
    "cl_waiting_cancel_req",
    "sv_active",
    "sv_active_cancel",
    "sv_being_canceled",
    "sv_idle",
    "sv_used",
    "sv_tested",
    "sv_login",
    "maxwait",
    "maxwait_us",
    "pool_mode",
    "load_balance_hosts",
    NULL,
};

/* 1.25.2; master inserts total_/avg_client_login_count after *_bind_count */
static const char *const stats_columns[] = {
    "database",
    "total_server_assignment_count",
    "total_xact_count",
    "total_query_count",
    "total_received",
    "total_sent",
    "total_xact_time",
    "total_query_time",
    "total_wait_time",
    "total_client_parse_count",
    "total_server_parse_count",
    "total_bind_count",
    "avg_server_assignment_count",
    "avg_xact_count",
    "avg_query_count",
    "avg_recv",
    "avg_sent",
    "avg_xact_time",
    "avg_query_time",
    "avg_wait_time",
    "avg_client_parse_count",
    "avg_server_parse_count",
    "avg_bind_count",
    NULL,
};

static const char *const stats_totals_columns[] = {
    "database",
    "server_assignment_count",
    "xact_count",
    "query_count",
    "bytes_received",
    "bytes_sent",
    "xact_time",
    "query_time",
    "wait_time",
    "client_parse_count",
    "server_parse_count",
    "bind_count",
    NULL,
};

static const char *const stats_averages_columns[] = {
    "database",
    "server_assignment_count",
    "xact_count",
    "query_count",
    "bytes_received",
    "bytes_sent",
    "xact_time",
    "query_time",
    "wait_time",
    "avg_client_parse_count",
    "avg_server_parse_count",
    "avg_bind_count",
    NULL,
};

static const char *const totals_rows[] = {
    "total_server_assignment_count",
    "total_xact_count",
    "total_query_count",
    "total_client_bytes",
    "total_server_bytes",
    "total_xact_time",
    "total_query_time",
    "total_wait_time",
    "total_ps_client_parse_count",
    "total_ps_server_parse_count",
    "total_ps_bind_count",
    NULL,
};

static const char *const clients_columns[] = {
    "type",         "user",       "database",   "replication",      "state",
    "addr",         "port",       "local_addr", "local_port",       "connect_time",
    "request_time", "wait",       "wait_us",    "close_needed",     "ptr",
    "link",         "remote_pid", "tls",        "application_name", "prepared_statements",
    "id",           NULL,
};

static const char *const databases_columns[] = {
    "name",
    "host",
    "port",
    "database",
    "force_user",
    "pool_size",
    "min_pool_size",
    "reserve_pool_size",
    "server_lifetime",
    "pool_mode",
    "load_balance_hosts",
    "max_connections",
    "current_connections",
    "max_client_connections",
    "current_client_connections",
    "paused",
    "disabled",
    NULL,
};

static const char *const users_columns[] = {
    "name",
    "pool_size",
    "reserve_pool_size",
    "pool_mode",
    "max_user_connections",
    "current_connections",
    "max_user_client_connections",
    "current_client_connections",
    NULL,
};

static const char *const lists_rows[] = {
    "databases",    "users",        "peers",         "pools",        "peer_pools",
    "free_clients", "used_clients", "login_clients", "free_servers", "used_servers",
    "dns_names",    "dns_zones",    "dns_queries",   "dns_pending",  NULL,
};

static const char *const config_columns[] = {"key", "value", "default", "changeable", NULL};

static void assert_numeric(const PGresult *res, const char *column)
{
	Oid type = PQftype(res, col(res, column));

	/* int2, int4, int8, numeric: counters must not be text */
	ck_assert_msg(type == 20 || type == 21 || type == 23 || type == 1700,
	              "column %s has type oid %u, not a number", column, (unsigned)type);
}

static void assert_rows_in_order(const PGresult *res, const char *what, const char *column,
                                 const char *const names[])
{
	int c = col(res, column);

	for (int i = 0; names[i] != NULL; i++)
		ck_assert_msg(i < PQntuples(res) && strcmp(PQgetvalue(res, i, c), names[i]) == 0,
		              "%s: row %d should be %s, is %s", what, i + 1, names[i],
		              i < PQntuples(res) ? PQgetvalue(res, i, c) : "(missing)");
}

static void collect_notice(void *arg, const PGresult *res)
{
	char *buf = arg;
	size_t used = strlen(buf);

	snprintf(buf + used, 8192 - used, "%s", PQresultErrorMessage(res));
}

START_TEST(show_help_answers_with_a_notice_listing_commands)
{
	static char notices[8192];
	struct fw fw;
	PGresult *res;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	res = console_query(&fw, "SHOW VERSION"); /* opens fw.console */
	PQclear(res);
	notices[0] = '\0';
	PQsetNoticeReceiver(fw.console, collect_notice, notices);
	res = console_query(&fw, "SHOW HELP");
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "SHOW HELP: %s",
	              PQresStatus(PQresultStatus(res)));
	PQclear(res);
	ck_assert_msg(strstr(notices, "SHOW") != NULL && strstr(notices, "POOLS") != NULL &&
	                  strstr(notices, "RELOAD") != NULL,
	              "SHOW HELP notice does not list the commands: %s", notices);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_version_returns_one_version_row)
{
	struct fw fw;
	PGresult *res;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	res = console_show(&fw, "SHOW VERSION");
	ck_assert_int_eq(PQnfields(res), 1);
	ck_assert_str_eq(PQfname(res, 0), "version");
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_int_gt(strlen(PQgetvalue(res, 0, 0)), 0);
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_pools_has_pgbouncer_columns_in_order_and_live_counts)
{
	struct fw fw;
	PGconn *a, *b;
	PGresult *res;
	int row;

	fw_start(&fw, "pool_mode = transaction\n", THREE_SERVER_DB, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(a, "BEGIN"));
	ck_assert_int_eq(query_ll(a, "SELECT 1"), 1);
	res = console_show(&fw, "SHOW POOLS");
	assert_columns_start_with(res, "SHOW POOLS", pools_columns);
	assert_numeric(res, "cl_active");
	assert_numeric(res, "sv_active");
	assert_numeric(res, "maxwait_us");
	row = res_find_row(res, "database", FW_TESTDB, "user", FW_SUPERUSER);
	ck_assert_int_ge(row, 0);
	ck_assert_int_eq(res_ll(res, row, "cl_active"), 2);
	ck_assert_int_eq(res_ll(res, row, "cl_waiting"), 0);
	ck_assert_int_eq(res_ll(res, row, "sv_active"), 1);
	ck_assert_int_eq(res_ll(res, row, "maxwait"), 0);
	ck_assert_str_eq(res_str(res, row, "pool_mode"), "transaction");
	ck_assert_ptr_null(res_str(res, row, "load_balance_hosts"));
	PQclear(res);
	PQclear(exec_ok(a, "COMMIT"));
	PQfinish(a);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

struct stats_wait {
	struct fw *fw;
	long long want;
};

static bool stats_counted(void *arg)
{
	struct stats_wait *w = arg;
	PGresult *res = console_show(w->fw, "SHOW STATS");
	int row = res_find_row(res, "database", FW_TESTDB, NULL, NULL);
	bool ok = row >= 0 && res_ll(res, row, "total_query_count") >= w->want &&
	          res_ll(res, row, "total_xact_count") >= w->want;

	PQclear(res);
	return ok;
}

START_TEST(show_stats_has_pgbouncer_columns_in_order_and_counts_queries)
{
	struct fw fw;
	struct stats_wait w = {&fw, 5};
	PGresult *res;
	PGconn *c;

	fw_start(&fw, "pool_mode = transaction\nstats_period = 1\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	res = console_show(&fw, "SHOW STATS");
	assert_columns_start_with(res, "SHOW STATS", stats_columns);
	assert_numeric(res, "total_query_count");
	assert_numeric(res, "avg_wait_time");
	PQclear(res);
	ck_assert_msg(wait_until(stats_counted, &w, FW_WAIT_MS),
	              "SHOW STATS never counted 5 queries and transactions for testdb");
	fw_stop(&fw);
}
END_TEST

START_TEST(show_stats_totals_averages_and_totals_have_pgbouncer_shape)
{
	struct fw fw;
	PGresult *res;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	res = console_show(&fw, "SHOW STATS_TOTALS");
	assert_columns_start_with(res, "SHOW STATS_TOTALS", stats_totals_columns);
	PQclear(res);
	res = console_show(&fw, "SHOW STATS_AVERAGES");
	assert_columns_start_with(res, "SHOW STATS_AVERAGES", stats_averages_columns);
	PQclear(res);
	res = console_show(&fw, "SHOW TOTALS");
	ck_assert_int_eq(PQnfields(res), 2);
	ck_assert_str_eq(PQfname(res, 0), "name");
	ck_assert_str_eq(PQfname(res, 1), "value");
	assert_rows_in_order(res, "SHOW TOTALS", "name", totals_rows);
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_config_has_key_value_default_changeable)
{
	struct fw fw;
	PGresult *res;
	int row;

	fw_start(&fw, "default_pool_size = 7\n", NULL, NULL, NULL);
	res = console_show(&fw, "SHOW CONFIG");
	assert_columns_start_with(res, "SHOW CONFIG", config_columns);
	ck_assert_int_eq(PQnfields(res), 4);
	ck_assert_int_gt(PQntuples(res), 50);
	row = res_find_row(res, "key", "default_pool_size", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "value"), "7");
	ck_assert_str_eq(res_str(res, row, "default"), "20");
	ck_assert_str_eq(res_str(res, row, "changeable"), "yes");
	row = res_find_row(res, "key", "listen_port", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "default"), "6432");
	ck_assert_str_eq(res_str(res, row, "changeable"), "no");
	row = res_find_row(res, "key", "pool_mode", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "value"), "session");
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_config_rows_are_sorted_by_key)
{
	struct fw fw;
	PGresult *res;
	int c;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	res = console_show(&fw, "SHOW CONFIG");
	c = col(res, "key");
	for (int r = 1; r < PQntuples(res); r++)
		ck_assert_msg(strcmp(PQgetvalue(res, r - 1, c), PQgetvalue(res, r, c)) < 0,
		              "SHOW CONFIG: %s before %s", PQgetvalue(res, r - 1, c),
		              PQgetvalue(res, r, c));
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_lists_returns_one_row_per_list_in_pgbouncer_order)
{
	struct fw fw;
	PGresult *res;
	PGconn *c;
	int row;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	res = console_show(&fw, "SHOW LISTS");
	ck_assert_int_eq(PQnfields(res), 2);
	ck_assert_str_eq(PQfname(res, 0), "list");
	ck_assert_str_eq(PQfname(res, 1), "items");
	assert_numeric(res, "items");
	assert_rows_in_order(res, "SHOW LISTS", "list", lists_rows);
	row = res_find_row(res, "list", "databases", NULL, NULL);
	ck_assert_int_ge(res_ll(res, row, "items"), 1);
	/* the test client and the console itself */
	row = res_find_row(res, "list", "used_clients", NULL, NULL);
	ck_assert_int_ge(res_ll(res, row, "items"), 2);
	PQclear(res);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_databases_has_pgbouncer_columns_and_the_configured_entry)
{
	struct fw fw;
	PGresult *res;
	char port[16];
	int row;

	fw_start(&fw, NULL,
	         "testdb = @PG@ dbname=testdb pool_size=3 min_pool_size=0 pool_mode=transaction\n"
	         "forced = @PG@ dbname=testdb user=" FW_TRUSTUSER "\n",
	         NULL, NULL);
	res = console_show(&fw, "SHOW DATABASES");
	assert_columns_start_with(res, "SHOW DATABASES", databases_columns);
	assert_numeric(res, "pool_size");
	assert_numeric(res, "current_connections");
	row = res_find_row(res, "name", FW_TESTDB, NULL, NULL);
	ck_assert_int_ge(row, 0);
	snprintf(port, sizeof(port), "%d", pg_port());
	ck_assert_str_eq(res_str(res, row, "host"), "127.0.0.1");
	ck_assert_str_eq(res_str(res, row, "port"), port);
	ck_assert_str_eq(res_str(res, row, "database"), FW_TESTDB);
	ck_assert_int_eq(res_ll(res, row, "pool_size"), 3);
	ck_assert_str_eq(res_str(res, row, "pool_mode"), "transaction");
	ck_assert_int_eq(res_ll(res, row, "paused"), 0);
	ck_assert_int_eq(res_ll(res, row, "disabled"), 0);
	row = res_find_row(res, "name", "forced", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "force_user"), FW_TRUSTUSER);
	ck_assert_int_ge(res_find_row(res, "name", "pgbouncer", NULL, NULL), 0);
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_users_has_pgbouncer_columns)
{
	struct fw fw;
	PGresult *res;
	PGconn *c;

	fw_start(&fw, NULL, NULL, "fwsuper = pool_mode=statement\n", NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	res = console_show(&fw, "SHOW USERS");
	assert_columns_start_with(res, "SHOW USERS", users_columns);
	ck_assert_int_ge(res_find_row(res, "name", FW_SUPERUSER, "pool_mode", "statement"), 0);
	PQclear(res);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* The client's own port, as the pooler sees it from the other end. */
static long long local_port_of(PGconn *c)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	ck_assert(getsockname(PQsocket(c), (struct sockaddr *)&sa, &len) == 0);
	return ntohs(sa.sin_port);
}

START_TEST(show_clients_lists_a_connected_client)
{
	struct fw fw;
	PGresult *res;
	PGconn *c;
	int row;

	fw_start(&fw, "pool_mode = transaction\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER " application_name=show-me");
	PQclear(exec_ok(c, "BEGIN"));
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	res = console_show(&fw, "SHOW CLIENTS");
	assert_columns_start_with(res, "SHOW CLIENTS", clients_columns);
	row = res_find_row(res, "application_name", "show-me", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "type"), "C");
	ck_assert_str_eq(res_str(res, row, "user"), FW_SUPERUSER);
	ck_assert_str_eq(res_str(res, row, "database"), FW_TESTDB);
	ck_assert_str_eq(res_str(res, row, "state"), "active");
	ck_assert_str_eq(res_str(res, row, "addr"), "127.0.0.1");
	ck_assert_int_eq(res_ll(res, row, "port"), local_port_of(c));
	ck_assert_int_eq(res_ll(res, row, "local_port"), fw.port);
	PQclear(res);
	PQclear(exec_ok(c, "COMMIT"));
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(show_servers_lists_the_server_of_an_active_client)
{
	struct fw fw;
	PGresult *res;
	PGconn *c;
	long long backend;
	char port[16];
	int row;

	fw_start(&fw, "pool_mode = transaction\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(c, "BEGIN"));
	backend = query_ll(c, "SELECT pg_backend_pid()");
	res = console_show(&fw, "SHOW SERVERS");
	assert_columns_start_with(res, "SHOW SERVERS", clients_columns);
	row = res_find_row(res, "state", "active", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "type"), "S");
	ck_assert_str_eq(res_str(res, row, "user"), FW_SUPERUSER);
	ck_assert_str_eq(res_str(res, row, "database"), FW_TESTDB);
	snprintf(port, sizeof(port), "%d", pg_port());
	ck_assert_str_eq(res_str(res, row, "port"), port);
	ck_assert_int_eq(res_ll(res, row, "remote_pid"), backend);
	PQclear(res);
	PQclear(exec_ok(c, "COMMIT"));
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(unknown_console_command_errors_and_the_connection_stays_usable)
{
	struct fw fw;
	PGresult *res;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	res = console_show(&fw, "SHOW VERSION");
	PQclear(res);
	expect_query_error(fw.console, "FROBNICATE THE POOLS", "08P01|42601", NULL);
	expect_query_error(fw.console, "SHOW NO_SUCH_THING", "08P01|42601", NULL);
	ck_assert_int_eq(PQstatus(fw.console), CONNECTION_OK);
	res = console_show(&fw, "SHOW POOLS");
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(admin_user_may_show_and_reload)
{
	struct fw fw;
	PGresult *res;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	res = console_show(&fw, "SHOW POOLS");
	PQclear(res);
	res = console_query(&fw, "RELOAD");
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "admin RELOAD: %s",
	              PQresultErrorMessage(res));
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(stats_user_may_show_but_not_reload)
{
	struct fw fw;
	PGconn *c;
	PGresult *res;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, "dbname=pgbouncer user=" FW_STATS " password=" FW_STATS_PW);
	PQclear(exec_ok(c, "SHOW POOLS"));
	PQclear(exec_ok(c, "SHOW STATS"));
	expect_query_error(c, "RELOAD", "08P01|42501", "admin access needed");
	res = exec_ok(c, "SHOW VERSION");
	PQclear(res);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(other_user_is_refused_the_console)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	c = fw_connect(&fw, "dbname=pgbouncer user=" FW_TRUSTUSER " password=" FW_TRUST_PW);
	expect_connect_error(c, "08P01|28000|42501", "not allowed");
	/* the same user may use ordinary databases */
	c = fw_connect_ok(&fw, "dbname=testdb user=" FW_TRUSTUSER " password=" FW_TRUST_PW);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* Runs in a child with the daemon's uid: no Check assertions here. */
static bool pgbouncer_user_gets_console(void *arg)
{
	const struct fw *fw = arg;
	char conninfo[PATH_MAX + 128];
	PGconn *c;
	PGresult *res;
	bool ok;

	snprintf(conninfo, sizeof(conninfo), "host=%s port=%d user=pgbouncer dbname=pgbouncer",
	         fw->dir, fw->port);
	c = PQconnectdb(conninfo);
	res = PQexec(c, "SHOW VERSION");
	ok = PQstatus(c) == CONNECTION_OK && PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "pgbouncer over the Unix socket: %s\n", PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok;
}

START_TEST(pgbouncer_user_over_unix_socket_needs_no_password)
{
	struct fw fw;

	/* "pgbouncer" is in neither auth_file nor admin_users */
	fw_start(&fw, "auth_type = md5\n", NULL, NULL, NULL);
	ck_assert_msg(run_as_daemon_user(pgbouncer_user_gets_console, &fw),
	              "user pgbouncer from the daemon's uid was refused:\n%s", fw_log_tail(&fw));
	/* over TCP the same name proves nothing and gets no console */
	expect_connect_error(fw_connect(&fw, "dbname=pgbouncer user=pgbouncer password=x"), NULL,
	                     NULL);
	fw_stop(&fw);
}
END_TEST

static void console_on(const char *dbname)
{
	struct fw fw;
	PGconn *c;
	PGresult *res;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, "dbname=%s user=%s password=%s", dbname, FW_ADMIN, FW_ADMIN_PW);
	res = exec_ok(c, "SHOW POOLS");
	assert_columns_start_with(res, "SHOW POOLS", pools_columns);
	PQclear(res);
	PQclear(exec_ok(c, "SHOW VERSION"));
	PQfinish(c);
	fw_stop(&fw);
}

START_TEST(console_answers_on_the_pgbouncer_database_name)
{
	console_on("pgbouncer");
}
END_TEST

START_TEST(console_answers_on_the_fairway_database_name)
{
	console_on("fairway");
}
END_TEST

Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("console");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, show_help_answers_with_a_notice_listing_commands);
	tcase_add_test(tc, show_version_returns_one_version_row);
	tcase_add_test(tc, show_pools_has_pgbouncer_columns_in_order_and_live_counts);
	tcase_add_test(tc, show_stats_has_pgbouncer_columns_in_order_and_counts_queries);
	tcase_add_test(tc, show_stats_totals_averages_and_totals_have_pgbouncer_shape);
	tcase_add_test(tc, show_config_has_key_value_default_changeable);
	tcase_add_test(tc, show_config_rows_are_sorted_by_key);
	tcase_add_test(tc, show_lists_returns_one_row_per_list_in_pgbouncer_order);
	tcase_add_test(tc, show_databases_has_pgbouncer_columns_and_the_configured_entry);
	tcase_add_test(tc, show_users_has_pgbouncer_columns);
	tcase_add_test(tc, show_clients_lists_a_connected_client);
	tcase_add_test(tc, show_servers_lists_the_server_of_an_active_client);
	tcase_add_test(tc, unknown_console_command_errors_and_the_connection_stays_usable);
	tcase_add_test(tc, admin_user_may_show_and_reload);
	tcase_add_test(tc, stats_user_may_show_but_not_reload);
	tcase_add_test(tc, other_user_is_refused_the_console);
	tcase_add_test(tc, pgbouncer_user_over_unix_socket_needs_no_password);
	tcase_add_test(tc, console_answers_on_the_pgbouncer_database_name);
	tcase_add_test(tc, console_answers_on_the_fairway_database_name);
	suite_add_tcase(s, tc);
	return s;
}
