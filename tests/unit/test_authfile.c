/* Unit tests for the auth_file parser (src/authfile.c), hostile input too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authfile.h"
#include "suites.h"

/* Warnings collected from the parser. */
struct notes {
	int n;
	char all[4096];
};

static void note(void *arg, bool is_error, const char *msg)
{
	struct notes *w = arg;
	size_t used = strlen(w->all);

	ck_assert(!is_error);
	w->n++;
	snprintf(w->all + used, sizeof(w->all) - used, "%s\n", msg);
}

static struct auth_entry *parse(const char *text, size_t *n, struct notes *w)
{
	struct auth_entry *e;

	memset(w, 0, sizeof(*w));
	ck_assert(authfile_parse(text, strlen(text), "users.txt", &e, n, note, w));
	return e;
}

START_TEST(entries_are_sorted_and_found_by_user)
{
	struct notes w;
	size_t n;
	struct auth_entry *e =
	    parse("\"zed\" \"z1\"\n"
	          "\"app\" \"md5240aeccb7a1d859a99844d012bfe74cc\" extra fields\n"
	          "  \"mid\"\t\"SCRAM-SHA-256$4096:c2FsdA==$a:b\"\n",
	          &n, &w);

	ck_assert_int_eq(w.n, 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(e[0].user, "app");
	ck_assert_str_eq(e[1].user, "mid");
	ck_assert_str_eq(e[2].user, "zed");
	ck_assert_str_eq(authfile_find(e, n, "zed")->secret, "z1");
	ck_assert_str_eq(authfile_find(e, n, "mid")->secret, "SCRAM-SHA-256$4096:c2FsdA==$a:b");
	ck_assert_ptr_null(authfile_find(e, n, "nobody"));
	ck_assert_ptr_null(authfile_find(e, n, "ap"));
	authfile_free(e, n);
}
END_TEST

START_TEST(doubled_quote_is_a_quote_inside_a_field)
{
	struct notes w;
	size_t n;
	struct auth_entry *e = parse("\"we\"\"ird\" \"pa\"\"ss\"\"\"\n", &n, &w);

	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[0].user, "we\"ird");
	ck_assert_str_eq(e[0].secret, "pa\"ss\"");
	authfile_free(e, n);
}
END_TEST

START_TEST(comments_and_blank_lines_are_skipped_silently)
{
	struct notes w;
	size_t n;
	struct auth_entry *e =
	    parse("; comment\n# other\n\n   \n\t; indented\n\"a\" \"b\"\r\n", &n, &w);

	ck_assert_int_eq(w.n, 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[0].secret, "b");
	authfile_free(e, n);
}
END_TEST

START_TEST(later_duplicate_user_wins)
{
	struct notes w;
	size_t n;
	struct auth_entry *e =
	    parse("\"a\" \"1\"\n\"b\" \"x\"\n\"a\" \"2\"\n\"a\" \"3\"\n", &n, &w);

	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(authfile_find(e, n, "a")->secret, "3");
	authfile_free(e, n);
}
END_TEST

START_TEST(malformed_lines_warn_with_file_and_line_and_are_skipped)
{
	struct notes w;
	size_t n;
	struct auth_entry *e = parse("\"ok1\" \"s\"\n"
	                             "\"unterminated \"x\n"
	                             "\"only_user\"\n"
	                             "bare words\n"
	                             "\"\" \"empty user\"\n"
	                             "\"u\" \"unterminated secret\n"
	                             "\"ok2\" \"\"\n",
	                             &n, &w);

	ck_assert_int_eq(w.n, 5);
	ck_assert_ptr_nonnull(strstr(w.all, "(users.txt:2)"));
	ck_assert_ptr_nonnull(strstr(w.all, "(users.txt:3)"));
	ck_assert_ptr_nonnull(strstr(w.all, "(users.txt:4)"));
	ck_assert_ptr_nonnull(strstr(w.all, "(users.txt:5)"));
	ck_assert_ptr_nonnull(strstr(w.all, "(users.txt:6)"));
	ck_assert_ptr_nonnull(strstr(w.all, "unterminated"));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(authfile_find(e, n, "ok2")->secret, "");
	ck_assert_ptr_nonnull(authfile_find(e, n, "ok1"));
	authfile_free(e, n);
}
END_TEST

START_TEST(empty_input_gives_no_entries)
{
	struct notes w;
	size_t n = 99;
	struct auth_entry *e;

	memset(&w, 0, sizeof(w));
	ck_assert(authfile_parse("", 0, "x", &e, &n, note, &w));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(authfile_find(e, n, "a"));
	authfile_free(e, n);
	ck_assert(authfile_parse(NULL, 0, "x", &e, &n, NULL, NULL));
	ck_assert_uint_eq(n, 0);
	authfile_free(e, n);
}
END_TEST

START_TEST(last_line_without_newline_and_unterminated_at_eof)
{
	struct notes w;
	size_t n;
	struct auth_entry *e = parse("\"a\" \"b\"", &n, &w);

	ck_assert_uint_eq(n, 1);
	authfile_free(e, n);
	e = parse("\"a\" \"b", &n, &w);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(w.n, 1);
	authfile_free(e, n);
	e = parse("\"", &n, &w);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(w.n, 1);
	authfile_free(e, n);
}
END_TEST

START_TEST(nul_byte_inside_a_field_is_rejected)
{
	static const char text[] = "\"a\" \"x\0y\"\n\"b\" \"c\"\n";
	struct notes w;
	size_t n;
	struct auth_entry *e;

	memset(&w, 0, sizeof(w));
	ck_assert(authfile_parse(text, sizeof(text) - 1, "f", &e, &n, note, &w));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[0].user, "b");
	ck_assert_ptr_nonnull(strstr(w.all, "NUL"));
	authfile_free(e, n);
}
END_TEST

START_TEST(very_long_line_parses_whole)
{
	size_t len = 1 << 20;
	char *text = malloc(len + 32);
	struct notes w;
	size_t n;
	struct auth_entry *e;

	ck_assert_ptr_nonnull(text);
	strcpy(text, "\"big\" \"");
	memset(text + 7, 'k', len);
	strcpy(text + 7 + len, "\"\n");
	memset(&w, 0, sizeof(w));
	ck_assert(authfile_parse(text, strlen(text), "f", &e, &n, note, &w));
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(strlen(e[0].secret), len);
	authfile_free(e, n);
	/* A megabyte of quote characters: one unterminated field per pair. */
	memset(text, '"', len);
	memset(&w, 0, sizeof(w));
	ck_assert(authfile_parse(text, len, "f", &e, &n, note, &w));
	ck_assert_uint_eq(n, 0);
	authfile_free(e, n);
	free(text);
}
END_TEST

START_TEST(load_reads_a_file_and_reports_a_missing_one)
{
	char path[] = "/tmp/fairway-authfile-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct auth_entry *e;
	size_t n;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("\"u\" \"p\"\n", f);
	fclose(f);
	ck_assert(authfile_load(path, &e, &n, NULL, NULL));
	ck_assert_uint_eq(n, 1);
	authfile_free(e, n);
	unlink(path);
	errno = 0;
	ck_assert(!authfile_load(path, &e, &n, NULL, NULL));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(n, 0);
}
END_TEST

Suite *authfile_suite(void)
{
	Suite *s = suite_create("authfile");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, entries_are_sorted_and_found_by_user);
	tcase_add_test(tc, doubled_quote_is_a_quote_inside_a_field);
	tcase_add_test(tc, comments_and_blank_lines_are_skipped_silently);
	tcase_add_test(tc, later_duplicate_user_wins);
	tcase_add_test(tc, malformed_lines_warn_with_file_and_line_and_are_skipped);
	tcase_add_test(tc, empty_input_gives_no_entries);
	tcase_add_test(tc, last_line_without_newline_and_unterminated_at_eof);
	tcase_add_test(tc, nul_byte_inside_a_field_is_rejected);
	tcase_add_test(tc, very_long_line_parses_whole);
	tcase_add_test(tc, load_reads_a_file_and_reports_a_missing_one);
	suite_add_tcase(s, tc);
	return s;
}
