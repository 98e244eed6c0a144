/* auth_type = hba against a real daemon: the first matching auth_hba_file
 * line picks trust, md5, scram-sha-256, password, reject or peer; no line
 * means a PostgreSQL-style refusal; address masks; local (Unix socket) vs
 * host lines; peer with and without an auth_ident_file map, for the user the
 * tests run as; the console goes through the rules too; RELOAD applies a
 * changed file and keeps the old rules when the new file is broken; a broken
 * file stops the start; the replication startup parameter is matched. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* Every rule set lets the harness's console user in (fw_stop needs it). */
#define CONSOLE_LINE "host pgbouncer " FW_ADMIN " 127.0.0.1/32 md5\n"

#define REFUSED_STATES "28000|08P01"

/* The operating-system user the tests run as (peer sees this one). */
static const char *os_user(void)
{
	static char name[256];
	struct passwd *pw = getpwuid(geteuid());

	ck_assert_ptr_nonnull(pw);
	snprintf(name, sizeof(name), "%s", pw->pw_name);
	return name;
}

/* Writes hba.conf (and ident.conf when ident != NULL) into the daemon's
 * directory and the ini that names them, with main_extra lines after. */
static void write_hba_config(struct fw *fw, const char *rules, const char *ident,
                             const char *main_extra, const char *userlist)
{
	char hba_path[PATH_MAX], ident_path[PATH_MAX], extra[3 * PATH_MAX + 1024];

	if (fw->dir[0] == '\0')
		fw_write_config(fw, "", NULL, NULL, userlist); /* creates the directory */
	fw_write_file(fw, "hba.conf", rules, hba_path, sizeof(hba_path));
	snprintf(extra, sizeof(extra), "auth_type = hba\nauth_hba_file = %s\n%s", hba_path,
	         main_extra != NULL ? main_extra : "");
	if (ident != NULL) {
		fw_write_file(fw, "ident.conf", ident, ident_path, sizeof(ident_path));
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		         "auth_ident_file = %s\n", ident_path);
	}
	fw_write_config(fw, extra, NULL, NULL, userlist);
}

static void start_hba(struct fw *fw, const char *rules, const char *ident, const char *main_extra,
                      const char *userlist)
{
	memset(fw, 0, sizeof(*fw));
	write_hba_config(fw, rules, ident, main_extra, userlist);
	fw_spawn(fw);
	fw_wait_listening(fw);
}

static void assert_logged_in_as(PGconn *c, const char *user)
{
	char buf[64];

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "login as %s failed: %s", user,
	              PQerrorMessage(c));
	ck_assert_str_eq(query_str(c, "SELECT current_user", buf, sizeof(buf)), user);
	PQfinish(c);
}

START_TEST(each_user_gets_the_method_of_its_first_matching_line)
{
	struct fw fw;

	start_hba(&fw,
	          "# TYPE DATABASE USER ADDRESS METHOD\n" CONSOLE_LINE "host testdb " FW_TRUSTUSER
	          " 127.0.0.1/32 trust\n"
	          "host testdb " FW_MD5USER " 127.0.0.1/32 md5\n"
	          "host testdb " FW_SCRAMUSER " 127.0.0.1/32 scram-sha-256\n"
	          "host testdb " FW_SUPERUSER " 127.0.0.1/32 reject\n"
	          "host testdb " FW_SUPERUSER " 127.0.0.1/32 trust\n",
	          NULL, NULL, NULL);

	/* trust: no password asked */
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);
	/* md5: the right password in, a wrong one out */
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=" FW_MD5USER " password=" FW_MD5_PW), FW_MD5USER);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_MD5USER " password=wrong"),
	                     "28P01|08P01", "password authentication failed");
	/* scram-sha-256: likewise, and the failure is SASL's */
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=" FW_SCRAMUSER " password=" FW_SCRAM_PW),
	    FW_SCRAMUSER);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_SCRAMUSER " password=wrong"),
	                     "28P01|08P01", "SASL authentication failed");
	/* reject comes first for fwsuper: the trust line after it never counts */
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb " FW_AS_SUPER_CREDENTIALS), REFUSED_STATES,
	    "pg_hba.conf rejects connection for host \"127.0.0.1\", user \"" FW_SUPERUSER
	    "\", database \"testdb\"");
	/* no line at all, also for a database that does not exist: nothing is revealed */
	expect_connect_error(fw_connect(&fw, "dbname=nosuchdb user=" FW_TRUSTUSER), REFUSED_STATES,
	                     "no authentication method is found: no pg_hba.conf entry for host "
	                     "\"127.0.0.1\", user \"" FW_TRUSTUSER "\", database \"nosuchdb\"");
	/* the console goes through the rules too: fwstats has no line */
	expect_connect_error(
	    fw_connect(&fw, "dbname=pgbouncer user=" FW_STATS " password=" FW_STATS_PW),
	    REFUSED_STATES,
	    "no pg_hba.conf entry for host \"127.0.0.1\", user \"" FW_STATS
	    "\", database \"pgbouncer\"");
	ck_assert(fw_wait_log(&fw, "closing because: pg_hba.conf rejects connection"));
	fw_stop(&fw);
}
END_TEST

/* wait_until: a trustuser login is refused by a reject line. */
static bool trustuser_rejected(void *arg)
{
	PGconn *c = fw_connect(arg, "dbname=testdb user=" FW_TRUSTUSER);
	bool rejected = PQstatus(c) != CONNECTION_OK &&
	                strstr(PQerrorMessage(c), "pg_hba.conf rejects connection") != NULL;

	PQfinish(c);
	return rejected;
}

START_TEST(address_masks_decide_and_reload_applies_a_changed_file)
{
	struct fw fw;
	PGresult *res;

	/* 127.0.0.1 is not in 10/8; the mask-column line asks for a password. */
	start_hba(&fw,
	          CONSOLE_LINE "host all " FW_TRUSTUSER " 10.0.0.0/8 trust\n"
	                       "host all " FW_TRUSTUSER " 127.0.0.0 255.255.255.0 password\n",
	          NULL, NULL, NULL);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER " password=wrong"),
	                     "28P01|08P01", "password authentication failed");
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER " password=" FW_TRUST_PW),
	    FW_TRUSTUSER);

	/* Now 127.0.0.1/32 trusts it: no password after RELOAD. */
	write_hba_config(&fw,
	                 CONSOLE_LINE "host all " FW_TRUSTUSER " 127.0.0.1/32 trust\n"
	                              "host all " FW_TRUSTUSER " 127.0.0.0/8 reject\n",
	                 NULL, NULL, NULL);
	res = console_query(&fw, "RELOAD");
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "RELOAD: %s",
	              PQresultErrorMessage(res));
	PQclear(res);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);

	/* And a /32 for another address leaves only the reject line. */
	write_hba_config(&fw,
	                 CONSOLE_LINE "host all " FW_TRUSTUSER " 127.0.0.2/32 trust\n"
	                              "host all " FW_TRUSTUSER " 127.0.0.0/8 reject\n",
	                 NULL, NULL, NULL);
	fw_reload(&fw); /* SIGHUP this time: applied when the loop gets to it */
	ck_assert_msg(wait_until(trustuser_rejected, &fw, FW_WAIT_MS),
	              "SIGHUP did not apply the new rules:\n%s", fw_log_tail(&fw));
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), REFUSED_STATES,
	                     "pg_hba.conf rejects connection");
	fw_stop(&fw);
}
END_TEST

START_TEST(local_lines_cover_the_unix_socket_and_host_lines_tcp)
{
	struct fw fw;

	start_hba(&fw, "local all all trust\n" CONSOLE_LINE "host testdb all 127.0.0.1/32 reject\n",
	          NULL, NULL, NULL);
	assert_logged_in_as(fw_connect_unix(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);
	assert_logged_in_as(fw_connect_unix(&fw, "dbname=testdb user=" FW_MD5USER), FW_MD5USER);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), REFUSED_STATES,
	                     "pg_hba.conf rejects connection for host \"127.0.0.1\"");
	fw_stop(&fw);
}
END_TEST

START_TEST(peer_maps_the_os_user_through_the_ident_file)
{
	char ident[512], want[512];
	struct fw fw;

	/* The OS user running the tests may log in as trustuser, nothing else. */
	snprintf(ident, sizeof(ident),
	         "# MAP SYSTEM-USER DATABASE-USER\n"
	         "ops \"%s\" " FW_TRUSTUSER "\n"
	         "ops /^no-such-os-user$ " FW_MD5USER "\n",
	         os_user());
	start_hba(&fw,
	          "local all all peer map=ops\n" CONSOLE_LINE "host testdb all 127.0.0.1/32 peer\n",
	          ident, NULL, NULL);
	assert_logged_in_as(fw_connect_unix(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);
	/* A password does not help: the map decides. */
	expect_connect_error(
	    fw_connect_unix(&fw, "dbname=testdb user=" FW_MD5USER " password=" FW_MD5_PW),
	    REFUSED_STATES, "unix socket login rejected");
	snprintf(want, sizeof(want),
	         "ident map \"ops\" does not let local user \"%s\" log in as \"" FW_MD5USER "\"",
	         os_user());
	ck_assert_msg(fw_wait_log(&fw, want), "no \"%s\" in the log:\n%s", want, fw_log_tail(&fw));
	/* peer over TCP fails, as in PostgreSQL */
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), REFUSED_STATES,
	                     "unix socket login rejected");
	ck_assert(fw_wait_log(&fw, "peer authentication is only supported on local sockets"));
	fw_stop(&fw);
}
END_TEST

START_TEST(peer_without_a_map_admits_the_same_named_user_to_the_console)
{
	char userlist[2048], extra[512];
	struct fw fw;
	PGresult *res;
	PGconn *c;

	/* The console user is named like the OS user; it must be in auth_file. */
	snprintf(userlist, sizeof(userlist), "%s\"%s\" \"unused\"\n", FW_USERLIST_DEFAULT,
	         os_user());
	snprintf(extra, sizeof(extra), "admin_users = " FW_ADMIN ", %s\n", os_user());
	start_hba(&fw, "local pgbouncer all peer\n" CONSOLE_LINE, NULL, extra, userlist);

	c = fw_connect_unix(&fw, "dbname=pgbouncer user=%s", os_user());
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "peer console login: %s", PQerrorMessage(c));
	res = PQexec(c, "SHOW VERSION");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	PQfinish(c);
	/* Another name over the same socket is not the OS user. */
	expect_connect_error(
	    fw_connect_unix(&fw, "dbname=pgbouncer user=" FW_ADMIN " password=" FW_ADMIN_PW),
	    REFUSED_STATES, "unix socket login rejected");
	ck_assert(fw_wait_log(&fw, "do not match"));
	/* And a database without a local line has no entry over the socket. */
	expect_connect_error(fw_connect_unix(&fw, "dbname=testdb user=%s", os_user()),
	                     REFUSED_STATES, "no pg_hba.conf entry for host \"[local]\"");
	fw_stop(&fw);
}
END_TEST

START_TEST(reload_with_a_broken_hba_file_keeps_the_old_rules)
{
	char where[64], path[PATH_MAX], set[PATH_MAX + 64];
	struct fw fw;
	PGresult *res;

	start_hba(&fw, CONSOLE_LINE "host testdb " FW_TRUSTUSER " 127.0.0.1/32 trust\n", NULL, NULL,
	          NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);

	write_hba_config(&fw,
	                 CONSOLE_LINE "host testdb " FW_TRUSTUSER " 127.0.0.1/32 reject\n"
	                              "host all all 300.1.2.3/32 trust\n",
	                 NULL, NULL, NULL);
	res = console_query(&fw, "RELOAD");
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "RELOAD of a broken hba file: %s",
	              PQresStatus(PQresultStatus(res)));
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
	                 "RELOAD failed, see logs for additional details");
	PQclear(res);
	snprintf(where, sizeof(where), "hba.conf:3)");
	ck_assert_msg(fw_wait_log(&fw, where), "no \"%s\" in the log:\n%s", where,
	              fw_log_tail(&fw));
	ck_assert(fw_log_contains(&fw, "invalid IP address \"300.1.2.3\""));
	/* The old rules still hold: trust, not the new reject. */
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);

	/* A missing file on SIGHUP: the same. */
	fw_ini_replace(&fw, "hba.conf", "no-such-hba.conf");
	fw_reload(&fw);
	ck_assert(fw_wait_log(&fw, "could not read auth_hba_file"));
	ck_assert(fw_wait_log(&fw, "config reload failed"));
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);

	/* SET on the console loads the file it names, or says why not. */
	expect_query_error(fw.console, "SET auth_hba_file = '/nonexistent/hba.conf'", "08P01",
	                   "could not read auth_hba_file /nonexistent/hba.conf");
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);
	fw_write_file(&fw, "hba2.conf",
	              CONSOLE_LINE "host testdb " FW_TRUSTUSER " 127.0.0.1/32 reject\n", path,
	              sizeof(path));
	snprintf(set, sizeof(set), "SET auth_hba_file = '%s'", path);
	PQclear(exec_ok(fw.console, set));
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), REFUSED_STATES,
	                     "pg_hba.conf rejects connection");
	fw_stop(&fw);
}
END_TEST

static void expect_refused_start(struct fw *fw, const char *needle)
{
	fw_spawn(fw);
	ck_assert_msg(fw_wait_exit(fw, FW_START_MS), "fairway started with a bad hba file:\n%s",
	              fw_log_tail(fw));
	ck_assert_msg(WIFEXITED(fw->exit_status) && WEXITSTATUS(fw->exit_status) != 0,
	              "fairway exited with status 0x%x on a bad hba file",
	              (unsigned)fw->exit_status);
	ck_assert_msg(strstr(fw_log_tail(fw), needle) != NULL, "no \"%s\" in:\n%s", needle,
	              fw_log_tail(fw));
	fw_assert_no_sanitizer_report(fw);
}

START_TEST(broken_hba_or_ident_file_stops_the_start)
{
	struct fw fw;

	memset(&fw, 0, sizeof(fw));
	write_hba_config(&fw, CONSOLE_LINE "host all all 127.0.0.1/32 ident\n", NULL, NULL, NULL);
	expect_refused_start(&fw, "unsupported authentication method \"ident\"");
	ck_assert(strstr(fw_log_tail(&fw), "hba.conf:2)") != NULL);

	memset(&fw, 0, sizeof(fw));
	write_hba_config(&fw, "local all all peer map=ops\n", "ops root\n", NULL, NULL);
	expect_refused_start(&fw, "expected three fields");
	ck_assert(strstr(fw_log_tail(&fw), "ident.conf:1)") != NULL);

	memset(&fw, 0, sizeof(fw));
	write_hba_config(&fw, "local all all peer map=nomap\n", "ops root " FW_TRUSTUSER "\n", NULL,
	                 NULL);
	expect_refused_start(&fw, "map \"nomap\" is not defined in auth_ident_file");

	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, "auth_type = hba\n", NULL, NULL, NULL);
	expect_refused_start(&fw, "auth_type = hba needs auth_hba_file");
}
END_TEST

START_TEST(replication_parameter_is_matched)
{
	struct fw fw;

	start_hba(&fw,
	          CONSOLE_LINE "host replication " FW_TRUSTUSER " 127.0.0.1/32 reject\n"
	                       "host replication " FW_MD5USER " 127.0.0.1/32 trust\n"
	                       "host all all 127.0.0.1/32 trust\n",
	          NULL, NULL, NULL);
	/* physical replication: only `replication` lines match */
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER " replication=true"), REFUSED_STATES,
	    "pg_hba.conf rejects connection for host \"127.0.0.1\", user \"" FW_TRUSTUSER
	    "\", replication connection");
	/* let in by Fairway; PostgreSQL has no replication line for md5user */
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_MD5USER " replication=true"),
	                     "28000", "replication connection");
	/* logical replication matches by database name, like any connection;
	 * PostgreSQL then wants the REPLICATION attribute */
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER " replication=database"), "42501",
	    NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);
	fw_stop(&fw);
}
END_TEST

START_TEST(cert_and_hostssl_refuse_plain_connections)
{
	struct fw fw;

	start_hba(&fw,
	          CONSOLE_LINE "hostssl testdb all 127.0.0.1/32 trust\n"
	                       "hostnossl testdb " FW_TRUSTUSER " 127.0.0.1/32 cert\n"
	                       "hostnossl testdb all 127.0.0.1/32 trust\n",
	          NULL, NULL, NULL);
	/* hostssl never matches a plain client; hostnossl does, and cert needs
	 * TLS with a client certificate (tls suite: where it succeeds) */
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_MD5USER), FW_MD5USER);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), "28000",
	                     "certificate authentication failed");
	ck_assert(fw_wait_log(&fw, "the connection does not use TLS"));
	fw_stop(&fw);
}
END_TEST

Suite *hba_suite(void)
{
	Suite *s = suite_create("hba");
	TCase *tc = tcase_create("hba");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, each_user_gets_the_method_of_its_first_matching_line);
	tcase_add_test(tc, address_masks_decide_and_reload_applies_a_changed_file);
	tcase_add_test(tc, local_lines_cover_the_unix_socket_and_host_lines_tcp);
	tcase_add_test(tc, peer_maps_the_os_user_through_the_ident_file);
	tcase_add_test(tc, peer_without_a_map_admits_the_same_named_user_to_the_console);
	tcase_add_test(tc, reload_with_a_broken_hba_file_keeps_the_old_rules);
	tcase_add_test(tc, broken_hba_or_ident_file_stops_the_start);
	tcase_add_test(tc, replication_parameter_is_matched);
	tcase_add_test(tc, cert_and_hostssl_refuse_plain_connections);
	suite_add_tcase(s, tc);
	return s;
}
