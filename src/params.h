/* Tracked server parameters (client_encoding, DateStyle, TimeZone, ...):
 * which names are tracked, each client's wanted values and each server's
 * current values, and the SET statement that brings a server in line.  Pure. */
#ifndef FAIRWAY_PARAMS_H
#define FAIRWAY_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARAM_SLOTS 16

/* application_name is always tracked, in this slot. */
#define PARAM_SLOT_APPLICATION_NAME 5

/* The tracked names, in the spelling the server reports them. */
struct param_names {
	size_t n;
	char *names[PARAM_SLOTS]; /* owned */
};

/* One value per tracked slot; NULL = unknown / not set.  The strings are
 * interned: one reference-counted copy per distinct value in the process, so
 * thousands of clients with the same client_encoding share one string, and
 * equal values are equal pointers.  The sets are interned too: clients (and
 * servers) whose values are all the same share one struct param_vals, so an
 * idle client pays a pointer for its parameters, and equal sets are equal
 * pointers.  Read with params_get; change only through params_set/clear/copy. */
struct param_vals {
	uint32_t refs;
	uint32_t hash;
	struct param_vals *next; /* in the process-wide table of sets */
	const char *val[PARAM_SLOTS];
};

struct param_set {
	struct param_vals *v; /* shared, one reference; NULL = every slot unset */
};

static inline const char *params_get(const struct param_set *ps, int slot)
{
	return ps->v != NULL ? ps->v->val[slot] : NULL;
}

/* Builds the list: the five PostgreSQL always tracks plus application_name
 * and the comma-separated extras (track_extra_parameters).  false = too many,
 * or an extra that is not a parameter name (letters, digits, '_', '.'). */
bool params_names_init(struct param_names *pn, const char *extra);
void params_names_free(struct param_names *pn);
/* Slot of a name (case-insensitive), or -1 when not tracked. */
int params_slot(const struct param_names *pn, const char *name);

/* The process-wide interned copy of s, one more reference (NULL when out of
 * memory); and giving a reference back.  Also for user and database names,
 * which thousands of clients share. */
const char *params_intern(const char *s);
void params_release(const char *s);

bool params_set(struct param_set *ps, int slot, const char *value);
void params_clear(struct param_set *ps);
bool params_copy(struct param_set *dst, const struct param_set *src);

/* "SET a='x';SET b='y'" for every slot where want has a value that differs
 * from have; NULL when nothing differs (or out of memory: *oom set). */
char *params_sync_sql(const struct param_names *pn, const struct param_set *want,
                      const struct param_set *have, bool *oom);

#endif
