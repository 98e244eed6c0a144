/* Prepared-statement bookkeeping (src/prepared.c): the registry shares texts,
 * client maps survive many inserts and removals, the server cache evicts the
 * least recently used, and the reply queue keeps order across errors. */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "prepared.h"
#include "ps_forward.h"
#include "suites.h"

static struct ps_stmt *get(struct ps_registry *reg, const char *text)
{
	struct ps_stmt *st = ps_stmt_get(reg, (const uint8_t *)text, strlen(text) + 1);

	ck_assert_ptr_nonnull(st);
	return st;
}

START_TEST(registry_shares_identical_texts_and_frees_unused_ones)
{
	struct ps_registry reg;
	struct ps_stmt *a, *b, *c;

	ps_registry_init(&reg);
	a = get(&reg, "SELECT 1");
	b = get(&reg, "SELECT 1");
	c = get(&reg, "SELECT 2");
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_ne(a, c);
	ck_assert_uint_eq(a->refs, 2);
	ck_assert_str_ne(a->name, c->name);
	ck_assert_uint_eq(reg.count, 2);
	ps_stmt_put(&reg, a);
	ps_stmt_put(&reg, b);
	ck_assert_uint_eq(reg.count, 1);
	/* Gone: the same text comes back under a new name. */
	a = get(&reg, "SELECT 1");
	ck_assert_uint_eq(a->refs, 1);
	ps_stmt_put(&reg, a);
	ps_stmt_put(&reg, c);
	ck_assert_uint_eq(reg.count, 0);
	ps_registry_free(&reg);
}
END_TEST

START_TEST(registry_grows_past_its_first_table)
{
	struct ps_registry reg;
	struct ps_stmt *st[1000];
	char text[32];

	ps_registry_init(&reg);
	for (int i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "SELECT %d", i);
		st[i] = get(&reg, text);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "SELECT %d", i);
		ck_assert_ptr_eq(get(&reg, text), st[i]);
		ps_stmt_put(&reg, st[i]);
		ps_stmt_put(&reg, st[i]);
	}
	ck_assert_uint_eq(reg.count, 0);
	ps_registry_free(&reg);
}
END_TEST

/* Many names, removed in an order that exercises backward-shift deletion:
 * every remaining name must still be found. */
START_TEST(client_names_survive_inserts_and_removals)
{
	struct ps_registry reg;
	struct ps_client pc = {0};
	struct ps_stmt *st[300];
	char name[16];

	ps_registry_init(&reg);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		st[i] = get(&reg, name);
		ck_assert(ps_client_add(&pc, name, st[i]));
	}
	for (int i = 0; i < 300; i += 3) {
		snprintf(name, sizeof(name), "s%d", i);
		ck_assert(ps_client_remove(&pc, &reg, name));
		ck_assert(!ps_client_remove(&pc, &reg, name));
	}
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		if (i % 3 == 0)
			ck_assert_ptr_null(ps_client_find(&pc, name));
		else
			ck_assert_ptr_eq(ps_client_find(&pc, name), st[i]);
	}
	ck_assert_uint_eq(pc.count, 200);
	ps_client_clear(&pc, &reg);
	ck_assert_uint_eq(reg.count, 0);
	ps_registry_free(&reg);
}
END_TEST

START_TEST(server_cache_evicts_the_least_recently_used)
{
	struct ps_registry reg;
	struct ps_server ps = {0};
	struct ps_stmt *a, *b, *c, *victim;

	ps_registry_init(&reg);
	a = get(&reg, "a");
	b = get(&reg, "b");
	c = get(&reg, "c");
	ck_assert(ps_server_add(&ps, a, 2, &victim));
	ck_assert_ptr_null(victim);
	ck_assert(ps_server_add(&ps, b, 2, &victim));
	ck_assert_ptr_null(victim);
	ck_assert(ps_server_has(&ps, a)); /* a is now newer than b */
	ck_assert(ps_server_add(&ps, c, 2, &victim));
	ck_assert_ptr_eq(victim, b);
	ps_stmt_put(&reg, victim);
	ck_assert(!ps_server_has(&ps, b));
	ck_assert(ps_server_has(&ps, a));
	ck_assert(ps_server_has(&ps, c));
	ck_assert_uint_eq(ps.count, 2);
	/* 0 means unbounded. */
	ck_assert(ps_server_add(&ps, b, 0, &victim));
	ck_assert_ptr_null(victim);
	ck_assert_uint_eq(ps.count, 3);
	ps_server_remove(&ps, &reg, a);
	ck_assert(!ps_server_has(&ps, a));
	ck_assert(ps_server_has(&ps, b));
	ps_server_forget_all(&ps, &reg);
	ck_assert_uint_eq(ps.count, 0);
	ps_server_clear(&ps, &reg);
	ps_stmt_put(&reg, a);
	ps_stmt_put(&reg, b);
	ps_stmt_put(&reg, c);
	ck_assert_uint_eq(reg.count, 0);
	ps_registry_free(&reg);
}
END_TEST

START_TEST(replies_come_back_in_order)
{
	struct ps_registry reg;
	struct ps_server ps = {0};
	enum ps_reply r;

	ps_registry_init(&reg);
	ck_assert(!ps_reply(&ps, &reg, &r)); /* nothing owed: forward */
	ck_assert(ps_expect(&ps, 0, PS_REPLY_SWALLOW, false, NULL, NULL));
	ck_assert(ps_expect(&ps, 0, PS_REPLY_FORWARD, false, NULL, NULL));
	ck_assert(ps_expect(&ps, 0, PS_REPLY_AS_PARSE, false, NULL, NULL));
	for (int i = 0; i < 20; i++) /* past the ring's first size */
		ck_assert(ps_expect(&ps, 0, PS_REPLY_FORWARD, false, NULL, NULL));
	ck_assert(ps_reply(&ps, &reg, &r));
	ck_assert_int_eq(r, PS_REPLY_SWALLOW);
	ck_assert(ps_reply(&ps, &reg, &r));
	ck_assert_int_eq(r, PS_REPLY_FORWARD);
	ck_assert(ps_reply(&ps, &reg, &r));
	ck_assert_int_eq(r, PS_REPLY_AS_PARSE);
	for (int i = 0; i < 20; i++)
		ck_assert(ps_reply(&ps, &reg, &r));
	ck_assert(!ps_reply(&ps, &reg, &r));
	ps_server_clear(&ps, &reg);
	ps_registry_free(&reg);
}
END_TEST

/* A Parse whose batch failed never gets its reply: at that batch's
 * ReadyForQuery the server and the client forget the statement, and replies
 * owed for the next batch stay queued. */
START_TEST(a_failed_batch_forgets_its_parses_only)
{
	struct ps_registry reg;
	struct ps_server ps = {0};
	struct ps_client pc = {0};
	struct ps_stmt *bad, *good, *victim;
	enum ps_reply r;

	ps_registry_init(&reg);
	bad = get(&reg, "SELEC 1");
	good = get(&reg, "SELECT 1");
	get(&reg, "SELEC 1"); /* the test's own reference, so bad can be looked at */
	ck_assert(ps_client_add(&pc, "bad", bad));
	ck_assert(ps_client_add(&pc, "good", good));
	/* Batch 1 (sent before any Sync): Parse bad. Batch 2: Parse good. */
	ck_assert(ps_server_add(&ps, bad, 10, &victim));
	ck_assert(ps_expect(&ps, 0, PS_REPLY_FORWARD, true, bad, "bad"));
	ck_assert(ps_server_add(&ps, good, 10, &victim));
	ck_assert(ps_expect(&ps, 1, PS_REPLY_FORWARD, true, good, "good"));
	/* Batch 1 fails: no ParseComplete, then its ReadyForQuery. */
	ps_sync_seen(&ps, &reg, &pc, 1);
	ck_assert(!ps_server_has(&ps, bad));
	ck_assert_ptr_null(ps_client_find(&pc, "bad"));
	ck_assert(ps_server_has(&ps, good));
	ck_assert_uint_eq(ps.q_len, 1);
	/* Batch 2 succeeds. */
	ck_assert(ps_reply(&ps, &reg, &r));
	ck_assert_int_eq(r, PS_REPLY_FORWARD);
	ps_sync_seen(&ps, &reg, &pc, 2);
	ck_assert(ps_server_has(&ps, good));
	ck_assert_ptr_eq(ps_client_find(&pc, "good"), good);
	ck_assert_uint_eq(bad->refs, 1);
	ps_stmt_put(&reg, bad);
	ps_server_clear(&ps, &reg);
	ps_client_clear(&pc, &reg);
	ck_assert_uint_eq(reg.count, 0);
	ps_registry_free(&reg);
}
END_TEST

static bool dealloc(const char *sql, char *name)
{
	return ps_parse_deallocate((const uint8_t *)sql, strlen(sql) + 1, name, 64);
}

START_TEST(deallocate_statements_are_recognised_as_postgresql_reads_them)
{
	char name[64];

	ck_assert(dealloc("DEALLOCATE _pg3_5", name));
	ck_assert_str_eq(name, "_pg3_5");
	ck_assert(dealloc("  deallocate prepare S1 ;  ", name));
	ck_assert_str_eq(name, "s1"); /* unquoted names fold to lower case */
	ck_assert(dealloc("DEALLOCATE \"My \"\"Stmt\"\"\";", name));
	ck_assert_str_eq(name, "My \"Stmt\"");
	ck_assert(dealloc("DEALLOCATE\tPREPARE\n\"prepare\"", name));
	ck_assert_str_eq(name, "prepare");
	/* Not ours: ALL, other statements, two statements, odd names. */
	ck_assert(!dealloc("DEALLOCATE ALL", name));
	ck_assert(!dealloc("DEALLOCATE PREPARE ALL", name));
	ck_assert(!dealloc("DEALLOCATE", name));
	ck_assert(!dealloc("DEALLOCATEs1", name));
	ck_assert(!dealloc("SELECT 1", name));
	ck_assert(!dealloc("DEALLOCATE s1; SELECT 1", name));
	ck_assert(!dealloc("DEALLOCATE s1 s2", name));
	ck_assert(!dealloc("DEALLOCATE 1abc", name));
	ck_assert(!dealloc("DEALLOCATE \"unterminated", name));
	ck_assert(!dealloc("DEALLOCATE \"\"", name));
}
END_TEST

Suite *prepared_suite(void)
{
	Suite *s = suite_create("prepared");
	TCase *tc = tcase_create("prepared");

	tcase_add_test(tc, registry_shares_identical_texts_and_frees_unused_ones);
	tcase_add_test(tc, registry_grows_past_its_first_table);
	tcase_add_test(tc, client_names_survive_inserts_and_removals);
	tcase_add_test(tc, server_cache_evicts_the_least_recently_used);
	tcase_add_test(tc, replies_come_back_in_order);
	tcase_add_test(tc, a_failed_batch_forgets_its_parses_only);
	tcase_add_test(tc, deallocate_statements_are_recognised_as_postgresql_reads_them);
	suite_add_tcase(s, tc);
	return s;
}
