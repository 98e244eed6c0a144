/* Client authentication (trust, any, plain, md5, scram-sha-256 against
 * auth_file, with plain, md5 and SCRAM secrets) and server authentication
 * (md5 and SCRAM roles in pg_hba.conf), with PgBouncer's error texts.
 *
 * SQLSTATEs: PgBouncer sends 08P01 for every error it makes itself (also
 * "password authentication failed"); STYLE.md asks for 28P01 there and
 * 3D000 for an unknown database. Both are accepted; the texts are exact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define PASSWORD_FAILED_STATES "28P01|08P01"

static void assert_logged_in_as(PGconn *c, const char *user)
{
	char buf[64];

	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	ck_assert_str_eq(query_str(c, "SELECT current_user", buf, sizeof(buf)), user);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
}

START_TEST(trust_auth_admits_a_listed_user_without_password)
{
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_TRUSTUSER), FW_TRUSTUSER);
	fw_stop(&fw);
}
END_TEST

START_TEST(trust_auth_refuses_a_user_missing_from_auth_file)
{
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=nosuchuser"), "28000|08P01",
	                     "\"trust\" authentication failed");
	fw_stop(&fw);
}
END_TEST

START_TEST(any_auth_logs_any_name_in_as_the_forced_user)
{
	struct fw fw;

	fw_start(&fw, "auth_type = any\n", "testdb = @PG@ dbname=testdb user=" FW_TRUSTUSER "\n",
	         NULL, NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=whoever"), FW_TRUSTUSER);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=someone_else password=x"),
	                    FW_TRUSTUSER);
	fw_stop(&fw);
}
END_TEST

static void right_and_wrong_password(const char *auth_type, const char *user, const char *password,
                                     const char *wrong_text)
{
	char extra[64];
	struct fw fw;

	snprintf(extra, sizeof(extra), "auth_type = %s\n", auth_type);
	fw_start(&fw, extra, NULL, NULL, NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=%s password=%s", user, password),
	                    user);
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=%s password=wrong-%s", user, password),
	    PASSWORD_FAILED_STATES, wrong_text);
	/* and a second client with the right password still gets in */
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=%s password=%s", user, password),
	                    user);
	ck_assert(fw_wait_log(&fw, "closing because:"));
	fw_stop(&fw);
}

START_TEST(plain_auth_accepts_the_right_password_and_refuses_a_wrong_one)
{
	right_and_wrong_password("plain", FW_TRUSTUSER, FW_TRUST_PW,
	                         "password authentication failed");
}
END_TEST

START_TEST(md5_auth_accepts_the_right_password_and_refuses_a_wrong_one)
{
	right_and_wrong_password("md5", FW_MD5USER, FW_MD5_PW, "password authentication failed");
}
END_TEST

START_TEST(scram_auth_accepts_the_right_password_and_refuses_a_wrong_one)
{
	right_and_wrong_password("scram-sha-256", FW_SCRAMUSER, FW_SCRAM_PW,
	                         "SASL authentication failed");
}
END_TEST

START_TEST(scram_auth_refuses_a_forged_proof_on_the_wire)
{
	struct fw fw;
	struct raw_error err;

	fw_start(&fw, "auth_type = scram-sha-256\n", NULL, NULL, NULL);
	ck_assert_msg(raw_login_error(&fw, FW_SCRAMUSER, FW_TESTDB, "", &err),
	              "no ErrorResponse to a zero SCRAM proof: %s", err.message);
	ck_assert_msg(sqlstate_in(err.sqlstate, PASSWORD_FAILED_STATES), "SQLSTATE %s: %s",
	              err.sqlstate, err.message);
	ck_assert_str_eq(err.message, "SASL authentication failed");
	fw_stop(&fw);
}
END_TEST

START_TEST(md5_auth_answers_an_unknown_user_like_a_wrong_password)
{
	struct fw fw;
	struct raw_error err;

	fw_start(&fw, "auth_type = md5\n", NULL, NULL, NULL);
	/* the same question (an md5 salt) and the same answer as for a real
	 * user, so that user names cannot be probed */
	ck_assert_msg(raw_login_error(&fw, "nosuchuser", FW_TESTDB, "", &err),
	              "no ErrorResponse for an unknown user: %s", err.message);
	ck_assert_str_eq(err.message, "password authentication failed");
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=nosuchuser password=x"),
	                     PASSWORD_FAILED_STATES, "password authentication failed");
	fw_stop(&fw);
}
END_TEST

START_TEST(server_login_uses_md5_for_an_md5_role)
{
	struct fw fw;

	/* the client side is trusted; pg_hba.conf makes PostgreSQL ask for md5 */
	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_MD5USER), FW_MD5USER);
	fw_stop(&fw);
}
END_TEST

START_TEST(server_login_uses_scram_for_a_scram_role)
{
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_SCRAMUSER), FW_SCRAMUSER);
	fw_stop(&fw);
}
END_TEST

START_TEST(server_login_with_a_wrong_password_passes_on_the_server_error)
{
	struct fw fw;

	fw_start(&fw, "auth_type = trust\nserver_login_retry = 1\n", NULL, NULL,
	         "\"" FW_MD5USER "\" \"not-the-password\"\n"
	         "\"" FW_ADMIN "\" \"" FW_ADMIN_PW "\"\n");
	/* PostgreSQL's own error, 28P01, reaches the client */
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=" FW_MD5USER), "28P01",
	                     "password authentication failed for user \"" FW_MD5USER "\"");
	fw_stop(&fw);
}
END_TEST

START_TEST(database_entry_password_logs_in_its_forced_user)
{
	struct fw fw;

	fw_start(&fw, "auth_type = md5\n",
	         "forced = @PG@ dbname=testdb user=" FW_SCRAMUSER " password=" FW_SCRAM_PW "\n",
	         NULL, NULL);
	assert_logged_in_as(fw_connect(&fw, "dbname=forced " FW_AS_SUPER_CREDENTIALS),
	                    FW_SCRAMUSER);
	fw_stop(&fw);
}
END_TEST

START_TEST(md5_secret_in_auth_file_serves_client_and_server_login)
{
	char userlist[512];
	char *secret = PQencryptPassword(FW_MD5_PW, FW_MD5USER);
	struct fw fw;

	ck_assert_ptr_nonnull(secret);
	snprintf(userlist, sizeof(userlist), "\"%s\" \"%s\"\n\"%s\" \"%s\"\n", FW_MD5USER, secret,
	         FW_ADMIN, FW_ADMIN_PW);
	PQfreemem(secret);
	fw_start(&fw, "auth_type = md5\n", NULL, NULL, userlist);
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_MD5USER, FW_MD5_PW),
	    FW_MD5USER);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=%s password=nope", FW_MD5USER),
	                     PASSWORD_FAILED_STATES, "password authentication failed");
	fw_stop(&fw);
}
END_TEST

START_TEST(scram_secret_in_auth_file_serves_client_and_server_login)
{
	char userlist[1024], secret[512];
	PGconn *pg = pg_connect("postgres");
	struct fw fw;

	/* PostgreSQL's own verifier: the pooler can log in to the server with
	 * the keys the client proved, without knowing the password */
	query_str(pg, "SELECT rolpassword FROM pg_authid WHERE rolname = '" FW_SCRAMUSER "'",
	          secret, sizeof(secret));
	PQfinish(pg);
	ck_assert_msg(strncmp(secret, "SCRAM-SHA-256$", 14) == 0, "not a SCRAM secret: %s", secret);
	snprintf(userlist, sizeof(userlist), "\"%s\" \"%s\"\n\"%s\" \"%s\"\n", FW_SCRAMUSER, secret,
	         FW_ADMIN, FW_ADMIN_PW);
	fw_start(&fw, "auth_type = scram-sha-256\n", NULL, NULL, userlist);
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=%s password=nope", FW_SCRAMUSER),
	                     PASSWORD_FAILED_STATES, "SASL authentication failed");
	fw_stop(&fw);
}
END_TEST

START_TEST(unknown_database_gets_no_such_database)
{
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	expect_connect_error(fw_connect(&fw, "dbname=nosuchdb user=" FW_SUPERUSER), "08P01|3D000",
	                     "no such database: nosuchdb");
	/* the daemon is fine and the real database still works */
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=" FW_SUPERUSER), FW_SUPERUSER);
	fw_stop(&fw);
}
END_TEST

START_TEST(unknown_database_behind_a_password_asks_for_it_first)
{
	struct fw fw;

	/* PgBouncer authenticates before it reveals whether the database
	 * exists: a wrong password gets the password error */
	fw_start(&fw, "auth_type = md5\n", NULL, NULL, NULL);
	expect_connect_error(fw_connect(&fw, "dbname=nosuchdb user=" FW_MD5USER " password=bad"),
	                     PASSWORD_FAILED_STATES, "password authentication failed");
	expect_connect_error(
	    fw_connect(&fw, "dbname=nosuchdb user=" FW_MD5USER " password=" FW_MD5_PW),
	    "08P01|3D000", "no such database: nosuchdb");
	fw_stop(&fw);
}
END_TEST

START_TEST(wildcard_database_entry_serves_any_database_name)
{
	struct fw fw;
	char buf[64];
	PGconn *c;

	fw_start(&fw, "auth_type = trust\n", "* = @PG@\n", NULL, NULL);
	c = fw_connect_ok(&fw, "dbname=postgres user=" FW_SUPERUSER);
	ck_assert_str_eq(query_str(c, "SELECT current_database()", buf, sizeof(buf)), "postgres");
	PQfinish(c);
	c = fw_connect_ok(&fw, "dbname=testdb user=" FW_SUPERUSER);
	ck_assert_str_eq(query_str(c, "SELECT current_database()", buf, sizeof(buf)), "testdb");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* Refused logins are counted (SHOW STATE failed_logins) and logged at most
 * ten a second; the rest are summed up in a line of their own, so every
 * refusal is accounted for whatever the timing. */
START_TEST(failed_logins_are_counted_and_their_log_lines_rate_limited)
{
	enum { N = 40 };
	struct fw fw;
	PGresult *res;
	int row;
	char *log;
	long long logged = 0, summed = 0;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	for (int i = 0; i < N; i++) {
		PGconn *c =
		    fw_connect(&fw, "dbname=" FW_TESTDB " user=" FW_MD5USER " password=wrong");

		ck_assert_int_ne(PQstatus(c), CONNECTION_OK);
		PQfinish(c);
	}
	res = console_show(&fw, "SHOW STATE");
	row = res_find_row(res, "key", "failed_logins", NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "value"), "40");
	PQclear(res);
	/* The summary of the last second comes with a timer check after it. */
	for (int tries = 0; tries < 300 && logged + summed < N; tries++) {
		const char *p;

		usleep(100 * 1000);
		log = read_file(fw.logfile);
		ck_assert_ptr_nonnull(log);
		logged = summed = 0;
		for (p = log;
		     (p = strstr(p, "pooler error: password authentication failed")) != NULL; p++)
			logged++;
		for (p = log; (p = strstr(p, " more failed logins not logged")) != NULL; p++) {
			const char *start = p;

			while (start > log && start[-1] != ' ')
				start--;
			summed += atoll(start);
		}
		free(log);
	}
	ck_assert_msg(logged + summed == N, "%lld logged + %lld summed up, expected %d", logged,
	              summed, N);
	ck_assert_msg(logged <= N, "logged %lld", logged);
	fw_stop(&fw);
}
END_TEST

Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, trust_auth_admits_a_listed_user_without_password);
	tcase_add_test(tc, trust_auth_refuses_a_user_missing_from_auth_file);
	tcase_add_test(tc, any_auth_logs_any_name_in_as_the_forced_user);
	tcase_add_test(tc, plain_auth_accepts_the_right_password_and_refuses_a_wrong_one);
	tcase_add_test(tc, md5_auth_accepts_the_right_password_and_refuses_a_wrong_one);
	tcase_add_test(tc, scram_auth_accepts_the_right_password_and_refuses_a_wrong_one);
	tcase_add_test(tc, scram_auth_refuses_a_forged_proof_on_the_wire);
	tcase_add_test(tc, md5_auth_answers_an_unknown_user_like_a_wrong_password);
	tcase_add_test(tc, server_login_uses_md5_for_an_md5_role);
	tcase_add_test(tc, server_login_uses_scram_for_a_scram_role);
	tcase_add_test(tc, server_login_with_a_wrong_password_passes_on_the_server_error);
	tcase_add_test(tc, database_entry_password_logs_in_its_forced_user);
	tcase_add_test(tc, md5_secret_in_auth_file_serves_client_and_server_login);
	tcase_add_test(tc, scram_secret_in_auth_file_serves_client_and_server_login);
	tcase_add_test(tc, unknown_database_gets_no_such_database);
	tcase_add_test(tc, unknown_database_behind_a_password_asks_for_it_first);
	tcase_add_test(tc, wildcard_database_entry_serves_any_database_name);
	tcase_add_test(tc, failed_logins_are_counted_and_their_log_lines_rate_limited);
	suite_add_tcase(s, tc);
	return s;
}
