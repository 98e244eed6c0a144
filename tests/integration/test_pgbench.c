/* pgbench through the pooler in transaction mode: 50 clients on 2 threads
 * for 5 seconds, select-only and TPC-B-like, simple and extended protocol.
 * Pass = pgbench exits 0, processed transactions, none failed. These are
 * not benchmarks: no figure is compared with anything (contrib/bench). */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "suites.h"

static void pgbench_through_pooler(const char *const mode_args[])
{
	static struct pgbench_result r;
	const char *args[16];
	struct fw fw;
	size_t n = 0;

	fw_start(&fw, "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 20\n",
	         NULL, NULL, NULL);
	args[n++] = "-n"; /* no VACUUM: the tables are pgbench -i's */
	args[n++] = "-c";
	args[n++] = "50";
	args[n++] = "-j";
	args[n++] = "2";
	args[n++] = "-T";
	args[n++] = "5";
	for (size_t i = 0; mode_args[i] != NULL; i++)
		args[n++] = mode_args[i];
	args[n] = NULL;
	pgbench_run(&fw, args, &r);
	ck_assert_msg(r.status == 0, "pgbench exit status %d:\n%.8000s\n%s", r.status, r.out,
	              fw_log_tail(&fw));
	ck_assert_msg(r.processed > 0, "pgbench processed no transactions:\n%.8000s", r.out);
	/* PostgreSQL 15's pgbench reports failures; older ones stop on the first */
	ck_assert_msg(r.failed <= 0, "pgbench had %lld failed transactions:\n%.8000s", r.failed,
	              r.out);
	fw_stop(&fw);
}

START_TEST(pgbench_select_only_simple_protocol_has_no_failures)
{
	const char *const args[] = {"-S", "-M", "simple", NULL};

	pgbench_through_pooler(args);
}
END_TEST

START_TEST(pgbench_select_only_extended_protocol_has_no_failures)
{
	const char *const args[] = {"-S", "-M", "extended", NULL};

	pgbench_through_pooler(args);
}
END_TEST

START_TEST(pgbench_tpcb_simple_protocol_has_no_failures)
{
	const char *const args[] = {"-M", "simple", NULL};

	pgbench_through_pooler(args);
}
END_TEST

START_TEST(pgbench_tpcb_extended_protocol_has_no_failures)
{
	const char *const args[] = {"-M", "extended", NULL};

	pgbench_through_pooler(args);
}
END_TEST

Suite *pgbench_suite(void)
{
	Suite *s = suite_create("pgbench");
	TCase *tc = tcase_create("pgbench");

	tcase_set_timeout(tc, FW_SLOW_TIMEOUT);
	tcase_add_test(tc, pgbench_select_only_simple_protocol_has_no_failures);
	tcase_add_test(tc, pgbench_select_only_extended_protocol_has_no_failures);
	tcase_add_test(tc, pgbench_tpcb_simple_protocol_has_no_failures);
	tcase_add_test(tc, pgbench_tpcb_extended_protocol_has_no_failures);
	suite_add_tcase(s, tc);
	return s;
}
