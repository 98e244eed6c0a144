/* The integration-test harness, one daemon: a generated ini and userlist in
 * its own directory, the process started with FAIRWAY_BIN and stopped with
 * SIGINT (exit status 0, no sanitizer report), its logs, libpq clients
 * through it, and its admin console. */
#include "harness.h"
#include "harness_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- one fairway process ------------------------------------------------ */

static bool extra_has_key(const char *extra, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = extra; line != NULL && *line != '\0';) {
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, klen) == 0 &&
		    (p[klen] == ' ' || p[klen] == '\t' || p[klen] == '='))
			return true;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return false;
}

/* Appends text to f with every "@PG@" replaced by the cluster's address. */
static void put_databases(FILE *f, const char *text)
{
	const struct harness_run *run = harness_run();
	const char *p = text;

	for (;;) {
		const char *at = strstr(p, "@PG@");

		if (at == NULL) {
			fputs(p, f);
			break;
		}
		fwrite(p, 1, (size_t)(at - p), f);
		fprintf(f, "host=127.0.0.1 port=%d", run->port);
		p = at + 4;
	}
	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		fputc('\n', f);
}

void fw_write_config(struct fw *fw, const char *main_extra, const char *databases,
                     const char *users, const char *userlist)
{
	const struct harness_run *run = harness_run();
	char path[PATH_MAX + 32];
	const char *extra = main_extra != NULL ? main_extra : "";
	FILE *f;
	struct {
		const char *key;
		char value[PATH_MAX + 32];
	} defaults[] = {
	    {"listen_addr", "127.0.0.1"},
	    {"listen_port", ""},
	    {"unix_socket_dir", ""},
	    {"logfile", ""},
	    {"pidfile", ""},
	    {"auth_file", ""},
	    {"auth_type", "md5"},
	    {"admin_users", FW_ADMIN},
	    {"stats_users", FW_STATS},
	};

	if (fw->dir[0] == '\0') {
		memset(fw, 0, sizeof(*fw));
		harness_fmt_path(fw->dir, sizeof(fw->dir), "%s/fw.XXXXXX", run->root);
		ck_assert_msg(mkdtemp(fw->dir) != NULL, "mkdtemp: %s", strerror(errno));
		harness_chown_to_run_user(fw->dir);
		fw->port = free_port();
		harness_fmt_path(fw->ini, sizeof(fw->ini), "%s/fairway.ini", fw->dir);
		harness_fmt_path(fw->logfile, sizeof(fw->logfile), "%s/fairway.log", fw->dir);
		harness_fmt_path(fw->errfile, sizeof(fw->errfile), "%s/stderr.log", fw->dir);
	}
	snprintf(defaults[1].value, sizeof(defaults[1].value), "%d", fw->port);
	snprintf(defaults[2].value, sizeof(defaults[2].value), "%s", fw->dir);
	snprintf(defaults[3].value, sizeof(defaults[3].value), "%s", fw->logfile);
	snprintf(defaults[4].value, sizeof(defaults[4].value), "%s/fairway.pid", fw->dir);
	snprintf(defaults[5].value, sizeof(defaults[5].value), "%s/userlist.txt", fw->dir);

	harness_write_text(defaults[5].value, userlist != NULL ? userlist : FW_USERLIST_DEFAULT,
	                   "w");
	harness_chown_to_run_user(defaults[5].value);

	harness_fmt_path(path, sizeof(path), "%s", fw->ini);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
	fputs("[pgbouncer]\n", f);
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!extra_has_key(extra, defaults[i].key))
			fprintf(f, "%s = %s\n", defaults[i].key, defaults[i].value);
	fputs(extra, f);
	if (*extra != '\0' && extra[strlen(extra) - 1] != '\n')
		fputc('\n', f);
	fputs("\n[databases]\n", f);
	put_databases(f, databases != NULL ? databases : FW_DB_DEFAULT);
	if (users != NULL) {
		fputs("\n[users]\n", f);
		fputs(users, f);
		fputc('\n', f);
	}
	ck_assert_msg(fclose(f) == 0, "cannot write %s", path);
	harness_chown_to_run_user(path);
}

void fw_ini_replace(const struct fw *fw, const char *from, const char *to)
{
	char *text = read_file(fw->ini);
	char *at;
	FILE *f;

	ck_assert_msg(text != NULL, "cannot read %s", fw->ini);
	at = strstr(text, from);
	ck_assert_msg(at != NULL, "\"%s\" is not in %s", from, fw->ini);
	f = fopen(fw->ini, "w");
	ck_assert_msg(f != NULL, "cannot write %s", fw->ini);
	fwrite(text, 1, (size_t)(at - text), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	ck_assert_msg(fclose(f) == 0, "cannot write %s", fw->ini);
	free(text);
}

const char *fw_write_file(const struct fw *fw, const char *name, const char *text, char *path,
                          size_t size)
{
	harness_fmt_path(path, size, "%s/%s", fw->dir, name);
	harness_write_text(path, text, "w");
	harness_chown_to_run_user(path);
	return path;
}

int fw_ini_line_of(const struct fw *fw, const char *key)
{
	char *text = read_file(fw->ini);
	int line = 1, found = 0;
	size_t klen = strlen(key);

	ck_assert_msg(text != NULL, "cannot read %s", fw->ini);
	for (const char *p = text; *p != '\0'; line++) {
		if (strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '=')) {
			found = line;
			break;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	free(text);
	return found;
}

void fw_spawn(struct fw *fw)
{
	const struct harness_run *run = harness_run();
	pid_t parent = getpid();
	pid_t pid;

	ck_assert_msg(fw->pid == 0, "fairway already running");
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[2 * PATH_MAX + 256];
		int out = open(fw->errfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int devnull = open("/dev/null", O_RDONLY);

		snprintf(opts, sizeof(opts),
		         "%s%slog_path=%s/asan:detect_leaks=1:abort_on_error=0:exitcode=23",
		         asan != NULL ? asan : "", asan != NULL && *asan != '\0' ? ":" : "",
		         fw->dir);
		setenv("ASAN_OPTIONS", opts, 1);
		snprintf(opts, sizeof(opts), "print_stacktrace=1:log_path=%s/ubsan", fw->dir);
		setenv("UBSAN_OPTIONS", opts, 1);
		if (out >= 0) {
			/* the daemon inherits the descriptor; ownership is tidiness */
			if (run->drop && fchown(out, run->run_uid, run->run_gid) != 0)
				perror("fchown stderr.log");
			dup2(out, STDOUT_FILENO);
			dup2(out, STDERR_FILENO);
		}
		dup2(devnull, STDIN_FILENO);
		if (chdir(fw->dir) != 0)
			_exit(126);
		harness_become_run_user();
		/* after the uid change, which clears it; a test killed on timeout
		 * must not leave a daemon behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		execl(run->daemon_bin, run->daemon_bin, fw->ini, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", run->daemon_bin, strerror(errno));
		_exit(127);
	}
	fw->pid = pid;
}

static bool tcp_accepts(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The socket file appears at bind(), before listen(): only a connect that
 * succeeds says the daemon accepts there. */
static bool unix_accepts(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	int fd;
	bool ok;

	ck_assert_msg(len < sizeof(sa.sun_path), "socket path too long: %s", path);
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool reap(struct fw *fw)
{
	int status;
	pid_t got = waitpid(fw->pid, &status, WNOHANG);

	if (got == fw->pid) {
		fw->exit_status = status;
		fw->pid = 0;
		return true;
	}
	return false;
}

void fw_wait_listening(struct fw *fw)
{
	uint64_t deadline = harness_now_ms() + FW_START_MS;
	char sock[PATH_MAX + 32];

	harness_fmt_path(sock, sizeof(sock), "%s/.s.PGSQL.%d", fw->dir, fw->port);
	for (;;) {
		if (reap(fw))
			ck_abort_msg("fairway exited during start-up (status 0x%x):\n%s",
			             (unsigned)fw->exit_status, fw_log_tail(fw));
		if (tcp_accepts(fw->port) && unix_accepts(sock))
			return;
		if (harness_now_ms() >= deadline)
			ck_abort_msg(
			    "fairway did not accept connections on port %d within %d ms:\n%s",
			    fw->port, FW_START_MS, fw_log_tail(fw));
		harness_pause_ms(10);
	}
}

void fw_start(struct fw *fw, const char *main_extra, const char *databases, const char *users,
              const char *userlist)
{
	memset(fw, 0, sizeof(*fw));
	fw_write_config(fw, main_extra, databases, users, userlist);
	fw_spawn(fw);
	fw_wait_listening(fw);
}

bool fw_wait_exit(struct fw *fw, int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

	if (fw->pid == 0)
		return true;
	for (;;) {
		if (reap(fw))
			return true;
		if (harness_now_ms() >= deadline)
			return false;
		harness_pause_ms(10);
	}
}

void fw_assert_no_sanitizer_report(const struct fw *fw)
{
	DIR *d = opendir(fw->dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "cannot list %s", fw->dir);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "asan.", 5) == 0 || strncmp(e->d_name, "ubsan.", 6) == 0) {
			char path[PATH_MAX + 300];
			char *report;

			harness_fmt_path(path, sizeof(path), "%s/%s", fw->dir, e->d_name);
			report = read_file(path);
			closedir(d);
			ck_abort_msg("sanitizer report from fairway (%s):\n%.6000s", path,
			             report != NULL ? report : "(unreadable)");
		}
	}
	closedir(d);
}

void fw_stop(struct fw *fw)
{
	const struct harness_run *run = harness_run();
	ck_assert_msg(fw->pid != 0, "fairway is not running (status 0x%x):\n%s",
	              (unsigned)fw->exit_status, fw_log_tail(fw));
	fw_assert_baseline(fw);
	if (fw->console != NULL) {
		PQfinish(fw->console);
		fw->console = NULL;
	}
	ck_assert_msg(kill(fw->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	if (!fw_wait_exit(fw, FW_STOP_MS)) {
		kill(fw->pid, SIGKILL);
		fw_wait_exit(fw, FW_STOP_MS);
		ck_abort_msg("fairway did not exit within %d ms of SIGINT:\n%s", FW_STOP_MS,
		             fw_log_tail(fw));
	}
	fw_assert_no_sanitizer_report(fw);
	ck_assert_msg(WIFEXITED(fw->exit_status) && WEXITSTATUS(fw->exit_status) == 0,
	              "fairway exit status after SIGINT: %s %d\n%s",
	              WIFEXITED(fw->exit_status) ? "exit" : "signal",
	              WIFEXITED(fw->exit_status) ? WEXITSTATUS(fw->exit_status)
	                                         : WTERMSIG(fw->exit_status),
	              fw_log_tail(fw));
	if (!run->keep)
		harness_remove_tree(fw->dir);
}

void fw_reload(struct fw *fw)
{
	ck_assert_msg(fw->pid != 0 && kill(fw->pid, SIGHUP) == 0, "cannot send SIGHUP");
}

/* ---- logs --------------------------------------------------------------- */

bool fw_log_contains(const struct fw *fw, const char *needle)
{
	char *log = read_file(fw->logfile);
	char *err = read_file(fw->errfile);
	bool found = (log != NULL && strstr(log, needle) != NULL) ||
	             (err != NULL && strstr(err, needle) != NULL);

	free(log);
	free(err);
	return found;
}

struct log_wait {
	const struct fw *fw;
	const char *needle;
};

static bool log_has(void *arg)
{
	const struct log_wait *w = arg;

	return fw_log_contains(w->fw, w->needle);
}

bool fw_wait_log(const struct fw *fw, const char *needle)
{
	struct log_wait w = {fw, needle};

	return wait_until(log_has, &w, FW_WAIT_MS);
}

const char *fw_log_tail(const struct fw *fw)
{
	static char buf[12000];
	char *log = read_file(fw->logfile);
	char *err = read_file(fw->errfile);
	const char *l = log != NULL ? log : "";
	const char *e = err != NULL ? err : "";
	size_t llen = strlen(l), elen = strlen(e);

	snprintf(buf, sizeof(buf), "--- %s (tail) ---\n%s\n--- stderr (tail) ---\n%s\n",
	         fw->logfile, llen > 6000 ? l + llen - 6000 : l, elen > 3000 ? e + elen - 3000 : e);
	free(log);
	free(err);
	return buf;
}

/* ---- libpq through the pooler ------------------------------------------- */

/* Connects with PQERRORS_VERBOSE set before the handshake, so that errors
 * carry their SQLSTATE in the message text. libpq 14+ drops the fields of a
 * FATAL ErrorResponse when the connection closes right after it, and a login
 * failure never has a PGresult: the text is all a test gets to see. */
static PGconn *connect_v(const char *host, int port, const char *fmt, va_list ap)
{
	char user_part[1024], conninfo[PATH_MAX + 1200];
	int n = vsnprintf(user_part, sizeof(user_part), fmt, ap);
	uint64_t deadline = harness_now_ms() + FW_WAIT_MS;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn *conn;

	ck_assert_msg(n >= 0 && (size_t)n < sizeof(user_part), "conninfo too long");
	harness_fmt_path(conninfo, sizeof(conninfo),
	                 "host=%s port=%d connect_timeout=10 sslmode=disable gssencmode=disable %s",
	                 host, port, user_part);
	conn = PQconnectStart(conninfo);
	ck_assert_msg(conn != NULL, "out of memory");
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	       st != PGRES_POLLING_FAILED) {
		struct pollfd p = {.fd = PQsocket(conn),
		                   .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
		uint64_t now = harness_now_ms();

		ck_assert_msg(now < deadline, "connecting to %s:%d did not finish", host, port);
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			ck_abort_msg("poll: %s", strerror(errno));
		st = PQconnectPoll(conn);
	}
	return conn;
}

bool parse_error_text(const char *text, char sqlstate[6], char *msg, size_t size)
{
	static const char *const severities[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};
	const char *best = NULL;

	sqlstate[0] = '\0';
	if (size > 0)
		msg[0] = '\0';
	if (text == NULL)
		return false;
	for (size_t i = 0; i < sizeof(severities) / sizeof(severities[0]); i++) {
		const char *p = strstr(text, severities[i]);

		if (p != NULL && (best == NULL || p < best))
			best = p;
	}
	if (best == NULL)
		return false;
	best += 8;
	if (strspn(best, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") >= 5 && best[5] == ':' &&
	    best[6] == ' ') {
		memcpy(sqlstate, best, 5);
		sqlstate[5] = '\0';
		best += 7;
	}
	snprintf(msg, size, "%.*s", (int)strcspn(best, "\n"), best);
	return sqlstate[0] != '\0';
}

void expect_connect_error(PGconn *conn, const char *sqlstates, const char *msg_part)
{
	char state[6], msg[512], full[1024];

	snprintf(full, sizeof(full), "%s", PQerrorMessage(conn));
	ck_assert_msg(PQstatus(conn) == CONNECTION_BAD, "connection should have failed");
	PQfinish(conn);
	parse_error_text(full, state, msg, sizeof(msg));
	ck_assert_msg(sqlstates == NULL || sqlstate_in(state, sqlstates),
	              "login error SQLSTATE \"%s\", expected %s: %s", state, sqlstates, full);
	if (msg_part != NULL)
		ck_assert_msg(strstr(msg, msg_part) != NULL,
		              "login error \"%s\" does not contain \"%s\"", msg, msg_part);
}

PGconn *fw_connect(const struct fw *fw, const char *fmt, ...)
{
	va_list ap;
	PGconn *conn;

	va_start(ap, fmt);
	conn = connect_v("127.0.0.1", fw->port, fmt, ap);
	va_end(ap);
	ck_assert_msg(conn != NULL, "out of memory");
	return conn;
}

PGconn *fw_connect_unix(const struct fw *fw, const char *fmt, ...)
{
	va_list ap;
	PGconn *conn;

	va_start(ap, fmt);
	conn = connect_v(fw->dir, fw->port, fmt, ap);
	va_end(ap);
	ck_assert_msg(conn != NULL, "out of memory");
	return conn;
}

PGconn *fw_connect_ok(const struct fw *fw, const char *fmt, ...)
{
	va_list ap;
	PGconn *conn;

	va_start(ap, fmt);
	conn = connect_v("127.0.0.1", fw->port, fmt, ap);
	va_end(ap);
	ck_assert_msg(conn != NULL && PQstatus(conn) == CONNECTION_OK,
	              "connecting through fairway failed: %s\n%s", PQerrorMessage(conn),
	              fw_log_tail(fw));
	return conn;
}

/* ---- queries ------------------------------------------------------------ */

PGresult *exec_ok(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s %s", sql,
	              PQresStatus(st), PQerrorMessage(conn));
	return res;
}

PGresult *get_result_ok(PGconn *conn)
{
	PGresult *last = NULL, *res;

	/* like PQexec(): every result must be good, the last one is returned */
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
		              "query failed: %s %s", PQresStatus(st), PQerrorMessage(conn));
		PQclear(last);
		last = res;
	}
	ck_assert_msg(last != NULL, "no result: %s", PQerrorMessage(conn));
	return last;
}

const char *query_str(PGconn *conn, const char *sql, char *buf, size_t size)
{
	PGresult *res = exec_ok(conn, sql);

	ck_assert_msg(PQntuples(res) >= 1 && PQnfields(res) >= 1, "%s returned no value", sql);
	snprintf(buf, size, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return buf;
}

long long query_ll(PGconn *conn, const char *sql)
{
	char buf[64], *end;
	long long v;

	query_str(conn, sql, buf, sizeof(buf));
	v = strtoll(buf, &end, 10);
	ck_assert_msg(end != buf && *end == '\0', "%s returned \"%s\", not a number", sql, buf);
	return v;
}

bool sqlstate_in(const char *sqlstate, const char *alternatives)
{
	size_t n;

	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return false;
	for (const char *p = alternatives; *p != '\0'; p += n + (p[n] == '|')) {
		n = strcspn(p, "|");
		if (n == 5 && strncmp(p, sqlstate, 5) == 0)
			return true;
	}
	return false;
}

static bool contains_one_of(const char *text, const char *alternatives)
{
	char part[256];
	size_t n;

	for (const char *p = alternatives; *p != '\0'; p += n + (p[n] == '|')) {
		n = strcspn(p, "|");
		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		if (strstr(text, part) != NULL)
			return true;
	}
	return false;
}

void expect_query_error(PGconn *conn, const char *sql, const char *sqlstates, const char *msg_part)
{
	PGresult *res = PQexec(conn, sql);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char copy_state[6], copy_msg[512], full[1024];

	/* the connection's text: it keeps the FATAL line before "server closed" */
	snprintf(full, sizeof(full), "%s", PQerrorMessage(conn));
	if (state != NULL && msg != NULL) {
		snprintf(copy_state, sizeof(copy_state), "%s", state);
		snprintf(copy_msg, sizeof(copy_msg), "%s", msg);
	} else {
		/* a FATAL error followed by the close: only the text is left */
		parse_error_text(full, copy_state, copy_msg, sizeof(copy_msg));
	}
	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "%s: expected an error, got %s",
	              sql, PQresStatus(PQresultStatus(res)));
	PQclear(res);
	ck_assert_msg(sqlstate_in(copy_state, sqlstates), "%s: SQLSTATE \"%s\", expected %s: %s",
	              sql, copy_state, sqlstates, full);
	if (msg_part != NULL)
		ck_assert_msg(contains_one_of(copy_msg, msg_part),
		              "%s: message \"%s\" does not contain \"%s\"", sql, copy_msg,
		              msg_part);
}

/* ---- the admin console -------------------------------------------------- */

PGresult *console_query(struct fw *fw, const char *sql)
{
	if (fw->console != NULL && PQstatus(fw->console) != CONNECTION_OK) {
		PQfinish(fw->console);
		fw->console = NULL;
	}
	if (fw->console == NULL)
		fw->console = fw_connect_ok(fw, "dbname=pgbouncer user=%s password=%s", FW_ADMIN,
		                            FW_ADMIN_PW);
	return PQexec(fw->console, sql);
}

PGresult *console_show(struct fw *fw, const char *sql)
{
	PGresult *res = console_query(fw, sql);

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "console %s: %s %s", sql,
	              PQresStatus(PQresultStatus(res)), PQerrorMessage(fw->console));
	return res;
}

static void column_list(const PGresult *res, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < PQnfields(res) && used < size; i++) {
		int n =
		    snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "", PQfname(res, i));

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int col(const PGresult *res, const char *name)
{
	char quoted[128], names[2048];
	int i;

	/* quoted: PQfnumber folds unquoted names to lower case */
	snprintf(quoted, sizeof(quoted), "\"%s\"", name);
	i = PQfnumber(res, quoted);
	if (i < 0) {
		column_list(res, names, sizeof(names));
		ck_abort_msg("no column \"%s\"; columns are: %s", name, names);
	}
	return i;
}

const char *res_str(const PGresult *res, int row, const char *column)
{
	int c = col(res, column);

	ck_assert_msg(row >= 0 && row < PQntuples(res), "row %d of %d", row, PQntuples(res));
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

long long res_ll(const PGresult *res, int row, const char *column)
{
	const char *s = res_str(res, row, column);
	char *end;
	long long v;

	ck_assert_msg(s != NULL, "column %s is NULL", column);
	v = strtoll(s, &end, 10);
	ck_assert_msg(end != s && *end == '\0', "column %s = \"%s\" is not an integer", column, s);
	return v;
}

int res_find_row(const PGresult *res, const char *c1, const char *v1, const char *c2,
                 const char *v2)
{
	int i1 = col(res, c1), i2 = c2 != NULL ? col(res, c2) : -1;

	for (int r = 0; r < PQntuples(res); r++) {
		if (strcmp(PQgetvalue(res, r, i1), v1) != 0)
			continue;
		if (i2 >= 0 && strcmp(PQgetvalue(res, r, i2), v2) != 0)
			continue;
		return r;
	}
	return -1;
}

void assert_columns_start_with(const PGresult *res, const char *what, const char *const names[])
{
	char got[4096];
	int i;

	column_list(res, got, sizeof(got));
	for (i = 0; names[i] != NULL; i++)
		ck_assert_msg(i < PQnfields(res) && strcmp(PQfname(res, i), names[i]) == 0,
		              "%s: column %d should be \"%s\"; columns are: %s", what, i + 1,
		              names[i], got);
}

const char *config_value(struct fw *fw, const char *key, char *buf, size_t size)
{
	PGresult *res = console_show(fw, "SHOW CONFIG");
	int row = res_find_row(res, "key", key, NULL, NULL);
	const char *v;

	ck_assert_msg(row >= 0, "SHOW CONFIG has no row %s", key);
	v = res_str(res, row, "value");
	snprintf(buf, size, "%s", v != NULL ? v : "");
	PQclear(res);
	return buf;
}

long long pool_stat(struct fw *fw, const char *db, const char *user, const char *column)
{
	PGresult *res = console_show(fw, "SHOW POOLS");
	int row = res_find_row(res, "database", db, "user", user);
	long long v = row >= 0 ? res_ll(res, row, column) : -1;

	PQclear(res);
	return v;
}

struct pool_wait {
	struct fw *fw;
	const char *db, *user, *column;
	long long want;
};

static bool pool_stat_is(void *arg)
{
	struct pool_wait *w = arg;

	return pool_stat(w->fw, w->db, w->user, w->column) == w->want;
}

bool wait_pool_stat(struct fw *fw, const char *db, const char *user, const char *column,
                    long long want)
{
	struct pool_wait w = {fw, db, user, column, want};

	return wait_until(pool_stat_is, &w, FW_WAIT_MS);
}

struct baseline {
	struct fw *fw;
	char why[512];
};

static bool at_baseline(void *arg)
{
	struct baseline *b = arg;
	PGresult *res = console_show(b->fw, "SHOW POOLS");
	static const char *const zero[] = {"cl_active", "cl_waiting", "sv_active", "sv_login"};
	bool ok = true;

	for (int r = 0; r < PQntuples(res) && ok; r++) {
		const char *db = res_str(res, r, "database");

		if (strcmp(db, "pgbouncer") == 0 || strcmp(db, "fairway") == 0)
			continue;
		for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]) && ok; i++) {
			if (res_ll(res, r, zero[i]) != 0) {
				snprintf(b->why, sizeof(b->why), "pool %s/%s has %s = %lld", db,
				         res_str(res, r, "user"), zero[i], res_ll(res, r, zero[i]));
				ok = false;
			}
		}
	}
	PQclear(res);
	return ok;
}

void fw_assert_baseline(struct fw *fw)
{
	struct baseline b = {.fw = fw};

	ck_assert_msg(wait_until(at_baseline, &b, FW_WAIT_MS),
	              "pooler not back at baseline: %s\n%s", b.why, fw_log_tail(fw));
}

static bool new_client_refused(void *arg)
{
	struct fw *fw = arg;
	PGconn *c = fw_connect(fw, FW_AS_SUPER);
	bool bad = PQstatus(c) != CONNECTION_OK;

	PQfinish(c);
	return bad;
}

void fw_wait_new_clients_refused(struct fw *fw, const char *after)
{
	ck_assert_msg(wait_until(new_client_refused, fw, FW_WAIT_MS),
	              "the pooler kept accepting new clients after %s\n%s", after, fw_log_tail(fw));
}

static bool answered(void *arg)
{
	PGconn *c = arg;

	/* a broken connection counts: get_result_ok() then reports it */
	return PQconsumeInput(c) == 0 || PQisBusy(c) == 0;
}

void fw_assert_query_answered(struct fw *fw, PGconn *c, const char *sql, const char *want,
                              const char *during)
{
	PGresult *res;

	ck_assert_msg(PQsendQuery(c, sql) == 1, "PQsendQuery(%s): %s", sql, PQerrorMessage(c));
	ck_assert_msg(wait_until(answered, c, FW_WAIT_MS),
	              "%s: a connected client's \"%s\" was never answered\n%s", during, sql,
	              fw_log_tail(fw));
	res = get_result_ok(c);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
	PQclear(res);
}

bool fw_still_running(struct fw *fw)
{
	return !fw_wait_exit(fw, 0);
}

void fw_assert_exited_cleanly(struct fw *fw, const char *after)
{
	if (fw->console != NULL) {
		PQfinish(fw->console);
		fw->console = NULL;
	}
	if (!fw_wait_exit(fw, FW_STOP_MS)) {
		kill(fw->pid, SIGKILL);
		fw_wait_exit(fw, FW_STOP_MS);
		ck_abort_msg("fairway did not exit after %s:\n%s", after, fw_log_tail(fw));
	}
	fw_assert_no_sanitizer_report(fw);
	ck_assert_msg(WIFEXITED(fw->exit_status) && WEXITSTATUS(fw->exit_status) == 0,
	              "fairway exit status after %s: %s %d\n%s", after,
	              WIFEXITED(fw->exit_status) ? "exit" : "signal",
	              WIFEXITED(fw->exit_status) ? WEXITSTATUS(fw->exit_status)
	                                         : WTERMSIG(fw->exit_status),
	              fw_log_tail(fw));
}

void assert_connection_closed(PGconn *c, const char *what)
{
	PGresult *res = PQexec(c, "SELECT 1");

	ck_assert_msg(PQresultStatus(res) != PGRES_TUPLES_OK,
	              "%s: a query on a closed client succeeded", what);
	ck_assert_msg(PQerrorMessage(c)[0] != '\0', "%s: the client got no error", what);
	PQclear(res);
	PQfinish(c);
}
