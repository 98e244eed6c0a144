/* auth_user / auth_query / auth_dbname.  A client whose user is not in the
 * auth_file, on a database with an auth_user, waits in CL_LOOKUP while
 * its secret is looked up: it joins the wait queue of the auth_user's pool
 * (in auth_dbname, else its own database) like any client; the server it is
 * given runs auth_query with the user name bound as $1, after pinning
 * search_path to pg_catalog for that one transaction, and goes back to its
 * pool after the ReadyForQuery.  The answer (md5, SCRAM or plain secret; no
 * row or NULL = no secret, answered like a wrong password) feeds auth.c.
 * Nothing is cached: every login looks the user up again, so a changed or
 * expired password takes effect at once. */
#include "authquery.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client.h"
#include "config.h"
#include "fairway.h"
#include "io.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "server.h"
#include "sqlstate.h"

/* The lookup in progress: owned by its client while CL_LOOKUP. */
struct authq {
	int n_done;       /* CommandComplete / EmptyQueryResponse seen: 1 = auth_query's turn */
	bool has_row;     /* the first row of auth_query was read */
	char sqlstate[6]; /* with err: the first error, the server's or ours */
	char err[256];    /* "" = none */
};

/* --- pure: the pipeline and the row --------------------------------------- */

static bool put_u16(struct evbuffer *out, uint16_t v)
{
	v = htons(v);
	return evbuffer_add(out, &v, sizeof(v)) == 0;
}

static bool put_u32(struct evbuffer *out, uint32_t v)
{
	v = htonl(v);
	return evbuffer_add(out, &v, sizeof(v)) == 0;
}

static bool put_hdr(struct evbuffer *out, uint8_t type, size_t body_len)
{
	if (body_len > INT32_MAX - 4)
		return false;
	return evbuffer_add(out, &type, 1) == 0 && put_u32(out, (uint32_t)(body_len + 4));
}

/* Parse of the unnamed statement; parameter types left to the server. */
static bool put_parse(struct evbuffer *out, const char *sql, uint16_t n_params)
{
	size_t len = strlen(sql) + 1;
	bool ok = put_hdr(out, 'P', 1 + len + 2 + 4 * (size_t)n_params) &&
	          evbuffer_add(out, "", 1) == 0 && evbuffer_add(out, sql, len) == 0 &&
	          put_u16(out, n_params);

	for (uint16_t i = 0; ok && i < n_params; i++)
		ok = put_u32(out, 0);
	return ok;
}

/* Bind of the unnamed portal: text parameters (at most one), text results. */
static bool put_bind(struct evbuffer *out, const char *param)
{
	size_t plen = param != NULL ? strlen(param) : 0;
	size_t body = 1 + 1 + 2 + 2 + (param != NULL ? 4 + plen : 0) + 2;

	if (plen > INT32_MAX)
		return false;
	return put_hdr(out, 'B', body) && evbuffer_add(out, "\0", 2) == 0 && put_u16(out, 0) &&
	       put_u16(out, param != NULL ? 1 : 0) &&
	       (param == NULL ||
	        (put_u32(out, (uint32_t)plen) && evbuffer_add(out, param, plen) == 0)) &&
	       put_u16(out, 0);
}

static bool put_execute(struct evbuffer *out)
{
	return put_hdr(out, 'E', 5) && evbuffer_add(out, "", 1) == 0 && put_u32(out, 0);
}

bool authquery_put_pipeline(struct evbuffer *out, const char *query, const char *user)
{
	/* Until Sync every statement runs in one implicit transaction, so the
	 * set_config(..., true) holds for auth_query and ends with it. */
	return put_parse(out, AUTHQUERY_SAFE_PATH_SQL, 0) && put_bind(out, NULL) &&
	       put_execute(out) && put_parse(out, query, 1) && put_bind(out, user) &&
	       put_execute(out) && put_hdr(out, 'S', 0);
}

enum authquery_row authquery_parse_row(const uint8_t *body, size_t len, const char **secret,
                                       size_t *secret_len)
{
	struct pkt_reader r;
	uint16_t n_cols;
	uint32_t col_len;
	const uint8_t *val;

	pkt_reader_init(&r, body, len);
	n_cols = pkt_get_u16(&r);
	if (r.failed)
		return AUTHQUERY_ROW_MALFORMED;
	if (n_cols != 2)
		return AUTHQUERY_ROW_COLUMNS;
	col_len = pkt_get_u32(&r); /* the user name: not needed */
	if (r.failed)
		return AUTHQUERY_ROW_MALFORMED;
	if (col_len != UINT32_MAX && pkt_get_bytes(&r, col_len) == NULL)
		return AUTHQUERY_ROW_MALFORMED;
	col_len = pkt_get_u32(&r);
	if (r.failed)
		return AUTHQUERY_ROW_MALFORMED;
	if (col_len == UINT32_MAX) /* -1: NULL */
		return pkt_remaining(&r) == 0 ? AUTHQUERY_ROW_NO_SECRET : AUTHQUERY_ROW_MALFORMED;
	if ((val = pkt_get_bytes(&r, col_len)) == NULL || pkt_remaining(&r) != 0)
		return AUTHQUERY_ROW_MALFORMED;
	if (col_len == 0)
		return AUTHQUERY_ROW_NO_SECRET;
	if (col_len > AUTHQUERY_SECRET_MAX || memchr(val, '\0', col_len) != NULL)
		return AUTHQUERY_ROW_TOO_LONG;
	*secret = (const char *)val;
	*secret_len = col_len;
	return AUTHQUERY_ROW_SECRET;
}

/* --- the lookup ----------------------------------------------------------- */

static const char *auth_user_of(const struct database *db)
{
	return db->conf->auth_user != NULL ? db->conf->auth_user : db->fw->cfg->auth_user;
}

static const char *auth_query_of(const struct database *db)
{
	return db->conf->auth_query != NULL ? db->conf->auth_query : db->fw->cfg->auth_query;
}

static const char *auth_dbname_of(const struct database *db)
{
	return db->conf->auth_dbname != NULL ? db->conf->auth_dbname : db->fw->cfg->auth_dbname;
}

static void forget_secret(struct client *c)
{
	if (c->login != NULL && c->login->authq_secret != NULL) {
		OPENSSL_cleanse(c->login->authq_secret, strlen(c->login->authq_secret));
		free(c->login->authq_secret);
		c->login->authq_secret = NULL;
	}
}

bool authquery_wanted(const struct client *c, enum auth_type type)
{
	const struct config *cfg = c->fw->cfg;

	if (c->is_console || c->db == NULL || c->login->authq_done)
		return false;
	switch (type) {
	case AUTH_MD5:
	case AUTH_SCRAM:
	case AUTH_PLAIN:
		break;
	case AUTH_CERT:
	case AUTH_TRUST:
	case AUTH_ANY:
	case AUTH_HBA:
	case AUTH_LDAP:
	case AUTH_PAM:
		return false;
	}
	return config_find_auth(cfg, c->user) == NULL && auth_user_of(c->db) != NULL &&
	       auth_query_of(c->db) != NULL;
}

/* Leaves the auth pool: its counters, c->pool, the lookup state. */
static void leave_pool(struct client *c)
{
	pool_count_client(c->pool, c->state, -1);
	c->pool = NULL;
	free(c->login->authq);
	c->login->authq = NULL;
}

static void note_error(struct authq *aq, const char *sqlstate, const char *msg)
{
	if (aq->err[0] != '\0')
		return; /* the first error says why */
	snprintf(aq->sqlstate, sizeof(aq->sqlstate), "%s",
	         sqlstate != NULL && strlen(sqlstate) == 5 ? sqlstate
	                                                   : SQLSTATE_PROTOCOL_VIOLATION);
	snprintf(aq->err, sizeof(aq->err), "auth_query failed: %s", msg);
}

void authquery_start(struct client *c)
{
	struct fairway *fw = c->fw;
	const char *dbname = auth_dbname_of(c->db);
	struct database *adb = c->db;
	struct pool *pool;

	c->login->authq_done = true;
	if (dbname != NULL) {
		if (strcmp(dbname, "pgbouncer") == 0 || strcmp(dbname, "fairway") == 0) {
			client_fail(c, SQLSTATE_INVALID_CATALOG_NAME,
			            "cannot use the reserved \"%s\" database as an auth_dbname",
			            dbname);
			return;
		}
		adb = db_lookup(fw, dbname, true);
		if (adb == NULL) {
			client_fail(c, SQLSTATE_INVALID_CATALOG_NAME,
			            "auth_dbname \"%s\" is not in [databases]", dbname);
			return;
		}
	}
	pool = pool_get_for_user(adb, auth_user_of(c->db));
	c->login->authq = calloc(1, sizeof(*c->login->authq));
	if (pool == NULL || c->login->authq == NULL) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	client_log(LOG_LVL_DEBUG, c, "looking up the password with auth_query as %s in %s",
	           pool->user, adb->name);
	client_set_state(c, CL_LOOKUP); /* not counted yet: c->pool is NULL */
	c->pool = pool;
	pool_count_client(pool, CL_LOOKUP, +1);
	pool_request(c); /* links at once (authquery_linked), queues, or fails c */
	if (c->state == CL_LOOKUP && c->server == NULL && pool->n_servers == 0 &&
	    pool->last_login_fail_us != 0 &&
	    fw->now_us - pool->last_login_fail_us < (uint64_t)fw->cfg->server_login_retry_us) {
		/* No server will be tried before server_login_retry: say so now. */
		client_fail(c, SQLSTATE_CONNECTION_FAILURE,
		            "auth_query failed: server login has been failing, try again later "
		            "(server_login_retry)");
	}
}

void authquery_linked(struct client *c)
{
	struct server *sv = c->server;

	server_set_state(sv, SV_ACTIVE);
	sv->link_us = c->fw->now_us;
	c->linked_us = c->fw->now_us; /* the hold time the scheduler charges */
	if (!authquery_put_pipeline(io_output(sv->io), auth_query_of(c->db), c->user)) {
		pool_unlink(c, false); /* half a pipeline: the server closes */
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
	}
}

/* ReadyForQuery: the server goes back to its pool, the client goes on. */
static void finish(struct server *sv, struct client *c, char status)
{
	struct authq *aq = c->login->authq;
	char sqlstate[6], err[sizeof(aq->err)];

	memcpy(sqlstate, aq->sqlstate, sizeof(sqlstate));
	memcpy(err, aq->err, sizeof(err));
	sv->xact_status = status;
	pool_unlink(c, server_is_clean(sv));
	leave_pool(c);
	if (err[0] != '\0') {
		forget_secret(c);
		client_fail(c, sqlstate, "%s", err);
		return;
	}
	if (c->login->authq_secret == NULL)
		client_log(LOG_LVL_DEBUG, c, "auth_query returned no password");
	auth_begin(c); /* with the secret found, or none: answered like a wrong password */
}

/* The first row of auth_query gives the secret; later rows are ignored. */
static bool take_row(struct server *sv, struct client *c, const uint8_t *body, size_t len)
{
	struct authq *aq = c->login->authq;
	const char *secret;
	size_t secret_len;

	if (aq->n_done != 1 || aq->has_row)
		return true; /* set_config's row, or a row after the first */
	aq->has_row = true;
	switch (authquery_parse_row(body, len, &secret, &secret_len)) {
	case AUTHQUERY_ROW_SECRET:
		c->login->authq_secret = malloc(secret_len + 1);
		if (c->login->authq_secret == NULL) {
			note_error(aq, SQLSTATE_INTERNAL_ERROR, "out of memory");
			return true;
		}
		memcpy(c->login->authq_secret, secret, secret_len);
		c->login->authq_secret[secret_len] = '\0';
		return true;
	case AUTHQUERY_ROW_NO_SECRET:
		return true;
	case AUTHQUERY_ROW_COLUMNS:
		note_error(aq, SQLSTATE_PROTOCOL_VIOLATION,
		           "it must return two columns (user name, password)");
		return true;
	case AUTHQUERY_ROW_TOO_LONG:
		note_error(aq, SQLSTATE_PROTOCOL_VIOLATION, "the password it returned is too long");
		return true;
	case AUTHQUERY_ROW_MALFORMED:
		break;
	}
	server_close(sv, "malformed DataRow from server");
	return false;
}

bool authquery_server_msg(struct server *sv, uint8_t type, const uint8_t *body, size_t len)
{
	struct client *c = sv->client;
	struct pg_error_fields ef;
	struct pkt_reader r;
	const char *name, *value;
	int slot;

	switch (type) {
	case '1': /* ParseComplete */
	case '2': /* BindComplete */
	case 'N': /* NoticeResponse */
	case 'A': /* NotificationResponse */
		return true;
	case 'S': /* ParameterStatus: keep the server's tracked values right */
		pkt_reader_init(&r, body, len);
		name = pkt_get_str(&r);
		value = pkt_get_str(&r);
		if (name == NULL || value == NULL) {
			server_close(sv, "bad ParameterStatus from server");
			return false;
		}
		slot = params_slot(&sv->fw->tracked, name);
		if (slot >= 0 && !params_set(&sv->params, slot, value)) {
			server_close(sv, "out of memory");
			return false;
		}
		return true;
	case 'D':
		return take_row(sv, c, body, len);
	case 'C': /* CommandComplete */
	case 'I': /* EmptyQueryResponse */
		c->login->authq->n_done++;
		return true;
	case 'E':
		if (proto_parse_error(body, len, &ef) != PROTO_OK || ef.message == NULL)
			ef.message = "unknown error";
		server_log(LOG_LVL_WARNING, sv, "auth_query failed: %s", ef.message);
		note_error(c->login->authq, ef.sqlstate, ef.message);
		return true;
	case 'Z':
		finish(sv, c, len > 0 ? (char)body[0] : 'I');
		return false;
	default:
		break;
	}
	server_close(sv, "unexpected message from server during auth_query");
	return false;
}

void authquery_abort(struct client *c)
{
	struct server *sv = c->server;

	if (c->login->authq == NULL)
		return;
	if (c->wait.is_waiting)
		sched_remove(&c->pool->waitq, &c->wait, false);
	if (sv != NULL) {
		/* The query is in flight: its answer is swallowed as one of
		 * Fairway's own, then the server is idle again. */
		pool_drop_link(c);
		sv->internal_rfq++;
		server_set_state(sv, SV_RESETTING);
	}
	leave_pool(c);
	forget_secret(c);
}

void authquery_pool_failed(struct pool *pool, const char *sqlstate, const char *msg)
{
	struct list_head *pos, *next;

	list_for_each_safe(pos, next, &pool->waitq.all_waiters)
	{
		struct sched_entry *e = list_entry(pos, struct sched_entry, all);
		struct client *c = container_of(e, struct client, wait);

		if (c->state != CL_LOOKUP)
			continue;
		if (sqlstate != NULL)
			client_fail(c, sqlstate, "auth_query failed: %s", msg);
		else
			client_fail(c, SQLSTATE_CONNECTION_FAILURE,
			            "auth_query failed: cannot connect to the server");
	}
}

void authquery_set_pool_password(struct client *c, struct pool *pool)
{
	const char *pw = c->login->cleartext_password != NULL ? c->login->cleartext_password
	                                                      : c->login->authq_secret;

	if (c->login->authq_secret == NULL)
		return;
	if (pool->db->conf->password == NULL && strcmp(pool->user, c->user) == 0) {
		pool->has_dynamic_password = true;
		if (pool->password == NULL || strcmp(pool->password, pw) != 0) {
			char *copy = strdup(pw);

			if (copy != NULL) { /* out of memory: keep the old one */
				if (pool->password != NULL) {
					OPENSSL_cleanse(pool->password, strlen(pool->password));
					free(pool->password);
				}
				pool->password = copy;
			}
		}
	}
	forget_secret(c);
}

void authquery_clear(struct client *c)
{
	if (c->login == NULL)
		return;
	forget_secret(c);
	free(c->login->authq);
	c->login->authq = NULL;
}
