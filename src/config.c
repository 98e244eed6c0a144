/* Configuration: the one table of settings (name, type, field, default,
 * bounds, flags), the loader built on inih with its runtime knobs set so that
 * long lines, `;` inside values, indented keys and %include behave as in
 * PgBouncer, the [databases]/[users]/[peers]/[weights] sections, the
 * auth_file, and the views SHOW CONFIG, SET and RELOAD need. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "authfile.h"
#include "connstr.h"
#include "hba.h"

enum cfg_flag {
	CFG_RELOAD = 1 << 0,     /* may change on RELOAD / SET; else needs a restart */
	CFG_NOT_ACTIVE = 1 << 1, /* parsed and shown, but Fairway does not do it yet */
};

/* A main-section setting: the typed field (connstr.h) plus its default. */
struct cfg_key {
	struct connstr_key f; /* name (table order = SHOW CONFIG order), type, field in
	                       * struct config, bounds (durations in microseconds),
	                       * choices, flags */
	const char *dflt;     /* parsed by the same code as the file; NULL = unset */
	/* CFG_NOT_ACTIVE: space-separated values that leave the feature off
	 * (NULL = only the default).  Other values set in the file warn. */
	const char *inert;
};

#define USEC_PER_SEC      1000000LL
#define DUR_MAX           (1000000000LL * USEC_PER_SEC) /* about 31 years */
#define MAX_INCLUDE_DEPTH 10

static const char *const pool_modes[] = {"session", "transaction", "statement", NULL};
static const char *const auth_types[] = {"cert", "md5", "scram-sha-256", "plain", "trust",
                                         "any",  "hba", "ldap",          "pam",   NULL};
static const char *const fair_keys[] = {"application_name", "client_addr", "user", "none", NULL};
static const char *const sslmodes[] = {"disable",   "allow",       "prefer", "require",
                                       "verify-ca", "verify-full", NULL};

_Static_assert(sizeof(enum pool_mode) == sizeof(int), "enum pool_mode is stored as int");
_Static_assert(sizeof(enum auth_type) == sizeof(int), "enum auth_type is stored as int");
_Static_assert(sizeof(enum fair_key) == sizeof(int), "enum fair_key is stored as int");

#define DEFAULT_AUTH_QUERY                                                                         \
	"SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END "          \
	"FROM pg_authid WHERE rolname=$1 AND rolcanlogin"

/* clang-format off */
#define K(name, type, field, dflt, lo, hi, choices, flags, inert) \
	{{name, type, offsetof(struct config, field), lo, hi, choices, flags}, dflt, inert}
#define R  CFG_RELOAD
#define NA CFG_NOT_ACTIVE
#define I(name, dflt, lo, hi, flags) K(#name, CONNSTR_INT, name, dflt, lo, hi, NULL, flags, NULL)
#define B(name, dflt, flags) K(#name, CONNSTR_BOOL, name, dflt, 0, 1, NULL, flags, NULL)
#define U(name, dflt, flags) K(#name, CONNSTR_USEC, name##_us, dflt, 0, DUR_MAX, NULL, flags, NULL)
#define S(name, dflt, flags) K(#name, CONNSTR_STR, name, dflt, 0, 0, NULL, flags, NULL)
/* clang-format on */

/* Every setting, sorted by name.  The 101 keys of PgBouncer 1.25 with its
 * defaults, then Fairway's own (fair_anticipation, fair_key, max_waiting_*, metrics_listen). */
static const struct cfg_key keys[] = {
    S(admin_users, NULL, R),
    B(application_name_add_host, "0", R),
    S(auth_dbname, NULL, R),
    S(auth_file, NULL, R),
    S(auth_hba_file, NULL, R),
    S(auth_ident_file, NULL, R),
    S(auth_ldap_options, NULL, R | NA),
    S(auth_query, DEFAULT_AUTH_QUERY, R),
    K("auth_type", CONNSTR_CHOICE, auth_type, "md5", 0, 0, auth_types, R | NA,
      "md5 scram-sha-256 plain trust any hba cert"),
    S(auth_user, NULL, R),
    U(autodb_idle_timeout, "3600", R),
    U(cancel_wait_timeout, "10", R),
    U(client_idle_timeout, "0", R),
    U(client_login_timeout, "60", R),
    S(client_tls13_ciphers, NULL, R),
    S(client_tls_ca_file, NULL, R),
    S(client_tls_cert_file, NULL, R),
    S(client_tls_ciphers, "default", R),
    S(client_tls_dheparams, "auto", R),
    S(client_tls_ecdhcurve, "auto", R),
    S(client_tls_key_file, NULL, R),
    S(client_tls_protocols, "secure", R),
    K("client_tls_sslmode", CONNSTR_CHOICE_STR, client_tls_sslmode, "disable", 0, 0, sslmodes, R,
      NULL),
    S(conffile, NULL, R),
    I(default_pool_size, "20", 0, INT_MAX, R),
    B(disable_pqexec, "0", NA),
    U(dns_max_ttl, "15", R | NA),
    U(dns_nxdomain_ttl, "15", R | NA),
    U(dns_zone_check_period, "0", R | NA),
    K("fair_anticipation", CONNSTR_USEC, fair_anticipation_us, "0.001", 0, USEC_PER_SEC, NULL, R,
      NULL),
    K("fair_key", CONNSTR_CHOICE, fair_key, "application_name", 0, 0, fair_keys, R, NULL),
    U(idle_transaction_timeout, "0", R),
    S(ignore_startup_parameters, NULL, R),
    S(job_name, "pgbouncer", 0),
    S(listen_addr, NULL, 0),
    I(listen_backlog, "128", 1, INT_MAX, 0),
    I(listen_port, "6432", 1, 65535, 0),
    B(log_connections, "1", R),
    B(log_disconnections, "1", R),
    B(log_pooler_errors, "1", R),
    B(log_stats, "1", R),
    S(logfile, NULL, R),
    S(login_notify_message, NULL, R | NA),
    I(max_client_conn, "100", 1, INT_MAX, R),
    I(max_db_client_connections, "0", 0, INT_MAX, R),
    I(max_db_connections, "0", 0, INT_MAX, R),
    K("max_packet_size", CONNSTR_INT64, max_packet_size, "2147483647", 1024, INT32_MAX, NULL, R,
      NULL),
    K("max_prepared_statements", CONNSTR_INT, max_prepared_statements, "200", 0, INT_MAX, NULL, R,
      NULL),
    I(max_user_client_connections, "0", 0, INT_MAX, R),
    I(max_user_connections, "0", 0, INT_MAX, R),
    I(max_waiting_clients, "0", 0, INT_MAX, R),
    I(max_waiting_per_flow, "0", 0, INT_MAX, R),
    S(metrics_listen, NULL, 0),
    I(min_pool_size, "0", 0, INT_MAX, R),
    K("peer_id", CONNSTR_INT, peer_id, "0", 0, 16383, NULL, R | NA, NULL),
    S(pidfile, NULL, 0),
    I(pkt_buf, "4096", 512, 1 << 24, 0),
    U(pool_idle_timeout, "0", R),
    K("pool_mode", CONNSTR_CHOICE, pool_mode, "session", 0, 0, pool_modes, R, NULL),
    U(query_timeout, "0", R),
    U(query_wait_notify, "5", R),
    U(query_wait_timeout, "120", R),
    I(reserve_pool_size, "0", 0, INT_MAX, R),
    U(reserve_pool_timeout, "5", R),
    S(resolv_conf, NULL, NA),
    I(sbuf_loopcnt, "5", 0, INT_MAX, R),
    I(scram_iterations, "4096", 1, INT_MAX, R),
    U(server_check_delay, "30", R),
    /* "<empty>" sends an empty query; an empty value (NULL) disables the check. */
    S(server_check_query, "<empty>", R),
    U(server_connect_timeout, "15", R),
    B(server_fast_close, "0", R | NA),
    U(server_idle_timeout, "600", R),
    U(server_lifetime, "3600", R),
    U(server_login_retry, "15", R),
    S(server_reset_query, "DISCARD ALL", R),
    B(server_reset_query_always, "0", R),
    B(server_round_robin, "0", R),
    S(server_tls13_ciphers, NULL, R),
    S(server_tls_ca_file, NULL, R),
    S(server_tls_cert_file, NULL, R),
    S(server_tls_ciphers, "default", R),
    S(server_tls_key_file, NULL, R),
    S(server_tls_protocols, "secure", R),
    K("server_tls_sslmode", CONNSTR_CHOICE_STR, server_tls_sslmode, "prefer", 0, 0, sslmodes, R,
      NULL),
    S(service_name, "pgbouncer", 0),
    B(so_reuseport, "0", NA),
    U(stats_period, "60", R),
    S(stats_users, NULL, R),
    U(suspend_timeout, "10", R),
    B(syslog, "0", R | NA),
    S(syslog_facility, "daemon", R),
    S(syslog_ident, "pgbouncer", R),
    K("tcp_defer_accept", CONNSTR_BOOL, tcp_defer_accept, "1", 0, 1, NULL, R | NA, "0"),
    B(tcp_keepalive, "1", R),
    I(tcp_keepcnt, "0", 0, INT_MAX, R),
    I(tcp_keepidle, "0", 0, INT_MAX, R),
    I(tcp_keepintvl, "0", 0, INT_MAX, R),
    I(tcp_socket_buffer, "0", 0, INT_MAX, R | NA),
    I(tcp_user_timeout, "0", 0, INT_MAX, R | NA),
    S(track_extra_parameters, "IntervalStyle", 0),
    U(transaction_timeout, "0", R),
    S(unix_socket_dir, "/tmp", 0),
    S(unix_socket_group, NULL, 0),
    K("unix_socket_mode", CONNSTR_OCTAL, unix_socket_mode, "0777", 0, 07777, NULL, 0, NULL),
    S(user, NULL, 0),
    I(verbose, "0", 0, 10, R),
};
#undef K
#undef R
#undef NA
#undef I
#undef B
#undef U
#undef S

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* ---- typed values (parsed and formatted by connstr.c) ---- */

static void *field_of(void *base, size_t offset)
{
	return (char *)base + offset;
}

static const void *cfield_of(const void *base, size_t offset)
{
	return (const char *)base + offset;
}

static bool is_string(const struct cfg_key *k)
{
	return k->f.type == CONNSTR_STR || k->f.type == CONNSTR_CHOICE_STR;
}

/* Sets k in cfg from text as the file writes it.  An empty text means unset:
 * NULL for free-form strings, the default for everything else. */
static bool set_key(const struct cfg_key *k, struct config *cfg, const char *text)
{
	if (*text == '\0' && k->f.type == CONNSTR_STR) {
		char **field = field_of(cfg, k->f.offset);

		free(*field);
		*field = NULL;
		return true;
	}
	if (*text == '\0')
		text = k->dflt;
	return connstr_set(&k->f, cfg, text) == CONNSTR_APPLIED;
}

static const char *fmt_key(const struct cfg_key *k, const struct config *cfg, char *buf, size_t len)
{
	return connstr_format(&k->f, cfg, buf, len);
}

/* The default of k as SHOW CONFIG prints it. */
static const char *fmt_default(const struct cfg_key *k, char *buf, size_t len)
{
	struct config scratch;

	if (is_string(k))
		return k->dflt != NULL ? k->dflt : "";
	memset(&scratch, 0, sizeof(scratch));
	if (connstr_set(&k->f, &scratch, k->dflt) != CONNSTR_APPLIED)
		return "";
	return fmt_key(k, &scratch, buf, len);
}

static const struct cfg_key *find_key(const char *name)
{
	size_t lo = 0, hi = N_KEYS;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcasecmp(name, keys[mid].f.name);

		if (c == 0)
			return &keys[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* True if value (SHOW CONFIG text) leaves a not-yet-active feature off. */
static bool is_inert(const struct cfg_key *k, const char *value)
{
	char buf[64];
	const char *p;
	size_t vlen = strlen(value);

	if (k->inert == NULL)
		return strcmp(value, fmt_default(k, buf, sizeof(buf))) == 0;
	for (p = k->inert; *p != '\0';) {
		size_t n = strcspn(p, " ");

		if (n == vlen && strncmp(p, value, n) == 0)
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

/* ---- loading state ---- */

enum section { SEC_NONE, SEC_MAIN, SEC_DATABASES, SEC_USERS, SEC_PEERS, SEC_WEIGHTS, SEC_OTHER };

/* One file being read; the stack holds the main file and its %includes. */
struct src_file {
	FILE *f;          /* owned */
	const char *path; /* borrowed from cfg_load.names */
	int line;
	dev_t dev;
	ino_t ino;
};

struct cfg_load {
	struct config *cfg; /* being built; owned until returned */
	config_report_fn report;
	void *arg;
	struct src_file stack[MAX_INCLUDE_DEPTH];
	int depth;
	char **names; /* owned: every file name read, for messages */
	size_t n_names;
	char *line; /* owned: the current raw line, as handed to inih */
	size_t line_cap, line_len, line_pos;
	const char *file; /* where the current line comes from (borrowed) */
	int lineno;
	enum section sect;
	int n_errors;
	const char *set_file[N_KEYS]; /* where each main key was last set; NULL = never */
	int set_line[N_KEYS];
	unsigned sub_warned; /* bit per not-active connection-string key, warned once */
	bool peers_warned;
};

__attribute__((format(printf, 3, 4))) static void say(struct cfg_load *ld, bool is_error,
                                                      const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (is_error)
		ld->n_errors++;
	if (ld->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->report(ld->arg, is_error, msg);
}

static void bad_value(struct cfg_load *ld, const char *key, const char *value)
{
	say(ld, true, "invalid value \"%s\" for parameter %s in configuration (%s:%d)", value, key,
	    ld->file, ld->lineno);
}

/* ---- [databases], [users], [peers], [weights] ---- */

static const char *const lb_modes[] = {"round-robin", "disable", NULL};

/* clang-format off */
#define DB(name, type, field, lo, hi, choices, flags) \
	{name, type, offsetof(struct db_conf, field), lo, hi, choices, flags}
#define US(name, type, field, lo, hi, choices) \
	{name, type, offsetof(struct user_conf, field), lo, hi, choices, 0}
/* clang-format on */

/* [databases] keys; flags CFG_NOT_ACTIVE as in the main table. */
static const struct connstr_key db_keys[] = {
    DB("dbname", CONNSTR_STR, dbname, 0, 0, NULL, 0),
    DB("host", CONNSTR_STR, host, 0, 0, NULL, 0),
    DB("port", CONNSTR_INT, port, 1, 65535, NULL, 0),
    DB("user", CONNSTR_STR, user, 0, 0, NULL, 0),
    DB("password", CONNSTR_STR, password, 0, 0, NULL, 0),
    DB("auth_user", CONNSTR_STR, auth_user, 0, 0, NULL, 0),
    DB("auth_query", CONNSTR_STR, auth_query, 0, 0, NULL, 0),
    DB("auth_dbname", CONNSTR_STR, auth_dbname, 0, 0, NULL, 0),
    DB("pool_size", CONNSTR_INT, pool_size, 0, INT_MAX, NULL, 0),
    DB("min_pool_size", CONNSTR_INT, min_pool_size, 0, INT_MAX, NULL, 0),
    DB("reserve_pool_size", CONNSTR_INT, reserve_pool_size, 0, INT_MAX, NULL, 0),
    DB("reserve_pool", CONNSTR_INT, reserve_pool_size, 0, INT_MAX, NULL, 0),
    DB("connect_query", CONNSTR_STR, connect_query, 0, 0, NULL, 0),
    DB("pool_mode", CONNSTR_CHOICE, pool_mode, 0, 0, pool_modes, 0),
    DB("query_wait_timeout", CONNSTR_USEC, query_wait_timeout_us, 0, DUR_MAX, NULL, 0),
    DB("load_balance_hosts", CONNSTR_CHOICE_STR, load_balance_hosts, 0, 0, lb_modes,
       CFG_NOT_ACTIVE),
    DB("max_db_connections", CONNSTR_INT, max_db_connections, 0, INT_MAX, NULL, 0),
    DB("max_db_client_connections", CONNSTR_INT, max_db_client_connections, 0, INT_MAX, NULL, 0),
    DB("server_lifetime", CONNSTR_USEC, server_lifetime_us, 0, DUR_MAX, NULL, 0),
    DB("client_encoding", CONNSTR_STR, client_encoding, 0, 0, NULL, 0),
    DB("datestyle", CONNSTR_STR, datestyle, 0, 0, NULL, 0),
    DB("timezone", CONNSTR_STR, timezone, 0, 0, NULL, 0),
    DB("application_name", CONNSTR_STR, application_name, 0, 0, NULL, 0),
};
_Static_assert(sizeof(db_keys) / sizeof(db_keys[0]) <= sizeof(unsigned) * 8,
               "one sub_warned bit per key");

static const struct connstr_key user_keys[] = {
    US("pool_mode", CONNSTR_CHOICE, pool_mode, 0, 0, pool_modes),
    US("pool_size", CONNSTR_INT, pool_size, 0, INT_MAX, NULL),
    US("reserve_pool_size", CONNSTR_INT, reserve_pool_size, 0, INT_MAX, NULL),
    US("reserve_pool", CONNSTR_INT, reserve_pool_size, 0, INT_MAX, NULL),
    US("max_user_connections", CONNSTR_INT, max_user_connections, 0, INT_MAX, NULL),
    US("max_user_client_connections", CONNSTR_INT, max_user_client_connections, 0, INT_MAX, NULL),
    US("query_timeout", CONNSTR_USEC, query_timeout_us, 0, DUR_MAX, NULL),
    US("query_wait_timeout", CONNSTR_USEC, query_wait_timeout_us, 0, DUR_MAX, NULL),
    US("idle_transaction_timeout", CONNSTR_USEC, idle_transaction_timeout_us, 0, DUR_MAX, NULL),
    US("transaction_timeout", CONNSTR_USEC, transaction_timeout_us, 0, DUR_MAX, NULL),
    US("client_idle_timeout", CONNSTR_USEC, client_idle_timeout_us, 0, DUR_MAX, NULL),
    US("fair_weight", CONNSTR_INT, fair_weight, 1, 1000000, NULL),
};
#undef DB
#undef US

static const struct connstr_key peer_keys[] = {
    {"host", CONNSTR_STR, offsetof(struct peer_conf, host), 0, 0, NULL, 0},
    {"port", CONNSTR_INT, offsetof(struct peer_conf, port), 1, 65535, NULL, 0},
    {"pool_size", CONNSTR_INT, offsetof(struct peer_conf, pool_size), 0, INT_MAX, NULL, 0},
};

/* The strings a struct db_conf owns, for copying and freeing. */
/* clang-format off */
#define DS(field) offsetof(struct db_conf, field)
static const size_t db_strings[] = {
	DS(name), DS(host), DS(dbname), DS(user), DS(password), DS(auth_user), DS(auth_query),
	DS(auth_dbname), DS(connect_query), DS(client_encoding), DS(datestyle), DS(timezone),
	DS(application_name), DS(load_balance_hosts), DS(connstr),
};
#undef DS
/* clang-format on */
#define N_DB_STRINGS (sizeof(db_strings) / sizeof(db_strings[0]))

static void free_db(struct db_conf *db)
{
	for (size_t i = 0; i < N_DB_STRINGS; i++)
		free(*(char **)field_of(db, db_strings[i]));
}

static void init_db(struct db_conf *db)
{
	memset(db, 0, sizeof(*db));
	db->port = 5432;
	db->pool_size = db->min_pool_size = db->reserve_pool_size = -1;
	db->max_db_connections = db->max_db_client_connections = -1;
	db->server_lifetime_us = db->query_wait_timeout_us = -1;
	db->pool_mode = POOL_MODE_UNSET;
}

static void init_user(struct user_conf *u)
{
	memset(u, 0, sizeof(*u));
	u->pool_size = u->reserve_pool_size = -1;
	u->max_user_connections = u->max_user_client_connections = -1;
	u->query_timeout_us = u->query_wait_timeout_us = u->idle_transaction_timeout_us = -1;
	u->transaction_timeout_us = u->client_idle_timeout_us = -1;
	u->pool_mode = POOL_MODE_UNSET;
	u->fair_weight = -1;
}

/* Parses value into pairs and stores each into base through table; reports
 * every bad pair.  False when anything was wrong. */
static bool apply_connstr(struct cfg_load *ld, const char *value, const struct connstr_key *table,
                          size_t n, void *base, const char *what, const char *owner)
{
	struct connstr cs;
	struct connstr_error ce;
	bool ok = true;

	if (!connstr_parse(value, &cs, &ce)) {
		say(ld, true,
		    "invalid %s string for %s: %s at position %zu in configuration (%s:%d)", what,
		    owner, ce.msg, ce.pos, ld->file, ld->lineno);
		return false;
	}
	for (size_t i = 0; i < cs.n_pairs; i++) {
		const struct connstr_pair *pair = &cs.pairs[i];
		const struct connstr_key *key = NULL;

		switch (connstr_apply(table, n, base, pair, &key)) {
		case CONNSTR_APPLIED:
			break;
		case CONNSTR_UNKNOWN_KEY:
			say(ld, true, "unrecognized %s parameter: %s (%s) in configuration (%s:%d)",
			    what, pair->key, owner, ld->file, ld->lineno);
			ok = false;
			continue;
		case CONNSTR_BAD_VALUE:
			bad_value(ld, pair->key, pair->value);
			ok = false;
			continue;
		case CONNSTR_NO_MEMORY:
			say(ld, true, "out of memory");
			ok = false;
			continue;
		}
		if ((key->flags & CFG_NOT_ACTIVE) && table == db_keys &&
		    !(ld->sub_warned & (1u << (key - db_keys)))) {
			ld->sub_warned |= 1u << (key - db_keys);
			say(ld, false, "%s is not active yet in this version of Fairway (%s:%d)",
			    key->name, ld->file, ld->lineno);
		}
	}
	connstr_free(&cs);
	return ok;
}

/* Appends or, when name is already there, replaces: "a later duplicate wins"
 * while keeping the first one's place.  Returns the slot or NULL on ENOMEM. */
static void *put_named(void **arr, size_t *n, size_t elem, size_t name_off, const char *name,
                       bool *replaced)
{
	char *p;

	for (size_t i = 0; i < *n; i++) {
		p = (char *)*arr + i * elem;
		if (strcmp(*(char **)field_of(p, name_off), name) == 0) {
			*replaced = true;
			return p;
		}
	}
	p = realloc(*arr, (*n + 1) * elem);
	if (p == NULL)
		return NULL;
	*arr = p;
	*replaced = false;
	return p + (*n)++ * elem;
}

static void parse_db(struct cfg_load *ld, const char *name, const char *value)
{
	struct db_conf db, *slot;
	bool replaced;

	if (strcmp(name, "pgbouncer") == 0 || strcmp(name, "fairway") == 0) {
		say(ld, true, "database name \"%s\" is reserved for the admin console (%s:%d)",
		    name, ld->file, ld->lineno);
		return;
	}
	init_db(&db);
	if (!apply_connstr(ld, value, db_keys, sizeof(db_keys) / sizeof(db_keys[0]), &db,
	                   "connection", name)) {
		free_db(&db);
		return;
	}
	if (db.host != NULL && db.host[0] == '\0') {
		free(db.host);
		db.host = NULL;
	}
	db.name = strdup(name);
	db.connstr = strdup(value);
	slot = db.name && db.connstr
	           ? put_named((void **)&ld->cfg->dbs, &ld->cfg->n_dbs, sizeof(db),
	                       offsetof(struct db_conf, name), name, &replaced)
	           : NULL;
	if (slot == NULL) {
		say(ld, true, "out of memory");
		free_db(&db);
		return;
	}
	if (replaced)
		free_db(slot);
	*slot = db;
}

static void parse_user(struct cfg_load *ld, const char *name, const char *value)
{
	struct user_conf u, *slot;
	bool replaced;

	init_user(&u);
	if (!apply_connstr(ld, value, user_keys, sizeof(user_keys) / sizeof(user_keys[0]), &u,
	                   "user", name))
		return;
	if ((u.name = strdup(name)) == NULL ||
	    (slot = put_named((void **)&ld->cfg->users, &ld->cfg->n_users, sizeof(u),
	                      offsetof(struct user_conf, name), name, &replaced)) == NULL) {
		say(ld, true, "out of memory");
		free(u.name);
		return;
	}
	if (replaced)
		free(slot->name);
	*slot = u;
}

static void parse_peer(struct cfg_load *ld, const char *name, const char *value)
{
	struct peer_conf p = {.port = 6432, .pool_size = -1}, *slot = NULL;
	int64_t id;
	size_t i;

	if (!ld->peers_warned)
		say(ld, false, "[peers] is not active yet in this version of Fairway (%s:%d)",
		    ld->file, ld->lineno);
	ld->peers_warned = true;
	if (!connstr_int(name, 1, 16383, &id)) {
		say(ld, true, "invalid peer_id \"%s\" in configuration (%s:%d)", name, ld->file,
		    ld->lineno);
		return;
	}
	p.peer_id = (int)id;
	if (!apply_connstr(ld, value, peer_keys, sizeof(peer_keys) / sizeof(peer_keys[0]), &p,
	                   "peer", name)) {
		free(p.host);
		return;
	}
	for (i = 0; i < ld->cfg->n_peers && slot == NULL; i++)
		if (ld->cfg->peers[i].peer_id == p.peer_id)
			slot = &ld->cfg->peers[i];
	if (slot != NULL) {
		free(slot->host);
	} else {
		slot = realloc(ld->cfg->peers, (ld->cfg->n_peers + 1) * sizeof(*slot));
		if (slot == NULL) {
			say(ld, true, "out of memory");
			free(p.host);
			return;
		}
		ld->cfg->peers = slot;
		slot += ld->cfg->n_peers++;
	}
	*slot = p;
}

static void parse_weight(struct cfg_load *ld, const char *name, const char *value)
{
	struct weight_conf *slot;
	int64_t w;
	bool replaced;
	char *copy;

	if (!connstr_int(value, 1, 1000000, &w)) {
		bad_value(ld, name, value);
		return;
	}
	if ((copy = strdup(name)) == NULL ||
	    (slot = put_named((void **)&ld->cfg->weights, &ld->cfg->n_weights, sizeof(*slot),
	                      offsetof(struct weight_conf, name), name, &replaced)) == NULL) {
		say(ld, true, "out of memory");
		free(copy);
		return;
	}
	if (replaced)
		free(slot->name);
	slot->name = copy;
	slot->weight = (int)w;
}

/* ---- the main section and the inih callbacks ---- */

static void set_main(struct cfg_load *ld, const char *name, const char *value)
{
	const struct cfg_key *k = find_key(name);

	if (k == NULL) {
		say(ld, false, "unknown parameter \"%s\" in configuration (%s:%d)", name, ld->file,
		    ld->lineno);
		return;
	}
	if (!set_key(k, ld->cfg, value)) {
		bad_value(ld, k->f.name, value);
		return;
	}
	ld->set_file[k - keys] = ld->file;
	ld->set_line[k - keys] = ld->lineno;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' || *s == '\v')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n' ||
	                 e[-1] == '\f' || e[-1] == '\v'))
		*--e = '\0';
	return s;
}

static void dispatch(struct cfg_load *ld, const char *name, const char *value);

/* inih's handler.  inih also splits at ':' (Python's "name: value") and, for
 * a line without '=', passes value NULL; PgBouncer knows only '=', so such
 * lines are re-split from the raw line here. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_load *ld = user;
	char *copy = NULL;

	(void)section; /* ld->sect, tracked by the reader, is not cut at 50 bytes */
	if (value == NULL || ld->line[strcspn(ld->line, "=:")] == ':') {
		char *eq;

		if ((copy = strdup(ld->line)) == NULL) {
			say(ld, true, "out of memory");
			return 1;
		}
		if ((eq = strchr(copy, '=')) == NULL) {
			say(ld, true, "syntax error in configuration (%s:%d), expected '='",
			    ld->file, ld->lineno);
			free(copy);
			return 1;
		}
		*eq = '\0';
		name = trim(copy);
		value = trim(eq + 1);
	}
	if (*name == '\0')
		say(ld, true, "syntax error in configuration (%s:%d), missing name before '='",
		    ld->file, ld->lineno);
	else
		dispatch(ld, name, value);
	free(copy);
	return 1;
}

/* Hands one name = value line to its section. */
static void dispatch(struct cfg_load *ld, const char *name, const char *value)
{
	switch (ld->sect) {
	case SEC_NONE:
		say(ld, false, "parameter %s outside of any section ignored (%s:%d)", name,
		    ld->file, ld->lineno);
		break;
	case SEC_MAIN:
		set_main(ld, name, value);
		break;
	case SEC_DATABASES:
		parse_db(ld, name, value);
		break;
	case SEC_USERS:
		parse_user(ld, name, value);
		break;
	case SEC_PEERS:
		parse_peer(ld, name, value);
		break;
	case SEC_WEIGHTS:
		parse_weight(ld, name, value);
		break;
	case SEC_OTHER:
		break; /* warned once at the section header */
	}
}

static bool push_file(struct cfg_load *ld, const char *path)
{
	char **names, *copy;
	struct stat st = {0};
	FILE *f;
	int e;

	if (ld->depth == MAX_INCLUDE_DEPTH) {
		say(ld, true,
		    "%%include nested more than %d deep (include loop?) in configuration (%s:%d)",
		    MAX_INCLUDE_DEPTH, ld->file, ld->lineno);
		return false;
	}
	if ((f = fopen(path, "r")) == NULL) {
		e = errno;
		if (ld->depth == 0)
			say(ld, true, "could not open configuration file %s: %s", path,
			    strerror(e));
		else
			say(ld, true, "could not open %%include file %s: %s (%s:%d)", path,
			    strerror(e), ld->file, ld->lineno);
		return false;
	}
	if (ld->depth > 0 && fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		/* /dev/zero would grow one line forever, a FIFO or /dev/stdin block */
		say(ld, true, "%%include file %s is not a regular file (%s:%d)", path, ld->file,
		    ld->lineno);
		fclose(f);
		return false;
	}
	if (fstat(fileno(f), &st) == 0) {
		for (int i = 0; i < ld->depth; i++) {
			if (ld->stack[i].dev == st.st_dev && ld->stack[i].ino == st.st_ino) {
				say(ld, true, "include loop: %s is already being read (%s:%d)",
				    path, ld->file, ld->lineno);
				fclose(f);
				return false;
			}
		}
	}
	names = realloc(ld->names, (ld->n_names + 1) * sizeof(*names));
	if (names != NULL)
		ld->names = names;
	if (names == NULL || (copy = strdup(path)) == NULL) {
		say(ld, true, "out of memory");
		fclose(f);
		return false;
	}
	ld->names[ld->n_names++] = copy;
	ld->stack[ld->depth++] = (struct src_file){f, copy, 0, st.st_dev, st.st_ino};
	return true;
}

static enum section section_of(const char *name)
{
	static const struct {
		const char *name;
		enum section sect;
	} sections[] = {
	    {"pgbouncer", SEC_MAIN}, {"fairway", SEC_MAIN}, {"databases", SEC_DATABASES},
	    {"users", SEC_USERS},    {"peers", SEC_PEERS},  {"weights", SEC_WEIGHTS},
	};

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcasecmp(name, sections[i].name) == 0)
			return sections[i].sect;
	return SEC_OTHER;
}

/* Looks at a fresh raw line before inih does: %include, section headers and
 * NUL bytes.  Returns false when the line must not reach inih. */
static bool inspect_line(struct cfg_load *ld)
{
	char *s = ld->line, *end;

	if (strlen(ld->line) != ld->line_len) {
		say(ld, true, "NUL byte in configuration (%s:%d)", ld->file, ld->lineno);
		return false;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "%include", 8) == 0 &&
	    (s[8] == ' ' || s[8] == '\t' || s[8] == '\r' || s[8] == '\n' || s[8] == '\0')) {
		char *path = trim(s + 8);
		size_t n = strlen(path);

		if (n >= 2 && path[0] == '"' && path[n - 1] == '"') {
			path[n - 1] = '\0';
			path++;
		}
		if (*path == '\0')
			say(ld, true, "%%include without a file name (%s:%d)", ld->file,
			    ld->lineno);
		else
			push_file(ld, path);
		return false;
	}
	if (*s == '[') {
		char name[64];
		size_t n;

		if ((end = strchr(s, ']')) == NULL) {
			say(ld, true, "syntax error in configuration (%s:%d), missing ']'",
			    ld->file, ld->lineno);
			return false;
		}
		n = (size_t)(end - s - 1);
		if (n >= sizeof(name))
			n = sizeof(name) - 1; /* long enough to tell known names apart */
		memcpy(name, s + 1, n);
		name[n] = '\0';
		ld->sect = section_of(trim(name));
		if (ld->sect == SEC_OTHER)
			say(ld, false, "unknown section [%s] ignored (%s:%d)", trim(name), ld->file,
			    ld->lineno);
	}
	return true;
}

/* Reads the next whole line of the innermost open file into ld->line. */
static bool next_line(struct cfg_load *ld)
{
	while (ld->depth > 0) {
		struct src_file *top = &ld->stack[ld->depth - 1];
		ssize_t n = getline(&ld->line, &ld->line_cap, top->f);

		if (n < 0) {
			if (ferror(top->f))
				say(ld, true, "error reading %s: %s", top->path, strerror(errno));
			fclose(top->f);
			ld->depth--;
			continue;
		}
		top->line++;
		ld->file = top->path;
		ld->lineno = top->line;
		ld->line_len = (size_t)n;
		if (top->line == 1 && n >= 3 && memcmp(ld->line, "\xEF\xBB\xBF", 3) == 0) {
			memmove(ld->line, ld->line + 3, (size_t)n - 2);
			ld->line_len -= 3;
		}
		/* Every line ends in '\n', so inih never joins a file's last line
		 * with the next one of the including file. */
		if (ld->line_len == 0 || ld->line[ld->line_len - 1] != '\n') {
			if (ld->line_len + 2 > ld->line_cap) {
				char *p = realloc(ld->line, ld->line_len + 2);

				if (p == NULL) {
					say(ld, true, "out of memory reading %s", top->path);
					return false;
				}
				ld->line = p;
				ld->line_cap = ld->line_len + 2;
			}
			ld->line[ld->line_len++] = '\n';
			ld->line[ld->line_len] = '\0';
		}
		if (!inspect_line(ld)) {
			ld->line[0] = '\n'; /* inih sees a blank line */
			ld->line[1] = '\0';
			ld->line_len = 1;
		}
		ld->line_pos = 0;
		return true;
	}
	return false;
}

/* inih's fgets-like reader.  A line longer than num arrives in pieces; inih
 * (ini_allow_realloc) grows its buffer and asks for the rest. */
static char *read_piece(char *str, int num, void *stream)
{
	struct cfg_load *ld = stream;
	size_t k;

	if (num <= 1)
		return NULL;
	if (ld->line == NULL || ld->line_pos >= ld->line_len)
		if (!next_line(ld))
			return NULL;
	k = ld->line_len - ld->line_pos;
	if (k > (size_t)num - 1)
		k = (size_t)num - 1;
	memcpy(str, ld->line + ld->line_pos, k);
	str[k] = '\0';
	ld->line_pos += k;
	return str;
}

/* inih's defaults are wrong for pgbouncer.ini (STYLE.md §Configuration). */
static void set_inih_knobs(void)
{
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = INT_MAX;
	ini_allow_inline_comments = false;
	ini_allow_multiline = false;
	ini_allow_no_value = true;
	ini_stop_on_first_error = false;
	ini_allow_bom = true;
}

/* ---- whole-file checks after parsing ---- */

static void warn_not_active(struct cfg_load *ld)
{
	char buf[64];

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];

		if (!(k->f.flags & CFG_NOT_ACTIVE) || ld->set_file[i] == NULL)
			continue;
		if (is_inert(k, fmt_key(k, ld->cfg, buf, sizeof(buf))))
			continue;
		say(ld, false, "%s is not active yet in this version of Fairway (%s:%d)", k->f.name,
		    ld->set_file[i], ld->set_line[i]);
	}
}

static void load_auth_file(struct cfg_load *ld)
{
	struct config *cfg = ld->cfg;
	bool needed;

	if (cfg->auth_file == NULL)
		return;
	needed = cfg->auth_type == AUTH_MD5 || cfg->auth_type == AUTH_SCRAM ||
	         cfg->auth_type == AUTH_PLAIN || cfg->auth_type == AUTH_TRUST ||
	         cfg->auth_type == AUTH_HBA;
	if (!authfile_load(cfg->auth_file, &cfg->auth, &cfg->n_auth, ld->report, ld->arg))
		say(ld, needed, "could not open auth_file %s: %s", cfg->auth_file,
		    errno == EINVAL ? "not a regular file" : strerror(errno));
}

/* auth_type = hba: the ident maps, then the rules (whose map= must name a
 * loaded map).  Problems are reported through report; false if any. */
static bool load_hba_files(struct config *cfg, config_report_fn report, void *arg)
{
	hba_unref(cfg->hba);
	ident_unref(cfg->ident);
	cfg->hba = NULL;
	cfg->ident = NULL;
	if (cfg->auth_type != AUTH_HBA)
		return true;
	if (cfg->auth_hba_file == NULL) {
		if (report != NULL)
			report(arg, true, "auth_type = hba needs auth_hba_file");
		return false;
	}
	if (cfg->auth_ident_file != NULL &&
	    (cfg->ident = ident_load(cfg->auth_ident_file, report, arg)) == NULL)
		return false;
	cfg->hba = hba_load(cfg->auth_hba_file, cfg->ident, report, arg);
	return cfg->hba != NULL;
}

static void end_load(struct cfg_load *ld)
{
	while (ld->depth > 0)
		fclose(ld->stack[--ld->depth].f);
	for (size_t i = 0; i < ld->n_names; i++)
		free(ld->names[i]);
	free(ld->names);
	free(ld->line);
}

static struct config *config_new(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (!set_key(&keys[i], cfg, keys[i].dflt ? keys[i].dflt : "")) {
			config_free(cfg);
			return NULL;
		}
	}
	return cfg;
}

struct config *config_load(const char *path, config_report_fn report, void *arg)
{
	struct cfg_load *ld = calloc(1, sizeof(*ld));
	struct config *cfg;
	int rc;

	if (ld == NULL || (ld->cfg = config_new()) == NULL) {
		if (report != NULL)
			report(arg, true, "out of memory while loading configuration");
		free(ld);
		return NULL;
	}
	ld->report = report;
	ld->arg = arg;
	ld->file = path;
	if (push_file(ld, path)) {
		set_inih_knobs();
		rc = ini_parse_stream(read_piece, ld, on_pair, ld);
		if (rc == -2)
			say(ld, true, "out of memory while reading %s", path);
		else if (rc != 0 && ld->n_errors == 0)
			say(ld, true, "syntax error in configuration %s (inih rc %d)", path, rc);
		warn_not_active(ld);
		if (ld->cfg->conffile == NULL && (ld->cfg->conffile = strdup(path)) == NULL)
			say(ld, true, "out of memory");
		if (ld->n_errors == 0)
			load_auth_file(ld);
		if (ld->n_errors == 0 && !load_hba_files(ld->cfg, ld->report, ld->arg))
			ld->n_errors++;
	}
	end_load(ld);
	cfg = ld->cfg;
	if (ld->n_errors > 0) {
		config_free(cfg);
		cfg = NULL;
	}
	free(ld);
	return cfg;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < N_KEYS; i++)
		if (is_string(&keys[i]))
			free(*(char **)field_of(cfg, keys[i].f.offset));
	for (size_t i = 0; i < cfg->n_dbs; i++)
		free_db(&cfg->dbs[i]);
	free(cfg->dbs);
	for (size_t i = 0; i < cfg->n_users; i++)
		free(cfg->users[i].name);
	free(cfg->users);
	for (size_t i = 0; i < cfg->n_peers; i++)
		free(cfg->peers[i].host);
	free(cfg->peers);
	for (size_t i = 0; i < cfg->n_weights; i++)
		free(cfg->weights[i].name);
	free(cfg->weights);
	authfile_free(cfg->auth, cfg->n_auth);
	hba_unref(cfg->hba);
	ident_unref(cfg->ident);
	free(cfg);
}

/* ---- lookups ---- */

const struct db_conf *config_find_db(const struct config *cfg, const char *name, bool use_fallback)
{
	const struct db_conf *fallback = NULL;

	for (size_t i = 0; i < cfg->n_dbs; i++) {
		if (strcmp(cfg->dbs[i].name, name) == 0)
			return &cfg->dbs[i];
		if (strcmp(cfg->dbs[i].name, "*") == 0)
			fallback = &cfg->dbs[i];
	}
	return use_fallback ? fallback : NULL;
}

const struct user_conf *config_find_user(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_users; i++)
		if (strcmp(cfg->users[i].name, name) == 0)
			return &cfg->users[i];
	return NULL;
}

const struct auth_entry *config_find_auth(const struct config *cfg, const char *user)
{
	return authfile_find(cfg->auth, cfg->n_auth, user);
}

int config_find_weight(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_weights; i++)
		if (strcmp(cfg->weights[i].name, name) == 0)
			return cfg->weights[i].weight;
	return 1;
}

bool config_list_has(const char *list, const char *name)
{
	const char *p = list;
	size_t nlen;

	if (list == NULL || name == NULL)
		return false;
	nlen = strlen(name);
	while (*p != '\0') {
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
			if (n - 2 == nlen && strncmp(p + 1, name, nlen) == 0)
				return true;
		} else if (n > 0 && n == nlen && strncmp(p, name, nlen) == 0) {
			return true;
		}
		p += n;
	}
	return false;
}

const char *config_pool_mode_name(enum pool_mode m)
{
	return m >= POOL_SESSION && m <= POOL_STATEMENT ? pool_modes[m] : "";
}

const char *config_auth_type_name(enum auth_type t)
{
	return (unsigned)t < sizeof(auth_types) / sizeof(auth_types[0]) - 1 ? auth_types[t] : "";
}

const char *config_fair_key_name(enum fair_key k)
{
	return (unsigned)k < sizeof(fair_keys) / sizeof(fair_keys[0]) - 1 ? fair_keys[k] : "";
}

/* ---- SHOW CONFIG, SET, RELOAD ---- */

void config_show(const struct config *cfg, config_row_fn row, void *arg)
{
	char vbuf[64], dbuf[64];

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];

		row(arg, k->f.name, fmt_key(k, cfg, vbuf, sizeof(vbuf)),
		    fmt_default(k, dbuf, sizeof(dbuf)), (k->f.flags & CFG_RELOAD) ? "yes" : "no");
	}
}

/* Copies n elements of elem bytes into a new array *dst, then gives each copy
 * its own strings at the offsets strs.  *dn counts the elements whose strings
 * are fully copied, so the free path sees only owned pointers. */
static bool dup_array(void **dst, size_t *dn, const void *src, size_t n, size_t elem,
                      const size_t *strs, size_t n_strs)
{
	char *arr;

	*dst = NULL;
	*dn = 0;
	if (n == 0)
		return true;
	if ((arr = calloc(n, elem)) == NULL)
		return false;
	*dst = arr;
	for (size_t i = 0; i < n; i++) {
		char *d = arr + i * elem;
		const char *s = (const char *)src + i * elem;

		memcpy(d, s, elem);
		for (size_t j = 0; j < n_strs; j++)
			*(char **)field_of(d, strs[j]) = NULL;
		for (size_t j = 0; j < n_strs; j++) {
			const char *str = *(char *const *)cfield_of(s, strs[j]);

			if (str != NULL && (*(char **)field_of(d, strs[j]) = strdup(str)) == NULL) {
				*dn = i + 1; /* the partly copied element is freed too */
				return false;
			}
		}
	}
	*dn = n;
	return true;
}

/* A deep copy.  Every owned pointer of the copy is cleared before any is
 * filled, so config_free() is safe on a copy that failed half way. */
static struct config *config_dup(const struct config *src)
{
	static const size_t user_strs[] = {offsetof(struct user_conf, name)};
	static const size_t peer_strs[] = {offsetof(struct peer_conf, host)};
	static const size_t weight_strs[] = {offsetof(struct weight_conf, name)};
	static const size_t auth_strs[] = {offsetof(struct auth_entry, user),
	                                   offsetof(struct auth_entry, secret)};
	struct config *c = malloc(sizeof(*c));
	bool ok = true;

	if (c == NULL)
		return NULL;
	*c = *src;
	hba_ref(c->hba); /* immutable: shared, not copied */
	ident_ref(c->ident);
	for (size_t i = 0; i < N_KEYS; i++)
		if (is_string(&keys[i]))
			*(char **)field_of(c, keys[i].f.offset) = NULL;
	c->dbs = NULL, c->users = NULL, c->peers = NULL, c->weights = NULL, c->auth = NULL;
	c->n_dbs = c->n_users = c->n_peers = c->n_weights = c->n_auth = 0;
	for (size_t i = 0; i < N_KEYS && ok; i++) {
		const char *str;

		if (!is_string(&keys[i]))
			continue;
		str = *(char *const *)cfield_of(src, keys[i].f.offset);
		if (str != NULL)
			ok = (*(char **)field_of(c, keys[i].f.offset) = strdup(str)) != NULL;
	}
	ok = ok &&
	     dup_array((void **)&c->dbs, &c->n_dbs, src->dbs, src->n_dbs, sizeof(*c->dbs),
	               db_strings, N_DB_STRINGS) &&
	     dup_array((void **)&c->users, &c->n_users, src->users, src->n_users, sizeof(*c->users),
	               user_strs, 1) &&
	     dup_array((void **)&c->peers, &c->n_peers, src->peers, src->n_peers, sizeof(*c->peers),
	               peer_strs, 1) &&
	     dup_array((void **)&c->weights, &c->n_weights, src->weights, src->n_weights,
	               sizeof(*c->weights), weight_strs, 1) &&
	     dup_array((void **)&c->auth, &c->n_auth, src->auth, src->n_auth, sizeof(*c->auth),
	               auth_strs, 2);
	if (!ok) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* A config_report_fn keeping the first error for SET's answer. */
struct err_buf {
	char *buf;
	size_t len;
	bool filled;
};

static void first_error(void *arg, bool is_error, const char *msg)
{
	struct err_buf *eb = arg;

	if (is_error && !eb->filled) {
		snprintf(eb->buf, eb->len, "%s", msg);
		eb->filled = true;
	}
}

struct config *config_with_set(const struct config *cfg, const char *key, const char *value,
                               char *err, size_t err_len)
{
	const struct cfg_key *k = find_key(key);
	struct config *c;

	if (k == NULL) {
		snprintf(err, err_len, "unknown parameter: %s", key);
		return NULL;
	}
	if (!(k->f.flags & CFG_RELOAD)) {
		snprintf(err, err_len, "parameter %s cannot be changed without a restart",
		         k->f.name);
		return NULL;
	}
	if ((c = config_dup(cfg)) == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	if (!set_key(k, c, value)) {
		snprintf(err, err_len, "invalid value \"%s\" for parameter %s", value, k->f.name);
		config_free(c);
		return NULL;
	}
	if ((strcmp(k->f.name, "auth_type") == 0 || strcmp(k->f.name, "auth_hba_file") == 0 ||
	     strcmp(k->f.name, "auth_ident_file") == 0) &&
	    !load_hba_files(c, first_error, &(struct err_buf){err, err_len, false})) {
		config_free(c);
		return NULL;
	}
	return c;
}

bool config_fixed_changed(const struct config *old_cfg, const struct config *new_cfg, char *names,
                          size_t names_len)
{
	char a[64], b[64];
	size_t used = 0;
	bool changed = false;

	if (names_len > 0)
		names[0] = '\0';
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &keys[i];

		if (k->f.flags & CFG_RELOAD)
			continue;
		if (strcmp(fmt_key(k, old_cfg, a, sizeof(a)), fmt_key(k, new_cfg, b, sizeof(b))) ==
		    0)
			continue;
		if (used < names_len) {
			int n = snprintf(names + used, names_len - used, "%s%s",
			                 changed ? ", " : "", k->f.name);

			used = n < 0 ? names_len : used + (size_t)n;
		}
		changed = true;
	}
	return changed;
}
