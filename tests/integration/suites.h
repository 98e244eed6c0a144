/* Every integration-test suite; tests/integration/main.c runs them all. */
#ifndef FAIRWAY_IT_SUITES_H
#define FAIRWAY_IT_SUITES_H

#include <check.h>

Suite *pooling_suite(void);
Suite *auth_suite(void);
Suite *timeouts_suite(void);
Suite *faults_suite(void);
Suite *badinput_suite(void);
Suite *config_suite(void);
Suite *console_suite(void);
Suite *pgbench_suite(void);
Suite *fairness_suite(void);
Suite *admin_suite(void);
Suite *signals_suite(void);
Suite *logs_suite(void);
Suite *hba_suite(void);
Suite *prepared_suite(void);
Suite *hostile_suite(void);
Suite *authquery_suite(void);
Suite *tls_suite(void);
Suite *replication_suite(void);

#endif
