/* Signals and the command line as PgBouncer 1.23+ has them
 * (PGBOUNCER-COMPAT.md sections 3 and 6): SIGHUP reload, SIGINT safe
 * shutdown (wait for servers), SIGTERM super-safe shutdown (wait for
 * clients; a second SIGTERM exits at once), SIGQUIT immediate exit,
 * SIGUSR1 pause, SIGUSR2 resume; -V, -h, an unreadable config, -d. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"
#include "suites.h"

#define TRANSACTION_MODE "pool_mode = transaction\n"

/* ---- helpers ------------------------------------------------------------ */

static void send_signal(struct fw *fw, int sig)
{
	ck_assert_msg(fw->pid != 0, "fairway is not running:\n%s", fw_log_tail(fw));
	ck_assert_msg(kill(fw->pid, sig) == 0, "kill(%d): %s", sig, strerror(errno));
}

static void assert_pidfile_removed(const struct fw *fw)
{
	char path[PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/fairway.pid", fw->dir);
	ck_assert_msg(stat(path, &st) != 0, "the pidfile %s is still there after the exit", path);
}

struct state_wait {
	struct fw *fw;
	const char *key, *want;
};

static bool state_is(void *arg)
{
	const struct state_wait *w = arg;
	PGresult *res = console_show(w->fw, "SHOW STATE");
	int row = res_find_row(res, "key", w->key, NULL, NULL);
	bool ok = row >= 0 && strcmp(res_str(res, row, "value"), w->want) == 0;

	PQclear(res);
	return ok;
}

/* ---- signals ------------------------------------------------------------ */

START_TEST(sighup_reload_of_a_changed_database_closes_its_idle_server)
{
	struct fw fw;
	long long pid;
	PGconn *c;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE, "testdb = @PG@ dbname=testdb pool_size=2\n", NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	pid = query_ll(c, "SELECT pg_backend_pid()");
	fw_ini_replace(&fw, "pool_size=2", "pool_size=5");
	fw_reload(&fw);
	ck_assert_msg(pg_wait_backend_gone(pid),
	              "the changed database kept its idle server %lld after SIGHUP\n%s", pid,
	              fw_log_tail(&fw));
	res = console_show(&fw, "SHOW DATABASES");
	ck_assert_int_eq(res_ll(res, res_find_row(res, "name", FW_TESTDB, NULL, NULL), "pool_size"),
	                 5);
	PQclear(res);
	ck_assert(fw_wait_log(&fw, "database configuration changed"));
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(sigint_waits_for_an_open_transaction_to_commit_then_exits_zero)
{
	struct fw fw;
	PGconn *c;
	char sql[128];
	long long id = (long long)getpid() * 10 + 3;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(c, "BEGIN"));
	snprintf(sql, sizeof(sql), "INSERT INTO fw_rows VALUES (%lld, 'sigint')", id);
	PQclear(exec_ok(c, sql));
	send_signal(&fw, SIGINT);
	fw_wait_new_clients_refused(&fw, "SIGINT");
	ck_assert_msg(fw_still_running(&fw), "fairway exited on SIGINT with a transaction open\n%s",
	              fw_log_tail(&fw));
	ck_assert_int_eq(query_ll(c, "SELECT 4"), 4);
	PQclear(exec_ok(c, "COMMIT"));
	fw_assert_exited_cleanly(&fw, "SIGINT and COMMIT");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM fw_rows WHERE id = %lld", id);
	ck_assert_int_eq(pg_query_ll(sql), 1);
	PQfinish(c);
}
END_TEST

START_TEST(sigterm_waits_until_the_last_client_disconnects)
{
	struct fw fw;
	PGconn *first, *last;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	first = fw_connect_ok(&fw, FW_AS_SUPER);
	last = fw_connect_ok(&fw, FW_AS_SUPER);
	send_signal(&fw, SIGTERM);
	fw_wait_new_clients_refused(&fw, "SIGTERM");
	fw_assert_query_answered(&fw, first, "SELECT 1", "1", "SIGTERM shutdown");
	PQfinish(first);
	fw_assert_query_answered(&fw, last, "SELECT 2", "2", "SIGTERM shutdown");
	ck_assert_msg(fw_still_running(&fw),
	              "fairway exited on SIGTERM with a client connected\n%s", fw_log_tail(&fw));
	PQfinish(last);
	fw_assert_exited_cleanly(&fw, "SIGTERM and the last client leaving");
	assert_pidfile_removed(&fw);
}
END_TEST

START_TEST(second_sigterm_exits_at_once_with_clients_connected)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(c, "BEGIN"));
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	send_signal(&fw, SIGTERM);
	fw_wait_new_clients_refused(&fw, "SIGTERM");
	ck_assert_msg(fw_still_running(&fw), "fairway exited on the first SIGTERM\n%s",
	              fw_log_tail(&fw));
	send_signal(&fw, SIGTERM);
	fw_assert_exited_cleanly(&fw, "a second SIGTERM");
	assert_connection_closed(c, "second SIGTERM");
	assert_pidfile_removed(&fw);
}
END_TEST

START_TEST(sigquit_exits_at_once_with_a_transaction_open)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(c, "BEGIN"));
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	send_signal(&fw, SIGQUIT);
	fw_assert_exited_cleanly(&fw, "SIGQUIT");
	assert_connection_closed(c, "SIGQUIT");
	assert_pidfile_removed(&fw);
}
END_TEST

START_TEST(sigusr1_pauses_and_sigusr2_resumes)
{
	struct fw fw;
	struct state_wait paused = {&fw, "paused", "yes"}, running = {&fw, "paused", "no"};
	PGconn *c;
	PGresult *res;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	send_signal(&fw, SIGUSR1);
	ck_assert_msg(wait_until(state_is, &paused, FW_WAIT_MS),
	              "SHOW STATE never said paused after SIGUSR1\n%s", fw_log_tail(&fw));
	ck_assert(PQsendQuery(c, "SELECT 6"));
	ck_assert_msg(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "cl_waiting", 1),
	              "the query did not wait after SIGUSR1\n%s", fw_log_tail(&fw));
	ck_assert(PQconsumeInput(c) == 1 && PQisBusy(c) == 1);
	send_signal(&fw, SIGUSR2);
	res = get_result_ok(c);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "6");
	PQclear(res);
	ck_assert(wait_until(state_is, &running, FW_WAIT_MS));
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(sigusr2_during_shutdown_is_ignored_with_a_log_line)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TRANSACTION_MODE, NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	send_signal(&fw, SIGTERM);
	fw_wait_new_clients_refused(&fw, "SIGTERM");
	send_signal(&fw, SIGUSR2);
	ck_assert_msg(fw_wait_log(&fw, "got SIGUSR2 while shutting down, ignoring"),
	              "no \"got SIGUSR2 while shutting down, ignoring\" in the log:\n%s",
	              fw_log_tail(&fw));
	ck_assert_msg(fw_still_running(&fw), "SIGUSR2 during shutdown stopped fairway\n%s",
	              fw_log_tail(&fw));
	PQfinish(c);
	fw_assert_exited_cleanly(&fw, "SIGTERM and the last client leaving");
}
END_TEST

/* ---- the command line --------------------------------------------------- */

/* Waits up to timeout_ms for a child (or an adopted orphan) to exit. */
static bool wait_child(pid_t pid, int timeout_ms, int *status)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(10000);
	}
	return false;
}

/* Runs the daemon binary with args as the daemon's user (it may refuse to
 * run as root); stdout and stderr into out. Returns the exit status, -1 if
 * it was killed or did not finish. */
static int run_daemon_cmd(const char *const args[], const char *dir, char *out, size_t size)
{
	char path[PATH_MAX + 32], opts[PATH_MAX + 128];
	const char *argv[8];
	size_t n = 0;
	int status = -1;
	pid_t pid;
	char *text;

	argv[n++] = harness_run()->daemon_bin;
	for (size_t i = 0; args[i] != NULL && n < 7; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(path, sizeof(path), "%s/cmd.out", dir);
	unlink(path);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int devnull = open("/dev/null", O_RDONLY);

		snprintf(opts, sizeof(opts), "log_path=%s/asan:detect_leaks=1:exitcode=23", dir);
		setenv("ASAN_OPTIONS", opts, 1);
		dup2(devnull, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (chdir(dir) != 0)
			_exit(126);
		harness_become_run_user();
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (!wait_child(pid, FW_START_MS, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = -1;
	}
	text = read_file(path);
	snprintf(out, size, "%s", text != NULL ? text : "");
	free(text);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

START_TEST(version_flag_prints_the_same_first_line_as_show_version)
{
	static const char *const args[] = {"-V", NULL};
	static char out[8192];
	struct fw fw;
	PGresult *res;
	size_t first_line;
	int status;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	status = run_daemon_cmd(args, fw.dir, out, sizeof(out));
	ck_assert_msg(status == 0, "-V exit status %d: %s", status, out);
	first_line = strcspn(out, "\n");
	res = console_show(&fw, "SHOW VERSION");
	ck_assert_msg(strlen(PQgetvalue(res, 0, 0)) == first_line &&
	                  strncmp(out, PQgetvalue(res, 0, 0), first_line) == 0,
	              "-V says \"%.*s\", SHOW VERSION says \"%s\"", (int)first_line, out,
	              PQgetvalue(res, 0, 0));
	PQclear(res);
	fw_stop(&fw);
}
END_TEST

START_TEST(help_flag_prints_usage_and_exits_zero)
{
	static const char *const args[] = {"-h", NULL};
	static char out[8192];
	const char *dir = harness_run()->root;
	int status;

	status = run_daemon_cmd(args, dir, out, sizeof(out));
	ck_assert_msg(status == 0, "-h exit status %d: %s", status, out);
	ck_assert_msg(strstr(out, "-d") != NULL, "-h does not mention -d: %s", out);
}
END_TEST

START_TEST(unreadable_config_file_exits_non_zero_naming_the_file)
{
	static char out[8192];
	struct fw fw;
	char missing[PATH_MAX + 32];
	const char *args[] = {missing, NULL};
	int status;

	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, NULL, NULL, NULL, NULL); /* for its directory */
	snprintf(missing, sizeof(missing), "%s/no-such-file.ini", fw.dir);
	status = run_daemon_cmd(args, fw.dir, out, sizeof(out));
	ck_assert_msg(status > 0, "fairway with a missing config exited with %d: %s", status, out);
	ck_assert_msg(strstr(out, "no-such-file.ini") != NULL,
	              "the error does not name the missing file: %s", out);
	fw_assert_no_sanitizer_report(&fw);
}
END_TEST

static long long read_pidfile(const struct fw *fw)
{
	char path[PATH_MAX + 32];
	char *text;
	long long pid;

	snprintf(path, sizeof(path), "%s/fairway.pid", fw->dir);
	text = read_file(path);
	if (text == NULL)
		return 0;
	pid = atoll(text);
	free(text);
	return pid;
}

static bool pidfile_written(void *arg)
{
	return read_pidfile(arg) > 0;
}

START_TEST(daemon_flag_detaches_writes_the_pidfile_serves_and_stops_on_sigint)
{
	static char out[8192];
	struct fw fw;
	char ini[PATH_MAX];
	const char *args[] = {"-d", ini, NULL};
	PGconn *c;
	PGresult *res;
	long long pid;
	bool served = false;
	int status;

	/* the detached daemon is re-parented to this test process, which can
	 * then wait for it and see its exit status */
	ck_assert(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, NULL, NULL, NULL, NULL);
	snprintf(ini, sizeof(ini), "%s", fw.ini);
	status = run_daemon_cmd(args, fw.dir, out, sizeof(out));
	ck_assert_msg(status == 0, "fairway -d: exit status %d: %s\n%s", status, out,
	              fw_log_tail(&fw));
	ck_assert_msg(wait_until(pidfile_written, &fw, FW_START_MS), "no pidfile after -d\n%s",
	              fw_log_tail(&fw));
	pid = read_pidfile(&fw);
	ck_assert_msg(kill((pid_t)pid, 0) == 0, "the pidfile's pid %lld is not running", pid);
	c = fw_connect(&fw, FW_AS_SUPER);
	if (PQstatus(c) == CONNECTION_OK) {
		res = PQexec(c, "SELECT 1");
		served = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
	PQfinish(c);
	/* stop it before asserting on what it served: a failed test must not
	 * leave a detached daemon behind */
	kill((pid_t)pid, SIGINT);
	if (!wait_child((pid_t)pid, FW_STOP_MS, &status)) {
		kill((pid_t)pid, SIGKILL);
		status = -1;
	}
	ck_assert_msg(served, "the daemonized fairway did not answer SELECT 1\n%s",
	              fw_log_tail(&fw));
	ck_assert_msg(status != -1, "the daemonized fairway did not exit on SIGINT\n%s",
	              fw_log_tail(&fw));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "the daemonized fairway exited with status 0x%x\n%s", (unsigned)status,
	              fw_log_tail(&fw));
	assert_pidfile_removed(&fw);
	fw_assert_no_sanitizer_report(&fw);
}
END_TEST

Suite *signals_suite(void)
{
	Suite *s = suite_create("signals");
	TCase *tc = tcase_create("signals");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, sighup_reload_of_a_changed_database_closes_its_idle_server);
	tcase_add_test(tc, sigint_waits_for_an_open_transaction_to_commit_then_exits_zero);
	tcase_add_test(tc, sigterm_waits_until_the_last_client_disconnects);
	tcase_add_test(tc, second_sigterm_exits_at_once_with_clients_connected);
	tcase_add_test(tc, sigquit_exits_at_once_with_a_transaction_open);
	tcase_add_test(tc, sigusr1_pauses_and_sigusr2_resumes);
	tcase_add_test(tc, sigusr2_during_shutdown_is_ignored_with_a_log_line);
	tcase_add_test(tc, version_flag_prints_the_same_first_line_as_show_version);
	tcase_add_test(tc, help_flag_prints_usage_and_exits_zero);
	tcase_add_test(tc, unreadable_config_file_exits_non_zero_naming_the_file);
	tcase_add_test(tc, daemon_flag_detaches_writes_the_pidfile_serves_and_stops_on_sigint);
	suite_add_tcase(s, tc);
	return s;
}
