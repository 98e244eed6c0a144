/* Unit tests for the configuration loader (src/config.c): defaults, types,
 * bounds, messages with file:line, the inih quirks, %include, the sections,
 * the auth_file, SHOW CONFIG, SET and RELOAD's fixed keys. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

/* Every message config_load reported, one per line. */
struct notes {
	int errors, warnings;
	char all[16384];
};

static void collect(void *arg, bool is_error, const char *msg)
{
	struct notes *n = arg;
	size_t used = strlen(n->all);

	if (is_error)
		n->errors++;
	else
		n->warnings++;
	snprintf(n->all + used, sizeof(n->all) - used, "%s: %s\n", is_error ? "E" : "W", msg);
}

static bool has_note(const struct notes *n, const char *needle)
{
	return strstr(n->all, needle) != NULL;
}

/* Writes text to path (created/truncated). */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* A new temporary file holding text; path receives its name. */
static void temp_file(char path[64], const char *text)
{
	int fd;

	strcpy(path, "/tmp/fairway-cfg-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(path, text);
}

/* Loads text from a temporary file; path keeps the name for messages. */
static struct config *load_text(const char *text, struct notes *n, char path[64])
{
	struct config *cfg;

	memset(n, 0, sizeof(*n));
	temp_file(path, text);
	cfg = config_load(path, collect, n);
	unlink(path);
	return cfg;
}

/* The SHOW CONFIG value of key. */
struct show_find {
	const char *key;
	char value[512];
	char dflt[512];
	char changeable[4];
	int found;
};

static void show_find_row(void *arg, const char *key, const char *value, const char *dflt,
                          const char *changeable)
{
	struct show_find *sf = arg;

	if (strcmp(key, sf->key) != 0)
		return;
	sf->found++;
	snprintf(sf->value, sizeof(sf->value), "%s", value);
	snprintf(sf->dflt, sizeof(sf->dflt), "%s", dflt);
	snprintf(sf->changeable, sizeof(sf->changeable), "%s", changeable);
}

static struct show_find show_key(const struct config *cfg, const char *key)
{
	struct show_find sf;

	memset(&sf, 0, sizeof(sf));
	sf.key = key;
	config_show(cfg, show_find_row, &sf);
	ck_assert_msg(sf.found == 1, "%s shown %d times", key, sf.found);
	return sf;
}

/* PgBouncer 1.25's defaults as SHOW CONFIG prints them, plus Fairway's. */
static const struct {
	const char *key, *value, *changeable;
} expected_defaults[] = {
    {"admin_users", "", "yes"},
    {"application_name_add_host", "0", "yes"},
    {"auth_dbname", "", "yes"},
    {"auth_file", "", "yes"},
    {"auth_hba_file", "", "yes"},
    {"auth_ident_file", "", "yes"},
    {"auth_ldap_options", "", "yes"},
    {"auth_query",
     "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END FROM "
     "pg_authid WHERE rolname=$1 AND rolcanlogin",
     "yes"},
    {"auth_type", "md5", "yes"},
    {"auth_user", "", "yes"},
    {"autodb_idle_timeout", "3600", "yes"},
    {"cancel_wait_timeout", "10", "yes"},
    {"client_idle_timeout", "0", "yes"},
    {"client_login_timeout", "60", "yes"},
    {"client_tls13_ciphers", "", "yes"},
    {"client_tls_ca_file", "", "yes"},
    {"client_tls_cert_file", "", "yes"},
    {"client_tls_ciphers", "default", "yes"},
    {"client_tls_dheparams", "auto", "yes"},
    {"client_tls_ecdhcurve", "auto", "yes"},
    {"client_tls_key_file", "", "yes"},
    {"client_tls_protocols", "secure", "yes"},
    {"client_tls_sslmode", "disable", "yes"},
    {"conffile", NULL, "yes"}, /* the loaded file's name */
    {"default_pool_size", "20", "yes"},
    {"disable_pqexec", "0", "no"},
    {"dns_max_ttl", "15", "yes"},
    {"dns_nxdomain_ttl", "15", "yes"},
    {"dns_zone_check_period", "0", "yes"},
    {"fair_anticipation", "0.001", "yes"},
    {"fair_key", "application_name", "yes"},
    {"idle_transaction_timeout", "0", "yes"},
    {"ignore_startup_parameters", "", "yes"},
    {"job_name", "pgbouncer", "no"},
    {"listen_addr", "", "no"},
    {"listen_backlog", "128", "no"},
    {"listen_port", "6432", "no"},
    {"log_connections", "1", "yes"},
    {"log_disconnections", "1", "yes"},
    {"log_pooler_errors", "1", "yes"},
    {"log_stats", "1", "yes"},
    {"logfile", "", "yes"},
    {"login_notify_message", "", "yes"},
    {"max_client_conn", "100", "yes"},
    {"max_db_client_connections", "0", "yes"},
    {"max_db_connections", "0", "yes"},
    {"max_packet_size", "2147483647", "yes"},
    {"max_prepared_statements", "200", "yes"},
    {"max_user_client_connections", "0", "yes"},
    {"max_user_connections", "0", "yes"},
    {"max_waiting_clients", "0", "yes"},
    {"max_waiting_per_flow", "0", "yes"},
    {"metrics_listen", "", "no"},
    {"min_pool_size", "0", "yes"},
    {"peer_id", "0", "yes"},
    {"pidfile", "", "no"},
    {"pkt_buf", "4096", "no"},
    {"pool_idle_timeout", "0", "yes"},
    {"pool_mode", "session", "yes"},
    {"query_timeout", "0", "yes"},
    {"query_wait_notify", "5", "yes"},
    {"query_wait_timeout", "120", "yes"},
    {"reserve_pool_size", "0", "yes"},
    {"reserve_pool_timeout", "5", "yes"},
    {"resolv_conf", "", "no"},
    {"sbuf_loopcnt", "5", "yes"},
    {"scram_iterations", "4096", "yes"},
    {"server_check_delay", "30", "yes"},
    {"server_check_query", "<empty>", "yes"},
    {"server_connect_timeout", "15", "yes"},
    {"server_fast_close", "0", "yes"},
    {"server_idle_timeout", "600", "yes"},
    {"server_lifetime", "3600", "yes"},
    {"server_login_retry", "15", "yes"},
    {"server_reset_query", "DISCARD ALL", "yes"},
    {"server_reset_query_always", "0", "yes"},
    {"server_round_robin", "0", "yes"},
    {"server_tls13_ciphers", "", "yes"},
    {"server_tls_ca_file", "", "yes"},
    {"server_tls_cert_file", "", "yes"},
    {"server_tls_ciphers", "default", "yes"},
    {"server_tls_key_file", "", "yes"},
    {"server_tls_protocols", "secure", "yes"},
    {"server_tls_sslmode", "prefer", "yes"},
    {"service_name", "pgbouncer", "no"},
    {"so_reuseport", "0", "no"},
    {"stats_period", "60", "yes"},
    {"stats_users", "", "yes"},
    {"suspend_timeout", "10", "yes"},
    {"syslog", "0", "yes"},
    {"syslog_facility", "daemon", "yes"},
    {"syslog_ident", "pgbouncer", "yes"},
    {"tcp_defer_accept", "1", "yes"},
    {"tcp_keepalive", "1", "yes"},
    {"tcp_keepcnt", "0", "yes"},
    {"tcp_keepidle", "0", "yes"},
    {"tcp_keepintvl", "0", "yes"},
    {"tcp_socket_buffer", "0", "yes"},
    {"tcp_user_timeout", "0", "yes"},
    {"track_extra_parameters", "IntervalStyle", "no"},
    {"transaction_timeout", "0", "yes"},
    {"unix_socket_dir", "/tmp", "no"},
    {"unix_socket_group", "", "no"},
    {"unix_socket_mode", "0777", "no"},
    {"user", "", "no"},
    {"verbose", "0", "yes"},
};
#define N_EXPECTED (sizeof(expected_defaults) / sizeof(expected_defaults[0]))

/* Rows of SHOW CONFIG in order, checked against expected_defaults. */
struct show_all {
	size_t n;
	char prev[64];
	const char *conffile;
};

static void show_all_row(void *arg, const char *key, const char *value, const char *dflt,
                         const char *changeable)
{
	struct show_all *sa = arg;

	ck_assert_msg(strcmp(sa->prev, key) < 0, "%s after %s: not sorted", key, sa->prev);
	snprintf(sa->prev, sizeof(sa->prev), "%s", key);
	ck_assert_uint_lt(sa->n, N_EXPECTED);
	ck_assert_str_eq(key, expected_defaults[sa->n].key);
	if (expected_defaults[sa->n].value != NULL) {
		ck_assert_msg(strcmp(value, expected_defaults[sa->n].value) == 0,
		              "%s = \"%s\", expected \"%s\"", key, value,
		              expected_defaults[sa->n].value);
		ck_assert_str_eq(dflt, expected_defaults[sa->n].value);
	} else {
		ck_assert_str_eq(value, sa->conffile);
	}
	ck_assert_msg(strcmp(changeable, expected_defaults[sa->n].changeable) == 0,
	              "%s changeable %s", key, changeable);
	sa->n++;
}

START_TEST(every_default_matches_pgbouncer_and_show_config_is_sorted)
{
	struct notes n;
	char path[64];
	struct config *cfg = load_text("", &n, path);
	struct show_all sa;

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(n.errors + n.warnings, 0);
	memset(&sa, 0, sizeof(sa));
	sa.conffile = path;
	config_show(cfg, show_all_row, &sa);
	ck_assert_uint_eq(sa.n, N_EXPECTED); /* 101 PgBouncer keys + 5 Fairway keys */
	ck_assert_uint_eq(N_EXPECTED, 106);

	ck_assert_int_eq(cfg->listen_port, 6432);
	ck_assert_ptr_null(cfg->listen_addr);
	ck_assert_ptr_null(cfg->pidfile);
	ck_assert_str_eq(cfg->unix_socket_dir, "/tmp");
	ck_assert_int_eq(cfg->unix_socket_mode, 0777);
	ck_assert_int_eq(cfg->pool_mode, POOL_SESSION);
	ck_assert_int_eq(cfg->auth_type, AUTH_MD5);
	ck_assert_int_eq(cfg->fair_key, FAIR_APPLICATION_NAME);
	ck_assert_int_eq(cfg->max_client_conn, 100);
	ck_assert_int_eq(cfg->default_pool_size, 20);
	ck_assert_int_eq(cfg->max_prepared_statements, 200);
	ck_assert_int_eq(cfg->scram_iterations, 4096);
	ck_assert(cfg->log_connections && cfg->tcp_keepalive && cfg->tcp_defer_accept);
	ck_assert(!cfg->server_round_robin && !cfg->syslog && !cfg->so_reuseport);
	ck_assert_int_eq(cfg->query_wait_timeout_us, 120000000);
	ck_assert_int_eq(cfg->reserve_pool_timeout_us, 5000000);
	ck_assert_int_eq(cfg->server_lifetime_us, 3600000000LL);
	ck_assert_int_eq(cfg->query_timeout_us, 0);
	ck_assert_int_eq(cfg->max_packet_size, 2147483647);
	ck_assert_str_eq(cfg->server_reset_query, "DISCARD ALL");
	ck_assert_str_eq(cfg->server_check_query, "<empty>");
	ck_assert_str_eq(cfg->track_extra_parameters, "IntervalStyle");
	ck_assert_str_eq(cfg->conffile, path);
	ck_assert_uint_eq(cfg->n_dbs + cfg->n_users + cfg->n_peers + cfg->n_auth + cfg->n_weights,
	                  0);
	config_free(cfg);
}
END_TEST

/* Loads "[fairway]\n<line>\n" and says whether it loaded. */
static bool main_line_ok(const char *line, struct config **out)
{
	char text[1024], path[64];
	struct notes n;
	struct config *cfg;

	snprintf(text, sizeof(text), "[fairway]\n%s\n", line);
	cfg = load_text(text, &n, path);
	if (out != NULL)
		*out = cfg;
	else
		config_free(cfg);
	return cfg != NULL;
}

START_TEST(bounds_are_enforced)
{
	static const struct {
		const char *line;
		bool ok;
	} cases[] = {
	    {"listen_port = 0", false},
	    {"listen_port = 1", true},
	    {"listen_port = 65535", true},
	    {"listen_port = 65536", false},
	    {"peer_id = 16383", true},
	    {"peer_id = 16384", false},
	    {"pkt_buf = 100", false},
	    {"pkt_buf = 512", true},
	    {"max_client_conn = 0", false},
	    {"default_pool_size = 0", true},
	    {"default_pool_size = -1", false},
	    {"verbose = 11", false},
	    {"max_packet_size = 1023", false},
	    {"max_packet_size = 2147483648", false},
	    {"query_timeout = -1", false},
	    {"query_timeout = 1000000000", true},
	    {"query_timeout = 1000000001", false},
	    {"max_client_conn = 99999999999999999999", false},
	    {"unix_socket_mode = 07777", true},
	    {"unix_socket_mode = 017777", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(main_line_ok(cases[i].line, NULL) == cases[i].ok, "%s",
		              cases[i].line);
}
END_TEST

START_TEST(every_type_parses_its_forms)
{
	static const struct {
		const char *line;
		bool ok;
	} cases[] = {
	    {"log_stats = yes", true},
	    {"log_stats = Off", true},
	    {"log_stats = TRUE", true},
	    {"log_stats = maybe", false},
	    {"max_client_conn = 12abc", false},
	    {"max_client_conn = +12", true},
	    {"query_timeout = abc", false},
	    {"query_timeout = 0x10", false},
	    {"query_timeout = nan", false},
	    {"query_timeout = inf", false},
	    {"query_timeout = 1e3", true},
	    {"pool_mode = Transaction", true},
	    {"pool_mode = batch", false},
	    {"auth_type = scram-sha-256", true},
	    {"auth_type = password", false},
	    {"unix_socket_mode = 0800", false},
	    {"unix_socket_mode = 700", true},
	    {"client_tls_sslmode = sometimes", false},
	    {"fair_key = client_addr", true},
	    {"fair_key = tenant", false},
	    {"fair_anticipation = 0.0005", true},
	    {"fair_anticipation = 2", false},
	    {"fair_anticipation = -1", false},
	    {"fair_anticipation = 0", true},
	};
	struct config *cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(main_line_ok(cases[i].line, NULL) == cases[i].ok, "%s",
		              cases[i].line);

	ck_assert(main_line_ok("query_wait_timeout = 0.5\n"
	                       "pool_mode = Statement\n"
	                       "unix_socket_mode = 0700\n"
	                       "log_stats = off\n"
	                       "tcp_defer_accept = 45\n"
	                       "server_check_delay = 1e3\n"
	                       "max_packet_size = 1048576\n"
	                       "fair_key = user\n"
	                       "max_waiting_per_flow = 7\n"
	                       "metrics_listen = 127.0.0.1:9127\n"
	                       "auth_type = trust\n"
	                       "admin_users = a, b",
	                       &cfg));
	ck_assert_int_eq(cfg->query_wait_timeout_us, 500000);
	ck_assert_str_eq(show_key(cfg, "query_wait_timeout").value, "0.5");
	ck_assert_int_eq(cfg->pool_mode, POOL_STATEMENT);
	ck_assert_str_eq(show_key(cfg, "pool_mode").value, "statement");
	ck_assert_int_eq(cfg->unix_socket_mode, 0700);
	ck_assert_str_eq(show_key(cfg, "unix_socket_mode").value, "0700");
	ck_assert(!cfg->log_stats);
	ck_assert(cfg->tcp_defer_accept);
	ck_assert_int_eq(cfg->server_check_delay_us, 1000000000LL);
	ck_assert_str_eq(show_key(cfg, "server_check_delay").value, "1000");
	ck_assert_int_eq(cfg->max_packet_size, 1048576);
	ck_assert_int_eq(cfg->fair_key, FAIR_USER);
	ck_assert_int_eq(cfg->max_waiting_per_flow, 7);
	ck_assert_str_eq(cfg->metrics_listen, "127.0.0.1:9127");
	ck_assert_int_eq(cfg->auth_type, AUTH_TRUST);
	ck_assert_str_eq(cfg->admin_users, "a, b");
	ck_assert(config_list_has(cfg->admin_users, "b"));
	config_free(cfg);

	ck_assert(main_line_ok("client_tls_sslmode = REQUIRE", &cfg));
	ck_assert_str_eq(cfg->client_tls_sslmode, "require");
	config_free(cfg);
}
END_TEST

START_TEST(unknown_key_is_a_warning_with_file_and_line)
{
	struct notes n;
	char path[64], where[96];
	struct config *cfg = load_text("[fairway]\n\nbogus_setting = 1\n", &n, path);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(n.errors, 0);
	ck_assert_int_eq(n.warnings, 1);
	snprintf(where, sizeof(where), "(%s:3)", path);
	ck_assert(has_note(&n, "bogus_setting"));
	ck_assert(has_note(&n, where));
	config_free(cfg);
}
END_TEST

START_TEST(bad_value_error_has_pgbouncer_shape)
{
	struct notes n;
	char path[64], want[160];
	struct config *cfg = load_text("[pgbouncer]\nlisten_port = abc\n", &n, path);

	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(n.errors, 1);
	snprintf(want, sizeof(want),
	         "E: invalid value \"abc\" for parameter listen_port in configuration (%s:2)\n",
	         path);
	ck_assert_str_eq(n.all, want);
}
END_TEST

START_TEST(every_bad_line_is_reported)
{
	struct notes n;
	char path[64], where[96];
	struct config *cfg = load_text("[fairway]\n"
	                               "listen_port = x\n"
	                               "pool_mode = nope\n"
	                               "this line has no equals sign\n"
	                               "[databases\n"
	                               "[databases]\n"
	                               "a = host=x bogus=1\n"
	                               "b = port=x\n",
	                               &n, path);

	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(n.errors, 6);
	for (int line = 2; line <= 8; line++) {
		snprintf(where, sizeof(where), "%s:%d)", path, line);
		if (line != 6)
			ck_assert_msg(has_note(&n, where), "line %d missing in\n%s", line, n.all);
	}
}
END_TEST

START_TEST(pgbouncer_and_fairway_sections_are_both_main)
{
	struct config *cfg;

	ck_assert(main_line_ok("listen_port = 7000", &cfg));
	ck_assert_int_eq(cfg->listen_port, 7000);
	config_free(cfg);
	{
		struct notes n;
		char path[64];

		cfg = load_text("[pgbouncer]\nlisten_port = 7001\n[fairway]\nmax_client_conn = 9\n",
		                &n, path);
		ck_assert_ptr_nonnull(cfg);
		ck_assert_int_eq(n.warnings + n.errors, 0);
		ck_assert_int_eq(cfg->listen_port, 7001);
		ck_assert_int_eq(cfg->max_client_conn, 9);
		config_free(cfg);
	}
}
END_TEST

START_TEST(long_database_line_parses_whole)
{
	char text[2048], query[600], path[64];
	struct notes n;
	struct config *cfg;

	memset(query, 'q', sizeof(query) - 1);
	query[sizeof(query) - 1] = '\0';
	memcpy(query, "select ", 7);
	snprintf(text, sizeof(text),
	         "[databases]\nlongdb = host=127.0.0.1 port=5433 connect_query='%s' pool_size=3\n",
	         query);
	ck_assert_uint_gt(strlen(text), 500);
	cfg = load_text(text, &n, path);
	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_uint_eq(cfg->n_dbs, 1);
	ck_assert_str_eq(cfg->dbs[0].connect_query, query);
	ck_assert_int_eq(cfg->dbs[0].pool_size, 3);
	ck_assert_int_eq(cfg->dbs[0].port, 5433);
	config_free(cfg);
}
END_TEST

START_TEST(semicolons_inside_values_are_not_comments)
{
	struct notes n;
	char path[64];
	struct config *cfg = load_text("[fairway]\n"
	                               "admin_users = abc ;def\n"
	                               "server_reset_query = RESET ALL; SET x = 1 # not a comment\n"
	                               "; a comment\n"
	                               "   # an indented comment\n"
	                               "[databases]\n"
	                               "d1 = connect_query='set a=1; set b=2' host=h\n"
	                               "d2 = password='abc ;def'\n"
	                               "d3 = password=abc;def\n",
	                               &n, path);

	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_int_eq(n.warnings, 0);
	ck_assert_str_eq(cfg->admin_users, "abc ;def");
	ck_assert_str_eq(cfg->server_reset_query, "RESET ALL; SET x = 1 # not a comment");
	ck_assert_str_eq(config_find_db(cfg, "d1", false)->connect_query, "set a=1; set b=2");
	ck_assert_str_eq(config_find_db(cfg, "d1", false)->host, "h");
	ck_assert_str_eq(config_find_db(cfg, "d2", false)->password, "abc ;def");
	ck_assert_str_eq(config_find_db(cfg, "d3", false)->password, "abc;def");
	config_free(cfg);
}
END_TEST

START_TEST(indented_key_is_an_ordinary_key)
{
	struct notes n;
	char path[64];
	struct config *cfg = load_text("[fairway]\n"
	                               "listen_addr = 127.0.0.1\n"
	                               "    listen_port = 6500\n"
	                               "\tmax_client_conn = 7\n",
	                               &n, path);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->listen_addr, "127.0.0.1");
	ck_assert_int_eq(cfg->listen_port, 6500);
	ck_assert_int_eq(cfg->max_client_conn, 7);
	config_free(cfg);
}
END_TEST

/* Runs in a fresh temporary directory (restored afterwards). */
struct tmpdir {
	char dir[64];
	char old_cwd[PATH_MAX];
};

static void enter_tmpdir(struct tmpdir *t)
{
	strcpy(t->dir, "/tmp/fairway-inc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	ck_assert_ptr_nonnull(getcwd(t->old_cwd, sizeof(t->old_cwd)));
	ck_assert_int_eq(chdir(t->dir), 0);
}

static void leave_tmpdir(struct tmpdir *t, const char *const *files)
{
	for (size_t i = 0; files[i] != NULL; i++)
		unlink(files[i]);
	ck_assert_int_eq(chdir(t->old_cwd), 0);
	rmdir(t->dir);
}

START_TEST(include_is_relative_to_cwd_nested_and_textual)
{
	static const char *const files[] = {"main.ini", "one.ini", "two.ini", NULL};
	struct tmpdir t;
	struct notes n;
	struct config *cfg;

	enter_tmpdir(&t);
	write_file("main.ini", "[fairway]\nlisten_port = 1111\n%include one.ini\n"
	                       "[fairway]\nmax_client_conn = 33\n");
	write_file("one.ini", "max_client_conn = 22\n%include \"two.ini\"\nbogus =\n");
	/* No trailing newline: must not glue onto the including file's next line. */
	write_file("two.ini", "[databases]\nfromtwo = host=x");
	memset(&n, 0, sizeof(n));
	cfg = config_load("main.ini", collect, &n);
	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_int_eq(cfg->listen_port, 1111);
	ck_assert_int_eq(cfg->max_client_conn, 33); /* after the include, later wins */
	ck_assert_ptr_nonnull(config_find_db(cfg, "fromtwo", false));
	ck_assert_str_eq(config_find_db(cfg, "fromtwo", false)->host, "x");
	/* two.ini switched to [databases], so "bogus =" after the include in
	 * one.ini is a database, as if the text were pasted in (PgBouncer). */
	ck_assert_ptr_nonnull(config_find_db(cfg, "bogus", false));
	config_free(cfg);
	leave_tmpdir(&t, files);
}
END_TEST

START_TEST(include_loop_is_an_error_not_a_hang)
{
	static const char *const files[] = {"a.ini", "b.ini", "self.ini", NULL};
	struct tmpdir t;
	struct notes n;

	enter_tmpdir(&t);
	write_file("a.ini", "[fairway]\n%include b.ini\n");
	write_file("b.ini", "%include a.ini\n");
	write_file("self.ini", "%include self.ini\n");
	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(config_load("a.ini", collect, &n));
	ck_assert(has_note(&n, "include loop"));
	ck_assert(has_note(&n, "(b.ini:1)"));
	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(config_load("self.ini", collect, &n));
	ck_assert(has_note(&n, "include loop"));
	leave_tmpdir(&t, files);
}
END_TEST

START_TEST(include_and_auth_file_must_be_regular_files)
{
	/* Seen while writing tests/fuzz/fuzz_config.c: "%include /dev/zero"
	 * grew one line until memory ran out, auth_file = /dev/zero read until
	 * it did, and a FIFO or /dev/stdin blocked the daemon (also on RELOAD). */
	struct notes n;
	char path[64];

	ck_assert_ptr_null(load_text("[fairway]\n%include /dev/zero\n", &n, path));
	ck_assert_msg(has_note(&n, "%include file /dev/zero is not a regular file"), "%s", n.all);
	ck_assert_ptr_null(
	    load_text("[fairway]\nauth_type = md5\nauth_file = /dev/zero\n", &n, path));
	ck_assert_msg(has_note(&n, "could not open auth_file /dev/zero: not a regular file"), "%s",
	              n.all);
	ck_assert_ptr_null(load_text("[fairway]\nauth_type = md5\nauth_file = /tmp\n", &n, path));
	ck_assert_msg(has_note(&n, "auth_file /tmp: Is a directory"), "%s", n.all);
}
END_TEST

START_TEST(include_depth_is_limited_and_missing_include_named)
{
	static const char *const files[] = {"d0.ini",  "d1.ini",  "d2.ini", "d3.ini", "d4.ini",
	                                    "d5.ini",  "d6.ini",  "d7.ini", "d8.ini", "d9.ini",
	                                    "d10.ini", "d11.ini", "m.ini",  NULL};
	struct tmpdir t;
	struct notes n;
	char name[32], text[64];

	enter_tmpdir(&t);
	for (int i = 0; i < 11; i++) {
		snprintf(name, sizeof(name), "d%d.ini", i);
		snprintf(text, sizeof(text), "%%include d%d.ini\n", i + 1);
		write_file(name, text);
	}
	write_file("d11.ini", "[fairway]\n");
	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(config_load("d0.ini", collect, &n));
	ck_assert(has_note(&n, "nested more than"));

	write_file("m.ini", "[fairway]\n%include nothere.ini\n");
	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(config_load("m.ini", collect, &n));
	ck_assert(has_note(&n, "nothere.ini"));
	ck_assert(has_note(&n, strerror(ENOENT)));
	ck_assert(has_note(&n, "(m.ini:2)"));
	leave_tmpdir(&t, files);
}
END_TEST

START_TEST(duplicates_later_wins_in_place)
{
	struct notes n;
	char path[64];
	struct config *cfg = load_text("[fairway]\nlisten_port = 1\nlisten_port = 2\n"
	                               "[databases]\na = port=1\nb = port=2\na = port=3\n"
	                               "[users]\nu = pool_size=1\nu = pool_size=2\n"
	                               "[weights]\nw = 1\nw = 5\n",
	                               &n, path);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->listen_port, 2);
	ck_assert_uint_eq(cfg->n_dbs, 2);
	ck_assert_str_eq(cfg->dbs[0].name, "a");
	ck_assert_int_eq(cfg->dbs[0].port, 3);
	ck_assert_str_eq(cfg->dbs[0].connstr, "port=3");
	ck_assert_uint_eq(cfg->n_users, 1);
	ck_assert_int_eq(cfg->users[0].pool_size, 2);
	ck_assert_uint_eq(cfg->n_weights, 1);
	ck_assert_int_eq(config_find_weight(cfg, "w"), 5);
	ck_assert_int_eq(config_find_weight(cfg, "other"), 1);
	config_free(cfg);
}
END_TEST

START_TEST(empty_value_means_unset)
{
	struct notes n;
	char path[64];
	struct config *cfg = load_text("[fairway]\n"
	                               "pidfile = /run/x.pid\npidfile =\n"
	                               "unix_socket_dir =\n"
	                               "listen_port = 7000\nlisten_port =\n"
	                               "query_wait_timeout =\n"
	                               "server_reset_query =\n"
	                               "pool_mode =\n",
	                               &n, path);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(cfg->pidfile);
	ck_assert_ptr_null(cfg->unix_socket_dir);
	ck_assert_ptr_null(cfg->server_reset_query);
	ck_assert_int_eq(cfg->listen_port, 6432);
	ck_assert_int_eq(cfg->query_wait_timeout_us, 120000000);
	ck_assert_int_eq(cfg->pool_mode, POOL_SESSION);
	config_free(cfg);
}
END_TEST

START_TEST(databases_parse_into_db_conf)
{
	struct notes n;
	char path[64];
	struct config *cfg =
	    load_text("[databases]\n"
	              "full = dbname=real host=10.0.0.1,10.0.0.2 port = 5433 user=u password='p w' "
	              "pool_size=5 min_pool_size=1 reserve_pool=2 connect_query='select ''x''' "
	              "pool_mode=transaction query_wait_timeout=2.5 max_db_connections=9 "
	              "max_db_client_connections=10 server_lifetime=60 client_encoding=UTF8 "
	              "datestyle=ISO timezone=UTC application_name=app\n"
	              "bare =\n"
	              "* = host=fallback\n",
	              &n, path);
	const struct db_conf *d, *b;

	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_int_eq(n.warnings, 0);
	d = config_find_db(cfg, "full", false);
	ck_assert_str_eq(d->dbname, "real");
	ck_assert_str_eq(d->host, "10.0.0.1,10.0.0.2");
	ck_assert_int_eq(d->port, 5433);
	ck_assert_str_eq(d->user, "u");
	ck_assert_str_eq(d->password, "p w");
	ck_assert_int_eq(d->pool_size, 5);
	ck_assert_int_eq(d->min_pool_size, 1);
	ck_assert_int_eq(d->reserve_pool_size, 2);
	ck_assert_str_eq(d->connect_query, "select 'x'");
	ck_assert_int_eq(d->pool_mode, POOL_TRANSACTION);
	ck_assert_int_eq(d->query_wait_timeout_us, 2500000);
	ck_assert_int_eq(d->max_db_connections, 9);
	ck_assert_int_eq(d->max_db_client_connections, 10);
	ck_assert_int_eq(d->server_lifetime_us, 60000000);
	ck_assert_str_eq(d->client_encoding, "UTF8");
	ck_assert_str_eq(d->datestyle, "ISO");
	ck_assert_str_eq(d->timezone, "UTC");
	ck_assert_str_eq(d->application_name, "app");

	b = config_find_db(cfg, "bare", false);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(b->host);
	ck_assert_ptr_null(b->dbname);
	ck_assert_int_eq(b->port, 5432);
	ck_assert_int_eq(b->pool_size, -1);
	ck_assert_int_eq(b->min_pool_size, -1);
	ck_assert_int_eq(b->reserve_pool_size, -1);
	ck_assert_int_eq(b->max_db_connections, -1);
	ck_assert_int_eq(b->server_lifetime_us, -1);
	ck_assert_int_eq(b->query_wait_timeout_us, -1);
	ck_assert_int_eq(b->pool_mode, POOL_MODE_UNSET);
	ck_assert_str_eq(b->connstr, "");

	ck_assert_ptr_null(config_find_db(cfg, "nosuch", false));
	ck_assert_str_eq(config_find_db(cfg, "nosuch", true)->host, "fallback");
	ck_assert_str_eq(config_find_db(cfg, "bare", true)->name, "bare");
	config_free(cfg);
}
END_TEST

START_TEST(unknown_connstr_key_is_an_error_naming_key_and_line)
{
	struct notes n;
	char path[64], where[96];
	struct config *cfg =
	    load_text("[databases]\nok = host=x\nbad = host=x colour=blue\n", &n, path);

	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(n.errors, 1);
	snprintf(where, sizeof(where), "(%s:3)", path);
	ck_assert(has_note(&n, "colour"));
	ck_assert(has_note(&n, where));
}
END_TEST

START_TEST(connstr_syntax_and_value_errors)
{
	static const char *const bad[] = {
	    "[databases]\nd = password='open\n",
	    "[databases]\nd = port=0\n",
	    "[databases]\nd = pool_mode=fast\n",
	    "[databases]\nd = load_balance_hosts=maybe\n",
	    "[databases]\npgbouncer = host=x\n",
	    "[databases]\nfairway = host=x\n",
	    "[users]\nu = pool_size=-1\n",
	    "[users]\nu = fair_weight=0\n",
	    "[users]\nu = colour=blue\n",
	    "[peers]\n0 = host=x\n",
	    "[peers]\nx = host=x\n",
	    "[peers]\n1 = host=x db=y\n",
	    "[weights]\nw = 0\n",
	    "[weights]\nw = many\n",
	};
	struct notes n;
	char path[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *cfg = load_text(bad[i], &n, path);

		ck_assert_msg(cfg == NULL, "loaded: %s", bad[i]);
		ck_assert_msg(n.errors == 1, "%s gave\n%s", bad[i], n.all);
	}
}
END_TEST

START_TEST(users_peers_and_weights_sections)
{
	struct notes n;
	char path[64];
	struct config *cfg =
	    load_text("[users]\n"
	              "app = pool_mode=statement pool_size=4 reserve_pool_size=1 "
	              "max_user_connections=5 max_user_client_connections=6 "
	              "query_timeout=1.5 query_wait_timeout=2 idle_transaction_timeout=3 "
	              "transaction_timeout=4 client_idle_timeout=5 fair_weight=3\n"
	              "plain =\n"
	              "[peers]\n"
	              "1 = host=10.0.0.1 port=7000 pool_size=2\n"
	              "2 = host=/tmp\n"
	              "[weights]\n"
	              "reporting = 1\n"
	              "checkout = 4\n"
	              "::1 = 2\n",
	              &n, path);
	const struct user_conf *u;

	ck_assert_msg(cfg != NULL, "%s", n.all);
	u = config_find_user(cfg, "app");
	ck_assert_int_eq(u->pool_mode, POOL_STATEMENT);
	ck_assert_int_eq(u->pool_size, 4);
	ck_assert_int_eq(u->reserve_pool_size, 1);
	ck_assert_int_eq(u->max_user_connections, 5);
	ck_assert_int_eq(u->max_user_client_connections, 6);
	ck_assert_int_eq(u->query_timeout_us, 1500000);
	ck_assert_int_eq(u->query_wait_timeout_us, 2000000);
	ck_assert_int_eq(u->idle_transaction_timeout_us, 3000000);
	ck_assert_int_eq(u->transaction_timeout_us, 4000000);
	ck_assert_int_eq(u->client_idle_timeout_us, 5000000);
	ck_assert_int_eq(u->fair_weight, 3);
	u = config_find_user(cfg, "plain");
	ck_assert_int_eq(u->pool_size, -1);
	ck_assert_int_eq(u->pool_mode, POOL_MODE_UNSET);
	ck_assert_int_eq(u->fair_weight, -1);
	ck_assert_int_eq(u->query_timeout_us, -1);
	ck_assert_ptr_null(config_find_user(cfg, "nobody"));

	ck_assert_uint_eq(cfg->n_peers, 2);
	ck_assert_int_eq(cfg->peers[0].peer_id, 1);
	ck_assert_str_eq(cfg->peers[0].host, "10.0.0.1");
	ck_assert_int_eq(cfg->peers[0].port, 7000);
	ck_assert_int_eq(cfg->peers[0].pool_size, 2);
	ck_assert_int_eq(cfg->peers[1].port, 6432);
	ck_assert_int_eq(cfg->peers[1].pool_size, -1);
	ck_assert(has_note(&n, "[peers] is not active yet"));
	ck_assert_int_eq(n.warnings, 1);

	ck_assert_int_eq(config_find_weight(cfg, "checkout"), 4);
	ck_assert_int_eq(config_find_weight(cfg, "::1"), 2); /* inih would split at ':' */
	config_free(cfg);
}
END_TEST

START_TEST(inactive_features_warn_once_and_do_not_fail)
{
	struct notes n;
	char path[64];
	struct config *cfg = load_text("[fairway]\n"
	                               "auth_type = ldap\n"
	                               "max_prepared_statements = 0\n"
	                               "server_tls_sslmode = disable\n"
	                               "so_reuseport = 0\n"
	                               "syslog = 1\n"
	                               "[databases]\n"
	                               "a = load_balance_hosts=disable\n"
	                               "b = load_balance_hosts=disable\n",
	                               &n, path);

	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_int_eq(n.errors, 0);
	ck_assert_msg(n.warnings == 3, "%s", n.all);
	ck_assert(has_note(&n, "auth_type is not active yet"));
	ck_assert(has_note(&n, "syslog is not active yet"));
	ck_assert(has_note(&n, "load_balance_hosts is not active yet"));
	config_free(cfg);

	/* Prepared statements are tracked: no note either way. */
	cfg = load_text("[fairway]\nmax_prepared_statements = 50\n", &n, path);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(n.warnings, 0);
	config_free(cfg);
	cfg = load_text("[fairway]\nauth_type = scram-sha-256\nserver_tls_sslmode = prefer\n", &n,
	                path);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(n.warnings, 0); /* TLS is built: no "not active" note */
	ck_assert(!has_note(&n, "server_tls_sslmode"));
	config_free(cfg);
}
END_TEST

START_TEST(missing_file_names_file_and_reason)
{
	struct notes n;

	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(config_load("/nonexistent/fairway.ini", collect, &n));
	ck_assert_int_eq(n.errors, 1);
	ck_assert(has_note(&n, "/nonexistent/fairway.ini"));
	ck_assert(has_note(&n, strerror(ENOENT)));
	ck_assert_ptr_null(config_load("/nonexistent/fairway.ini", NULL, NULL));
}
END_TEST

START_TEST(odd_lines_section_headers_and_line_endings)
{
	struct notes n;
	char path[64];
	struct config *cfg = load_text("\xEF\xBB\xBF"
	                               "stray = 1\r\n"
	                               "[fairway]\r\n"
	                               "listen_port = 7002\r\n"
	                               "[ databases ] trailing\r\n"
	                               "x = host=y\r\n"
	                               "[mystery]\r\n"
	                               "whatever = 1\r\n",
	                               &n, path);

	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_int_eq(n.warnings, 2);
	ck_assert(has_note(&n, "outside of any section"));
	ck_assert(has_note(&n, "unknown section [mystery]"));
	ck_assert_int_eq(cfg->listen_port, 7002);
	ck_assert_str_eq(config_find_db(cfg, "x", false)->host, "y");
	config_free(cfg);
}
END_TEST

START_TEST(very_long_main_value_is_kept_whole)
{
	size_t len = 200000;
	char *text = malloc(len + 64), path[64];
	struct notes n;
	struct config *cfg;

	ck_assert_ptr_nonnull(text);
	strcpy(text, "[fairway]\nadmin_users = ");
	memset(text + strlen(text), 'u', len);
	strcpy(text + 24 + len, "\nlisten_port = 7003\n");
	cfg = load_text(text, &n, path);
	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_uint_eq(strlen(cfg->admin_users), len);
	ck_assert_int_eq(cfg->listen_port, 7003);
	config_free(cfg);
	free(text);
}
END_TEST

START_TEST(auth_file_is_loaded_or_its_absence_reported)
{
	struct notes n;
	char users[64], text[256], path[64];
	struct config *cfg;

	temp_file(users, "\"bob\" \"secret\"\n\"al\" \"md5abc\"\nbroken\n");
	snprintf(text, sizeof(text), "[fairway]\nauth_file = %s\n", users);
	cfg = load_text(text, &n, path);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(n.warnings, 1); /* the broken line */
	ck_assert_uint_eq(cfg->n_auth, 2);
	ck_assert_str_eq(config_find_auth(cfg, "bob")->secret, "secret");
	ck_assert_ptr_null(config_find_auth(cfg, "carol"));
	config_free(cfg);
	unlink(users);

	cfg = load_text(text, &n, path); /* md5 needs it: error */
	ck_assert_ptr_null(cfg);
	ck_assert(has_note(&n, users));
	ck_assert(has_note(&n, strerror(ENOENT)));

	snprintf(text, sizeof(text), "[fairway]\nauth_type = any\nauth_file = %s\n", users);
	cfg = load_text(text, &n, path); /* any does not: warning */
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(n.errors, 0);
	ck_assert_int_eq(n.warnings, 1);
	config_free(cfg);
}
END_TEST

START_TEST(set_changes_a_copy_of_reloadable_keys_only)
{
	struct notes n;
	char path[64], err[256];
	struct config *cfg = load_text("[fairway]\nadmin_users = a\n"
	                               "[databases]\nd = host=h\n[users]\nu = pool_size=1\n"
	                               "[peers]\n1 = host=p\n[weights]\nw = 2\n",
	                               &n, path);
	struct config *c2;

	ck_assert_ptr_nonnull(cfg);
	c2 = config_with_set(cfg, "query_wait_timeout", "0.25", err, sizeof(err));
	ck_assert_ptr_nonnull(c2);
	ck_assert_int_eq(c2->query_wait_timeout_us, 250000);
	ck_assert_int_eq(cfg->query_wait_timeout_us, 120000000);
	config_free(cfg); /* the copy owns everything it points to */
	ck_assert_str_eq(c2->admin_users, "a");
	ck_assert_str_eq(config_find_db(c2, "d", false)->host, "h");
	ck_assert_int_eq(config_find_user(c2, "u")->pool_size, 1);
	ck_assert_str_eq(c2->peers[0].host, "p");
	ck_assert_int_eq(config_find_weight(c2, "w"), 2);
	ck_assert_str_eq(c2->conffile, path);

	cfg = config_with_set(c2, "Default_Pool_Size", "50", err, sizeof(err));
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->default_pool_size, 50);
	config_free(cfg);
	cfg = config_with_set(c2, "admin_users", "", err, sizeof(err));
	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(cfg->admin_users);
	config_free(cfg);

	ck_assert_ptr_null(config_with_set(c2, "listen_port", "7000", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "listen_port"));
	ck_assert_ptr_null(config_with_set(c2, "no_such_key", "1", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no_such_key"));
	ck_assert_ptr_null(config_with_set(c2, "pool_mode", "fast", err, sizeof(err)));
	ck_assert_str_eq(err, "invalid value \"fast\" for parameter pool_mode");
	config_free(c2);
}
END_TEST

START_TEST(fixed_keys_changed_are_named)
{
	struct notes n;
	char path[64], names[256];
	struct config *a = load_text("[fairway]\nlisten_port = 7000\npkt_buf = 8192\n", &n, path);
	struct config *b = load_text("[fairway]\nlisten_port = 7001\npkt_buf = 8192\n"
	                             "default_pool_size = 3\nunix_socket_dir = /var/run\n",
	                             &n, path);
	struct config *c = load_text("[fairway]\nlisten_port = 7000\npkt_buf = 8192\n"
	                             "query_timeout = 9\n",
	                             &n, path);

	ck_assert(a && b && c);
	ck_assert(config_fixed_changed(a, b, names, sizeof(names)));
	ck_assert_str_eq(names, "listen_port, unix_socket_dir");
	ck_assert(!config_fixed_changed(a, c, names, sizeof(names)));
	ck_assert_str_eq(names, "");
	ck_assert(config_fixed_changed(a, b, names, 5)); /* truncated but terminated */
	ck_assert_uint_lt(strlen(names), 5);
	config_free(a);
	config_free(b);
	config_free(c);
}
END_TEST

START_TEST(list_has_and_names)
{
	ck_assert(config_list_has("a, b", "b"));
	ck_assert(config_list_has("a,b", "a"));
	ck_assert(config_list_has("a b\tc", "c"));
	ck_assert(config_list_has("\"x y\"", "x y") == false); /* spaces separate */
	ck_assert(config_list_has("\"admin\", ops", "admin"));
	ck_assert(!config_list_has("ab, c", "a"));
	ck_assert(!config_list_has("", "a"));
	ck_assert(!config_list_has(NULL, "a"));
	ck_assert_str_eq(config_pool_mode_name(POOL_TRANSACTION), "transaction");
	ck_assert_str_eq(config_pool_mode_name(POOL_MODE_UNSET), "");
	ck_assert_str_eq(config_auth_type_name(AUTH_SCRAM), "scram-sha-256");
	ck_assert_str_eq(config_fair_key_name(FAIR_CLIENT_ADDR), "client_addr");
}
END_TEST

/* The sample etc/fairway.ini: loads cleanly and names every key. */
struct sample_check {
	const char *text;
	int missing;
	char first_missing[64];
};

static void sample_row(void *arg, const char *key, const char *value, const char *dflt,
                       const char *changeable)
{
	struct sample_check *sc = arg;
	char pat[96];

	(void)value, (void)dflt, (void)changeable;
	snprintf(pat, sizeof(pat), "\n;%s =", key);
	if (strstr(sc->text, pat) != NULL)
		return;
	snprintf(pat, sizeof(pat), "\n%s =", key);
	if (strstr(sc->text, pat) != NULL)
		return;
	if (sc->missing++ == 0)
		snprintf(sc->first_missing, sizeof(sc->first_missing), "%s", key);
}

START_TEST(sample_config_loads_cleanly_and_lists_every_key)
{
	const char *srcdir = getenv("FAIRWAY_SRCDIR");
	char old_cwd[PATH_MAX], *text;
	struct notes n;
	struct config *cfg;
	struct sample_check sc;
	FILE *f;
	long size;

	if (srcdir == NULL || *srcdir == '\0')
		srcdir = ".";
	ck_assert_ptr_nonnull(getcwd(old_cwd, sizeof(old_cwd)));
	ck_assert_int_eq(chdir(srcdir), 0);
	memset(&n, 0, sizeof(n));
	cfg = config_load("etc/fairway.ini", collect, &n);
	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_msg(n.errors + n.warnings == 0, "%s", n.all);
	ck_assert_str_eq(cfg->listen_addr, "127.0.0.1");
	ck_assert_int_eq(cfg->listen_port, 6432);
	ck_assert_int_eq(cfg->auth_type, AUTH_MD5);
	ck_assert(config_list_has(cfg->admin_users, "fairway"));
	ck_assert_str_eq(config_find_auth(cfg, "fairway")->secret, "fairway");
	ck_assert_str_eq(config_find_auth(cfg, "app")->secret,
	                 "md5240aeccb7a1d859a99844d012bfe74cc");
	ck_assert_uint_ge(cfg->n_dbs, 1);
	ck_assert_str_eq(cfg->dbs[0].host, "127.0.0.1");
	ck_assert_int_eq(cfg->dbs[0].port, 5432);

	f = fopen("etc/fairway.ini", "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	memset(&sc, 0, sizeof(sc));
	sc.text = text;
	config_show(cfg, sample_row, &sc);
	ck_assert_msg(sc.missing == 0, "%d keys missing from etc/fairway.ini, e.g. %s", sc.missing,
	              sc.first_missing);
	free(text);
	config_free(cfg);
	ck_assert_int_eq(chdir(old_cwd), 0);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *values = tcase_create("values");
	TCase *syntax = tcase_create("syntax");
	TCase *sections = tcase_create("sections");
	TCase *api = tcase_create("api");

	tcase_add_test(values, every_default_matches_pgbouncer_and_show_config_is_sorted);
	tcase_add_test(values, bounds_are_enforced);
	tcase_add_test(values, every_type_parses_its_forms);
	tcase_add_test(values, empty_value_means_unset);
	tcase_add_test(values, inactive_features_warn_once_and_do_not_fail);
	suite_add_tcase(s, values);

	tcase_add_test(syntax, unknown_key_is_a_warning_with_file_and_line);
	tcase_add_test(syntax, bad_value_error_has_pgbouncer_shape);
	tcase_add_test(syntax, every_bad_line_is_reported);
	tcase_add_test(syntax, pgbouncer_and_fairway_sections_are_both_main);
	tcase_add_test(syntax, long_database_line_parses_whole);
	tcase_add_test(syntax, semicolons_inside_values_are_not_comments);
	tcase_add_test(syntax, indented_key_is_an_ordinary_key);
	tcase_add_test(syntax, include_is_relative_to_cwd_nested_and_textual);
	tcase_add_test(syntax, include_loop_is_an_error_not_a_hang);
	tcase_add_test(syntax, include_and_auth_file_must_be_regular_files);
	tcase_add_test(syntax, include_depth_is_limited_and_missing_include_named);
	tcase_add_test(syntax, duplicates_later_wins_in_place);
	tcase_add_test(syntax, missing_file_names_file_and_reason);
	tcase_add_test(syntax, odd_lines_section_headers_and_line_endings);
	tcase_add_test(syntax, very_long_main_value_is_kept_whole);
	suite_add_tcase(s, syntax);

	tcase_add_test(sections, databases_parse_into_db_conf);
	tcase_add_test(sections, unknown_connstr_key_is_an_error_naming_key_and_line);
	tcase_add_test(sections, connstr_syntax_and_value_errors);
	tcase_add_test(sections, users_peers_and_weights_sections);
	tcase_add_test(sections, auth_file_is_loaded_or_its_absence_reported);
	suite_add_tcase(s, sections);

	tcase_add_test(api, set_changes_a_copy_of_reloadable_keys_only);
	tcase_add_test(api, fixed_keys_changed_are_named);
	tcase_add_test(api, list_has_and_names);
	tcase_add_test(api, sample_config_loads_cleanly_and_lists_every_key);
	suite_add_tcase(s, api);
	return s;
}
