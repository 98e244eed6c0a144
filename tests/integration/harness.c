/* The integration-test harness, the run: it owns the run's PostgreSQL
 * cluster (started once by the runner process, stopped by it or by a
 * watchdog when the runner dies), runs commands as the right user, and
 * polls with deadlines. harness_fw.c runs the daemon; harness_raw.c speaks
 * raw protocol.
 *
 * Process-wide state lives in `run` below: it is written once by pg_setup()
 * before any test runs and only read afterwards, also by Check's forked test
 * children; harness_run() gives the other harness files a read-only view. When the tests run as
 * root, PostgreSQL (initdb refuses root) and the daemon (PgBouncer refuses root) run as an
 * unprivileged user, FAIRWAY_TEST_PGUSER (default "postgres"), in directories owned by it. */
#include "harness.h"
#include "harness_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static struct harness_run run = {.watchdog_fd = -1};

const struct harness_run *harness_run(void)
{
	return &run;
}

/* ---- small utilities ---------------------------------------------------- */

uint64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void harness_pause_ms(int ms)
{
	poll(NULL, 0, ms);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("integration harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

void harness_fmt_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		die("path too long: %s", buf);
}

void harness_write_text(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (f == NULL)
		die("cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	if (fclose(f) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

void harness_chown_to_run_user(const char *path)
{
	if (run.drop && chown(path, run.run_uid, run.run_gid) != 0)
		die("chown %s: %s", path, strerror(errno));
}

char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t len = 0, cap = 4096;
	char *buf;

	if (f == NULL)
		return NULL;
	buf = malloc(cap);
	for (;;) {
		size_t n;

		if (buf == NULL)
			die("out of memory reading %s", path);
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (cap - len < 1024) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		die("cannot find a free port: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* In a forked child, before exec: become the unprivileged user when root. */
void harness_become_run_user(void)
{
	if (!run.drop)
		return;
	if (initgroups(run.run_user, run.run_gid) != 0 || setgid(run.run_gid) != 0 ||
	    setuid(run.run_uid) != 0) {
		fprintf(stderr, "cannot become %s: %s\n", run.run_user, strerror(errno));
		_exit(126);
	}
	setenv("HOME", run.run_home, 1);
	setenv("USER", run.run_user, 1);
	setenv("LOGNAME", run.run_user, 1);
}

bool run_as_daemon_user(bool (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		ck_abort_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		harness_become_run_user();
		/* _exit: no atexit handlers, no sanitizer leak pass, no Check report */
		_exit(fn(arg) ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			ck_abort_msg("waitpid: %s", strerror(errno));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int run_argv(const char *const argv[], bool as_run_user, char *out, size_t out_size,
                    int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
	size_t used = 0;
	int pfd[2], status;
	bool killed = false;
	pid_t pid;

	if (out_size > 0)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		if (as_run_user)
			harness_become_run_user();
		if (run.root[0] != '\0' && chdir(run.root) != 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		uint64_t now = harness_now_ms();
		char chunk[4096];
		ssize_t n;
		int rc;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		rc = poll(&p, 1, (int)(deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out_size > 0 && used < out_size - 1) {
			size_t take =
			    (size_t)n < out_size - 1 - used ? (size_t)n : out_size - 1 - used;

			memcpy(out + used, chunk, take);
			used += take;
			out[used] = '\0';
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (killed || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int run_cmd(const char *const argv[], char *out, size_t out_size, int timeout_ms)
{
	return run_argv(argv, false, out, out_size, timeout_ms);
}

const char *pg_bin(const char *name, char *buf, size_t size)
{
	harness_fmt_path(buf, size, "%s/%s", run.bindir, name);
	return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void harness_remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- PostgreSQL --------------------------------------------------------- */

static void pg_stop_and_remove(void)
{
	char pidfile[PATH_MAX + 32], pgctl[PATH_MAX], out[4096];
	struct stat st;

	if (run.data[0] != '\0') {
		harness_fmt_path(pidfile, sizeof(pidfile), "%s/postmaster.pid", run.data);
		if (stat(pidfile, &st) == 0) {
			const char *argv[] = {pg_bin("pg_ctl", pgctl, sizeof(pgctl)),
			                      "-D",
			                      run.data,
			                      "-m",
			                      "immediate",
			                      "-w",
			                      "stop",
			                      NULL};

			run_argv(argv, true, out, sizeof(out), 60000);
		}
	}
	if (!run.keep && run.root[0] != '\0')
		harness_remove_tree(run.root);
}

void pg_teardown(void)
{
	if (run.owner == 0 || getpid() != run.owner)
		return; /* a forked test child: the cluster is not ours to stop */
	pg_stop_and_remove();
	if (run.keep && run.root[0] != '\0')
		fprintf(stderr, "FAIRWAY_TEST_KEEP: left %s behind\n", run.root);
	run.owner = 0;
	if (run.watchdog_fd >= 0) {
		close(run.watchdog_fd);
		run.watchdog_fd = -1;
	}
}

/* A process in its own session that outlives the runner: when the runner dies
 * for any reason (a crash, SIGKILL, Check's own SIGINT handler), the pipe
 * closes and the watchdog stops PostgreSQL and removes the run's directory. */
static void start_watchdog(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p) != 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		char c;

		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		close(p[1]);
		while (read(p[0], &c, 1) != 0 && (errno == EINTR || errno == 0))
			;
		pg_stop_and_remove();
		_exit(0);
	}
	close(p[0]);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	run.watchdog_fd = p[1];
}

/* libpq and pg_ctl read PG* variables; a developer's PGHOST or PGOPTIONS
 * must not change what the tests connect to. */
static void clear_pg_environment(void)
{
	char names[64][64];
	size_t count = 0;

	for (char **e = environ; *e != NULL && count < 64; e++) {
		const char *eq = strchr(*e, '=');

		if (strncmp(*e, "PG", 2) == 0 && eq != NULL && (size_t)(eq - *e) < 64) {
			memcpy(names[count], *e, (size_t)(eq - *e));
			names[count][eq - *e] = '\0';
			count++;
		}
	}
	for (size_t i = 0; i < count; i++)
		unsetenv(names[i]);
}

static void find_pg_bindir(void)
{
	const char *env = getenv("FAIRWAY_TEST_PGBIN");
	glob_t g;
	long best = -1;

	if (env != NULL && *env != '\0') {
		harness_fmt_path(run.bindir, sizeof(run.bindir), "%s", env);
		return;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
		die("no PostgreSQL server found under /usr/lib/postgresql (apt-get install "
		    "postgresql), or set FAIRWAY_TEST_PGBIN");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i] + strlen("/usr/lib/postgresql/");
		long version = strtol(p, NULL, 10);

		if (version > best) {
			best = version;
			harness_fmt_path(run.bindir, sizeof(run.bindir),
			                 "/usr/lib/postgresql/%ld/bin", version);
		}
	}
	globfree(&g);
}

static void pick_user(void)
{
	const char *name = getenv("FAIRWAY_TEST_PGUSER");
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if (name == NULL || *name == '\0')
		name = "postgres";
	pw = getpwnam(name);
	if (pw == NULL)
		die("running as root, but user \"%s\" does not exist to run PostgreSQL and the "
		    "daemon (apt-get install postgresql creates \"postgres\"; or set "
		    "FAIRWAY_TEST_PGUSER)",
		    name);
	run.drop = true;
	run.run_uid = pw->pw_uid;
	run.run_gid = pw->pw_gid;
	harness_fmt_path(run.run_user, sizeof(run.run_user), "%s", name);
	harness_fmt_path(run.run_home, sizeof(run.run_home), "%s", pw->pw_dir);
}

/* The daemon runs as the unprivileged user, who may not reach a build tree
 * under /root: give it its own copy. */
static void place_daemon_binary(void)
{
	const char *bin = getenv("FAIRWAY_BIN");
	char resolved[PATH_MAX], bindir[PATH_MAX + 8];
	const char *base;
	char *data;
	FILE *in, *out;
	size_t n;

	if (bin == NULL || *bin == '\0')
		die("FAIRWAY_BIN is not set (make check sets it to the built ./fairway)");
	if (realpath(bin, resolved) == NULL || access(resolved, X_OK) != 0)
		die("FAIRWAY_BIN=%s is not an executable file", bin);
	if (!run.drop) {
		harness_fmt_path(run.daemon_bin, sizeof(run.daemon_bin), "%s", resolved);
		return;
	}
	harness_fmt_path(bindir, sizeof(bindir), "%s/bin", run.root);
	if (mkdir(bindir, 0755) != 0)
		die("mkdir %s: %s", bindir, strerror(errno));
	base = strrchr(resolved, '/') + 1;
	harness_fmt_path(run.daemon_bin, sizeof(run.daemon_bin), "%s/%s", bindir, base);
	in = fopen(resolved, "rb");
	out = fopen(run.daemon_bin, "wb");
	data = malloc(1 << 16);
	if (in == NULL || out == NULL || data == NULL)
		die("cannot copy %s to %s", resolved, run.daemon_bin);
	while ((n = fread(data, 1, 1 << 16, in)) > 0)
		if (fwrite(data, 1, n, out) != n)
			die("cannot copy %s: %s", resolved, strerror(errno));
	free(data);
	fclose(in);
	if (fclose(out) != 0 || chmod(run.daemon_bin, 0755) != 0)
		die("cannot copy %s: %s", resolved, strerror(errno));
}

static void pg_exec_setup(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		die("setup query failed: %s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

static void pg_write_config(void)
{
	char path[PATH_MAX + 32], text[2 * PATH_MAX];

	harness_fmt_path(path, sizeof(path), "%s/postgresql.conf", run.data);
	snprintf(text, sizeof(text),
	         "\n# integration tests\n"
	         "listen_addresses = '127.0.0.1'\n"
	         "port = %d\n"
	         "unix_socket_directories = '%s'\n"
	         "fsync = off\n"
	         "synchronous_commit = off\n"
	         "full_page_writes = off\n"
	         "max_connections = 200\n"
	         "shared_buffers = 32MB\n"
	         "password_encryption = 'scram-sha-256'\n"
	         "log_min_messages = warning\n"
	         /* a backend whose pooler connection was closed mid-query stops
	          * soon, instead of holding a connection slot until it is done */
	         "client_connection_check_interval = 1s\n"
	         /* replication suite: logical decoding, pg_basebackup -X stream */
	         "wal_level = logical\n"
	         "max_wal_senders = 20\n"
	         "max_replication_slots = 20\n"
	         "ssl = on\n"
	         "ssl_cert_file = 'server.crt'\n"
	         "ssl_key_file = 'server.key'\n",
	         run.port, run.root);
	harness_write_text(path, text, "a");

	/* md5user and scramuser need their password; everyone else is trusted,
	 * so the pooler's server-side md5 and SCRAM logins are exercised. */
	harness_fmt_path(path, sizeof(path), "%s/pg_hba.conf", run.data);
	harness_write_text(path,
	                   "local all " FW_MD5USER " md5\n"
	                   "host  all " FW_MD5USER " 127.0.0.1/32 md5\n"
	                   "local all " FW_SCRAMUSER " scram-sha-256\n"
	                   "host  all " FW_SCRAMUSER " 127.0.0.1/32 scram-sha-256\n"
	                   "local all all trust\n"
	                   "host  all all 127.0.0.1/32 trust\n"
	                   "local replication " FW_SUPERUSER " trust\n"
	                   "host  replication " FW_SUPERUSER " 127.0.0.1/32 trust\n"
	                   "host  all all ::1/128 trust\n",
	                   "w");
}

static int pg_ctl(const char *action, const char *mode, char *out, size_t size)
{
	char pgctl[PATH_MAX], logpath[PATH_MAX + 16];
	const char *argv[12];
	int i = 0;

	harness_fmt_path(logpath, sizeof(logpath), "%s/postgres.log", run.root);
	argv[i++] = pg_bin("pg_ctl", pgctl, sizeof(pgctl));
	argv[i++] = "-D";
	argv[i++] = run.data;
	argv[i++] = "-l";
	argv[i++] = logpath;
	argv[i++] = "-w";
	argv[i++] = "-t";
	argv[i++] = "120";
	if (mode != NULL) {
		argv[i++] = "-m";
		argv[i++] = mode;
	}
	argv[i++] = action;
	argv[i] = NULL;
	return run_argv(argv, true, out, size, 180000);
}

static void pg_create_objects(void)
{
	char conninfo[PATH_MAX + 128];
	PGconn *conn;

	harness_fmt_path(conninfo, sizeof(conninfo), "host=%s port=%d user=%s dbname=postgres",
	                 run.root, run.port, FW_SUPERUSER);
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		die("cannot connect to the test cluster: %s", PQerrorMessage(conn));
	pg_exec_setup(conn, "SET password_encryption = 'md5'");
	pg_exec_setup(conn, "CREATE ROLE " FW_MD5USER " LOGIN PASSWORD '" FW_MD5_PW "'");
	pg_exec_setup(conn, "SET password_encryption = 'scram-sha-256'");
	pg_exec_setup(conn, "CREATE ROLE " FW_SCRAMUSER " LOGIN PASSWORD '" FW_SCRAM_PW "'");
	pg_exec_setup(conn, "CREATE ROLE " FW_TRUSTUSER " LOGIN");
	pg_exec_setup(conn, "CREATE DATABASE " FW_TESTDB);
	PQfinish(conn);

	harness_fmt_path(conninfo, sizeof(conninfo), "host=%s port=%d user=%s dbname=%s", run.root,
	                 run.port, FW_SUPERUSER, FW_TESTDB);
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		die("cannot connect to %s: %s", FW_TESTDB, PQerrorMessage(conn));
	pg_exec_setup(conn, "GRANT ALL ON SCHEMA public TO PUBLIC");
	pg_exec_setup(conn, "CREATE TABLE fw_rows (id bigint, note text)");
	pg_exec_setup(conn, "GRANT ALL ON fw_rows TO PUBLIC");
	PQfinish(conn);
}

static void pg_init_pgbench(void)
{
	char pgbench[PATH_MAX], conninfo[PATH_MAX + 128], out[8192];
	const char *argv[] = {
	    pg_bin("pgbench", pgbench, sizeof(pgbench)), "-i", "-q", "-s", "1", conninfo, NULL};

	harness_fmt_path(conninfo, sizeof(conninfo), "host=%s port=%d user=%s dbname=%s", run.root,
	                 run.port, FW_SUPERUSER, FW_TESTDB);
	if (run_argv(argv, false, out, sizeof(out), 180000) != 0)
		die("pgbench -i failed:\n%s", out);
}

/* ---- TLS certificates (the openssl command line) ------------------------ */

static void openssl_run(const char *const argv[], const char *what)
{
	char out[8192];

	if (run_argv(argv, true, out, sizeof(out), 60000) == 0)
		return;
	if (getpid() == run.owner)
		die("openssl %s failed:\n%s", what, out);
	ck_abort_msg("openssl %s failed:\n%s", what, out);
}

void tls_make_ca(const char *dir, const char *name)
{
	char key[PATH_MAX + 16], crt[PATH_MAX + 16], subj[128];
	const char *argv[] = {"openssl",
	                      "req",
	                      "-x509",
	                      "-newkey",
	                      "ec",
	                      "-pkeyopt",
	                      "ec_paramgen_curve:prime256v1",
	                      "-nodes",
	                      "-keyout",
	                      key,
	                      "-out",
	                      crt,
	                      "-days",
	                      "30",
	                      "-subj",
	                      subj,
	                      "-addext",
	                      "basicConstraints=critical,CA:TRUE",
	                      "-addext",
	                      "keyUsage=critical,keyCertSign,cRLSign",
	                      NULL};

	harness_fmt_path(key, sizeof(key), "%s/%s.key", dir, name);
	harness_fmt_path(crt, sizeof(crt), "%s/%s.crt", dir, name);
	snprintf(subj, sizeof(subj), "/CN=Fairway test CA %s", name);
	openssl_run(argv, "req -x509 (CA)");
}

void tls_make_cert(const char *dir, const char *name, const char *cn, const char *ca_dir,
                   const char *ca_name)
{
	tls_make_cert_md(dir, name, cn, ca_dir, ca_name, NULL);
}

void tls_make_cert_md(const char *dir, const char *name, const char *cn, const char *ca_dir,
                      const char *ca_name, const char *md)
{
	char key[PATH_MAX + 16], csr[PATH_MAX + 16], crt[PATH_MAX + 16], ext[PATH_MAX + 16];
	char cakey[PATH_MAX + 16], cacrt[PATH_MAX + 16], subj[128];
	const char *req[] = {"openssl",
	                     "req",
	                     "-new",
	                     "-newkey",
	                     "ec",
	                     "-pkeyopt",
	                     "ec_paramgen_curve:prime256v1",
	                     "-nodes",
	                     "-keyout",
	                     key,
	                     "-out",
	                     csr,
	                     "-subj",
	                     subj,
	                     NULL};
	const char *sign[] = {
	    "openssl",         "x509", "-req", "-in",   csr,  "-CA",      cacrt, "-CAkey", cakey,
	    "-CAcreateserial", "-out", crt,    "-days", "30", "-extfile", ext,   md,       NULL};

	if (ca_dir == NULL) {
		ca_dir = run.root;
		ca_name = "ca";
	}
	harness_fmt_path(key, sizeof(key), "%s/%s.key", dir, name);
	harness_fmt_path(csr, sizeof(csr), "%s/%s.csr", dir, name);
	harness_fmt_path(crt, sizeof(crt), "%s/%s.crt", dir, name);
	harness_fmt_path(ext, sizeof(ext), "%s/%s.ext", dir, name);
	harness_fmt_path(cakey, sizeof(cakey), "%s/%s.key", ca_dir, ca_name);
	harness_fmt_path(cacrt, sizeof(cacrt), "%s/%s.crt", ca_dir, ca_name);
	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	harness_write_text(ext,
	                   "basicConstraints=CA:FALSE\n"
	                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
	                   "extendedKeyUsage=serverAuth,clientAuth\n"
	                   "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
	                   "w");
	harness_chown_to_run_user(ext);
	openssl_run(req, "req -new");
	openssl_run(sign, "x509 -req");
}

const char *tls_ca_file(void)
{
	static char path[PATH_MAX + 16];

	harness_fmt_path(path, sizeof(path), "%s/ca.crt", run.root);
	return path;
}

void pg_setup(void)
{
	const char *tmp = getenv("FAIRWAY_TEST_TMPDIR");
	char initdb[PATH_MAX], out[16384];
	int status = -1;

	run.owner = getpid();
	run.keep = getenv("FAIRWAY_TEST_KEEP") != NULL && *getenv("FAIRWAY_TEST_KEEP") != '\0';
	signal(SIGPIPE, SIG_IGN);
	clear_pg_environment();
	pick_user();
	find_pg_bindir();

	harness_fmt_path(run.root, sizeof(run.root), "%s/fairway-it.XXXXXX",
	                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(run.root) == NULL)
		die("mkdtemp %s: %s", run.root, strerror(errno));
	harness_fmt_path(run.data, sizeof(run.data), "%s/data", run.root);
	atexit(pg_teardown);
	/* after everything it needs to know is in `run`: it is a copy */
	start_watchdog();
	harness_chown_to_run_user(run.root);
	place_daemon_binary();

	{
		const char *argv[] = {pg_bin("initdb", initdb, sizeof(initdb)),
		                      "-D",
		                      run.data,
		                      "-U",
		                      FW_SUPERUSER,
		                      "-A",
		                      "trust",
		                      "-E",
		                      "UTF8",
		                      "--locale=C",
		                      "--no-sync",
		                      NULL};

		if (run_argv(argv, true, out, sizeof(out), 180000) != 0)
			die("initdb failed:\n%s", out);
	}
	/* PostgreSQL speaks TLS too (ssl = on), with a certificate of the
	 * harness CA, so server_tls_sslmode can be tested for real. */
	tls_make_ca(run.root, "ca");
	tls_make_cert(run.data, "server", "localhost", run.root, "ca");
	for (int attempt = 0; attempt < 3 && status != 0; attempt++) {
		run.port = free_port();
		pg_write_config();
		status = pg_ctl("start", NULL, out, sizeof(out));
	}
	if (status != 0) {
		char logpath[PATH_MAX + 16];
		char *log;

		harness_fmt_path(logpath, sizeof(logpath), "%s/postgres.log", run.root);
		log = read_file(logpath);
		die("pg_ctl start failed:\n%s\n%s", out, log != NULL ? log : "");
	}
	run.started = true;
	pg_create_objects();
	pg_init_pgbench();
}

int pg_port(void)
{
	return run.port;
}

const char *pg_socket_dir(void)
{
	return run.root;
}

PGconn *pg_connect(const char *dbname)
{
	char conninfo[PATH_MAX + 128];
	PGconn *conn;

	harness_fmt_path(conninfo, sizeof(conninfo), "host=%s port=%d user=%s dbname=%s", run.root,
	                 run.port, FW_SUPERUSER, dbname);
	conn = PQconnectdb(conninfo);
	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "direct connection to PostgreSQL: %s",
	              PQerrorMessage(conn));
	return conn;
}

long long pg_query_ll(const char *sql)
{
	PGconn *conn = pg_connect(FW_TESTDB);
	long long v = query_ll(conn, sql);

	PQfinish(conn);
	return v;
}

void pg_restart_immediate(void)
{
	char out[16384];
	int status = pg_ctl("restart", "immediate", out, sizeof(out));

	ck_assert_msg(status == 0, "pg_ctl restart failed (%d):\n%s", status, out);
}

/* ---- polling ------------------------------------------------------------ */

bool wait_until(cond_fn cond, void *arg, int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		if (cond(arg))
			return true;
		if (harness_now_ms() >= deadline)
			return false;
		harness_pause_ms(20);
	}
}

/* ---- pgbench ------------------------------------------------------------ */

static long long number_after(const char *text, const char *label)
{
	const char *p = strstr(text, label);

	if (p == NULL)
		return -1;
	return strtoll(p + strlen(label), NULL, 10);
}

void pgbench_run(const struct fw *fw, const char *const args[], struct pgbench_result *r)
{
	char pgbench[PATH_MAX], conninfo[256];
	const char *argv[48];
	size_t n = 0;

	argv[n++] = pg_bin("pgbench", pgbench, sizeof(pgbench));
	for (size_t i = 0; args[i] != NULL && n < 46; i++)
		argv[n++] = args[i];
	snprintf(conninfo, sizeof(conninfo),
	         "host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=disable", fw->port,
	         FW_SUPERUSER, FW_SUPER_PW, FW_TESTDB);
	argv[n++] = conninfo;
	argv[n] = NULL;
	r->status = run_argv(argv, false, r->out, sizeof(r->out), 150000);
	r->processed = number_after(r->out, "number of transactions actually processed: ");
	r->failed = number_after(r->out, "number of failed transactions: ");
}

static bool backend_gone(void *arg)
{
	const long long *pid = arg;
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %lld", *pid);
	return pg_query_ll(sql) == 0;
}

bool pg_wait_backend_gone(long long pid)
{
	return wait_until(backend_gone, &pid, FW_WAIT_MS);
}
