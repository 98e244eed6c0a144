/* The server state machine: connect, log in (trust, cleartext, md5,
 * SCRAM-SHA-256), learn parameters, then forward the server's messages to
 * the linked client and decide at each ReadyForQuery whether the transaction
 * is over.  Every way a server ends goes through server_close(). */
#include "server.h"

#include "io.h"
#include <arpa/inet.h>
#include <assert.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "authquery.h"
#include "client.h"
#include "fairway.h"
#include "hba.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "ps_forward.h"
#include "scram.h"
#include "sqlstate.h"
#include "tls.h"
#include "util.h"

#define BACKLOG_HIGH_BYTES (512 * 1024)
#define BACKLOG_LOW_BYTES  (64 * 1024)
/* Largest message the pooler reads whole (ErrorResponse, ParameterStatus...). */
#define SERVER_SMALL_MSG_MAX (1024 * 1024)

static const char *const server_state_names[] = {
    [SV_CONNECTING] = "connecting", [SV_LOGIN] = "login",     [SV_IDLE] = "idle",
    [SV_ACTIVE] = "active",         [SV_RESETTING] = "reset", [SV_CLOSED] = "closed",
};
_Static_assert(sizeof(server_state_names) / sizeof(server_state_names[0]) == SV_STATE_COUNT,
               "every server state needs a name");

#define TO(s) (1u << (s))
static const unsigned server_may_enter[SV_STATE_COUNT] = {
    [SV_CONNECTING] = TO(SV_LOGIN) | TO(SV_CLOSED),
    [SV_LOGIN] = TO(SV_IDLE) | TO(SV_ACTIVE) | TO(SV_RESETTING) | TO(SV_CLOSED),
    [SV_IDLE] = TO(SV_ACTIVE) | TO(SV_RESETTING) | TO(SV_CLOSED),
    [SV_ACTIVE] = TO(SV_ACTIVE) | TO(SV_IDLE) | TO(SV_RESETTING) | TO(SV_CLOSED),
    [SV_RESETTING] = TO(SV_IDLE) | TO(SV_ACTIVE) | TO(SV_CLOSED),
    [SV_CLOSED] = 0,
};

/* Parameters collected during login, for the pool's welcome message. */
struct login_params {
	struct welcome_param *p;
	size_t n;
};

const char *server_state_name(enum server_state s)
{
	return server_state_names[s];
}

void server_set_state(struct server *sv, enum server_state next)
{
	assert(server_may_enter[sv->state] & TO(next));
	if (sv->state == SV_IDLE) {
		list_del(&sv->idle_link);
		if (sv->pool->kept == sv)
			pool_end_keep(sv->pool, false);
	}
	pool_count_server(sv->pool, sv->state, -1);
	pool_count_server(sv->pool, next, +1);
	sv->state = next;
	if (next == SV_IDLE)
		list_add(&sv->pool->idle_servers, &sv->idle_link);
	pool_note_busy(sv->pool);
}

void server_log(int level, const struct server *sv, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log_enabled((enum log_level)level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg((enum log_level)level, "S-%" PRIu64 ": %s/%s@%s:%d %s", sv->id, sv->pool->db->name,
	        sv->pool->user, sv->host, sv->port, msg);
}

static void server_read_cb(struct io *io, void *arg);
static void server_write_cb(struct io *io, void *arg);
static void server_event_cb(struct io *io, int what, void *arg);

/* Picks the host for a new connection (comma lists rotate). */
static void pick_host(struct pool *pool, char *buf, size_t n)
{
	const char *hosts = pool->db->conf->host;
	const char *p;
	unsigned count = 1, idx;

	if (hosts == NULL || hosts[0] == '\0') {
		util_strlcpy(
		    buf, pool->fw->cfg->unix_socket_dir ? pool->fw->cfg->unix_socket_dir : "/tmp",
		    n);
		return;
	}
	for (p = hosts; *p; p++)
		if (*p == ',')
			count++;
	idx = pool->db->host_rr++ % count;
	for (p = hosts; idx > 0; p++)
		if (*p == ',')
			idx--;
	size_t len = strcspn(p, ",");
	while (len > 0 && (*p == ' ')) {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] == ' ')
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
}

bool server_launch(struct pool *pool)
{
	struct fairway *fw = pool->fw;
	struct server *sv = calloc(1, sizeof(*sv));
	int port = pool->db->conf->port > 0 ? pool->db->conf->port : 5432;
	int rc;

	if (sv == NULL)
		return false;
	sv->fw = fw;
	sv->id = ++fw->next_id;
	sv->pool = pool;
	sv->state = SV_CONNECTING;
	sv->port = port;
	sv->xact_status = 'I';
	sv->connect_us = fw->now_us;
	sv->connect_wall_us = util_wall_us();
	list_init(&sv->idle_link);
	pick_host(pool, sv->host, sizeof(sv->host));
	sv->io = io_new(fw, -1);
	if (sv->io == NULL) {
		free(sv);
		return false;
	}
	list_add_tail(&pool->servers, &sv->link);
	pool->n_servers++;
	pool->db->n_servers++;
	pool->puser->n_servers++;
	pool_count_server(pool, SV_CONNECTING, +1);
	pool->last_connect_start_us = fw->now_us;
	io_setcb(sv->io, server_read_cb, server_write_cb, server_event_cb, sv);
	io_set_low_mark(sv->io, BACKLOG_LOW_BYTES);
	io_set_max_read(sv->io, 65536);
	if (sv->host[0] == '/') {
		struct sockaddr_un *un = (struct sockaddr_un *)&sv->addr;

		un->sun_family = AF_UNIX;
		if ((size_t)snprintf(un->sun_path, sizeof(un->sun_path), "%.90s/.s.PGSQL.%d",
		                     sv->host, port) >= sizeof(un->sun_path)) {
			server_close(sv, "socket path too long");
			return false;
		}
		sv->addrlen = sizeof(*un);
		rc = io_connect(sv->io, (struct sockaddr *)&sv->addr, (socklen_t)sv->addrlen) ? 0
		                                                                              : -1;
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&sv->addr;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sv->addr;

		if (inet_pton(AF_INET, sv->host, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)port);
			sv->addrlen = sizeof(*in4);
		} else if (inet_pton(AF_INET6, sv->host, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			sv->addrlen = sizeof(*in6);
		}
		if (sv->addrlen > 0)
			rc =
			    io_connect(sv->io, (struct sockaddr *)&sv->addr, (socklen_t)sv->addrlen)
			        ? 0
			        : -1;
		else
			rc = io_connect_hostname(sv->io, fw->dns, sv->host, port) ? 0 : -1;
	}
	if (rc != 0) {
		server_log(LOG_LVL_WARNING, sv, "connect failed");
		pool_login_failed(pool, NULL, NULL);
		server_close(sv, "connect failed");
		return false;
	}
	return true;
}

void server_close(struct server *sv, const char *reason)
{
	struct fairway *fw = sv->fw;
	struct pool *pool = sv->pool;
	struct client *c = sv->client;

	if (sv->state == SV_CLOSED)
		return;
	if (fw->cfg->log_disconnections)
		server_log(LOG_LVL_INFO, sv, "closing because: %s (age=%" PRIu64 "s)", reason,
		           (fw->now_us - sv->connect_us) / USEC);
	if (c != NULL) {
		/* The client loses its server mid-transaction: tell it, then close it. */
		pool_drop_link(c);
		client_fail(c, SQLSTATE_CONNECTION_FAILURE, "server conn crashed?");
	}
	if (sv->scram != NULL) {
		scram_client_clear(sv->scram);
		free(sv->scram);
		sv->scram = NULL;
	}
	if (sv->io != NULL) {
		io_free(sv->io);
		sv->io = NULL;
	}
	pool->n_servers--;
	pool->db->n_servers--;
	pool->puser->n_servers--;
	server_set_state(sv, SV_CLOSED);
	list_del(&sv->link);
	list_add_tail(&fw->graveyard_servers, &sv->link);
	fw_schedule_reap(fw);
}

void server_free(struct server *sv)
{
	list_del(&sv->link);
	ps_server_free(sv);
	params_clear(&sv->params);
	free(sv);
}

bool server_send_internal(struct server *sv, const char *sql)
{
	if (!proto_put_query(io_output(sv->io), sql))
		return false;
	sv->internal_rfq++;
	return true;
}

bool server_is_clean(const struct server *sv)
{
	return sv->expect_rfq <= 0 && !sv->ext_open && sv->xact_status == 'I' &&
	       sv->pkt_remain == 0 && !sv->in_copy && sv->internal_rfq == 0;
}

void server_client_gone(struct server *sv, bool clean)
{
	const struct config *cfg = sv->fw->cfg;
	struct pool *pool = sv->pool;

	sv->expect_rfq = 0;
	sv->query_start_us = 0;
	if (pool->replication != HBA_REPL_NONE) {
		/* A replication connection is never reused. */
		server_close(sv, "replication client left");
		pool_maybe_launch(pool);
		return;
	}
	if (!clean) {
		server_close(sv, "client disconnect while server was not ready");
		pool_maybe_launch(pool);
		return;
	}
	if ((pool_mode_of(pool) == POOL_SESSION || cfg->server_reset_query_always) &&
	    cfg->server_reset_query != NULL && cfg->server_reset_query[0] != '\0') {
		server_set_state(sv, SV_RESETTING);
		if (!server_send_internal(sv, cfg->server_reset_query))
			server_close(sv, "out of memory");
		return;
	}
	pool_server_idle(sv);
}

/* --- login ---------------------------------------------------------------- */

static void send_startup(struct server *sv)
{
	const struct db_conf *dc = sv->pool->db->conf;
	const char *names[8], *values[8];
	size_t n = 0;

	names[n] = "user";
	values[n++] = sv->pool->user;
	names[n] = "database";
	values[n++] = dc->dbname ? dc->dbname : sv->pool->db->name;
	if (dc->client_encoding) {
		names[n] = "client_encoding";
		values[n++] = dc->client_encoding;
	}
	if (dc->datestyle) {
		names[n] = "datestyle";
		values[n++] = dc->datestyle;
	}
	if (dc->timezone) {
		names[n] = "timezone";
		values[n++] = dc->timezone;
	}
	if (dc->application_name) {
		names[n] = "application_name";
		values[n++] = dc->application_name;
	}
	if (sv->pool->replication != HBA_REPL_NONE) {
		/* A physical walsender takes no SET: the client it is opened for
		 * (the oldest waiting, or the one waiting for the pool's first
		 * login) names it here, for synchronous_standby_names. */
		struct sched_entry *e = sched_oldest(&sv->pool->waitq);
		const struct client *c =
		    e != NULL ? container_of(e, struct client, wait)
		    : list_empty(&sv->pool->login_waiters)
		        ? NULL
		        : list_first(&sv->pool->login_waiters, struct client_login, link)->client;

		if (dc->application_name == NULL && c != NULL &&
		    params_get(&c->params, PARAM_SLOT_APPLICATION_NAME) != NULL) {
			names[n] = "application_name";
			values[n++] = params_get(&c->params, PARAM_SLOT_APPLICATION_NAME);
		}
		names[n] = "replication";
		values[n++] = sv->pool->replication == HBA_REPL_LOGICAL ? "database" : "true";
	}
	if (!proto_put_startup(io_output(sv->io), names, values, n))
		server_close(sv, "out of memory");
}

/* The SCRAM client-final-message: from the plain password, or from the
 * ClientKey a client proved and the ServerKey of the same stored secret. */
static bool scram_answer(struct server *sv, const char *pw, const uint8_t *data, size_t dlen,
                         char *buf, size_t len, char *err, size_t err_len)
{
	struct scram_secret sec;
	bool ok;

	if (strncmp(pw, "SCRAM-SHA-256$", 14) != 0)
		return scram_client_final(sv->scram, pw, (const char *)data, dlen, buf, len, err,
		                          err_len);
	if (!sv->pool->has_scram_key || !scram_parse_secret(pw, &sec))
		return false;
	ok = scram_client_final_with_keys(sv->scram, sv->pool->scram_client_key, sec.server_key,
	                                  (const char *)data, dlen, buf, len, err, err_len);
	OPENSSL_cleanse(&sec, sizeof(sec));
	return ok;
}

/* SCRAM-SHA-256-PLUS towards the server: over TLS, when the server lists it
 * and its certificate's tls-server-end-point hash can be computed (else plain
 * SCRAM-SHA-256 with "n,,", which PostgreSQL accepts over TLS too). */
static bool server_cbind_wanted(const struct server *sv, const uint8_t *mechs, size_t len)
{
	unsigned char hash[TLS_CERT_HASH_MAX];
	size_t hash_len;
	bool bad_list;

	return io_is_tls(sv->io) &&
	       proto_sasl_has_mech(mechs, len, "SCRAM-SHA-256-PLUS", &bad_list) &&
	       io_tls_cert_hash(sv->io, false, hash, &hash_len);
}

static bool server_cbind_set(struct server *sv)
{
	unsigned char hash[TLS_CERT_HASH_MAX];
	size_t hash_len;

	if (!io_tls_cert_hash(sv->io, false, hash, &hash_len) ||
	    !scram_client_set_cbind(sv->scram, hash, hash_len))
		return false;
	server_log(LOG_LVL_DEBUG, sv, "logging in with SCRAM-SHA-256-PLUS (%zu-byte binding)",
	           hash_len);
	return true;
}

/* Answers an authentication request; false after closing the server. */
static bool login_auth(struct server *sv, const uint8_t *body, size_t len)
{
	struct evbuffer *out = io_output(sv->io);
	const char *pw = sv->pool->password;
	const uint8_t *data;
	size_t dlen;
	uint32_t code;
	char buf[1024], err[128];
	bool bad_list;

	if (proto_parse_auth(body, len, &code, &data, &dlen) != PROTO_OK) {
		server_close(sv, "malformed authentication request from server");
		return false;
	}
	switch (code) {
	case 0: /* AuthenticationOk */
		if (dlen == 0)
			return true;
		server_log(LOG_LVL_WARNING, sv, "malformed AuthenticationOk from server");
		break;
	case 3: /* cleartext */
		if (pw == NULL || pg_is_md5_secret(pw) || strncmp(pw, "SCRAM-SHA-256$", 14) == 0) {
			server_log(LOG_LVL_WARNING, sv,
			           "server asked for a cleartext password but none is known");
			break;
		}
		if (!proto_put_password(out, pw))
			break;
		return true;
	case 5: { /* md5 */
		const uint8_t *salt = dlen == 4 ? data : NULL;
		char user_hash[36], answer[36];

		if (salt == NULL || pw == NULL || strncmp(pw, "SCRAM-SHA-256$", 14) == 0) {
			server_log(LOG_LVL_WARNING, sv,
			           "server asked for an md5 password but none is known");
			break;
		}
		if (pg_is_md5_secret(pw))
			memcpy(user_hash, pw, 36);
		else
			pg_md5_hash(pw, strlen(pw), sv->pool->user, strlen(sv->pool->user),
			            user_hash);
		pg_md5_hash(user_hash + 3, 32, salt, 4, answer);
		if (!proto_put_password(out, answer))
			break;
		return true;
	}
	case 10: { /* SASL: list of mechanisms */
		bool has_scram = proto_sasl_has_mech(data, dlen, "SCRAM-SHA-256", &bad_list);
		bool plus = server_cbind_wanted(sv, data, dlen);

		if (!has_scram || pw == NULL || pg_is_md5_secret(pw) ||
		    (strncmp(pw, "SCRAM-SHA-256$", 14) == 0 && !sv->pool->has_scram_key)) {
			server_log(LOG_LVL_WARNING, sv,
			           "server asked for SCRAM but no plain password is known");
			break;
		}
		sv->scram = calloc(1, sizeof(*sv->scram));
		if (sv->scram == NULL)
			break;
		scram_client_init(sv->scram);
		if (plus && !server_cbind_set(sv))
			break;
		if (!scram_client_first(sv->scram, buf, sizeof(buf)) ||
		    !proto_put_sasl_initial(out, plus ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256", buf,
		                            strlen(buf)))
			break;
		return true;
	}
	case 11: /* SASLContinue */
		if (sv->scram == NULL ||
		    !scram_answer(sv, pw, data, dlen, buf, sizeof(buf), err, sizeof(err))) {
			server_log(LOG_LVL_WARNING, sv, "SCRAM exchange with server failed");
			break;
		}
		if (!proto_put_sasl_response(out, buf, strlen(buf)))
			break;
		return true;
	case 12: /* SASLFinal */
		if (sv->scram == NULL ||
		    !scram_client_verify_server(sv->scram, (const char *)data, dlen)) {
			server_log(LOG_LVL_WARNING, sv, "server SCRAM signature did not verify");
			break;
		}
		scram_client_clear(sv->scram);
		free(sv->scram);
		sv->scram = NULL;
		return true;
	default:
		server_log(LOG_LVL_WARNING, sv, "unsupported authentication method %u", code);
		break;
	}
	pool_login_failed(sv->pool, SQLSTATE_CONNECTION_FAILURE,
	                  "server login failed: cannot authenticate to the server");
	server_close(sv, "login failed");
	return false;
}

static bool login_param_add(struct login_params *lp, const char *name, const char *value)
{
	struct welcome_param *n = realloc(lp->p, (lp->n + 1) * sizeof(*n));

	if (n == NULL)
		return false;
	lp->p = n;
	lp->p[lp->n].name = strdup(name);
	lp->p[lp->n].value = strdup(value);
	lp->n++;
	return lp->p[lp->n - 1].name != NULL && lp->p[lp->n - 1].value != NULL;
}

static void login_params_free(struct login_params *lp)
{
	for (size_t i = 0; i < lp->n; i++) {
		free(lp->p[i].name);
		free(lp->p[i].value);
	}
	free(lp->p);
	lp->p = NULL;
	lp->n = 0;
}

/* Records a ParameterStatus the server sent; false if it does not parse. */
static bool note_param(struct server *sv, const uint8_t *body, size_t len, const char **name_out,
                       const char **value_out)
{
	const char *name, *value;
	int slot;

	if (proto_parse_param_status(body, len, &name, &value) != PROTO_OK)
		return false;
	slot = params_slot(&sv->fw->tracked, name);
	if (slot >= 0 && !params_set(&sv->params, slot, value))
		return false;
	if (name_out != NULL) {
		*name_out = name;
		*value_out = value;
	}
	return true;
}

/* The login finished (ReadyForQuery): hand the server to the pool. */
static void login_done(struct server *sv, struct login_params *lp)
{
	struct pool *pool = sv->pool;
	const char *cq = pool->db->conf->connect_query;

	if (sv->fw->cfg->log_connections) {
		char local[64] = "unix";
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int lport = 0;

		if (getsockname(io_fd(sv->io), (struct sockaddr *)&ss, &sl) == 0) {
			if (ss.ss_family == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, local,
				          sizeof(local));
				lport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			} else if (ss.ss_family == AF_INET6) {
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, local,
				          sizeof(local));
				lport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			}
		}
		server_log(LOG_LVL_INFO, sv, "new connection to server (from %s:%d)", local, lport);
	}
	pool->last_login_fail_us = 0;
	pool_set_welcome(pool, lp->p, lp->n);
	if (cq != NULL && cq[0] != '\0' && pool->replication == HBA_REPL_NONE) {
		server_set_state(sv, SV_RESETTING);
		if (!server_send_internal(sv, cq))
			server_close(sv, "out of memory");
		return;
	}
	pool_server_idle(sv);
}

/* One login-phase message; false if the server was closed. */
static bool login_msg(struct server *sv, uint8_t type, const uint8_t *body, size_t len,
                      struct login_params *lp)
{
	struct pg_error_fields ef;
	const char *name = NULL, *value = NULL;

	switch (type) {
	case 'R':
		return login_auth(sv, body, len);
	case 'S':
		if (!note_param(sv, body, len, &name, &value) ||
		    !login_param_add(lp, name, value)) {
			server_close(sv, "bad ParameterStatus from server");
			return false;
		}
		return true;
	case 'K':
		if (proto_parse_backend_key(body, len, &sv->backend_pid, &sv->backend_key) !=
		    PROTO_OK) {
			server_close(sv, "bad BackendKeyData from server");
			return false;
		}
		return true;
	case 'N':
	case 'v':
		return true;
	case 'Z':
		sv->xact_status = len > 0 ? (char)body[0] : 'I';
		login_done(sv, lp);
		return false; /* stop: the server may have been handed to a client */
	case 'E': {
		char msg[512];

		if (proto_parse_error(body, len, &ef) != PROTO_OK || ef.message == NULL)
			ef.message = "unknown error";
		snprintf(msg, sizeof(msg), "%s", ef.message);
		server_log(LOG_LVL_WARNING, sv, "server login failed: %s", msg);
		pool_login_failed(sv->pool, ef.sqlstate ? ef.sqlstate : SQLSTATE_CONNECTION_FAILURE,
		                  msg);
		server_close(sv, "login failed");
		return false;
	}
	default:
		server_close(sv, "unexpected message during login");
		return false;
	}
}

/* --- data path ------------------------------------------------------------ */

/* Fairway's own query finished (all its ReadyForQuery arrived). */
static void internal_done(struct server *sv)
{
	struct client *c = sv->client;

	if (sv->internal_failed) {
		sv->internal_failed = false;
		if (c != NULL) {
			pool_unlink(c, false);
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
			            "failed to set session parameters on the server");
		} else {
			server_close(sv, "internal query failed");
		}
		return;
	}
	if (c != NULL) {
		/* The values as the server spells them, so the next compare matches. */
		if (!params_copy(&c->params, &sv->params))
			client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	if (sv->state == SV_RESETTING) {
		sv->is_tested = false;
		pool_server_idle(sv);
	}
}

static void count_xact_end(struct server *sv)
{
	struct database *db = sv->pool->db;
	uint64_t now = sv->fw->now_us;

	db->stats.xact_count++;
	sv->fw->stats.xact_count++;
	if (now > sv->link_us) {
		db->stats.xact_time_us += now - sv->link_us;
		sv->fw->stats.xact_time_us += now - sv->link_us;
	}
	sv->link_us = now;
}

/* ReadyForQuery forwarded to the client: is the transaction over? */
static void after_rfq(struct server *sv, struct client *c, char status)
{
	struct database *db = sv->pool->db;
	enum pool_mode mode;

	sv->xact_status = status;
	if (sv->expect_rfq > 0)
		sv->expect_rfq--;
	if (sv->query_start_us != 0) {
		db->stats.query_time_us += sv->fw->now_us - sv->query_start_us;
		sv->fw->stats.query_time_us += sv->fw->now_us - sv->query_start_us;
		sv->query_start_us = sv->expect_rfq > 0 ? sv->fw->now_us : 0;
	}
	if (sv->expect_rfq > 0 || sv->ext_open || c->pkt_remain != 0)
		return;
	mode = pool_mode_of(sv->pool);
	if (status == 'I')
		count_xact_end(sv);
	if (mode == POOL_SESSION)
		return;
	if (status != 'I')
		return;
	pool_unlink(c, true);
	if (c->io != NULL && io_input_length(c->io) > 0)
		client_process(c); /* it sent the next query already */
}

/* Statement mode: a statement that leaves a transaction open is refused. */
static bool refuses_transaction(const struct server *sv, const uint8_t *body, size_t len)
{
	return len > 0 && body[0] != 'I' && sv->expect_rfq <= 1 && !sv->ext_open &&
	       pool_mode_of(sv->pool) == POOL_STATEMENT;
}

/* Processes one complete small message with no client attached or with
 * internal queries in flight.  false if the server was closed. */
static bool unlinked_msg(struct server *sv, uint8_t type, const uint8_t *body, size_t len)
{
	struct pg_error_fields ef;

	switch (type) {
	case 'S':
		if (!note_param(sv, body, len, NULL, NULL)) {
			server_close(sv, "bad ParameterStatus from server");
			return false;
		}
		return true;
	case 'N':
		return true;
	case 'E':
		if (proto_parse_error(body, len, &ef) == PROTO_OK && ef.message != NULL)
			server_log(LOG_LVL_WARNING, sv, "server error: %s", ef.message);
		if (sv->internal_rfq > 0) {
			sv->internal_failed = true;
			return true;
		}
		server_close(sv, "server conn crashed?");
		return false;
	case 'Z':
		if (sv->internal_rfq > 0) {
			sv->internal_rfq--;
			sv->xact_status = len > 0 ? (char)body[0] : 'I';
			if (sv->internal_rfq == 0)
				internal_done(sv);
			return true;
		}
		break;
	case 'C':
		if (sv->internal_rfq > 0) {
			if (len > 0 && body[len - 1] == '\0')
				ps_server_internal_tag(sv, (const char *)body);
			return true;
		}
		break;
	default:
		if (sv->internal_rfq > 0)
			return true; /* EmptyQueryResponse, rows of our query */
		break;
	}
	server_close(sv, "unexpected packet from server");
	return false;
}

static bool needs_whole(const struct server *sv, uint8_t type)
{
	if (sv->state == SV_LOGIN || sv->internal_rfq > 0 || sv->client == NULL ||
	    sv->client->state == CL_LOOKUP)
		return true;
	return type == 'Z' || type == 'S';
}

/* The complete messages at the front of a linked server's input that need
 * only a glance, as long as they lie in its first contiguous block: moved to
 * the client in one piece, a ReadyForQuery included (and acted on after the
 * move).  Returns the bytes moved; 0 when the first message needs the
 * message-at-a-time path (ParameterStatus, replies to prepared-statement
 * messages of Fairway's own, statement pooling's check, messages split across
 * reads). */
static size_t server_batch(struct server *sv, struct client *c)
{
	size_t len, off = 0;
	const uint8_t *p = io_input_peek(sv->io, &len);
	bool tracks = sv->ps != NULL || c->ps != NULL;
	bool statement_mode = pool_mode_of(sv->pool) == POOL_STATEMENT;
	int rfq = -1;

	while (p != NULL && off + 5 <= len && rfq < 0) {
		struct pg_msg_hdr h;
		size_t n;

		if (proto_parse_hdr(p + off, 5, false, 0x7fffffff, &h) != PROTO_OK)
			break; /* reported by the slow path */
		n = 5 + (size_t)h.body_len;
		if (n > len - off)
			break;
		switch (h.type) {
		case 'S':
			goto done;
		case '1':
		case '3':
			/* The client's own Parse or Close: settled here. */
			if (h.body_len == 0 && !ps_server_reply_passes(sv))
				goto done;
			break;
		case 'Z':
			if (statement_mode || h.body_len < 1)
				goto done;
			rfq = p[off + 5];
			break;
		case 'G':
		case 'H':
		case 'W':
			sv->in_copy = true;
			break;
		case 'C':
			/* DISCARD ALL and DEALLOCATE ALL are looked at. */
			if (tracks && (h.body_len == sizeof("DISCARD ALL") ||
			               h.body_len == sizeof("DEALLOCATE ALL")))
				goto done;
			sv->in_copy = false;
			break;
		case 'c':
		case 'E':
			sv->in_copy = false;
			break;
		default:
			break;
		}
		off += n;
	}
done:
	if (off == 0)
		return 0;
	io_forward(c->io, sv->io, off);
	sv->pool->db->stats.bytes_sent += off;
	sv->fw->stats.bytes_sent += off;
	if (rfq >= 0) {
		ps_server_rfq(sv);
		after_rfq(sv, c, (char)rfq);
	}
	return off;
}

/* A TLS failure during login: every client waiting for this pool's first
 * login hears why, the server goes. */
static void tls_login_failed(struct server *sv, const char *fmt, const char *detail)
{
	char msg[256];
	struct pool *pool = sv->pool;

	snprintf(msg, sizeof(msg), fmt, detail);
	server_log(LOG_LVL_WARNING, sv, "%s", msg);
	pool_login_failed(pool, SQLSTATE_CONNECTION_FAILURE, msg);
	server_close(sv, msg);
}

/* The one-byte answer to our SSLRequest; false while it has not come or when
 * the server was closed. */
static bool tls_answer(struct server *sv)
{
	struct evbuffer *in = io_input(sv->io);
	enum tls_mode mode = sv->fw->tls.server_mode;
	uint8_t b;

	if (evbuffer_remove(in, &b, 1) != 1)
		return false;
	if (b == 'S') {
		if (evbuffer_get_length(in) > 0) {
			tls_login_failed(
			    sv, "server sent unencrypted data after its SSL response%s", "");
			return false;
		}
		sv->tls_step = SV_TLS_HANDSHAKE;
		if (sv->fw->tls.connect == NULL ||
		    !io_tls_connect(sv->io, sv->fw->tls.connect, sv->host,
		                    mode == TLS_VERIFY_FULL)) {
			server_close(sv, "out of memory");
			return false;
		}
		return false; /* IO_EV_TLS_READY goes on */
	}
	if (b == 'N' && mode < TLS_REQUIRE) {
		sv->tls_step = SV_TLS_NONE;
		send_startup(sv);
		return sv->state != SV_CLOSED;
	}
	if (b == 'N')
		tls_login_failed(sv, "server does not support TLS (server_tls_sslmode = %s)",
		                 sv->fw->cfg->server_tls_sslmode);
	else
		tls_login_failed(sv, "server answered the SSL request with an error%s", "");
	return false;
}

void server_process(struct server *sv)
{
	struct login_params lp = {NULL, 0};
	uint8_t small[512], *body = NULL;

	if (sv->io == NULL)
		return;
	if (sv->state == SV_LOGIN && sv->tls_step != SV_TLS_NONE &&
	    (sv->tls_step == SV_TLS_HANDSHAKE || !tls_answer(sv)))
		return;
	while (sv->state != SV_CLOSED && sv->state != SV_CONNECTING) {
		size_t avail = io_input_length(sv->io);
		struct client *c = sv->client;
		struct evbuffer *in;
		struct pg_msg_hdr h;
		uint8_t hdr[5];

		if (c != NULL && sv->internal_rfq == 0 && sv->state == SV_ACTIVE) {
			if (io_output_length(c->io) > BACKLOG_HIGH_BYTES) {
				sv->read_held = true;
				io_read_off(sv->io);
				break;
			}
			if (sv->pkt_remain > 0) {
				size_t n = avail < sv->pkt_remain ? avail : sv->pkt_remain;

				if (n == 0)
					break;
				io_forward(c->io, sv->io, n);
				sv->pkt_remain -= (uint32_t)n;
				sv->pool->db->stats.bytes_sent += n;
				sv->fw->stats.bytes_sent += n;
				continue;
			}
			if (avail >= 5 && c->state == CL_ACTIVE && server_batch(sv, c) > 0)
				continue;
		}
		if (avail < 5)
			break;
		in = io_input(sv->io); /* the slow path, message by message */
		evbuffer_copyout(in, hdr, 5);
		if (proto_parse_hdr(hdr, 5, false, 0x7fffffff, &h) != PROTO_OK) {
			server_close(sv, "invalid packet from server");
			break;
		}
		if (needs_whole(sv, h.type)) {
			if (h.body_len > SERVER_SMALL_MSG_MAX &&
			    (sv->state == SV_LOGIN || h.type == 'Z' || h.type == 'S' ||
			     h.type == 'E' || (c != NULL && c->state == CL_LOOKUP))) {
				server_close(sv, "oversized message from server");
				break;
			}
			if (sv->internal_rfq > 0 && h.type != 'Z' && h.type != 'S' &&
			    h.type != 'E' && h.type != 'N' && sv->state != SV_LOGIN &&
			    !(h.type == 'C' && sv->ps != NULL)) {
				/* Rows or tags of our own query: skip them without buffering
				 * (a tag is read when it may say DISCARD ALL). */
				if (avail < 5 + (size_t)h.body_len) {
					break;
				}
				evbuffer_drain(in, 5 + (size_t)h.body_len);
				continue;
			}
			if (avail < 5 + (size_t)h.body_len)
				break;
			body = h.body_len <= sizeof(small) ? small : malloc(h.body_len);
			if (body == NULL) {
				server_close(sv, "out of memory");
				break;
			}
			evbuffer_drain(in, 5);
			evbuffer_remove(in, body, h.body_len);
			bool go_on;
			char rfq_status;

			if (h.type == 'Z' &&
			    proto_parse_rfq(body, h.body_len, &rfq_status) != PROTO_OK) {
				if (body != small)
					free(body);
				server_close(sv, "bad ReadyForQuery from server");
				break;
			}
			if (sv->state == SV_LOGIN)
				go_on = login_msg(sv, h.type, body, h.body_len, &lp);
			else if (c == NULL || sv->internal_rfq > 0)
				go_on = unlinked_msg(sv, h.type, body, h.body_len);
			else if (c->state == CL_LOOKUP)
				go_on = authquery_server_msg(sv, h.type, body, h.body_len);
			else {
				/* Linked: 'Z' or 'S' to forward after noting them. */
				struct evbuffer *out = io_output(c->io);

				go_on = true;
				if (h.type == 'S') {
					const char *name, *value;

					if (!note_param(sv, body, h.body_len, &name, &value)) {
						server_close(sv, "bad ParameterStatus from server");
						go_on = false;
					} else {
						params_set(&c->params,
						           params_slot(&sv->fw->tracked, name),
						           value);
					}
				}
				if (go_on && h.type == 'Z' &&
				    refuses_transaction(sv, body, h.body_len)) {
					/* Not forwarded: the client sees the error, not the open
					 * transaction; the server is closed with it. */
					pool_unlink(c, false);
					client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
					            "transaction blocks not allowed in statement "
					            "pooling mode");
					go_on = false;
				}
				if (go_on && !proto_put_msg(out, h.type, body, h.body_len)) {
					server_close(sv, "out of memory");
					go_on = false;
				}
				sv->pool->db->stats.bytes_sent += 5 + h.body_len;
				sv->fw->stats.bytes_sent += 5 + h.body_len;
				if (go_on && h.type == 'Z') {
					ps_server_rfq(sv);
					after_rfq(sv, c, h.body_len > 0 ? (char)body[0] : 'I');
				}
			}
			if (body != small)
				free(body);
			body = NULL;
			if (!go_on)
				break;
			continue;
		}
		/* Linked, a message to stream as it comes. */
		if ((h.type == '1' || h.type == '3' || h.type == 'C') &&
		    (sv->ps != NULL || c->ps != NULL)) {
			enum ps_srv r = ps_server_msg(sv, &h, avail);

			if (r == PS_SRV_DONE)
				continue;
			if (r == PS_SRV_MORE || r == PS_SRV_FAILED)
				break;
		}
		if (h.type == 'G' || h.type == 'H' || h.type == 'W')
			sv->in_copy = true;
		else if (h.type == 'c' || h.type == 'C' || h.type == 'E')
			sv->in_copy = false;
		sv->pkt_remain = 5 + h.body_len;
	}
	if (lp.p != NULL)
		login_params_free(&lp);
}

static void server_read_cb(struct io *io, void *arg)
{
	struct server *sv = arg;

	(void)io;
	server_process(sv);
}

static void server_write_cb(struct io *io, void *arg)
{
	struct server *sv = arg;

	(void)io;
	if (sv->client != NULL)
		client_resume_reading(sv->client);
}

static void server_event_cb(struct io *io, int what, void *arg)
{
	struct server *sv = arg;
	struct pool *pool = sv->pool;

	fw_update_now(sv->fw);
	if (what & IO_EV_CONNECTED) {
		int one = 1, fd = io_fd(io);

		if (sv->addrlen == 0) {
			socklen_t sl = sizeof(sv->addr);

			if (getpeername(fd, (struct sockaddr *)&sv->addr, &sl) == 0)
				sv->addrlen = (int)sl;
		}
		if (sv->host[0] != '/') {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			util_tune_tcp(fd, sv->fw->cfg);
		}
		server_set_state(sv, SV_LOGIN);
		/* Unix sockets never use TLS (as PgBouncer). */
		if (sv->fw->tls.connect != NULL && sv->host[0] != '/') {
			sv->tls_step = SV_TLS_ASKED;
			if (!proto_put_ssl_request(io_output(io))) {
				server_close(sv, "out of memory");
				return;
			}
		} else {
			send_startup(sv);
		}
		io_read_on(io);
		return;
	}
	if (what & IO_EV_TLS_READY) {
		sv->tls_step = SV_TLS_NONE;
		send_startup(sv);
		return;
	}
	if (sv->state == SV_LOGIN && sv->tls_step == SV_TLS_HANDSHAKE) {
		char err[160];

		io_tls_error(io, err, sizeof(err));
		tls_login_failed(sv, "server TLS handshake failed: %s", err);
		pool_maybe_launch(pool);
		return;
	}
	if (sv->state == SV_CONNECTING) {
		server_log(LOG_LVL_WARNING, sv, "connect failed");
		pool_login_failed(pool, NULL, NULL);
		server_close(sv, "connect failed");
		return;
	}
	if (sv->state == SV_LOGIN)
		pool_login_failed(pool, NULL, NULL);
	server_close(sv, (what & IO_EV_EOF) ? "server conn crashed?" : "server connection error");
	pool_maybe_launch(pool);
}
