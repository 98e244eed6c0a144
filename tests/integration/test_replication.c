/* Replication connections through the pooler (replication=database and
 * replication=true): the replication commands, PostgreSQL's own streaming
 * tools (pg_receivewal, pg_recvlogical, pg_basebackup -X stream) against
 * Fairway, and the rule that a replication client gets a server of its own
 * that nobody else ever uses and that closes when the client leaves. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* conninfo for PostgreSQL's tools (they add replication= themselves). */
static void tool_conninfo(const struct fw *fw, char *buf, size_t n)
{
	snprintf(buf, n,
	         "host=127.0.0.1 port=%d sslmode=disable dbname=" FW_TESTDB
	         " " FW_AS_SUPER_CREDENTIALS,
	         fw->port);
}

/* Physical replication tools always ask for database "replication". */
#define REPL_DBS FW_DB_DEFAULT "replication = @PG@ dbname=postgres\n"

static void run_tool_ok(const char *const argv[], const char *what)
{
	static char out[16384];
	int st = run_cmd(argv, out, sizeof(out), FW_WAIT_MS);

	ck_assert_msg(st == 0, "%s failed (status %d):\n%s", what, st, out);
}

static void path_in(const struct fw *fw, const char *name, char *buf, size_t n)
{
	ck_assert_int_lt(snprintf(buf, n, "%s/%s", fw->dir, name), (int)n);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* How many SHOW SERVERS rows have want in their replication column. */
static int servers_with_replication(struct fw *fw, const char *want)
{
	PGresult *res = console_show(fw, "SHOW SERVERS");
	int n = 0;

	for (int i = 0; i < PQntuples(res); i++)
		if (strcmp(res_str(res, i, "replication"), want) == 0)
			n++;
	PQclear(res);
	return n;
}

struct repl_wait {
	struct fw *fw;
	const char *kind;
};

static bool no_replication_server(void *arg)
{
	struct repl_wait *w = arg;

	return servers_with_replication(w->fw, w->kind) == 0;
}

static bool no_walsender(void *arg)
{
	(void)arg;
	return pg_query_ll("SELECT count(*) FROM pg_stat_activity "
	                   "WHERE backend_type = 'walsender'") == 0;
}

static void system_id_direct(char *buf, size_t n)
{
	PGconn *pg = pg_connect(FW_TESTDB);

	query_str(pg, "SELECT system_identifier::text FROM pg_control_system()", buf, n);
	PQfinish(pg);
}

/* IDENTIFY_SYSTEM through the pooler: the cluster's own system id. */
static void identify_system(struct fw *fw, const char *replication, bool wants_db)
{
	char direct[64];
	PGconn *c = fw_connect_ok(fw, FW_AS_SUPER " replication=%s", replication);
	PGresult *res = PQexec(c, "IDENTIFY_SYSTEM");

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "IDENTIFY_SYSTEM: %s",
	              PQerrorMessage(c));
	ck_assert_int_eq(PQntuples(res), 1);
	system_id_direct(direct, sizeof(direct));
	ck_assert_str_eq(res_str(res, 0, "systemid"), direct);
	ck_assert_int_ge(res_ll(res, 0, "timeline"), 1);
	if (wants_db)
		ck_assert_str_eq(res_str(res, 0, "dbname"), FW_TESTDB);
	else
		ck_assert_msg(res_str(res, 0, "dbname") == NULL, "physical: no database");
	PQclear(res);
	/* the session goes on: a second command on the same server */
	res = PQexec(c, "IDENTIFY_SYSTEM");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	PQfinish(c);
}

START_TEST(identify_system_logical)
{
	struct fw fw;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	identify_system(&fw, "database", true);
	fw_stop(&fw);
}
END_TEST

START_TEST(identify_system_physical)
{
	struct fw fw;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	identify_system(&fw, "true", false);
	identify_system(&fw, "on", false);
	identify_system(&fw, "1", false);
	fw_stop(&fw);
}
END_TEST

static bool has_wal_file(void *arg)
{
	const char *dir = arg;
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL)
		found = strlen(e->d_name) >= 24 && strspn(e->d_name, "0123456789ABCDEF") == 24;
	closedir(d);
	return found;
}

/* Writes a little WAL (a non-transactional logical message) each poll, so
 * the stream has something to carry. */
static bool wal_written_and_received(void *arg)
{
	pg_query_ll("SELECT count(*) FROM (SELECT pg_logical_emit_message(false, 'fw', 'x')) s");
	return has_wal_file(arg);
}

START_TEST(pg_receivewal_streams_through_the_pooler)
{
	struct fw fw;
	char conninfo[512], dir[PATH_MAX], tool[PATH_MAX], log[PATH_MAX + 8];
	pid_t pid;
	int status;

	fw_start(&fw, NULL, REPL_DBS, NULL, NULL);
	tool_conninfo(&fw, conninfo, sizeof(conninfo));
	path_in(&fw, "wal", dir, sizeof(dir));
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	pg_bin("pg_receivewal", tool, sizeof(tool));
	{
		const char *argv[] = {tool, "-d", conninfo, "--slot=fw_rw", "--create-slot", NULL};

		run_tool_ok(argv, "pg_receivewal --create-slot");
	}
	ck_assert_int_eq(pg_query_ll("SELECT count(*) FROM pg_replication_slots "
	                             "WHERE slot_name = 'fw_rw' AND slot_type = 'physical'"),
	                 1);
	snprintf(log, sizeof(log), "%s.log", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *f = freopen(log, "w", stdout);

		if (f == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		execl(tool, tool, "-d", conninfo, "--slot=fw_rw", "-D", dir, "--no-loop",
		      (char *)NULL);
		_exit(127);
	}
	/* WAL appears in the directory: the stream runs through Fairway */
	ck_assert_msg(wait_until(wal_written_and_received, dir, FW_WAIT_MS),
	              "no WAL file in %s:\n%s", dir, read_file(log));
	ck_assert_int_eq(servers_with_replication(&fw, "physical"), 1);
	/* the walsender carries the client's application_name (no SET there) */
	ck_assert_int_eq(pg_query_ll("SELECT count(*) FROM pg_stat_replication "
	                             "WHERE application_name = 'pg_receivewal'"),
	                 1);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "pg_receivewal exit status %d:\n%s", status, read_file(log));
	{
		struct repl_wait w = {&fw, "physical"};

		ck_assert_msg(wait_until(no_replication_server, &w, FW_WAIT_MS),
		              "the replication server outlived its client");
	}
	ck_assert(wait_until(no_walsender, NULL, FW_WAIT_MS));
	{
		const char *argv[] = {tool, "-d", conninfo, "--slot=fw_rw", "--drop-slot", NULL};

		run_tool_ok(argv, "pg_receivewal --drop-slot");
	}
	ck_assert_int_eq(pg_query_ll("SELECT count(*) FROM pg_replication_slots "
	                             "WHERE slot_name = 'fw_rw'"),
	                 0);
	fw_stop(&fw);
}
END_TEST

START_TEST(pg_recvlogical_receives_changes_through_the_pooler)
{
	struct fw fw;
	char conninfo[512], file[PATH_MAX], tool[PATH_MAX], endpos[64];
	char *text;
	PGconn *pg;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	tool_conninfo(&fw, conninfo, sizeof(conninfo));
	path_in(&fw, "changes.txt", file, sizeof(file));
	pg_bin("pg_recvlogical", tool, sizeof(tool));
	{
		const char *argv[] = {
		    tool, "-d", conninfo, "--slot=fw_lr", "--create-slot", "--plugin=test_decoding",
		    NULL};

		run_tool_ok(argv, "pg_recvlogical --create-slot");
	}
	pg = pg_connect(FW_TESTDB);
	PQclear(exec_ok(pg, "CREATE TABLE IF NOT EXISTS fw_repl(id int, note text)"));
	PQclear(exec_ok(pg, "INSERT INTO fw_repl VALUES (4711, 'through-fairway-one'), "
	                    "(4712, 'through-fairway-two')"));
	query_str(pg, "SELECT pg_current_wal_insert_lsn()::text", endpos, sizeof(endpos));
	{
		char opt[96];
		const char *argv[] = {tool,      "-d",        conninfo, "--slot=fw_lr",
		                      "--start", "--no-loop", "-f",     file,
		                      opt,       NULL};

		snprintf(opt, sizeof(opt), "--endpos=%s", endpos);
		run_tool_ok(argv, "pg_recvlogical --start");
	}
	text = read_file(file);
	ck_assert_msg(text != NULL, "pg_recvlogical wrote no file");
	ck_assert_msg(strstr(text, "4711") != NULL && strstr(text, "through-fairway-one") != NULL &&
	                  strstr(text, "4712") != NULL &&
	                  strstr(text, "through-fairway-two") != NULL,
	              "the inserted rows are missing from the decoded stream:\n%s", text);
	free(text);
	{
		const char *argv[] = {tool, "-d", conninfo, "--slot=fw_lr", "--drop-slot", NULL};

		run_tool_ok(argv, "pg_recvlogical --drop-slot");
	}
	PQclear(exec_ok(pg, "DROP TABLE fw_repl"));
	PQfinish(pg);
	{
		struct repl_wait w = {&fw, "logical"};

		ck_assert(wait_until(no_replication_server, &w, FW_WAIT_MS));
	}
	fw_stop(&fw);
}
END_TEST

START_TEST(pg_basebackup_with_streamed_wal_through_the_pooler)
{
	struct fw fw;
	char conninfo[512], dir[PATH_MAX], tool[PATH_MAX], verify[PATH_MAX], path[PATH_MAX + 32];

	fw_start(&fw, NULL, REPL_DBS, NULL, NULL);
	tool_conninfo(&fw, conninfo, sizeof(conninfo));
	path_in(&fw, "backup", dir, sizeof(dir));
	{
		const char *argv[] = {pg_bin("pg_basebackup", tool, sizeof(tool)),
		                      "-d",
		                      conninfo,
		                      "-D",
		                      dir,
		                      "-X",
		                      "stream",
		                      "-c",
		                      "fast",
		                      "--no-sync",
		                      NULL};

		run_tool_ok(argv, "pg_basebackup");
	}
	snprintf(path, sizeof(path), "%s/PG_VERSION", dir);
	ck_assert_msg(file_exists(path), "no PG_VERSION in the backup");
	snprintf(path, sizeof(path), "%s/backup_manifest", dir);
	ck_assert_msg(file_exists(path), "no backup_manifest in the backup");
	{
		/* every file and the streamed WAL arrived intact */
		const char *argv[] = {pg_bin("pg_verifybackup", verify, sizeof(verify)), dir, NULL};

		run_tool_ok(argv, "pg_verifybackup");
	}
	{
		struct repl_wait w = {&fw, "physical"};

		ck_assert(wait_until(no_replication_server, &w, FW_WAIT_MS));
	}
	fw_stop(&fw);
}
END_TEST

/* A normal client holds testdb's only server (pool_size=1, session mode);
 * a replication client still gets a server, its own, that the normal pool
 * never sees, and that closes when it leaves. */
START_TEST(replication_server_is_own_and_never_reused)
{
	struct fw fw;
	PGconn *normal, *repl, *second;
	PGresult *res;
	long long normal_pid, repl_pid;
	int row;

	fw_start(&fw, NULL, "testdb = @PG@ dbname=testdb pool_size=1\n", NULL, NULL);
	normal = fw_connect_ok(&fw, FW_AS_SUPER);
	normal_pid = query_ll(normal, "SELECT pg_backend_pid()");
	repl = fw_connect_ok(&fw, FW_AS_SUPER " replication=database");
	res = PQexec(repl, "IDENTIFY_SYSTEM");
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(repl));
	PQclear(res);
	/* logical walsenders run SQL too: its own backend */
	repl_pid = query_ll(repl, "SELECT pg_backend_pid()");
	ck_assert_int_ne(repl_pid, normal_pid);

	res = console_show(&fw, "SHOW CLIENTS");
	row = res_find_row(res, "replication", "logical", NULL, NULL);
	ck_assert_msg(row >= 0, "SHOW CLIENTS has no logical replication client");
	ck_assert_str_eq(res_str(res, row, "state"), "active");
	ck_assert_int_ge(res_find_row(res, "replication", "none", "database", FW_TESTDB), 0);
	PQclear(res);
	res = console_show(&fw, "SHOW SERVERS");
	row = res_find_row(res, "replication", "logical", NULL, NULL);
	ck_assert_msg(row >= 0, "SHOW SERVERS has no logical replication server");
	ck_assert_int_eq(res_ll(res, row, "remote_pid"), repl_pid);
	ck_assert_int_ge(res_find_row(res, "replication", "none", "database", FW_TESTDB), 0);
	PQclear(res);
	/* the normal pool still has one server, the normal client's */
	ck_assert_int_eq(pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "sv_active"), 1);

	PQfinish(repl);
	{
		struct repl_wait w = {&fw, "logical"};

		ck_assert_msg(wait_until(no_replication_server, &w, FW_WAIT_MS),
		              "the replication server was kept after its client left");
	}
	ck_assert(pg_wait_backend_gone(repl_pid));
	/* the normal client is untouched; a new replication client gets a new
	 * server, never the old one */
	ck_assert_int_eq(query_ll(normal, "SELECT pg_backend_pid()"), normal_pid);
	second = fw_connect_ok(&fw, FW_AS_SUPER " replication=database");
	ck_assert_int_ne(query_ll(second, "SELECT pg_backend_pid()"), repl_pid);
	PQfinish(second);
	PQfinish(normal);
	fw_stop(&fw);
}
END_TEST

/* The server refuses a replication client the pool already welcomed (it
 * lost the REPLICATION attribute): the client hears PostgreSQL's error at
 * once, not after query_wait_timeout. */
START_TEST(refused_replication_server_fails_its_client)
{
	struct fw fw;
	PGconn *pg = pg_connect(FW_TESTDB), *c;
	PGresult *res;
	char state[6], msg[512];

	PQclear(exec_ok(pg, "DROP ROLE IF EXISTS fw_repl_role"));
	PQclear(exec_ok(pg, "CREATE ROLE fw_repl_role LOGIN REPLICATION"));
	fw_start(&fw, NULL, NULL, NULL, FW_USERLIST_DEFAULT "\"fw_repl_role\" \"repl-pw\"\n");
	c = fw_connect_ok(&fw, "dbname=" FW_TESTDB " user=fw_repl_role password=repl-pw "
	                       "replication=database");
	res = PQexec(c, "IDENTIFY_SYSTEM");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	PQfinish(c);

	PQclear(exec_ok(pg, "ALTER ROLE fw_repl_role NOREPLICATION"));
	c = fw_connect_ok(&fw, "dbname=" FW_TESTDB " user=fw_repl_role password=repl-pw "
	                       "replication=database");
	res = PQexec(c, "IDENTIFY_SYSTEM");
	ck_assert_int_ne(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	ck_assert_msg(parse_error_text(PQerrorMessage(c), state, msg, sizeof(msg)),
	              "no error text: %s", PQerrorMessage(c));
	ck_assert_msg(strcmp(state, "42501") == 0, "expected PostgreSQL's 42501: %s",
	              PQerrorMessage(c));
	PQfinish(c);
	PQclear(exec_ok(pg, "DROP ROLE fw_repl_role"));
	PQfinish(pg);
	fw_stop(&fw);
}
END_TEST

/* Bad values get PostgreSQL's error; the console takes no replication. */
START_TEST(bad_replication_values_are_refused)
{
	struct fw fw;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	expect_connect_error(fw_connect(&fw, FW_AS_SUPER " replication=maybe"), "08P01",
	                     "invalid value for parameter \"replication\"");
	expect_connect_error(fw_connect(&fw, FW_AS_ADMIN " replication=true"), "0A000",
	                     "replication connections to the admin console");
	/* replication=false is a normal connection */
	{
		PGconn *c = fw_connect_ok(&fw, FW_AS_SUPER " replication=false");

		ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
		PQfinish(c);
	}
	fw_stop(&fw);
}
END_TEST

Suite *replication_suite(void)
{
	Suite *s = suite_create("replication");
	TCase *tc = tcase_create("replication");

	tcase_set_timeout(tc, FW_SLOW_TIMEOUT);
	tcase_add_test(tc, identify_system_logical);
	tcase_add_test(tc, identify_system_physical);
	tcase_add_test(tc, pg_receivewal_streams_through_the_pooler);
	tcase_add_test(tc, pg_recvlogical_receives_changes_through_the_pooler);
	tcase_add_test(tc, pg_basebackup_with_streamed_wal_through_the_pooler);
	tcase_add_test(tc, replication_server_is_own_and_never_reused);
	tcase_add_test(tc, refused_replication_server_fails_its_client);
	tcase_add_test(tc, bad_replication_values_are_refused);
	suite_add_tcase(s, tc);
	return s;
}
