/* Prepared statements on the data path.  What the client sends and what the
 * server gets:
 *
 *   Parse "s1" (new name)     -> Parse "fw_ps_N" if the server lacks it, else
 *                                Close "fw_ps_noop", whose CloseComplete the
 *                                client receives as its ParseComplete
 *   Parse "s1" (name in use)  -> Parse "fw_ps_N" again: the server reports
 *                                "already exists", as PostgreSQL would
 *   Bind / Describe "s1"      -> the same with "fw_ps_N", after a Parse
 *                                "fw_ps_N" (reply dropped) if the server lacks it
 *   Close "s1"                -> Close "fw_ps_noop": the server keeps the
 *                                statement for other clients
 *   unnamed statements, portals -> unchanged
 *
 * Every Parse and Close sent queues the reply it will produce, so that the
 * replies can be matched in order (prepared.c).  A server holds at most
 * max_prepared_statements statements; the least recently used one is closed
 * when another must be prepared. */
#include "ps_forward.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "config.h"
#include "fairway.h"
#include "io.h"
#include "pool.h"
#include "prepared.h"
#include "proto.h"
#include "server.h"
#include "sqlstate.h"

/* A statement or portal name longer than this is not one of ours to rewrite:
 * it is forwarded as is and PostgreSQL judges it. */
#define PS_CLIENT_NAME_MAX 1024

bool ps_wanted(const struct client *c)
{
	if (c->ps != NULL)
		return true;
	return c->fw->cfg->max_prepared_statements > 0 && pool_mode_of(c->pool) != POOL_SESSION;
}

static struct ps_server *server_books(struct server *sv)
{
	if (sv->ps == NULL)
		sv->ps = calloc(1, sizeof(*sv->ps));
	return sv->ps;
}

static struct ps_client *client_books(struct client *c)
{
	if (c->ps == NULL)
		c->ps = calloc(1, sizeof(*c->ps));
	return c->ps;
}

static void count_server_parse(struct client *c)
{
	c->pool->db->stats.server_parse_count++;
	c->fw->stats.server_parse_count++;
}

/* type, length, an optional one-byte kind ('S'/'P'), name and NUL, then rest. */
static bool put_named(struct evbuffer *out, uint8_t type, int kind, const char *name,
                      const void *rest, size_t rest_len)
{
	size_t name_len = strlen(name) + 1;
	uint8_t hdr[6];
	size_t hdr_len = 5;
	uint32_t len = (uint32_t)(4 + (kind >= 0 ? 1 : 0) + name_len + rest_len);

	hdr[0] = type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	if (kind >= 0)
		hdr[hdr_len++] = (uint8_t)kind;
	return evbuffer_add(out, hdr, hdr_len) == 0 && evbuffer_add(out, name, name_len) == 0 &&
	       (rest_len == 0 || evbuffer_add(out, rest, rest_len) == 0);
}

/* Makes sure st is prepared on sv, sending a Parse (and the Close of an
 * evicted statement) ahead of the message that needs it. */
static bool ensure_prepared(struct client *c, struct server *sv, struct ps_stmt *st)
{
	struct ps_registry *reg = &c->fw->prepared;
	struct evbuffer *out = io_output(sv->io);
	struct ps_server *ps = server_books(sv);
	struct ps_stmt *victim = NULL;
	int max = c->fw->cfg->max_prepared_statements;

	if (ps == NULL)
		return false;
	if (ps_server_has(ps, st))
		return true;
	if (!ps_server_add(ps, st, max > 0 ? (size_t)max : 0, &victim))
		return false;
	if (victim != NULL) {
		bool ok = put_named(out, 'C', 'S', victim->name, NULL, 0) &&
		          ps_expect(ps, sv->syncs_sent, PS_REPLY_SWALLOW, false, NULL, NULL);

		ps_stmt_put(reg, victim);
		if (!ok)
			return false;
	}
	if (!put_named(out, 'P', -1, st->name, st->body, st->len) ||
	    !ps_expect(ps, sv->syncs_sent, PS_REPLY_SWALLOW, true, st, NULL))
		return false;
	count_server_parse(c);
	return true;
}

/* Copies the NUL-terminated string at p (at most max bytes available). */
static const char *name_at(const uint8_t *p, size_t max)
{
	return memchr(p, '\0', max) != NULL ? (const char *)p : NULL;
}

static enum ps_fwd oom(struct client *c)
{
	client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
	return PS_FWD_FAILED;
}

/* An unnamed Parse of "DEALLOCATE name" (psycopg 3 sends its evictions so,
 * with the extended protocol) for one of the client's names: the server
 * deallocates the statement's server-side name instead, after preparing it
 * there if needed, and both the client and the server forget it.  PASS when
 * it is anything else. */
static enum ps_fwd on_parse_deallocate(struct client *c, struct server *sv, const uint8_t *body,
                                       size_t len)
{
	struct ps_registry *reg = &c->fw->prepared;
	char name[PS_CLIENT_NAME_MAX], sql[PS_NAME_MAX + 16];
	const uint8_t *query = body + 1, *query_end, *tail;
	struct ps_stmt *st;
	struct evbuffer *out;
	bool ok;

	if (c->ps == NULL || len < 2 || (query_end = memchr(query, '\0', len - 1)) == NULL ||
	    !ps_parse_deallocate(query, (size_t)(query_end - query), name, sizeof(name)) ||
	    (st = ps_client_find(c->ps, name)) == NULL)
		return PS_FWD_PASS;
	tail = query_end + 1; /* parameter types, unchanged */
	if (!ensure_prepared(c, sv, st))
		return oom(c);
	snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
	out = io_output(sv->io);
	{
		uint32_t body_len = (uint32_t)(1 + strlen(sql) + 1 + (size_t)(body + len - tail));
		uint8_t hdr[6] = {'P',
		                  (uint8_t)((body_len + 4) >> 24),
		                  (uint8_t)((body_len + 4) >> 16),
		                  (uint8_t)((body_len + 4) >> 8),
		                  (uint8_t)(body_len + 4),
		                  '\0'};

		ok = evbuffer_add(out, hdr, sizeof(hdr)) == 0 &&
		     evbuffer_add(out, sql, strlen(sql) + 1) == 0 &&
		     (tail == body + len ||
		      evbuffer_add(out, tail, (size_t)(body + len - tail)) == 0) &&
		     ps_expect(sv->ps, sv->syncs_sent, PS_REPLY_FORWARD, false, NULL, NULL);
	}
	if (!ok)
		return oom(c);
	ps_server_remove(sv->ps, reg, st);
	ps_client_remove(c->ps, reg, name); /* st may be freed from here on */
	return PS_FWD_DONE;
}

static enum ps_fwd on_parse(struct client *c, struct server *sv, const uint8_t *body, size_t len)
{
	struct ps_registry *reg = &c->fw->prepared;
	struct evbuffer *out = io_output(sv->io);
	struct ps_server *ps = server_books(sv);
	const char *name = name_at(body, len);
	const uint8_t *rest;
	size_t rest_len;
	struct ps_stmt *st, *old;
	bool ok;

	if (ps == NULL)
		return oom(c);
	if (name == NULL) {
		client_fail(c, SQLSTATE_PROTOCOL_VIOLATION, "invalid Parse message");
		return PS_FWD_FAILED;
	}
	if (name[0] == '\0') {
		enum ps_fwd r = on_parse_deallocate(c, sv, body, len);

		if (r != PS_FWD_PASS)
			return r;
		/* The unnamed statement is the client's own for this transaction. */
		return ps_expect(ps, sv->syncs_sent, PS_REPLY_FORWARD, false, NULL, NULL)
		           ? PS_FWD_PASS
		           : oom(c);
	}
	rest = body + strlen(name) + 1;
	rest_len = len - (size_t)(rest - body);
	c->pool->db->stats.client_parse_count++;
	c->fw->stats.client_parse_count++;
	if (client_books(c) == NULL)
		return oom(c);
	if ((old = ps_client_find(c->ps, name)) != NULL) {
		/* PostgreSQL refuses a name in use; let it say so, in its place. */
		ok = ensure_prepared(c, sv, old) &&
		     put_named(out, 'P', -1, old->name, rest, rest_len) &&
		     ps_expect(ps, sv->syncs_sent, PS_REPLY_FORWARD, false, NULL, NULL);
		return ok ? PS_FWD_DONE : oom(c);
	}
	st = ps_stmt_get(reg, rest, rest_len);
	if (st == NULL)
		return oom(c);
	if (!ps_client_add(c->ps, name, st)) {
		ps_stmt_put(reg, st);
		return oom(c);
	}
	if (ps_server_has(ps, st)) {
		ok = put_named(out, 'C', 'S', PS_NOOP_NAME, NULL, 0) &&
		     ps_expect(ps, sv->syncs_sent, PS_REPLY_AS_PARSE, false, NULL, NULL);
	} else {
		struct ps_stmt *victim = NULL;
		int max = c->fw->cfg->max_prepared_statements;

		ok = ps_server_add(ps, st, max > 0 ? (size_t)max : 0, &victim);
		if (ok && victim != NULL) {
			ok = put_named(out, 'C', 'S', victim->name, NULL, 0) &&
			     ps_expect(ps, sv->syncs_sent, PS_REPLY_SWALLOW, false, NULL, NULL);
			ps_stmt_put(reg, victim);
		}
		ok = ok && put_named(out, 'P', -1, st->name, rest, rest_len) &&
		     ps_expect(ps, sv->syncs_sent, PS_REPLY_FORWARD, true, st, name);
		if (ok)
			count_server_parse(c);
	}
	return ok ? PS_FWD_DONE : oom(c);
}

static enum ps_fwd on_describe(struct client *c, struct server *sv, const uint8_t *body, size_t len)
{
	const char *name = len > 1 ? name_at(body + 1, len - 1) : NULL;
	struct ps_stmt *st;

	if (name == NULL || body[0] != 'S' || name[0] == '\0' || c->ps == NULL ||
	    (st = ps_client_find(c->ps, name)) == NULL)
		return PS_FWD_PASS;
	if (!ensure_prepared(c, sv, st) ||
	    !put_named(io_output(sv->io), 'D', 'S', st->name, NULL, 0))
		return oom(c);
	return PS_FWD_DONE;
}

static enum ps_fwd on_close(struct client *c, struct server *sv, const uint8_t *body, size_t len)
{
	struct ps_server *ps = server_books(sv);
	const char *name = len > 1 ? name_at(body + 1, len - 1) : NULL;

	if (ps == NULL || !ps_expect(ps, sv->syncs_sent, PS_REPLY_FORWARD, false, NULL, NULL))
		return oom(c);
	if (name == NULL || body[0] != 'S' || name[0] == '\0')
		return PS_FWD_PASS;
	/* The server keeps the statement for others; the client only forgets
	 * its name.  Closing an unknown name is not an error either way. */
	if (c->ps != NULL)
		ps_client_remove(c->ps, &c->fw->prepared, name);
	if (!put_named(io_output(sv->io), 'C', 'S', PS_NOOP_NAME, NULL, 0))
		return oom(c);
	return PS_FWD_DONE;
}

/* Bind: only the two names at its front are rewritten; the parameters,
 * however large, are streamed after them. */
static enum ps_fwd on_bind(struct client *c, struct server *sv, const struct pg_msg_hdr *h)
{
	struct evbuffer *in = io_input(c->io);
	size_t avail = evbuffer_get_length(in), want = 5 + (size_t)h->body_len, head, old_len;
	const uint8_t *p;
	const char *portal, *name;
	struct ps_stmt *st;

	if (want > 5 + 2 * PS_CLIENT_NAME_MAX)
		want = 5 + 2 * PS_CLIENT_NAME_MAX;
	if (avail < want)
		return PS_FWD_MORE;
	p = evbuffer_pullup(in, (ssize_t)want);
	if (p == NULL)
		return oom(c);
	portal = name_at(p + 5, want - 5);
	if (portal == NULL)
		return PS_FWD_PASS;
	head = strlen(portal) + 1;
	name = name_at(p + 5 + head, want - 5 - head);
	if (name == NULL || name[0] == '\0' || c->ps == NULL ||
	    (st = ps_client_find(c->ps, name)) == NULL)
		return PS_FWD_PASS;
	c->pool->db->stats.bind_count++;
	c->fw->stats.bind_count++;
	if (!ensure_prepared(c, sv, st))
		return oom(c);
	old_len = strlen(name) + 1;
	{
		/* The new header: the length changes with the name. */
		struct evbuffer *out = io_output(sv->io);
		uint32_t len = h->body_len - (uint32_t)old_len + (uint32_t)strlen(st->name) + 1;
		uint8_t hdr[5] = {'B', (uint8_t)((len + 4) >> 24), (uint8_t)((len + 4) >> 16),
		                  (uint8_t)((len + 4) >> 8), (uint8_t)(len + 4)};

		if (evbuffer_add(out, hdr, 5) != 0 || evbuffer_add(out, portal, head) != 0 ||
		    evbuffer_add(out, st->name, strlen(st->name) + 1) != 0)
			return oom(c);
	}
	evbuffer_drain(in, 5 + head + old_len);
	c->pkt_remain = h->body_len - (uint32_t)(head + old_len);
	return PS_FWD_DONE;
}

/* The unnamed statement and portals are the client's own: forwarded as
 * they are, which the first bytes of the body tell (Bind needs on_bind). */
static bool plainly_forwarded(const struct client *c, const struct pg_msg_hdr *h, const uint8_t *p,
                              size_t n)
{
	switch (h->type) {
	case 'P':
		/* An unnamed Parse of "DEALLOCATE name" is looked at (on_parse). */
		return n >= 6 && p[5] == '\0' && !(c->ps != NULL && n >= 7 && (p[6] | 0x20) == 'd');
	case 'B':
		return n >= 7 && p[5] == '\0' && p[6] == '\0';
	case 'D':
	case 'C':
		return n >= 7 && (p[5] == 'P' || p[6] == '\0');
	default:
		return true;
	}
}

int ps_client_plain(const struct client *c, struct server *sv, const struct pg_msg_hdr *h,
                    const uint8_t *msg)
{
	if (!plainly_forwarded(c, h, msg,
	                       5 + (size_t)h->body_len < 7 ? 5 + (size_t)h->body_len : 7))
		return 0;
	if ((h->type == 'P' || h->type == 'C') &&
	    (server_books(sv) == NULL ||
	     !ps_expect(sv->ps, sv->syncs_sent, PS_REPLY_FORWARD, false, NULL, NULL)))
		return -1;
	return 1;
}

enum ps_fwd ps_client_msg(struct client *c, struct server *sv, const struct pg_msg_hdr *h)
{
	struct evbuffer *in = io_input(c->io);
	size_t avail = evbuffer_get_length(in), peek = 5 + (size_t)h->body_len;
	const uint8_t *p;
	enum ps_fwd r;

	if (peek > 7)
		peek = 7;
	if (avail < peek)
		return PS_FWD_MORE;
	p = evbuffer_pullup(in, (ssize_t)peek);
	if (p == NULL)
		return oom(c);
	switch (ps_client_plain(c, sv, h, p)) {
	case 1:
		return PS_FWD_PASS;
	case -1:
		return oom(c);
	default:
		break;
	}
	if (h->type == 'B')
		return on_bind(c, sv, h);
	if (h->type == 'D' && h->body_len > 1 + PS_CLIENT_NAME_MAX)
		return PS_FWD_PASS;
	if (avail < 5 + (size_t)h->body_len)
		return PS_FWD_MORE;
	p = evbuffer_pullup(in, 5 + (ssize_t)h->body_len);
	if (p == NULL)
		return oom(c);
	switch (h->type) {
	case 'P':
		r = on_parse(c, sv, p + 5, h->body_len);
		break;
	case 'D':
		r = on_describe(c, sv, p + 5, h->body_len);
		break;
	case 'C':
		r = on_close(c, sv, p + 5, h->body_len);
		break;
	default:
		return PS_FWD_PASS;
	}
	if (r == PS_FWD_DONE)
		evbuffer_drain(in, 5 + (size_t)h->body_len);
	return r;
}

/* --- SQL-level DEALLOCATE of a client's protocol-level name ----------------- */

static bool is_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Skips one keyword (case-insensitive) followed by a space; false if absent. */
static bool skip_keyword(const uint8_t **p, const uint8_t *end, const char *kw)
{
	size_t n = strlen(kw);

	if ((size_t)(end - *p) <= n || strncasecmp((const char *)*p, kw, n) != 0 ||
	    !is_space((*p)[n]))
		return false;
	*p += n;
	while (*p < end && is_space(**p))
		(*p)++;
	return true;
}

bool ps_parse_deallocate(const uint8_t *q, size_t len, char *name, size_t name_size)
{
	const uint8_t *p = q, *end = q + len;
	size_t n = 0;

	while (end > p && (end[-1] == '\0' || is_space(end[-1]) || end[-1] == ';'))
		end--;
	while (p < end && is_space(*p))
		p++;
	if (!skip_keyword(&p, end, "DEALLOCATE"))
		return false;
	(void)skip_keyword(&p, end, "PREPARE");
	if (p < end && *p == '"') {
		/* A quoted name, "" standing for one quote. */
		for (p++; p < end; p++) {
			if (*p == '"') {
				if (p + 1 < end && p[1] == '"') {
					p++;
				} else {
					p++;
					break;
				}
			}
			if (*p == '\0' || n + 1 >= name_size)
				return false;
			name[n++] = (char)*p;
		}
		if (p != end || n == 0 || q[(size_t)(p - q) - 1] != '"')
			return false;
	} else {
		/* An unquoted name: folded to lower case, as PostgreSQL does. */
		for (; p < end; p++) {
			uint8_t ch = *p;

			if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (n > 0 && ((ch >= '0' && ch <= '9') || ch == '$'))) ||
			    n + 1 >= name_size)
				return false;
			name[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		/* DEALLOCATE ALL is the server's business. */
		if (n == 0 || (n == 3 && memcmp(name, "all", 3) == 0))
			return false;
	}
	name[n] = '\0';
	return true;
}

bool ps_client_deallocate(struct client *c, const struct pg_msg_hdr *h, char xact_status)
{
	struct evbuffer *in = io_input(c->io), *out = io_output(c->io);
	char name[PS_CLIENT_NAME_MAX];
	const uint8_t *p;

	if (c->ps == NULL || h->type != 'Q' || h->body_len > PS_CLIENT_NAME_MAX + 64 ||
	    evbuffer_get_length(in) < 5 + (size_t)h->body_len)
		return false;
	p = evbuffer_pullup(in, 5 + (ssize_t)h->body_len);
	if (p == NULL || !ps_parse_deallocate(p + 5, h->body_len, name, sizeof(name)) ||
	    !ps_client_remove(c->ps, &c->fw->prepared, name))
		return false;
	/* The statement stays prepared on the servers for other clients. */
	evbuffer_drain(in, 5 + (size_t)h->body_len);
	if (!proto_put_command_complete(out, "DEALLOCATE") || !proto_put_rfq(out, xact_status))
		client_fail(c, SQLSTATE_INTERNAL_ERROR, "out of memory");
	return true;
}

enum ps_srv ps_server_msg(struct server *sv, const struct pg_msg_hdr *h, size_t avail)
{
	struct client *c = sv->client;
	struct ps_registry *reg = &sv->fw->prepared;
	struct evbuffer *in = io_input(sv->io);
	enum ps_reply reply;

	if (h->type == 'C') {
		/* DISCARD ALL and DEALLOCATE ALL drop every statement on the server. */
		const uint8_t *p;

		if (h->body_len != sizeof("DISCARD ALL") && h->body_len != sizeof("DEALLOCATE ALL"))
			return PS_SRV_PASS;
		if (avail < 5 + (size_t)h->body_len)
			return PS_SRV_MORE;
		p = evbuffer_pullup(in, 5 + (ssize_t)h->body_len);
		if (p != NULL && (memcmp(p + 5, "DISCARD ALL", sizeof("DISCARD ALL")) == 0 ||
		                  memcmp(p + 5, "DEALLOCATE ALL", sizeof("DEALLOCATE ALL")) == 0)) {
			if (sv->ps != NULL)
				ps_server_forget_all(sv->ps, reg);
			if (c->ps != NULL)
				ps_client_clear(c->ps, reg);
		}
		return PS_SRV_PASS;
	}
	if (sv->ps == NULL || h->body_len != 0 || !ps_reply(sv->ps, reg, &reply))
		return PS_SRV_PASS;
	evbuffer_drain(in, 5);
	if (reply == PS_REPLY_SWALLOW)
		return PS_SRV_DONE;
	if (!proto_put_msg(io_output(c->io), reply == PS_REPLY_AS_PARSE ? '1' : h->type, NULL, 0)) {
		server_close(sv, "out of memory");
		return PS_SRV_FAILED;
	}
	return PS_SRV_DONE;
}

bool ps_server_reply_passes(struct server *sv)
{
	struct ps_server *ps = sv->ps;
	enum ps_reply reply;

	if (ps == NULL || ps->q_len == 0)
		return true;
	if (ps->queue[ps->q_head].reply != PS_REPLY_FORWARD)
		return false;
	ps_reply(ps, &sv->fw->prepared, &reply);
	return true;
}

void ps_server_rfq(struct server *sv)
{
	sv->syncs_seen++;
	if (sv->ps != NULL)
		ps_sync_seen(sv->ps, &sv->fw->prepared, sv->client ? sv->client->ps : NULL,
		             sv->syncs_seen);
}

void ps_server_internal_tag(struct server *sv, const char *tag)
{
	if (sv->ps != NULL &&
	    (strcmp(tag, "DISCARD ALL") == 0 || strcmp(tag, "DEALLOCATE ALL") == 0))
		ps_server_forget_all(sv->ps, &sv->fw->prepared);
}

void ps_server_free(struct server *sv)
{
	if (sv->ps != NULL) {
		ps_server_clear(sv->ps, &sv->fw->prepared);
		free(sv->ps);
		sv->ps = NULL;
	}
}

void ps_client_free(struct client *c)
{
	if (c->ps != NULL) {
		ps_client_clear(c->ps, &c->fw->prepared);
		free(c->ps);
		c->ps = NULL;
	}
}

size_t ps_client_count(const struct client *c)
{
	return c->ps != NULL ? c->ps->count : 0;
}

size_t ps_server_count(const struct server *sv)
{
	return sv->ps != NULL ? sv->ps->count : 0;
}
