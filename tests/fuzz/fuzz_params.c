/* libFuzzer harness: tracked parameters and the SET statements that sync
 * them onto a server (src/params.c).  The input, split at 0xFF bytes, is the
 * track_extra_parameters list, then the values a client wants, slot by slot.
 * The SQL must be a plain sequence of SET <identifier>='<literal>'; whose
 * literals read back (as PostgreSQL reads them) to exactly the wanted values:
 * nothing in a value may end its literal or start another statement. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dup_range(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	assert(s != NULL);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static bool is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

/* Reads one SET statement at *pp; returns the slot's value it sets. */
static char *read_set(const char **pp, const struct param_names *pn, size_t *slot)
{
	const char *p = *pp;
	bool escaped;
	char *val, *w;

	assert(strncmp(p, "SET ", 4) == 0);
	p += 4;
	for (*slot = 0; *slot < pn->n; (*slot)++) {
		size_t n = strlen(pn->names[*slot]);

		if (strncmp(p, pn->names[*slot], n) == 0 && p[n] == '=')
			break;
	}
	assert(*slot < pn->n);
	for (const char *c = pn->names[*slot]; *c; c++)
		assert(is_ident_char(*c)); /* an unquoted name must be an identifier */
	p += strlen(pn->names[*slot]) + 1;
	escaped = *p == 'E';
	if (escaped)
		p++;
	assert(*p == '\'');
	p++;
	val = w = malloc(strlen(p) + 1);
	assert(val != NULL);
	for (;;) {
		assert(*p != '\0');
		if (p[0] == '\'' && p[1] == '\'') {
			*w++ = '\'';
			p += 2;
		} else if (p[0] == '\'') {
			break;
		} else if (escaped && p[0] == '\\') {
			assert(p[1] == '\\' || p[1] == '\'');
			*w++ = p[1];
			p += 2;
		} else {
			assert(escaped || p[0] != '\\'); /* plain literals hold no backslash */
			*w++ = *p++;
		}
	}
	*w = '\0';
	assert(p[1] == ';');
	*pp = p + 2;
	return val;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct param_names pn;
	struct param_set want = {NULL}, have = {NULL};
	size_t start = 0, part = 0;
	char *extra = NULL, *sql;
	bool oom, seen[PARAM_SLOTS] = {false};

	for (size_t i = 0; i <= size; i++) {
		char *s;

		if (i < size && data[i] != 0xff)
			continue;
		s = dup_range(data + start, i - start);
		start = i + 1;
		if (part == 0) {
			extra = s;
		} else {
			/* odd parts: what the client wants; even: what the server has */
			int slot = (int)((part - 1) / 2);

			if (!params_set((part % 2) ? &want : &have, slot, s))
				abort();
			free(s);
		}
		part++;
	}
	if (!params_names_init(&pn, extra)) {
		params_names_free(&pn);
		goto out;
	}
	for (size_t i = 0; i < pn.n; i++)
		assert(params_slot(&pn, pn.names[i]) == (int)i);
	sql = params_sync_sql(&pn, &want, &have, &oom);
	assert(!oom);
	if (sql != NULL) {
		const char *p = sql;

		while (*p != '\0') {
			size_t slot;
			char *v = read_set(&p, &pn, &slot);

			assert(!seen[slot]);
			seen[slot] = true;
			assert(params_get(&want, slot) != NULL &&
			       strcmp(v, params_get(&want, slot)) == 0);
			assert(params_get(&have, slot) == NULL ||
			       strcmp(params_get(&have, slot), v) != 0);
			free(v);
		}
	}
	for (size_t i = 0; i < pn.n; i++)
		assert(seen[i] == (params_get(&want, i) != NULL &&
		                   (params_get(&have, i) == NULL ||
		                    strcmp(params_get(&want, i), params_get(&have, i)) != 0)));
	free(sql);
	params_names_free(&pn);
out:
	params_clear(&want);
	params_clear(&have);
	free(extra);
	return 0;
}
