/* Unit tests for tracked server parameters (src/params.c): the name list
 * with track_extra_parameters, per-slot values, and the SET statement that
 * brings a server in line with a client. */
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "suites.h"

/* The always-tracked names, in slot order. */
static const char *const base_names[] = {
    "client_encoding", "DateStyle",        "TimeZone", "standard_conforming_strings",
    "IntervalStyle",   "application_name",
};
#define BASE_COUNT (sizeof(base_names) / sizeof(base_names[0]))

START_TEST(without_extras_the_six_always_tracked_names_fill_the_first_slots)
{
	struct param_names pn;

	ck_assert(params_names_init(&pn, NULL));
	ck_assert_uint_eq(pn.n, BASE_COUNT);
	for (size_t i = 0; i < BASE_COUNT; i++)
		ck_assert_str_eq(pn.names[i], base_names[i]);
	ck_assert_ptr_null(pn.names[BASE_COUNT]);
	params_names_free(&pn);
	ck_assert_uint_eq(pn.n, 0);

	ck_assert(params_names_init(&pn, ""));
	ck_assert_uint_eq(pn.n, BASE_COUNT);
	params_names_free(&pn);
	ck_assert(params_names_init(&pn, " ,\t, "));
	ck_assert_uint_eq(pn.n, BASE_COUNT);
	params_names_free(&pn);
}
END_TEST

START_TEST(extras_split_on_commas_and_blanks_and_duplicates_are_dropped_ignoring_case)
{
	struct param_names pn;

	ck_assert(params_names_init(&pn, "  search_path, ,work_mem\tSEARCH_PATH,timezone ,"
	                                 "Application_Name statement_timeout"));
	ck_assert_uint_eq(pn.n, BASE_COUNT + 3);
	ck_assert_str_eq(pn.names[BASE_COUNT + 0], "search_path");
	ck_assert_str_eq(pn.names[BASE_COUNT + 1], "work_mem");
	ck_assert_str_eq(pn.names[BASE_COUNT + 2], "statement_timeout");
	ck_assert_str_eq(pn.names[2], "TimeZone"); /* the first spelling stays */
	params_names_free(&pn);
}
END_TEST

START_TEST(extras_up_to_the_slot_count_fit_and_one_more_fails)
{
	static const char fit[] = "e0,e1,e2,e3,e4,e5,e6,e7,e8,e9";
	static const char over[] = "e0,e1,e2,e3,e4,e5,e6,e7,e8,e9,e10";
	struct param_names pn;

	ck_assert_uint_eq(PARAM_SLOTS - BASE_COUNT, 10);
	ck_assert(params_names_init(&pn, fit));
	ck_assert_uint_eq(pn.n, PARAM_SLOTS);
	ck_assert_str_eq(pn.names[PARAM_SLOTS - 1], "e9");
	params_names_free(&pn);

	/* duplicates do not use up slots */
	ck_assert(params_names_init(&pn, "e0,E0,e1,e2,e3,e4,e5,e6,e7,e8,e9,E9,timezone"));
	ck_assert_uint_eq(pn.n, PARAM_SLOTS);
	params_names_free(&pn);

	ck_assert(!params_names_init(&pn, over));
	ck_assert_uint_le(pn.n, PARAM_SLOTS);
	params_names_free(&pn); /* what was added before the failure is freed here */
}
END_TEST

START_TEST(extras_that_are_not_parameter_names_are_refused)
{
	/* Found by tests/fuzz/fuzz_params.c: a name is written into SET
	 * unquoted, so "search_pat(" or "x='1';DROP..." broke the statement. */
	static const char *const bad[] = {"search_pat(", "a;b", "x='1'",       "a\"b",
	                                  "1abc",        ".x",  "é",           "a-b",
	                                  "a=b",         "a/*", "ok, then;bad"};
	struct param_names pn;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!params_names_init(&pn, bad[i]), "accepted %s", bad[i]);
		params_names_free(&pn);
	}
	ck_assert(params_names_init(&pn, "myext.setting, _x1,search_path"));
	ck_assert_uint_eq(pn.n, BASE_COUNT + 3);
	ck_assert_str_eq(pn.names[BASE_COUNT], "myext.setting");
	params_names_free(&pn);
}
END_TEST

START_TEST(slot_lookup_ignores_case_and_unknown_names_are_minus_one)
{
	struct param_names pn;

	ck_assert(params_names_init(&pn, "search_path"));
	ck_assert_int_eq(params_slot(&pn, "client_encoding"), 0);
	ck_assert_int_eq(params_slot(&pn, "datestyle"), 1);
	ck_assert_int_eq(params_slot(&pn, "DATESTYLE"), 1);
	ck_assert_int_eq(params_slot(&pn, "TimeZone"), 2);
	ck_assert_int_eq(params_slot(&pn, "Search_Path"), (int)BASE_COUNT);
	ck_assert_int_eq(params_slot(&pn, "Date"), -1);
	ck_assert_int_eq(params_slot(&pn, "DateStyleX"), -1);
	ck_assert_int_eq(params_slot(&pn, ""), -1);
	ck_assert_int_eq(params_slot(&pn, "work_mem"), -1);
	params_names_free(&pn);
}
END_TEST

START_TEST(set_keeps_a_private_copy_and_null_clears_the_slot)
{
	struct param_set ps = {NULL};
	char value[] = "UTF8";

	ck_assert(params_set(&ps, 0, value));
	ck_assert_ptr_ne(params_get(&ps, 0), value);
	value[0] = 'X';
	ck_assert_str_eq(params_get(&ps, 0), "UTF8");
	ck_assert(params_set(&ps, 0, "UTF8")); /* the same value again */
	ck_assert_str_eq(params_get(&ps, 0), "UTF8");
	ck_assert(params_set(&ps, 0, "LATIN1"));
	ck_assert_str_eq(params_get(&ps, 0), "LATIN1");
	ck_assert(params_set(&ps, 0, ""));
	ck_assert_str_eq(params_get(&ps, 0), "");
	ck_assert(params_set(&ps, 0, NULL));
	ck_assert_ptr_null(params_get(&ps, 0));
	ck_assert(params_set(&ps, 0, NULL));
	ck_assert_ptr_null(params_get(&ps, 0));
	params_clear(&ps);
}
END_TEST

START_TEST(set_on_an_untracked_slot_is_ignored)
{
	struct param_set ps = {NULL};

	ck_assert(params_set(&ps, -1, "x"));
	ck_assert(params_set(&ps, PARAM_SLOTS, "x"));
	for (size_t i = 0; i < PARAM_SLOTS; i++)
		ck_assert_ptr_null(params_get(&ps, i));
}
END_TEST

START_TEST(copy_shares_interned_values_and_clears_slots_unset_in_the_source)
{
	struct param_set src = {NULL}, dst = {NULL};

	ck_assert(params_set(&src, 1, "ISO, MDY"));
	ck_assert(params_set(&src, 5, "psql"));
	ck_assert(params_set(&dst, 2, "UTC"));
	ck_assert(params_set(&dst, 5, "old"));
	ck_assert(params_copy(&dst, &src));
	ck_assert_str_eq(params_get(&dst, 1), "ISO, MDY");
	ck_assert_str_eq(params_get(&dst, 5), "psql");
	ck_assert_ptr_null(params_get(&dst, 2));
	/* Interned: the copy shares the string, which outlives the source. */
	ck_assert_ptr_eq(params_get(&dst, 1), params_get(&src, 1));
	params_clear(&src);
	ck_assert_ptr_null(params_get(&src, 1));
	ck_assert_str_eq(params_get(&dst, 1), "ISO, MDY"); /* survives the source */
	params_clear(&dst);
	params_clear(&dst); /* twice is harmless */
	for (size_t i = 0; i < PARAM_SLOTS; i++)
		ck_assert_ptr_null(params_get(&dst, i));
}
END_TEST

START_TEST(equal_values_set_separately_are_one_string)
{
	struct param_set a = {NULL}, b = {NULL};
	char value[16];

	strcpy(value, "UTF8");
	ck_assert(params_set(&a, 0, value));
	strcpy(value, "UTF8");
	ck_assert(params_set(&b, 0, value));
	ck_assert_ptr_eq(params_get(&a, 0), params_get(&b, 0));
	ck_assert_ptr_ne(params_get(&a, 0), value);
	ck_assert(params_set(&b, 0, "LATIN1"));
	ck_assert_str_eq(params_get(&a, 0), "UTF8");
	params_clear(&a);
	ck_assert_str_eq(params_get(&b, 0), "LATIN1");
	params_clear(&b);
}
END_TEST

START_TEST(equal_sets_are_one_shared_set_and_a_change_unshares_it)
{
	struct param_set a = {NULL}, b = {NULL}, c = {NULL};

	ck_assert(params_set(&a, 0, "UTF8"));
	ck_assert(params_set(&a, 5, "app"));
	/* Set in the other order: the same values, so the same set. */
	ck_assert(params_set(&b, 5, "app"));
	ck_assert(params_set(&b, 0, "UTF8"));
	ck_assert_ptr_nonnull(a.v);
	ck_assert_ptr_eq(a.v, b.v);
	ck_assert_uint_eq(a.v->refs, 2);
	/* Changing one leaves the other as it was. */
	ck_assert(params_set(&b, 0, "LATIN1"));
	ck_assert_ptr_ne(a.v, b.v);
	ck_assert_str_eq(params_get(&a, 0), "UTF8");
	ck_assert_str_eq(params_get(&b, 0), "LATIN1");
	ck_assert_uint_eq(a.v->refs, 1);
	/* A copy shares; clearing every slot leaves no set. */
	ck_assert(params_copy(&c, &b));
	ck_assert_ptr_eq(c.v, b.v);
	ck_assert(params_set(&c, 0, NULL));
	ck_assert(params_set(&c, 5, NULL));
	ck_assert_ptr_null(c.v);
	ck_assert_str_eq(params_get(&b, 5), "app");
	/* Changed back, b is a's set again. */
	ck_assert(params_set(&b, 0, "UTF8"));
	ck_assert_ptr_eq(a.v, b.v);
	params_clear(&a);
	ck_assert_str_eq(params_get(&b, 0), "UTF8");
	params_clear(&b);
	params_clear(&c);
}
END_TEST

START_TEST(sync_sql_is_null_when_every_wanted_value_matches)
{
	struct param_names pn;
	struct param_set want = {NULL}, have = {NULL};
	bool oom = true;

	ck_assert(params_names_init(&pn, NULL));
	ck_assert_ptr_null(params_sync_sql(&pn, &want, &have, &oom));
	ck_assert(!oom);
	ck_assert(params_set(&want, 0, "UTF8"));
	ck_assert(params_set(&have, 0, "UTF8"));
	ck_assert(params_set(&have, 2, "UTC")); /* only the server has it: nothing to do */
	oom = true;
	ck_assert_ptr_null(params_sync_sql(&pn, &want, &have, &oom));
	ck_assert(!oom);
	params_clear(&want);
	params_clear(&have);
	params_names_free(&pn);
}
END_TEST

START_TEST(sync_sql_sets_only_the_differing_slots_in_slot_order)
{
	struct param_names pn;
	struct param_set want = {NULL}, have = {NULL};
	bool oom = true;
	char *sql;

	ck_assert(params_names_init(&pn, "search_path"));
	ck_assert(params_set(&want, 0, "UTF8"));
	ck_assert(params_set(&have, 0, "UTF8"));
	ck_assert(params_set(&want, 5, "app"));
	ck_assert(params_set(&want, 1, "ISO, DMY"));
	ck_assert(params_set(&have, 1, "ISO, MDY"));
	ck_assert(params_set(&want, 6, "s1, public"));
	ck_assert(params_set(&have, 6, "\"$user\", public"));
	sql = params_sync_sql(&pn, &want, &have, &oom);
	ck_assert(!oom);
	ck_assert_str_eq(sql, "SET DateStyle='ISO, DMY';SET application_name='app';"
	                      "SET search_path='s1, public';");
	free(sql);
	params_clear(&want);
	params_clear(&have);
	params_names_free(&pn);
}
END_TEST

START_TEST(sync_sql_skips_slots_the_client_never_set)
{
	struct param_names pn;
	struct param_set want = {NULL}, have = {NULL};
	bool oom;
	char *sql;

	ck_assert(params_names_init(&pn, NULL));
	ck_assert(params_set(&have, 2, "Europe/Berlin"));
	ck_assert(params_set(&want, 4, "iso_8601"));
	sql = params_sync_sql(&pn, &want, &have, &oom);
	ck_assert(!oom);
	ck_assert_str_eq(sql, "SET IntervalStyle='iso_8601';");
	free(sql);
	params_clear(&want);
	params_clear(&have);
	params_names_free(&pn);
}
END_TEST

START_TEST(sync_sql_writes_backslashes_as_an_escape_string)
{
	struct param_names pn;
	struct param_set want = {NULL}, have = {NULL};
	bool oom;
	char *sql;

	ck_assert(params_names_init(&pn, NULL));
	ck_assert(params_set(&want, 5, "x\\';SELECT 1;--"));
	sql = params_sync_sql(&pn, &want, &have, &oom);
	ck_assert_str_eq(sql, "SET application_name=E'x\\\\'';SELECT 1;--';");
	free(sql);
	ck_assert(!oom);
	params_clear(&want);
	params_names_free(&pn);
}
END_TEST

START_TEST(sync_sql_doubles_single_quotes_inside_values)
{
	struct param_names pn;
	struct param_set want = {NULL}, have = {NULL};
	bool oom;
	char *sql;

	ck_assert(params_names_init(&pn, NULL));
	ck_assert(params_set(&want, 5, "O'Brien"));
	sql = params_sync_sql(&pn, &want, &have, &oom);
	ck_assert_str_eq(sql, "SET application_name='O''Brien';");
	free(sql);

	ck_assert(params_set(&want, 5, "''; DROP TABLE t; --"));
	sql = params_sync_sql(&pn, &want, &have, &oom);
	ck_assert_str_eq(sql, "SET application_name='''''; DROP TABLE t; --';");
	free(sql);

	ck_assert(params_set(&want, 5, ""));
	sql = params_sync_sql(&pn, &want, &have, &oom);
	ck_assert_str_eq(sql, "SET application_name='';");
	free(sql);
	ck_assert(!oom);
	params_clear(&want);
	params_names_free(&pn);
}
END_TEST

START_TEST(sync_sql_grows_for_long_values_in_every_slot)
{
	struct param_names pn;
	struct param_set want = {NULL}, have = {NULL};
	char value[1001];
	size_t expect_len = 0;
	bool oom = true;
	char *sql;

	memset(value, '\'', sizeof(value) - 1); /* every byte doubles */
	value[sizeof(value) - 1] = '\0';
	ck_assert(params_names_init(&pn, "e0,e1,e2,e3,e4,e5,e6,e7,e8,e9"));
	for (size_t i = 0; i < pn.n; i++) {
		ck_assert(params_set(&want, (int)i, value));
		expect_len +=
		    strlen("SET ") + strlen(pn.names[i]) + strlen("='") + 2000 + strlen("';");
	}
	sql = params_sync_sql(&pn, &want, &have, &oom);
	ck_assert(!oom);
	ck_assert_ptr_nonnull(sql);
	ck_assert_uint_eq(strlen(sql), expect_len);
	ck_assert(strncmp(sql, "SET client_encoding=''''''", 26) == 0);
	ck_assert_str_eq(sql + expect_len - 6, "''''';");
	free(sql);
	params_clear(&want);
	params_names_free(&pn);
}
END_TEST

Suite *params_suite(void)
{
	Suite *s = suite_create("params");
	TCase *names = tcase_create("names");
	TCase *values = tcase_create("values");
	TCase *sync = tcase_create("sync");

	tcase_add_test(names, without_extras_the_six_always_tracked_names_fill_the_first_slots);
	tcase_add_test(names,
	               extras_split_on_commas_and_blanks_and_duplicates_are_dropped_ignoring_case);
	tcase_add_test(names, extras_up_to_the_slot_count_fit_and_one_more_fails);
	tcase_add_test(names, extras_that_are_not_parameter_names_are_refused);
	tcase_add_test(names, slot_lookup_ignores_case_and_unknown_names_are_minus_one);
	suite_add_tcase(s, names);

	tcase_add_test(values, set_keeps_a_private_copy_and_null_clears_the_slot);
	tcase_add_test(values, set_on_an_untracked_slot_is_ignored);
	tcase_add_test(values, copy_shares_interned_values_and_clears_slots_unset_in_the_source);
	tcase_add_test(values, equal_values_set_separately_are_one_string);
	tcase_add_test(values, equal_sets_are_one_shared_set_and_a_change_unshares_it);
	suite_add_tcase(s, values);

	tcase_add_test(sync, sync_sql_is_null_when_every_wanted_value_matches);
	tcase_add_test(sync, sync_sql_sets_only_the_differing_slots_in_slot_order);
	tcase_add_test(sync, sync_sql_skips_slots_the_client_never_set);
	tcase_add_test(sync, sync_sql_doubles_single_quotes_inside_values);
	tcase_add_test(sync, sync_sql_writes_backslashes_as_an_escape_string);
	tcase_add_test(sync, sync_sql_grows_for_long_values_in_every_slot);
	suite_add_tcase(s, sync);
	return s;
}
