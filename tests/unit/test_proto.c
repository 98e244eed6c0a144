/* Unit tests for the wire-protocol module (src/proto.c): header and body
 * parsers on exact-size buffers (so ASan sees any overread), builders
 * checked byte for byte and parsed back, and a deterministic storm of
 * random input that no parser may crash on. */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "suites.h"

#define MAX_BODY (1u << 20)

/* A heap copy of exactly len bytes: reading one byte past it is an ASan error. */
static uint8_t *exact_copy(const void *bytes, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(p);
	if (len > 0)
		memcpy(p, bytes, len);
	return p;
}

static enum proto_status parse_startup_exact(const void *bytes, size_t len, struct startup_pkt *sp)
{
	uint8_t *body = exact_copy(bytes, len);
	enum proto_status st = proto_parse_startup(body, len, sp);

	free(body); /* sp now points into freed memory: callers only read code and counts */
	return st;
}

static enum proto_status parse_error_exact(const void *bytes, size_t len)
{
	uint8_t *body = exact_copy(bytes, len);
	struct pg_error_fields ef;
	enum proto_status st = proto_parse_error(body, len, &ef);

	free(body);
	return st;
}

/* Compares everything the builder appended with a literal, then empties the buffer. */
static void expect_bytes(struct evbuffer *b, const char *want, size_t want_len)
{
	size_t len = evbuffer_get_length(b);

	ck_assert_uint_eq(len, want_len);
	ck_assert_mem_eq(evbuffer_pullup(b, -1), want, want_len);
	ck_assert_int_eq(evbuffer_drain(b, len), 0);
}
#define EXPECT_BYTES(b, lit) expect_bytes((b), (lit), sizeof(lit) - 1)

/* The bytes the builders produced, split back into messages the way io.c
 * does: a header parse, then a bounded reader over exactly body_len bytes. */
struct wire {
	uint8_t bytes[8192];
	size_t len, pos;
};

static void wire_take(struct wire *w, struct evbuffer *b)
{
	w->len = evbuffer_get_length(b);
	w->pos = 0;
	ck_assert_uint_le(w->len, sizeof(w->bytes));
	ck_assert_int_eq(evbuffer_remove(b, w->bytes, w->len), (int)w->len);
}

static struct pkt_reader wire_next(struct wire *w, uint8_t want_type, uint32_t want_body_len)
{
	struct pg_msg_hdr h;
	struct pkt_reader r;

	ck_assert_int_eq(proto_parse_hdr(w->bytes + w->pos, w->len - w->pos, false, MAX_BODY, &h),
	                 PROTO_OK);
	ck_assert_int_eq(h.type, want_type);
	ck_assert_uint_eq(h.body_len, want_body_len);
	ck_assert_uint_ge(w->len - w->pos, 5 + (size_t)h.body_len);
	pkt_reader_init(&r, w->bytes + w->pos + 5, h.body_len);
	w->pos += 5 + h.body_len;
	return r;
}

/* A reader that has consumed its body exactly, with no read past the end. */
static void expect_fully_read(const struct pkt_reader *r)
{
	ck_assert(!r->failed);
	ck_assert_uint_eq(pkt_remaining(r), 0);
}

/* ---- proto_parse_hdr ---------------------------------------------------- */

START_TEST(typed_header_needs_more_for_every_prefix_shorter_than_five_bytes)
{
	const uint8_t q[] = {'Q', 0, 0, 0, 9, 'x'};
	struct pg_msg_hdr h = {.type = 0xaa, .body_len = 0xdeadbeef};

	for (size_t n = 0; n < 5; n++) {
		ck_assert_int_eq(proto_parse_hdr(q, n, false, MAX_BODY, &h), PROTO_NEED_MORE);
		ck_assert_uint_eq(h.type, 0xaa); /* out is left alone until the header is whole */
		ck_assert_uint_eq(h.body_len, 0xdeadbeef);
	}
	for (size_t n = 5; n <= sizeof(q); n++) {
		ck_assert_int_eq(proto_parse_hdr(q, n, false, MAX_BODY, &h), PROTO_OK);
		ck_assert_uint_eq(h.type, 'Q');
		ck_assert_uint_eq(h.body_len, 5); /* the body need not be there yet */
	}
}
END_TEST

START_TEST(startup_header_needs_more_for_every_prefix_shorter_than_four_bytes)
{
	const uint8_t s[] = {0, 0, 0, 8, 0, 3, 0, 0};
	struct pg_msg_hdr h;

	for (size_t n = 0; n < 4; n++)
		ck_assert_int_eq(proto_parse_hdr(s, n, true, PROTO_STARTUP_MAX_LEN, &h),
		                 PROTO_NEED_MORE);
	ck_assert_int_eq(proto_parse_hdr(s, 4, true, PROTO_STARTUP_MAX_LEN, &h), PROTO_OK);
	ck_assert_uint_eq(h.type, 0);
	ck_assert_uint_eq(h.body_len, 4);
}
END_TEST

START_TEST(typed_header_with_length_below_four_is_bad_length)
{
	struct pg_msg_hdr h;

	for (uint8_t len = 0; len < 4; len++) {
		const uint8_t m[] = {'Q', 0, 0, 0, len};

		ck_assert_int_eq(proto_parse_hdr(m, sizeof(m), false, MAX_BODY, &h),
		                 PROTO_BAD_LENGTH);
	}
}
END_TEST

START_TEST(typed_header_with_length_four_has_an_empty_body)
{
	const uint8_t sync[] = {'S', 0, 0, 0, 4};
	struct pg_msg_hdr h;

	ck_assert_int_eq(proto_parse_hdr(sync, sizeof(sync), false, MAX_BODY, &h), PROTO_OK);
	ck_assert_uint_eq(h.type, 'S');
	ck_assert_uint_eq(h.body_len, 0);
	ck_assert_int_eq(proto_parse_hdr(sync, sizeof(sync), false, 0, &h), PROTO_OK);
}
END_TEST

START_TEST(startup_header_with_length_below_eight_is_bad_length)
{
	struct pg_msg_hdr h;

	for (uint8_t len = 0; len < 8; len++) {
		const uint8_t m[] = {0, 0, 0, len};

		ck_assert_int_eq(proto_parse_hdr(m, sizeof(m), true, PROTO_STARTUP_MAX_LEN, &h),
		                 PROTO_BAD_LENGTH);
	}
}
END_TEST

START_TEST(startup_header_has_no_type_byte_and_reads_the_first_four_bytes_as_length)
{
	/* 'Q' as the first byte is the top byte of a huge length, not a type. */
	const uint8_t m[] = {'Q', 0, 0, 9, 0, 3, 0, 0};
	const uint8_t ok[] = {0, 0, 0x01, 0x00};
	struct pg_msg_hdr h;

	ck_assert_int_eq(proto_parse_hdr(m, sizeof(m), true, PROTO_STARTUP_MAX_LEN, &h),
	                 PROTO_TOO_BIG);
	ck_assert_int_eq(proto_parse_hdr(ok, sizeof(ok), true, PROTO_STARTUP_MAX_LEN, &h),
	                 PROTO_OK);
	ck_assert_uint_eq(h.type, 0);
	ck_assert_uint_eq(h.body_len, 256 - 4);
}
END_TEST

START_TEST(header_with_body_above_max_body_is_too_big)
{
	const uint8_t at_max[] = {'D', 0, 0, 0x01, 0x04};   /* 260: body 256 */
	const uint8_t over_max[] = {'D', 0, 0, 0x01, 0x05}; /* 261: body 257 */
	const uint8_t huge[] = {'D', 0x7f, 0xff, 0xff, 0xff};
	const uint8_t all_ones[] = {'D', 0xff, 0xff, 0xff, 0xff};
	const uint8_t sign_bit[] = {'D', 0x80, 0, 0, 0};
	const uint8_t startup_over[] = {0, 0, 0x27, 0x15}; /* 10005: body 10001 */
	const uint8_t startup_at[] = {0, 0, 0x27, 0x14};   /* 10004: body 10000 */
	struct pg_msg_hdr h;

	ck_assert_int_eq(proto_parse_hdr(at_max, 5, false, 256, &h), PROTO_OK);
	ck_assert_uint_eq(h.body_len, 256);
	ck_assert_int_eq(proto_parse_hdr(over_max, 5, false, 256, &h), PROTO_TOO_BIG);
	ck_assert_int_eq(proto_parse_hdr(huge, 5, false, MAX_BODY, &h), PROTO_TOO_BIG);
	ck_assert_int_eq(proto_parse_hdr(all_ones, 5, false, MAX_BODY, &h), PROTO_TOO_BIG);
	/* A length word above INT32_MAX is too big even for the largest max_body. */
	ck_assert_int_eq(proto_parse_hdr(all_ones, 5, false, UINT32_MAX - 4, &h), PROTO_TOO_BIG);
	ck_assert_int_eq(proto_parse_hdr(sign_bit, 5, false, UINT32_MAX - 4, &h), PROTO_TOO_BIG);
	ck_assert_int_eq(proto_parse_hdr(huge, 5, false, UINT32_MAX - 4, &h), PROTO_OK);
	ck_assert_uint_eq(h.body_len, 0x7fffffffu - 4);
	ck_assert_int_eq(proto_parse_hdr(at_max, 5, false, 0, &h), PROTO_TOO_BIG);
	ck_assert_int_eq(proto_parse_hdr(startup_over, 4, true, PROTO_STARTUP_MAX_LEN, &h),
	                 PROTO_TOO_BIG);
	ck_assert_int_eq(proto_parse_hdr(startup_at, 4, true, PROTO_STARTUP_MAX_LEN, &h), PROTO_OK);
}
END_TEST

/* ---- pkt_reader --------------------------------------------------------- */

START_TEST(reader_takes_big_endian_integers_strings_and_bytes_in_order)
{
	static const uint8_t body[] = {0x7f, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
	                               'h',  'i',  0,    0,    'x',  'y'};
	uint8_t *buf = exact_copy(body, sizeof(body));
	struct pkt_reader r;
	const uint8_t *raw;

	pkt_reader_init(&r, buf, sizeof(body));
	ck_assert_uint_eq(pkt_remaining(&r), 13);
	ck_assert_uint_eq(pkt_get_u8(&r), 0x7f);
	ck_assert_uint_eq(pkt_get_u16(&r), 0x1234);
	ck_assert_uint_eq(pkt_get_u32(&r), 0xdeadbeefu);
	ck_assert_str_eq(pkt_get_str(&r), "hi");
	ck_assert_str_eq(pkt_get_str(&r), "");
	raw = pkt_get_bytes(&r, 2);
	ck_assert_ptr_eq(raw, buf + 11);
	ck_assert_ptr_nonnull(pkt_get_bytes(&r, 0));
	expect_fully_read(&r);
	free(buf);
}
END_TEST

START_TEST(reader_failure_is_sticky_even_when_later_reads_would_fit)
{
	static const uint8_t body[] = {1, 2, 3};
	uint8_t *buf = exact_copy(body, sizeof(body));
	struct pkt_reader r;

	pkt_reader_init(&r, buf, sizeof(body));
	ck_assert_uint_eq(pkt_get_u32(&r), 0);
	ck_assert(r.failed);
	ck_assert_uint_eq(pkt_remaining(&r), 3); /* a failed read does not move */
	ck_assert_uint_eq(pkt_get_u8(&r), 0);
	ck_assert_uint_eq(pkt_get_u16(&r), 0);
	ck_assert_ptr_null(pkt_get_bytes(&r, 1));
	ck_assert_ptr_null(pkt_get_str(&r));
	ck_assert(r.failed);
	free(buf);
}
END_TEST

START_TEST(reader_refuses_an_unterminated_string_and_an_overlong_byte_run)
{
	static const uint8_t body[] = {'a', 'b', 'c'};
	uint8_t *buf = exact_copy(body, sizeof(body));
	struct pkt_reader r;

	pkt_reader_init(&r, buf, sizeof(body));
	ck_assert_ptr_null(pkt_get_str(&r));
	ck_assert(r.failed);

	pkt_reader_init(&r, buf, sizeof(body));
	ck_assert_ptr_null(pkt_get_bytes(&r, 4));
	ck_assert(r.failed);

	pkt_reader_init(&r, buf, sizeof(body));
	ck_assert_ptr_null(pkt_get_bytes(&r, SIZE_MAX));
	ck_assert(r.failed);
	free(buf);
}
END_TEST

START_TEST(reader_on_an_empty_body_fails_every_read_that_needs_a_byte)
{
	uint8_t *buf = exact_copy("", 0);
	struct pkt_reader r;

	pkt_reader_init(&r, buf, 0);
	ck_assert_uint_eq(pkt_remaining(&r), 0);
	ck_assert_ptr_null(pkt_get_str(&r));
	ck_assert(r.failed);
	pkt_reader_init(&r, buf, 0);
	ck_assert_uint_eq(pkt_get_u8(&r), 0);
	ck_assert(r.failed);
	free(buf);
}
END_TEST

/* ---- proto_parse_startup ------------------------------------------------ */

#define V3         "\x00\x03\x00\x00"
#define V2         "\x00\x02\x00\x00"
#define CANCEL     "\x04\xd2\x16\x2e"
#define SSL_REQ    "\x04\xd2\x16\x2f"
#define GSSENC_REQ "\x04\xd2\x16\x30"

START_TEST(startup_v3_with_parameters_points_names_and_values_into_the_body)
{
	static const char body[] = V3 "user\0alice\0database\0app\0options\0\0";
	uint8_t *buf = exact_copy(body, sizeof(body) - 1 + 1); /* + the final terminator */
	struct startup_pkt sp;

	ck_assert_int_eq(proto_parse_startup(buf, sizeof(body), &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, PROTO_V3);
	ck_assert_uint_eq(sp.n_params, 3);
	ck_assert_str_eq(sp.names[0], "user");
	ck_assert_str_eq(sp.values[0], "alice");
	ck_assert_str_eq(sp.names[1], "database");
	ck_assert_str_eq(sp.values[1], "app");
	ck_assert_str_eq(sp.names[2], "options");
	ck_assert_str_eq(sp.values[2], ""); /* an empty value is a value */
	ck_assert_ptr_eq(sp.names[0], (const char *)buf + 4);
	ck_assert_ptr_eq(sp.values[2], (const char *)buf + sizeof(body) - 2);
	ck_assert_uint_eq(sp.cancel_pid, 0);
	ck_assert_uint_eq(sp.cancel_key, 0);
	free(buf);
}
END_TEST

START_TEST(startup_v3_with_only_the_terminator_has_no_parameters)
{
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(V3 "", 5, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, PROTO_V3);
	ck_assert_uint_eq(sp.n_params, 0);
}
END_TEST

START_TEST(startup_v3_without_the_final_terminator_is_malformed)
{
	static const char no_params[] = V3;
	static const char one_param[] = V3 "user\0bob"; /* the literal's NUL ends bob */
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(no_params, 4, &sp), PROTO_MALFORMED);
	ck_assert_int_eq(parse_startup_exact(one_param, sizeof(one_param), &sp), PROTO_MALFORMED);
}
END_TEST

START_TEST(startup_v3_with_an_unterminated_name_or_value_is_malformed)
{
	static const char name[] = V3 "user";
	static const char value[] = V3 "user\0bob";
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(name, sizeof(name) - 1, &sp), PROTO_MALFORMED);
	ck_assert_int_eq(parse_startup_exact(value, sizeof(value) - 1, &sp), PROTO_MALFORMED);
	/* with its NUL, "user" is a name with no value before the end of the packet */
	ck_assert_int_eq(parse_startup_exact(name, sizeof(name), &sp), PROTO_MALFORMED);
}
END_TEST

START_TEST(startup_v3_with_bytes_after_the_terminator_is_malformed)
{
	static const char junk[] = V3 "user\0bob\0\0junk";
	static const char two_terminators[] = V3 "user\0bob\0\0";
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(junk, sizeof(junk) - 1, &sp), PROTO_MALFORMED);
	ck_assert_int_eq(parse_startup_exact(two_terminators, sizeof(two_terminators), &sp),
	                 PROTO_MALFORMED);
}
END_TEST

/* V3 followed by n pairs "pNN\0v\0" and the terminator, in buf. */
static size_t startup_with_n_params(uint8_t *buf, size_t cap, size_t n)
{
	size_t len = 4;

	memcpy(buf, V3, 4);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf((char *)buf + len, cap - len, "p%zu", i);

		ck_assert_int_gt(w, 0);
		len += (size_t)w + 1;
		ck_assert_uint_lt(len + 3, cap);
		buf[len++] = 'v';
		buf[len++] = '\0';
	}
	buf[len++] = '\0';
	return len;
}

START_TEST(startup_accepts_the_maximum_parameter_count_and_refuses_one_more)
{
	uint8_t body[2048];
	struct startup_pkt sp;
	size_t len;
	uint8_t *buf;

	len = startup_with_n_params(body, sizeof(body), PROTO_MAX_STARTUP_PARAMS);
	buf = exact_copy(body, len);
	ck_assert_int_eq(proto_parse_startup(buf, len, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.n_params, PROTO_MAX_STARTUP_PARAMS);
	ck_assert_str_eq(sp.names[PROTO_MAX_STARTUP_PARAMS - 1], "p63");
	ck_assert_str_eq(sp.values[PROTO_MAX_STARTUP_PARAMS - 1], "v");
	free(buf);

	len = startup_with_n_params(body, sizeof(body), PROTO_MAX_STARTUP_PARAMS + 1);
	ck_assert_int_eq(parse_startup_exact(body, len, &sp), PROTO_MALFORMED);
	ck_assert_uint_le(sp.n_params, PROTO_MAX_STARTUP_PARAMS);
	len = startup_with_n_params(body, sizeof(body), 200);
	ck_assert_int_eq(parse_startup_exact(body, len, &sp), PROTO_MALFORMED);
}
END_TEST

START_TEST(cancel_request_is_exactly_sixteen_bytes_and_carries_pid_and_key)
{
	static const char body[] = CANCEL "\x00\x00\x30\x39"
	                                  "\x89\xab\xcd\xef";
	struct startup_pkt sp;

	ck_assert_uint_eq(sizeof(body) - 1, 16 - 4); /* the length word is not in the body */
	ck_assert_int_eq(parse_startup_exact(body, 12, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, PROTO_CANCEL_CODE);
	ck_assert_uint_eq(sp.cancel_pid, 12345);
	ck_assert_uint_eq(sp.cancel_key, 0x89abcdefu);
	ck_assert_uint_eq(sp.n_params, 0);
}
END_TEST

START_TEST(cancel_request_of_any_other_size_is_malformed)
{
	static const char body[] = CANCEL "\x00\x00\x30\x39"
	                                  "\x89\xab\xcd\xef"
	                                  "\x00\x00";
	struct startup_pkt sp;

	for (size_t len = 4; len <= sizeof(body); len++) {
		if (len == 12)
			continue;
		ck_assert_msg(parse_startup_exact(body, len, &sp) == PROTO_MALFORMED,
		              "cancel body of %zu bytes accepted", len);
	}
}
END_TEST

START_TEST(ssl_and_gssenc_requests_with_trailing_bytes_are_malformed)
{
	static const char ssl_junk[] = SSL_REQ "\x16\x03\x01";
	static const char gss_junk[] = GSSENC_REQ "x";
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(SSL_REQ, 4, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, PROTO_SSL_CODE);
	ck_assert_int_eq(parse_startup_exact(GSSENC_REQ, 4, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, PROTO_GSSENC_CODE);
	ck_assert_int_eq(parse_startup_exact(ssl_junk, sizeof(ssl_junk) - 1, &sp), PROTO_MALFORMED);
	ck_assert_int_eq(parse_startup_exact(SSL_REQ "", 5, &sp), PROTO_MALFORMED);
	ck_assert_int_eq(parse_startup_exact(gss_junk, sizeof(gss_junk) - 1, &sp), PROTO_MALFORMED);
}
END_TEST

START_TEST(protocol_2_and_unknown_majors_are_ok_for_the_caller_to_refuse)
{
	static const char v2[] = V2 "database\0user\0garbage with no terminator";
	static const char v4[] = "\x00\x04\x00\x00"
	                         "anything";
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(v2, sizeof(v2) - 1, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, 0x00020000u);
	ck_assert_uint_eq(sp.n_params, 0);
	ck_assert_int_eq(parse_startup_exact(V2, 4, &sp), PROTO_OK);
	ck_assert_int_eq(parse_startup_exact(v4, sizeof(v4) - 1, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code >> 16, 4);
	ck_assert_uint_eq(sp.n_params, 0);
}
END_TEST

START_TEST(protocol_3_minor_versions_are_parsed_like_3_0)
{
	static const char v32[] = "\x00\x03\x00\x02"
	                          "user\0bob\0";
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(v32, sizeof(v32), &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, 0x00030002u);
	ck_assert_uint_eq(sp.n_params, 1);
}
END_TEST

START_TEST(startup_body_shorter_than_a_protocol_code_is_malformed)
{
	struct startup_pkt sp;

	for (size_t len = 0; len < 4; len++)
		ck_assert_int_eq(parse_startup_exact(V3, len, &sp), PROTO_MALFORMED);
}
END_TEST

START_TEST(every_truncation_of_a_valid_startup_body_is_malformed)
{
	static const char v3[] = V3 "user\0alice\0database\0app\0";
	static const char cancel[] = CANCEL "\x00\x00\x30\x39"
	                                    "\x89\xab\xcd\xef";
	struct startup_pkt sp;

	ck_assert_int_eq(parse_startup_exact(v3, sizeof(v3), &sp), PROTO_OK);
	for (size_t len = 0; len < sizeof(v3); len++)
		ck_assert_msg(parse_startup_exact(v3, len, &sp) == PROTO_MALFORMED,
		              "v3 body cut at %zu accepted", len);
	for (size_t len = 0; len < sizeof(cancel) - 1; len++)
		ck_assert_msg(parse_startup_exact(cancel, len, &sp) == PROTO_MALFORMED,
		              "cancel body cut at %zu accepted", len);
}
END_TEST

/* Each hostile startup body and what the parser must say about it. */
struct startup_case {
	const char *what;
	const char *bytes;
	size_t len;
	enum proto_status want;
};
#define STARTUP_CASE(what, lit, want)                                                              \
	{                                                                                          \
		what, lit, sizeof(lit) - 1, want                                                   \
	}

static const struct startup_case startup_cases[] = {
    STARTUP_CASE("empty body", "", PROTO_MALFORMED),
    STARTUP_CASE("three bytes of code", "\x00\x03\x00", PROTO_MALFORMED),
    STARTUP_CASE("v3 code alone", V3, PROTO_MALFORMED),
    STARTUP_CASE("v3 terminator only", V3 "\0", PROTO_OK),
    STARTUP_CASE("v3 one pair", V3 "user\0bob\0\0", PROTO_OK),
    STARTUP_CASE("v3 missing final terminator", V3 "user\0bob\0", PROTO_MALFORMED),
    STARTUP_CASE("v3 unterminated name", V3 "user", PROTO_MALFORMED),
    STARTUP_CASE("v3 unterminated value", V3 "user\0bob", PROTO_MALFORMED),
    STARTUP_CASE("v3 name without value", V3 "user\0", PROTO_MALFORMED),
    STARTUP_CASE("v3 junk after terminator", V3 "\0junk", PROTO_MALFORMED),
    STARTUP_CASE("v3 two terminators", V3 "user\0bob\0\0\0", PROTO_MALFORMED),
    STARTUP_CASE("v3 binary junk", V3 "\xff\xfe\xfd", PROTO_MALFORMED),
    STARTUP_CASE("cancel short", CANCEL "\0\0\0\1\0\0\0", PROTO_MALFORMED),
    STARTUP_CASE("cancel exact", CANCEL "\0\0\0\1\0\0\0\2", PROTO_OK),
    STARTUP_CASE("cancel long", CANCEL "\0\0\0\1\0\0\0\2\0", PROTO_MALFORMED),
    STARTUP_CASE("cancel code alone", CANCEL, PROTO_MALFORMED),
    STARTUP_CASE("ssl request", SSL_REQ, PROTO_OK),
    STARTUP_CASE("ssl request then tls hello", SSL_REQ "\x16\x03\x01\x02\x00", PROTO_MALFORMED),
    STARTUP_CASE("gssenc request", GSSENC_REQ, PROTO_OK),
    STARTUP_CASE("gssenc request then junk", GSSENC_REQ "\0", PROTO_MALFORMED),
    STARTUP_CASE("protocol 2.0 with junk", V2 "\xff\x00", PROTO_OK),
    STARTUP_CASE("protocol 0xffff.0xffff", "\xff\xff\xff\xff", PROTO_OK),
    STARTUP_CASE("http request", "GET / HTTP/1.1\r\n\r\n", PROTO_OK), /* major 0x4745 */
};

START_TEST(every_hostile_startup_body_in_the_table_gets_its_status)
{
	for (size_t i = 0; i < sizeof(startup_cases) / sizeof(startup_cases[0]); i++) {
		const struct startup_case *c = &startup_cases[i];
		struct startup_pkt sp;
		enum proto_status st = parse_startup_exact(c->bytes, c->len, &sp);

		ck_assert_msg(st == c->want, "%s: status %d, want %d", c->what, st, c->want);
	}
}
END_TEST

/* ---- proto_parse_error -------------------------------------------------- */

START_TEST(error_fields_are_found_among_fields_fairway_ignores)
{
	static const char body[] = "SERROR\0VERROR\0C42P01\0Mrelation \"t\" does not exist\0"
	                           "P15\0Fparse_relation.c\0L1392\0";
	uint8_t *buf = exact_copy(body, sizeof(body));
	struct pg_error_fields ef;

	ck_assert_int_eq(proto_parse_error(buf, sizeof(body), &ef), PROTO_OK);
	ck_assert_str_eq(ef.severity, "ERROR");
	ck_assert_str_eq(ef.sqlstate, "42P01");
	ck_assert_str_eq(ef.message, "relation \"t\" does not exist");
	ck_assert_ptr_eq(ef.severity, (const char *)buf + 1);
	free(buf);
}
END_TEST

START_TEST(error_fields_that_are_absent_stay_null)
{
	static const char only_message[] = "Mboom\0";
	struct pg_error_fields ef;
	uint8_t *buf = exact_copy("", 1);

	ck_assert_int_eq(proto_parse_error(buf, 1, &ef), PROTO_OK);
	ck_assert_ptr_null(ef.severity);
	ck_assert_ptr_null(ef.sqlstate);
	ck_assert_ptr_null(ef.message);
	free(buf);

	buf = exact_copy(only_message, sizeof(only_message));
	ck_assert_int_eq(proto_parse_error(buf, sizeof(only_message), &ef), PROTO_OK);
	ck_assert_ptr_null(ef.severity);
	ck_assert_ptr_null(ef.sqlstate);
	ck_assert_str_eq(ef.message, "boom");
	free(buf);
}
END_TEST

START_TEST(error_with_a_repeated_field_keeps_the_last_one)
{
	static const char body[] = "Mfirst\0Msecond\0";
	uint8_t *buf = exact_copy(body, sizeof(body));
	struct pg_error_fields ef;

	ck_assert_int_eq(proto_parse_error(buf, sizeof(body), &ef), PROTO_OK);
	ck_assert_str_eq(ef.message, "second");
	free(buf);
}
END_TEST

START_TEST(every_truncation_of_a_valid_error_body_is_malformed)
{
	static const char body[] = "SFATAL\0C28P01\0Mpassword authentication failed\0";

	ck_assert_int_eq(parse_error_exact(body, sizeof(body)), PROTO_OK);
	for (size_t len = 0; len < sizeof(body); len++)
		ck_assert_msg(parse_error_exact(body, len) == PROTO_MALFORMED,
		              "error body cut at %zu accepted", len);
}
END_TEST

START_TEST(error_with_an_unterminated_field_is_malformed_but_fields_before_it_are_kept)
{
	static const char body[] = "SERROR\0Mno end";
	uint8_t *buf = exact_copy(body, sizeof(body) - 1);
	struct pg_error_fields ef;

	ck_assert_int_eq(proto_parse_error(buf, sizeof(body) - 1, &ef), PROTO_MALFORMED);
	ck_assert_str_eq(ef.severity, "ERROR");
	ck_assert_ptr_null(ef.message);
	free(buf);
}
END_TEST

/* ---- builders, byte for byte and back through the parsers --------------- */

START_TEST(error_and_notice_have_exact_bytes_and_parse_back)
{
	static const char msg[] = "no more connections allowed (max_client_conn)";
	struct evbuffer *b = evbuffer_new();
	struct pg_error_fields ef;
	struct pkt_reader r;
	struct wire w;

	ck_assert(proto_put_error(b, "FATAL", "08P01", "bad"));
	EXPECT_BYTES(b, "E\0\0\0\x1f"
	                "SFATAL\0VFATAL\0C08P01\0Mbad\0\0");
	ck_assert(proto_put_notice(b, "01000", ""));
	EXPECT_BYTES(b, "N\0\0\0\x1e"
	                "SNOTICE\0VNOTICE\0C01000\0M\0\0");

	ck_assert(proto_put_error(b, "ERROR", "53300", msg));
	wire_take(&w, b);
	r = wire_next(&w, 'E', (uint32_t)(7 + 7 + 7 + 1 + strlen(msg) + 1 + 1));
	ck_assert_int_eq(proto_parse_error(r.p, pkt_remaining(&r), &ef), PROTO_OK);
	ck_assert_str_eq(ef.severity, "ERROR");
	ck_assert_str_eq(ef.sqlstate, "53300");
	ck_assert_str_eq(ef.message, msg);
	ck_assert_uint_eq(r.p[pkt_remaining(&r) - 1], 0);
	ck_assert_uint_eq(w.pos, w.len);
	evbuffer_free(b);
}
END_TEST

START_TEST(param_status_backend_key_and_ready_for_query_have_exact_bytes)
{
	struct evbuffer *b = evbuffer_new();

	ck_assert(proto_put_param_status(b, "TimeZone", "UTC"));
	EXPECT_BYTES(b, "S\0\0\0\x11"
	                "TimeZone\0UTC\0");
	ck_assert(proto_put_param_status(b, "application_name", ""));
	EXPECT_BYTES(b, "S\0\0\0\x16"
	                "application_name\0\0");
	ck_assert(proto_put_backend_key(b, 0x01020304u, 0xfffefdfcu));
	EXPECT_BYTES(b, "K\0\0\0\x0c"
	                "\x01\x02\x03\x04\xff\xfe\xfd\xfc");
	ck_assert(proto_put_rfq(b, 'I'));
	ck_assert(proto_put_rfq(b, 'T'));
	ck_assert(proto_put_rfq(b, 'E'));
	EXPECT_BYTES(b, "Z\0\0\0\5I"
	                "Z\0\0\0\5T"
	                "Z\0\0\0\5E");
	evbuffer_free(b);
}
END_TEST

START_TEST(query_command_complete_and_bodiless_messages_have_exact_bytes)
{
	struct evbuffer *b = evbuffer_new();

	ck_assert(proto_put_query(b, "SELECT 1"));
	EXPECT_BYTES(b, "Q\0\0\0\x0d"
	                "SELECT 1\0");
	ck_assert(proto_put_query(b, ""));
	EXPECT_BYTES(b, "Q\0\0\0\5\0");
	ck_assert(proto_put_command_complete(b, "SHOW"));
	EXPECT_BYTES(b, "C\0\0\0\x09"
	                "SHOW\0");
	ck_assert(proto_put_empty_query(b));
	ck_assert(proto_put_terminate(b));
	EXPECT_BYTES(b, "I\0\0\0\4"
	                "X\0\0\0\4");
	ck_assert(proto_put_msg(b, 'H', NULL, 0));
	ck_assert(proto_put_msg(b, 'd', "abc", 3));
	EXPECT_BYTES(b, "H\0\0\0\4"
	                "d\0\0\0\7abc");
	evbuffer_free(b);
}
END_TEST

START_TEST(authentication_and_password_messages_have_exact_bytes)
{
	struct evbuffer *b = evbuffer_new();

	ck_assert(proto_put_auth(b, 0, NULL, 0));
	EXPECT_BYTES(b, "R\0\0\0\x08\0\0\0\0");
	ck_assert(proto_put_auth(b, 5, "salt", 4));
	EXPECT_BYTES(b, "R\0\0\0\x0c\0\0\0\5salt");
	ck_assert(proto_put_password(b, "secret"));
	EXPECT_BYTES(b, "p\0\0\0\x0b"
	                "secret\0");
	ck_assert(proto_put_sasl_initial(b, "SCRAM-SHA-256", "n,,n=,r=abc", 11));
	EXPECT_BYTES(b, "p\0\0\0\x21"
	                "SCRAM-SHA-256\0"
	                "\0\0\0\x0b"
	                "n,,n=,r=abc");
	ck_assert(proto_put_sasl_response(b, "c=biws", 6));
	EXPECT_BYTES(b, "p\0\0\0\x0a"
	                "c=biws");
	evbuffer_free(b);
}
END_TEST

START_TEST(row_description_has_eighteen_bytes_per_column_with_type_lengths)
{
	static const char *const names[] = {"id", "name", "total", "avg"};
	static const uint32_t types[] = {PG_TYPE_INT4, PG_TYPE_TEXT, PG_TYPE_INT8, PG_TYPE_NUMERIC};
	static const int16_t typlens[] = {4, -1, 8, -1};
	struct evbuffer *b = evbuffer_new();
	struct pkt_reader r;
	struct wire w;

	ck_assert(proto_put_row_desc(b, 4, names, types));
	wire_take(&w, b);
	r = wire_next(&w, 'T', 2 + (3 + 18) + (5 + 18) + (6 + 18) + (4 + 18));
	ck_assert_uint_eq(pkt_get_u16(&r), 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(pkt_get_str(&r), names[i]);
		ck_assert_uint_eq(pkt_get_u32(&r), 0);                  /* table oid */
		ck_assert_uint_eq(pkt_get_u16(&r), 0);                  /* column number */
		ck_assert_uint_eq(pkt_get_u32(&r), types[i]);           /* type oid */
		ck_assert_int_eq((int16_t)pkt_get_u16(&r), typlens[i]); /* typlen */
		ck_assert_int_eq((int32_t)pkt_get_u32(&r), -1);         /* typmod */
		ck_assert_uint_eq(pkt_get_u16(&r), 0);                  /* text format */
	}
	expect_fully_read(&r);
	ck_assert_uint_eq(w.pos, w.len);

	ck_assert(proto_put_row_desc(b, 0, NULL, NULL));
	EXPECT_BYTES(b, "T\0\0\0\6\0\0");
	evbuffer_free(b);
}
END_TEST

START_TEST(data_row_sends_null_as_length_minus_one_and_empty_as_zero)
{
	static const char *const values[] = {"42", NULL, "", "h\xc3\xa9llo"};
	struct evbuffer *b = evbuffer_new();
	struct pkt_reader r;
	struct wire w;

	ck_assert(proto_put_data_row(b, 4, values));
	wire_take(&w, b);
	r = wire_next(&w, 'D', 2 + (4 + 2) + 4 + 4 + (4 + 6));
	ck_assert_uint_eq(pkt_get_u16(&r), 4);
	ck_assert_uint_eq(pkt_get_u32(&r), 2);
	ck_assert_mem_eq(pkt_get_bytes(&r, 2), "42", 2);
	ck_assert_uint_eq(pkt_get_u32(&r), 0xffffffffu);
	ck_assert_uint_eq(pkt_get_u32(&r), 0);
	ck_assert_uint_eq(pkt_get_u32(&r), 6);
	ck_assert_mem_eq(pkt_get_bytes(&r, 6), "h\xc3\xa9llo", 6);
	expect_fully_read(&r);

	ck_assert(proto_put_data_row(b, 1, (const char *const[]){NULL}));
	EXPECT_BYTES(b, "D\0\0\0\x0a\0\1\xff\xff\xff\xff");
	evbuffer_free(b);
}
END_TEST

START_TEST(startup_message_round_trips_through_parse_startup)
{
	static const char *const names[] = {"user", "database", "application_name"};
	static const char *const values[] = {"alice", "app", "fairway"};
	struct evbuffer *b = evbuffer_new();
	struct startup_pkt sp;
	struct pg_msg_hdr h;
	struct wire w;

	ck_assert(proto_put_startup(b, names, values, 3));
	wire_take(&w, b);
	ck_assert_uint_eq(w.len, 4 + 4 + 5 + 6 + 9 + 4 + 17 + 8 + 1);
	ck_assert_int_eq(proto_parse_hdr(w.bytes, w.len, true, PROTO_STARTUP_MAX_LEN, &h),
	                 PROTO_OK);
	ck_assert_uint_eq(h.body_len + 4, w.len); /* the length word counts itself */
	ck_assert_uint_eq(w.bytes[w.len - 1], 0);
	ck_assert_int_eq(proto_parse_startup(w.bytes + 4, h.body_len, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, PROTO_V3);
	ck_assert_uint_eq(sp.n_params, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(sp.names[i], names[i]);
		ck_assert_str_eq(sp.values[i], values[i]);
	}

	ck_assert(proto_put_startup(b, NULL, NULL, 0));
	EXPECT_BYTES(b, "\0\0\0\x09\0\3\0\0\0");
	evbuffer_free(b);
}
END_TEST

START_TEST(cancel_request_round_trips_through_parse_startup)
{
	struct evbuffer *b = evbuffer_new();
	struct startup_pkt sp;
	struct pg_msg_hdr h;
	struct wire w;

	ck_assert(proto_put_cancel(b, 4242, 0xcafef00du));
	wire_take(&w, b);
	ck_assert_mem_eq(w.bytes, "\0\0\0\x10\x04\xd2\x16\x2e\0\0\x10\x92\xca\xfe\xf0\x0d", 16);
	ck_assert_uint_eq(w.len, 16);
	ck_assert_int_eq(proto_parse_hdr(w.bytes, w.len, true, PROTO_STARTUP_MAX_LEN, &h),
	                 PROTO_OK);
	ck_assert_uint_eq(h.body_len, 12);
	ck_assert_int_eq(proto_parse_startup(w.bytes + 4, h.body_len, &sp), PROTO_OK);
	ck_assert_uint_eq(sp.code, PROTO_CANCEL_CODE);
	ck_assert_uint_eq(sp.cancel_pid, 4242);
	ck_assert_uint_eq(sp.cancel_key, 0xcafef00du);
	evbuffer_free(b);
}
END_TEST

START_TEST(negotiate_protocol_version_lists_the_ignored_options)
{
	static const char *const unknown[] = {"_pq_.compression", "_pq_.x"};
	struct evbuffer *b = evbuffer_new();
	struct pkt_reader r;
	struct wire w;

	ck_assert(proto_put_negotiate(b, 0, unknown, 2));
	wire_take(&w, b);
	r = wire_next(&w, 'v', 4 + 4 + 17 + 7);
	ck_assert_uint_eq(pkt_get_u32(&r), 0);
	ck_assert_uint_eq(pkt_get_u32(&r), 2);
	ck_assert_str_eq(pkt_get_str(&r), "_pq_.compression");
	ck_assert_str_eq(pkt_get_str(&r), "_pq_.x");
	expect_fully_read(&r);

	ck_assert(proto_put_negotiate(b, 2, NULL, 0));
	EXPECT_BYTES(b, "v\0\0\0\x0c\0\0\0\2\0\0\0\0");
	evbuffer_free(b);
}
END_TEST

START_TEST(a_result_set_in_one_buffer_splits_on_its_length_words)
{
	static const char *const names[] = {"database", "cl_active"};
	static const uint32_t types[] = {PG_TYPE_TEXT, PG_TYPE_INT4};
	static const char *const row[] = {"app", "3"};
	static const uint8_t want_types[] = {'T', 'D', 'D', 'C', 'Z'};
	struct evbuffer *b = evbuffer_new();
	struct pg_msg_hdr h;
	size_t pos = 0, n = 0;
	struct wire w;

	ck_assert(proto_put_row_desc(b, 2, names, types));
	ck_assert(proto_put_data_row(b, 2, row));
	ck_assert(proto_put_data_row(b, 2, row));
	ck_assert(proto_put_command_complete(b, "SHOW"));
	ck_assert(proto_put_rfq(b, 'I'));
	wire_take(&w, b);
	while (pos < w.len) {
		ck_assert_int_eq(proto_parse_hdr(w.bytes + pos, w.len - pos, false, MAX_BODY, &h),
		                 PROTO_OK);
		ck_assert_uint_lt(n, sizeof(want_types));
		ck_assert_uint_eq(h.type, want_types[n]);
		pos += 5 + h.body_len;
		n++;
	}
	ck_assert_uint_eq(pos, w.len);
	ck_assert_uint_eq(n, sizeof(want_types));
	evbuffer_free(b);
}
END_TEST

/* ---- random input: nothing may crash, every OK result stays in bounds ---- */

/* splitmix64: a fixed seed gives the same 10,000 buffers on every run. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* s points into [buf, buf+len) and its NUL is inside the buffer too. */
static void expect_string_inside(const char *s, const uint8_t *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;

	ck_assert(p >= buf && p < buf + len);
	ck_assert_ptr_nonnull(memchr(p, '\0', (size_t)(buf + len - p)));
}

/* Fills buf with one of four shapes so every parser path gets reached. */
static void fill_hostile(uint8_t *buf, size_t len, uint64_t *rnd)
{
	static const uint8_t error_alphabet[] = {0, 0, 'S', 'C', 'M', 'V', 'x', 0xff};
	static const uint8_t startup_alphabet[] = {0, 0, 'a', 'b'};
	static const char *const codes[] = {V3, V2, CANCEL, SSL_REQ, GSSENC_REQ};
	unsigned shape = (unsigned)(next_random(rnd) % 4);
	size_t i = 0;

	if (shape == 3 && len >= 4) {
		memcpy(buf, codes[next_random(rnd) % 5], 4);
		i = 4;
	}
	for (; i < len; i++) {
		uint64_t x = next_random(rnd);

		if (shape == 0)
			buf[i] = (uint8_t)x;
		else if (shape == 1)
			buf[i] = error_alphabet[x % sizeof(error_alphabet)];
		else if (shape == 2 && i < 4)
			buf[i] = (uint8_t)V3[i];
		else
			buf[i] = startup_alphabet[x % sizeof(startup_alphabet)];
	}
}

static void check_hdr_on_hostile(const uint8_t *buf, size_t len, uint32_t max_body)
{
	for (int startup = 0; startup <= 1; startup++) {
		size_t hdr_len = startup ? 4 : 5;
		struct pg_msg_hdr h;
		enum proto_status st = proto_parse_hdr(buf, len, startup, max_body, &h);
		uint32_t word;

		if (len < hdr_len) {
			ck_assert_int_eq(st, PROTO_NEED_MORE);
			continue;
		}
		word = ((uint32_t)buf[hdr_len - 4] << 24) | ((uint32_t)buf[hdr_len - 3] << 16) |
		       ((uint32_t)buf[hdr_len - 2] << 8) | buf[hdr_len - 1];
		if (word < (startup ? 8u : 4u)) {
			ck_assert_int_eq(st, PROTO_BAD_LENGTH);
		} else if (word - 4 > max_body || word > INT32_MAX) {
			ck_assert_int_eq(st, PROTO_TOO_BIG);
		} else {
			ck_assert_int_eq(st, PROTO_OK);
			ck_assert_uint_eq(h.body_len, word - 4);
			ck_assert_uint_eq(h.type, startup ? 0 : buf[0]);
		}
	}
}

START_TEST(ten_thousand_random_buffers_never_crash_any_parser)
{
	static const uint32_t max_bodies[] = {0, 16, PROTO_STARTUP_MAX_LEN, UINT32_MAX};
	uint64_t rnd = 20240601;
	size_t startup_ok_with_params = 0, error_ok_with_message = 0, cancels = 0;

	for (int iter = 0; iter < 10000; iter++) {
		size_t len = (size_t)(next_random(&rnd) % 65);
		uint8_t *buf = malloc(len > 0 ? len : 1); /* exact size: ASan sees overreads */
		struct startup_pkt sp;
		struct pg_error_fields ef;

		ck_assert_ptr_nonnull(buf);
		fill_hostile(buf, len, &rnd);

		check_hdr_on_hostile(buf, len, max_bodies[next_random(&rnd) % 4]);

		if (proto_parse_startup(buf, len, &sp) == PROTO_OK) {
			ck_assert_uint_ge(len, 4);
			ck_assert_uint_le(sp.n_params, PROTO_MAX_STARTUP_PARAMS);
			for (size_t i = 0; i < sp.n_params; i++) {
				expect_string_inside(sp.names[i], buf, len);
				expect_string_inside(sp.values[i], buf, len);
				ck_assert_str_ne(sp.names[i], "");
			}
			if (sp.code == PROTO_CANCEL_CODE) {
				ck_assert_uint_eq(len, 12);
				cancels++;
			}
			if (sp.code == PROTO_SSL_CODE || sp.code == PROTO_GSSENC_CODE)
				ck_assert_uint_eq(len, 4);
			if ((sp.code >> 16) == 3) {
				ck_assert_uint_eq(buf[len - 1], 0);
				if (sp.n_params > 0)
					startup_ok_with_params++;
			}
		}

		if (proto_parse_error(buf, len, &ef) == PROTO_OK) {
			if (ef.severity != NULL)
				expect_string_inside(ef.severity, buf, len);
			if (ef.sqlstate != NULL)
				expect_string_inside(ef.sqlstate, buf, len);
			if (ef.message != NULL) {
				expect_string_inside(ef.message, buf, len);
				error_ok_with_message++;
			}
		}
		free(buf);
	}
	/* the shapes must reach the accepting paths, or the loop proves little */
	ck_assert_uint_gt(startup_ok_with_params, 10);
	ck_assert_uint_gt(error_ok_with_message, 10);
	ck_assert_uint_gt(cancels, 0);
}
END_TEST

/* The bodies of the other messages the pooler reads: exact shapes only. */
START_TEST(password_body_is_one_string_and_nothing_after_it)
{
	const char *pw;
	uint8_t *b = exact_copy("secret\0", 7);

	ck_assert_int_eq(proto_parse_password(b, 7, &pw), PROTO_OK);
	ck_assert_str_eq(pw, "secret");
	ck_assert_int_eq(proto_parse_password(b, 6, &pw), PROTO_MALFORMED); /* no NUL */
	ck_assert_int_eq(proto_parse_password(b, 0, &pw), PROTO_MALFORMED);
	free(b);
	b = exact_copy("a\0b\0", 4);
	ck_assert_int_eq(proto_parse_password(b, 4, &pw), PROTO_MALFORMED); /* trailing */
	free(b);
}
END_TEST

START_TEST(sasl_initial_response_length_must_cover_exactly_the_rest)
{
	static const char ok[] = "SCRAM-SHA-256\0\0\0\0\3abc";
	static const char none[] = "SCRAM-SHA-256\0\xff\xff\xff\xff";
	static const char *const bad[] = {
	    "SCRAM-SHA-256\0\0\0\0\4abc", /* longer than the rest */
	    "SCRAM-SHA-256\0\0\0\0\2abc", /* shorter: trailing bytes */
	    "SCRAM-SHA-256\0\x80\0\0\0abc",
	};
	static const size_t bad_len[] = {21, 21, 21};
	const char *mech;
	const uint8_t *data;
	size_t dlen;
	uint8_t *b = exact_copy(ok, sizeof(ok) - 1);

	ck_assert_int_eq(proto_parse_sasl_initial(b, sizeof(ok) - 1, &mech, &data, &dlen),
	                 PROTO_OK);
	ck_assert_str_eq(mech, "SCRAM-SHA-256");
	ck_assert_uint_eq(dlen, 3);
	ck_assert_mem_eq(data, "abc", 3);
	for (size_t n = 0; n < sizeof(ok) - 1; n++)
		ck_assert_int_eq(proto_parse_sasl_initial(b, n, &mech, &data, &dlen),
		                 PROTO_MALFORMED);
	free(b);
	b = exact_copy(none, sizeof(none) - 1);
	ck_assert_int_eq(proto_parse_sasl_initial(b, sizeof(none) - 1, &mech, &data, &dlen),
	                 PROTO_OK);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(dlen, 0);
	free(b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = exact_copy(bad[i], bad_len[i]);
		ck_assert_int_eq(proto_parse_sasl_initial(b, bad_len[i], &mech, &data, &dlen),
		                 PROTO_MALFORMED);
		free(b);
	}
}
END_TEST

START_TEST(authentication_request_shorter_than_its_code_is_malformed_not_ok)
{
	/* Before proto_parse_auth(), server.c read a missing code as 0, so an
	 * 'R' message with a 0..3-byte body was taken for AuthenticationOk. */
	static const uint8_t md5[] = {0, 0, 0, 5, 1, 2, 3, 4};
	uint8_t *b = exact_copy(md5, sizeof(md5));
	const uint8_t *data;
	size_t dlen;
	uint32_t code;

	for (size_t n = 0; n < 4; n++)
		ck_assert_int_eq(proto_parse_auth(b, n, &code, &data, &dlen), PROTO_MALFORMED);
	ck_assert_int_eq(proto_parse_auth(b, sizeof(md5), &code, &data, &dlen), PROTO_OK);
	ck_assert_uint_eq(code, 5);
	ck_assert_uint_eq(dlen, 4);
	ck_assert_ptr_eq(data, b + 4);
	free(b);
}
END_TEST

START_TEST(sasl_mechanism_list_must_end_with_an_empty_name)
{
	bool bad;
	uint8_t *b = exact_copy("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0", 34);

	ck_assert(proto_sasl_has_mech(b, 34, "SCRAM-SHA-256", &bad));
	ck_assert(!bad);
	ck_assert(!proto_sasl_has_mech(b, 34, "SCRAM-SHA-1", &bad));
	ck_assert(!bad);
	ck_assert(!proto_sasl_has_mech(b, 33, "SCRAM-SHA-256", &bad)); /* no terminator */
	ck_assert(bad);
	ck_assert(!proto_sasl_has_mech(b, 0, "SCRAM-SHA-256", &bad));
	ck_assert(bad);
	free(b);
}
END_TEST

START_TEST(param_status_backend_key_and_rfq_bodies_have_exact_sizes)
{
	static const uint8_t key[] = {0, 0, 0x10, 0x92, 0xde, 0xad, 0xbe, 0xef, 0};
	const char *name, *value;
	uint32_t pid, k;
	char st;
	uint8_t *b = exact_copy("TimeZone\0UTC\0", 13);

	ck_assert_int_eq(proto_parse_param_status(b, 13, &name, &value), PROTO_OK);
	ck_assert_str_eq(name, "TimeZone");
	ck_assert_str_eq(value, "UTC");
	ck_assert_int_eq(proto_parse_param_status(b, 12, &name, &value), PROTO_MALFORMED);
	ck_assert_int_eq(proto_parse_param_status(b, 9, &name, &value), PROTO_MALFORMED);
	free(b);
	b = exact_copy(key, sizeof(key));
	ck_assert_int_eq(proto_parse_backend_key(b, 8, &pid, &k), PROTO_OK);
	ck_assert_uint_eq(pid, 4242);
	ck_assert_uint_eq(k, 0xdeadbeef);
	ck_assert_int_eq(proto_parse_backend_key(b, 7, &pid, &k), PROTO_MALFORMED);
	ck_assert_int_eq(proto_parse_backend_key(b, 9, &pid, &k), PROTO_MALFORMED);
	free(b);
	b = exact_copy("IX", 2);
	ck_assert_int_eq(proto_parse_rfq(b, 1, &st), PROTO_OK);
	ck_assert_int_eq(st, 'I');
	ck_assert_int_eq(proto_parse_rfq(b, 0, &st), PROTO_MALFORMED);
	ck_assert_int_eq(proto_parse_rfq(b, 2, &st), PROTO_MALFORMED);
	ck_assert_int_eq(proto_parse_rfq(b + 1, 1, &st), PROTO_MALFORMED); /* 'X' */
	free(b);
}
END_TEST

Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *hdr = tcase_create("header");
	TCase *reader = tcase_create("reader");
	TCase *startup = tcase_create("startup");
	TCase *error = tcase_create("error");
	TCase *build = tcase_create("builders");
	TCase *hostile = tcase_create("hostile");

	tcase_add_test(hdr, typed_header_needs_more_for_every_prefix_shorter_than_five_bytes);
	tcase_add_test(hdr, startup_header_needs_more_for_every_prefix_shorter_than_four_bytes);
	tcase_add_test(hdr, typed_header_with_length_below_four_is_bad_length);
	tcase_add_test(hdr, typed_header_with_length_four_has_an_empty_body);
	tcase_add_test(hdr, startup_header_with_length_below_eight_is_bad_length);
	tcase_add_test(hdr,
	               startup_header_has_no_type_byte_and_reads_the_first_four_bytes_as_length);
	tcase_add_test(hdr, header_with_body_above_max_body_is_too_big);
	suite_add_tcase(s, hdr);

	tcase_add_test(reader, reader_takes_big_endian_integers_strings_and_bytes_in_order);
	tcase_add_test(reader, reader_failure_is_sticky_even_when_later_reads_would_fit);
	tcase_add_test(reader, reader_refuses_an_unterminated_string_and_an_overlong_byte_run);
	tcase_add_test(reader, reader_on_an_empty_body_fails_every_read_that_needs_a_byte);
	suite_add_tcase(s, reader);

	tcase_add_test(startup, startup_v3_with_parameters_points_names_and_values_into_the_body);
	tcase_add_test(startup, startup_v3_with_only_the_terminator_has_no_parameters);
	tcase_add_test(startup, startup_v3_without_the_final_terminator_is_malformed);
	tcase_add_test(startup, startup_v3_with_an_unterminated_name_or_value_is_malformed);
	tcase_add_test(startup, startup_v3_with_bytes_after_the_terminator_is_malformed);
	tcase_add_test(startup, startup_accepts_the_maximum_parameter_count_and_refuses_one_more);
	tcase_add_test(startup, cancel_request_is_exactly_sixteen_bytes_and_carries_pid_and_key);
	tcase_add_test(startup, cancel_request_of_any_other_size_is_malformed);
	tcase_add_test(startup, ssl_and_gssenc_requests_with_trailing_bytes_are_malformed);
	tcase_add_test(startup, protocol_2_and_unknown_majors_are_ok_for_the_caller_to_refuse);
	tcase_add_test(startup, protocol_3_minor_versions_are_parsed_like_3_0);
	tcase_add_test(startup, startup_body_shorter_than_a_protocol_code_is_malformed);
	tcase_add_test(startup, every_truncation_of_a_valid_startup_body_is_malformed);
	tcase_add_test(startup, every_hostile_startup_body_in_the_table_gets_its_status);
	suite_add_tcase(s, startup);

	tcase_add_test(error, error_fields_are_found_among_fields_fairway_ignores);
	tcase_add_test(error, error_fields_that_are_absent_stay_null);
	tcase_add_test(error, error_with_a_repeated_field_keeps_the_last_one);
	tcase_add_test(error, every_truncation_of_a_valid_error_body_is_malformed);
	tcase_add_test(error,
	               error_with_an_unterminated_field_is_malformed_but_fields_before_it_are_kept);
	tcase_add_test(error, password_body_is_one_string_and_nothing_after_it);
	tcase_add_test(error, sasl_initial_response_length_must_cover_exactly_the_rest);
	tcase_add_test(error, authentication_request_shorter_than_its_code_is_malformed_not_ok);
	tcase_add_test(error, sasl_mechanism_list_must_end_with_an_empty_name);
	tcase_add_test(error, param_status_backend_key_and_rfq_bodies_have_exact_sizes);
	suite_add_tcase(s, error);

	tcase_add_test(build, error_and_notice_have_exact_bytes_and_parse_back);
	tcase_add_test(build, param_status_backend_key_and_ready_for_query_have_exact_bytes);
	tcase_add_test(build, query_command_complete_and_bodiless_messages_have_exact_bytes);
	tcase_add_test(build, authentication_and_password_messages_have_exact_bytes);
	tcase_add_test(build, row_description_has_eighteen_bytes_per_column_with_type_lengths);
	tcase_add_test(build, data_row_sends_null_as_length_minus_one_and_empty_as_zero);
	tcase_add_test(build, startup_message_round_trips_through_parse_startup);
	tcase_add_test(build, cancel_request_round_trips_through_parse_startup);
	tcase_add_test(build, negotiate_protocol_version_lists_the_ignored_options);
	tcase_add_test(build, a_result_set_in_one_buffer_splits_on_its_length_words);
	suite_add_tcase(s, build);

	tcase_add_test(hostile, ten_thousand_random_buffers_never_crash_any_parser);
	suite_add_tcase(s, hostile);
	return s;
}
