/* Runs every unit-test suite in one SRunner.  CK_RUN_SUITE / CK_RUN_CASE
 * select a subset, CK_FORK=no runs in-process for a debugger. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, connstr_suite());
	srunner_add_suite(sr, authfile_suite());
	srunner_add_suite(sr, scram_suite());
	srunner_add_suite(sr, sched_suite());
	srunner_add_suite(sr, histogram_suite());
	srunner_add_suite(sr, params_suite());
	srunner_add_suite(sr, hba_suite());
	srunner_add_suite(sr, prepared_suite());
	srunner_add_suite(sr, authquery_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, admin_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
