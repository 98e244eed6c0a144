/* Unit tests for the connection-string tokenizer (src/connstr.c). */
#include <stdlib.h>
#include <string.h>

#include "connstr.h"
#include "suites.h"

START_TEST(pairs_split_with_or_without_spaces_around_equals)
{
	struct connstr cs;
	struct connstr_error err;

	ck_assert(connstr_parse("  host=127.0.0.1 port = 5432\tdbname= app  ", &cs, &err));
	ck_assert_uint_eq(cs.n_pairs, 3);
	ck_assert_str_eq(cs.pairs[0].key, "host");
	ck_assert_str_eq(cs.pairs[0].value, "127.0.0.1");
	ck_assert_str_eq(cs.pairs[1].key, "port");
	ck_assert_str_eq(cs.pairs[1].value, "5432");
	ck_assert_str_eq(cs.pairs[2].key, "dbname");
	ck_assert_str_eq(cs.pairs[2].value, "app");
	connstr_free(&cs);
}
END_TEST

START_TEST(quoted_values_keep_spaces_semicolons_and_equals)
{
	struct connstr cs;
	struct connstr_error err;

	ck_assert(connstr_parse("connect_query='set a=1; set b=2' host=x", &cs, &err));
	ck_assert_uint_eq(cs.n_pairs, 2);
	ck_assert_str_eq(connstr_get(&cs, "connect_query"), "set a=1; set b=2");
	ck_assert_str_eq(connstr_get(&cs, "host"), "x");
	connstr_free(&cs);
}
END_TEST

START_TEST(doubled_and_backslashed_quotes_are_one_quote)
{
	struct connstr cs;
	struct connstr_error err;

	ck_assert(connstr_parse("a='it''s' b='it\\'s' c='''' d=x\\y e=it's", &cs, &err));
	ck_assert_str_eq(connstr_get(&cs, "a"), "it's");
	ck_assert_str_eq(connstr_get(&cs, "b"), "it's");
	ck_assert_str_eq(connstr_get(&cs, "c"), "'");
	ck_assert_str_eq(connstr_get(&cs, "d"), "x\\y"); /* backslash literal outside quotes */
	ck_assert_str_eq(connstr_get(&cs, "e"), "it's");
	connstr_free(&cs);
}
END_TEST

START_TEST(doubled_backslash_in_quotes_is_one_backslash)
{
	struct connstr cs;
	struct connstr_error err;

	/* Found by tests/fuzz/fuzz_connstr.c: a value holding a backslash and a
	 * quote, quoted as the header says ('' and \\), did not parse back. */
	ck_assert(connstr_parse("a='C:\\\\dir\\\\' b='x\\\\''y' c=p\\'q", &cs, &err));
	ck_assert_str_eq(connstr_get(&cs, "a"), "C:\\dir\\");
	ck_assert_str_eq(connstr_get(&cs, "b"), "x\\'y");
	ck_assert_str_eq(connstr_get(&cs, "c"), "p\\'q"); /* unquoted: all literal */
	connstr_free(&cs);
}
END_TEST

START_TEST(empty_values_and_empty_string)
{
	struct connstr cs;
	struct connstr_error err;

	ck_assert(connstr_parse("", &cs, &err));
	ck_assert_uint_eq(cs.n_pairs, 0);
	connstr_free(&cs);
	ck_assert(connstr_parse("   ", &cs, &err));
	ck_assert_uint_eq(cs.n_pairs, 0);
	connstr_free(&cs);
	ck_assert(connstr_parse("password='' user=bob", &cs, &err));
	ck_assert_str_eq(connstr_get(&cs, "password"), "");
	ck_assert_str_eq(connstr_get(&cs, "user"), "bob");
	connstr_free(&cs);
	ck_assert(connstr_parse("password=", &cs, &err));
	ck_assert_str_eq(connstr_get(&cs, "password"), "");
	connstr_free(&cs);
}
END_TEST

START_TEST(later_duplicate_is_what_get_returns)
{
	struct connstr cs;
	struct connstr_error err;

	ck_assert(connstr_parse("port=1 port=2", &cs, &err));
	ck_assert_uint_eq(cs.n_pairs, 2);
	ck_assert_str_eq(connstr_get(&cs, "port"), "2");
	ck_assert_ptr_null(connstr_get(&cs, "host"));
	connstr_free(&cs);
}
END_TEST

START_TEST(unterminated_quote_is_an_error_at_the_quote)
{
	struct connstr cs;
	struct connstr_error err;

	ck_assert(!connstr_parse("host=x password='abc", &cs, &err));
	ck_assert_uint_eq(err.pos, 16);
	ck_assert_ptr_nonnull(strstr(err.msg, "unterminated"));
	ck_assert_uint_eq(cs.n_pairs, 0);
	ck_assert_ptr_null(cs.pairs);
}
END_TEST

START_TEST(syntax_errors_say_where)
{
	struct connstr cs;
	struct connstr_error err;

	ck_assert(!connstr_parse("host=x port", &cs, &err));
	ck_assert_uint_eq(err.pos, 11);
	ck_assert_ptr_nonnull(strstr(err.msg, "missing '='"));
	ck_assert(!connstr_parse("=x", &cs, &err));
	ck_assert_uint_eq(err.pos, 0);
	ck_assert(!connstr_parse("host=x ;def", &cs, &err));
	ck_assert_uint_eq(err.pos, 7);
	ck_assert(!connstr_parse("a='x'b=1", &cs, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "missing space"));
	ck_assert(!connstr_parse("a='x\\'", &cs, &err));
}
END_TEST

START_TEST(very_long_value_parses_whole)
{
	size_t n = 100000;
	char *text = malloc(n + 16);
	struct connstr cs;
	struct connstr_error err;

	ck_assert_ptr_nonnull(text);
	strcpy(text, "q='");
	memset(text + 3, 'x', n);
	strcpy(text + 3 + n, "' p=1");
	ck_assert(connstr_parse(text, &cs, &err));
	ck_assert_uint_eq(strlen(connstr_get(&cs, "q")), n);
	ck_assert_str_eq(connstr_get(&cs, "p"), "1");
	connstr_free(&cs);
	free(text);
}
END_TEST

Suite *connstr_suite(void)
{
	Suite *s = suite_create("connstr");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, pairs_split_with_or_without_spaces_around_equals);
	tcase_add_test(tc, quoted_values_keep_spaces_semicolons_and_equals);
	tcase_add_test(tc, doubled_and_backslashed_quotes_are_one_quote);
	tcase_add_test(tc, doubled_backslash_in_quotes_is_one_backslash);
	tcase_add_test(tc, empty_values_and_empty_string);
	tcase_add_test(tc, later_duplicate_is_what_get_returns);
	tcase_add_test(tc, unterminated_quote_is_an_error_at_the_quote);
	tcase_add_test(tc, syntax_errors_say_where);
	tcase_add_test(tc, very_long_value_parses_whole);
	suite_add_tcase(s, tc);
	return s;
}
