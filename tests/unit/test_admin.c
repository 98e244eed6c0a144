/* Unit tests for the console's pure command parsing (src/admin.c): word
 * splitting and "SET key = value". */
#include <string.h>

#include "admin.h"
#include "suites.h"

START_TEST(words_split_on_spaces_and_semicolons_up_to_the_maximum)
{
	char buf[64], *w[4];
	size_t n =
	    admin_split_words("  show\tPOOLS ;;kill_client 12 extra more", buf, sizeof(buf), w, 4);

	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(w[0], "show");
	ck_assert_str_eq(w[1], "POOLS");
	ck_assert_str_eq(w[2], "kill_client");
	ck_assert_str_eq(w[3], "12");
	ck_assert_uint_eq(admin_split_words(" ; ;\n", buf, sizeof(buf), w, 4), 0);
}
END_TEST

START_TEST(words_stop_at_the_first_word_the_buffer_cannot_hold)
{
	char buf[8], *w[4];
	size_t n = admin_split_words("abc defgh ij", buf, sizeof(buf), w, 4);

	ck_assert_uint_eq(n, 1); /* "abc\0" fits, "defgh\0" would need 10 bytes */
	ck_assert_str_eq(w[0], "abc");
}
END_TEST

START_TEST(set_takes_key_and_value_with_optional_quotes)
{
	char key[32], value[32];

	ck_assert(
	    admin_parse_set("SET default_pool_size = 30;", key, sizeof(key), value, sizeof(value)));
	ck_assert_str_eq(key, "default_pool_size");
	ck_assert_str_eq(value, "30");
	ck_assert(
	    admin_parse_set("  set pool_mode='session'", key, sizeof(key), value, sizeof(value)));
	ck_assert_str_eq(key, "pool_mode");
	ck_assert_str_eq(value, "session");
	ck_assert(admin_parse_set("SET x = \"a b\"", key, sizeof(key), value, sizeof(value)));
	ck_assert_str_eq(value, "a b");
	ck_assert(admin_parse_set("SET x =", key, sizeof(key), value, sizeof(value)));
	ck_assert_str_eq(value, "");
}
END_TEST

START_TEST(set_after_leading_semicolons_keeps_its_key)
{
	char key[32], value[32];

	/* admin_command() finds SET after ';' (the word splitter skips them), but
	 * the SET parser used to skip three bytes from the first non-space, so
	 * ";SET pool_mode = session" set a key named "ET pool_mode". */
	ck_assert(
	    admin_parse_set(";SET pool_mode = session", key, sizeof(key), value, sizeof(value)));
	ck_assert_str_eq(key, "pool_mode");
	ck_assert_str_eq(value, "session");
}
END_TEST

START_TEST(set_refuses_other_shapes_and_what_does_not_fit)
{
	char key[8], value[8];

	ck_assert(!admin_parse_set("SET", key, sizeof(key), value, sizeof(value)));
	ck_assert(!admin_parse_set("SET x", key, sizeof(key), value, sizeof(value)));
	ck_assert(!admin_parse_set("SET = 1", key, sizeof(key), value, sizeof(value)));
	ck_assert(!admin_parse_set("SETTINGS=1", key, sizeof(key), value, sizeof(value)));
	ck_assert(!admin_parse_set("SHOW x = 1", key, sizeof(key), value, sizeof(value)));
	ck_assert(!admin_parse_set("SET longkeyname = 1", key, sizeof(key), value, sizeof(value)));
	ck_assert(!admin_parse_set("SET k = 12345678", key, sizeof(key), value, sizeof(value)));
	ck_assert(admin_parse_set("SET k = 1234567", key, sizeof(key), value, sizeof(value)));
}
END_TEST

Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *parse = tcase_create("parse");

	tcase_add_test(parse, words_split_on_spaces_and_semicolons_up_to_the_maximum);
	tcase_add_test(parse, words_stop_at_the_first_word_the_buffer_cannot_hold);
	tcase_add_test(parse, set_takes_key_and_value_with_optional_quotes);
	tcase_add_test(parse, set_after_leading_semicolons_keeps_its_key);
	tcase_add_test(parse, set_refuses_other_shapes_and_what_does_not_fit);
	suite_add_tcase(s, parse);
	return s;
}
