/* Configuration: every setting in one table (config.c), the [databases],
 * [users] and [peers] sections, the auth_file, loading with file:line errors,
 * and the rows of SHOW CONFIG.  A loaded struct config is immutable; RELOAD
 * builds a new one and the caller swaps it in. */
#ifndef FAIRWAY_CONFIG_H
#define FAIRWAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pool_mode { POOL_SESSION, POOL_TRANSACTION, POOL_STATEMENT, POOL_MODE_UNSET = -1 };

enum auth_type {
	AUTH_CERT,
	AUTH_MD5,
	AUTH_SCRAM,
	AUTH_PLAIN,
	AUTH_TRUST,
	AUTH_ANY,
	AUTH_HBA,
	AUTH_LDAP,
	AUTH_PAM,
};

/* Which client attribute groups waiting clients into flows (fair_key). */
enum fair_key { FAIR_APPLICATION_NAME, FAIR_CLIENT_ADDR, FAIR_USER, FAIR_NONE };

/* One [databases] entry.  Integer fields are -1 when not given (inherit the
 * global setting); strings are NULL when not given. */
struct db_conf {
	char *name;   /* the name clients connect to; "*" for the fallback entry */
	char *host;   /* NULL = Unix socket in the default dir; may be a comma list */
	int port;     /* default 5432 */
	char *dbname; /* NULL = same as name */
	char *user;   /* forced user: every client shares one pool */
	char *password;
	char *auth_user;
	char *auth_query;
	char *auth_dbname;
	int pool_size;
	int min_pool_size;
	int reserve_pool_size;
	int max_db_connections;
	int max_db_client_connections;
	int64_t server_lifetime_us;    /* -1 = unset */
	int64_t query_wait_timeout_us; /* -1 = unset */
	enum pool_mode pool_mode;      /* POOL_MODE_UNSET = global */
	char *connect_query;
	char *client_encoding;
	char *datestyle;
	char *timezone;
	char *application_name;
	char *load_balance_hosts; /* "round-robin" (default) or "disable" */
	char *connstr;            /* the raw connection string, for comparison on reload */
};

/* One [users] entry.  -1 / NULL / POOL_MODE_UNSET = not given. */
struct user_conf {
	char *name;
	int pool_size;
	int reserve_pool_size;
	enum pool_mode pool_mode;
	int max_user_connections;
	int max_user_client_connections;
	int64_t query_timeout_us;
	int64_t query_wait_timeout_us;
	int64_t idle_transaction_timeout_us;
	int64_t transaction_timeout_us;
	int64_t client_idle_timeout_us;
	int fair_weight; /* -1 = unset (Fairway extension, used by the fair scheduler) */
};

/* One [peers] entry (parsed and shown; peering itself is not active yet). */
struct peer_conf {
	int peer_id;
	char *host;
	int port;
	int pool_size;
};

/* One [weights] entry: a fair_key value and its share (Fairway extension). */
struct weight_conf {
	char *name;
	int weight; /* >= 1 */
};

/* One auth_file line: "user" "secret".  The secret is plain text, "md5" + 32
 * hex digits, or a SCRAM-SHA-256$... verifier. */
struct auth_entry {
	char *user;
	char *secret;
};

/* All settings.  Field names are PgBouncer's key names; durations are int64_t
 * microseconds with an _us suffix; strings are NULL when unset (an empty value
 * in the file also means unset); booleans are bool. */
struct config {
	char *conffile; /* the file given on the command line */
	char *logfile;
	char *pidfile;
	char *listen_addr;
	int listen_port;
	char *unix_socket_dir;
	int unix_socket_mode;
	char *unix_socket_group;
	char *user;
	enum pool_mode pool_mode;
	int max_client_conn;
	int default_pool_size;
	int min_pool_size;
	int reserve_pool_size;
	int64_t reserve_pool_timeout_us;
	int max_db_connections;
	int max_db_client_connections;
	int max_user_connections;
	int max_user_client_connections;
	bool server_round_robin;
	char *track_extra_parameters;
	char *ignore_startup_parameters;
	int peer_id;
	bool disable_pqexec;
	bool application_name_add_host;
	char *service_name;
	char *job_name;
	int64_t stats_period_us;
	int max_prepared_statements;
	int scram_iterations;
	enum auth_type auth_type;
	char *auth_hba_file;
	char *auth_ident_file;
	char *auth_file;
	char *auth_user;
	char *auth_query;
	char *auth_dbname;
	char *auth_ldap_options;
	bool syslog;
	char *syslog_ident;
	char *syslog_facility;
	bool log_connections;
	bool log_disconnections;
	bool log_pooler_errors;
	bool log_stats;
	int verbose;
	char *admin_users;
	char *stats_users;
	char *server_reset_query;
	bool server_reset_query_always;
	int64_t server_check_delay_us;
	char *server_check_query; /* default "<empty>" = send an empty query; NULL = no check */
	bool server_fast_close;
	int64_t server_lifetime_us;
	int64_t server_idle_timeout_us;
	int64_t server_connect_timeout_us;
	int64_t server_login_retry_us;
	int64_t client_login_timeout_us;
	int64_t autodb_idle_timeout_us;
	int64_t pool_idle_timeout_us;
	int64_t dns_max_ttl_us;
	int64_t dns_nxdomain_ttl_us;
	int64_t dns_zone_check_period_us;
	char *resolv_conf;
	int64_t query_wait_notify_us;
	char *login_notify_message;
	char *client_tls_sslmode;
	char *client_tls_key_file;
	char *client_tls_cert_file;
	char *client_tls_ca_file;
	char *client_tls_protocols;
	char *client_tls_ciphers;
	char *client_tls13_ciphers;
	char *client_tls_ecdhcurve;
	char *client_tls_dheparams;
	char *server_tls_sslmode;
	char *server_tls_ca_file;
	char *server_tls_key_file;
	char *server_tls_cert_file;
	char *server_tls_protocols;
	char *server_tls_ciphers;
	char *server_tls13_ciphers;
	int64_t query_timeout_us;
	int64_t query_wait_timeout_us;
	int64_t cancel_wait_timeout_us;
	int64_t client_idle_timeout_us;
	int64_t idle_transaction_timeout_us;
	int64_t transaction_timeout_us;
	int64_t suspend_timeout_us;
	int pkt_buf;
	int64_t max_packet_size;
	int listen_backlog;
	int sbuf_loopcnt;
	bool so_reuseport;
	bool tcp_defer_accept;
	int tcp_socket_buffer;
	bool tcp_keepalive;
	int tcp_keepcnt;
	int tcp_keepidle;
	int tcp_keepintvl;
	int tcp_user_timeout;
	/* Fairway's own settings (fair scheduling, metrics). */
	enum fair_key fair_key;       /* default FAIR_APPLICATION_NAME */
	int64_t fair_anticipation_us; /* longest a freed server is kept for a light flow */
	int max_waiting_clients;      /* per pool; 0 = unlimited */
	int max_waiting_per_flow;     /* 0 = unlimited */
	char *metrics_listen;         /* "addr:port" for Prometheus; NULL = off */

	struct db_conf *dbs; /* [databases], in file order; a later duplicate name replaces */
	size_t n_dbs;
	struct user_conf *users; /* [users] */
	size_t n_users;
	struct peer_conf *peers; /* [peers] */
	size_t n_peers;
	struct auth_entry *auth; /* auth_file contents, sorted by user for bsearch */
	size_t n_auth;
	struct weight_conf *weights; /* [weights], in file order; a later duplicate replaces */
	size_t n_weights;
	struct hba *hba;     /* auth_hba_file rules when auth_type = hba; shared (hba_ref) */
	struct ident *ident; /* auth_ident_file maps when auth_type = hba; shared (ident_ref) */
};

/* Errors and warnings found while loading are passed here one line each,
 * already formatted ("invalid value ... (file:line)"); is_error false = warning. */
typedef void (*config_report_fn)(void *arg, bool is_error, const char *msg);

/* Loads path (and its %includes and auth_file).  Returns NULL when anything is
 * wrong, after reporting every problem found.  Warnings (unknown keys, settings
 * whose feature is not active yet) are reported but do not fail. */
struct config *config_load(const char *path, config_report_fn report, void *arg);
void config_free(struct config *cfg);

/* Lookups; NULL when absent.  config_find_db falls back to "*" only if
 * use_fallback. */
const struct db_conf *config_find_db(const struct config *cfg, const char *name, bool use_fallback);
const struct user_conf *config_find_user(const struct config *cfg, const char *name);
const struct auth_entry *config_find_auth(const struct config *cfg, const char *user);

/* True if name is in a comma/space separated list such as admin_users. */
bool config_list_has(const char *list, const char *name);

/* SHOW CONFIG: calls row() for every key in table order (sorted by key):
 * key, current value as text, default as text, changeable ("yes"/"no"). */
typedef void (*config_row_fn)(void *arg, const char *key, const char *value, const char *dflt,
                              const char *changeable);
void config_show(const struct config *cfg, config_row_fn row, void *arg);

/* SET key = value from the console: a copy of cfg with one key changed.  NULL
 * and a message in err when the key is unknown, not changeable or the value bad. */
struct config *config_with_set(const struct config *cfg, const char *key, const char *value,
                               char *err, size_t err_len);

/* True if the settings that cannot change on reload differ; fills names. */
bool config_fixed_changed(const struct config *old_cfg, const struct config *new_cfg, char *names,
                          size_t names_len);

const char *config_pool_mode_name(enum pool_mode m);
const char *config_auth_type_name(enum auth_type t);
const char *config_fair_key_name(enum fair_key k);

/* The [weights] weight of a flow name, 1 when not listed. */
int config_find_weight(const struct config *cfg, const char *name);

#endif
