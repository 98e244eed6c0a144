/* Protocol-level named prepared statements in transaction pooling: each
 * client's names are its own, statements follow the client from server to
 * server, the per-server cache is bounded, and errors, DEALLOCATE ALL, Close
 * and pipelines behave as they do on PostgreSQL itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define TXN_POOL(n) "pool_mode = transaction\ndefault_pool_size = " #n "\n"

/* Runs a prepared statement with one text parameter; returns its number. */
static long long exec_prepared_ll(PGconn *c, const char *name, const char *param)
{
	const char *values[1] = {param};
	PGresult *res = PQexecPrepared(c, name, param != NULL ? 1 : 0, values, NULL, NULL, 0);
	long long v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "EXECUTE %s: %s", name,
	              PQerrorMessage(c));
	v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void prepare_ok(PGconn *c, const char *name, const char *sql, int nparams)
{
	PGresult *res = PQprepare(c, name, sql, nparams, NULL);

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "PREPARE %s: %s", name,
	              PQerrorMessage(c));
	PQclear(res);
}

/* The SQLSTATE of a failed result, which it clears. */
static void expect_result_error(PGresult *res, const char *sqlstate, const char *what)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "%s: expected an error, got %s",
	              what, PQresStatus(PQresultStatus(res)));
	ck_assert_msg(st != NULL && strcmp(st, sqlstate) == 0, "%s: SQLSTATE %s, expected %s", what,
	              st ? st : "(none)", sqlstate);
	PQclear(res);
}

static long long server_statements(struct fw *fw, long long *max_out)
{
	PGresult *res = console_show(fw, "SHOW SERVERS");
	long long sum = 0, max = 0;

	for (int i = 0; i < PQntuples(res); i++) {
		long long n = res_ll(res, i, "prepared_statements");

		sum += n;
		if (n > max)
			max = n;
	}
	PQclear(res);
	if (max_out != NULL)
		*max_out = max;
	return sum;
}

static long long stats_total(struct fw *fw, const char *column)
{
	PGresult *res = console_show(fw, "SHOW STATS");
	int row = res_find_row(res, "database", FW_TESTDB, NULL, NULL);
	long long v;

	ck_assert_int_ge(row, 0);
	v = res_ll(res, row, column);
	PQclear(res);
	return v;
}

/* Four clients use the same name for different statements on one server. */
START_TEST(each_client_has_its_own_names_on_a_shared_server)
{
	struct fw fw;
	PGconn *c[4];
	char sql[64], param[16];

	fw_start(&fw, TXN_POOL(1), NULL, NULL, NULL);
	for (int i = 0; i < 4; i++) {
		c[i] = fw_connect_ok(&fw, FW_AS_SUPER);
		snprintf(sql, sizeof(sql), "SELECT $1::int * %d", i + 2);
		prepare_ok(c[i], "q", sql, 1);
	}
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 4; i++) {
			snprintf(param, sizeof(param), "%d", round + 10);
			ck_assert_int_eq(exec_prepared_ll(c[i], "q", param),
			                 (round + 10) * (i + 2));
		}
	}
	/* One server, four different texts. */
	ck_assert_int_eq(server_statements(&fw, NULL), 4);
	ck_assert_int_eq(stats_total(&fw, "total_client_parse_count"), 4);
	ck_assert_int_eq(stats_total(&fw, "total_bind_count"), 20);
	{
		PGresult *res = console_show(&fw, "SHOW CLIENTS");
		int row = res_find_row(res, "database", FW_TESTDB, NULL, NULL);

		ck_assert_int_ge(row, 0);
		ck_assert_int_eq(res_ll(res, row, "prepared_statements"), 1);
		PQclear(res);
	}
	for (int i = 0; i < 4; i++)
		PQfinish(c[i]);
	fw_stop(&fw);
}
END_TEST

/* A statement prepared on one server is prepared again, transparently, on
 * another; identical texts of different clients are prepared once per server. */
START_TEST(statements_follow_the_client_to_other_servers)
{
	struct fw fw;
	PGconn *a, *b, *hold;
	char param[16];

	fw_start(&fw, TXN_POOL(2), NULL, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	hold = fw_connect_ok(&fw, FW_AS_SUPER);
	prepare_ok(a, "a1", "SELECT $1::int + 1000", 1);
	prepare_ok(b, "b1", "SELECT $1::int + 1000", 1);
	for (int i = 0; i < 10; i++) {
		/* hold keeps one server busy in a transaction every other round,
		 * so the other two clients land on different servers over time. */
		if (i % 2 == 0)
			PQclear(exec_ok(hold, "BEGIN"));
		snprintf(param, sizeof(param), "%d", i);
		ck_assert_int_eq(exec_prepared_ll(a, "a1", param), 1000 + i);
		ck_assert_int_eq(exec_prepared_ll(b, "b1", param), 1000 + i);
		if (i % 2 == 0)
			PQclear(exec_ok(hold, "COMMIT"));
	}
	{
		long long max;
		long long sum = server_statements(&fw, &max);

		/* The shared text exists at most once per server. */
		ck_assert_int_le(max, 1);
		ck_assert_int_ge(sum, 1);
		ck_assert_int_le(stats_total(&fw, "total_server_parse_count"), 2);
	}
	PQfinish(a);
	PQfinish(b);
	PQfinish(hold);
	fw_stop(&fw);
}
END_TEST

/* max_prepared_statements bounds each server's cache; evicted statements are
 * prepared again when used. */
START_TEST(the_server_cache_is_bounded_and_evicts_the_least_recently_used)
{
	struct fw fw;
	PGconn *c;
	char name[16], sql[64], param[16];
	long long max;

	fw_start(&fw, TXN_POOL(1) "max_prepared_statements = 2\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(sql, sizeof(sql), "SELECT $1::int + %d", i * 100);
		prepare_ok(c, name, sql, 1);
	}
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5; i++) {
			snprintf(name, sizeof(name), "s%d", i);
			snprintf(param, sizeof(param), "%d", round);
			ck_assert_int_eq(exec_prepared_ll(c, name, param), i * 100 + round);
		}
	}
	server_statements(&fw, &max);
	ck_assert_int_le(max, 2);
	/* PostgreSQL agrees: the server session holds no more than two. */
	ck_assert_int_le(query_ll(c, "SELECT count(*) FROM pg_prepared_statements"), 2);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(errors_match_postgresql)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TXN_POOL(1), NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	prepare_ok(c, "dup", "SELECT 1", 0);
	/* A name in use: 42P05, and the first statement still works. */
	expect_result_error(PQprepare(c, "dup", "SELECT 2", 0, NULL), "42P05", "PREPARE dup again");
	ck_assert_int_eq(exec_prepared_ll(c, "dup", NULL), 1);
	/* A statement that does not parse does not exist afterwards. */
	expect_result_error(PQprepare(c, "bad", "SELEC 1", 0, NULL), "42601", "PREPARE bad");
	expect_result_error(PQexecPrepared(c, "bad", 0, NULL, NULL, NULL, 0), "26000",
	                    "EXECUTE bad");
	expect_result_error(PQexecPrepared(c, "never", 0, NULL, NULL, NULL, 0), "26000",
	                    "EXECUTE never");
	/* The name can be used once the failed one is gone. */
	prepare_ok(c, "bad", "SELECT 3", 0);
	ck_assert_int_eq(exec_prepared_ll(c, "bad", NULL), 3);
	/* Execution errors leave the statement in place. */
	prepare_ok(c, "div", "SELECT 1 / $1::int", 1);
	{
		const char *zero[1] = {"0"};

		expect_result_error(PQexecPrepared(c, "div", 1, zero, NULL, NULL, 0), "22012",
		                    "EXECUTE div(0)");
	}
	ck_assert_int_eq(exec_prepared_ll(c, "div", "1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(describe_prepared_reports_parameters_and_columns)
{
	struct fw fw;
	PGconn *c;
	PGresult *res;

	fw_start(&fw, TXN_POOL(1), NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	prepare_ok(c, "d", "SELECT $1::int AS a, $2::text AS b, now() AS c", 2);
	/* Let another client take the server in between. */
	{
		PGconn *other = fw_connect_ok(&fw, FW_AS_SUPER);

		prepare_ok(other, "d", "SELECT 42", 0);
		ck_assert_int_eq(exec_prepared_ll(other, "d", NULL), 42);
		PQfinish(other);
	}
	res = PQdescribePrepared(c, "d");
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
	ck_assert_int_eq(PQnparams(res), 2);
	ck_assert_int_eq(PQnfields(res), 3);
	ck_assert_str_eq(PQfname(res, 1), "b");
	PQclear(res);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* DEALLOCATE ALL and DISCARD ALL drop the client's statements, and the
 * server's, which others then prepare again. */
START_TEST(deallocate_all_and_discard_all_forget_statements)
{
	struct fw fw;
	PGconn *a, *b;
	const char *cmds[] = {"DEALLOCATE ALL", "DISCARD ALL"};

	fw_start(&fw, TXN_POOL(1), NULL, NULL, NULL);
	a = fw_connect_ok(&fw, FW_AS_SUPER);
	b = fw_connect_ok(&fw, FW_AS_SUPER);
	for (size_t i = 0; i < 2; i++) {
		prepare_ok(a, "x", "SELECT 7", 0);
		prepare_ok(b, "y", "SELECT 8", 0);
		ck_assert_int_eq(exec_prepared_ll(a, "x", NULL), 7);
		PQclear(exec_ok(a, cmds[i]));
		expect_result_error(PQexecPrepared(a, "x", 0, NULL, NULL, NULL, 0), "26000",
		                    cmds[i]);
		/* b's statement went from the server too; Fairway prepares it again. */
		ck_assert_int_eq(exec_prepared_ll(b, "y", NULL), 8);
		PQclear(exec_ok(b, "DEALLOCATE ALL"));
	}
	PQfinish(a);
	PQfinish(b);
	fw_stop(&fw);
}
END_TEST

/* SQL-level DEALLOCATE of a protocol-level name (psycopg 3 sends it past
 * prepare_threshold's cache): the client's name goes, outside and inside a
 * transaction, and an unknown name still gets PostgreSQL's error. */
START_TEST(sql_deallocate_forgets_a_protocol_level_name)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TXN_POOL(1), NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	prepare_ok(c, "_pg3_1", "SELECT 21", 0);
	prepare_ok(c, "Mixed", "SELECT 22", 0);
	prepare_ok(c, "s3", "SELECT 23", 0);
	ck_assert_int_eq(exec_prepared_ll(c, "_pg3_1", NULL), 21);
	PQclear(exec_ok(c, "DEALLOCATE _pg3_1"));
	expect_result_error(PQexecPrepared(c, "_pg3_1", 0, NULL, NULL, NULL, 0), "26000",
	                    "EXECUTE after DEALLOCATE");
	PQclear(exec_ok(c, "deallocate prepare \"Mixed\";"));
	expect_result_error(PQexecPrepared(c, "Mixed", 0, NULL, NULL, NULL, 0), "26000",
	                    "EXECUTE after quoted DEALLOCATE");
	PQclear(exec_ok(c, "BEGIN"));
	ck_assert_int_eq(exec_prepared_ll(c, "s3", NULL), 23);
	PQclear(exec_ok(c, "DEALLOCATE s3"));
	ck_assert_int_eq(query_ll(c, "SELECT 24"), 24); /* the transaction goes on */
	PQclear(exec_ok(c, "COMMIT"));
	expect_result_error(PQexecPrepared(c, "s3", 0, NULL, NULL, NULL, 0), "26000",
	                    "EXECUTE after DEALLOCATE in a transaction");
	expect_query_error(c, "DEALLOCATE nosuch", "26000", NULL);
	/* The extended protocol (psycopg 3's evictions): the server deallocates
	 * the server-side name, on whichever server the client has now. */
	prepare_ok(c, "_pg3_9", "SELECT 26", 0);
	{
		PGconn *other = fw_connect_ok(&fw, FW_AS_SUPER);

		prepare_ok(other, "o1", "SELECT 26", 0); /* the same text: shared */
		ck_assert_int_eq(exec_prepared_ll(other, "o1", NULL), 26);
		PQclear(exec_ok(c, "BEGIN"));
		{
			PGresult *res =
			    PQexecParams(c, "DEALLOCATE _pg3_9", 0, NULL, NULL, NULL, NULL, 0);

			ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK,
			              "extended DEALLOCATE: %s", PQerrorMessage(c));
			ck_assert_str_eq(PQcmdStatus(res), "DEALLOCATE");
			PQclear(res);
		}
		PQclear(exec_ok(c, "COMMIT"));
		expect_result_error(PQexecPrepared(c, "_pg3_9", 0, NULL, NULL, NULL, 0), "26000",
		                    "EXECUTE after extended DEALLOCATE");
		/* other's statement was prepared on the same server: it comes back. */
		ck_assert_int_eq(exec_prepared_ll(other, "o1", NULL), 26);
		PQfinish(other);
	}
	/* The name can be prepared again. */
	prepare_ok(c, "_pg3_1", "SELECT 25", 0);
	ck_assert_int_eq(exec_prepared_ll(c, "_pg3_1", NULL), 25);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* A pipeline of prepares and executions with an error in the middle: the
 * statements before it work, those after it in the same Sync are skipped. */
START_TEST(pipelines_with_an_error_keep_order)
{
	struct fw fw;
	PGconn *c;
	PGresult *res;
	const char *one[1] = {"5"};

	fw_start(&fw, TXN_POOL(1), NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(PQenterPipelineMode(c), 1);
	ck_assert(PQsendPrepare(c, "p1", "SELECT $1::int + 1", 1, NULL));
	ck_assert(PQsendQueryPrepared(c, "p1", 1, one, NULL, NULL, 0));
	ck_assert(PQsendPrepare(c, "p2", "SELECT nosuchcolumn", 0, NULL));
	ck_assert(PQsendPrepare(c, "p3", "SELECT 3", 0, NULL));
	ck_assert(PQpipelineSync(c));
	ck_assert(PQsendPrepare(c, "p4", "SELECT $1::int + 4", 1, NULL));
	ck_assert(PQsendQueryPrepared(c, "p4", 1, one, NULL, NULL, 0));
	ck_assert(PQsendQueryPrepared(c, "p1", 1, one, NULL, NULL, 0));
	ck_assert(PQpipelineSync(c));

	/* p1 prepared */
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	ck_assert_ptr_null(PQgetResult(c));
	/* p1 executed */
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "6");
	PQclear(res);
	ck_assert_ptr_null(PQgetResult(c));
	/* p2 fails */
	res = PQgetResult(c);
	expect_result_error(res, "42703", "p2");
	ck_assert_ptr_null(PQgetResult(c));
	/* p3 skipped */
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_PIPELINE_ABORTED);
	PQclear(res);
	ck_assert_ptr_null(PQgetResult(c));
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_PIPELINE_SYNC);
	PQclear(res);
	/* second batch */
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	ck_assert_ptr_null(PQgetResult(c));
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "9");
	PQclear(res);
	ck_assert_ptr_null(PQgetResult(c));
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "6");
	PQclear(res);
	ck_assert_ptr_null(PQgetResult(c));
	res = PQgetResult(c);
	ck_assert_int_eq(PQresultStatus(res), PGRES_PIPELINE_SYNC);
	PQclear(res);
	ck_assert_int_eq(PQexitPipelineMode(c), 1);
	/* p3 was never prepared, p2 neither. */
	expect_result_error(PQexecPrepared(c, "p3", 0, NULL, NULL, NULL, 0), "26000", "p3");
	ck_assert_int_eq(exec_prepared_ll(c, "p4", "1"), 5);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* A Bind far larger than any buffer: its names are rewritten, its
 * parameters streamed. */
START_TEST(large_bind_parameters_pass_intact)
{
	struct fw fw;
	PGconn *c;
	size_t n = 4 * 1024 * 1024;
	char *big = malloc(n + 1);

	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	fw_start(&fw, TXN_POOL(1), NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	prepare_ok(c, "len", "SELECT length($1::text) + 0 * length(md5($1::text))", 1);
	ck_assert_int_eq(exec_prepared_ll(c, "len", big), (long long)n);
	ck_assert_int_eq(exec_prepared_ll(c, "len", "abc"), 3);
	PQfinish(c);
	free(big);
	fw_stop(&fw);
}
END_TEST

/* Close (statement): the client forgets the name; the server keeps the
 * statement for others.  libpq 15 has no PQclosePrepared: raw protocol. */
START_TEST(close_statement_forgets_the_name)
{
	struct fw fw;
	int fd;
	uint8_t buf[4096];
	size_t n;
	bool closed;
	static const uint8_t batch[] = {/* Parse "c1" "SELECT 1" no types */
	                                'P', 0, 0, 0, 18, 'c', '1', 0, 'S', 'E', 'L', 'E', 'C', 'T',
	                                ' ', '1', 0, 0, 0,
	                                /* Close statement "c1" */
	                                'C', 0, 0, 0, 8, 'S', 'c', '1', 0,
	                                /* Bind "" "c1" */
	                                'B', 0, 0, 0, 14, 0, 'c', '1', 0, 0, 0, 0, 0, 0, 0,
	                                /* Sync */
	                                'S', 0, 0, 0, 4};

	fw_start(&fw, TXN_POOL(1) "auth_type = trust\n", NULL, NULL, NULL);
	fd = raw_login_trust(&fw, FW_SUPERUSER, FW_TESTDB);
	ck_assert(raw_send(fd, batch, sizeof(batch)));
	n = raw_read(fd, buf, sizeof(buf), 10000, true, &closed);
	/* ParseComplete, CloseComplete, then Bind fails: c1 no longer exists. */
	ck_assert_msg(n >= 10 && buf[0] == '1' && buf[5] == '3', "got %zu bytes starting %c%c", n,
	              n > 0 ? buf[0] : '?', n > 5 ? buf[5] : '?');
	{
		struct raw_error err;

		ck_assert(raw_find_error(buf, n, false, &err));
		ck_assert_str_eq(err.sqlstate, "26000");
	}
	close(fd);
	fw_stop(&fw);
}
END_TEST

/* pgbench -M prepared: more clients than servers, 0 failed. */
START_TEST(pgbench_prepared_mode_with_a_small_pool)
{
	struct fw fw;
	struct pgbench_result r;
	/* One thread per client: pgbench prepares synchronously, and a thread
	 * whose client waits for a server would stall its other clients. */
	const char *args[] = {"-M", "prepared", "-c", "6", "-j", "6", "-t", "150", NULL};

	fw_start(&fw, TXN_POOL(2), NULL, NULL, NULL);
	pgbench_run(&fw, args, &r);
	ck_assert_msg(r.status == 0 && r.failed == 0, "pgbench: %s", r.out);
	ck_assert_int_eq(r.processed, 900);
	ck_assert_int_ge(stats_total(&fw, "total_bind_count"), 900 * 7);
	fw_stop(&fw);
}
END_TEST

/* Session pooling needs no renaming: the names reach PostgreSQL as they are. */
START_TEST(session_mode_leaves_names_alone)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, "pool_mode = session\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	prepare_ok(c, "mine", "SELECT 11", 0);
	ck_assert_int_eq(
	    query_ll(c, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'mine'"), 1);
	ck_assert_int_eq(server_statements(&fw, NULL), 0);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* max_prepared_statements = 0 turns the tracking off. */
START_TEST(zero_turns_tracking_off)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, TXN_POOL(1) "max_prepared_statements = 0\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(c, "BEGIN"));
	prepare_ok(c, "raw", "SELECT 12", 0);
	ck_assert_int_eq(
	    query_ll(c, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'raw'"), 1);
	PQclear(exec_ok(c, "DEALLOCATE raw"));
	PQclear(exec_ok(c, "COMMIT"));
	ck_assert_int_eq(stats_total(&fw, "total_client_parse_count"), 0);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

Suite *prepared_suite(void)
{
	Suite *s = suite_create("prepared");
	TCase *tc = tcase_create("prepared");

	tcase_set_timeout(tc, FW_SLOW_TIMEOUT);
	tcase_add_test(tc, each_client_has_its_own_names_on_a_shared_server);
	tcase_add_test(tc, statements_follow_the_client_to_other_servers);
	tcase_add_test(tc, the_server_cache_is_bounded_and_evicts_the_least_recently_used);
	tcase_add_test(tc, errors_match_postgresql);
	tcase_add_test(tc, describe_prepared_reports_parameters_and_columns);
	tcase_add_test(tc, deallocate_all_and_discard_all_forget_statements);
	tcase_add_test(tc, pipelines_with_an_error_keep_order);
	tcase_add_test(tc, sql_deallocate_forgets_a_protocol_level_name);
	tcase_add_test(tc, large_bind_parameters_pass_intact);
	tcase_add_test(tc, close_statement_forgets_the_name);
	tcase_add_test(tc, pgbench_prepared_mode_with_a_small_pool);
	tcase_add_test(tc, session_mode_leaves_names_alone);
	tcase_add_test(tc, zero_turns_tracking_off);
	suite_add_tcase(s, tc);
	return s;
}
