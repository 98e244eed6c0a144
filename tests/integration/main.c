/* Runs every integration suite in one SRunner against one PostgreSQL cluster
 * started here, before any test, and stopped when the run ends. Each test
 * starts its own daemon (FAIRWAY_BIN). CK_RUN_SUITE / CK_RUN_CASE select
 * tests; CK_FORK=no runs them in-process for a debugger; CK_VERBOSITY
 * overrides the default verbose listing. */
#include <stdlib.h>

#include "harness.h"
#include "suites.h"

int main(void)
{
	SRunner *sr;
	int failed;

	pg_setup();
	sr = srunner_create(pooling_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, timeouts_suite());
	srunner_add_suite(sr, faults_suite());
	srunner_add_suite(sr, badinput_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, console_suite());
	srunner_add_suite(sr, pgbench_suite());
	srunner_add_suite(sr, fairness_suite());
	srunner_add_suite(sr, admin_suite());
	srunner_add_suite(sr, signals_suite());
	srunner_add_suite(sr, logs_suite());
	srunner_add_suite(sr, hba_suite());
	srunner_add_suite(sr, prepared_suite());
	srunner_add_suite(sr, hostile_suite());
	srunner_add_suite(sr, authquery_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, replication_suite());
	srunner_run_all(sr, getenv("CK_VERBOSITY") != NULL ? CK_ENV : CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	pg_teardown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
