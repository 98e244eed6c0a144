/* tls.c's pure parts: sslmode names, PgBouncer's protocol lists and cipher
 * keywords. */
#include <check.h>
#include <string.h>

#include "suites.h"
#include "tls.h"

START_TEST(protocol_lists_map_to_bits_as_pgbouncer)
{
	static const struct {
		const char *text;
		unsigned bits;
	} ok[] = {
	    {"secure", TLS_PROTO_12 | TLS_PROTO_13},
	    {"default", TLS_PROTO_12 | TLS_PROTO_13},
	    {"all", TLS_PROTO_10 | TLS_PROTO_11 | TLS_PROTO_12 | TLS_PROTO_13},
	    {"legacy", TLS_PROTO_10 | TLS_PROTO_11 | TLS_PROTO_12 | TLS_PROTO_13},
	    {"tlsv1.3", TLS_PROTO_13},
	    {"TLSv1.2", TLS_PROTO_12},
	    {"tlsv1.2,tlsv1.3", TLS_PROTO_12 | TLS_PROTO_13},
	    {" tlsv1.0 : tlsv1.2 ", TLS_PROTO_10 | TLS_PROTO_12},
	    {"all,!tlsv1.0,!tlsv1.1", TLS_PROTO_12 | TLS_PROTO_13},
	    {"secure !tlsv1.2", TLS_PROTO_13},
	};
	char err[128];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		unsigned bits = 0;

		ck_assert_msg(tls_parse_protocols(ok[i].text, &bits, err, sizeof(err)), "%s: %s",
		              ok[i].text, err);
		ck_assert_msg(bits == ok[i].bits, "%s gave %x", ok[i].text, bits);
	}
}
END_TEST

START_TEST(bad_protocol_lists_say_why)
{
	static const char *const bad[] = {
	    "",
	    "tlsv1.4",
	    "sslv3",
	    "secure,!secure",
	    "!",
	    ",,",
	    "tlsv1.2,bogus",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned bits = 77;

		err[0] = '\0';
		ck_assert_msg(!tls_parse_protocols(bad[i], &bits, err, sizeof(err)), "%s", bad[i]);
		ck_assert_msg(bits == 77, "%s changed the bits", bad[i]);
		ck_assert_msg(err[0] != '\0', "%s: no reason", bad[i]);
	}
	ck_assert(!tls_parse_protocols(NULL, &(unsigned){0}, err, sizeof(err)));
	ck_assert(!tls_parse_protocols("tlsv1.4", &(unsigned){0}, err, sizeof(err)));
	ck_assert_str_eq(err, "unknown protocol \"tlsv1.4\"");
}
END_TEST

START_TEST(sslmodes_parse_in_order)
{
	enum tls_mode m;

	ck_assert(tls_parse_mode("disable", &m) && m == TLS_DISABLE);
	ck_assert(tls_parse_mode("allow", &m) && m == TLS_ALLOW);
	ck_assert(tls_parse_mode("prefer", &m) && m == TLS_PREFER);
	ck_assert(tls_parse_mode("Require", &m) && m == TLS_REQUIRE);
	ck_assert(tls_parse_mode("verify-ca", &m) && m == TLS_VERIFY_CA);
	ck_assert(tls_parse_mode("verify-full", &m) && m == TLS_VERIFY_FULL);
	ck_assert(!tls_parse_mode("sometimes", &m));
	ck_assert(!tls_parse_mode(NULL, &m));
	ck_assert(TLS_REQUIRE > TLS_PREFER && TLS_VERIFY_CA > TLS_REQUIRE);
}
END_TEST

START_TEST(cipher_keywords_expand_and_lists_pass_through)
{
	ck_assert_str_eq(tls_cipher_list("default"), tls_cipher_list("secure"));
	ck_assert_str_eq(tls_cipher_list(NULL), tls_cipher_list("default"));
	ck_assert_ptr_nonnull(strstr(tls_cipher_list("fast"), "HIGH"));
	ck_assert_ptr_nonnull(strstr(tls_cipher_list("legacy"), "MEDIUM"));
	ck_assert_ptr_nonnull(strstr(tls_cipher_list("all"), "ALL"));
	ck_assert_str_eq(tls_cipher_list("ECDHE-RSA-AES128-GCM-SHA256"),
	                 "ECDHE-RSA-AES128-GCM-SHA256");
}
END_TEST

Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, protocol_lists_map_to_bits_as_pgbouncer);
	tcase_add_test(tc, bad_protocol_lists_say_why);
	tcase_add_test(tc, sslmodes_parse_in_order);
	tcase_add_test(tc, cipher_keywords_expand_and_lists_pass_through);
	suite_add_tcase(s, tc);
	return s;
}
