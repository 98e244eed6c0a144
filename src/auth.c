/* Client authentication against the auth_file: trust, any, plain, md5 and
 * scram-sha-256; auth_type = hba, where the first matching auth_hba_file line
 * picks one of those, reject or peer (SO_PEERCRED, optionally through an
 * auth_ident_file map); plus the console rules (admin_users, stats_users, and
 * user pgbouncer over the Unix socket from the daemon's own uid). */
#include "auth.h"

#include "io.h"
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authquery.h"
#include "client.h"
#include "config.h"
#include "fairway.h"
#include "hba.h"
#include "log.h"
#include "proto.h"
#include "scram.h"
#include "sqlstate.h"
#include "tls.h"
#include "util.h"

/* Constant-time equality of n bytes. */
static bool bytes_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* The user's secret from the auth_file or from auth_query, or NULL. */
static const char *user_secret(const struct client *c)
{
	const struct auth_entry *ae = config_find_auth(c->fw->cfg, c->user);

	if (ae == NULL && c->login->authq_secret != NULL)
		return c->login->authq_secret;

	return ae != NULL ? ae->secret : NULL;
}

static bool peer_is_daemon_uid(const struct client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!c->is_unix)
		return false;
	if (getsockopt(io_fd(c->io), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	return cred.uid == getuid();
}

/* Whether the client talks TLS (hostssl and hostnossl lines). */
static bool client_is_tls(const struct client *c)
{
	return c->io != NULL && io_is_tls(c->io);
}

/* The operating-system user at the other end of a Unix socket.  getpwuid_r
 * may consult NSS; on a plain /etc/passwd system it is a file read. */
static bool peer_os_user(const struct client *c, char *name, size_t n, char *why, size_t why_len)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd pw, *found = NULL;
	char buf[4096];
	int rc;

	if (getsockopt(io_fd(c->io), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		snprintf(why, why_len, "could not get peer credentials: %s", strerror(errno));
		return false;
	}
	rc = getpwuid_r(cred.uid, &pw, buf, sizeof(buf), &found);
	if (rc != 0 || found == NULL) {
		snprintf(why, why_len, "could not look up local user ID %u: %s", (unsigned)cred.uid,
		         rc != 0 ? strerror(rc) : "user does not exist");
		return false;
	}
	if (snprintf(name, n, "%s", pw.pw_name) >= (int)n) {
		snprintf(why, why_len, "local user name of ID %u too long", (unsigned)cred.uid);
		return false;
	}
	return true;
}

/* peer: the Unix socket's peer uid names the user, directly or through the
 * line's ident map.  The client sees PgBouncer's text, the log says why. */
static void login_as_peer(struct client *c, const struct hba_rule *rule)
{
	const struct config *cfg = c->fw->cfg;
	char os_user[256], why[1024];

	if (!c->is_unix) {
		snprintf(why, sizeof(why),
		         "peer authentication is only supported on local sockets");
	} else if (!peer_os_user(c, os_user, sizeof(os_user), why, sizeof(why))) {
		/* why is filled */
	} else if (cfg->auth_file != NULL && user_secret(c) == NULL) {
		snprintf(why, sizeof(why), "user \"%s\" is not in auth_file", c->user);
	} else if (rule->map != NULL) {
		if (ident_allows(cfg->ident, rule->map, os_user, c->user)) {
			client_auth_done(c);
			return;
		}
		snprintf(why, sizeof(why),
		         "ident map \"%s\" does not let local user \"%s\" log in as \"%s\"",
		         rule->map, os_user, c->user);
	} else if (strcmp(os_user, c->user) == 0) {
		client_auth_done(c);
		return;
	} else {
		snprintf(why, sizeof(why),
		         "provided user name (%s) and authenticated user name (%s) do not match",
		         c->user, os_user);
	}
	client_log(LOG_LVL_WARNING, c, "peer authentication failed (%s:%d): %s", rule->file,
	           rule->line, why);
	client_fail(c, SQLSTATE_INVALID_AUTHORIZATION, "unix socket login rejected");
}

/* auth_type = cert, or an hba cert line (map may be NULL): the verified
 * client certificate's common name must be the user, or map to it. */
static void login_with_cert(struct client *c, const char *map, const char *where)
{
	const struct config *cfg = c->fw->cfg;
	char cn[256], why[1024];

	if (!io_is_tls(c->io)) {
		snprintf(why, sizeof(why), "the connection does not use TLS");
	} else if (!io_tls_peer_cn(c->io, cn, sizeof(cn))) {
		snprintf(why, sizeof(why),
		         "no client certificate that verifies (client_tls_ca_file)");
	} else if (cfg->auth_file != NULL && user_secret(c) == NULL) {
		snprintf(why, sizeof(why), "user \"%s\" is not in auth_file", c->user);
	} else if (map != NULL) {
		if (ident_allows(cfg->ident, map, cn, c->user)) {
			client_auth_done(c);
			return;
		}
		snprintf(why, sizeof(why),
		         "ident map \"%s\" does not let certificate \"%s\" log in as \"%s\"", map,
		         cn, c->user);
	} else if (strcmp(cn, c->user) == 0) {
		client_auth_done(c);
		return;
	} else {
		snprintf(why, sizeof(why),
		         "certificate common name \"%s\" does not match user name \"%s\"", cn,
		         c->user);
	}
	client_log(LOG_LVL_WARNING, c, "certificate authentication failed (%s): %s", where, why);
	client_fail(c, SQLSTATE_INVALID_AUTHORIZATION, "certificate authentication failed");
}

/* "host \"..\", user \"..\", database \"..\"", as PostgreSQL writes it. */
static void hba_who(const struct client *c, char *buf, size_t n)
{
	char addr[INET6_ADDRSTRLEN] = "unknown";

	if (c->is_unix)
		snprintf(addr, sizeof(addr), "[local]");
	else if (c->addr.sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &c->addr.in4.sin_addr, addr, sizeof(addr));
	else if (c->addr.sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &c->addr.in6.sin6_addr, addr, sizeof(addr));
	if (c->replication == HBA_REPL_PHYSICAL)
		snprintf(buf, n, "host \"%s\", user \"%s\", replication connection", addr, c->user);
	else
		snprintf(buf, n, "host \"%s\", user \"%s\", database \"%s\"", addr, c->user,
		         c->dbname);
}

/* auth_type = hba: the first matching line decides.  Returns the method to
 * run, or false after failing the client (no line, reject, peer, cert, ldap). */
static bool hba_decide(struct client *c, enum auth_type *type)
{
	const struct config *cfg = c->fw->cfg;
	struct hba_conn hc = {
	    .is_unix = c->is_unix,
	    .is_tls = client_is_tls(c),
	    .addr = &c->addr.sa,
	    .dbname = c->dbname,
	    .user = c->user,
	    .replication = (enum hba_replication)c->replication,
	};
	const struct hba_rule *rule = hba_match(cfg->hba, &hc);
	char who[600];

	if (rule == NULL) {
		hba_who(c, who, sizeof(who));
		/* PgBouncer's words first (operators grep for them), then PostgreSQL's. */
		client_fail(c, SQLSTATE_INVALID_AUTHORIZATION,
		            "no authentication method is found: no pg_hba.conf entry for %s", who);
		return false;
	}
	client_log(LOG_LVL_DEBUG, c, "auth_hba_file line %d matched: %s", rule->line,
	           hba_method_name(rule->method));
	if (rule->method == HBA_REJECT) {
		hba_who(c, who, sizeof(who));
		client_fail(c, SQLSTATE_INVALID_AUTHORIZATION,
		            "pg_hba.conf rejects connection for %s", who);
		return false;
	}
	switch (rule->method) {
	case HBA_TRUST:
		*type = AUTH_TRUST;
		return true;
	case HBA_MD5:
		*type = AUTH_MD5;
		return true;
	case HBA_PASSWORD:
		*type = AUTH_PLAIN;
		return true;
	case HBA_SCRAM:
		*type = AUTH_SCRAM;
		return true;
	case HBA_PEER:
		login_as_peer(c, rule);
		return false;
	case HBA_CERT: {
		char where[PATH_MAX + 32];

		snprintf(where, sizeof(where), "%s:%d", rule->file, rule->line);
		login_with_cert(c, rule->map, where);
		return false;
	}
	case HBA_LDAP:
		client_fail(c, SQLSTATE_FEATURE_NOT_SUPPORTED,
		            "ldap authentication is not supported yet by Fairway");
		return false;
	case HBA_REJECT:
		break;
	}
	return false;
}

/* Console rights; false (after failing the client) if none. */
static bool console_access(struct client *c)
{
	const struct config *cfg = c->fw->cfg;

	if (config_list_has(cfg->admin_users, c->user)) {
		c->is_admin = true;
		return true;
	}
	if (config_list_has(cfg->stats_users, c->user) || cfg->auth_type == AUTH_ANY)
		return true;
	client_fail(c, SQLSTATE_INVALID_AUTHORIZATION, "not allowed");
	return false;
}

/* The tls-server-end-point data for SCRAM-SHA-256-PLUS: only on a TLS
 * connection whose certificate hash can be computed (else -PLUS is not
 * advertised, as PostgreSQL). */
static bool client_cbind_data(const struct client *c, uint8_t data[TLS_CERT_HASH_MAX], size_t *len)
{
	return client_is_tls(c) && io_tls_cert_hash(c->io, true, data, len);
}

static void auth_fail_password(struct client *c)
{
	client_fail(c, SQLSTATE_INVALID_PASSWORD, "password authentication failed");
}

static void send_challenge(struct client *c, enum auth_step step)
{
	struct evbuffer *out = io_output(c->io);
	bool ok;

	switch (step) {
	case AUTH_STEP_PASSWORD:
		ok = proto_put_auth(out, 3, NULL, 0);
		break;
	case AUTH_STEP_MD5:
		ok = util_random(c->login->md5_salt, sizeof(c->login->md5_salt)) &&
		     proto_put_auth(out, 5, c->login->md5_salt, sizeof(c->login->md5_salt));
		break;
	case AUTH_STEP_SASL: {
		static const char plus[] = "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";
		uint8_t cbind[TLS_CERT_HASH_MAX];
		size_t cbind_len;

		/* Each name NUL-terminated, then an empty one ends the list. */
		if (client_cbind_data(c, cbind, &cbind_len))
			ok = proto_put_auth(out, 10, plus, sizeof(plus));
		else
			ok = proto_put_auth(out, 10, "SCRAM-SHA-256\0", 15);
		break;
	}
	case AUTH_STEP_NONE:
	case AUTH_STEP_SASL_CONT:
	default:
		ok = false;
		break;
	}
	if (!ok) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	c->login->auth_step = step;
	client_set_state(c, CL_AUTH);
}

void auth_begin(struct client *c)
{
	const struct config *cfg = c->fw->cfg;
	const char *secret = user_secret(c);
	enum auth_type type = cfg->auth_type;

	if (c->is_console && c->replication != HBA_REPL_NONE) {
		client_fail(c, SQLSTATE_FEATURE_NOT_SUPPORTED,
		            "replication connections to the admin console are not supported");
		return;
	}
	if (c->is_console) {
		if (c->is_unix && strcmp(c->user, "pgbouncer") == 0 && peer_is_daemon_uid(c)) {
			c->is_admin = true;
			client_auth_done(c);
			return;
		}
		if (!console_access(c))
			return;
	}
	if (type == AUTH_HBA && !hba_decide(c, &type))
		return;
	if (secret == NULL && authquery_wanted(c, type)) {
		authquery_start(c); /* comes back here with the answer */
		return;
	}
	switch (type) {
	case AUTH_ANY:
		client_auth_done(c);
		return;
	case AUTH_TRUST:
		if (cfg->auth_file != NULL && secret == NULL) {
			client_fail(c, SQLSTATE_INVALID_AUTHORIZATION,
			            "\"trust\" authentication failed");
			return;
		}
		client_auth_done(c);
		return;
	case AUTH_PLAIN:
		send_challenge(c, AUTH_STEP_PASSWORD);
		return;
	case AUTH_MD5:
		/* A SCRAM secret cannot answer md5: use SCRAM for that user, as PgBouncer does. */
		if (secret != NULL && strncmp(secret, "SCRAM-SHA-256$", 14) == 0)
			send_challenge(c, AUTH_STEP_SASL);
		else
			send_challenge(c, AUTH_STEP_MD5);
		return;
	case AUTH_SCRAM:
		send_challenge(c, AUTH_STEP_SASL);
		return;
	case AUTH_CERT:
		login_with_cert(c, NULL, "auth_type = cert");
		return;
	case AUTH_HBA: /* hba_decide() picked another type */
	case AUTH_LDAP:
	case AUTH_PAM:
		client_fail(c, SQLSTATE_FEATURE_NOT_SUPPORTED,
		            "this auth_type is not supported yet by Fairway");
		return;
	}
}

/* A cleartext password against a plain, md5 or SCRAM secret. */
static bool check_cleartext(const struct client *c, const char *secret, const char *given)
{
	if (secret == NULL || given[0] == '\0')
		return false;
	if (pg_is_md5_secret(secret)) {
		char hash[36];

		pg_md5_hash(given, strlen(given), c->user, strlen(c->user), hash);
		return bytes_equal(hash, secret, 36);
	}
	if (strncmp(secret, "SCRAM-SHA-256$", 14) == 0) {
		struct scram_secret want, got;
		bool ok;

		if (!scram_parse_secret(secret, &want) ||
		    !scram_secret_from_password(given, want.salt, want.salt_len, want.iterations,
		                                &got))
			return false;
		ok = bytes_equal(want.stored_key, got.stored_key, sizeof(got.stored_key)) &&
		     bytes_equal(want.server_key, got.server_key, sizeof(got.server_key));
		return ok;
	}
	return strlen(secret) == strlen(given) && bytes_equal(secret, given, strlen(given));
}

static void handle_sasl_initial(struct client *c, const uint8_t *body, size_t len)
{
	const char *secret = user_secret(c);
	struct scram_secret sec;
	const char *mech;
	const uint8_t *data;
	uint8_t cbind[TLS_CERT_HASH_MAX];
	size_t dlen, cbind_len = 0;
	bool has_cbind, plus;
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[256];

	if (proto_parse_sasl_initial(body, len, &mech, &data, &dlen) != PROTO_OK || data == NULL) {
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "malformed SASL initial response");
		return;
	}
	has_cbind = client_cbind_data(c, cbind, &cbind_len);
	plus = strcmp(mech, "SCRAM-SHA-256-PLUS") == 0;
	if (!(plus && has_cbind) && strcmp(mech, "SCRAM-SHA-256") != 0) {
		/* -PLUS is only offered over TLS; PostgreSQL's words. */
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
		            "client selected an invalid SASL authentication mechanism");
		return;
	}
	c->login->scram = calloc(1, sizeof(*c->login->scram));
	if (c->login->scram == NULL) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	if (secret != NULL && strncmp(secret, "SCRAM-SHA-256$", 14) == 0 &&
	    scram_parse_secret(secret, &sec)) {
		scram_server_init(c->login->scram, &sec);
	} else if (secret != NULL && !pg_is_md5_secret(secret) && secret[0] != '\0') {
		uint8_t salt[16];

		if (!util_random(salt, sizeof(salt)) ||
		    !scram_secret_from_password(secret, salt, sizeof(salt),
		                                c->fw->cfg->scram_iterations > 0
		                                    ? c->fw->cfg->scram_iterations
		                                    : SCRAM_DEFAULT_ITERATIONS,
		                                &sec)) {
			client_fail(c, SQLSTATE_INTERNAL_ERROR, "cannot build SCRAM secret");
			return;
		}
		scram_server_init(c->login->scram, &sec);
	} else {
		/* Unknown user or an md5 secret: run the exchange, fail the proof. */
		scram_server_init_mock(c->login->scram, c->user, c->fw->scram_mock_key,
		                       sizeof(c->fw->scram_mock_key));
	}
	OPENSSL_cleanse(&sec, sizeof(sec));
	if (!scram_server_set_cbind(c->login->scram, has_cbind ? cbind : NULL, cbind_len, plus)) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "cannot set up SCRAM channel binding");
		return;
	}
	if (!scram_server_first(c->login->scram, (const char *)data, dlen, out, sizeof(out), err,
	                        sizeof(err))) {
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "SASL authentication failed: %s", err);
		return;
	}
	if (!proto_put_auth(io_output(c->io), 11, out, strlen(out))) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	c->login->auth_step = AUTH_STEP_SASL_CONT;
}

static void handle_sasl_final(struct client *c, const uint8_t *body, size_t len)
{
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[256];
	enum scram_result res;

	res = scram_server_final(c->login->scram, (const char *)body, len, out, sizeof(out), err,
	                         sizeof(err));
	if (res == SCRAM_BAD_PROOF && c->login->scram->cbind_mismatch)
		client_log(LOG_LVL_WARNING, c, "%s", err);
	if (res == SCRAM_BAD_PROOF) {
		client_fail(c, SQLSTATE_INVALID_PASSWORD, "SASL authentication failed");
		return;
	}
	if (res != SCRAM_OK) {
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "SASL authentication failed: %s", err);
		return;
	}
	if (!proto_put_auth(io_output(c->io), 12, out, strlen(out))) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	if (c->login->scram->client_key_valid && !c->login->scram->is_mock) {
		/* Kept for logging in to the server with the same secret (pass-through). */
		memcpy(c->login->scram_client_key, c->login->scram->client_key,
		       sizeof(c->login->scram_client_key));
		c->login->has_scram_key = true;
	}
	auth_clear(c);
	client_auth_done(c);
}

void auth_handle(struct client *c, const uint8_t *body, size_t len)
{
	const char *secret = user_secret(c);
	const char *given;

	switch (c->login->auth_step) {
	case AUTH_STEP_PASSWORD:
	case AUTH_STEP_MD5:
		if (proto_parse_password(body, len, &given) != PROTO_OK) {
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "malformed password packet");
			return;
		}
		if (c->login->auth_step == AUTH_STEP_PASSWORD
		        ? !check_cleartext(c, secret, given)
		        : (secret == NULL ||
		           !pg_md5_check_response(secret, c->user, c->login->md5_salt, given))) {
			auth_fail_password(c);
			return;
		}
		if (c->login->auth_step == AUTH_STEP_PASSWORD) {
			c->login->cleartext_password = strdup(given);
			if (c->login->cleartext_password == NULL) {
				client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
				return;
			}
		}
		c->login->auth_step = AUTH_STEP_NONE;
		client_auth_done(c);
		return;
	case AUTH_STEP_SASL:
		handle_sasl_initial(c, body, len);
		return;
	case AUTH_STEP_SASL_CONT:
		handle_sasl_final(c, body, len);
		return;
	case AUTH_STEP_NONE:
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "unexpected password packet");
		return;
	}
}

void auth_clear(struct client *c)
{
	if (c->login == NULL)
		return;
	if (c->login->scram != NULL) {
		scram_server_clear(c->login->scram);
		free(c->login->scram);
		c->login->scram = NULL;
	}
	c->login->auth_step = AUTH_STEP_NONE;
}
