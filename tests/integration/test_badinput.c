/* Bad input, Redis style: raw sockets send what no driver would (garbage,
 * impossible lengths, half packets, SSLRequest then garbage, a startup
 * packet without a user, oversized and unknown messages after login). The
 * offender gets an ErrorResponse with SQLSTATE 08P01 and is closed; then the
 * daemon must still answer SELECT 1 and SHOW POOLS, with nothing left over. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

static const uint8_t ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
static const uint8_t gssenc_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30};

static long long lists_value(struct fw *fw, const char *list)
{
	PGresult *res = console_show(fw, "SHOW LISTS");
	int row = res_find_row(res, "list", list, NULL, NULL);
	long long v;

	ck_assert_msg(row >= 0, "SHOW LISTS has no row %s", list);
	v = res_ll(res, row, "items");
	PQclear(res);
	return v;
}

static bool no_login_clients(void *arg)
{
	return lists_value(arg, "login_clients") == 0;
}

/* Still alive, Redis style: a normal client works, the console works, and
 * the bad connection left nothing behind. */
static void assert_daemon_still_serves(struct fw *fw)
{
	PGconn *c = fw_connect_ok(fw, FW_AS_SUPER);
	PGresult *res;

	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	res = console_show(fw, "SHOW POOLS");
	ck_assert_int_ge(PQntuples(res), 1);
	PQclear(res);
	ck_assert_msg(wait_until(no_login_clients, fw, FW_WAIT_MS),
	              "a bad connection stayed in login_clients");
}

/* Sends bytes, reads until the daemon closes, expects 08P01. */
static void expect_08P01_and_close(struct fw *fw, int fd, const void *bytes, size_t len,
                                   bool after_ssl_answer, const char *what)
{
	uint8_t buf[8192];
	struct raw_error err;
	bool closed;
	size_t got;

	raw_send(fd, bytes, len); /* the daemon may already have closed: fine */
	got = raw_read(fd, buf, sizeof(buf), FW_WAIT_MS, false, &closed);
	close(fd);
	ck_assert_msg(closed, "%s: the connection was not closed", what);
	ck_assert_msg(raw_find_error(buf, got, after_ssl_answer, &err),
	              "%s: no ErrorResponse before the close (%zu bytes)", what, got);
	ck_assert_msg(strcmp(err.sqlstate, "08P01") == 0, "%s: SQLSTATE %s (%s)", what,
	              err.sqlstate, err.message);
	assert_daemon_still_serves(fw);
}

START_TEST(garbage_before_startup_gets_08P01_and_daemon_survives)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	expect_08P01_and_close(&fw, raw_connect(&fw), http, strlen(http), false, "HTTP request");
	fw_stop(&fw);
}
END_TEST

START_TEST(startup_length_3_gets_08P01_and_daemon_survives)
{
	static const uint8_t pkt[] = {0, 0, 0, 3, 0, 3, 0, 0};
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	expect_08P01_and_close(&fw, raw_connect(&fw), pkt, sizeof(pkt), false, "length 3");
	fw_stop(&fw);
}
END_TEST

START_TEST(oversized_startup_packet_gets_08P01_and_daemon_survives)
{
	static const uint8_t pkt[] = {0x80, 0, 0, 0, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0};
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	expect_08P01_and_close(&fw, raw_connect(&fw), pkt, sizeof(pkt), false, "length 2^31");
	fw_stop(&fw);
}
END_TEST

START_TEST(half_a_packet_then_close_leaves_daemon_running)
{
	const char *kv[] = {"user", FW_SUPERUSER, "database", FW_TESTDB, NULL};
	uint8_t pkt[256];
	size_t len;
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	for (int i = 0; i < 20; i++) {
		int fd = raw_connect(&fw);

		len = raw_startup_packet(pkt, sizeof(pkt), kv);
		ck_assert(len > 10);
		raw_send(fd, pkt, len / 2);
		close(fd);
	}
	assert_daemon_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(ssl_request_then_garbage_gets_N_then_08P01)
{
	static const char garbage[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not a startup";
	uint8_t answer;
	bool closed;
	struct fw fw;
	int fd;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	fd = raw_connect(&fw);
	ck_assert(raw_send(fd, ssl_request, sizeof(ssl_request)));
	ck_assert_int_eq(raw_read(fd, &answer, 1, FW_WAIT_MS, false, &closed), 1);
	ck_assert_msg(answer == 'N', "SSLRequest answered '%c' without TLS configured", answer);
	expect_08P01_and_close(&fw, fd, garbage, sizeof(garbage) - 1, false, "garbage after 'N'");
	fw_stop(&fw);
}
END_TEST

START_TEST(gssenc_request_is_answered_N_and_login_continues)
{
	const char *kv[] = {"user", FW_SUPERUSER, "database", FW_TESTDB, NULL};
	uint8_t pkt[256], buf[4096];
	struct raw_error err;
	bool closed;
	size_t len, got;
	struct fw fw;
	int fd;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	fd = raw_connect(&fw);
	ck_assert(raw_send(fd, gssenc_request, sizeof(gssenc_request)));
	ck_assert_int_eq(raw_read(fd, buf, 1, FW_WAIT_MS, false, &closed), 1);
	ck_assert_msg(buf[0] == 'N', "GSSENCRequest answered '%c'", buf[0]);
	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	ck_assert(raw_send(fd, pkt, len));
	got = raw_read(fd, buf, sizeof(buf), 2000, false, &closed);
	ck_assert_msg(!closed && !raw_find_error(buf, got, false, &err),
	              "login after GSSENCRequest failed: %s", err.message);
	ck_assert_msg(got > 0 && memchr(buf, 'Z', got) != NULL, "no ReadyForQuery after login");
	close(fd);
	assert_daemon_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(startup_without_user_gets_08P01_and_daemon_survives)
{
	const char *kv[] = {"database", FW_TESTDB, NULL};
	uint8_t pkt[256];
	size_t len;
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	expect_08P01_and_close(&fw, raw_connect(&fw), pkt, len, false, "no user");
	fw_stop(&fw);
}
END_TEST

START_TEST(oversized_query_after_login_gets_08P01_and_daemon_survives)
{
	uint8_t q[64] = {'Q', 0x7f, 0xff, 0xff, 0xff};
	struct fw fw;
	int fd;

	fw_start(&fw, "auth_type = trust\nmax_packet_size = 65536\n", NULL, NULL, NULL);
	fd = raw_login_trust(&fw, FW_SUPERUSER, FW_TESTDB);
	memcpy(q + 5, "SELECT 1", 9);
	expect_08P01_and_close(&fw, fd, q, sizeof(q), false, "Query of 2^31 bytes");
	fw_stop(&fw);
}
END_TEST

START_TEST(message_length_3_after_login_gets_08P01_and_daemon_survives)
{
	static const uint8_t q[] = {'Q', 0, 0, 0, 3, 'x', 'y', 'z'};
	struct fw fw;
	int fd;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	fd = raw_login_trust(&fw, FW_SUPERUSER, FW_TESTDB);
	expect_08P01_and_close(&fw, fd, q, sizeof(q), false, "message length 3");
	fw_stop(&fw);
}
END_TEST

START_TEST(unknown_message_type_after_login_gets_08P01_and_daemon_survives)
{
	static const uint8_t msg[] = {'y', 0, 0, 0, 8, 1, 2, 3, 4};
	struct fw fw;
	int fd;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	fd = raw_login_trust(&fw, FW_SUPERUSER, FW_TESTDB);
	expect_08P01_and_close(&fw, fd, msg, sizeof(msg), false, "message type 'y'");
	fw_stop(&fw);
}
END_TEST

START_TEST(newer_protocol_minor_version_gets_negotiate_protocol_version)
{
	const char *kv[] = {"user", FW_SUPERUSER, "database", FW_TESTDB, "_pq_.fairway_test",
	                    "1",    NULL};
	uint8_t pkt[256], buf[8192];
	struct raw_error err;
	bool closed;
	size_t len, got;
	struct fw fw;
	int fd;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	fd = raw_connect(&fw);
	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	pkt[7] = 2; /* protocol 3.2 */
	ck_assert(raw_send(fd, pkt, len));
	got = raw_read(fd, buf, sizeof(buf), 2000, false, &closed);
	close(fd);
	ck_assert_msg(!raw_find_error(buf, got, false, &err), "protocol 3.2 refused: %s %s",
	              err.sqlstate, err.message);
	ck_assert_msg(got > 0 && buf[0] == 'v',
	              "first answer to protocol 3.2 is '%c', not "
	              "NegotiateProtocolVersion",
	              got > 0 ? buf[0] : '-');
	assert_daemon_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(many_bad_clients_in_a_row_leave_nothing_behind)
{
	static const uint8_t bad[] = {0, 0, 0, 3};
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	for (int i = 0; i < 50; i++) {
		int fd = raw_connect(&fw);

		raw_send(fd, bad, sizeof(bad));
		close(fd);
	}
	assert_daemon_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

Suite *badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("badinput");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, garbage_before_startup_gets_08P01_and_daemon_survives);
	tcase_add_test(tc, startup_length_3_gets_08P01_and_daemon_survives);
	tcase_add_test(tc, oversized_startup_packet_gets_08P01_and_daemon_survives);
	tcase_add_test(tc, half_a_packet_then_close_leaves_daemon_running);
	tcase_add_test(tc, ssl_request_then_garbage_gets_N_then_08P01);
	tcase_add_test(tc, gssenc_request_is_answered_N_and_login_continues);
	tcase_add_test(tc, startup_without_user_gets_08P01_and_daemon_survives);
	tcase_add_test(tc, oversized_query_after_login_gets_08P01_and_daemon_survives);
	tcase_add_test(tc, message_length_3_after_login_gets_08P01_and_daemon_survives);
	tcase_add_test(tc, unknown_message_type_after_login_gets_08P01_and_daemon_survives);
	tcase_add_test(tc, newer_protocol_minor_version_gets_negotiate_protocol_version);
	tcase_add_test(tc, many_bad_clients_in_a_row_leave_nothing_behind);
	suite_add_tcase(s, tc);
	return s;
}
