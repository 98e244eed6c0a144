/* authquery.c's pure parts: the lookup pipeline (the user name only ever as
 * a bound parameter, search_path pinned first) and the DataRow parser. */
#include <arpa/inet.h>
#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "authquery.h"
#include "suites.h"

/* One message taken off the front of buf; body is malloc()ed. */
struct msg {
	uint8_t type;
	uint8_t *body;
	size_t len;
};

static bool next_msg(struct evbuffer *buf, struct msg *m)
{
	uint8_t hdr[5];
	uint32_t len;

	if (evbuffer_remove(buf, hdr, 5) != 5)
		return false;
	memcpy(&len, hdr + 1, 4);
	len = ntohl(len);
	ck_assert_uint_ge(len, 4);
	m->type = hdr[0];
	m->len = len - 4;
	m->body = malloc(m->len + 1);
	ck_assert_ptr_nonnull(m->body);
	ck_assert_int_eq(evbuffer_remove(buf, m->body, m->len), (int)m->len);
	m->body[m->len] = '\0';
	return true;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Parse: "" statement, the text, n parameter types (all 0 = inferred). */
static void assert_parse(const struct msg *m, const char *sql, uint16_t n_params)
{
	size_t sql_len = strlen(sql);

	ck_assert_int_eq(m->type, 'P');
	ck_assert_uint_eq(m->len, 1 + sql_len + 1 + 2 + 4u * n_params);
	ck_assert_int_eq(m->body[0], '\0');
	ck_assert_str_eq((const char *)m->body + 1, sql);
	ck_assert_uint_eq(be16(m->body + 2 + sql_len), n_params);
	for (uint16_t i = 0; i < n_params; i++)
		ck_assert_uint_eq(be32(m->body + 4 + sql_len + 4u * i), 0);
}

/* Bind: "" portal, "" statement, no formats (text), the parameters. */
static void assert_bind(const struct msg *m, const char *param)
{
	size_t plen = param != NULL ? strlen(param) : 0;
	const uint8_t *p = m->body;

	ck_assert_int_eq(m->type, 'B');
	ck_assert_int_eq(p[0], '\0');
	ck_assert_int_eq(p[1], '\0');
	ck_assert_uint_eq(be16(p + 2), 0);
	ck_assert_uint_eq(be16(p + 4), param != NULL ? 1 : 0);
	p += 6;
	if (param != NULL) {
		ck_assert_uint_eq(be32(p), plen);
		ck_assert_int_eq(memcmp(p + 4, param, plen), 0);
		p += 4 + plen;
	}
	ck_assert_uint_eq(be16(p), 0);
	ck_assert_uint_eq((size_t)(p + 2 - m->body), m->len);
}

START_TEST(pipeline_pins_search_path_then_binds_the_user_as_a_parameter)
{
	static const char *const query = "SELECT u, p FROM f($1)";
	static const char *const user = "x'; DROP TABLE t; --";
	struct evbuffer *buf = evbuffer_new();
	struct msg m[7];

	ck_assert(authquery_put_pipeline(buf, query, user));
	for (int i = 0; i < 7; i++)
		ck_assert(next_msg(buf, &m[i]));
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
	assert_parse(&m[0], AUTHQUERY_SAFE_PATH_SQL, 0);
	assert_bind(&m[1], NULL);
	ck_assert_int_eq(m[2].type, 'E');
	ck_assert_uint_eq(m[2].len, 5);
	assert_parse(&m[3], query, 1);
	assert_bind(&m[4], user);
	ck_assert_int_eq(m[5].type, 'E');
	ck_assert_int_eq(m[6].type, 'S');
	ck_assert_uint_eq(m[6].len, 0);
	/* the name is in no statement text */
	ck_assert_ptr_null(strstr((const char *)m[0].body + 1, "DROP"));
	ck_assert_ptr_null(strstr((const char *)m[3].body + 1, "DROP"));
	for (int i = 0; i < 7; i++)
		free(m[i].body);
	evbuffer_free(buf);
}
END_TEST

START_TEST(safe_search_path_statement_names_only_pg_catalog_objects)
{
	ck_assert_ptr_nonnull(strstr(AUTHQUERY_SAFE_PATH_SQL, "pg_catalog.set_config("));
	ck_assert_ptr_nonnull(strstr(AUTHQUERY_SAFE_PATH_SQL, "'pg_catalog, pg_temp'"));
	ck_assert_ptr_nonnull(strstr(AUTHQUERY_SAFE_PATH_SQL, "true)")); /* local to the xact */
}
END_TEST

/* A DataRow body from columns: NULL pointer = SQL NULL. */
static size_t row(uint8_t *out, int n, const char *const cols[])
{
	size_t len = 2;

	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint32_t l = cols[i] != NULL ? (uint32_t)strlen(cols[i]) : UINT32_MAX;
		uint32_t be = htonl(l);

		memcpy(out + len, &be, 4);
		len += 4;
		if (cols[i] != NULL) {
			memcpy(out + len, cols[i], l);
			len += l;
		}
	}
	return len;
}

START_TEST(row_gives_the_second_column_as_the_secret)
{
	static const char *const two[] = {"alice", "md5abc"};
	static const char *const no_name[] = {NULL, "SCRAM-SHA-256$4096:x$y:z"};
	uint8_t buf[256];
	const char *secret = NULL;
	size_t len = row(buf, 2, two), slen = 0;

	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_SECRET);
	ck_assert_uint_eq(slen, 6);
	ck_assert_int_eq(memcmp(secret, "md5abc", 6), 0);
	len = row(buf, 2, no_name);
	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_SECRET);
	ck_assert_uint_eq(slen, strlen(no_name[1]));
}
END_TEST

START_TEST(row_without_a_usable_secret_is_told_apart_from_a_bad_row)
{
	static const char *const null_pw[] = {"alice", NULL};
	static const char *const empty_pw[] = {"alice", ""};
	static const char *const one[] = {"alice"};
	static const char *const three[] = {"alice", "pw", "x"};
	uint8_t buf[256];
	const char *secret;
	size_t len, slen;

	len = row(buf, 2, null_pw);
	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_NO_SECRET);
	len = row(buf, 2, empty_pw);
	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_NO_SECRET);
	len = row(buf, 1, one);
	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_COLUMNS);
	len = row(buf, 3, three);
	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_COLUMNS);
}
END_TEST

START_TEST(malformed_or_oversized_rows_are_refused)
{
	static const char *const two[] = {"alice", "secret"};
	uint8_t buf[256], *big;
	const char *secret;
	size_t len, slen;
	uint32_t be;

	len = row(buf, 2, two);
	/* every truncation, and a trailing byte */
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(authquery_parse_row(buf, cut, &secret, &slen),
		                 AUTHQUERY_ROW_MALFORMED);
	buf[len] = 'x';
	ck_assert_int_eq(authquery_parse_row(buf, len + 1, &secret, &slen),
	                 AUTHQUERY_ROW_MALFORMED);
	/* a column length past the end */
	be = htonl(0x7fffffff);
	memcpy(buf + 2, &be, 4);
	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_MALFORMED);
	/* a NUL inside the secret */
	len = row(buf, 2, two);
	buf[len - 2] = '\0';
	ck_assert_int_eq(authquery_parse_row(buf, len, &secret, &slen), AUTHQUERY_ROW_TOO_LONG);
	/* longer than AUTHQUERY_SECRET_MAX */
	big = malloc(AUTHQUERY_SECRET_MAX + 64);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', AUTHQUERY_SECRET_MAX + 64);
	big[0] = 0;
	big[1] = 2;
	be = htonl(1);
	memcpy(big + 2, &be, 4);
	be = htonl(AUTHQUERY_SECRET_MAX + 1);
	memcpy(big + 7, &be, 4);
	ck_assert_int_eq(authquery_parse_row(big, 11 + AUTHQUERY_SECRET_MAX + 1, &secret, &slen),
	                 AUTHQUERY_ROW_TOO_LONG);
	free(big);
}
END_TEST

Suite *authquery_suite(void)
{
	Suite *s = suite_create("authquery");
	TCase *tc = tcase_create("authquery");

	tcase_add_test(tc, pipeline_pins_search_path_then_binds_the_user_as_a_parameter);
	tcase_add_test(tc, safe_search_path_statement_names_only_pg_catalog_objects);
	tcase_add_test(tc, row_gives_the_second_column_as_the_secret);
	tcase_add_test(tc, row_without_a_usable_secret_is_told_apart_from_a_bad_row);
	tcase_add_test(tc, malformed_or_oversized_rows_are_refused);
	suite_add_tcase(s, tc);
	return s;
}
