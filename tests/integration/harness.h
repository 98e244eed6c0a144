/* The integration-test harness: one throwaway PostgreSQL per test-binary run,
 * one fairway process per test (generated ini, free port, its own directory),
 * and the helpers tests use to talk to both: libpq clients, the admin console,
 * raw sockets for malformed input, polling with deadlines, pgbench.
 *
 * The daemon under test is the binary named by FAIRWAY_BIN; any pooler that
 * reads pgbouncer.ini (PgBouncer itself) can stand in for it. */
#ifndef FAIRWAY_IT_HARNESS_H
#define FAIRWAY_IT_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>
#include <libpq-fe.h>

/* Deadlines only guard against hangs; nothing asserts on how long a thing took. */
#define FW_WAIT_MS      30000 /* wait_until() default */
#define FW_START_MS     30000 /* daemon accepting connections after exec */
#define FW_STOP_MS      30000 /* daemon exited after SIGINT */
#define FW_TEST_TIMEOUT 60    /* seconds, tcase_set_timeout() for ordinary cases */
#define FW_SLOW_TIMEOUT 180   /* seconds, for pgbench and PostgreSQL restarts */

/* Roles the cluster is created with (passwords are what auth_file holds too). */
#define FW_SUPERUSER "fwsuper" /* bootstrap superuser; trust in pg_hba.conf */
#define FW_SUPER_PW  "fwsuper-pw"
#define FW_MD5USER   "md5user" /* md5 secret in PostgreSQL, md5 in pg_hba.conf */
#define FW_MD5_PW    "md5-pw"
#define FW_SCRAMUSER "scramuser" /* SCRAM secret, scram-sha-256 in pg_hba.conf */
#define FW_SCRAM_PW  "scram-pw"
#define FW_TRUSTUSER "trustuser" /* no password at all; trust */
#define FW_TRUST_PW  "trust-pw"  /* its password in auth_file only */
#define FW_ADMIN     "fwadmin"   /* admin_users; exists only in auth_file */
#define FW_ADMIN_PW  "fwadmin-pw"
#define FW_STATS     "fwstats" /* stats_users; exists only in auth_file */
#define FW_STATS_PW  "fwstats-pw"
#define FW_TESTDB    "testdb" /* pgbench -i tables, and fw_rows(id bigint, note text) */

/* The auth_file every fairway gets unless a test passes its own userlist. */
#define FW_USERLIST_DEFAULT                                                                        \
	"\"" FW_SUPERUSER "\" \"" FW_SUPER_PW "\"\n"                                               \
	"\"" FW_MD5USER "\" \"" FW_MD5_PW "\"\n"                                                   \
	"\"" FW_SCRAMUSER "\" \"" FW_SCRAM_PW "\"\n"                                               \
	"\"" FW_TRUSTUSER "\" \"" FW_TRUST_PW "\"\n"                                               \
	"\"" FW_ADMIN "\" \"" FW_ADMIN_PW "\"\n"                                                   \
	"\"" FW_STATS "\" \"" FW_STATS_PW "\"\n"

/* libpq conninfo parts for the usual clients. */
#define FW_AS_SUPER_CREDENTIALS "user=" FW_SUPERUSER " password=" FW_SUPER_PW
#define FW_AS_SUPER             "dbname=" FW_TESTDB " " FW_AS_SUPER_CREDENTIALS
#define FW_AS_ADMIN             "dbname=pgbouncer user=" FW_ADMIN " password=" FW_ADMIN_PW

/* In a [databases] text given to fw_start(), "@PG@" becomes
 * "host=127.0.0.1 port=<the cluster's port>". */
#define FW_DB_DEFAULT "testdb = @PG@ dbname=testdb\n"

/* ---- PostgreSQL: once per test-binary run (main.c) ---------------------- */

/* initdb + pg_ctl start in a mkdtemp directory, roles, testdb, pgbench -i.
 * Exits the process with a message on failure. Registers cleanup that stops
 * the cluster and removes every temp directory when the runner exits, also
 * when it is killed (a watchdog process notices). */
void pg_setup(void);
/* Stops PostgreSQL and removes the run's directory; only in the process that
 * called pg_setup() (Check's forked test children never do). Idempotent. */
void pg_teardown(void);

int pg_port(void);
const char *pg_socket_dir(void);
/* Direct connection to PostgreSQL as FW_SUPERUSER over its Unix socket. */
PGconn *pg_connect(const char *dbname);
/* First cell of a query run directly on PostgreSQL (testdb), as a number. */
long long pg_query_ll(const char *sql);
/* Waits until PostgreSQL has no backend with this pid; false at the deadline. */
bool pg_wait_backend_gone(long long pid);
/* pg_ctl restart -m immediate, waiting until it accepts connections again. */
void pg_restart_immediate(void);

/* ---- TLS: certificates made with the openssl command line ---------------- */

/* A self-signed CA: dir/name.key and dir/name.crt (owned by the run user). */
void tls_make_ca(const char *dir, const char *name);
/* dir/name.key and dir/name.crt with CN cn and subjectAltName localhost and
 * 127.0.0.1, signed by ca_dir/ca_name.{crt,key}; ca_dir NULL = the harness
 * CA, which also signed PostgreSQL's certificate (ssl = on). */
void tls_make_cert(const char *dir, const char *name, const char *cn, const char *ca_dir,
                   const char *ca_name);
/* The same, signed with digest md ("-sha384", "-sha512"; NULL = openssl's
 * default, SHA-256). */
void tls_make_cert_md(const char *dir, const char *name, const char *cn, const char *ca_dir,
                      const char *ca_name, const char *md);
/* The harness CA's certificate. */
const char *tls_ca_file(void);

/* ---- one fairway process ------------------------------------------------ */

struct fw {
	pid_t pid;              /* 0 when not running */
	int port;               /* listen_port on 127.0.0.1 */
	char dir[PATH_MAX];     /* owned temp dir: ini, userlist, log, pid, sockets, asan */
	char ini[PATH_MAX];     /* dir/fairway.ini */
	char logfile[PATH_MAX]; /* dir/fairway.log (logfile =) */
	char errfile[PATH_MAX]; /* dir/stderr.log (the daemon's stdout and stderr) */
	PGconn *console;        /* lazily opened admin console (FW_ADMIN); owned */
	int exit_status;        /* raw waitpid() status once it has exited */
};

/* Writes dir/fairway.ini and dir/userlist.txt. The main section is
 * [pgbouncer] with listen_addr, listen_port, unix_socket_dir, logfile, pidfile,
 * auth_file, auth_type = md5, admin_users, stats_users, then main_extra
 * ("key = value" lines; a key given there replaces the harness's own line).
 * databases == NULL means FW_DB_DEFAULT; users may be NULL; userlist == NULL
 * means FW_USERLIST_DEFAULT. Can be called again on a running daemon to
 * rewrite its files before a reload; the port and directory stay. */
void fw_write_config(struct fw *fw, const char *main_extra, const char *databases,
                     const char *users, const char *userlist);
/* Starts FAIRWAY_BIN with the ini path (foreground, no -d). */
void fw_spawn(struct fw *fw);
/* Waits until the daemon accepts TCP connections; fails the test (with the
 * daemon's log) if it exits first or the deadline passes. */
void fw_wait_listening(struct fw *fw);
/* fw_write_config + fw_spawn + fw_wait_listening. */
void fw_start(struct fw *fw, const char *main_extra, const char *databases, const char *users,
              const char *userlist);
/* Waits for the daemon to exit by itself; false if it is still running at the
 * deadline. fw->exit_status holds the waitpid() status. */
bool fw_wait_exit(struct fw *fw, int timeout_ms);
/* Asserts the pooler is back at baseline (fw_assert_baseline), closes the
 * console, sends SIGINT, and asserts exit status 0 and no sanitizer report. */
void fw_stop(struct fw *fw);
/* SIGHUP. */
void fw_reload(struct fw *fw);
/* Fails the test if the daemon wrote any AddressSanitizer/UBSan report. */
void fw_assert_no_sanitizer_report(const struct fw *fw);
/* Replaces the first occurrence of from in the ini with to. */
void fw_ini_replace(const struct fw *fw, const char *from, const char *to);
/* Writes text to a file named name in the daemon's directory; returns its
 * path in path. */
const char *fw_write_file(const struct fw *fw, const char *name, const char *text, char *path,
                          size_t size);
/* 1-based line of the first line in the ini that starts with key; 0 if none. */
int fw_ini_line_of(const struct fw *fw, const char *key);

/* libpq through the pooler: "host=127.0.0.1 port=<fw> connect_timeout=10
 * sslmode=disable " + the formatted text ("dbname=... user=... password=...").
 * Error verbosity is PQERRORS_VERBOSE from the start, so error texts carry
 * their SQLSTATE (see expect_connect_error). Never NULL; the caller checks
 * PQstatus() and PQfinish()es it. */
PGconn *fw_connect(const struct fw *fw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same over the daemon's Unix socket. */
PGconn *fw_connect_unix(const struct fw *fw, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* fw_connect() that asserts CONNECTION_OK. */
PGconn *fw_connect_ok(const struct fw *fw, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the admin console -------------------------------------------------- */

/* Runs sql on fw->console (FW_ADMIN on database "pgbouncer"); returns the
 * result whatever its status. The caller PQclear()s it. */
PGresult *console_query(struct fw *fw, const char *sql);
/* console_query() that asserts PGRES_TUPLES_OK. */
PGresult *console_show(struct fw *fw, const char *sql);
/* Column index by name; fails the test if the column is missing. */
int col(const PGresult *res, const char *name);
/* Value by column name; NULL for SQL NULL. */
const char *res_str(const PGresult *res, int row, const char *column);
long long res_ll(const PGresult *res, int row, const char *column);
/* First row whose column c1 equals v1 (and c2 equals v2 unless c2 is NULL);
 * -1 if none. */
int res_find_row(const PGresult *res, const char *c1, const char *v1, const char *c2,
                 const char *v2);
/* Fails the test unless the result's first columns are exactly names[]
 * (NULL-terminated), in order. Extra columns after them are allowed. */
void assert_columns_start_with(const PGresult *res, const char *what, const char *const names[]);

/* SHOW CONFIG value of key into buf ("" for NULL); fails if there is no row. */
const char *config_value(struct fw *fw, const char *key, char *buf, size_t size);
/* SHOW POOLS value for (db, user); -1 if there is no such row. */
long long pool_stat(struct fw *fw, const char *db, const char *user, const char *column);
/* wait_until(pool_stat(...) == want); false at the deadline. */
bool wait_pool_stat(struct fw *fw, const char *db, const char *user, const char *column,
                    long long want);
/* Waits until every pool of a non-console database has cl_waiting = 0,
 * sv_active = 0 and sv_login = 0; fails the test naming the row otherwise. */
void fw_assert_baseline(struct fw *fw);

/* ---- a daemon that stops by itself (shutdown commands, signals) ---------- */

/* Waits until a new client of testdb is turned away (the pooler stopped
 * accepting); fails the test, naming after, if it keeps accepting. */
void fw_wait_new_clients_refused(struct fw *fw, const char *after);
/* Sends sql on c and checks its one value; fails (not hangs) when the pooler
 * never answers while in the state described by during. */
void fw_assert_query_answered(struct fw *fw, PGconn *c, const char *sql, const char *want,
                              const char *during);
/* True while the daemon has not exited. */
bool fw_still_running(struct fw *fw);
/* The daemon exited by itself: status 0, no sanitizer report. */
void fw_assert_exited_cleanly(struct fw *fw, const char *after);
/* The next query on c fails: the pooler closed it.  Finishes c. */
void assert_connection_closed(PGconn *c, const char *what);

/* ---- polling ------------------------------------------------------------ */

typedef bool (*cond_fn)(void *arg);
/* Polls cond every few milliseconds until it is true (returns true) or the
 * deadline passes (returns false). Deadlines guard hangs; they are not checks. */
bool wait_until(cond_fn cond, void *arg, int timeout_ms);

/* ---- queries ------------------------------------------------------------ */

/* Asserts PGRES_COMMAND_OK or PGRES_TUPLES_OK and returns the result. */
PGresult *exec_ok(PGconn *conn, const char *sql);
/* First cell as text into buf (empty for NULL). */
const char *query_str(PGconn *conn, const char *sql, char *buf, size_t size);
long long query_ll(PGconn *conn, const char *sql);
/* True when sqlstate is one of "A|B|C". */
bool sqlstate_in(const char *sqlstate, const char *alternatives);
/* Runs sql, expects an error whose SQLSTATE is one of sqlstates ("A|B") and
 * whose primary message contains msg_part, or one of "text|other text"
 * (NULL: any message). */
void expect_query_error(PGconn *conn, const char *sql, const char *sqlstates, const char *msg_part);
/* Fails the test unless conn (from fw_connect) failed to connect with a
 * SQLSTATE in sqlstates and a message containing msg_part (either NULL: not
 * checked); PQfinish()es it. */
void expect_connect_error(PGconn *conn, const char *sqlstates, const char *msg_part);
/* Finds "FATAL:  XXXXX: message" (verbose libpq error text) in text. */
bool parse_error_text(const char *text, char sqlstate[6], char *msg, size_t size);
/* Waits for the results of a PQsendQuery(), checks each like exec_ok() and
 * returns the last one (as PQexec() would). */
PGresult *get_result_ok(PGconn *conn);

/* ---- raw sockets, for input libpq would never send ---------------------- */

struct raw_error {
	char severity[16];
	char sqlstate[6];
	char message[512];
};

int raw_connect(const struct fw *fw);      /* TCP; fails the test on error */
/* Big-endian 32-bit words, as the protocol writes lengths and codes. */
void raw_put_be32(uint8_t *p, uint32_t v);
uint32_t raw_get_be32(const uint8_t *p);
int raw_connect_unix(const struct fw *fw); /* the daemon's Unix socket */
/* Sends everything; false if the peer is gone (EPIPE/ECONNRESET). */
bool raw_send(int fd, const void *buf, size_t len);
/* StartupMessage (protocol 3.0) from NULL-terminated key/value pairs; returns
 * the packet length (0 if it does not fit). */
size_t raw_startup_packet(uint8_t *buf, size_t size, const char *const kv[]);
/* Reads until the peer closes, a complete ErrorResponse has arrived (when
 * stop_at_error), or timeout. Returns bytes read; *closed says whether the
 * peer closed the connection. */
size_t raw_read(int fd, uint8_t *buf, size_t size, int timeout_ms, bool stop_at_error,
                bool *closed);
/* Finds the first ErrorResponse among the typed messages in buf (skipping a
 * leading single-byte SSL/GSS answer when skip_ssl_answer). */
bool raw_find_error(const uint8_t *buf, size_t len, bool skip_ssl_answer, struct raw_error *out);
/* Logs in over a raw socket and answers whatever the server asks for with a
 * wrong password (cleartext, md5 or SCRAM-SHA-256 with a zero proof).
 * Returns true and fills err if the server sent an ErrorResponse. */
bool raw_login_error(const struct fw *fw, const char *user, const char *db, const char *password,
                     struct raw_error *err);
/* Logs in over a raw socket as user with auth_type=trust and reads up to
 * ReadyForQuery; returns the socket, fails the test otherwise. */
int raw_login_trust(const struct fw *fw, const char *user, const char *db);

/* ---- processes and logs ------------------------------------------------- */

/* Runs argv (argv[0] a path or a name in PATH), stdout and stderr into out.
 * Returns the exit status, or -1 if it was killed or hit the timeout. */
int run_cmd(const char *const argv[], char *out, size_t out_size, int timeout_ms);

struct pgbench_result {
	int status;          /* exit status; -1 killed or timed out */
	long long processed; /* "number of transactions actually processed" */
	long long failed;    /* "number of failed transactions"; -1 if absent */
	char out[32768];     /* stdout + stderr */
};
/* pgbench against testdb through the pooler as FW_SUPERUSER, with args
 * (NULL-terminated) after the connection options. */
void pgbench_run(const struct fw *fw, const char *const args[], struct pgbench_result *r);
/* Path of the pgbench that belongs to the cluster. */
const char *pg_bin(const char *name, char *buf, size_t size);

/* Whole-file read into a malloc()ed NUL-terminated string (NULL if absent). */
char *read_file(const char *path);
bool fw_log_contains(const struct fw *fw, const char *needle);
/* Waits until the daemon's logfile contains needle. */
bool fw_wait_log(const struct fw *fw, const char *needle);
/* The logfile and stderr, for failure messages (static buffer, truncated). */
const char *fw_log_tail(const struct fw *fw);

/* ---- small utilities ---------------------------------------------------- */

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int free_port(void);
/* Runs fn(arg) in a forked child with the daemon's uid (the unprivileged
 * user when the tests run as root); returns fn's result, false if it died. */
bool run_as_daemon_user(bool (*fn)(void *arg), void *arg);

#endif
