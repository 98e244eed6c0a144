/* Unit tests for auth_hba_file and auth_ident_file (src/hba.c): every line
 * type, v4/v6 masks, @file includes, quoting, errors with file:line,
 * first-match-wins, replication, and ident maps with regular expressions. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hba.h"
#include "suites.h"

/* Messages collected from the parser. */
struct notes {
	int errors, warnings;
	char all[8192];
};

static void note(void *arg, bool is_error, const char *msg)
{
	struct notes *n = arg;
	size_t used = strlen(n->all);

	if (is_error)
		n->errors++;
	else
		n->warnings++;
	snprintf(n->all + used, sizeof(n->all) - used, "%s\n", msg);
}

static struct hba *parse_with(const char *text, const struct ident *id, struct notes *n)
{
	memset(n, 0, sizeof(*n));
	return hba_parse(text, strlen(text), "/etc/fw/hba.conf", id, note, n);
}

static struct hba *parse_ok(const char *text)
{
	struct notes n;
	struct hba *hba = parse_with(text, NULL, &n);

	ck_assert_msg(hba != NULL, "unexpected errors:\n%s", n.all);
	ck_assert_msg(n.errors == 0, "%s", n.all);
	return hba;
}

/* The error text for text, which must fail to parse. */
static const char *parse_err(const char *text)
{
	static struct notes n;
	struct hba *hba = parse_with(text, NULL, &n);

	ck_assert_msg(hba == NULL, "parsed but should not have: %s", text);
	ck_assert_int_ge(n.errors, 1);
	return n.all;
}

/* A connection to match: "unix", "tls:<ip>" or "<ip>". */
struct conn {
	struct hba_conn hc;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

static const struct hba_conn *conn(struct conn *k, const char *from, const char *db,
                                   const char *user)
{
	memset(k, 0, sizeof(*k));
	k->hc.dbname = db;
	k->hc.user = user;
	if (strcmp(from, "unix") == 0) {
		k->hc.is_unix = true;
		return &k->hc;
	}
	if (strncmp(from, "tls:", 4) == 0) {
		k->hc.is_tls = true;
		from += 4;
	}
	if (inet_pton(AF_INET, from, &k->in4.sin_addr) == 1) {
		k->in4.sin_family = AF_INET;
		k->hc.addr = (const struct sockaddr *)&k->in4;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, from, &k->in6.sin6_addr), 1);
		k->in6.sin6_family = AF_INET6;
		k->hc.addr = (const struct sockaddr *)&k->in6;
	}
	return &k->hc;
}

/* "method@line" of the matching rule, "none" when nothing matches. */
static const char *eval(const struct hba *hba, const char *from, const char *db, const char *user)
{
	static char out[64];
	struct conn k;
	const struct hba_rule *r = hba_match(hba, conn(&k, from, db, user));

	if (r == NULL)
		return "none";
	snprintf(out, sizeof(out), "%s@%d", hba_method_name(r->method), r->line);
	return out;
}

START_TEST(each_connection_type_matches_its_own_connections)
{
	struct hba *hba = parse_ok("local     all all               peer\n"
	                           "hostssl   all all 0.0.0.0/0     cert\n"
	                           "hostnossl all all 10.0.0.0/8    md5\n"
	                           "host      all all 0.0.0.0/0     scram-sha-256\n"
	                           "host      all all ::/0          password\n");

	ck_assert_str_eq(eval(hba, "unix", "db", "u"), "peer@1");
	ck_assert_str_eq(eval(hba, "tls:10.1.2.3", "db", "u"), "cert@2");
	ck_assert_str_eq(eval(hba, "10.1.2.3", "db", "u"), "md5@3");
	ck_assert_str_eq(eval(hba, "192.168.1.1", "db", "u"), "scram-sha-256@4");
	ck_assert_str_eq(eval(hba, "2001:db8::1", "db", "u"), "password@5");
	/* hostnossl never matches TLS; a TLS client from 10/8 still has line 2 first. */
	ck_assert_str_eq(eval(hba, "tls:2001:db8::1", "db", "u"), "password@5");
	hba_unref(hba);
}
END_TEST

START_TEST(hostssl_never_matches_a_plain_connection)
{
	struct hba *hba = parse_ok("hostssl all all all trust\n");

	ck_assert_str_eq(eval(hba, "127.0.0.1", "db", "u"), "none");
	ck_assert_str_eq(eval(hba, "unix", "db", "u"), "none");
	ck_assert_str_eq(eval(hba, "tls:127.0.0.1", "db", "u"), "trust@1");
	hba_unref(hba);
}
END_TEST

START_TEST(first_matching_line_wins)
{
	struct hba *hba = parse_ok("host db1 alice 127.0.0.1/32 reject\n"
	                           "host all alice 127.0.0.1/32 trust\n"
	                           "host all all   127.0.0.1/32 md5\n"
	                           "host all alice 127.0.0.1/32 password\n");

	ck_assert_str_eq(eval(hba, "127.0.0.1", "db1", "alice"), "reject@1");
	ck_assert_str_eq(eval(hba, "127.0.0.1", "db2", "alice"), "trust@2");
	ck_assert_str_eq(eval(hba, "127.0.0.1", "db1", "bob"), "md5@3");
	ck_assert_str_eq(eval(hba, "127.0.0.2", "db1", "bob"), "none");
	hba_unref(hba);
}
END_TEST

START_TEST(ipv4_masks_as_cidr_and_as_separate_column)
{
	struct hba *hba = parse_ok("host all a 127.0.0.1/32 trust\n"
	                           "host all b 10.0.0.0/8 trust\n"
	                           "host all c 192.168.0.0 255.255.0.0 trust\n"
	                           "host all d 10.1.2.3/0 trust\n"
	                           "host all e 172.16.5.0/23 trust\n");

	ck_assert_str_eq(eval(hba, "127.0.0.1", "db", "a"), "trust@1");
	ck_assert_str_eq(eval(hba, "127.0.0.2", "db", "a"), "none");
	ck_assert_str_eq(eval(hba, "10.255.0.1", "db", "b"), "trust@2");
	ck_assert_str_eq(eval(hba, "11.0.0.1", "db", "b"), "none");
	ck_assert_str_eq(eval(hba, "192.168.77.3", "db", "c"), "trust@3");
	ck_assert_str_eq(eval(hba, "192.169.0.1", "db", "c"), "none");
	ck_assert_str_eq(eval(hba, "8.8.8.8", "db", "d"), "trust@4");
	ck_assert_str_eq(eval(hba, "172.16.4.9", "db", "e"), "trust@5");
	ck_assert_str_eq(eval(hba, "172.16.5.200", "db", "e"), "trust@5");
	ck_assert_str_eq(eval(hba, "172.16.6.1", "db", "e"), "none");
	/* An IPv4 rule never matches a native IPv6 client... */
	ck_assert_str_eq(eval(hba, "::1", "db", "a"), "none");
	/* ...but does match an IPv4 client seen through a dual-stack socket. */
	ck_assert_str_eq(eval(hba, "::ffff:10.9.9.9", "db", "b"), "trust@2");
	ck_assert_str_eq(eval(hba, "::ffff:11.9.9.9", "db", "b"), "none");
	hba_unref(hba);
}
END_TEST

START_TEST(ipv6_masks_as_cidr_and_as_separate_column)
{
	struct hba *hba = parse_ok("host all a ::1/128 trust\n"
	                           "host all b 2001:db8::/32 trust\n"
	                           "host all c fe80:: ffff:ffff:ffff:ffff:: trust\n"
	                           "host all d 2001:db8:0:1::/63 trust\n");

	ck_assert_str_eq(eval(hba, "::1", "db", "a"), "trust@1");
	ck_assert_str_eq(eval(hba, "::2", "db", "a"), "none");
	ck_assert_str_eq(eval(hba, "127.0.0.1", "db", "a"), "none");
	ck_assert_str_eq(eval(hba, "2001:db8:ffff::1", "db", "b"), "trust@2");
	ck_assert_str_eq(eval(hba, "2001:db9::1", "db", "b"), "none");
	ck_assert_str_eq(eval(hba, "fe80::1234", "db", "c"), "trust@3");
	ck_assert_str_eq(eval(hba, "fe81::1234", "db", "c"), "none");
	ck_assert_str_eq(eval(hba, "2001:db8:0:0::5", "db", "d"), "trust@4");
	ck_assert_str_eq(eval(hba, "2001:db8:0:1::5", "db", "d"), "trust@4");
	ck_assert_str_eq(eval(hba, "2001:db8:0:2::5", "db", "d"), "none");
	hba_unref(hba);
}
END_TEST

START_TEST(database_keywords_lists_and_quoted_names)
{
	struct hba *hba = parse_ok("local sameuser all trust\n"
	                           "local db1,db2, \"db 3\" all md5\n"
	                           "local \"all\" all password\n"
	                           "local \"sameuser\" all scram-sha-256\n"
	                           "local \"Q\"\"uote\" all reject\n");

	ck_assert_str_eq(eval(hba, "unix", "alice", "alice"), "trust@1");
	ck_assert_str_eq(eval(hba, "unix", "db1", "alice"), "md5@2");
	ck_assert_str_eq(eval(hba, "unix", "db2", "alice"), "md5@2");
	ck_assert_str_eq(eval(hba, "unix", "db 3", "alice"), "md5@2");
	ck_assert_str_eq(eval(hba, "unix", "db3", "alice"), "none");
	/* Quoted keywords are plain names. */
	ck_assert_str_eq(eval(hba, "unix", "all", "bob"), "password@3");
	ck_assert_str_eq(eval(hba, "unix", "sameuser", "bob"), "scram-sha-256@4");
	ck_assert_str_eq(eval(hba, "unix", "Q\"uote", "bob"), "reject@5");
	ck_assert_str_eq(eval(hba, "unix", "other", "bob"), "none");
	hba_unref(hba);
}
END_TEST

START_TEST(user_lists_and_quoted_names)
{
	struct hba *hba = parse_ok("host all alice,\"Bob Smith\" 0.0.0.0/0 md5\n"
	                           "host all \"all\" 0.0.0.0/0 reject\n"
	                           "host all all 0.0.0.0/0 trust # the rest\n");

	ck_assert_str_eq(eval(hba, "1.2.3.4", "db", "alice"), "md5@1");
	ck_assert_str_eq(eval(hba, "1.2.3.4", "db", "Bob Smith"), "md5@1");
	ck_assert_str_eq(eval(hba, "1.2.3.4", "db", "all"), "reject@2");
	ck_assert_str_eq(eval(hba, "1.2.3.4", "db", "carol"), "trust@3");
	hba_unref(hba);
}
END_TEST

START_TEST(replication_keyword_matches_only_physical_replication)
{
	struct hba *hba = parse_ok("local replication rep trust\n"
	                           "local all all md5\n");
	struct conn k;
	const struct hba_rule *r;

	conn(&k, "unix", "db", "rep");
	k.hc.replication = HBA_REPL_PHYSICAL;
	r = hba_match(hba, &k.hc);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->line, 1);
	/* `all` does not cover physical replication: nothing for another user. */
	k.hc.user = "app";
	ck_assert_ptr_null(hba_match(hba, &k.hc));
	/* Logical replication (replication=database) is matched by database name. */
	k.hc.user = "rep";
	k.hc.replication = HBA_REPL_LOGICAL;
	r = hba_match(hba, &k.hc);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->line, 2);
	/* A database literally called "replication" is not the keyword. */
	ck_assert_str_eq(eval(hba, "unix", "replication", "rep"), "md5@2");
	hba_unref(hba);
}
END_TEST

START_TEST(comments_blank_lines_and_continuations)
{
	struct hba *hba = parse_ok("# TYPE DATABASE USER ADDRESS METHOD\n"
	                           "\n"
	                           "   \t  \n"
	                           "host all \\\n"
	                           "  alice 127.0.0.1/32 \\\n"
	                           "  trust\r\n"
	                           "host all bob 127.0.0.1/32 md5");

	ck_assert_str_eq(eval(hba, "127.0.0.1", "db", "alice"), "trust@4");
	ck_assert_str_eq(eval(hba, "127.0.0.1", "db", "bob"), "md5@7");
	hba_unref(hba);
}
END_TEST

START_TEST(errors_name_file_and_line_and_every_bad_line_is_reported)
{
	struct notes n;
	struct hba *hba = parse_with("host all all 127.0.0.1/32 trust\n"
	                             "hots all all 127.0.0.1/32 trust\n"
	                             "host all all 127.0.0.1/33 trust\n"
	                             "host all all 127.0.0.1/32 ident\n",
	                             NULL, &n);

	ck_assert_ptr_null(hba);
	ck_assert_int_eq(n.errors, 3);
	ck_assert_msg(strstr(n.all, "invalid connection type \"hots\"") != NULL, "%s", n.all);
	ck_assert_msg(strstr(n.all, "(/etc/fw/hba.conf:2)") != NULL, "%s", n.all);
	ck_assert_msg(strstr(n.all, "invalid CIDR mask in address \"127.0.0.1/33\" "
	                            "(/etc/fw/hba.conf:3)") != NULL,
	              "%s", n.all);
	ck_assert_msg(strstr(n.all, "unsupported authentication method \"ident\"") != NULL, "%s",
	              n.all);
	ck_assert_msg(strstr(n.all, "(/etc/fw/hba.conf:4)") != NULL, "%s", n.all);
}
END_TEST

START_TEST(malformed_lines_are_errors_with_reasons)
{
	ck_assert(strstr(parse_err("host all all\n"), "end of line before the address field"));
	ck_assert(strstr(parse_err("local all\n"), "end of line before the user field"));
	ck_assert(strstr(parse_err("local all all\n"), "authentication method"));
	ck_assert(strstr(parse_err("host all all 127.0.0.1 trust\n"), "invalid IP mask \"trust\""));
	ck_assert(strstr(parse_err("host all all 127.0.0.1 255.0.0.0\n"),
	                 "end of line before the authentication method field"));
	ck_assert(strstr(parse_err("host all all 127.0.0.1 ffff:: trust\n"), "invalid IP mask"));
	ck_assert(strstr(parse_err("host all all ::1/129 trust\n"), "invalid CIDR mask"));
	ck_assert(strstr(parse_err("host all all 10.0.0.0/ trust\n"), "invalid CIDR mask"));
	ck_assert(strstr(parse_err("host all all 10.0.0.0/-1 trust\n"), "invalid CIDR mask"));
	ck_assert(strstr(parse_err("host all all db.example.com trust\n"),
	                 "host names are not supported"));
	ck_assert(strstr(parse_err("host all all samehost trust\n"), "samehost is not supported"));
	ck_assert(strstr(parse_err("host all all samenet trust\n"), "samenet is not supported"));
	ck_assert(strstr(parse_err("host all all 1.2.3.4/32,5.6.7.8/32 trust\n"),
	                 "address field cannot be a list"));
	ck_assert(strstr(parse_err("local all +admins trust\n"), "group names (+admins)"));
	ck_assert(strstr(parse_err("local samerole all trust\n"), "samerole is not supported"));
	ck_assert(strstr(parse_err("local samegroup all trust\n"), "samegroup is not supported"));
	ck_assert(strstr(parse_err("local /^db all trust\n"), "regular expressions"));
	ck_assert(strstr(parse_err("local all all pam\n"), "works only as auth_type"));
	ck_assert(strstr(parse_err("local all all any\n"), "works only as auth_type"));
	ck_assert(strstr(parse_err("local all all gss\n"), "unsupported authentication method"));
	ck_assert(strstr(parse_err("local all all trust,md5\n"), "cannot be a list"));
	ck_assert(strstr(parse_err("local all all md5 map=x\n"), "map= is only supported"));
	ck_assert(strstr(parse_err("local all all peer map=x\n"), "map=x needs auth_ident_file"));
	ck_assert(strstr(parse_err("local all all peer map=\n"), "map= needs a map name"));
	ck_assert(strstr(parse_err("local all all peer foo=bar\n"), "unsupported authentication "
	                                                            "option \"foo\""));
	ck_assert(strstr(parse_err("local all all peer extra\n"), "not in name=value form"));
	ck_assert(strstr(parse_err("local \"db all trust\n"), "unterminated quoted string"));
	ck_assert(strstr(parse_err("local db, all trust\n"),
	                 "end of line before the authentication method field"));
	ck_assert(strstr(parse_err("local db1, all\n"), "end of line before the user field"));
	ck_assert(strstr(parse_err("local db1,, all trust\n"), "empty name"));
	ck_assert(strstr(parse_err("local db1 all trust,\n"), "comma at the end of a list"));
	ck_assert(strstr(parse_err("local \"\" all trust\n"), "empty database name"));
	ck_assert(strstr(parse_err("local @ all trust\n"), "@ must be followed by a file name"));
	ck_assert(strstr(parse_err("local @/nonexistent/dbs all trust\n"),
	                 "could not read @file /nonexistent/dbs"));
}
END_TEST

START_TEST(nul_bytes_and_huge_lines_do_not_crash)
{
	static const char with_nul[] = "local all all trust\nlocal a\0b all trust\n";
	struct notes n;
	size_t big = 200000;
	char *line = malloc(big + 64);
	struct hba *hba;

	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(hba_parse(with_nul, sizeof(with_nul) - 1, "h", NULL, note, &n));
	ck_assert_msg(strstr(n.all, "NUL byte in line (h:2)") != NULL, "%s", n.all);

	strcpy(line, "local ");
	for (size_t i = 6; i < big; i++)
		line[i] = (i % 10 == 0) ? ',' : 'd';
	strcpy(line + big, " all trust\n");
	hba = parse_ok(line);
	ck_assert_str_eq(eval(hba, "unix", "ddddddddd", "u"), "trust@1");
	hba_unref(hba);
	free(line);
}
END_TEST

START_TEST(peer_on_host_lines_warns_but_loads)
{
	struct notes n;
	struct hba *hba = parse_with("host all all 0.0.0.0/0 peer\n", NULL, &n);

	ck_assert_ptr_nonnull(hba);
	ck_assert_int_eq(n.errors, 0);
	ck_assert_int_eq(n.warnings, 1);
	ck_assert_msg(strstr(n.all, "peer authentication works only on local") != NULL, "%s",
	              n.all);
	ck_assert_str_eq(eval(hba, "1.2.3.4", "db", "u"), "peer@1");
	hba_unref(hba);
}
END_TEST

START_TEST(ldap_lines_load_with_their_options)
{
	struct hba *hba = parse_ok("host all all 0.0.0.0/0 ldap ldapurl=\"ldap://h/dc=x?uid\" "
	                           "ldaptls=1\n");

	ck_assert_str_eq(eval(hba, "1.2.3.4", "db", "u"), "ldap@1");
	hba_unref(hba);
}
END_TEST

/* A scratch directory with files; removed by rm_tree. */
static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void rm_files(const char *dir, const char *const *names)
{
	char path[512];

	for (; *names != NULL; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		unlink(path);
	}
	rmdir(dir);
}

START_TEST(at_file_includes_names_relative_to_the_hba_file)
{
	static const char *const files[] = {"hba.conf", "dbs", "users", "more", "loop", NULL};
	char dir[] = "/tmp/fw-hba-XXXXXX", path[512];
	struct notes n;
	struct hba *hba;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "dbs", "# databases\nsales, \"hr db\"\n  @more\n");
	write_file(dir, "more", "inventory\n");
	write_file(dir, "users", "alice bob\n");
	write_file(dir, "hba.conf",
	           "local @dbs @users trust\n"
	           "local all all reject\n");
	snprintf(path, sizeof(path), "%s/hba.conf", dir);
	memset(&n, 0, sizeof(n));
	hba = hba_load(path, NULL, note, &n);
	ck_assert_msg(hba != NULL, "%s", n.all);
	ck_assert_str_eq(eval(hba, "unix", "sales", "alice"), "trust@1");
	ck_assert_str_eq(eval(hba, "unix", "hr db", "bob"), "trust@1");
	ck_assert_str_eq(eval(hba, "unix", "inventory", "bob"), "trust@1");
	ck_assert_str_eq(eval(hba, "unix", "sales", "carol"), "reject@2");
	ck_assert_str_eq(eval(hba, "unix", "other", "alice"), "reject@2");
	hba_unref(hba);

	/* A bad name inside an @file names that file and its line. */
	write_file(dir, "users", "alice\n+admins\n");
	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(hba_load(path, NULL, note, &n));
	ck_assert_msg(strstr(n.all, "/users:2)") != NULL, "%s", n.all);

	/* An @file that includes itself stops at the depth limit. */
	write_file(dir, "loop", "x @loop\n");
	write_file(dir, "hba.conf", "local @loop all trust\n");
	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(hba_load(path, NULL, note, &n));
	ck_assert_msg(strstr(n.all, "nested more than") != NULL, "%s", n.all);

	/* A missing hba file is an error naming it. */
	rm_files(dir, files);
	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(hba_load(path, NULL, note, &n));
	ck_assert_msg(strstr(n.all, "could not read auth_hba_file") != NULL, "%s", n.all);
}
END_TEST

/* ---- ident maps ---- */

static struct ident *ident_ok(const char *text)
{
	struct notes n;
	struct ident *id;

	memset(&n, 0, sizeof(n));
	id = ident_parse(text, strlen(text), "ident.conf", note, &n);
	ck_assert_msg(id != NULL && n.errors == 0, "%s", n.all);
	return id;
}

START_TEST(ident_maps_exact_all_and_quoted)
{
	struct ident *id = ident_ok("# MAP SYSTEM DB\n"
	                            "ops   root      admin\n"
	                            "ops   root      app\n"
	                            "ops   deploy    all\n"
	                            "other root      \"all\"\n");

	ck_assert(ident_has_map(id, "ops"));
	ck_assert(ident_has_map(id, "other"));
	ck_assert(!ident_has_map(id, "nope"));
	ck_assert(ident_allows(id, "ops", "root", "admin"));
	ck_assert(ident_allows(id, "ops", "root", "app"));
	ck_assert(!ident_allows(id, "ops", "root", "postgres"));
	ck_assert(ident_allows(id, "ops", "deploy", "anything"));
	ck_assert(!ident_allows(id, "ops", "nobody", "admin"));
	/* A quoted "all" is a user called all. */
	ck_assert(ident_allows(id, "other", "root", "all"));
	ck_assert(!ident_allows(id, "other", "root", "admin"));
	ck_assert(!ident_allows(id, "nope", "root", "admin"));
	ck_assert(!ident_allows(id, NULL, "root", "admin"));
	ident_unref(id);
}
END_TEST

START_TEST(ident_regex_matches_and_substitutes_its_group)
{
	struct ident *id = ident_ok("m /^(.*)@example\\.com$ \\1\n"
	                            "m /^svc_ app\n"
	                            "m /^admin-(.*)$ db_\\1_rw\n"
	                            "m \"/literal\" lit\n");

	ck_assert(ident_allows(id, "m", "alice@example.com", "alice"));
	ck_assert(!ident_allows(id, "m", "alice@example.com", "bob"));
	ck_assert(!ident_allows(id, "m", "alice@example.org", "alice"));
	ck_assert(ident_allows(id, "m", "svc_billing", "app"));
	ck_assert(!ident_allows(id, "m", "xsvc_billing", "app"));
	ck_assert(ident_allows(id, "m", "admin-ops", "db_ops_rw"));
	ck_assert(!ident_allows(id, "m", "admin-ops", "db_ops"));
	/* A quoted leading slash is a plain name. */
	ck_assert(ident_allows(id, "m", "/literal", "lit"));
	ident_unref(id);
}
END_TEST

START_TEST(ident_errors_name_file_and_line)
{
	struct notes n;
	const char *bad = "good root app\n"
	                  "short root\n"
	                  "m /(unclosed app\n"
	                  "m root +group\n"
	                  "m root a b\n"
	                  "m a,b app\n";

	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(ident_parse(bad, strlen(bad), "ident.conf", note, &n));
	ck_assert_int_eq(n.errors, 5);
	ck_assert_msg(strstr(n.all, "expected three fields (map system-user database-user), found "
	                            "2 (ident.conf:2)") != NULL,
	              "%s", n.all);
	ck_assert_msg(strstr(n.all, "invalid regular expression \"(unclosed\"") != NULL, "%s",
	              n.all);
	ck_assert_msg(strstr(n.all, "(ident.conf:3)") != NULL, "%s", n.all);
	ck_assert_msg(strstr(n.all, "database user \"+group\"") != NULL, "%s", n.all);
	ck_assert_msg(strstr(n.all, "found 4 (ident.conf:5)") != NULL, "%s", n.all);
	ck_assert_msg(strstr(n.all, "(ident.conf:6)") != NULL, "%s", n.all);
}
END_TEST

/* Patterns whose compiled form would grow exponentially (found by fuzz_hba:
 * "o+++...+" took more than 2 GB in glibc's regcomp) are refused. */
START_TEST(ident_refuses_regular_expressions_too_costly_to_compile)
{
	struct notes n;
	const char *bad = "m /o++++++++++++++++++++++++++++++++++++++++++ app\n"
	                  "m /((((((a+)+)+)+)+)+)+ app\n"
	                  "m /a{200} app\n"
	                  "m /a{2}b{2} app\n";
	struct ident *id;

	memset(&n, 0, sizeof(n));
	ck_assert_ptr_null(ident_parse(bad, strlen(bad), "ident.conf", note, &n));
	ck_assert_int_eq(n.errors, 4);
	ck_assert_msg(strstr(n.all, "a quantifier follows another one (ident.conf:1)") != NULL,
	              "%s", n.all);
	ck_assert_msg(strstr(n.all, "more than four repeated groups (ident.conf:2)") != NULL, "%s",
	              n.all);
	/* Ordinary patterns still compile. */
	id = ident_ok("m /^(.*)@example\\.com$ \\1\n"
	              "n /^[a-z]{8}_(ro|rw)$ app\n");
	ck_assert(ident_allows(id, "m", "joe@example.com", "joe"));
	ck_assert(ident_allows(id, "n", "batchjob_ro", "app"));
	ident_unref(id);
}
END_TEST

START_TEST(hba_map_must_name_a_loaded_map)
{
	struct ident *id = ident_ok("ops root admin\n");
	struct notes n;
	struct hba *hba = parse_with("local all all peer map=ops\n", id, &n);
	const struct hba_rule *r;
	struct conn k;

	ck_assert_msg(hba != NULL, "%s", n.all);
	r = hba_match(hba, conn(&k, "unix", "db", "admin"));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->method, HBA_PEER);
	ck_assert_str_eq(r->map, "ops");
	ck_assert_str_eq(r->file, "/etc/fw/hba.conf");
	hba_unref(hba);

	ck_assert_ptr_null(parse_with("local all all peer map=missing\n", id, &n));
	ck_assert_msg(strstr(n.all, "map \"missing\" is not defined in auth_ident_file "
	                            "(/etc/fw/hba.conf:1)") != NULL,
	              "%s", n.all);
	hba = parse_with("hostssl all all all cert map=ops\n", id, &n);
	ck_assert_ptr_nonnull(hba);
	hba_unref(hba);
	ident_unref(id);
}
END_TEST

START_TEST(shared_references_free_once)
{
	struct hba *hba = parse_ok("local all all trust\n");
	struct ident *id = ident_ok("a b c\n");

	ck_assert_ptr_eq(hba_ref(hba), hba);
	ck_assert_ptr_eq(ident_ref(id), id);
	hba_unref(hba);
	ident_unref(id);
	ck_assert_str_eq(eval(hba, "unix", "db", "u"), "trust@1"); /* still alive */
	hba_unref(hba);
	ident_unref(id);
	hba_unref(NULL);
	ident_unref(NULL);
	ck_assert_ptr_null(hba_match(NULL, &(struct hba_conn){.is_unix = true}));
}
END_TEST

/* ---- through the configuration loader ---- */

static struct config *load_ini(const char *dir, const char *main_lines, struct notes *n)
{
	char ini[600], path[512];

	snprintf(ini, sizeof(ini), "[pgbouncer]\n%s\n[databases]\n", main_lines);
	write_file(dir, "fw.ini", ini);
	snprintf(path, sizeof(path), "%s/fw.ini", dir);
	memset(n, 0, sizeof(*n));
	return config_load(path, note, n);
}

START_TEST(config_loads_the_files_only_for_auth_type_hba)
{
	static const char *const files[] = {"fw.ini", "hba.conf", "ident.conf", NULL};
	char dir[] = "/tmp/fw-hbacfg-XXXXXX", lines[1024], err[256];
	struct config *cfg, *set;
	struct notes n;
	struct conn k;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "hba.conf", "local all all peer map=m\n");
	write_file(dir, "ident.conf", "m root app\n");

	/* auth_type = hba: both files loaded, the map known to the rules */
	snprintf(lines, sizeof(lines),
	         "auth_type = hba\nauth_hba_file = %s/hba.conf\nauth_ident_file = %s/ident.conf\n",
	         dir, dir);
	cfg = load_ini(dir, lines, &n);
	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_int_eq(n.warnings, 0); /* hba is not "not active yet" any more */
	ck_assert_ptr_nonnull(cfg->hba);
	ck_assert(ident_allows(cfg->ident, "m", "root", "app"));
	ck_assert_str_eq(hba_match(cfg->hba, conn(&k, "unix", "d", "app"))->map, "m");

	/* SET shares the loaded rules; SET of a missing file says why and changes nothing */
	set = config_with_set(cfg, "default_pool_size", "5", err, sizeof(err));
	ck_assert_ptr_nonnull(set);
	ck_assert_ptr_eq(set->hba, cfg->hba);
	config_free(set);
	ck_assert_ptr_null(config_with_set(cfg, "auth_hba_file", "/nonexistent", err, sizeof(err)));
	ck_assert_msg(strstr(err, "could not read auth_hba_file /nonexistent") != NULL, "%s", err);
	set = config_with_set(cfg, "auth_type", "md5", err, sizeof(err));
	ck_assert_ptr_nonnull(set);
	ck_assert_ptr_null(set->hba); /* dropped with auth_type */
	config_free(set);
	config_free(cfg); /* the last reference: ASan reports a leak or a double free */

	/* other auth types never read them, even when they are broken */
	write_file(dir, "hba.conf", "bogus line\n");
	snprintf(lines, sizeof(lines), "auth_type = md5\nauth_hba_file = %s/hba.conf\n", dir);
	cfg = load_ini(dir, lines, &n);
	ck_assert_msg(cfg != NULL, "%s", n.all);
	ck_assert_ptr_null(cfg->hba);
	config_free(cfg);

	/* a broken file fails the load, naming file:line */
	snprintf(lines, sizeof(lines), "auth_type = hba\nauth_hba_file = %s/hba.conf\n", dir);
	ck_assert_ptr_null(load_ini(dir, lines, &n));
	ck_assert_msg(strstr(n.all, "invalid connection type \"bogus\"") != NULL, "%s", n.all);
	ck_assert_msg(strstr(n.all, "hba.conf:1)") != NULL, "%s", n.all);
	/* and auth_type = hba without a file is an error */
	ck_assert_ptr_null(load_ini(dir, "auth_type = hba\n", &n));
	ck_assert_msg(strstr(n.all, "auth_type = hba needs auth_hba_file") != NULL, "%s", n.all);
	/* peer is not an auth_type, as in PgBouncer */
	ck_assert_ptr_null(load_ini(dir, "auth_type = peer\n", &n));
	rm_files(dir, files);
}
END_TEST

Suite *hba_suite(void)
{
	Suite *s = suite_create("hba");
	TCase *tc = tcase_create("hba");
	TCase *ti = tcase_create("ident");

	tcase_add_test(tc, each_connection_type_matches_its_own_connections);
	tcase_add_test(tc, hostssl_never_matches_a_plain_connection);
	tcase_add_test(tc, first_matching_line_wins);
	tcase_add_test(tc, ipv4_masks_as_cidr_and_as_separate_column);
	tcase_add_test(tc, ipv6_masks_as_cidr_and_as_separate_column);
	tcase_add_test(tc, database_keywords_lists_and_quoted_names);
	tcase_add_test(tc, user_lists_and_quoted_names);
	tcase_add_test(tc, replication_keyword_matches_only_physical_replication);
	tcase_add_test(tc, comments_blank_lines_and_continuations);
	tcase_add_test(tc, errors_name_file_and_line_and_every_bad_line_is_reported);
	tcase_add_test(tc, malformed_lines_are_errors_with_reasons);
	tcase_add_test(tc, nul_bytes_and_huge_lines_do_not_crash);
	tcase_add_test(tc, peer_on_host_lines_warns_but_loads);
	tcase_add_test(tc, ldap_lines_load_with_their_options);
	tcase_add_test(tc, at_file_includes_names_relative_to_the_hba_file);
	tcase_add_test(ti, ident_maps_exact_all_and_quoted);
	tcase_add_test(ti, ident_regex_matches_and_substitutes_its_group);
	tcase_add_test(ti, ident_errors_name_file_and_line);
	tcase_add_test(ti, ident_refuses_regular_expressions_too_costly_to_compile);
	tcase_add_test(ti, hba_map_must_name_a_loaded_map);
	tcase_add_test(ti, shared_references_free_once);
	tcase_add_test(ti, config_loads_the_files_only_for_auth_type_hba);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, ti);
	return s;
}
