/* auth_hba_file and auth_ident_file: the tokenizer shared by both formats
 * (fields separated by blanks, comma lists, double quotes, # comments,
 * backslash continuation), the rule and map parsers with errors naming
 * file:line, and the first-match-wins matcher.  Loaded objects are immutable
 * and shared between configurations by reference count. */
#include "hba.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define MAX_INCLUDE_DEPTH 10

/* ---- tokens ---- */

struct token {
	char *text;  /* owned; unescaped */
	bool quoted; /* a quote appeared: keywords lose their meaning */
};

/* One blank-separated field: one token, or several joined by commas. */
struct field {
	struct token *tok; /* owned */
	size_t n, cap;
};

struct fields {
	struct field *f; /* owned */
	size_t n, cap;
};

/* Makes room for one more element of size sz in *v (holding n of cap). */
static bool grow(void **v, size_t n, size_t *cap, size_t sz)
{
	size_t ncap;
	void *bigger;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 4;
	if ((bigger = realloc(*v, ncap * sz)) == NULL)
		return false;
	*v = bigger;
	*cap = ncap;
	return true;
}

static void fields_free(struct fields *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		for (size_t j = 0; j < fs->f[i].n; j++)
			free(fs->f[i].tok[j].text);
		free(fs->f[i].tok);
	}
	free(fs->f);
	fs->f = NULL;
	fs->n = fs->cap = 0;
}

/* Where messages point, and how many errors were found. */
struct ctx {
	const char *file;
	int line;
	config_report_fn report;
	void *arg;
	int errors;
	int depth; /* @file nesting */
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void fail(struct ctx *cx, const char *fmt, ...)
{
	char msg[512], full[1024];
	va_list ap;

	cx->errors++;
	if (cx->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s (%s:%d)", msg, cx->file, cx->line);
	cx->report(cx->arg, true, full);
}

__attribute__((format(printf, 2, 3))) static void warn(struct ctx *cx, const char *fmt, ...)
{
	char msg[512], full[1024];
	va_list ap;

	if (cx->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s (%s:%d)", msg, cx->file, cx->line);
	cx->report(cx->arg, false, full);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Appends a token to the last field (or a new one).  False when out of memory. */
static bool add_token(struct fields *fs, bool new_field, char *text, bool quoted)
{
	struct field *f;

	if (new_field || fs->n == 0) {
		if (!grow((void **)&fs->f, fs->n, &fs->cap, sizeof(*fs->f)))
			return false;
		fs->f[fs->n].tok = NULL;
		fs->f[fs->n].n = fs->f[fs->n].cap = 0;
		fs->n++;
	}
	f = &fs->f[fs->n - 1];
	if (!grow((void **)&f->tok, f->n, &f->cap, sizeof(*f->tok)))
		return false;
	f->tok[f->n].text = text;
	f->tok[f->n].quoted = quoted;
	f->n++;
	return true;
}

/* Splits one logical line into fields.  False after reporting (bad quoting,
 * a dangling comma) or when memory ran out (cx->oom). */
static bool tokenize(struct ctx *cx, const char *p, const char *end, struct fields *fs)
{
	bool after_comma = false;

	fs->f = NULL;
	fs->n = fs->cap = 0;
	for (;;) {
		size_t cap = 16, len = 0;
		bool in_quote = false, quoted = false;
		char *text;

		while (p < end && is_blank(*p))
			p++;
		if (p >= end || *p == '#') {
			if (after_comma) {
				fail(cx, "comma at the end of a list");
				return false;
			}
			return true;
		}
		if (*p == ',') {
			fail(cx, "empty name in a comma-separated list");
			return false;
		}
		if ((text = malloc(cap)) == NULL) {
			cx->oom = true;
			return false;
		}
		while (p < end) {
			char c = *p;

			if (c == '\0') {
				free(text);
				fail(cx, "NUL byte in line");
				return false;
			}
			if (in_quote) {
				if (c == '"') {
					if (p + 1 < end && p[1] == '"') {
						p++; /* "" inside quotes is one quote */
					} else {
						in_quote = false;
						p++;
						continue;
					}
				}
			} else if (c == '"') {
				in_quote = quoted = true;
				p++;
				continue;
			} else if (is_blank(c) || c == ',' || c == '#') {
				break;
			}
			if (len + 2 > cap) {
				char *bigger = realloc(text, cap * 2);

				if (bigger == NULL) {
					free(text);
					cx->oom = true;
					return false;
				}
				text = bigger;
				cap *= 2;
			}
			text[len++] = c;
			p++;
		}
		if (in_quote) {
			free(text);
			fail(cx, "unterminated quoted string");
			return false;
		}
		text[len] = '\0';
		if (!add_token(fs, !after_comma, text, quoted)) {
			free(text);
			cx->oom = true;
			return false;
		}
		while (p < end && is_blank(*p))
			p++;
		after_comma = p < end && *p == ',';
		if (after_comma)
			p++;
	}
}

/* Calls fn for every logical line of buf (a line ending in a backslash goes
 * on on the next one); cx->line is its first line.  Stops early only when
 * memory ran out. */
typedef void (*line_fn)(struct ctx *cx, struct fields *fs, void *arg);

static void for_each_line(struct ctx *cx, const char *buf, size_t len, line_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len;
	int lineno = 1;
	char *joined = NULL;
	size_t jcap = 0;

	while (p < end && !cx->oom) {
		size_t jlen = 0;
		int first = lineno;

		for (;;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl != NULL ? nl : end;
			const char *content_end = stop;
			bool cont;

			if (content_end > p && content_end[-1] == '\r')
				content_end--;
			cont = content_end > p && content_end[-1] == '\\';
			if (cont)
				content_end--;
			if (jlen + (size_t)(content_end - p) + 1 > jcap) {
				size_t ncap = (jlen + (size_t)(content_end - p) + 1) * 2;
				char *bigger = realloc(joined, ncap);

				if (bigger == NULL) {
					cx->oom = true;
					free(joined);
					return;
				}
				joined = bigger;
				jcap = ncap;
			}
			memcpy(joined + jlen, p, (size_t)(content_end - p));
			jlen += (size_t)(content_end - p);
			p = nl != NULL ? nl + 1 : end;
			lineno++;
			if (!cont || p >= end)
				break;
			/* The continuation joins with a blank, as the lines were separate. */
			joined[jlen++] = ' ';
		}
		{
			struct fields fs;

			cx->line = first;
			if (tokenize(cx, joined, joined + jlen, &fs) && fs.n > 0)
				fn(cx, &fs, arg);
			fields_free(&fs);
		}
	}
	free(joined);
}

/* ---- name lists (database and user columns) ---- */

enum {
	NAME_ALL = 1 << 0,
	NAME_SAMEUSER = 1 << 1,    /* database column: the database named like the user */
	NAME_REPLICATION = 1 << 2, /* database column: a physical replication connection */
};

struct names {
	unsigned flags;
	char **v; /* owned */
	size_t n, cap;
};

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

static bool names_add(struct names *nm, const char *s)
{
	if (!grow((void **)&nm->v, nm->n, &nm->cap, sizeof(*nm->v)))
		return false;
	if ((nm->v[nm->n] = strdup(s)) == NULL)
		return false;
	nm->n++;
	return true;
}

/* A file named relative to the directory of the file that names it. */
static char *relative_path(const char *parent, const char *name)
{
	const char *slash = strrchr(parent, '/');
	size_t dlen;
	char *out;

	if (name[0] == '/' || slash == NULL)
		return strdup(name);
	dlen = (size_t)(slash - parent) + 1;
	out = malloc(dlen + strlen(name) + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, parent, dlen);
	strcpy(out + dlen, name);
	return out;
}

static void add_token_names(struct ctx *cx, const struct token *t, bool is_db, struct names *nm);

struct include_arg {
	bool is_db;
	struct names *nm;
};

static void include_line(struct ctx *cx, struct fields *fs, void *arg)
{
	struct include_arg *ia = arg;

	for (size_t i = 0; i < fs->n; i++)
		for (size_t j = 0; j < fs->f[i].n; j++)
			add_token_names(cx, &fs->f[i].tok[j], ia->is_db, ia->nm);
}

/* @file: names listed in another file, blank or comma separated, any lines. */
static void add_include(struct ctx *cx, const char *name, bool is_db, struct names *nm)
{
	struct include_arg ia = {is_db, nm};
	struct ctx sub = *cx;
	char *path, *buf;
	size_t len;

	if (name[0] == '\0') {
		fail(cx, "@ must be followed by a file name");
		return;
	}
	if (cx->depth >= MAX_INCLUDE_DEPTH) {
		fail(cx, "@%s: @file includes nested more than %d deep", name, MAX_INCLUDE_DEPTH);
		return;
	}
	if ((path = relative_path(cx->file, name)) == NULL) {
		cx->oom = true;
		return;
	}
	if (!util_read_file(path, &buf, &len)) {
		fail(cx, "could not read @file %s: %s", path, strerror(errno));
		free(path);
		return;
	}
	sub.file = path;
	sub.errors = 0;
	sub.depth = cx->depth + 1;
	for_each_line(&sub, buf, len, include_line, &ia);
	cx->errors += sub.errors;
	cx->oom = cx->oom || sub.oom;
	free(buf);
	free(path);
}

static void add_token_names(struct ctx *cx, const struct token *t, bool is_db, struct names *nm)
{
	const char *s = t->text;

	if (!t->quoted) {
		if (strcmp(s, "all") == 0) {
			nm->flags |= NAME_ALL;
			return;
		}
		if (is_db && strcmp(s, "sameuser") == 0) {
			nm->flags |= NAME_SAMEUSER;
			return;
		}
		if (is_db && strcmp(s, "replication") == 0) {
			nm->flags |= NAME_REPLICATION;
			return;
		}
		if (is_db && (strcmp(s, "samerole") == 0 || strcmp(s, "samegroup") == 0)) {
			fail(cx, "%s is not supported in the database field (as in PgBouncer)", s);
			return;
		}
		if (!is_db && s[0] == '+') {
			fail(cx,
			     "group names (%s) are not supported in the user field (as in "
			     "PgBouncer)",
			     s);
			return;
		}
		if (s[0] == '/') {
			fail(cx, "regular expressions (%s) are not supported in the %s field", s,
			     is_db ? "database" : "user");
			return;
		}
		if (s[0] == '@') {
			add_include(cx, s + 1, is_db, nm);
			return;
		}
	}
	if (s[0] == '\0') {
		fail(cx, "empty %s name", is_db ? "database" : "user");
		return;
	}
	if (!names_add(nm, s))
		cx->oom = true;
}

static bool names_match(const struct names *nm, const char *name)
{
	for (size_t i = 0; i < nm->n; i++)
		if (strcmp(nm->v[i], name) == 0)
			return true;
	return false;
}

/* ---- rules ---- */

enum conn_type { CT_LOCAL, CT_HOST, CT_HOSTSSL, CT_HOSTNOSSL };

struct rule {
	struct hba_rule pub; /* pub.file borrowed from struct hba; pub.map owned */
	enum conn_type type;
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC for `all` (host lines) */
	uint8_t addr[16], mask[16];
	struct names db, user;
};

struct hba {
	int refs;
	char *file;         /* owned: the path, for messages */
	struct rule *rules; /* owned, file order */
	size_t n, cap;
};

static const char *const method_names[] = {
    [HBA_TRUST] = "trust",       [HBA_REJECT] = "reject",       [HBA_MD5] = "md5",
    [HBA_PASSWORD] = "password", [HBA_SCRAM] = "scram-sha-256", [HBA_CERT] = "cert",
    [HBA_PEER] = "peer",         [HBA_LDAP] = "ldap",
};
_Static_assert(sizeof(method_names) / sizeof(method_names[0]) == HBA_LDAP + 1,
               "every method needs a name");

const char *hba_method_name(enum hba_method m)
{
	return (unsigned)m <= HBA_LDAP ? method_names[m] : "";
}

static bool parse_method(struct ctx *cx, const char *s, enum hba_method *out)
{
	for (unsigned m = 0; m <= HBA_LDAP; m++) {
		if (strcmp(s, method_names[m]) == 0) {
			*out = (enum hba_method)m;
			return true;
		}
	}
	if (strcmp(s, "plain") == 0) { /* PgBouncer's auth_type name for it */
		*out = HBA_PASSWORD;
		return true;
	}
	if (strcmp(s, "pam") == 0 || strcmp(s, "any") == 0)
		fail(cx,
		     "method %s works only as auth_type, not in auth_hba_file (as in PgBouncer)",
		     s);
	else
		fail(cx,
		     "unsupported authentication method \"%s\" (supported: trust, reject, md5, "
		     "password, scram-sha-256, cert, peer, ldap)",
		     s);
	return false;
}

/* "10.0.0.0/8", "::1/128" or an address followed by a mask field. */
static bool parse_address(struct ctx *cx, struct rule *r, const struct fields *fs, size_t *i)
{
	const struct field *f = &fs->f[*i];
	const char *s, *slash;
	char host[INET6_ADDRSTRLEN + 1];
	size_t hlen;

	if (f->n != 1) {
		fail(cx, "the address field cannot be a list");
		return false;
	}
	s = f->tok[0].text;
	(*i)++;
	if (!f->tok[0].quoted && strcmp(s, "all") == 0) {
		r->family = AF_UNSPEC;
		return true;
	}
	if (!f->tok[0].quoted && (strcmp(s, "samehost") == 0 || strcmp(s, "samenet") == 0)) {
		fail(cx, "%s is not supported in the address field (as in PgBouncer)", s);
		return false;
	}
	slash = strchr(s, '/');
	hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host)) {
		fail(cx, "invalid IP address \"%s\"", s);
		return false;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, r->addr) == 1) {
		r->family = AF_INET;
	} else if (inet_pton(AF_INET6, host, r->addr) == 1) {
		r->family = AF_INET6;
	} else {
		fail(cx,
		     "invalid IP address \"%s\" (host names are not supported, as in PgBouncer)",
		     host);
		return false;
	}
	if (slash != NULL) {
		const char *b = slash + 1;
		unsigned max = r->family == AF_INET ? 32 : 128, bits = 0;

		if (*b == '\0' || strspn(b, "0123456789") != strlen(b) || strlen(b) > 3 ||
		    (bits = (unsigned)atoi(b)) > max) {
			fail(cx, "invalid CIDR mask in address \"%s\"", s);
			return false;
		}
		for (unsigned k = 0; k < bits; k++)
			r->mask[k / 8] |= (uint8_t)(0x80 >> (k % 8));
		return true;
	}
	/* No /bits: the next field is the mask, in the address's family. */
	if (*i >= fs->n) {
		fail(cx, "missing netmask after IP address \"%s\"", s);
		return false;
	}
	f = &fs->f[*i];
	if (f->n != 1 || inet_pton(r->family, f->tok[0].text, r->mask) != 1) {
		fail(cx, "invalid IP mask \"%s\"", f->tok[0].text);
		return false;
	}
	(*i)++;
	return true;
}

static bool single(struct ctx *cx, const struct field *f, const char *what)
{
	if (f->n != 1) {
		fail(cx, "the %s field cannot be a list", what);
		return false;
	}
	return true;
}

/* Options after the method: name=value.  map= for peer and cert; ldap's own
 * options are kept unchecked (ldap logins are refused anyway). */
static bool parse_options(struct ctx *cx, struct rule *r, const struct fields *fs, size_t i,
                          const struct ident *ident)
{
	for (; i < fs->n; i++) {
		const char *s, *eq;

		if (!single(cx, &fs->f[i], "option"))
			return false;
		s = fs->f[i].tok[0].text;
		eq = strchr(s, '=');
		if (eq == NULL || eq == s) {
			fail(cx, "authentication option \"%s\" is not in name=value form", s);
			return false;
		}
		if (r->pub.method == HBA_LDAP)
			continue;
		if ((size_t)(eq - s) != 3 || strncmp(s, "map", 3) != 0) {
			fail(cx, "unsupported authentication option \"%.*s\" for method %s",
			     (int)(eq - s), s, hba_method_name(r->pub.method));
			return false;
		}
		if (r->pub.method != HBA_PEER && r->pub.method != HBA_CERT) {
			fail(cx, "map= is only supported with methods peer and cert");
			return false;
		}
		if (eq[1] == '\0') {
			fail(cx, "map= needs a map name");
			return false;
		}
		if (ident == NULL) {
			fail(cx, "map=%s needs auth_ident_file", eq + 1);
			return false;
		}
		if (!ident_has_map(ident, eq + 1)) {
			fail(cx, "map \"%s\" is not defined in auth_ident_file", eq + 1);
			return false;
		}
		free((char *)r->pub.map);
		if ((r->pub.map = strdup(eq + 1)) == NULL) {
			cx->oom = true;
			return false;
		}
	}
	return true;
}

static void rule_free(struct rule *r)
{
	names_free(&r->db);
	names_free(&r->user);
	free((char *)r->pub.map);
}

struct hba_parse_arg {
	struct hba *hba;
	const struct ident *ident;
};

static void hba_line(struct ctx *cx, struct fields *fs, void *arg)
{
	struct hba_parse_arg *pa = arg;
	struct hba *hba = pa->hba;
	struct rule r;
	const char *type;
	size_t i = 0;
	int errors = cx->errors;

	memset(&r, 0, sizeof(r));
	r.pub.file = hba->file;
	r.pub.line = cx->line;
	if (!single(cx, &fs->f[0], "connection type"))
		return;
	type = fs->f[0].tok[0].text;
	if (strcmp(type, "local") == 0)
		r.type = CT_LOCAL;
	else if (strcmp(type, "host") == 0)
		r.type = CT_HOST;
	else if (strcmp(type, "hostssl") == 0)
		r.type = CT_HOSTSSL;
	else if (strcmp(type, "hostnossl") == 0)
		r.type = CT_HOSTNOSSL;
	else {
		fail(cx,
		     "invalid connection type \"%s\" (expected local, host, hostssl or hostnossl)",
		     type);
		return;
	}
	i = 1;
	if (fs->n < (r.type == CT_LOCAL ? 4u : 5u)) {
		fail(cx, "end of line before the %s field",
		     fs->n < 2                         ? "database"
		     : fs->n < 3                       ? "user"
		     : fs->n < 4 && r.type != CT_LOCAL ? "address"
		                                       : "authentication method");
		return;
	}
	for (size_t j = 0; j < fs->f[i].n; j++)
		add_token_names(cx, &fs->f[i].tok[j], true, &r.db);
	i++;
	for (size_t j = 0; j < fs->f[i].n; j++)
		add_token_names(cx, &fs->f[i].tok[j], false, &r.user);
	i++;
	if (r.type != CT_LOCAL && !parse_address(cx, &r, fs, &i))
		goto out;
	if (i >= fs->n) {
		fail(cx, "end of line before the authentication method field");
		goto out;
	}
	if (!single(cx, &fs->f[i], "authentication method") ||
	    !parse_method(cx, fs->f[i].tok[0].text, &r.pub.method))
		goto out;
	i++;
	if (!parse_options(cx, &r, fs, i, pa->ident))
		goto out;
	if (r.pub.method == HBA_PEER && r.type != CT_LOCAL)
		warn(cx, "peer authentication works only on local (Unix socket) lines: "
		         "connections matching this line are refused");
	if (r.type == CT_LOCAL && r.pub.method == HBA_CERT)
		warn(cx, "cert authentication needs TLS, which local connections never have: "
		         "connections matching this line are refused");
	if (cx->errors != errors || cx->oom)
		goto out;
	if (!grow((void **)&hba->rules, hba->n, &hba->cap, sizeof(*hba->rules))) {
		cx->oom = true;
		goto out;
	}
	hba->rules[hba->n++] = r;
	return;
out:
	rule_free(&r);
}

static void hba_free(struct hba *hba)
{
	for (size_t i = 0; i < hba->n; i++)
		rule_free(&hba->rules[i]);
	free(hba->rules);
	free(hba->file);
	free(hba);
}

struct hba *hba_parse(const char *buf, size_t len, const char *name, const struct ident *ident,
                      config_report_fn report, void *arg)
{
	struct hba *hba = calloc(1, sizeof(*hba));
	struct ctx cx = {.file = name, .report = report, .arg = arg};
	struct hba_parse_arg pa = {hba, ident};

	if (hba == NULL || (hba->file = strdup(name)) == NULL) {
		free(hba);
		if (report != NULL)
			report(arg, true, "out of memory while reading auth_hba_file");
		return NULL;
	}
	hba->refs = 1;
	for_each_line(&cx, buf, len, hba_line, &pa);
	if (cx.oom && report != NULL)
		report(arg, true, "out of memory while reading auth_hba_file");
	if (cx.errors > 0 || cx.oom) {
		hba_free(hba);
		return NULL;
	}
	return hba;
}

/* Reads setting's file (auth_hba_file, auth_ident_file); false after
 * reporting why it could not. */
static bool read_or_report(const char *setting, const char *path, char **buf, size_t *len,
                           config_report_fn report, void *arg)
{
	char msg[600];

	if (util_read_file(path, buf, len))
		return true;
	snprintf(msg, sizeof(msg), "could not read %s %s: %s", setting, path, strerror(errno));
	if (report != NULL)
		report(arg, true, msg);
	return false;
}

struct hba *hba_load(const char *path, const struct ident *ident, config_report_fn report,
                     void *arg)
{
	char *buf;
	size_t len;
	struct hba *hba;

	if (!read_or_report("auth_hba_file", path, &buf, &len, report, arg))
		return NULL;
	hba = hba_parse(buf, len, path, ident, report, arg);
	free(buf);
	return hba;
}

struct hba *hba_ref(struct hba *hba)
{
	if (hba != NULL)
		hba->refs++;
	return hba;
}

void hba_unref(struct hba *hba)
{
	if (hba != NULL && --hba->refs == 0)
		hba_free(hba);
}

static bool addr_match(const struct rule *r, const struct sockaddr *sa)
{
	const uint8_t *a;
	size_t n;
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (r->family == AF_UNSPEC)
		return true;
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET && r->family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		n = 16;
		if (r->family == AF_INET) {
			/* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d. */
			if (memcmp(a, v4mapped, sizeof(v4mapped)) != 0)
				return false;
			a += 12;
			n = 4;
		}
	} else {
		return false;
	}
	for (size_t k = 0; k < n; k++)
		if ((a[k] & r->mask[k]) != (r->addr[k] & r->mask[k]))
			return false;
	return true;
}

static bool db_match(const struct rule *r, const struct hba_conn *c)
{
	/* As in PostgreSQL: a physical replication connection names no database;
	 * only `replication` matches it, and `replication` matches nothing else. */
	if (c->replication == HBA_REPL_PHYSICAL)
		return (r->db.flags & NAME_REPLICATION) != 0;
	if (r->db.flags & NAME_ALL)
		return true;
	if ((r->db.flags & NAME_SAMEUSER) && strcmp(c->dbname, c->user) == 0)
		return true;
	return names_match(&r->db, c->dbname);
}

const struct hba_rule *hba_match(const struct hba *hba, const struct hba_conn *c)
{
	if (hba == NULL)
		return NULL;
	for (size_t i = 0; i < hba->n; i++) {
		const struct rule *r = &hba->rules[i];

		switch (r->type) {
		case CT_LOCAL:
			if (!c->is_unix)
				continue;
			break;
		case CT_HOST:
			if (c->is_unix)
				continue;
			break;
		case CT_HOSTSSL:
			if (c->is_unix || !c->is_tls)
				continue;
			break;
		case CT_HOSTNOSSL:
			if (c->is_unix || c->is_tls)
				continue;
			break;
		}
		if (r->type != CT_LOCAL && !addr_match(r, c->addr))
			continue;
		if (!db_match(r, c))
			continue;
		if (!(r->user.flags & NAME_ALL) && !names_match(&r->user, c->user))
			continue;
		return &r->pub;
	}
	return NULL;
}

/* ---- ident maps ---- */

struct mapping {
	char *map;      /* owned */
	char *sys_user; /* owned; for a regex, the pattern without its leading '/' */
	char *db_user;  /* owned */
	bool is_regex;
	bool db_all; /* database user `all` */
	regex_t re;  /* compiled when is_regex */
	int line;
};

struct ident {
	int refs;
	struct mapping *m; /* owned, file order */
	size_t n, cap;
};

static void mapping_free(struct mapping *m)
{
	if (m->is_regex)
		regfree(&m->re);
	free(m->map);
	free(m->sys_user);
	free(m->db_user);
}

/* glibc's regcomp() copies a repeated subexpression once per repetition, so
 * "a++++...", "((a+)+)+..." or nested counted repetitions take memory
 * exponential in the pattern's length.  Patterns are the operator's, but a typo must not exhaust
 * memory: refuse what PostgreSQL's engine refuses too (a quantifier right
 * after another) and keep the rest small.  NULL when the pattern may be
 * compiled, else why not. */
static const char *regex_too_costly(const char *re)
{
	int counted = 0, quantified_groups = 0;

	if (strlen(re) > 256)
		return "longer than 256 characters";
	for (const char *p = re; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if ((*p == '*' || *p == '+' || *p == '?' || *p == '}') &&
		    (p[1] == '*' || p[1] == '+' || p[1] == '?' || p[1] == '{'))
			return "a quantifier follows another one";
		if (*p == ')' && (p[1] == '*' || p[1] == '+' || p[1] == '?' || p[1] == '{') &&
		    ++quantified_groups > 4)
			return "more than four repeated groups";
		if (*p == '{') {
			char *end;
			long lo = strtol(p + 1, &end, 10), hi = lo;

			if (*end == ',')
				hi = end[1] == '}' ? 0 : strtol(end + 1, &end, 10);
			if (++counted > 1 || lo > 100 || hi > 100)
				return "more than one {m,n} repetition, or a bound above 100";
		}
	}
	return NULL;
}

static void ident_line(struct ctx *cx, struct fields *fs, void *arg)
{
	const char *why_not;
	struct ident *id = arg;
	struct mapping m;
	const struct token *sys, *db;
	int rc;

	memset(&m, 0, sizeof(m));
	if (fs->n != 3) {
		fail(cx, "expected three fields (map system-user database-user), found %zu", fs->n);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		if (!single(cx, &fs->f[i],
		            i == 0   ? "map name"
		            : i == 1 ? "system user"
		                     : "database user"))
			return;
	}
	sys = &fs->f[1].tok[0];
	db = &fs->f[2].tok[0];
	if (!db->quoted && (db->text[0] == '+' || db->text[0] == '@' || db->text[0] == '/')) {
		fail(cx,
		     "database user \"%s\": groups, @files and regular expressions are not "
		     "supported in auth_ident_file",
		     db->text);
		return;
	}
	if (fs->f[0].tok[0].text[0] == '\0' || sys->text[0] == '\0' || db->text[0] == '\0') {
		fail(cx, "empty field in auth_ident_file");
		return;
	}
	m.line = cx->line;
	m.is_regex = !sys->quoted && sys->text[0] == '/';
	m.db_all = !db->quoted && strcmp(db->text, "all") == 0;
	if ((m.map = strdup(fs->f[0].tok[0].text)) == NULL ||
	    (m.sys_user = strdup(sys->text + (m.is_regex ? 1 : 0))) == NULL ||
	    (m.db_user = strdup(db->text)) == NULL) {
		m.is_regex = false;
		mapping_free(&m);
		cx->oom = true;
		return;
	}
	if (m.is_regex && (why_not = regex_too_costly(m.sys_user)) != NULL) {
		fail(cx, "regular expression \"%s\" refused: %s", m.sys_user, why_not);
		m.is_regex = false;
		mapping_free(&m);
		return;
	}
	if (m.is_regex && (rc = regcomp(&m.re, m.sys_user, REG_EXTENDED)) != 0) {
		char why[256];

		regerror(rc, &m.re, why, sizeof(why));
		fail(cx, "invalid regular expression \"%s\": %s", m.sys_user, why);
		m.is_regex = false;
		mapping_free(&m);
		return;
	}
	if (!grow((void **)&id->m, id->n, &id->cap, sizeof(*id->m))) {
		mapping_free(&m);
		cx->oom = true;
		return;
	}
	id->m[id->n++] = m;
}

static void ident_free(struct ident *id)
{
	for (size_t i = 0; i < id->n; i++)
		mapping_free(&id->m[i]);
	free(id->m);
	free(id);
}

struct ident *ident_parse(const char *buf, size_t len, const char *name, config_report_fn report,
                          void *arg)
{
	struct ident *id = calloc(1, sizeof(*id));
	struct ctx cx = {.file = name, .report = report, .arg = arg};

	if (id == NULL) {
		if (report != NULL)
			report(arg, true, "out of memory while reading auth_ident_file");
		return NULL;
	}
	id->refs = 1;
	for_each_line(&cx, buf, len, ident_line, id);
	if (cx.oom && report != NULL)
		report(arg, true, "out of memory while reading auth_ident_file");
	if (cx.errors > 0 || cx.oom) {
		ident_free(id);
		return NULL;
	}
	return id;
}

struct ident *ident_load(const char *path, config_report_fn report, void *arg)
{
	char *buf;
	size_t len;
	struct ident *id;

	if (!read_or_report("auth_ident_file", path, &buf, &len, report, arg))
		return NULL;
	id = ident_parse(buf, len, path, report, arg);
	free(buf);
	return id;
}

struct ident *ident_ref(struct ident *id)
{
	if (id != NULL)
		id->refs++;
	return id;
}

void ident_unref(struct ident *id)
{
	if (id != NULL && --id->refs == 0)
		ident_free(id);
}

bool ident_has_map(const struct ident *id, const char *map)
{
	if (id == NULL)
		return false;
	for (size_t i = 0; i < id->n; i++)
		if (strcmp(id->m[i].map, map) == 0)
			return true;
	return false;
}

/* The database user a regex line maps to: db_user with \1 replaced by the
 * first group.  False when it does not fit out. */
static bool substitute(const struct mapping *m, const char *sys, const regmatch_t *g, char *out,
                       size_t n)
{
	const char *p = m->db_user, *at = strstr(p, "\\1");
	size_t glen, pre;

	if (at == NULL)
		return snprintf(out, n, "%s", p) < (int)n;
	if (g->rm_so < 0) /* \1 without a group: PostgreSQL refuses the login too */
		return false;
	glen = (size_t)(g->rm_eo - g->rm_so);
	pre = (size_t)(at - p);
	if (pre + glen + strlen(at + 2) + 1 > n)
		return false;
	memcpy(out, p, pre);
	memcpy(out + pre, sys + g->rm_so, glen);
	strcpy(out + pre + glen, at + 2);
	return true;
}

bool ident_allows(const struct ident *id, const char *map, const char *system_user,
                  const char *db_user)
{
	if (id == NULL || map == NULL)
		return false;
	for (size_t i = 0; i < id->n; i++) {
		const struct mapping *m = &id->m[i];
		regmatch_t g[2];
		char want[512];

		if (strcmp(m->map, map) != 0)
			continue;
		if (!m->is_regex) {
			if (strcmp(m->sys_user, system_user) != 0)
				continue;
			if (m->db_all || strcmp(m->db_user, db_user) == 0)
				return true;
			continue;
		}
		if (regexec(&m->re, system_user, 2, g, 0) != 0)
			continue;
		if (m->db_all)
			return true;
		if (m->re.re_nsub < 1)
			g[1].rm_so = g[1].rm_eo = -1;
		if (substitute(m, system_user, &g[1], want, sizeof(want)) &&
		    strcmp(want, db_user) == 0)
			return true;
	}
	return false;
}
