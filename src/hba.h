/* auth_hba_file and auth_ident_file: pg_hba.conf-format rules (local, host,
 * hostssl, hostnossl; database and user lists with all / sameuser /
 * replication / @file / quoted names; IPv4 and IPv6 addresses with masks) and
 * pg_ident.conf-format user maps, parsed into immutable objects and matched
 * first-line-wins.  Pure: no sockets, no globals; files are read only by the
 * *_load() functions and for @file includes. */
#ifndef FAIRWAY_HBA_H
#define FAIRWAY_HBA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

struct hba;   /* the rules of one auth_hba_file; shared, reference counted */
struct ident; /* the maps of one auth_ident_file; shared, reference counted */

enum hba_method {
	HBA_TRUST,
	HBA_REJECT,
	HBA_MD5,
	HBA_PASSWORD, /* "password" (PgBouncer's auth_type plain) */
	HBA_SCRAM,    /* "scram-sha-256" */
	HBA_CERT,
	HBA_PEER,
	HBA_LDAP, /* parsed, as PgBouncer 1.25 accepts it; logins are refused */
};

/* What the client asked for in its `replication` startup parameter. */
enum hba_replication {
	HBA_REPL_NONE,
	HBA_REPL_PHYSICAL, /* replication=true/on/yes/1 */
	HBA_REPL_LOGICAL,  /* replication=database: matched like a normal connection */
};

/* One matching line, as the caller needs it.  Valid while the struct hba lives. */
struct hba_rule {
	enum hba_method method;
	const char *file; /* the auth_hba_file path */
	int line;         /* its line number (first line of a continued line) */
	const char *map;  /* map= option (peer, cert), NULL when absent */
};

/* The connection being matched.  addr is the peer's IPv4 or IPv6 address
 * (ignored when is_unix). */
struct hba_conn {
	bool is_unix;
	bool is_tls;
	const struct sockaddr *addr;
	const char *dbname;
	const char *user;
	enum hba_replication replication;
};

/* Parses len bytes of buf, named name in messages; @file names are relative to
 * name's directory.  Every problem is reported through report as an error
 * ending "(file:line)"; NULL is returned if there was any (or memory ran out).
 * ident (may be NULL) is the loaded auth_ident_file: a map= naming a map it
 * lacks is an error.  The result has one reference. */
struct hba *hba_parse(const char *buf, size_t len, const char *name, const struct ident *ident,
                      config_report_fn report, void *arg);
/* Reads path and parses it; a file that cannot be read is reported too. */
struct hba *hba_load(const char *path, const struct ident *ident, config_report_fn report,
                     void *arg);
struct hba *hba_ref(struct hba *hba);
void hba_unref(struct hba *hba);

/* The first line matching conn, or NULL when none does. */
const struct hba_rule *hba_match(const struct hba *hba, const struct hba_conn *conn);
const char *hba_method_name(enum hba_method m);

/* The same for auth_ident_file: lines "map system-user database-user"; a
 * system user starting with '/' is a POSIX extended regular expression, and
 * then \1 in the database user stands for its first parenthesised group;
 * database user `all` allows any. */
struct ident *ident_parse(const char *buf, size_t len, const char *name, config_report_fn report,
                          void *arg);
struct ident *ident_load(const char *path, config_report_fn report, void *arg);
struct ident *ident_ref(struct ident *id);
void ident_unref(struct ident *id);

bool ident_has_map(const struct ident *id, const char *map);
/* True if map lets the operating-system user system_user log in as db_user. */
bool ident_allows(const struct ident *id, const char *map, const char *system_user,
                  const char *db_user);

#endif
