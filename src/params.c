/* Tracked server parameters and the SET statements that sync them. */
#include "params.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- interned values ------------------------------------------------------ */

struct pstr {
	uint32_t refs;
	uint32_t hash;
	struct pstr *next;
	char s[];
};

/* Process-wide: values are shared by every client and server (one thread). */
static struct {
	struct pstr **buckets;
	size_t n_buckets, count;
} interned;

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static struct pstr *pstr_of(const char *s)
{
	return (struct pstr *)(void *)(s - offsetof(struct pstr, s));
}

static bool intern_grow(void)
{
	size_t n = interned.n_buckets ? interned.n_buckets * 2 : 64;
	struct pstr **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return false;
	for (size_t i = 0; i < interned.n_buckets; i++) {
		struct pstr *p = interned.buckets[i];

		while (p != NULL) {
			struct pstr *next = p->next;

			p->next = b[p->hash & (n - 1)];
			b[p->hash & (n - 1)] = p;
			p = next;
		}
	}
	free(interned.buckets);
	interned.buckets = b;
	interned.n_buckets = n;
	return true;
}

/* The interned copy of value, with one more reference; NULL when out of memory. */
static const char *intern_get(const char *value)
{
	uint32_t h = str_hash(value);
	size_t len;
	struct pstr *p;

	if (interned.n_buckets > 0) {
		for (p = interned.buckets[h & (interned.n_buckets - 1)]; p != NULL; p = p->next) {
			if (p->hash == h && strcmp(p->s, value) == 0) {
				p->refs++;
				return p->s;
			}
		}
	}
	if (interned.count >= interned.n_buckets && !intern_grow())
		return NULL;
	len = strlen(value) + 1;
	p = malloc(sizeof(*p) + len);
	if (p == NULL)
		return NULL;
	p->refs = 1;
	p->hash = h;
	memcpy(p->s, value, len);
	p->next = interned.buckets[h & (interned.n_buckets - 1)];
	interned.buckets[h & (interned.n_buckets - 1)] = p;
	interned.count++;
	return p->s;
}

static void intern_put(const char *s)
{
	struct pstr *p, **pp;

	if (s == NULL || --(p = pstr_of(s))->refs > 0)
		return;
	for (pp = &interned.buckets[p->hash & (interned.n_buckets - 1)]; *pp != p;
	     pp = &(*pp)->next)
		;
	*pp = p->next;
	free(p);
	if (--interned.count == 0) {
		free(interned.buckets);
		interned.buckets = NULL;
		interned.n_buckets = 0;
	}
}

const char *params_intern(const char *s)
{
	return intern_get(s);
}

void params_release(const char *s)
{
	intern_put(s);
}

/* --- tracked names -------------------------------------------------------- */

static const char *const always_tracked[] = {
    "client_encoding", "DateStyle",        "TimeZone", "standard_conforming_strings",
    "IntervalStyle",   "application_name",
};
_Static_assert(PARAM_SLOT_APPLICATION_NAME == 5, "application_name is the sixth tracked name");

/* A name goes into "SET name=..." unquoted, so it must be a plain
 * identifier: a letter or '_', then letters, digits, '_' and '.'. */
static bool is_param_name(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		      (i > 0 && ((c >= '0' && c <= '9') || c == '.'))))
			return false;
	}
	return len > 0;
}

static bool add_name(struct param_names *pn, const char *name, size_t len)
{
	if (!is_param_name(name, len))
		return false;
	for (size_t i = 0; i < pn->n; i++)
		if (strlen(pn->names[i]) == len && strncasecmp(pn->names[i], name, len) == 0)
			return true;
	if (pn->n == PARAM_SLOTS)
		return false;
	pn->names[pn->n] = strndup(name, len);
	if (pn->names[pn->n] == NULL)
		return false;
	pn->n++;
	return true;
}

bool params_names_init(struct param_names *pn, const char *extra)
{
	memset(pn, 0, sizeof(*pn));
	for (size_t i = 0; i < sizeof(always_tracked) / sizeof(always_tracked[0]); i++)
		if (!add_name(pn, always_tracked[i], strlen(always_tracked[i])))
			return false;
	while (extra != NULL && *extra != '\0') {
		size_t len;

		extra += strspn(extra, ", \t");
		len = strcspn(extra, ", \t");
		if (len > 0 && !add_name(pn, extra, len))
			return false;
		extra += len;
	}
	return true;
}

void params_names_free(struct param_names *pn)
{
	for (size_t i = 0; i < pn->n; i++)
		free(pn->names[i]);
	memset(pn, 0, sizeof(*pn));
}

int params_slot(const struct param_names *pn, const char *name)
{
	for (size_t i = 0; i < pn->n; i++)
		if (strcasecmp(pn->names[i], name) == 0)
			return (int)i;
	return -1;
}

/* --- value sets ------------------------------------------------------------ */

/* The interned sets, by content (values are interned, so equal sets hold equal
 * pointers).  A set with one reference is changed in place. */
static struct {
	struct param_vals **buckets;
	size_t n_buckets, count;
} sets;

static uint32_t vals_hash(const struct param_vals *v)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < PARAM_SLOTS; i++) {
		h ^= v->val[i] != NULL ? pstr_of(v->val[i])->hash : 0;
		h *= 16777619u;
	}
	return h;
}

static bool sets_grow(void)
{
	size_t n = sets.n_buckets ? sets.n_buckets * 2 : 64;
	struct param_vals **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return false;
	for (size_t i = 0; i < sets.n_buckets; i++) {
		struct param_vals *v = sets.buckets[i];

		while (v != NULL) {
			struct param_vals *next = v->next;

			v->next = b[v->hash & (n - 1)];
			b[v->hash & (n - 1)] = v;
			v = next;
		}
	}
	free(sets.buckets);
	sets.buckets = b;
	sets.n_buckets = n;
	return true;
}

static struct param_vals *sets_find(const struct param_vals *key)
{
	if (sets.n_buckets == 0)
		return NULL;
	for (struct param_vals *v = sets.buckets[key->hash & (sets.n_buckets - 1)]; v != NULL;
	     v = v->next) {
		if (v->hash == key->hash && memcmp(v->val, key->val, sizeof(v->val)) == 0)
			return v;
	}
	return NULL;
}

/* The table has room (sets_grow) before this is called. */
static void sets_insert(struct param_vals *v)
{
	struct param_vals **b = &sets.buckets[v->hash & (sets.n_buckets - 1)];

	v->next = *b;
	*b = v;
	sets.count++;
}

static void sets_unlink(struct param_vals *v)
{
	struct param_vals **pp = &sets.buckets[v->hash & (sets.n_buckets - 1)];

	while (*pp != v)
		pp = &(*pp)->next;
	*pp = v->next;
	sets.count--;
}

/* Gives back one reference to a set (and its values' with the last one). */
static void vals_put(struct param_vals *v)
{
	if (v == NULL || --v->refs > 0)
		return;
	sets_unlink(v);
	for (int i = 0; i < PARAM_SLOTS; i++)
		intern_put(v->val[i]);
	free(v);
	if (sets.count == 0) {
		free(sets.buckets);
		sets.buckets = NULL;
		sets.n_buckets = 0;
	}
}

bool params_set(struct param_set *ps, int slot, const char *value)
{
	const char *cur = slot >= 0 && slot < PARAM_SLOTS ? params_get(ps, slot) : NULL;
	struct param_vals want, *v, *old = ps->v;
	const char *copy = NULL;
	bool empty = true;

	if (slot < 0 || slot >= PARAM_SLOTS)
		return true;
	if (cur == value || (cur != NULL && value != NULL && strcmp(cur, value) == 0))
		return true;
	if (value != NULL && (copy = intern_get(value)) == NULL)
		return false;
	/* The set wanted, on the stack: an equal one may exist already. */
	memset(&want, 0, sizeof(want));
	if (old != NULL)
		memcpy(want.val, old->val, sizeof(want.val));
	want.val[slot] = copy;
	for (int i = 0; i < PARAM_SLOTS; i++)
		empty = empty && want.val[i] == NULL;
	if (empty) {
		ps->v = NULL;
		vals_put(old);
		return true;
	}
	want.hash = vals_hash(&want);
	if ((v = sets_find(&want)) != NULL) {
		/* Shared: copy's reference is not needed, the set holds one. */
		intern_put(copy);
		v->refs++;
		ps->v = v;
		vals_put(old);
		return true;
	}
	if (old != NULL && old->refs == 1) {
		/* Ours alone: change it in place (no allocation). */
		sets_unlink(old);
		intern_put(old->val[slot]);
		old->val[slot] = copy;
		old->hash = want.hash;
		sets_insert(old);
		return true;
	}
	if ((sets.count >= sets.n_buckets && !sets_grow()) || (v = malloc(sizeof(*v))) == NULL) {
		intern_put(copy);
		return false;
	}
	*v = want;
	v->refs = 1;
	for (int i = 0; i < PARAM_SLOTS; i++) {
		if (i != slot && v->val[i] != NULL)
			pstr_of(v->val[i])->refs++;
	}
	sets_insert(v);
	ps->v = v;
	vals_put(old);
	return true;
}

void params_clear(struct param_set *ps)
{
	vals_put(ps->v);
	ps->v = NULL;
}

bool params_copy(struct param_set *dst, const struct param_set *src)
{
	/* Interned: sharing a set is taking a reference. */
	if (dst->v == src->v)
		return true;
	if (src->v != NULL)
		src->v->refs++;
	vals_put(dst->v);
	dst->v = src->v;
	return true;
}

/* Appends s to buf (growing it), doubling single quotes and backslashes when
 * quote (the caller writes E'...' when s holds a backslash, so the literal
 * means the same whatever standard_conforming_strings the server has). */
static bool append(char **buf, size_t *len, size_t *cap, const char *s, bool quote)
{
	for (; *s; s++) {
		size_t need = *len + 3;

		if (need > *cap) {
			size_t ncap = *cap ? *cap * 2 : 128;
			char *n;

			while (ncap < need)
				ncap *= 2;
			n = realloc(*buf, ncap);
			if (n == NULL)
				return false;
			*buf = n;
			*cap = ncap;
		}
		if (quote && (*s == '\'' || *s == '\\'))
			(*buf)[(*len)++] = *s;
		(*buf)[(*len)++] = *s;
		(*buf)[*len] = '\0';
	}
	return true;
}

char *params_sync_sql(const struct param_names *pn, const struct param_set *want,
                      const struct param_set *have, bool *oom)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;

	*oom = false;
	if (want->v == NULL || want->v == have->v) /* interned sets */
		return NULL;
	for (size_t i = 0; i < pn->n; i++) {
		/* Interned values: equal strings are the same pointer. */
		const char *w = params_get(want, (int)i);

		if (w == NULL || w == params_get(have, (int)i))
			continue;
		if (!append(&buf, &len, &cap, "SET ", false) ||
		    !append(&buf, &len, &cap, pn->names[i], false) ||
		    !append(&buf, &len, &cap, strchr(w, '\\') ? "=E'" : "='", false) ||
		    !append(&buf, &len, &cap, w, true) || !append(&buf, &len, &cap, "';", false)) {
			free(buf);
			*oom = true;
			return NULL;
		}
	}
	return buf;
}
