/* Parser for the auth_file: `"user" "secret"` lines into a sorted array of
 * struct auth_entry, looked up by binary search.  Malformed lines are skipped
 * with a warning naming file and line, as PgBouncer keeps going too. */
#include "authfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One parsed line before sorting; seq keeps file order for "later wins". */
struct pending {
	struct auth_entry e;
	size_t seq;
};

__attribute__((format(printf, 5, 6))) static void
warn(config_report_fn report, void *arg, const char *name, int line, const char *fmt, ...)
{
	char msg[256];
	char full[512];
	va_list ap;

	if (report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s (%s:%d)", msg, name, line);
	report(arg, false, full);
}

/* Reads one double-quoted field at *pp (which points at the opening quote)
 * up to end.  Returns the unescaped field (malloc'd), or NULL with *why set;
 * *why is NULL when the failure was memory. */
static char *read_field(const char **pp, const char *end, const char **why)
{
	const char *p = *pp + 1;
	size_t cap = 32, len = 0;
	char *out = malloc(cap);

	*why = NULL;
	if (out == NULL)
		return NULL;
	for (;;) {
		char c;

		if (p >= end || *p == '\n') {
			*why = "unterminated quoted field";
			break;
		}
		if (*p == '\0') {
			*why = "NUL byte inside a quoted field";
			break;
		}
		if (*p == '"') {
			if (p + 1 < end && p[1] == '"') {
				p++; /* "" is one quote */
			} else {
				out[len] = '\0';
				*pp = p + 1;
				return out;
			}
		}
		c = *p++;
		if (len + 2 > cap) {
			char *bigger = realloc(out, cap * 2);

			if (bigger == NULL)
				break;
			out = bigger;
			cap *= 2;
		}
		out[len++] = c;
	}
	free(out);
	return NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int c = strcmp(x->e.user, y->e.user);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts by user and keeps only the last line of each user. */
static bool finish(struct pending *pend, size_t n, struct auth_entry **out, size_t *n_out)
{
	struct auth_entry *arr;
	size_t k = 0;

	if (n > 1)
		qsort(pend, n, sizeof(*pend), cmp_pending);
	arr = malloc((n ? n : 1) * sizeof(*arr));
	if (arr == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && strcmp(pend[i].e.user, pend[i + 1].e.user) == 0) {
			free(pend[i].e.user);
			free(pend[i].e.secret);
			continue;
		}
		arr[k++] = pend[i].e;
	}
	*out = arr;
	*n_out = k;
	return true;
}

/* Parses one line [p, eol); appends to pend on success.  False on ENOMEM. */
static bool parse_line(const char *p, const char *eol, const char *name, int line,
                       struct pending *slot, bool *got, config_report_fn report, void *arg)
{
	const char *why;
	char *user, *secret;

	*got = false;
	while (p < eol && is_blank(*p))
		p++;
	if (p == eol || *p == ';' || *p == '#')
		return true;
	if (*p != '"') {
		warn(report, arg, name, line,
		     "auth_file: line does not start with a quoted user name");
		return true;
	}
	user = read_field(&p, eol, &why);
	if (user == NULL) {
		if (why == NULL)
			return false;
		warn(report, arg, name, line, "auth_file: %s", why);
		return true;
	}
	while (p < eol && is_blank(*p))
		p++;
	if (p == eol || *p != '"') {
		warn(report, arg, name, line, "auth_file: expected a quoted secret after the user");
		free(user);
		return true;
	}
	secret = read_field(&p, eol, &why);
	if (secret == NULL) {
		free(user);
		if (why == NULL)
			return false;
		warn(report, arg, name, line, "auth_file: %s", why);
		return true;
	}
	if (user[0] == '\0') {
		warn(report, arg, name, line, "auth_file: empty user name");
		free(user);
		free(secret);
		return true;
	}
	slot->e.user = user;
	slot->e.secret = secret;
	*got = true;
	return true;
}

bool authfile_parse(const char *buf, size_t len, const char *name, struct auth_entry **out,
                    size_t *n_out, config_report_fn report, void *arg)
{
	const char *p = buf, *end = buf + len;
	struct pending *pend = NULL;
	size_t n = 0, cap = 0;
	int line = 0;
	bool ok = true;

	*out = NULL;
	*n_out = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		bool got;

		if (eol == NULL)
			eol = end;
		line++;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct pending *bigger = realloc(pend, ncap * sizeof(*pend));

			if (bigger == NULL) {
				ok = false;
				break;
			}
			pend = bigger;
			cap = ncap;
		}
		if (!parse_line(p, eol, name, line, &pend[n], &got, report, arg)) {
			ok = false;
			break;
		}
		if (got) {
			pend[n].seq = n;
			n++;
		}
		p = eol < end ? eol + 1 : end;
	}
	if (ok)
		ok = finish(pend, n, out, n_out);
	if (!ok) {
		for (size_t i = 0; i < n; i++) {
			free(pend[i].e.user);
			free(pend[i].e.secret);
		}
	}
	free(pend);
	return ok;
}

bool authfile_load(const char *path, struct auth_entry **out, size_t *n_out,
                   config_report_fn report, void *arg)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	bool ok;
	int saved;

	*out = NULL;
	*n_out = 0;
	if (f == NULL)
		return false;
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		/* /dev/zero would be read until memory runs out, a FIFO blocks */
		fclose(f);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return false;
	}
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *bigger = realloc(buf, cap ? cap * 2 : 8192);

			if (bigger == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return false;
			}
			buf = bigger;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		saved = errno ? errno : EIO;
		free(buf);
		fclose(f);
		errno = saved;
		return false;
	}
	fclose(f);
	ok = authfile_parse(buf, len, path, out, n_out, report, arg);
	free(buf);
	if (!ok)
		errno = ENOMEM;
	return ok;
}

static int cmp_key(const void *key, const void *elem)
{
	const struct auth_entry *e = elem;

	return strcmp(key, e->user);
}

const struct auth_entry *authfile_find(const struct auth_entry *entries, size_t n, const char *user)
{
	if (entries == NULL || n == 0 || user == NULL)
		return NULL;
	return bsearch(user, entries, n, sizeof(*entries), cmp_key);
}

void authfile_free(struct auth_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(entries[i].user);
		free(entries[i].secret);
	}
	free(entries);
}
