/* The admin console: parses simple-protocol queries from console clients and
 * runs SHOW (show.c) and control commands.  Errors are ERROR-level responses
 * after which the connection stays usable. */
#include "admin.h"

#include "io.h"
#include <ctype.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "config.h"
#include "daemon.h"
#include "fairway.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "show.h"
#include "sqlstate.h"
#include "util.h"

#define ADMIN_MAX_QUERY 8192
/* A console client whose unread answers (or, during PAUSE / WAIT_CLOSE, whose
 * unprocessed queries) exceed this is read no more until its output has
 * drained (client_write_cb -> client_resume_reading). */
#define ADMIN_BACKLOG_BYTES (512 * 1024)

enum admin_wait { ADMIN_WAIT_NONE, ADMIN_WAIT_PAUSE, ADMIN_WAIT_CLOSE };

void admin_welcome(struct client *c)
{
	static const char *const params[][2] = {
	    {"server_version", "15.0 (" FAIRWAY_VERSION_STR ")"},
	    {"server_encoding", "UTF8"},
	    {"client_encoding", "UTF8"},
	    {"DateStyle", "ISO, MDY"},
	    {"TimeZone", "UTC"},
	    {"integer_datetimes", "on"},
	    {"standard_conforming_strings", "on"},
	    {"IntervalStyle", "postgres"},
	    {"is_superuser", "off"},
	    {"application_name", ""},
	};
	struct evbuffer *out = io_output(c->io);
	bool ok = true;

	for (size_t i = 0; ok && i < ARRAY_SIZE(params); i++)
		ok = proto_put_param_status(out, params[i][0], params[i][1]);
	ok = ok && proto_put_backend_key(out, 0, 0) && proto_put_rfq(out, 'I');
	if (!ok) {
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
		return;
	}
	client_set_state(c, CL_IDLE);
	client_process(c);
}

size_t admin_split_words(const char *q, char *buf, size_t buflen, char **words, size_t max)
{
	size_t n = 0, used = 0;

	while (*q != '\0' && n < max) {
		size_t len;

		while (isspace((unsigned char)*q) || *q == ';')
			q++;
		if (*q == '\0')
			break;
		len = 0;
		while (q[len] != '\0' && !isspace((unsigned char)q[len]) && q[len] != ';')
			len++;
		if (used + len + 1 > buflen)
			break;
		words[n++] = buf + used;
		memcpy(buf + used, q, len);
		buf[used + len] = '\0';
		used += len + 1;
		q += len;
	}
	return n;
}

static bool send_error(struct evbuffer *out, const char *sqlstate, const char *msg)
{
	return proto_put_error(out, "ERROR", sqlstate, msg);
}

static bool command_ok(struct evbuffer *out, const char *tag)
{
	return proto_put_command_complete(out, tag);
}

/* The database named by a console command, or NULL after an error reply. */
static struct database *named_db(struct client *c, const char *name, struct evbuffer *out, bool *ok)
{
	struct database *db = db_lookup(c->fw, name, false);

	if (db == NULL && config_find_db(c->fw->cfg, name, false) != NULL)
		db = db_lookup(c->fw, name, true);
	if (db == NULL) {
		char msg[256];

		snprintf(msg, sizeof(msg), "no such database: %s", name);
		*ok = send_error(out, SQLSTATE_PROTOCOL_VIOLATION, msg);
	}
	return db;
}

bool admin_parse_set(const char *q, char *key, size_t key_size, char *value, size_t value_size)
{
	const char *eq;
	size_t klen, vlen;

	while (isspace((unsigned char)*q) || *q == ';')
		q++;
	if (strncasecmp(q, "SET", 3) != 0 || !isspace((unsigned char)q[3]))
		return false;
	q += 3;
	eq = strchr(q, '=');
	if (eq == NULL)
		return false;
	while (isspace((unsigned char)*q))
		q++;
	klen = (size_t)(eq - q);
	while (klen > 0 && isspace((unsigned char)q[klen - 1]))
		klen--;
	eq++;
	while (isspace((unsigned char)*eq))
		eq++;
	vlen = strlen(eq);
	while (vlen > 0 && (isspace((unsigned char)eq[vlen - 1]) || eq[vlen - 1] == ';'))
		vlen--;
	if (vlen >= 2 && (eq[0] == '\'' || eq[0] == '"') && eq[vlen - 1] == eq[0]) {
		eq++;
		vlen -= 2;
	}
	if (klen == 0 || klen >= key_size || vlen >= value_size)
		return false;
	memcpy(key, q, klen);
	key[klen] = '\0';
	memcpy(value, eq, vlen);
	value[vlen] = '\0';
	return true;
}

/* SET key = value: everything after SET, with optional quotes on value. */
static bool admin_set(struct client *c, const char *q, struct evbuffer *out)
{
	char key[128], value[1024], err[256];
	struct config *ncfg;

	if (!admin_parse_set(q, key, sizeof(key), value, sizeof(value)))
		return send_error(out, SQLSTATE_SYNTAX_ERROR, "syntax error: SET key = value");
	ncfg = config_with_set(c->fw->cfg, key, value, err, sizeof(err));
	if (ncfg == NULL)
		return send_error(out, SQLSTATE_PROTOCOL_VIOLATION, err);
	log_info("SET %s = %s (by console user %s)", key, value, c->user);
	daemon_apply_config(c->fw, ncfg);
	return command_ok(out, "SET");
}

/* Runs one console command; false only on out of memory. */
static bool admin_command(struct client *c, const char *q, struct evbuffer *out)
{
	struct fairway *fw = c->fw;
	char buf[512], *w[4];
	size_t n = admin_split_words(q, buf, sizeof(buf), w, 4);
	bool ok = true;
	struct database *db = NULL;

	if (n == 0)
		return proto_put_msg(out, 'I', NULL, 0);
	if (strcasecmp(w[0], "SHOW") == 0 || strcasecmp(w[0], "SELECT") == 0) {
		bool oom;

		if (n < 2)
			return send_error(out, SQLSTATE_SYNTAX_ERROR, "syntax error: SHOW what?");
		if (strcasecmp(w[1], "HISTOGRAM") == 0)
			return show_histogram_cmd(c, n > 2 ? w[2] : NULL, n > 3 ? w[3] : NULL, out);
		if (show_command(c, w[1], out, &oom))
			return !oom;
		snprintf(buf, sizeof(buf), "unknown SHOW command: %.100s", w[1]);
		return send_error(out, SQLSTATE_PROTOCOL_VIOLATION, buf);
	}
	if (!c->is_admin)
		return send_error(out, SQLSTATE_INSUFFICIENT_PRIVILEGE,
		                  "admin access needed for this command");
	if (strcasecmp(w[0], "SET") == 0)
		return admin_set(c, q, out);
	if (strcasecmp(w[0], "RELOAD") == 0 && n == 1) {
		if (!daemon_reload(fw))
			return send_error(out, SQLSTATE_CONFIG_FILE_ERROR,
			                  "RELOAD failed, see logs for additional details");
		return command_ok(out, "RELOAD");
	}
	if ((strcasecmp(w[0], "PAUSE") == 0 || strcasecmp(w[0], "RESUME") == 0 ||
	     strcasecmp(w[0], "RECONNECT") == 0 || strcasecmp(w[0], "WAIT_CLOSE") == 0) &&
	    n <= 2) {
		if (n == 2 && (db = named_db(c, w[1], out, &ok)) == NULL)
			return ok;
		if (strcasecmp(w[0], "RESUME") == 0) {
			if (fw->shutdown != SHUTDOWN_NONE)
				return send_error(out, SQLSTATE_PROTOCOL_VIOLATION,
				                  "pooler is shutting down");
			if (!fw->paused && !fw->suspended && (db == NULL || !db->paused))
				return send_error(out, SQLSTATE_PROTOCOL_VIOLATION,
				                  "pooler is not paused/suspended");
			daemon_resume(fw, db);
			return command_ok(out, "RESUME");
		}
		if (strcasecmp(w[0], "RECONNECT") == 0) {
			daemon_reconnect(fw, db);
			return command_ok(out, "RECONNECT");
		}
		if (strcasecmp(w[0], "PAUSE") == 0) {
			if (db == NULL ? fw->paused : db->paused)
				return send_error(out, SQLSTATE_PROTOCOL_VIOLATION,
				                  "already paused");
			daemon_pause(fw, db);
		}
		/* PAUSE and WAIT_CLOSE answer once their servers are done (admin_check_waits). */
		c->admin_wait =
		    strcasecmp(w[0], "PAUSE") == 0 ? ADMIN_WAIT_PAUSE : ADMIN_WAIT_CLOSE;
		free(c->admin_wait_db);
		c->admin_wait_db = db != NULL ? strdup(db->name) : NULL;
		return true;
	}
	if (strcasecmp(w[0], "SUSPEND") == 0 && n == 1) {
		if (fw->suspended)
			return send_error(out, SQLSTATE_PROTOCOL_VIOLATION, "already suspended");
		daemon_suspend(fw);
		return command_ok(out, "SUSPEND");
	}
	if (strcasecmp(w[0], "KILL") == 0 && n == 1) {
		struct list_head *pos, *next;

		list_for_each_safe(pos, next, &fw->databases) daemon_kill_db(
		    list_entry(pos, struct database, link), "database killed by admin");
		return command_ok(out, "KILL");
	}
	if (strcasecmp(w[0], "KILL_CLIENT") == 0 && n == 2) {
		char *end;
		unsigned long long id = strtoull(w[1], &end, 10);
		struct list_head *pos;

		if (*end != '\0' || end == w[1])
			return send_error(out, SQLSTATE_SYNTAX_ERROR,
			                  "syntax error: KILL_CLIENT id");
		list_for_each(pos, &fw->clients)
		{
			struct client *k = list_entry(pos, struct client, link);

			if (k->id != id || k == c)
				continue;
			client_fail(k, SQLSTATE_ADMIN_SHUTDOWN,
			            "client killed by admin (KILL_CLIENT)");
			return command_ok(out, "KILL_CLIENT");
		}
		return send_error(out, SQLSTATE_PROTOCOL_VIOLATION, "client not found");
	}
	if ((strcasecmp(w[0], "DISABLE") == 0 || strcasecmp(w[0], "ENABLE") == 0 ||
	     strcasecmp(w[0], "KILL") == 0) &&
	    n == 2) {
		if ((db = named_db(c, w[1], out, &ok)) == NULL)
			return ok;
		if (strcasecmp(w[0], "DISABLE") == 0) {
			db->disabled = true;
			return command_ok(out, "DISABLE");
		}
		if (strcasecmp(w[0], "ENABLE") == 0) {
			db->disabled = false;
			return command_ok(out, "ENABLE");
		}
		daemon_kill_db(db, "database killed by admin");
		db->paused = true; /* new clients wait until RESUME, as PgBouncer */
		return command_ok(out, "KILL");
	}
	if (strcasecmp(w[0], "SHUTDOWN") == 0 && n <= 2) {
		enum shutdown_mode mode = SHUTDOWN_NOW;

		if (n == 2 && strcasecmp(w[1], "WAIT_FOR_SERVERS") == 0)
			mode = SHUTDOWN_WAIT_SERVERS;
		else if (n == 2 && strcasecmp(w[1], "WAIT_FOR_CLIENTS") == 0)
			mode = SHUTDOWN_WAIT_CLIENTS;
		else if (n == 2)
			return send_error(
			    out, SQLSTATE_SYNTAX_ERROR,
			    "syntax error: SHUTDOWN [WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS]");
		log_info("SHUTDOWN command issued by %s", c->user);
		daemon_shutdown(fw, mode);
		return command_ok(out, "SHUTDOWN");
	}
	snprintf(buf, sizeof(buf), "unknown command: %.100s", q);
	return send_error(out, SQLSTATE_PROTOCOL_VIOLATION, buf);
}

/* Whether a waiting PAUSE / WAIT_CLOSE may answer now. */
static bool wait_done(struct client *c)
{
	struct database *db = NULL;

	if (c->admin_wait_db != NULL && (db = db_lookup(c->fw, c->admin_wait_db, false)) == NULL)
		return true; /* the database is gone: nothing left to wait for */
	return daemon_busy_servers(c->fw, db, c->admin_wait == ADMIN_WAIT_CLOSE) == 0;
}

void admin_check_waits(struct fairway *fw)
{
	struct list_head *pos, *next;

	list_for_each_safe(pos, next, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);
		struct evbuffer *out;

		if (!c->is_console || c->admin_wait == ADMIN_WAIT_NONE || c->state != CL_IDLE ||
		    !wait_done(c))
			continue;
		out = io_output(c->io);
		if (!proto_put_command_complete(
		        out, c->admin_wait == ADMIN_WAIT_PAUSE ? "PAUSE" : "WAIT_CLOSE") ||
		    !proto_put_rfq(out, 'I')) {
			client_close(c, "out of memory");
			continue;
		}
		c->admin_wait = ADMIN_WAIT_NONE;
		free(c->admin_wait_db);
		c->admin_wait_db = NULL;
		admin_process(c);
	}
}

void admin_process(struct client *c)
{
	struct evbuffer *in = io_input(c->io);

	while (c->state == CL_IDLE) {
		struct evbuffer *out;
		uint8_t hdr[5];
		struct pg_msg_hdr h;
		enum proto_status st;
		char *q;
		bool ok;

		if (io_output_length(c->io) > ADMIN_BACKLOG_BYTES ||
		    (c->admin_wait != ADMIN_WAIT_NONE &&
		     evbuffer_get_length(in) > ADMIN_BACKLOG_BYTES)) {
			/* A client that sends queries but does not read the
			 * answers: memory stays bounded. */
			c->read_held = true;
			io_read_off(c->io);
			return;
		}
		if (c->admin_wait != ADMIN_WAIT_NONE)
			return;
		out = io_output(c->io);
		if (evbuffer_get_length(in) < 5)
			return;
		evbuffer_copyout(in, hdr, 5);
		st = proto_parse_hdr(hdr, 5, false, ADMIN_MAX_QUERY, &h);
		if (st != PROTO_OK) {
			client_fail(c, SQLSTATE_PROTOCOL_VIOLATION,
			            st == PROTO_TOO_BIG ? "console query too long"
			                                : "invalid packet length");
			return;
		}
		if (h.type == 'X') {
			client_close(c, "client close request");
			return;
		}
		if (h.type != 'Q') {
			client_fail(c, SQLSTATE_FEATURE_NOT_SUPPORTED,
			            "the console supports the simple query protocol only");
			return;
		}
		if (evbuffer_get_length(in) < 5 + (size_t)h.body_len)
			return;
		q = malloc(h.body_len + 1);
		if (q == NULL) {
			client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
			return;
		}
		evbuffer_drain(in, 5);
		evbuffer_remove(in, q, h.body_len);
		q[h.body_len] = '\0';
		if (log_enabled(LOG_LVL_DEBUG))
			client_log(LOG_LVL_DEBUG, c, "console: %.200s", q);
		c->fw->console_stats.query_count++;
		c->fw->console_stats.xact_count++;
		ok = admin_command(c, q, out);
		free(q);
		if (c->state != CL_IDLE)
			return; /* SHUTDOWN may have closed everything */
		if (ok && c->admin_wait != ADMIN_WAIT_NONE) {
			admin_check_waits(c->fw); /* it may be done already */
			return;
		}
		if (!ok || !proto_put_rfq(out, 'I')) {
			client_close(c, "out of memory");
			return;
		}
	}
}
