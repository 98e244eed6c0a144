/* Configuration as operators meet it: errors that name file, line and key
 * and stop the start, the ini forms pgbouncer.ini files use (comments,
 * duplicate keys, %include, long lines, a [fairway] main section), and
 * RELOAD / SIGHUP applying a new pool size or keeping the old config when
 * the new one is bad. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "suites.h"

/* Starts a daemon that must refuse its config; returns its log and stderr. */
static void expect_refused_start(struct fw *fw, const char *main_extra, const char *databases)
{
	memset(fw, 0, sizeof(*fw));
	fw_write_config(fw, main_extra, databases, NULL, NULL);
	fw_spawn(fw);
	ck_assert_msg(fw_wait_exit(fw, FW_START_MS), "fairway started with a bad config:\n%s",
	              fw_log_tail(fw));
	ck_assert_msg(WIFEXITED(fw->exit_status) && WEXITSTATUS(fw->exit_status) != 0,
	              "fairway exited with status 0x%x on a bad config", (unsigned)fw->exit_status);
	fw_assert_no_sanitizer_report(fw);
}

static void assert_log_names_line(const struct fw *fw, const char *key)
{
	char where[64];
	int line = fw_ini_line_of(fw, key);

	ck_assert_int_gt(line, 0);
	snprintf(where, sizeof(where), "fairway.ini:%d", line);
	ck_assert_msg(fw_log_contains(fw, where), "no \"%s\" in the log:\n%s", where,
	              fw_log_tail(fw));
	ck_assert_msg(fw_log_contains(fw, key), "the log does not name %s:\n%s", key,
	              fw_log_tail(fw));
}

START_TEST(bad_value_stops_the_start_and_names_file_line_and_key)
{
	struct fw fw;

	expect_refused_start(&fw, "default_pool_size = lots\n", NULL);
	assert_log_names_line(&fw, "default_pool_size");
	ck_assert(fw_log_contains(&fw, "lots"));
}
END_TEST

START_TEST(bad_pool_mode_stops_the_start_and_names_file_line_and_key)
{
	struct fw fw;

	expect_refused_start(&fw, "pool_mode = sometimes\n", NULL);
	assert_log_names_line(&fw, "pool_mode");
}
END_TEST

START_TEST(unknown_connection_string_parameter_stops_the_start)
{
	struct fw fw;

	/* PgBouncer treats an unknown connection-string key as fatal */
	expect_refused_start(&fw, NULL, "testdb = @PG@ dbname=testdb bogus_param=1\n");
	ck_assert_msg(fw_log_contains(&fw, "bogus_param"), "the log does not name the key:\n%s",
	              fw_log_tail(&fw));
}
END_TEST

START_TEST(unknown_key_is_a_warning_with_file_and_line)
{
	struct fw fw;
	PGconn *c;

	/* Fairway warns and starts (DESIGN.md 6); PgBouncer 1.18 refuses */
	fw_start(&fw, "no_such_setting = 1\n", NULL, NULL, NULL);
	assert_log_names_line(&fw, "no_such_setting");
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(fairway_main_section_name_is_accepted)
{
	struct fw fw;
	char buf[32], port[16];

	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, "default_pool_size = 3\n", NULL, NULL, NULL);
	fw_ini_replace(&fw, "[pgbouncer]", "[fairway]");
	fw_spawn(&fw);
	fw_wait_listening(&fw); /* listen_port came from [fairway] */
	snprintf(port, sizeof(port), "%d", fw.port);
	ck_assert_str_eq(config_value(&fw, "listen_port", buf, sizeof(buf)), port);
	ck_assert_str_eq(config_value(&fw, "default_pool_size", buf, sizeof(buf)), "3");
	fw_stop(&fw);
}
END_TEST

START_TEST(ini_comments_duplicate_keys_and_empty_values_read_as_pgbouncer_does)
{
	struct fw fw;
	char buf[64];

	fw_start(&fw,
	         "; a comment\n"
	         "# another comment\n"
	         "default_pool_size = 2\n"
	         "default_pool_size=4\n"
	         "server_reset_query =\n",
	         NULL, NULL, NULL);
	ck_assert_str_eq(config_value(&fw, "default_pool_size", buf, sizeof(buf)), "4");
	ck_assert_str_eq(config_value(&fw, "server_reset_query", buf, sizeof(buf)), "");
	fw_stop(&fw);
}
END_TEST

START_TEST(include_directive_reads_another_file)
{
	struct fw fw;
	char path[PATH_MAX + 32], line[PATH_MAX + 64], buf[32];

	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, "default_pool_size = 2\n", NULL, NULL, NULL);
	fw_write_file(&fw, "included.ini", "default_pool_size = 6\n", path, sizeof(path));
	snprintf(line, sizeof(line), "default_pool_size = 2\n%%include %s\n", path);
	fw_ini_replace(&fw, "default_pool_size = 2\n", line);
	fw_spawn(&fw);
	fw_wait_listening(&fw);
	ck_assert_str_eq(config_value(&fw, "default_pool_size", buf, sizeof(buf)), "6");
	fw_stop(&fw);
}
END_TEST

START_TEST(long_database_line_is_read_whole)
{
	char databases[1024], padding[401];
	struct fw fw;
	PGresult *res;
	PGconn *c;
	int row;

	memset(padding, 'x', sizeof(padding) - 1);
	padding[sizeof(padding) - 1] = '\0';
	/* the key that proves it comes last, far past inih's default 200 bytes */
	snprintf(databases, sizeof(databases),
	         "testdb = @PG@ dbname=testdb connect_query='SELECT 1 /* %s */' pool_size=3\n",
	         padding);
	fw_start(&fw, NULL, databases, NULL, NULL);
	res = console_show(&fw, "SHOW DATABASES");
	row = res_find_row(res, "name", FW_TESTDB, NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_int_eq(res_ll(res, row, "pool_size"), 3);
	PQclear(res);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* With the pool at size 1 a second transaction waits; at size 2 it runs. */
static void assert_pool_takes(struct fw *fw, int servers)
{
	PGconn *a = fw_connect_ok(fw, FW_AS_SUPER);
	PGconn *b = fw_connect_ok(fw, FW_AS_SUPER);
	PGresult *res;

	PQclear(exec_ok(a, "BEGIN"));
	ck_assert_int_eq(query_ll(a, "SELECT 1"), 1);
	ck_assert(PQsendQuery(b, "BEGIN; SELECT 2"));
	if (servers == 1) {
		ck_assert_msg(wait_pool_stat(fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1),
		              "with pool size 1 the second transaction did not wait");
		PQclear(exec_ok(a, "COMMIT"));
		res = get_result_ok(b);
	} else {
		/* query_wait_timeout = 10 turns "still size 1" into an error */
		res = get_result_ok(b);
		ck_assert_int_eq(pool_stat(fw, FW_TESTDB, FW_SUPERUSER, "sv_active"), 2);
		PQclear(exec_ok(a, "COMMIT"));
	}
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "2");
	PQclear(res);
	PQclear(exec_ok(b, "COMMIT"));
	PQfinish(a);
	PQfinish(b);
}

struct config_wait {
	struct fw *fw;
	const char *key, *want;
};

static bool config_is(void *arg)
{
	struct config_wait *w = arg;
	char buf[256];

	return strcmp(config_value(w->fw, w->key, buf, sizeof(buf)), w->want) == 0;
}

#define SIZE_1 "pool_mode = transaction\nquery_wait_timeout = 10\ndefault_pool_size = 1\n"
#define SIZE_2 "pool_mode = transaction\nquery_wait_timeout = 10\ndefault_pool_size = 2\n"

static void reload_changes_pool_size(bool by_signal)
{
	struct fw fw;
	struct config_wait w = {&fw, "default_pool_size", "2"};
	PGresult *res;

	fw_start(&fw, SIZE_1, NULL, NULL, NULL);
	assert_pool_takes(&fw, 1);
	fw_write_config(&fw, SIZE_2, NULL, NULL, NULL);
	if (by_signal) {
		fw_reload(&fw);
	} else {
		res = console_query(&fw, "RELOAD");
		ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "RELOAD: %s",
		              PQresultErrorMessage(res));
		PQclear(res);
	}
	ck_assert_msg(wait_until(config_is, &w, FW_WAIT_MS), "default_pool_size never became 2");
	assert_pool_takes(&fw, 2);
	fw_stop(&fw);
}

START_TEST(console_reload_applies_a_new_default_pool_size)
{
	reload_changes_pool_size(false);
}
END_TEST

START_TEST(sighup_applies_a_new_default_pool_size)
{
	reload_changes_pool_size(true);
}
END_TEST

START_TEST(console_reload_of_a_bad_config_fails_and_keeps_the_old_one)
{
	struct fw fw;
	char buf[32];
	PGresult *res;
	PGconn *c;

	fw_start(&fw, SIZE_1, NULL, NULL, NULL);
	fw_write_config(&fw, "pool_mode = transaction\ndefault_pool_size = lots\n", NULL, NULL,
	                NULL);
	res = console_query(&fw, "RELOAD");
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "RELOAD of a bad config: %s",
	              PQresStatus(PQresultStatus(res)));
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "F0000");
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
	                 "RELOAD failed, see logs for additional details");
	PQclear(res);
	assert_log_names_line(&fw, "default_pool_size");
	ck_assert_str_eq(config_value(&fw, "default_pool_size", buf, sizeof(buf)), "1");
	ck_assert_str_eq(config_value(&fw, "query_wait_timeout", buf, sizeof(buf)), "10");
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(sighup_with_a_bad_config_keeps_the_old_one)
{
	struct fw fw;
	char where[64], buf[32];
	PGconn *c;

	fw_start(&fw, SIZE_1, NULL, NULL, NULL);
	fw_write_config(&fw, "pool_mode = transaction\ndefault_pool_size = lots\n", NULL, NULL,
	                NULL);
	fw_reload(&fw);
	snprintf(where, sizeof(where), "fairway.ini:%d", fw_ini_line_of(&fw, "default_pool_size"));
	ck_assert_msg(fw_wait_log(&fw, where), "no \"%s\" in the log:\n%s", where,
	              fw_log_tail(&fw));
	/* every setting stays as it was, not only the bad one */
	ck_assert_str_eq(config_value(&fw, "default_pool_size", buf, sizeof(buf)), "1");
	ck_assert_str_eq(config_value(&fw, "query_wait_timeout", buf, sizeof(buf)), "10");
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, bad_value_stops_the_start_and_names_file_line_and_key);
	tcase_add_test(tc, bad_pool_mode_stops_the_start_and_names_file_line_and_key);
	tcase_add_test(tc, unknown_connection_string_parameter_stops_the_start);
	tcase_add_test(tc, unknown_key_is_a_warning_with_file_and_line);
	tcase_add_test(tc, fairway_main_section_name_is_accepted);
	tcase_add_test(tc, ini_comments_duplicate_keys_and_empty_values_read_as_pgbouncer_does);
	tcase_add_test(tc, include_directive_reads_another_file);
	tcase_add_test(tc, long_database_line_is_read_whole);
	tcase_add_test(tc, console_reload_applies_a_new_default_pool_size);
	tcase_add_test(tc, sighup_applies_a_new_default_pool_size);
	tcase_add_test(tc, console_reload_of_a_bad_config_fails_and_keeps_the_old_one);
	tcase_add_test(tc, sighup_with_a_bad_config_keeps_the_old_one);
	suite_add_tcase(s, tc);
	return s;
}
