/* libFuzzer harness: the messages a PostgreSQL server sends to the pooler.
 * The input is a stream of typed messages split by proto_parse_hdr() as
 * server.c does; the bodies the pooler reads are parsed with the functions
 * server.c uses: Authentication* (code, md5 salt, SASL mechanism list),
 * ParameterStatus (and the tracked-parameter store it feeds),
 * BackendKeyData, ReadyForQuery, ErrorResponse and NoticeResponse. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "proto.h"

#define SMALL_MAX 8192 /* server.c refuses larger login-phase messages */

static struct param_names names;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!params_names_init(&names, "search_path, extra_float_digits"))
		abort();
	return 0;
}

static void check_auth(const uint8_t *body, size_t len)
{
	const uint8_t *rest;
	size_t rest_len;
	uint32_t code;
	bool bad;

	if (proto_parse_auth(body, len, &code, &rest, &rest_len) != PROTO_OK) {
		assert(len < 4);
		return;
	}
	assert(rest == body + 4 && rest_len == len - 4);
	if (code == 10) {
		bool has = proto_sasl_has_mech(rest, rest_len, "SCRAM-SHA-256", &bad);

		assert(!(has && bad));
		if (has)
			assert(rest_len > 0 && rest[rest_len - 1] == '\0');
	}
}

static void check_error(const uint8_t *body, size_t len)
{
	struct pg_error_fields ef;
	const char *f[3];

	if (proto_parse_error(body, len, &ef) != PROTO_OK)
		return;
	f[0] = ef.severity;
	f[1] = ef.sqlstate;
	f[2] = ef.message;
	for (size_t i = 0; i < 3; i++)
		if (f[i] != NULL)
			assert((const uint8_t *)f[i] > body &&
			       (const uint8_t *)f[i] + strlen(f[i]) < body + len);
}

static void check_param(struct param_set *ps, const uint8_t *body, size_t len)
{
	const char *name, *value;
	int slot;

	if (proto_parse_param_status(body, len, &name, &value) != PROTO_OK)
		return;
	assert(strlen(name) + 1 + strlen(value) + 1 == len);
	slot = params_slot(&names, name);
	if (!params_set(ps, slot, value))
		abort();
	if (slot >= 0)
		assert(strcmp(params_get(ps, slot), value) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct param_set ps = {NULL};
	size_t pos = 0;

	while (pos < size) {
		struct pg_msg_hdr h;
		uint32_t pid, key;
		char status;
		uint8_t *body;

		if (proto_parse_hdr(data + pos, size - pos, false, 0x7fffffff, &h) != PROTO_OK)
			break;
		if (h.body_len > SMALL_MAX || size - pos - 5 < h.body_len)
			break;
		body = malloc(h.body_len > 0 ? h.body_len : 1);
		assert(body != NULL);
		memcpy(body, data + pos + 5, h.body_len);
		switch (h.type) {
		case 'R':
			check_auth(body, h.body_len);
			break;
		case 'S':
			check_param(&ps, body, h.body_len);
			break;
		case 'K':
			if (proto_parse_backend_key(body, h.body_len, &pid, &key) == PROTO_OK)
				assert(h.body_len == 8);
			break;
		case 'Z':
			if (proto_parse_rfq(body, h.body_len, &status) == PROTO_OK)
				assert(status == 'I' || status == 'T' || status == 'E');
			break;
		case 'E':
		case 'N':
			check_error(body, h.body_len);
			break;
		default:
			break;
		}
		free(body);
		pos += 5 + (size_t)h.body_len;
	}
	params_clear(&ps);
	return 0;
}
