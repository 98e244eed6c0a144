/* Prepared-statement bookkeeping: the registry of statement texts, each
 * client's names, each server's LRU cache and its queue of owed replies. */
#include "prepared.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: statement texts are hashed once per Parse, names once per Bind. */
static uint32_t hash_bytes(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* --- registry --------------------------------------------------------------- */

void ps_registry_init(struct ps_registry *reg)
{
	memset(reg, 0, sizeof(*reg));
}

void ps_registry_free(struct ps_registry *reg)
{
	for (size_t i = 0; i < reg->n_buckets; i++) {
		struct ps_stmt *st = reg->buckets[i];

		while (st != NULL) {
			struct ps_stmt *next = st->next;

			free(st);
			st = next;
		}
	}
	free(reg->buckets);
	memset(reg, 0, sizeof(*reg));
}

static bool registry_grow(struct ps_registry *reg)
{
	size_t n = reg->n_buckets ? reg->n_buckets * 2 : 64;
	struct ps_stmt **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return false;
	for (size_t i = 0; i < reg->n_buckets; i++) {
		struct ps_stmt *st = reg->buckets[i];

		while (st != NULL) {
			struct ps_stmt *next = st->next;

			st->next = b[st->hash & (n - 1)];
			b[st->hash & (n - 1)] = st;
			st = next;
		}
	}
	free(reg->buckets);
	reg->buckets = b;
	reg->n_buckets = n;
	return true;
}

struct ps_stmt *ps_stmt_get(struct ps_registry *reg, const uint8_t *body, size_t len)
{
	uint32_t h = hash_bytes(body, len);
	struct ps_stmt *st;

	if (reg->n_buckets > 0) {
		for (st = reg->buckets[h & (reg->n_buckets - 1)]; st != NULL; st = st->next) {
			if (st->hash == h && st->len == len && memcmp(st->body, body, len) == 0) {
				st->refs++;
				return st;
			}
		}
	}
	if (reg->count >= reg->n_buckets && !registry_grow(reg))
		return NULL;
	st = malloc(sizeof(*st) + len);
	if (st == NULL)
		return NULL;
	st->id = ++reg->next_id;
	st->hash = h;
	st->refs = 1;
	snprintf(st->name, sizeof(st->name), "fw_ps_%" PRIu64, st->id);
	st->len = len;
	memcpy(st->body, body, len);
	st->next = reg->buckets[h & (reg->n_buckets - 1)];
	reg->buckets[h & (reg->n_buckets - 1)] = st;
	reg->count++;
	return st;
}

void ps_stmt_put(struct ps_registry *reg, struct ps_stmt *st)
{
	struct ps_stmt **pp;

	if (st == NULL || --st->refs > 0)
		return;
	for (pp = &reg->buckets[st->hash & (reg->n_buckets - 1)]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	reg->count--;
	free(st);
}

/* --- a client's names --------------------------------------------------------- */

static size_t client_home(const struct ps_client *pc, const char *name)
{
	return hash_bytes(name, strlen(name)) & (pc->cap - 1);
}

struct ps_stmt *ps_client_find(const struct ps_client *pc, const char *name)
{
	if (pc->count == 0)
		return NULL;
	for (size_t i = client_home(pc, name);; i = (i + 1) & (pc->cap - 1)) {
		const struct ps_client_slot *s = &pc->slots[i];

		if (s->name == NULL)
			return NULL;
		if (strcmp(s->name, name) == 0)
			return s->st;
	}
}

static void client_place(struct ps_client *pc, char *name, struct ps_stmt *st)
{
	size_t i = client_home(pc, name);

	while (pc->slots[i].name != NULL)
		i = (i + 1) & (pc->cap - 1);
	pc->slots[i].name = name;
	pc->slots[i].st = st;
}

static bool client_grow(struct ps_client *pc)
{
	struct ps_client old = *pc;
	size_t cap = pc->cap ? pc->cap * 2 : 8;

	pc->slots = calloc(cap, sizeof(*pc->slots));
	if (pc->slots == NULL) {
		*pc = old;
		return false;
	}
	pc->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].name != NULL)
			client_place(pc, old.slots[i].name, old.slots[i].st);
	}
	free(old.slots);
	return true;
}

bool ps_client_add(struct ps_client *pc, const char *name, struct ps_stmt *st)
{
	char *copy;

	/* At most three quarters full, so probes stay short and end. */
	if ((pc->count + 1) * 4 > pc->cap * 3 && !client_grow(pc))
		return false;
	copy = strdup(name);
	if (copy == NULL)
		return false;
	client_place(pc, copy, st);
	pc->count++;
	return true;
}

bool ps_client_remove(struct ps_client *pc, struct ps_registry *reg, const char *name)
{
	size_t i, j;

	if (pc->count == 0)
		return false;
	for (i = client_home(pc, name);; i = (i + 1) & (pc->cap - 1)) {
		if (pc->slots[i].name == NULL)
			return false;
		if (strcmp(pc->slots[i].name, name) == 0)
			break;
	}
	free(pc->slots[i].name);
	ps_stmt_put(reg, pc->slots[i].st);
	pc->slots[i].name = NULL;
	pc->count--;
	/* Backward-shift deletion: move later members of the run into the hole
	 * when their home is not between the hole and where they sit. */
	for (j = (i + 1) & (pc->cap - 1); pc->slots[j].name != NULL; j = (j + 1) & (pc->cap - 1)) {
		size_t home = client_home(pc, pc->slots[j].name);
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);

		if (stays)
			continue;
		pc->slots[i] = pc->slots[j];
		pc->slots[j].name = NULL;
		i = j;
	}
	return true;
}

void ps_client_clear(struct ps_client *pc, struct ps_registry *reg)
{
	for (size_t i = 0; i < pc->cap; i++) {
		if (pc->slots[i].name != NULL) {
			free(pc->slots[i].name);
			ps_stmt_put(reg, pc->slots[i].st);
		}
	}
	free(pc->slots);
	memset(pc, 0, sizeof(*pc));
}

/* --- a server's cache ----------------------------------------------------------- */

static size_t server_home(const struct ps_server *ps, uint64_t id)
{
	return (size_t)(id * 0x9E3779B97F4A7C15ull >> 32) & (ps->cap - 1);
}

static struct ps_cached *server_find(const struct ps_server *ps, const struct ps_stmt *st)
{
	if (ps->count == 0)
		return NULL;
	for (size_t i = server_home(ps, st->id);; i = (i + 1) & (ps->cap - 1)) {
		if (ps->slots[i].st == NULL)
			return NULL;
		if (ps->slots[i].st == st)
			return &ps->slots[i];
	}
}

bool ps_server_has(struct ps_server *ps, const struct ps_stmt *st)
{
	struct ps_cached *e = server_find(ps, st);

	if (e == NULL)
		return false;
	e->used = ++ps->clock;
	return true;
}

static void server_place(struct ps_server *ps, struct ps_stmt *st, uint64_t used)
{
	size_t i = server_home(ps, st->id);

	while (ps->slots[i].st != NULL)
		i = (i + 1) & (ps->cap - 1);
	ps->slots[i].st = st;
	ps->slots[i].used = used;
}

static bool server_grow(struct ps_server *ps)
{
	struct ps_cached *old = ps->slots;
	size_t old_cap = ps->cap, cap = ps->cap ? ps->cap * 2 : 8;

	ps->slots = calloc(cap, sizeof(*ps->slots));
	if (ps->slots == NULL) {
		ps->slots = old;
		return false;
	}
	ps->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].st != NULL)
			server_place(ps, old[i].st, old[i].used);
	}
	free(old);
	return true;
}

/* Takes slot i out, shifting the rest of its run back; returns its statement. */
static struct ps_stmt *server_take(struct ps_server *ps, size_t i)
{
	struct ps_stmt *st = ps->slots[i].st;

	ps->slots[i].st = NULL;
	ps->count--;
	for (size_t j = (i + 1) & (ps->cap - 1); ps->slots[j].st != NULL;
	     j = (j + 1) & (ps->cap - 1)) {
		size_t home = server_home(ps, ps->slots[j].st->id);
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);

		if (stays)
			continue;
		ps->slots[i] = ps->slots[j];
		ps->slots[j].st = NULL;
		i = j;
	}
	return st;
}

bool ps_server_add(struct ps_server *ps, struct ps_stmt *st, size_t max, struct ps_stmt **victim)
{
	*victim = NULL;
	if ((ps->count + 1) * 4 > ps->cap * 3 && !server_grow(ps))
		return false;
	server_place(ps, st, ++ps->clock);
	ps->count++;
	st->refs++;
	if (max > 0 && ps->count > max) {
		size_t oldest = SIZE_MAX;

		for (size_t i = 0; i < ps->cap; i++) {
			if (ps->slots[i].st == NULL || ps->slots[i].st == st)
				continue;
			if (oldest == SIZE_MAX || ps->slots[i].used < ps->slots[oldest].used)
				oldest = i;
		}
		if (oldest != SIZE_MAX)
			*victim = server_take(ps, oldest);
	}
	return true;
}

void ps_server_remove(struct ps_server *ps, struct ps_registry *reg, const struct ps_stmt *st)
{
	struct ps_cached *e = server_find(ps, st);

	if (e != NULL)
		ps_stmt_put(reg, server_take(ps, (size_t)(e - ps->slots)));
}

void ps_server_forget_all(struct ps_server *ps, struct ps_registry *reg)
{
	for (size_t i = 0; i < ps->cap; i++) {
		if (ps->slots[i].st != NULL) {
			ps_stmt_put(reg, ps->slots[i].st);
			ps->slots[i].st = NULL;
		}
	}
	ps->count = 0;
}

void ps_server_clear(struct ps_server *ps, struct ps_registry *reg)
{
	ps_server_forget_all(ps, reg);
	free(ps->slots);
	while (ps->q_len > 0) {
		ps_stmt_put(reg, ps->queue[ps->q_head].st);
		free(ps->queue[ps->q_head].name);
		ps->q_head = (ps->q_head + 1) % ps->q_cap;
		ps->q_len--;
	}
	free(ps->queue);
	memset(ps, 0, sizeof(*ps));
}

/* --- owed replies ------------------------------------------------------------------ */

bool ps_expect(struct ps_server *ps, uint32_t seq, enum ps_reply reply, bool uncache,
               struct ps_stmt *st, const char *name)
{
	struct ps_pending *e;
	char *copy = NULL;

	if (name != NULL && (copy = strdup(name)) == NULL)
		return false;

	if (ps->q_len == ps->q_cap) {
		size_t cap = ps->q_cap ? ps->q_cap * 2 : 8;
		struct ps_pending *q = malloc(cap * sizeof(*q));

		if (q == NULL) {
			free(copy);
			return false;
		}
		for (size_t i = 0; i < ps->q_len; i++)
			q[i] = ps->queue[(ps->q_head + i) % ps->q_cap];
		free(ps->queue);
		ps->queue = q;
		ps->q_cap = cap;
		ps->q_head = 0;
	}
	e = &ps->queue[(ps->q_head + ps->q_len) % ps->q_cap];
	e->reply = (uint8_t)reply;
	e->uncache = uncache;
	e->seq = seq;
	e->st = st;
	e->name = copy;
	if (st != NULL)
		st->refs++;
	ps->q_len++;
	return true;
}

bool ps_reply(struct ps_server *ps, struct ps_registry *reg, enum ps_reply *reply)
{
	struct ps_pending *e;

	if (ps->q_len == 0)
		return false;
	e = &ps->queue[ps->q_head];
	*reply = (enum ps_reply)e->reply;
	ps_stmt_put(reg, e->st);
	free(e->name);
	ps->q_head = (ps->q_head + 1) % ps->q_cap;
	ps->q_len--;
	return true;
}

void ps_sync_seen(struct ps_server *ps, struct ps_registry *reg, struct ps_client *pc,
                  uint32_t seen)
{
	while (ps->q_len > 0) {
		struct ps_pending *e = &ps->queue[ps->q_head];

		/* Sent after the Sync this ReadyForQuery answers: still owed. */
		if ((int32_t)(e->seq - seen) >= 0)
			break;
		if (e->uncache && e->st != NULL)
			ps_server_remove(ps, reg, e->st);
		if (e->name != NULL && pc != NULL && ps_client_find(pc, e->name) == e->st)
			ps_client_remove(pc, reg, e->name);
		free(e->name);
		ps_stmt_put(reg, e->st);
		ps->q_head = (ps->q_head + 1) % ps->q_cap;
		ps->q_len--;
	}
}
