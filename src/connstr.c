/* Tokenizer for libpq-like connection strings ("host=x port=5432
 * connect_query='set a=1; set b=2'").  It returns pairs and knows no key
 * names, so [databases], [users] and [peers] share it. */
#include "connstr.h"

#include <errno.h>
#include <limits.h>
#include <math.h> /* isfinite() is a macro: no -lm needed */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growing byte buffer for one unescaped value. */
struct strbuf {
	char *data;
	size_t len, cap;
};

static bool sb_put(struct strbuf *sb, char c)
{
	if (sb->len + 1 >= sb->cap) {
		size_t cap = sb->cap ? sb->cap * 2 : 32;
		char *p = realloc(sb->data, cap);

		if (p == NULL)
			return false;
		sb->data = p;
		sb->cap = cap;
	}
	sb->data[sb->len++] = c;
	sb->data[sb->len] = '\0';
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

__attribute__((format(printf, 4, 5))) static bool fail(struct connstr_error *err, const char *text,
                                                       const char *at, const char *fmt, ...)
{
	va_list ap;

	err->pos = (size_t)(at - text);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return false;
}

static bool add_pair(struct connstr *cs, const char *key, size_t key_len, char *value)
{
	struct connstr_pair *p = realloc(cs->pairs, (cs->n_pairs + 1) * sizeof(*p));
	char *k;

	if (p == NULL)
		return false;
	cs->pairs = p;
	k = strndup(key, key_len);
	if (k == NULL)
		return false;
	p[cs->n_pairs].key = k;
	p[cs->n_pairs].value = value;
	cs->n_pairs++;
	return true;
}

/* Reads one value starting at *pp into sb; advances *pp past it.  As in
 * PgBouncer a backslash outside quotes is an ordinary character, so passwords
 * with backslashes keep them. */
static bool read_value(const char *text, const char **pp, struct strbuf *sb,
                       struct connstr_error *err)
{
	const char *p = *pp;

	if (*p == '\'') {
		const char *open = p++;

		for (;;) {
			char c;

			if (*p == '\0')
				return fail(err, text, open, "unterminated quoted value");
			if ((p[0] == '\'' && p[1] == '\'') ||
			    (p[0] == '\\' && (p[1] == '\'' || p[1] == '\\')))
				p++; /* '' and \' are a quote, \\ is a backslash */
			else if (*p == '\'')
				break;
			c = *p++;
			if (!sb_put(sb, c))
				return fail(err, text, p, "out of memory");
		}
		p++;
		if (*p != '\0' && !is_space(*p))
			return fail(err, text, p, "missing space after quoted value");
	} else {
		while (*p != '\0' && !is_space(*p))
			if (!sb_put(sb, *p++))
				return fail(err, text, p, "out of memory");
	}
	if (sb->data == NULL && (sb->data = strdup("")) == NULL)
		return fail(err, text, p, "out of memory");
	*pp = p;
	return true;
}

bool connstr_parse(const char *text, struct connstr *out, struct connstr_error *err)
{
	const char *p = text;

	out->pairs = NULL;
	out->n_pairs = 0;
	err->pos = 0;
	err->msg[0] = '\0';
	for (;;) {
		const char *key;
		size_t key_len;
		struct strbuf sb = {0};

		while (is_space(*p))
			p++;
		if (*p == '\0')
			return true;
		key = p;
		while (is_key_char(*p))
			p++;
		key_len = (size_t)(p - key);
		if (key_len == 0) {
			fail(err, text, p, "expected a parameter name at '%c'", *p);
			goto bad;
		}
		while (is_space(*p))
			p++;
		if (*p != '=') {
			fail(err, text, p, "missing '=' after \"%.*s\"", (int)key_len, key);
			goto bad;
		}
		p++;
		while (is_space(*p))
			p++;
		if (!read_value(text, &p, &sb, err)) {
			free(sb.data);
			goto bad;
		}
		if (!add_pair(out, key, key_len, sb.data)) {
			free(sb.data);
			fail(err, text, key, "out of memory");
			goto bad;
		}
	}
bad:
	connstr_free(out);
	return false;
}

const char *connstr_get(const struct connstr *cs, const char *key)
{
	for (size_t i = cs->n_pairs; i > 0; i--)
		if (strcmp(cs->pairs[i - 1].key, key) == 0)
			return cs->pairs[i - 1].value;
	return NULL;
}

void connstr_free(struct connstr *cs)
{
	for (size_t i = 0; i < cs->n_pairs; i++) {
		free(cs->pairs[i].key);
		free(cs->pairs[i].value);
	}
	free(cs->pairs);
	cs->pairs = NULL;
	cs->n_pairs = 0;
}

bool connstr_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool connstr_usec(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	double sec, us;
	int64_t v;

	if (((*s < '0' || *s > '9') && *s != '.') || strpbrk(s, "xXnNiI") != NULL)
		return false; /* strtod would take hex floats, nan, inf and signs */
	errno = 0;
	sec = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(sec))
		return false;
	us = sec * 1e6;
	if (us > 9.0e18)
		return false;
	v = (int64_t)(us + 0.5); /* rounds, as sec >= 0 */
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool connstr_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "yes", "on", "true", NULL};
	static const char *const no[] = {"0", "no", "off", "false", NULL};
	int64_t v;

	for (int i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return true;
		}
	}
	if (!connstr_int(s, 0, INT_MAX, &v))
		return false;
	*out = v != 0;
	return true;
}

int connstr_choice(const char *const *choices, const char *s)
{
	for (int i = 0; choices[i] != NULL; i++)
		if (strcasecmp(choices[i], s) == 0)
			return i;
	return -1;
}

enum connstr_result connstr_set(const struct connstr_key *k, void *base, const char *text)
{
	void *field = (char *)base + k->offset;
	char *copy, *end;
	int64_t v;
	bool b;
	int idx;

	switch (k->type) {
	case CONNSTR_INT:
	case CONNSTR_INT64:
	case CONNSTR_USEC:
		if (!(k->type == CONNSTR_USEC ? connstr_usec : connstr_int)(text, k->min, k->max,
		                                                            &v))
			return CONNSTR_BAD_VALUE;
		if (k->type == CONNSTR_INT)
			*(int *)field = (int)v;
		else
			*(int64_t *)field = v;
		return CONNSTR_APPLIED;
	case CONNSTR_OCTAL:
		if (*text < '0' || *text > '7')
			return CONNSTR_BAD_VALUE;
		errno = 0;
		v = strtoll(text, &end, 8);
		if (errno != 0 || *end != '\0' || v < k->min || v > k->max)
			return CONNSTR_BAD_VALUE;
		*(int *)field = (int)v;
		return CONNSTR_APPLIED;
	case CONNSTR_BOOL:
		if (!connstr_bool(text, &b))
			return CONNSTR_BAD_VALUE;
		*(bool *)field = b;
		return CONNSTR_APPLIED;
	case CONNSTR_CHOICE:
		if ((idx = connstr_choice(k->choices, text)) < 0)
			return CONNSTR_BAD_VALUE;
		*(int *)field = idx;
		return CONNSTR_APPLIED;
	case CONNSTR_CHOICE_STR:
		if ((idx = connstr_choice(k->choices, text)) < 0)
			return CONNSTR_BAD_VALUE;
		text = k->choices[idx];
		/* fall through */
	case CONNSTR_STR:
		if ((copy = strdup(text)) == NULL)
			return CONNSTR_NO_MEMORY;
		free(*(char **)field);
		*(char **)field = copy;
		return CONNSTR_APPLIED;
	}
	return CONNSTR_BAD_VALUE;
}

const char *connstr_format(const struct connstr_key *k, const void *base, char *buf, size_t len)
{
	const void *field = (const char *)base + k->offset;
	uint64_t mag;
	int64_t us;
	int n;

	switch (k->type) {
	case CONNSTR_STR:
	case CONNSTR_CHOICE_STR: {
		const char *s = *(char *const *)field;

		return s != NULL ? s : "";
	}
	case CONNSTR_INT:
		snprintf(buf, len, "%d", *(const int *)field);
		return buf;
	case CONNSTR_INT64:
		snprintf(buf, len, "%lld", (long long)*(const int64_t *)field);
		return buf;
	case CONNSTR_USEC:
		us = *(const int64_t *)field;
		mag = us < 0 ? -(uint64_t)us : (uint64_t)us;
		n = snprintf(buf, len, "%s%llu.%06llu", us < 0 ? "-" : "",
		             (unsigned long long)(mag / 1000000),
		             (unsigned long long)(mag % 1000000));
		if (n <= 0 || (size_t)n >= len)
			return buf;
		while (buf[n - 1] == '0')
			buf[--n] = '\0';
		if (buf[n - 1] == '.')
			buf[--n] = '\0';
		return buf;
	case CONNSTR_BOOL:
		return *(const bool *)field ? "1" : "0";
	case CONNSTR_CHOICE:
		return k->choices[*(const int *)field];
	case CONNSTR_OCTAL:
		snprintf(buf, len, "0%o", (unsigned)*(const int *)field);
		return buf;
	}
	return "";
}

enum connstr_result connstr_apply(const struct connstr_key *table, size_t n, void *base,
                                  const struct connstr_pair *pair, const struct connstr_key **key)
{
	const struct connstr_key *k = NULL;

	for (size_t i = 0; i < n && k == NULL; i++)
		if (strcmp(table[i].name, pair->key) == 0)
			k = &table[i];
	*key = k;
	if (k == NULL)
		return CONNSTR_UNKNOWN_KEY;
	return connstr_set(k, base, pair->value);
}
