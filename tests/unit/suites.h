/* Every unit-test suite; tests/unit/main.c runs them all. */
#ifndef FAIRWAY_UNIT_SUITES_H
#define FAIRWAY_UNIT_SUITES_H

#include <check.h>

Suite *proto_suite(void);
Suite *config_suite(void);
Suite *connstr_suite(void);
Suite *authfile_suite(void);
Suite *scram_suite(void);
Suite *sched_suite(void);
Suite *histogram_suite(void);
Suite *params_suite(void);
Suite *hba_suite(void);
Suite *prepared_suite(void);
Suite *authquery_suite(void);
Suite *tls_suite(void);
Suite *admin_suite(void);

#endif
