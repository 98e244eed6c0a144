/* libFuzzer harness: connection strings ([databases], [users], [peers]
 * values) and the typed value parsers (src/connstr.c).  Every string that
 * parses must come back with the same pairs after re-quoting each value the
 * way the header documents; every typed value that applies must survive
 * connstr_format() and connstr_set() unchanged. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connstr.h"

struct fields {
	char *str, *choice_str;
	int i, choice, octal;
	int64_t i64, usec;
	bool b;
};

static const char *const choices[] = {"session", "transaction", "statement", NULL};

#define F(name, type, field, lo, hi)                                                               \
	{                                                                                          \
		name, type, offsetof(struct fields, field), lo, hi, choices, 0                     \
	}
static const struct connstr_key table[] = {
    F("str", CONNSTR_STR, str, 0, 0),
    F("choice_str", CONNSTR_CHOICE_STR, choice_str, 0, 0),
    F("int", CONNSTR_INT, i, -5, 100000),
    F("int64", CONNSTR_INT64, i64, INT64_MIN, INT64_MAX),
    F("usec", CONNSTR_USEC, usec, 0, INT64_MAX),
    F("bool", CONNSTR_BOOL, b, 0, 1),
    F("choice", CONNSTR_CHOICE, choice, 0, 0),
    F("octal", CONNSTR_OCTAL, octal, 0, 0777),
};
#define N_KEYS (sizeof(table) / sizeof(table[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* key='value' with ' and \ escaped, pairs separated by one space. */
static char *requote(const struct connstr *cs)
{
	size_t cap = 1;
	char *s, *w;

	for (size_t i = 0; i < cs->n_pairs; i++)
		cap += strlen(cs->pairs[i].key) + 4 + 2 * strlen(cs->pairs[i].value);
	s = w = malloc(cap);
	assert(s != NULL);
	for (size_t i = 0; i < cs->n_pairs; i++) {
		if (i > 0)
			*w++ = ' ';
		w = stpcpy(w, cs->pairs[i].key);
		*w++ = '=';
		*w++ = '\'';
		for (const char *v = cs->pairs[i].value; *v; v++) {
			if (*v == '\'' || *v == '\\')
				*w++ = *v == '\'' ? '\'' : '\\';
			*w++ = *v;
		}
		*w++ = '\'';
	}
	*w = '\0';
	return s;
}

static void check_pairs(const char *text)
{
	struct connstr cs, again;
	struct connstr_error err;
	char *q;

	if (!connstr_parse(text, &cs, &err)) {
		assert(cs.n_pairs == 0 && cs.pairs == NULL);
		assert(err.pos <= strlen(text) && err.msg[0] != '\0');
		return;
	}
	for (size_t i = 0; i < cs.n_pairs; i++) {
		assert(cs.pairs[i].key[0] != '\0');
		assert(connstr_get(&cs, cs.pairs[i].key) != NULL);
	}
	q = requote(&cs);
	assert(connstr_parse(q, &again, &err));
	assert(again.n_pairs == cs.n_pairs);
	for (size_t i = 0; i < cs.n_pairs; i++) {
		assert(strcmp(again.pairs[i].key, cs.pairs[i].key) == 0);
		assert(strcmp(again.pairs[i].value, cs.pairs[i].value) == 0);
	}
	connstr_free(&again);
	connstr_free(&cs);
	free(q);
}

static void check_typed(const char *text)
{
	for (size_t k = 0; k < N_KEYS; k++) {
		struct fields f = {0}, g = {0};
		char buf[64];
		const char *shown;

		if (connstr_set(&table[k], &f, text) != CONNSTR_APPLIED)
			goto next;
		shown = connstr_format(&table[k], &f, buf, sizeof(buf));
		assert(connstr_set(&table[k], &g, shown) == CONNSTR_APPLIED);
		assert(f.i == g.i && f.choice == g.choice && f.octal == g.octal);
		assert(f.i64 == g.i64 && f.b == g.b);
		/* seconds are shown with 6 decimals at most: exact in microseconds */
		assert(f.usec == g.usec);
		assert((f.str == NULL) == (g.str == NULL) &&
		       (f.str == NULL || !strcmp(f.str, g.str)));
		assert((f.choice_str == NULL) == (g.choice_str == NULL));
	next:
		free(f.str);
		free(f.choice_str);
		free(g.str);
		free(g.choice_str);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int64_t v;
	bool b;

	assert(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	check_pairs(text);
	check_typed(text);
	(void)connstr_int(text, INT64_MIN, INT64_MAX, &v);
	(void)connstr_usec(text, 0, INT64_MAX, &v);
	(void)connstr_bool(text, &b);
	(void)connstr_choice(choices, text);
	free(text);
	return 0;
}
