/* auth_user / auth_query / auth_dbname: users missing from the auth_file get
 * their secret from the server.  Roles are made here directly in PostgreSQL;
 * md5user and scramuser (whose pg_hba.conf lines demand md5 and SCRAM) are
 * left out of this suite's auth_file, so their server logins check that the
 * looked-up md5 hash and the SCRAM keys recovered from the client's proof
 * are what Fairway logs in with. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "suites.h"

/* No md5user or scramuser: they are looked up with auth_query. */
#define AQ_USERLIST                                                                                \
	"\"" FW_SUPERUSER "\" \"" FW_SUPER_PW "\"\n"                                               \
	"\"" FW_ADMIN "\" \"" FW_ADMIN_PW "\"\n"                                                   \
	"\"" FW_STATS "\" \"" FW_STATS_PW "\"\n"

#define AQ_SCRAM_MAIN "auth_type = scram-sha-256\nauth_user = " FW_SUPERUSER "\n"
#define AQ_MD5_MAIN   "auth_type = md5\nauth_user = " FW_SUPERUSER "\n"

#define SASL_FAILED "SASL authentication failed"
#define PW_FAILED   "password authentication failed"
#define PW_STATES   "28P01|08P01"

static void pg_run(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	                  PQresultStatus(res) == PGRES_TUPLES_OK,
	              "%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

/* CREATE ROLE unless it exists, then ALTER it to attrs (passwords included). */
static void ensure_role(PGconn *conn, const char *name, const char *attrs)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "DO $$BEGIN CREATE ROLE %s; EXCEPTION WHEN duplicate_object THEN NULL; END$$",
	         name);
	pg_run(conn, sql);
	snprintf(sql, sizeof(sql), "ALTER ROLE %s %s", name, attrs);
	pg_run(conn, sql);
}

/* The roles and objects every test here may use; idempotent. */
static void aq_pg_setup(void)
{
	PGconn *conn = pg_connect("postgres");

	pg_run(conn, "SET password_encryption = 'scram-sha-256'");
	ensure_role(conn, "aq_scram", "LOGIN PASSWORD 'aq-scram-pw'");
	ensure_role(conn, "aq_expired", "LOGIN PASSWORD 'aq-expired-pw' VALID UNTIL '2001-01-01'");
	ensure_role(conn, "aq_nologin", "NOLOGIN PASSWORD 'aq-nologin-pw'");
	ensure_role(conn, "aq_victim", "LOGIN PASSWORD 'aq-victim-pw'");
	ensure_role(conn, "aq_lookup", "LOGIN NOSUPERUSER");
	ensure_role(conn, "aq_auth", "LOGIN SUPERUSER");
	/* The trap of CVE-2025-12819: the auth_user's own sessions would find
	 * aq_evil.pg_authid before pg_catalog.pg_authid. */
	pg_run(conn, "ALTER ROLE aq_auth SET search_path = aq_evil, pg_catalog");
	pg_run(conn, "SET password_encryption = 'md5'");
	ensure_role(conn, "aq_md5", "LOGIN PASSWORD 'aq-md5-pw'");
	PQfinish(conn);

	conn = pg_connect(FW_TESTDB);
	pg_run(conn, "CREATE SCHEMA IF NOT EXISTS aq_evil");
	pg_run(conn,
	       "CREATE TABLE IF NOT EXISTS aq_evil.pg_authid (rolname name, rolpassword text, "
	       "rolvaliduntil timestamptz, rolcanlogin bool)");
	pg_run(conn, "DELETE FROM aq_evil.pg_authid");
	pg_run(conn, "INSERT INTO aq_evil.pg_authid VALUES ('aq_victim', 'evil-pw', NULL, true), "
	             "('aq_ghost', 'evil-pw', NULL, true)");
	pg_run(conn, "GRANT USAGE ON SCHEMA aq_evil TO PUBLIC");
	pg_run(conn, "GRANT SELECT ON aq_evil.pg_authid TO PUBLIC");
	/* The SECURITY DEFINER lookup PgBouncer's documentation recommends. */
	pg_run(conn, "CREATE SCHEMA IF NOT EXISTS aq");
	pg_run(conn,
	       "CREATE OR REPLACE FUNCTION aq.lookup(i_user text) "
	       "RETURNS TABLE (p_user name, p_password text) "
	       "LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS "
	       "$$ SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL "
	       "ELSE rolpassword END FROM pg_authid WHERE rolname = i_user AND rolcanlogin $$");
	pg_run(conn, "REVOKE ALL ON FUNCTION aq.lookup(text) FROM PUBLIC");
	pg_run(conn, "GRANT USAGE ON SCHEMA aq TO aq_lookup");
	pg_run(conn, "GRANT EXECUTE ON FUNCTION aq.lookup(text) TO aq_lookup");
	PQfinish(conn);
}

static void assert_logged_in_as(PGconn *c, const char *user)
{
	char buf[64];

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s: %s", user, PQerrorMessage(c));
	ck_assert_str_eq(query_str(c, "SELECT current_user", buf, sizeof(buf)), user);
	PQfinish(c);
}

/* The login error as "SQLSTATE: message", for comparing two refusals. */
static void login_error(PGconn *c, char *out, size_t size)
{
	char state[6], msg[256];

	ck_assert_msg(PQstatus(c) == CONNECTION_BAD, "login unexpectedly succeeded");
	ck_assert_msg(parse_error_text(PQerrorMessage(c), state, msg, sizeof(msg)),
	              "no SQLSTATE in: %s", PQerrorMessage(c));
	snprintf(out, size, "%s: %s", state, msg);
	PQfinish(c);
}

static void exec_ok_clear(PGconn *c, const char *sql)
{
	PQclear(exec_ok(c, sql));
}

/* RELOAD on the console: the new configuration is in force when it answers. */
static void console_reload(struct fw *fw)
{
	PGresult *res = console_query(fw, "RELOAD");

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "RELOAD: %s",
	              PQresultErrorMessage(res));
	PQclear(res);
}

/* Starts a login and returns once its StartupMessage is sent. */
static PGconn *start_login(const struct fw *fw, const char *user, const char *password)
{
	char conninfo[256];
	time_t deadline = time(NULL) + FW_WAIT_MS / 1000;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn *c;

	snprintf(conninfo, sizeof(conninfo),
	         "host=127.0.0.1 port=%d dbname=testdb user=%s password=%s sslmode=disable "
	         "gssencmode=disable",
	         fw->port, user, password);
	c = PQconnectStart(conninfo);
	ck_assert_ptr_nonnull(c);
	while (st == PGRES_POLLING_WRITING) {
		struct pollfd p = {.fd = PQsocket(c), .events = POLLOUT};

		ck_assert_msg(time(NULL) < deadline, "the startup packet was not sent");
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			ck_abort_msg("poll: %s", strerror(errno));
		st = PQconnectPoll(c);
	}
	ck_assert_msg(st == PGRES_POLLING_READING, "login failed early: %s", PQerrorMessage(c));
	return c;
}

static void start(struct fw *fw, const char *main_extra, const char *databases)
{
	aq_pg_setup();
	fw_start(fw, main_extra, databases, NULL, AQ_USERLIST);
}

START_TEST(scram_role_logs_in_through_auth_query_and_a_wrong_password_is_refused)
{
	struct fw fw;

	start(&fw, AQ_SCRAM_MAIN, NULL);
	/* scramuser's server login needs SCRAM: the keys come from the proof */
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=aq_scram password=aq-scram-pw"),
	                    "aq_scram");
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=%s password=wrong", FW_SCRAMUSER),
	                     PW_STATES, SASL_FAILED);
	/* a second client gets a server of scramuser's pool (or a new login) */
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	fw_stop(&fw);
}
END_TEST

START_TEST(md5_role_logs_in_through_auth_query_and_the_server_gets_the_md5_hash)
{
	struct fw fw;

	start(&fw, AQ_MD5_MAIN, NULL);
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_MD5USER, FW_MD5_PW),
	    FW_MD5USER);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=aq_md5 password=aq-md5-pw"),
	                    "aq_md5");
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=aq_md5 password=wrong"), PW_STATES,
	                     PW_FAILED);
	fw_stop(&fw);
}
END_TEST

START_TEST(plain_auth_logs_the_server_in_with_the_password_the_client_sent)
{
	struct fw fw;

	/* a SCRAM secret and a cleartext client: no keys to pass through, the
	 * proven password itself logs scramuser in to the server */
	start(&fw, "auth_type = plain\nauth_user = " FW_SUPERUSER "\n", NULL);
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=%s password=wrong", FW_SCRAMUSER),
	                     PW_STATES, PW_FAILED);
	fw_stop(&fw);
}
END_TEST

/* No row, a NULL password (expired), NOLOGIN: the same answer as a wrong
 * password, so that user names cannot be probed. */
START_TEST(unknown_expired_and_nologin_roles_get_the_wrong_password_error)
{
	char wrong[300], other[300];
	struct fw fw;

	start(&fw, AQ_SCRAM_MAIN, NULL);
	login_error(fw_connect(&fw, "dbname=testdb user=aq_scram password=wrong"), wrong,
	            sizeof(wrong));
	ck_assert_msg(strstr(wrong, SASL_FAILED) != NULL, "%s", wrong);
	login_error(fw_connect(&fw, "dbname=testdb user=aq_nosuchrole password=x"), other,
	            sizeof(other));
	ck_assert_str_eq(other, wrong);
	login_error(fw_connect(&fw, "dbname=testdb user=aq_expired password=aq-expired-pw"), other,
	            sizeof(other));
	ck_assert_str_eq(other, wrong);
	login_error(fw_connect(&fw, "dbname=testdb user=aq_nologin password=aq-nologin-pw"), other,
	            sizeof(other));
	ck_assert_str_eq(other, wrong);
	fw_stop(&fw);

	/* md5: an unknown user and a wrong md5 password read the same too */
	fw_start(&fw, AQ_MD5_MAIN, NULL, NULL, AQ_USERLIST);
	login_error(fw_connect(&fw, "dbname=testdb user=aq_md5 password=wrong"), wrong,
	            sizeof(wrong));
	ck_assert_msg(strstr(wrong, PW_FAILED) != NULL, "%s", wrong);
	login_error(fw_connect(&fw, "dbname=testdb user=aq_nosuchrole password=x"), other,
	            sizeof(other));
	ck_assert_str_eq(other, wrong);
	fw_stop(&fw);
}
END_TEST

START_TEST(a_changed_password_counts_at_the_next_login)
{
	PGconn *pg;
	struct fw fw;

	start(&fw, AQ_SCRAM_MAIN, NULL);
	pg = pg_connect("postgres");
	pg_run(pg, "ALTER ROLE aq_scram PASSWORD 'aq-first-pw'");
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=aq_scram password=aq-first-pw"),
	                    "aq_scram");
	pg_run(pg, "ALTER ROLE aq_scram PASSWORD 'aq-second-pw'");
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=aq_scram password=aq-first-pw"),
	                     PW_STATES, SASL_FAILED);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=aq_scram password=aq-second-pw"),
	                    "aq_scram");
	pg_run(pg, "ALTER ROLE aq_scram PASSWORD 'aq-scram-pw'");
	PQfinish(pg);
	fw_stop(&fw);
}
END_TEST

START_TEST(database_entry_auth_user_and_auth_query_override_the_global_ones)
{
	struct fw fw;

	/* Globally an auth_user that may not read pg_authid; testdb's entry
	 * brings a SECURITY DEFINER function instead. */
	start(&fw, "auth_type = scram-sha-256\nauth_user = aq_lookup\n",
	      "testdb = @PG@ dbname=testdb auth_user=aq_lookup "
	      "auth_query='SELECT p_user, p_password FROM aq.lookup($1)'\n"
	      "plaindb = @PG@ dbname=testdb\n");
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=aq_expired password=aq-expired-pw"), PW_STATES,
	    SASL_FAILED);
	/* plaindb runs the global default query as aq_lookup: the server's error */
	expect_connect_error(
	    fw_connect(&fw, "dbname=plaindb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    "42501", "permission denied for table pg_authid");
	fw_stop(&fw);
}
END_TEST

START_TEST(auth_query_error_reaches_the_client_and_the_pooler_goes_on)
{
	struct fw fw;

	start(&fw,
	      AQ_SCRAM_MAIN "auth_query = SELECT usename, passwd FROM aq_no_such_table "
	                    "WHERE usename = $1\n",
	      NULL);
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    "42P01", "relation \"aq_no_such_table\" does not exist");
	/* one column instead of two: a clear error too */
	fw_write_config(&fw,
	                AQ_SCRAM_MAIN "auth_query = SELECT rolname FROM pg_authid WHERE "
	                              "rolname = $1\n",
	                NULL, NULL, AQ_USERLIST);
	console_reload(&fw);
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    "08P01", "auth_query failed: it must return two columns");
	assert_logged_in_as(fw_connect(&fw, FW_AS_SUPER), FW_SUPERUSER);
	fw_stop(&fw);
}
END_TEST

START_TEST(auth_user_login_failure_reaches_the_client)
{
	struct fw fw;

	/* md5user as auth_user with a wrong password in the auth_file */
	start(&fw, "auth_type = scram-sha-256\nauth_user = " FW_MD5USER "\n", NULL);
	fw_write_config(&fw, "auth_type = scram-sha-256\nauth_user = " FW_MD5USER "\n", NULL, NULL,
	                AQ_USERLIST "\"" FW_MD5USER "\" \"not-the-password\"\n");
	console_reload(&fw);
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    "28P01|08P01|08006", FW_MD5USER);
	fw_stop(&fw);
}
END_TEST

START_TEST(auth_query_against_a_server_that_is_down_fails_the_login_clearly)
{
	char dbs[256];
	struct fw fw;

	snprintf(dbs, sizeof(dbs), "testdb = host=127.0.0.1 port=%d dbname=testdb\n", free_port());
	start(&fw, AQ_SCRAM_MAIN, dbs);
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    "08006", "auth_query failed");
	/* and again, while server_login_retry holds new connects back */
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    "08006", "auth_query failed");
	fw_stop(&fw);
}
END_TEST

START_TEST(auth_dbname_runs_the_lookup_in_the_pool_of_that_database)
{
	struct fw fw;
	PGresult *res;

	start(&fw, AQ_SCRAM_MAIN "auth_dbname = lookupdb\n",
	      "testdb = @PG@ dbname=testdb\nlookupdb = @PG@ dbname=postgres\n");
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	res = console_show(&fw, "SHOW POOLS");
	ck_assert_int_ge(res_find_row(res, "database", "lookupdb", "user", FW_SUPERUSER), 0);
	ck_assert_int_lt(res_find_row(res, "database", "testdb", "user", FW_SUPERUSER), 0);
	PQclear(res);
	/* the looked-up user is listed like any other */
	res = console_show(&fw, "SHOW USERS");
	ck_assert_int_ge(res_find_row(res, "name", FW_SCRAMUSER, NULL, NULL), 0);
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

/* CVE-2025-12819: the auth_user's search_path puts a fake pg_authid first;
 * the lookup must read pg_catalog.pg_authid all the same. */
START_TEST(search_path_of_the_auth_user_cannot_redirect_the_lookup)
{
	char conninfo[512], buf[64];
	PGconn *direct;
	struct fw fw;

	/* transaction mode: no reset query runs between the lookups and the
	 * auth_user's own client below */
	aq_pg_setup();
	fw_start(&fw, "auth_type = scram-sha-256\nauth_user = aq_auth\npool_mode = transaction\n",
	         NULL, NULL, AQ_USERLIST "\"aq_auth\" \"aq-auth-pw\"\n");
	/* the trap is armed: aq_auth's own sessions see the fake table */
	snprintf(conninfo, sizeof(conninfo), "host=%s port=%d user=aq_auth dbname=testdb",
	         pg_socket_dir(), pg_port());
	direct = PQconnectdb(conninfo);
	ck_assert_msg(PQstatus(direct) == CONNECTION_OK, "%s", PQerrorMessage(direct));
	ck_assert_str_eq(query_str(direct,
	                           "SELECT rolpassword FROM pg_authid WHERE rolname = 'aq_victim'",
	                           buf, sizeof(buf)),
	                 "evil-pw");
	PQfinish(direct);

	expect_connect_error(fw_connect(&fw, "dbname=testdb user=aq_victim password=evil-pw"),
	                     PW_STATES, SASL_FAILED);
	expect_connect_error(fw_connect(&fw, "dbname=testdb user=aq_ghost password=evil-pw"),
	                     PW_STATES, SASL_FAILED);
	assert_logged_in_as(fw_connect(&fw, "dbname=testdb user=aq_victim password=aq-victim-pw"),
	                    "aq_victim");
	/* the auth_user's own clients keep their search_path */
	direct = fw_connect_ok(&fw, "dbname=testdb user=aq_auth password=aq-auth-pw");
	ck_assert_str_eq(query_str(direct, "SHOW search_path", buf, sizeof(buf)),
	                 "aq_evil, pg_catalog");
	PQfinish(direct);
	fw_stop(&fw);
}
END_TEST

/* Connects n clients at once, each driven by PQconnectPoll. */
static void connect_all(const struct fw *fw, PGconn **conns, int n, const char *user,
                        const char *password)
{
	char conninfo[512];
	PostgresPollingStatusType st[64];
	time_t deadline = time(NULL) + FW_WAIT_MS / 1000;
	int pending = n;

	ck_assert_int_le(n, 64);
	snprintf(conninfo, sizeof(conninfo),
	         "host=127.0.0.1 port=%d dbname=testdb user=%s password=%s sslmode=disable "
	         "gssencmode=disable connect_timeout=30",
	         fw->port, user, password);
	for (int i = 0; i < n; i++) {
		conns[i] = PQconnectStart(conninfo);
		ck_assert_ptr_nonnull(conns[i]);
		st[i] = PGRES_POLLING_WRITING;
	}
	while (pending > 0) {
		struct pollfd p[64];
		int idx[64], np = 0;

		ck_assert_msg(time(NULL) < deadline, "%d logins did not finish", pending);
		for (int i = 0; i < n; i++) {
			if (st[i] == PGRES_POLLING_OK || st[i] == PGRES_POLLING_FAILED)
				continue;
			p[np].fd = PQsocket(conns[i]);
			p[np].events = st[i] == PGRES_POLLING_READING ? POLLIN : POLLOUT;
			p[np].revents = 0;
			idx[np++] = i;
		}
		if (poll(p, (nfds_t)np, 1000) < 0 && errno != EINTR)
			ck_abort_msg("poll: %s", strerror(errno));
		for (int k = 0; k < np; k++) {
			int i = idx[k];

			if (p[k].revents == 0)
				continue;
			st[i] = PQconnectPoll(conns[i]);
			if (st[i] == PGRES_POLLING_OK || st[i] == PGRES_POLLING_FAILED)
				pending--;
		}
	}
}

START_TEST(many_logins_at_once_share_a_small_auth_pool_without_hanging)
{
	PGconn *conns[20], *wrong[10], *holder;
	struct fw fw;

	start(&fw, AQ_SCRAM_MAIN "default_pool_size = 2\npool_mode = transaction\n", NULL);
	/* the auth_user's pool (testdb/fwsuper) keeps one of its two servers busy */
	holder = fw_connect_ok(&fw, FW_AS_SUPER);
	exec_ok_clear(holder, "BEGIN");
	exec_ok_clear(holder, "SELECT 1");
	connect_all(&fw, conns, 20, FW_SCRAMUSER, FW_SCRAM_PW);
	for (int i = 0; i < 20; i++)
		ck_assert_msg(PQstatus(conns[i]) == CONNECTION_OK, "login %d: %s", i,
		              PQerrorMessage(conns[i]));
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(query_ll(conns[i], "SELECT count(*) FROM fw_rows WHERE false"), 0);
	/* wrong passwords among many right ones are refused, the rest get in */
	connect_all(&fw, wrong, 10, FW_SCRAMUSER, "wrong");
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(PQstatus(wrong[i]), CONNECTION_BAD);
		ck_assert_msg(strstr(PQerrorMessage(wrong[i]), SASL_FAILED) != NULL, "%s",
		              PQerrorMessage(wrong[i]));
		PQfinish(wrong[i]);
	}
	ck_assert_int_eq(query_ll(conns[0], "SELECT 1"), 1);
	exec_ok_clear(holder, "COMMIT");
	PQfinish(holder);
	for (int i = 0; i < 20; i++)
		PQfinish(conns[i]);
	ck_assert(wait_pool_stat(&fw, "testdb", FW_SUPERUSER, "sv_active", 0));
	ck_assert_int_le(pool_stat(&fw, "testdb", FW_SUPERUSER, "sv_idle"), 2);
	fw_stop(&fw);
}
END_TEST

START_TEST(queued_lookup_ends_at_query_wait_timeout)
{
	PGconn *holder;
	struct fw fw;

	start(&fw,
	      AQ_SCRAM_MAIN "default_pool_size = 1\npool_mode = transaction\n"
	                    "query_wait_timeout = 1\n",
	      NULL);
	/* the auth pool's only server stays busy: the lookup can only wait */
	holder = fw_connect_ok(&fw, FW_AS_SUPER);
	exec_ok_clear(holder, "BEGIN");
	exec_ok_clear(holder, "SELECT 1");
	expect_connect_error(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    "08P01", "query_wait_timeout");
	exec_ok_clear(holder, "COMMIT");
	PQfinish(holder);
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	fw_stop(&fw);
}
END_TEST

struct running_arg {
	const char *needle;
};

static bool lookup_is_running(void *arg)
{
	const struct running_arg *ra = arg;
	char sql[256];

	snprintf(
	    sql, sizeof(sql),
	    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%%%s%%' "
	    "AND pid <> pg_backend_pid()",
	    ra->needle);
	return pg_query_ll(sql) > 0;
}

/* A client that gives up while its lookup waits or runs leaves no trace:
 * the server finishes the query on its own and serves the next login. */
START_TEST(client_leaving_during_the_lookup_leaves_the_pool_clean)
{
	struct running_arg ra = {"aq_slow_marker"};
	PGconn *login, *holder;
	PGresult *res;
	struct fw fw;
	int row;

	start(&fw,
	      AQ_SCRAM_MAIN
	      "default_pool_size = 1\npool_mode = transaction\n"
	      "auth_query = SELECT rolname, rolpassword /* aq_slow_marker */ "
	      "FROM pg_catalog.pg_authid, pg_catalog.pg_sleep(3) WHERE rolname = $1\n",
	      NULL);
	/* queued: the only server of the auth pool is held */
	holder = fw_connect_ok(&fw, FW_AS_SUPER);
	exec_ok_clear(holder, "BEGIN");
	exec_ok_clear(holder, "SELECT 1");
	login = start_login(&fw, FW_SCRAMUSER, FW_SCRAM_PW);
	ck_assert(fw_wait_log(&fw, "login attempt: db=testdb user=" FW_SCRAMUSER));
	/* it waits in the auth pool's queue, shown as a waiting client there */
	ck_assert(wait_pool_stat(&fw, "testdb", FW_SUPERUSER, "cl_waiting", 1));
	res = console_show(&fw, "SHOW CLIENTS");
	row = res_find_row(res, "user", FW_SCRAMUSER, NULL, NULL);
	ck_assert_int_ge(row, 0);
	ck_assert_str_eq(res_str(res, row, "state"), "login");
	PQclear(res);
	PQfinish(login);
	ck_assert(fw_wait_log(&fw, "closing because: client unexpected eof"));
	exec_ok_clear(holder, "COMMIT");
	ck_assert(wait_pool_stat(&fw, "testdb", FW_SUPERUSER, "sv_idle", 1));
	/* running: the client leaves while the server sleeps in auth_query */
	login = start_login(&fw, FW_SCRAMUSER, FW_SCRAM_PW);
	ck_assert(wait_until(lookup_is_running, &ra, FW_WAIT_MS));
	PQfinish(login);
	ck_assert(wait_pool_stat(&fw, "testdb", FW_SUPERUSER, "sv_idle", 1));
	ck_assert_int_eq(pool_stat(&fw, "testdb", FW_SUPERUSER, "sv_active"), 0);
	/* the same server answers the next lookup */
	assert_logged_in_as(
	    fw_connect(&fw, "dbname=testdb user=%s password=%s", FW_SCRAMUSER, FW_SCRAM_PW),
	    FW_SCRAMUSER);
	ck_assert(wait_pool_stat(&fw, "testdb", FW_SUPERUSER, "sv_idle", 1));
	PQfinish(holder);
	fw_stop(&fw);
}
END_TEST

Suite *authquery_suite(void)
{
	Suite *s = suite_create("authquery");
	TCase *tc = tcase_create("authquery");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, scram_role_logs_in_through_auth_query_and_a_wrong_password_is_refused);
	tcase_add_test(tc, md5_role_logs_in_through_auth_query_and_the_server_gets_the_md5_hash);
	tcase_add_test(tc, plain_auth_logs_the_server_in_with_the_password_the_client_sent);
	tcase_add_test(tc, unknown_expired_and_nologin_roles_get_the_wrong_password_error);
	tcase_add_test(tc, a_changed_password_counts_at_the_next_login);
	tcase_add_test(tc, database_entry_auth_user_and_auth_query_override_the_global_ones);
	tcase_add_test(tc, auth_query_error_reaches_the_client_and_the_pooler_goes_on);
	tcase_add_test(tc, auth_user_login_failure_reaches_the_client);
	tcase_add_test(tc, auth_query_against_a_server_that_is_down_fails_the_login_clearly);
	tcase_add_test(tc, auth_dbname_runs_the_lookup_in_the_pool_of_that_database);
	tcase_add_test(tc, search_path_of_the_auth_user_cannot_redirect_the_lookup);
	tcase_add_test(tc, many_logins_at_once_share_a_small_auth_pool_without_hanging);
	tcase_add_test(tc, client_leaving_during_the_lookup_leaves_the_pool_clean);
	tcase_add_test(tc, queued_lookup_ends_at_query_wait_timeout);
	suite_add_tcase(s, tc);
	return s;
}
