/* auth_user / auth_query / auth_dbname: the password of a user missing from
 * the auth_file is looked up on the server, by running auth_query as the
 * auth_user on a server connection of that user's pool, while the client
 * waits in CL_LOOKUP.  The pipeline builder and the row parser are pure. */
#ifndef FAIRWAY_AUTHQUERY_H
#define FAIRWAY_AUTHQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct client;
struct evbuffer;
struct pool;
struct server;

/* Longest secret auth_query may return (PgBouncer's limit for passwords). */
#define AUTHQUERY_SECRET_MAX 65535

/* Runs before auth_query in the same implicit transaction: names in
 * auth_query resolve in pg_catalog first and never in pg_temp or in a schema
 * the auth_user's role settings put on search_path (CVE-2025-12819). */
#define AUTHQUERY_SAFE_PATH_SQL                                                                    \
	"SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)"

/* Appends Parse/Bind/Execute for AUTHQUERY_SAFE_PATH_SQL, then for query with
 * $1 bound to user (never spliced into the text), then Sync.  false = out of
 * memory or a length beyond the protocol's. */
bool authquery_put_pipeline(struct evbuffer *out, const char *query, const char *user);

enum authquery_row {
	AUTHQUERY_ROW_SECRET,    /* *secret, *secret_len: the second column */
	AUTHQUERY_ROW_NO_SECRET, /* the second column is NULL or empty */
	AUTHQUERY_ROW_COLUMNS,   /* not exactly two columns */
	AUTHQUERY_ROW_TOO_LONG,  /* secret longer than AUTHQUERY_SECRET_MAX or holds a NUL */
	AUTHQUERY_ROW_MALFORMED, /* the DataRow does not parse */
};
/* Parses the body of a DataRow of auth_query: (user name, secret). */
enum authquery_row authquery_parse_row(const uint8_t *body, size_t len, const char **secret,
                                       size_t *secret_len);

/* True when c's secret must come from auth_query: a password method (type:
 * auth_type, or the method auth_type = hba picked), a database with
 * auth_user set (its own or the global one), the user not in the auth_file,
 * and no lookup done yet for this login. */
bool authquery_wanted(const struct client *c, enum auth_type type);
/* Starts the lookup: the client enters CL_LOOKUP and asks the auth
 * user's pool for a server like any client; auth_begin() runs again with
 * c->authq_secret once the answer is in (or the client is failed). */
void authquery_start(struct client *c);
/* pool_link() paired a client in CL_LOOKUP with c->server: send the query. */
void authquery_linked(struct client *c);
/* One whole message from a server running a lookup.  false = stop reading
 * this server in this turn (it was released or closed). */
bool authquery_server_msg(struct server *sv, uint8_t type, const uint8_t *body, size_t len);
/* The client leaves CL_LOOKUP without an answer (client_fail or
 * client_close): out of the queue; a server still running the query
 * finishes it unattended and returns to its pool.  Idempotent. */
void authquery_abort(struct client *c);
/* A server login or connect of pool failed: lookups queued on it fail with
 * that error (sqlstate NULL: could not connect). */
void authquery_pool_failed(struct pool *pool, const char *sqlstate, const char *msg);
/* At client_auth_done(): the looked-up secret (or the cleartext password the
 * client proved) becomes the server password of the user's own pool, unless
 * the database entry gives one.  Frees c->authq_secret. */
void authquery_set_pool_password(struct client *c, struct pool *pool);
/* Frees what a client holds for auth_query (client_free). */
void authquery_clear(struct client *c);

#endif
