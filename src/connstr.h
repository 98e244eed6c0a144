/* A libpq-like "key=value key='quoted value'" tokenizer, as PgBouncer reads
 * [databases], [users] and [peers] lines, and the typed value parsers that
 * config.c uses for them and for the main section.  Pure: it knows no key
 * names; the caller maps keys to fields and reports unknown ones. */
#ifndef FAIRWAY_CONNSTR_H
#define FAIRWAY_CONNSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One key=value pair, both owned by the struct connstr that holds them. */
struct connstr_pair {
	char *key;
	char *value; /* unquoted and unescaped; "" for key='' */
};

/* The pairs of one string, in the order written (duplicates kept). */
struct connstr {
	struct connstr_pair *pairs; /* owned */
	size_t n_pairs;
};

/* Where and why a string did not parse. */
struct connstr_error {
	size_t pos;    /* byte offset into the string */
	char msg[128]; /* lower case, no final period */
};

/* Splits text into pairs.  Spaces may surround '='; a value is either a run
 * of non-space characters (a backslash takes the next character literally) or
 * single-quoted, where '' and \' stand for a quote and \\ for a backslash.
 * Keys are letters, digits and '_'.  On failure out is empty, err says where
 * and why (also "out of memory"), and false is returned. */
bool connstr_parse(const char *text, struct connstr *out, struct connstr_error *err);

/* The value of the last pair named key, or NULL. */
const char *connstr_get(const struct connstr *cs, const char *key);

/* Frees the pairs; cs itself may be on the stack.  Safe on an empty struct. */
void connstr_free(struct connstr *cs);

/* How a typed field is stored in the caller's struct. */
enum connstr_type {
	CONNSTR_STR,        /* char *, a copy; the old one is freed */
	CONNSTR_CHOICE_STR, /* char *: a copy of the matching entry of choices */
	CONNSTR_INT,        /* int, decimal, in [min, max] */
	CONNSTR_INT64,      /* int64_t, decimal, in [min, max] */
	CONNSTR_USEC,       /* int64_t microseconds, written as seconds, in [min, max] */
	CONNSTR_BOOL,       /* bool (see connstr_bool) */
	CONNSTR_CHOICE,     /* int (an enum): the index in choices */
	CONNSTR_OCTAL,      /* int written in octal (a file mode), in [min, max] */
};

/* One typed field of the caller's struct, named as in the file. */
struct connstr_key {
	const char *name;
	enum connstr_type type;
	size_t offset; /* of the field in the caller's struct */
	int64_t min, max;
	const char *const *choices; /* NULL-terminated, compared without case */
	unsigned flags;             /* the caller's own (e.g. "not active yet") */
};

enum connstr_result {
	CONNSTR_APPLIED,
	CONNSTR_UNKNOWN_KEY, /* no entry of table has the pair's key */
	CONNSTR_BAD_VALUE,   /* the value does not parse or is out of range */
	CONNSTR_NO_MEMORY,
};

/* Parses text and stores it into k's field of base; the field keeps its old
 * value unless CONNSTR_APPLIED. */
enum connstr_result connstr_set(const struct connstr_key *k, void *base, const char *text);

/* k's field of base as text, in the unit the file uses (durations in seconds
 * without trailing zeros, modes in octal, booleans 0/1).  Returns the string
 * itself for string fields ("" when NULL), else buf. */
const char *connstr_format(const struct connstr_key *k, const void *base, char *buf, size_t len);

/* Stores pair's value into base according to the table entry named by its
 * key (exact, case-sensitive match, as libpq); *key points at that entry. */
enum connstr_result connstr_apply(const struct connstr_key *table, size_t n, void *base,
                                  const struct connstr_pair *pair, const struct connstr_key **key);

/* Typed values.  Each accepts the whole string or nothing (no surrounding
 * spaces) and leaves *out alone on failure. */

/* A decimal integer in [lo, hi]; a leading + or - is allowed. */
bool connstr_int(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* Seconds, fractions and exponents allowed ("0.5", "120", "1e3"), as
 * microseconds in [lo, hi]; no sign, hex, nan or inf. */
bool connstr_usec(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* 1/0, yes/no, on/off, true/false (any case), or any integer >= 0 (non-zero =
 * true: PgBouncer keeps its booleans in ints, "tcp_defer_accept = 45"). */
bool connstr_bool(const char *s, bool *out);

/* The index of s in a NULL-terminated list, compared without case; -1. */
int connstr_choice(const char *const *choices, const char *s);

#endif
