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
#include <stdlib.h>
#include <string.h>

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
static bool plainly_forwarded(const struct pg_msg_hdr *h, const uint8_t *p, size_t n)
{
	switch (h->type) {
	case 'P':
		return n >= 6 && p[5] == '\0';
	case 'B':
		return n >= 7 && p[5] == '\0' && p[6] == '\0';
	case 'D':
	case 'C':
		return n >= 7 && (p[5] == 'P' || p[6] == '\0');
	default:
		return true;
	}
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
	if (plainly_forwarded(h, p, peek)) {
		/* Their replies still take their place in the queue. */
		if ((h->type == 'P' || h->type == 'C') &&
		    (server_books(sv) == NULL ||
		     !ps_expect(sv->ps, sv->syncs_sent, PS_REPLY_FORWARD, false, NULL, NULL)))
			return oom(c);
		return PS_FWD_PASS;
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
