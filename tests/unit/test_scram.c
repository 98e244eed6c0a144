/* Unit tests for scram.c: the RFC 7677 example as a known-answer test in both
 * roles, round trips, pass-through keys, md5, base64, stored secrets, and a
 * body of malformed, truncated, mutated and random messages that must be
 * refused without a crash.  Expected md5 and secret values were computed
 * independently (md5sum, Python hashlib). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "scram.h"
#include "suites.h"

/* RFC 7677, section 3. */
#define RFC_CNONCE       "rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE       "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_NONCE        RFC_CNONCE RFC_SNONCE
#define RFC_SALT         "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CLIENT_FIRST "n,,n=user,r=" RFC_CNONCE
#define RFC_SERVER_FIRST "r=" RFC_NONCE ",s=" RFC_SALT ",i=4096"
#define RFC_PROOF        "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_CLIENT_FINAL "c=biws,r=" RFC_NONCE ",p=" RFC_PROOF
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
/* The same password and salt as pg_authid stores it, and its ClientKey. */
#define RFC_SECRET                                                                                 \
	"SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"            \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC_CLIENT_KEY "pg/JI9Z+hkSpLRa5btpe9GVrDHJcSEN0viVTVXaZbos="

/* A message with an explicit length: some hold NUL bytes. */
struct msg {
	const char *data;
	size_t len;
};
#define MSG(lit)                                                                                   \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

static size_t msg_len(const struct msg *m)
{
	return m->len;
}

static struct scram_secret rfc_secret(void)
{
	struct scram_secret s;

	ck_assert(scram_parse_secret(RFC_SECRET, &s));
	return s;
}

static void decode32(const char *b64, uint8_t out[SCRAM_KEY_LEN])
{
	size_t n;

	ck_assert(scram_b64_decode(b64, strlen(b64), out, SCRAM_KEY_LEN, &n));
	ck_assert_uint_eq(n, SCRAM_KEY_LEN);
}

/* A server that has answered the RFC client-first-message. */
static void rfc_server_at_final(struct scram_server *sv, const struct scram_secret *secret)
{
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	scram_server_init(sv, secret);
	ck_assert(scram_server_first_with_nonce(sv, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST),
	                                        RFC_SNONCE, out, sizeof(out), err, sizeof(err)));
}

/* A client that has sent the RFC client-final-message (keys, no PBKDF2). */
static void rfc_client_at_verify(struct scram_client *cl)
{
	uint8_t ck[SCRAM_KEY_LEN];
	struct scram_secret s = rfc_secret();
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	decode32(RFC_CLIENT_KEY, ck);
	scram_client_init(cl);
	ck_assert(scram_client_first_with_nonce(cl, "user", RFC_CNONCE, out, sizeof(out)));
	ck_assert(scram_client_final_with_keys(cl, ck, s.server_key, RFC_SERVER_FIRST,
	                                       strlen(RFC_SERVER_FIRST), out, sizeof(out), err,
	                                       sizeof(err)));
	ck_assert_str_eq(out, RFC_CLIENT_FINAL);
}

/* ---- base64 ------------------------------------------------------------- */

START_TEST(b64_encode_matches_rfc4648_vectors_and_needs_room_for_nul)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[16];

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		size_t n =
		    scram_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), out, sizeof(out));

		ck_assert_uint_eq(n, strlen(coded[i]));
		ck_assert_str_eq(out, coded[i]);
	}
	ck_assert_uint_eq(scram_b64_encode((const uint8_t *)"foo", 3, out, 5), 4);
	ck_assert_uint_eq(scram_b64_encode((const uint8_t *)"foo", 3, out, 4), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(scram_b64_encode((const uint8_t *)"foo", 3, out, 0), 0);
	ck_assert_uint_eq(scram_b64_encode((const uint8_t *)"foo", 3, NULL, 10), 0);
}
END_TEST

START_TEST(b64_decode_round_trips_and_rejects_bad_input)
{
	static const struct msg bad[] = {
	    MSG("Zg="),    MSG("Zg"),    MSG("Z"),          MSG("Zg=a"),    MSG("Z==="),
	    MSG("===="),   MSG("=Zg="),  MSG("Zg==Zg=="),   MSG("Zh=="),    MSG("Zm9="),
	    MSG("Zm9v\n"), MSG("Zm 9v"), MSG("Zm9v "),      MSG("Zm-v"),    MSG("Zm_v"),
	    MSG("Zm9\0"),  MSG("Zg=\0"), MSG("\xc3\xa9Zg"), MSG("Zm9vYg="), MSG("Zm9vY==="),
	};
	uint8_t in[256], out[256];
	char enc[400];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(
		    !scram_b64_decode(bad[i].data, msg_len(&bad[i]), out, sizeof(out), &n),
		    "accepted bad base64 #%zu", i);
		ck_assert_uint_eq(n, 0);
	}
	ck_assert(scram_b64_decode("", 0, out, 0, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert(scram_b64_decode("Zm9vYmFy", 8, out, 6, &n));
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(out, "foobar", 6);
	ck_assert(!scram_b64_decode("Zm9vYmFy", 8, out, 5, &n));
	ck_assert(scram_b64_decode("Zm9vYmE=", 8, out, 5, &n));
	ck_assert(!scram_b64_decode("Zm9vYmE=", 8, out, 4, &n));

	for (size_t len = 0; len < sizeof(in); len++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 37 + len);
		n = scram_b64_encode(in, len, enc, sizeof(enc));
		ck_assert_uint_eq(n, (len + 2) / 3 * 4);
		ck_assert(scram_b64_decode(enc, n, out, len, &n));
		ck_assert_uint_eq(n, len);
		ck_assert(len == 0 || memcmp(in, out, len) == 0);
	}
}
END_TEST

/* ---- md5 ---------------------------------------------------------------- */

START_TEST(md5_hash_matches_known_values)
{
	static const uint8_t salt[4] = {1, 2, 3, 4};
	char out[36], resp[36];

	pg_md5_hash("pencil", 6, "user", 4, out);
	ck_assert_str_eq(out, "md520c46e3762c864548e296b33c3406aa9");
	pg_md5_hash(out + 3, 32, salt, 4, resp);
	ck_assert_str_eq(resp, "md54376eb6913b38f9aaff38dc7cf19ca76");
	pg_md5_hash("", 0, "", 0, out);
	ck_assert_str_eq(out, "md5d41d8cd98f00b204e9800998ecf8427e");
}
END_TEST

START_TEST(md5_response_is_checked_against_plain_and_md5_secrets)
{
	static const uint8_t salt[4] = {1, 2, 3, 4}, other_salt[4] = {1, 2, 3, 5};
	static const char resp[] = "md54376eb6913b38f9aaff38dc7cf19ca76";
	char scram_resp[36], tmp[36];

	ck_assert(pg_md5_check_response("pencil", "user", salt, resp));
	ck_assert(pg_md5_check_response("md520c46e3762c864548e296b33c3406aa9", "user", salt, resp));
	/* An md5 secret already binds the user; the user argument is not used. */
	ck_assert(
	    pg_md5_check_response("md520c46e3762c864548e296b33c3406aa9", "other", salt, resp));
	ck_assert(!pg_md5_check_response("pencil", "other", salt, resp));
	ck_assert(!pg_md5_check_response("pencil", "user", other_salt, resp));
	ck_assert(!pg_md5_check_response("pencil2", "user", salt, resp));
	ck_assert(
	    !pg_md5_check_response("pencil", "user", salt, "md54376EB6913B38F9AAFF38DC7CF19CA76"));
	ck_assert(
	    !pg_md5_check_response("pencil", "user", salt, "md54376eb6913b38f9aaff38dc7cf19ca7"));
	ck_assert(
	    !pg_md5_check_response("pencil", "user", salt, "md54376eb6913b38f9aaff38dc7cf19ca76x"));
	ck_assert(!pg_md5_check_response("pencil", "user", salt, ""));
	ck_assert(!pg_md5_check_response("pencil", "user", salt, NULL));
	ck_assert(!pg_md5_check_response("", "user", salt, resp));
	ck_assert(!pg_md5_check_response(NULL, "user", salt, resp));

	/* A SCRAM secret is not a plain password, even if a client hashed it as one. */
	pg_md5_hash(RFC_SECRET, strlen(RFC_SECRET), "user", 4, tmp);
	pg_md5_hash(tmp + 3, 32, salt, 4, scram_resp);
	ck_assert(!pg_md5_check_response(RFC_SECRET, "user", salt, scram_resp));
}
END_TEST

START_TEST(md5_secret_shape_is_exact)
{
	ck_assert(pg_is_md5_secret("md520c46e3762c864548e296b33c3406aa9"));
	ck_assert(!pg_is_md5_secret("md520C46E3762C864548E296B33C3406AA9"));
	ck_assert(!pg_is_md5_secret("md520c46e3762c864548e296b33c3406aa"));
	ck_assert(!pg_is_md5_secret("md520c46e3762c864548e296b33c3406aa90"));
	ck_assert(!pg_is_md5_secret("md520c46e3762c864548e296b33c3406aag"));
	ck_assert(!pg_is_md5_secret("MD520c46e3762c864548e296b33c3406aa9"));
	ck_assert(!pg_is_md5_secret("md5"));
	ck_assert(!pg_is_md5_secret(""));
	ck_assert(!pg_is_md5_secret(NULL));
}
END_TEST

/* ---- stored secrets ----------------------------------------------------- */

START_TEST(secret_from_password_matches_postgres_format_and_round_trips)
{
	struct scram_secret parsed, derived;
	uint8_t salt[SCRAM_MAX_SALT_LEN];
	size_t salt_len;
	char text[SCRAM_MAX_SECRET_LEN + 1];

	parsed = rfc_secret();
	ck_assert_int_eq(parsed.iterations, 4096);
	ck_assert_uint_eq(parsed.salt_len, 16);
	ck_assert(scram_b64_decode(RFC_SALT, strlen(RFC_SALT), salt, sizeof(salt), &salt_len));
	ck_assert(scram_secret_from_password("pencil", salt, salt_len, 4096, &derived));
	ck_assert_int_eq(derived.iterations, 4096);
	ck_assert_uint_eq(derived.salt_len, salt_len);
	ck_assert_mem_eq(derived.salt, parsed.salt, salt_len);
	ck_assert_mem_eq(derived.stored_key, parsed.stored_key, SCRAM_KEY_LEN);
	ck_assert_mem_eq(derived.server_key, parsed.server_key, SCRAM_KEY_LEN);

	ck_assert(scram_format_secret(&derived, text, sizeof(text)));
	ck_assert_str_eq(text, RFC_SECRET);
	ck_assert(!scram_format_secret(&derived, text, strlen(RFC_SECRET)));
	ck_assert(scram_format_secret(&derived, text, strlen(RFC_SECRET) + 1));

	ck_assert(!scram_secret_from_password("pencil", salt, 0, 4096, &derived));
	ck_assert(
	    !scram_secret_from_password("pencil", salt, SCRAM_MAX_SALT_LEN + 1, 4096, &derived));
	ck_assert(!scram_secret_from_password("pencil", salt, salt_len, 0, &derived));
	ck_assert(!scram_secret_from_password(NULL, salt, salt_len, 4096, &derived));
}
END_TEST

START_TEST(parse_secret_rejects_malformed_secrets)
{
	static const char key[] = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=";
	static const char *const bad[] = {
	    "",
	    "SCRAM-SHA-256$",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$",
	    "SCRAM-SHA-1$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "scram-sha-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$0:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$-1:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$04096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$4096x:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$ 4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$9999999999:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$4096:$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=$"
	    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4q=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=:",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=$",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU= ",
	    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=$"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	    "md520c46e3762c864548e296b33c3406aa9",
	    "pencil",
	};
	struct scram_secret s, untouched;
	char big[1024];

	memset(&untouched, 0xa5, sizeof(untouched));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = untouched;
		ck_assert_msg(!scram_parse_secret(bad[i], &s), "accepted bad secret #%zu", i);
		ck_assert_msg(memcmp(&s, &untouched, sizeof(s)) == 0, "bad secret #%zu wrote out",
		              i);
	}
	ck_assert(!scram_parse_secret(NULL, &s));

	/* A salt longer than SCRAM_MAX_SALT_LEN, and an overlong string. */
	memset(big, 'A', sizeof(big));
	snprintf(big, sizeof(big), "SCRAM-SHA-256$4096:%.*s$%s:%s", 176,
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	         "AAAAAAAAAAAAAAAA",
	         key, key);
	ck_assert(!scram_parse_secret(big, &s));
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "SCRAM-SHA-256$4096:", 19);
	ck_assert(!scram_parse_secret(big, &s));

	/* The largest salt still parses. */
	snprintf(big, sizeof(big), "SCRAM-SHA-256$1:%.*s=$%s:%s", 171,
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	         "AAAAAAAAAAA",
	         key, key);
	ck_assert(scram_parse_secret(big, &s));
	ck_assert_uint_eq(s.salt_len, SCRAM_MAX_SALT_LEN);
	ck_assert_int_eq(s.iterations, 1);
}
END_TEST

/* ---- the RFC 7677 exchange ---------------------------------------------- */

START_TEST(rfc7677_example_server_role)
{
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	uint8_t ck[SCRAM_KEY_LEN];
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	scram_server_init(&sv, &s);
	ck_assert(scram_server_first_with_nonce(&sv, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST),
	                                        RFC_SNONCE, out, sizeof(out), err, sizeof(err)));
	ck_assert_str_eq(out, RFC_SERVER_FIRST);
	ck_assert(!sv.client_key_valid);
	ck_assert_int_eq(scram_server_final(&sv, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out,
	                                    sizeof(out), err, sizeof(err)),
	                 SCRAM_OK);
	ck_assert_str_eq(out, RFC_SERVER_FINAL);
	ck_assert(sv.client_key_valid);
	decode32(RFC_CLIENT_KEY, ck);
	ck_assert_mem_eq(sv.client_key, ck, SCRAM_KEY_LEN);

	/* The exchange is over: a replayed final message is refused. */
	ck_assert_int_eq(scram_server_final(&sv, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out,
	                                    sizeof(out), err, sizeof(err)),
	                 SCRAM_MALFORMED);
	scram_server_clear(&sv);
	ck_assert(!sv.client_key_valid);
}
END_TEST

START_TEST(rfc7677_example_client_role)
{
	struct scram_client cl;
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	scram_client_init(&cl);
	ck_assert(scram_client_first_with_nonce(&cl, "user", RFC_CNONCE, out, sizeof(out)));
	ck_assert_str_eq(out, RFC_CLIENT_FIRST);
	ck_assert(scram_client_final(&cl, "pencil", RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), out,
	                             sizeof(out), err, sizeof(err)));
	ck_assert_str_eq(out, RFC_CLIENT_FINAL);
	ck_assert(scram_client_verify_server(&cl, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL)));
	ck_assert(!scram_client_verify_server(&cl, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL)));
	scram_client_clear(&cl);

	/* The same message from the ClientKey and ServerKey, no password. */
	rfc_client_at_verify(&cl);
	ck_assert(scram_client_verify_server(&cl, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL)));
	scram_client_clear(&cl);
}
END_TEST

START_TEST(client_username_is_escaped_and_default_first_message_is_libpq_shape)
{
	struct scram_client cl;
	char out[SCRAM_MAX_MESSAGE_LEN + 1];

	scram_client_init(&cl);
	ck_assert(scram_client_first_with_nonce(&cl, "a,b=c", "xyz", out, sizeof(out)));
	ck_assert_str_eq(out, "n,,n=a=2Cb=3Dc,r=xyz");
	ck_assert(!scram_client_first_with_nonce(&cl, "a", "xyz", out, sizeof(out)));
	scram_client_clear(&cl);

	scram_client_init(&cl);
	ck_assert(scram_client_first(&cl, out, sizeof(out)));
	ck_assert_uint_eq(strlen(out), strlen("n,,n=,r=") + 32);
	ck_assert_mem_eq(out, "n,,n=,r=", 8);
	scram_client_clear(&cl);

	scram_client_init(&cl);
	ck_assert(!scram_client_first(&cl, out, 20));
	scram_client_clear(&cl);
	scram_client_init(&cl);
	ck_assert(!scram_client_first_with_nonce(&cl, NULL, "a,b", out, sizeof(out)));
	scram_client_init(&cl);
	ck_assert(!scram_client_first_with_nonce(&cl, NULL, "", out, sizeof(out)));
	scram_client_init(&cl);
	ck_assert(!scram_client_first_with_nonce(&cl, NULL, "a b", out, sizeof(out)));
}
END_TEST

/* ---- round trips -------------------------------------------------------- */

static void random_password(char *pw, size_t size)
{
	uint8_t raw[64];

	ck_assert(size <= sizeof(raw) + 1);
	ck_assert_int_eq(RAND_bytes(raw, (int)(size - 1)), 1);
	for (size_t i = 0; i + 1 < size; i++)
		pw[i] = (char)(0x21 + raw[i] % 94); /* printable ASCII */
	pw[size - 1] = '\0';
}

/* Runs a whole exchange with random nonces; returns the server's verdict. */
static enum scram_result exchange(const struct scram_secret *secret, const char *password,
                                  const uint8_t *client_key, struct scram_server *sv)
{
	struct scram_client cl;
	char c1[SCRAM_MAX_MESSAGE_LEN + 1], s1[SCRAM_MAX_MESSAGE_LEN + 1];
	char c2[SCRAM_MAX_MESSAGE_LEN + 1], s2[SCRAM_MAX_MESSAGE_LEN + 1], err[128];
	enum scram_result r;

	scram_server_init(sv, secret);
	scram_client_init(&cl);
	ck_assert(scram_client_first(&cl, c1, sizeof(c1)));
	ck_assert_msg(scram_server_first(sv, c1, strlen(c1), s1, sizeof(s1), err, sizeof(err)),
	              "%s", err);
	if (password != NULL)
		ck_assert(scram_client_final(&cl, password, s1, strlen(s1), c2, sizeof(c2), err,
		                             sizeof(err)));
	else
		ck_assert(scram_client_final_with_keys(&cl, client_key, secret->server_key, s1,
		                                       strlen(s1), c2, sizeof(c2), err,
		                                       sizeof(err)));
	r = scram_server_final(sv, c2, strlen(c2), s2, sizeof(s2), err, sizeof(err));
	if (r == SCRAM_OK)
		ck_assert(scram_client_verify_server(&cl, s2, strlen(s2)));
	else
		ck_assert_str_eq(s2, "");
	scram_client_clear(&cl);
	return r;
}

START_TEST(round_trip_with_random_password_and_pass_through_keys)
{
	struct scram_secret secret;
	struct scram_server sv, sv2;
	uint8_t salt[16], ck[SCRAM_KEY_LEN];
	char pw[33];

	random_password(pw, sizeof(pw));
	ck_assert_int_eq(RAND_bytes(salt, sizeof(salt)), 1);
	ck_assert(scram_secret_from_password(pw, salt, sizeof(salt), 4096, &secret));
	ck_assert_int_eq(exchange(&secret, pw, NULL, &sv), SCRAM_OK);
	ck_assert(sv.client_key_valid);
	memcpy(ck, sv.client_key, sizeof(ck));
	scram_server_clear(&sv);

	/* Pass-through: the recovered ClientKey logs in to a server with the same secret. */
	ck_assert_int_eq(exchange(&secret, NULL, ck, &sv2), SCRAM_OK);
	ck_assert_mem_eq(sv2.client_key, ck, SCRAM_KEY_LEN);
	scram_server_clear(&sv2);

	/* Low and odd iteration counts work too. */
	ck_assert(scram_secret_from_password(pw, salt, 1, 1, &secret));
	ck_assert_int_eq(exchange(&secret, pw, NULL, &sv), SCRAM_OK);
	scram_server_clear(&sv);
}
END_TEST

START_TEST(wrong_password_gives_bad_proof)
{
	struct scram_secret secret;
	struct scram_server sv;
	uint8_t salt[16] = {0};
	char out[64], err[128];

	ck_assert(scram_secret_from_password("right", salt, sizeof(salt), 4096, &secret));
	ck_assert_int_eq(exchange(&secret, "wrong", NULL, &sv), SCRAM_BAD_PROOF);
	ck_assert(!sv.client_key_valid);
	ck_assert_int_eq(sv.state, SCRAM_SERVER_FAILED);
	ck_assert_int_eq(scram_server_final(&sv, "c=biws", 6, out, sizeof(out), err, sizeof(err)),
	                 SCRAM_MALFORMED);
	scram_server_clear(&sv);
	ck_assert_int_eq(exchange(&secret, "", NULL, &sv), SCRAM_BAD_PROOF);
	scram_server_clear(&sv);
	ck_assert_int_eq(exchange(&secret, "right ", NULL, &sv), SCRAM_BAD_PROOF);
	scram_server_clear(&sv);
	ck_assert_int_eq(exchange(&secret, "right", NULL, &sv), SCRAM_OK);
	scram_server_clear(&sv);
}
END_TEST

START_TEST(mock_server_has_stable_salt_and_always_fails)
{
	static const uint8_t key[] = "per-process mock key";
	struct scram_server a, b, c;
	char out_a[SCRAM_MAX_MESSAGE_LEN + 1], out_b[SCRAM_MAX_MESSAGE_LEN + 1], err[128];
	char out_c[SCRAM_MAX_MESSAGE_LEN + 1];

	scram_server_init_mock(&a, "ghost", key, sizeof(key));
	scram_server_init_mock(&b, "ghost", key, sizeof(key));
	scram_server_init_mock(&c, "spirit", key, sizeof(key));
	ck_assert(scram_server_first_with_nonce(&a, "n,,n=,r=abc", 11, "X", out_a, sizeof(out_a),
	                                        err, sizeof(err)));
	ck_assert(scram_server_first_with_nonce(&b, "n,,n=,r=abc", 11, "X", out_b, sizeof(out_b),
	                                        err, sizeof(err)));
	ck_assert(scram_server_first_with_nonce(&c, "n,,n=,r=abc", 11, "X", out_c, sizeof(out_c),
	                                        err, sizeof(err)));
	ck_assert_str_eq(out_a, out_b);
	ck_assert_str_ne(out_a, out_c);
	ck_assert_int_eq(a.secret.iterations, SCRAM_DEFAULT_ITERATIONS);
	ck_assert_int_eq(scram_server_final(&a, "c=biws,r=abcX,p=" RFC_PROOF,
	                                    strlen("c=biws,r=abcX,p=" RFC_PROOF), out_a,
	                                    sizeof(out_a), err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	ck_assert(!a.client_key_valid);
	scram_server_clear(&a);
	scram_server_clear(&b);
	scram_server_clear(&c);

	/* No secret at all: a mock with a random salt. */
	ck_assert_int_eq(exchange(NULL, "anything", NULL, &a), SCRAM_BAD_PROOF);
	scram_server_clear(&a);
}
END_TEST

/* ---- hostile input, server role ----------------------------------------- */

START_TEST(server_refuses_malformed_client_first)
{
	static const struct msg bad[] = {
	    MSG(""),
	    MSG("n"),
	    MSG("n,"),
	    MSG("n,,"),
	    MSG("nn,,n=,r=abc"),
	    MSG("x,,n=,r=abc"),
	    MSG("p=tls-server-end-point,,n=,r=abc"),
	    MSG("p,,n=,r=abc"),
	    MSG("n,a=admin,n=,r=abc"),
	    MSG("n,,m=ext,n=,r=abc"),
	    MSG("n,,r=abc,n=user"),
	    MSG("n,,n=user"),
	    MSG("n,,r=abc"),
	    MSG("n,,n=user,"),
	    MSG("n,,n=user,r="),
	    MSG("n,,n=user,r=ab,c"),
	    MSG("n,,n=user,r=ab cd"),
	    MSG("n,,n=user,r=abc,"),
	    MSG("n,,n=user,r=abc,x="),
	    MSG("n,,n=user,r=abc,=x"),
	    MSG("n,,n=user,r=abc,,x=y"),
	    MSG("n,,n=user,r=abc\x80"),
	    MSG("n,,n=user,r=abc\x7f"),
	    MSG("n,,n=us\0er,r=abc"),
	    MSG("n,,n=user,r=abc\0"),
	    MSG("\0,,n=user,r=abc"),
	    MSG("n,,N=user,r=abc"),
	    MSG("n,,n=user,R=abc"),
	    MSG(" n,,n=user,r=abc"),
	};
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		scram_server_init(&sv, &s);
		err[0] = '\0';
		ck_assert_msg(!scram_server_first(&sv, bad[i].data, msg_len(&bad[i]), out,
		                                  sizeof(out), err, sizeof(err)),
		              "accepted bad client-first #%zu", i);
		ck_assert_msg(err[0] != '\0', "no reason for bad client-first #%zu", i);
		ck_assert_str_eq(out, "");
		ck_assert_int_eq(scram_server_final(&sv, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL),
		                                    out, sizeof(out), err, sizeof(err)),
		                 SCRAM_MALFORMED);
		scram_server_clear(&sv);
	}

	/* And the good neighbours of those shapes are accepted. */
	static const char *const good[] = {"y,,n=,r=abc", "n,,n=,r=abc,x=ext,Y=a=b",
	                                   "n,,n=a=2Cb,r=!", "n,,n=,r=" RFC_NONCE};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		scram_server_init(&sv, &s);
		ck_assert_msg(scram_server_first(&sv, good[i], strlen(good[i]), out, sizeof(out),
		                                 err, sizeof(err)),
		              "refused good client-first #%zu: %s", i, err);
		scram_server_clear(&sv);
	}
}
END_TEST

START_TEST(server_bounds_nonce_and_message_lengths)
{
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];
	size_t huge_len = 1 << 16;
	char *huge = malloc(huge_len);
	int n;

	ck_assert_ptr_nonnull(huge);
	/* A nonce of exactly SCRAM_MAX_NONCE_LEN is fine, one more is not. */
	memset(huge, 'a', huge_len);
	memcpy(huge, "n,,n=,r=", 8);
	scram_server_init(&sv, &s);
	ck_assert(scram_server_first(&sv, huge, 8 + SCRAM_MAX_NONCE_LEN, out, sizeof(out), err,
	                             sizeof(err)));
	scram_server_clear(&sv);
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_first(&sv, huge, 8 + SCRAM_MAX_NONCE_LEN + 1, out, sizeof(out), err,
	                              sizeof(err)));
	scram_server_clear(&sv);

	/* A long user name fits up to the message limit. */
	memcpy(huge, "n,,n=aaa", 8);
	memcpy(huge + SCRAM_MAX_MESSAGE_LEN - 6, ",r=abc", 6);
	scram_server_init(&sv, &s);
	ck_assert(scram_server_first(&sv, huge, SCRAM_MAX_MESSAGE_LEN, out, sizeof(out), err,
	                             sizeof(err)));
	ck_assert_uint_eq(sv.client_first_bare_len, SCRAM_MAX_MESSAGE_LEN - 3);
	scram_server_clear(&sv);
	memmove(huge + SCRAM_MAX_MESSAGE_LEN - 5, huge + SCRAM_MAX_MESSAGE_LEN - 6, 6);
	huge[SCRAM_MAX_MESSAGE_LEN - 6] = 'a';
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_first(&sv, huge, SCRAM_MAX_MESSAGE_LEN + 1, out, sizeof(out), err,
	                              sizeof(err)));
	scram_server_clear(&sv);
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_first(&sv, huge, huge_len, out, sizeof(out), err, sizeof(err)));
	scram_server_clear(&sv);

	/* No room for the answer is a clean failure. */
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_first(&sv, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST), out, 10, err,
	                              sizeof(err)));
	scram_server_clear(&sv);

	/* An oversized final message, after a good first. */
	rfc_server_at_final(&sv, &s);
	n = snprintf(huge, huge_len, "c=biws,r=%s,x=", RFC_NONCE);
	memset(huge + n, 'a', huge_len - (size_t)n);
	memcpy(huge + huge_len - 47, ",p=" RFC_PROOF, 47);
	ck_assert_int_eq(
	    scram_server_final(&sv, huge, huge_len, out, sizeof(out), err, sizeof(err)),
	    SCRAM_MALFORMED);
	scram_server_clear(&sv);

	/* The server nonce hook is bounded too. */
	memset(huge, 'b', SCRAM_MAX_NONCE_LEN + 1);
	huge[SCRAM_MAX_NONCE_LEN + 1] = '\0';
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_first_with_nonce(&sv, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST),
	                                         huge, out, sizeof(out), err, sizeof(err)));
	scram_server_clear(&sv);
	free(huge);
}
END_TEST

START_TEST(server_refuses_malformed_client_final)
{
	static const struct msg bad[] = {
	    MSG(""),
	    MSG("c=biws"),
	    MSG("c=biws,r=" RFC_NONCE),
	    MSG("c=biws,r=" RFC_NONCE ","),
	    MSG("c=biws,r=" RFC_NONCE ",p="),
	    MSG("r=" RFC_NONCE ",c=biws,p=" RFC_PROOF),
	    MSG("c=biws,p=" RFC_PROOF ",r=" RFC_NONCE),
	    MSG("c=eSws,r=" RFC_NONCE ",p=" RFC_PROOF),
	    MSG("c=biws=,r=" RFC_NONCE ",p=" RFC_PROOF),
	    MSG("c=,r=" RFC_NONCE ",p=" RFC_PROOF),
	    MSG("c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r=" RFC_NONCE ",p=" RFC_PROOF),
	    MSG("c=biws,r=" RFC_NONCE "x,p=" RFC_PROOF),
	    MSG("c=biws,r=" RFC_CNONCE ",p=" RFC_PROOF),
	    MSG("c=biws,r=,p=" RFC_PROOF),
	    MSG("c=biws,r=" RFC_NONCE ",p=" RFC_PROOF ",x=y"),
	    MSG("c=biws,r=" RFC_NONCE ",p=" RFC_PROOF ","),
	    MSG("c=biws,r=" RFC_NONCE ",p=" RFC_PROOF "AAAA"),
	    MSG("c=biws,r=" RFC_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndV=="),
	    MSG("c=biws,r=" RFC_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR="),
	    MSG("c=biws,r=" RFC_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ"),
	    MSG("c=biws,r=" RFC_NONCE ",p=dHzbZapWIk4jUhN-Ute9ytag9zjfMHgsqmmiz7AndVQ="),
	    MSG("c=biws,r=" RFC_NONCE ",,p=" RFC_PROOF),
	    MSG("c=biws,r=" RFC_NONCE ",1=x,p=" RFC_PROOF),
	    MSG("c=biws,r=" RFC_NONCE ",x=,p=" RFC_PROOF),
	    MSG("c=biws,r=" RFC_NONCE ",p=" RFC_PROOF "\0"),
	    MSG("c=biws\0,r=" RFC_NONCE ",p=" RFC_PROOF),
	    MSG("C=biws,r=" RFC_NONCE ",p=" RFC_PROOF),
	};
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rfc_server_at_final(&sv, &s);
		err[0] = '\0';
		ck_assert_msg(scram_server_final(&sv, bad[i].data, msg_len(&bad[i]), out,
		                                 sizeof(out), err, sizeof(err)) == SCRAM_MALFORMED,
		              "bad client-final #%zu not malformed", i);
		ck_assert_msg(err[0] != '\0', "no reason for bad client-final #%zu", i);
		ck_assert_str_eq(out, "");
		ck_assert(!sv.client_key_valid);
		scram_server_clear(&sv);
	}

	/* A well-formed extension changes the AuthMessage: a wrong proof, not malformed. */
	rfc_server_at_final(&sv, &s);
	ck_assert_int_eq(scram_server_final(&sv, "c=biws,r=" RFC_NONCE ",x=ext,p=" RFC_PROOF,
	                                    strlen("c=biws,r=" RFC_NONCE ",x=ext,p=" RFC_PROOF),
	                                    out, sizeof(out), err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	scram_server_clear(&sv);

	/* The final message before the first one. */
	scram_server_init(&sv, &s);
	ck_assert_int_eq(scram_server_final(&sv, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out,
	                                    sizeof(out), err, sizeof(err)),
	                 SCRAM_MALFORMED);
	scram_server_clear(&sv);

	/* No room for the server-final-message. */
	rfc_server_at_final(&sv, &s);
	ck_assert_int_eq(scram_server_final(&sv, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out,
	                                    46, err, sizeof(err)),
	                 SCRAM_MALFORMED);
	ck_assert(!sv.client_key_valid);
	scram_server_clear(&sv);
}
END_TEST

START_TEST(channel_binding_echo_must_match_gs2_flag)
{
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	/* 'y' in the first message: the final must echo "eSws", so the RFC
	 * message with "biws" is refused before the proof is looked at. */
	scram_server_init(&sv, &s);
	ck_assert(scram_server_first_with_nonce(&sv, "y,,n=user,r=" RFC_CNONCE,
	                                        strlen("y,,n=user,r=" RFC_CNONCE), RFC_SNONCE, out,
	                                        sizeof(out), err, sizeof(err)));
	ck_assert_int_eq(scram_server_final(&sv, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out,
	                                    sizeof(out), err, sizeof(err)),
	                 SCRAM_MALFORMED);
	scram_server_clear(&sv);

	scram_server_init(&sv, &s);
	ck_assert(scram_server_first_with_nonce(&sv, "y,,n=user,r=" RFC_CNONCE,
	                                        strlen("y,,n=user,r=" RFC_CNONCE), RFC_SNONCE, out,
	                                        sizeof(out), err, sizeof(err)));
	ck_assert_int_eq(scram_server_final(&sv, "c=eSws,r=" RFC_NONCE ",p=" RFC_PROOF,
	                                    strlen("c=eSws,r=" RFC_NONCE ",p=" RFC_PROOF), out,
	                                    sizeof(out), err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	scram_server_clear(&sv);
}
END_TEST

/* ---- channel binding (SCRAM-SHA-256-PLUS, tls-server-end-point) --------- */

/* A whole exchange with channel binding set up on either side: the server
 * advertised -PLUS with srv (NULL: not advertised) and the client chose it
 * (selected); the client binds to cli (NULL: "n,,").  Returns the server's
 * verdict; first_ok = false expects the client-first-message to be refused. */
static enum scram_result cb_exchange(const struct scram_secret *secret, const uint8_t *client_key,
                                     const uint8_t *srv, size_t srv_len, bool selected,
                                     const uint8_t *cli, size_t cli_len, struct scram_server *sv,
                                     char *err, size_t err_len)
{
	struct scram_client cl;
	char c1[SCRAM_MAX_MESSAGE_LEN + 1], s1[SCRAM_MAX_MESSAGE_LEN + 1];
	char c2[SCRAM_MAX_MESSAGE_LEN + 1], s2[SCRAM_MAX_MESSAGE_LEN + 1];
	enum scram_result r;

	scram_server_init(sv, secret);
	ck_assert(scram_server_set_cbind(sv, srv, srv_len, selected));
	scram_client_init(&cl);
	if (cli != NULL)
		ck_assert(scram_client_set_cbind(&cl, cli, cli_len));
	ck_assert(scram_client_first(&cl, c1, sizeof(c1)));
	ck_assert_msg(scram_server_first(sv, c1, strlen(c1), s1, sizeof(s1), err, err_len), "%s",
	              err);
	ck_assert(scram_client_final_with_keys(&cl, client_key, secret->server_key, s1, strlen(s1),
	                                       c2, sizeof(c2), err, err_len));
	r = scram_server_final(sv, c2, strlen(c2), s2, sizeof(s2), err, err_len);
	if (r == SCRAM_OK)
		ck_assert(scram_client_verify_server(&cl, s2, strlen(s2)));
	scram_client_clear(&cl);
	return r;
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + 7 * i);
}

START_TEST(cbind_client_messages_carry_header_and_hash)
{
	struct scram_client cl;
	struct scram_secret s = rfc_secret();
	uint8_t hash[32], ck[SCRAM_KEY_LEN];
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128], want[300], b64[100];
	uint8_t raw[24 + 32];

	fill(hash, sizeof(hash), 1);
	decode32(RFC_CLIENT_KEY, ck);
	scram_client_init(&cl);
	ck_assert(scram_client_set_cbind(&cl, hash, sizeof(hash)));
	ck_assert(scram_client_first_with_nonce(&cl, "user", RFC_CNONCE, out, sizeof(out)));
	ck_assert_str_eq(out, "p=tls-server-end-point,,n=user,r=" RFC_CNONCE);
	ck_assert(scram_client_final_with_keys(&cl, ck, s.server_key, RFC_SERVER_FIRST,
	                                       strlen(RFC_SERVER_FIRST), out, sizeof(out), err,
	                                       sizeof(err)));
	/* c= is base64("p=tls-server-end-point,," + hash), by OpenSSL's encoder. */
	ck_assert_uint_eq(strlen("p=tls-server-end-point,,"), 24);
	memcpy(raw, "p=tls-server-end-point,,", 24);
	memcpy(raw + 24, hash, sizeof(hash));
	ck_assert(EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw)) > 0);
	snprintf(want, sizeof(want), "c=%s,r=%s,p=", b64, RFC_NONCE);
	ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s", out);
	scram_client_clear(&cl);

	/* Lengths: 1..64 bytes only, and only before the first message. */
	scram_client_init(&cl);
	ck_assert(!scram_client_set_cbind(&cl, hash, 0));
	scram_client_init(&cl);
	ck_assert(!scram_client_set_cbind(&cl, NULL, 32));
	scram_client_init(&cl);
	{
		uint8_t big[SCRAM_CBIND_MAX_DATA + 1] = {0};

		ck_assert(!scram_client_set_cbind(&cl, big, sizeof(big)));
	}
	scram_client_init(&cl);
	ck_assert(scram_client_first_with_nonce(&cl, "user", RFC_CNONCE, out, sizeof(out)));
	ck_assert(!scram_client_set_cbind(&cl, hash, sizeof(hash)));
}
END_TEST

START_TEST(cbind_good_hash_logs_in_and_passes_through)
{
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	uint8_t ck[SCRAM_KEY_LEN], h256[32], h384[48], h512[64];
	char err[256];

	decode32(RFC_CLIENT_KEY, ck);
	fill(h256, sizeof(h256), 3);
	fill(h384, sizeof(h384), 5);
	fill(h512, sizeof(h512), 9);
	ck_assert_int_eq(cb_exchange(&s, ck, h256, sizeof(h256), true, h256, sizeof(h256), &sv, err,
	                             sizeof(err)),
	                 SCRAM_OK);
	ck_assert_int_eq(sv.cbind_flag, 'p');
	/* The ClientKey recovered from a -PLUS proof is the real one (pass-through). */
	ck_assert(sv.client_key_valid);
	ck_assert_mem_eq(sv.client_key, ck, SCRAM_KEY_LEN);
	scram_server_clear(&sv);
	ck_assert_int_eq(cb_exchange(&s, ck, h384, sizeof(h384), true, h384, sizeof(h384), &sv, err,
	                             sizeof(err)),
	                 SCRAM_OK);
	scram_server_clear(&sv);
	ck_assert_int_eq(cb_exchange(&s, ck, h512, sizeof(h512), true, h512, sizeof(h512), &sv, err,
	                             sizeof(err)),
	                 SCRAM_OK);
	scram_server_clear(&sv);

	/* -PLUS advertised, plain SCRAM chosen with "n,,": fine. */
	ck_assert_int_eq(
	    cb_exchange(&s, ck, h256, sizeof(h256), false, NULL, 0, &sv, err, sizeof(err)),
	    SCRAM_OK);
	ck_assert_int_eq(sv.cbind_flag, 'n');
	scram_server_clear(&sv);
	/* Not advertised (plain TCP): "n,," as before. */
	ck_assert_int_eq(cb_exchange(&s, ck, NULL, 0, false, NULL, 0, &sv, err, sizeof(err)),
	                 SCRAM_OK);
	scram_server_clear(&sv);
}
END_TEST

START_TEST(cbind_wrong_hash_fails_like_a_wrong_password)
{
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	uint8_t ck[SCRAM_KEY_LEN], h[48], other[48];
	char err[256];

	decode32(RFC_CLIENT_KEY, ck);
	fill(h, sizeof(h), 3);
	/* One bit off, in the first and in the last byte. */
	memcpy(other, h, sizeof(h));
	other[0] ^= 1;
	ck_assert_int_eq(cb_exchange(&s, ck, h, 32, true, other, 32, &sv, err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	ck_assert(sv.cbind_mismatch);
	ck_assert(!sv.client_key_valid);
	ck_assert_msg(strstr(err, "channel binding check failed") != NULL, "%s", err);
	scram_server_clear(&sv);
	memcpy(other, h, sizeof(h));
	other[31] ^= 0x80;
	ck_assert_int_eq(cb_exchange(&s, ck, h, 32, true, other, 32, &sv, err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	ck_assert(sv.cbind_mismatch);
	scram_server_clear(&sv);
	/* A prefix (SHA-256 of a SHA-384 server) or a longer hash is no match. */
	ck_assert_int_eq(cb_exchange(&s, ck, h, 48, true, h, 32, &sv, err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	ck_assert(sv.cbind_mismatch);
	scram_server_clear(&sv);
	ck_assert_int_eq(cb_exchange(&s, ck, h, 32, true, h, 48, &sv, err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	ck_assert(sv.cbind_mismatch);
	scram_server_clear(&sv);
	/* A wrong password with the right hash is a plain bad proof. */
	ck[0] ^= 1;
	ck_assert_int_eq(cb_exchange(&s, ck, h, 32, true, h, 32, &sv, err, sizeof(err)),
	                 SCRAM_BAD_PROOF);
	ck_assert(!sv.cbind_mismatch);
	scram_server_clear(&sv);
}
END_TEST

/* Runs a client-first-message against a server set up with srv/selected;
 * returns whether it was accepted, err holds the reason if not. */
static bool cb_first(const char *msg, const uint8_t *srv, size_t srv_len, bool selected, char *err,
                     size_t err_len)
{
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	char out[SCRAM_MAX_MESSAGE_LEN + 1];
	bool ok;

	err[0] = '\0';
	scram_server_init(&sv, &s);
	ck_assert(scram_server_set_cbind(&sv, srv, srv_len, selected));
	ok = scram_server_first_with_nonce(&sv, msg, strlen(msg), RFC_SNONCE, out, sizeof(out), err,
	                                   err_len);
	ck_assert(ok || out[0] == '\0');
	scram_server_clear(&sv);
	return ok;
}

START_TEST(cbind_gs2_header_rules)
{
	static const char p_msg[] = "p=tls-server-end-point,,n=,r=" RFC_CNONCE;
	uint8_t h[32];
	char err[256];
	struct scram_server sv;
	struct scram_secret s = rfc_secret();

	fill(h, sizeof(h), 11);
	/* -PLUS chosen, "p=tls-server-end-point": accepted. */
	ck_assert(cb_first(p_msg, h, sizeof(h), true, err, sizeof(err)));
	/* "y,," while the server advertised -PLUS: a downgrade, refused. */
	ck_assert(!cb_first("y,,n=,r=" RFC_CNONCE, h, sizeof(h), false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "negotiation error") != NULL, "%s", err);
	/* "y,," when -PLUS was not advertised (plain TCP): fine. */
	ck_assert(cb_first("y,,n=,r=" RFC_CNONCE, NULL, 0, false, err, sizeof(err)));
	/* "n,," with plain SCRAM over TLS: fine. */
	ck_assert(cb_first("n,,n=,r=" RFC_CNONCE, h, sizeof(h), false, err, sizeof(err)));
	/* -PLUS chosen but "n" or "y" in the header. */
	ck_assert(!cb_first("n,,n=,r=" RFC_CNONCE, h, sizeof(h), true, err, sizeof(err)));
	ck_assert_msg(strstr(err, "does not include channel binding") != NULL, "%s", err);
	ck_assert(!cb_first("y,,n=,r=" RFC_CNONCE, h, sizeof(h), true, err, sizeof(err)));
	/* "p=" with plain SCRAM chosen, over TLS or not. */
	ck_assert(!cb_first(p_msg, h, sizeof(h), false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "without channel binding") != NULL, "%s", err);
	ck_assert(!cb_first(p_msg, NULL, 0, false, err, sizeof(err)));
	/* Other binding types, an empty one, an authzid. */
	ck_assert(
	    !cb_first("p=tls-unique,,n=,r=" RFC_CNONCE, h, sizeof(h), true, err, sizeof(err)));
	ck_assert_msg(strstr(err, "unsupported") != NULL, "%s", err);
	ck_assert(!cb_first("p=,,n=,r=" RFC_CNONCE, h, sizeof(h), true, err, sizeof(err)));
	ck_assert(!cb_first("p=tls-server-end-point2,,n=,r=" RFC_CNONCE, h, sizeof(h), true, err,
	                    sizeof(err)));
	ck_assert(!cb_first("p=tls-server-end-point,a=x,n=,r=" RFC_CNONCE, h, sizeof(h), true, err,
	                    sizeof(err)));
	ck_assert(!cb_first("p=tls-server-end-point", h, sizeof(h), true, err, sizeof(err)));

	/* -PLUS chosen over a connection without TLS: refused up front. */
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_set_cbind(&sv, NULL, 0, true));
	ck_assert_int_eq(sv.state, SCRAM_SERVER_FAILED);
	scram_server_clear(&sv);
	/* Bad lengths. */
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_set_cbind(&sv, h, 0, true));
	scram_server_clear(&sv);
	scram_server_init(&sv, &s);
	ck_assert(!scram_server_set_cbind(&sv, h, SCRAM_CBIND_MAX_DATA + 1, true));
	scram_server_clear(&sv);
}
END_TEST

START_TEST(cbind_client_final_c_attribute_is_checked)
{
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	uint8_t h[32];
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[256];
	static const char *bad_c[] = {
	    "biws",     /* "n,," */
	    "eSws",     /* "y,," */
	    "",         /* empty */
	    "cD10bHMt", /* "p=tls-" only */
	    "!!!!",     /* not base64 */
	};

	fill(h, sizeof(h), 13);
	for (size_t i = 0; i < sizeof(bad_c) / sizeof(bad_c[0]); i++) {
		char msg[300];

		scram_server_init(&sv, &s);
		ck_assert(scram_server_set_cbind(&sv, h, sizeof(h), true));
		ck_assert(scram_server_first_with_nonce(
		    &sv, "p=tls-server-end-point,,n=,r=" RFC_CNONCE,
		    strlen("p=tls-server-end-point,,n=,r=" RFC_CNONCE), RFC_SNONCE, out,
		    sizeof(out), err, sizeof(err)));
		snprintf(msg, sizeof(msg), "c=%s,r=%s,p=%s", bad_c[i], RFC_NONCE, RFC_PROOF);
		ck_assert_int_eq(
		    scram_server_final(&sv, msg, strlen(msg), out, sizeof(out), err, sizeof(err)),
		    SCRAM_MALFORMED);
		ck_assert(!sv.cbind_mismatch);
		ck_assert_str_eq(out, "");
		scram_server_clear(&sv);
	}
}
END_TEST

START_TEST(truncated_or_mutated_client_final_never_succeeds)
{
	static const char good[] = RFC_CLIENT_FINAL;
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	char msg[sizeof(good)], out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];
	const size_t len = sizeof(good) - 1;

	for (size_t n = 0; n < len; n++) {
		rfc_server_at_final(&sv, &s);
		ck_assert_msg(scram_server_final(&sv, good, n, out, sizeof(out), err,
		                                 sizeof(err)) != SCRAM_OK,
		              "prefix of %zu bytes accepted", n);
		scram_server_clear(&sv);
	}
	for (size_t i = 0; i < len; i++) {
		static const unsigned char flips[] = {0x01, 0x20, 0x80};

		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(msg, good, sizeof(good));
			msg[i] = (char)(msg[i] ^ flips[f]);
			rfc_server_at_final(&sv, &s);
			ck_assert_msg(scram_server_final(&sv, msg, len, out, sizeof(out), err,
			                                 sizeof(err)) != SCRAM_OK,
			              "byte %zu ^ %#x accepted", i, flips[f]);
			scram_server_clear(&sv);
		}
	}
	rfc_server_at_final(&sv, &s);
	ck_assert_int_eq(scram_server_final(&sv, good, len, out, sizeof(out), err, sizeof(err)),
	                 SCRAM_OK);
	scram_server_clear(&sv);
}
END_TEST

/* ---- hostile input, client role ----------------------------------------- */

START_TEST(client_refuses_malformed_server_first)
{
	static const struct msg bad[] = {
	    MSG(""),
	    MSG("r=abc,s=c2FsdA==,i=4096"),
	    MSG("r=abd123,s=c2FsdA==,i=4096"),
	    MSG("r=ab,s=c2FsdA==,i=4096"),
	    MSG("r=abcX,s=,i=4096"),
	    MSG("r=abcX,s=c2FsdA=,i=4096"),
	    MSG("r=abcX,s=c2FsdA==,i=0"),
	    MSG("r=abcX,s=c2FsdA==,i=-1"),
	    MSG("r=abcX,s=c2FsdA==,i=+1"),
	    MSG("r=abcX,s=c2FsdA==,i=04096"),
	    MSG("r=abcX,s=c2FsdA==,i=10000001"),
	    MSG("r=abcX,s=c2FsdA==,i=99999999999999999999"),
	    MSG("r=abcX,s=c2FsdA==,i=4096x"),
	    MSG("r=abcX,s=c2FsdA==,i="),
	    MSG("r=abcX,s=c2FsdA=="),
	    MSG("r=abcX,s=c2FsdA==,"),
	    MSG("r=abcX,i=4096,s=c2FsdA=="),
	    MSG("s=c2FsdA==,r=abcX,i=4096"),
	    MSG("m=x,r=abcX,s=c2FsdA==,i=4096"),
	    MSG("r=abcX,s=c2FsdA==,i=4096,"),
	    MSG("r=abcX,s=c2FsdA==,i=4096,x="),
	    MSG("r=abc X,s=c2FsdA==,i=4096"),
	    MSG("r=abcX\0,s=c2FsdA==,i=4096"),
	    MSG("r=abcX,s=c2FsdA==,i=4096\0"),
	    MSG("e=other-error"),
	};
	struct scram_client cl;
	uint8_t key[SCRAM_KEY_LEN] = {0};
	char out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		scram_client_init(&cl);
		ck_assert(scram_client_first_with_nonce(&cl, NULL, "abc", out, sizeof(out)));
		err[0] = '\0';
		ck_assert_msg(!scram_client_final_with_keys(&cl, key, key, bad[i].data,
		                                            msg_len(&bad[i]), out, sizeof(out), err,
		                                            sizeof(err)),
		              "accepted bad server-first #%zu", i);
		ck_assert_msg(err[0] != '\0', "no reason for bad server-first #%zu", i);
		ck_assert_str_eq(out, "");
		ck_assert(!scram_client_verify_server(&cl, "v=", 2));
		scram_client_clear(&cl);
	}

	/* Bounds that are fine: the largest iteration count, an extension. */
	static const char *const good[] = {"r=abcX,s=c2FsdA==,i=10000000", "r=abcX,s=c2FsdA==,i=1",
	                                   "r=abcX,s=c2FsdA==,i=4096,x=y"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		scram_client_init(&cl);
		ck_assert(scram_client_first_with_nonce(&cl, NULL, "abc", out, sizeof(out)));
		ck_assert_msg(scram_client_final_with_keys(&cl, key, key, good[i], strlen(good[i]),
		                                           out, sizeof(out), err, sizeof(err)),
		              "refused good server-first #%zu: %s", i, err);
		scram_client_clear(&cl);
	}
}
END_TEST

START_TEST(client_bounds_salt_nonce_and_message_lengths)
{
	struct scram_client cl;
	uint8_t key[SCRAM_KEY_LEN] = {0}, salt[SCRAM_MAX_SALT_LEN + 1] = {0};
	char salt_b64[256], msg[4096], out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];
	int n;

	/* A salt one byte over the limit. */
	ck_assert_uint_ne(scram_b64_encode(salt, sizeof(salt), salt_b64, sizeof(salt_b64)), 0);
	n = snprintf(msg, sizeof(msg), "r=abcX,s=%s,i=1", salt_b64);
	scram_client_init(&cl);
	ck_assert(scram_client_first_with_nonce(&cl, NULL, "abc", out, sizeof(out)));
	ck_assert(!scram_client_final_with_keys(&cl, key, key, msg, (size_t)n, out, sizeof(out),
	                                        err, sizeof(err)));
	scram_client_clear(&cl);

	/* A combined nonce over 2 * SCRAM_MAX_NONCE_LEN. */
	memcpy(msg, "r=abc", 5);
	memset(msg + 5, 'X', 2 * SCRAM_MAX_NONCE_LEN);
	n = 5 + 2 * SCRAM_MAX_NONCE_LEN;
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, ",s=c2FsdA==,i=1");
	scram_client_init(&cl);
	ck_assert(scram_client_first_with_nonce(&cl, NULL, "abc", out, sizeof(out)));
	ck_assert(!scram_client_final_with_keys(&cl, key, key, msg, (size_t)n, out, sizeof(out),
	                                        err, sizeof(err)));
	scram_client_clear(&cl);

	/* A message over SCRAM_MAX_MESSAGE_LEN made of a long extension. */
	n = snprintf(msg, sizeof(msg), "r=abcX,s=c2FsdA==,i=1,x=");
	memset(msg + n, 'y', sizeof(msg) - (size_t)n);
	scram_client_init(&cl);
	ck_assert(scram_client_first_with_nonce(&cl, NULL, "abc", out, sizeof(out)));
	ck_assert(!scram_client_final_with_keys(&cl, key, key, msg, sizeof(msg), out, sizeof(out),
	                                        err, sizeof(err)));
	scram_client_clear(&cl);

	/* No room for the client-final-message. */
	scram_client_init(&cl);
	ck_assert(scram_client_first_with_nonce(&cl, NULL, "abc", out, sizeof(out)));
	ck_assert(!scram_client_final_with_keys(&cl, key, key, "r=abcX,s=c2FsdA==,i=1", 21, out, 20,
	                                        err, sizeof(err)));
	scram_client_clear(&cl);

	/* Final before first. */
	scram_client_init(&cl);
	ck_assert(!scram_client_final(&cl, "pw", "r=abcX,s=c2FsdA==,i=1", 21, out, sizeof(out), err,
	                              sizeof(err)));
	scram_client_clear(&cl);
}
END_TEST

START_TEST(client_verifies_server_signature_strictly)
{
	static const struct msg bad[] = {
	    MSG(""),
	    MSG("e=invalid-proof"),
	    MSG("e=other-error,v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
	    MSG("v="),
	    MSG("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5="),
	    MSG("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4"),
	    MSG("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=y"),
	    MSG("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=\0"),
	    MSG("V=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
	    MSG("v=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
	};
	struct scram_client cl;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rfc_client_at_verify(&cl);
		ck_assert_msg(!scram_client_verify_server(&cl, bad[i].data, msg_len(&bad[i])),
		              "accepted bad server-final #%zu", i);
		/* One chance only: the right signature after a wrong one is refused. */
		ck_assert(
		    !scram_client_verify_server(&cl, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL)));
		scram_client_clear(&cl);
	}
	for (size_t n = 0; n < strlen(RFC_SERVER_FINAL); n++) {
		rfc_client_at_verify(&cl);
		ck_assert(!scram_client_verify_server(&cl, RFC_SERVER_FINAL, n));
		scram_client_clear(&cl);
	}

	/* Verify before final. */
	scram_client_init(&cl);
	ck_assert(!scram_client_verify_server(&cl, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL)));
	scram_client_clear(&cl);
}
END_TEST

/* Random and near-valid bytes into every parser: no crash, no success. */
START_TEST(random_messages_are_refused_without_crashing)
{
	static const char alphabet[] = "nyprcsiveam=,abcXYZ019+/=\0\x80";
	struct scram_secret s = rfc_secret();
	struct scram_server sv;
	struct scram_client cl;
	uint8_t rnd[600], key[SCRAM_KEY_LEN] = {0};
	char msg[600], out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];

	for (int round = 0; round < 3000; round++) {
		size_t len;

		ck_assert_int_eq(RAND_bytes(rnd, sizeof(rnd)), 1);
		len = rnd[0] % 2 == 0 ? rnd[1] : (size_t)(rnd[1] | (rnd[2] & 1) << 8);
		for (size_t i = 0; i < len; i++)
			msg[i] = round % 2 == 0 ? (char)rnd[i + 3]
			                        : alphabet[rnd[i + 3] % (sizeof(alphabet) - 1)];

		scram_server_init(&sv, &s);
		if (scram_server_first(&sv, msg, len, out, sizeof(out), err, sizeof(err)))
			ck_assert_uint_le(strlen(out), SCRAM_MAX_MESSAGE_LEN);
		scram_server_clear(&sv);

		rfc_server_at_final(&sv, &s);
		ck_assert_int_ne(
		    scram_server_final(&sv, msg, len, out, sizeof(out), err, sizeof(err)),
		    SCRAM_OK);
		scram_server_clear(&sv);

		scram_client_init(&cl);
		ck_assert(scram_client_first_with_nonce(&cl, NULL, "n", out, sizeof(out)));
		(void)!scram_client_final_with_keys(&cl, key, key, msg, len, out, sizeof(out), err,
		                                    sizeof(err));
		scram_client_clear(&cl);

		rfc_client_at_verify(&cl);
		ck_assert(!scram_client_verify_server(&cl, msg, len));
		scram_client_clear(&cl);
	}
}
END_TEST

Suite *scram_suite(void)
{
	Suite *s = suite_create("scram");
	TCase *tc;

	tc = tcase_create("base64_md5_secrets");
	tcase_add_test(tc, b64_encode_matches_rfc4648_vectors_and_needs_room_for_nul);
	tcase_add_test(tc, b64_decode_round_trips_and_rejects_bad_input);
	tcase_add_test(tc, md5_hash_matches_known_values);
	tcase_add_test(tc, md5_response_is_checked_against_plain_and_md5_secrets);
	tcase_add_test(tc, md5_secret_shape_is_exact);
	tcase_add_test(tc, secret_from_password_matches_postgres_format_and_round_trips);
	tcase_add_test(tc, parse_secret_rejects_malformed_secrets);
	suite_add_tcase(s, tc);

	tc = tcase_create("exchange");
	tcase_add_test(tc, rfc7677_example_server_role);
	tcase_add_test(tc, rfc7677_example_client_role);
	tcase_add_test(tc, client_username_is_escaped_and_default_first_message_is_libpq_shape);
	tcase_add_test(tc, round_trip_with_random_password_and_pass_through_keys);
	tcase_add_test(tc, wrong_password_gives_bad_proof);
	tcase_add_test(tc, mock_server_has_stable_salt_and_always_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile_input");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, server_refuses_malformed_client_first);
	tcase_add_test(tc, server_bounds_nonce_and_message_lengths);
	tcase_add_test(tc, server_refuses_malformed_client_final);
	tcase_add_test(tc, channel_binding_echo_must_match_gs2_flag);
	tcase_add_test(tc, cbind_client_messages_carry_header_and_hash);
	tcase_add_test(tc, cbind_good_hash_logs_in_and_passes_through);
	tcase_add_test(tc, cbind_wrong_hash_fails_like_a_wrong_password);
	tcase_add_test(tc, cbind_gs2_header_rules);
	tcase_add_test(tc, cbind_client_final_c_attribute_is_checked);
	tcase_add_test(tc, truncated_or_mutated_client_final_never_succeeds);
	tcase_add_test(tc, client_refuses_malformed_server_first);
	tcase_add_test(tc, client_bounds_salt_nonce_and_message_lengths);
	tcase_add_test(tc, client_verifies_server_signature_strictly);
	tcase_add_test(tc, random_messages_are_refused_without_crashing);
	suite_add_tcase(s, tc);
	return s;
}
