/* libFuzzer harness: the bytes a client sends before it is logged in.  The
 * input is a stream of startup-phase packets, split and parsed the way
 * client.c does (SSLRequest / GSSENCRequest may repeat; CancelRequest and
 * StartupMessage end the phase), and every StartupMessage that parses must
 * survive a rebuild with proto_put_startup() unchanged. */
#include <assert.h>
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* Rebuilds a parsed StartupMessage and parses it again: same params. */
static void check_round_trip(const struct startup_pkt *sp)
{
	struct evbuffer *b = evbuffer_new();
	struct startup_pkt again;
	struct pg_msg_hdr h;
	uint8_t *bytes;
	size_t len;

	assert(b != NULL);
	if (!proto_put_startup(b, sp->names, sp->values, sp->n_params))
		abort();
	len = evbuffer_get_length(b);
	bytes = evbuffer_pullup(b, -1);
	assert(proto_parse_hdr(bytes, len, true, PROTO_STARTUP_MAX_LEN * 2, &h) == PROTO_OK);
	assert(h.body_len == len - 4);
	assert(proto_parse_startup(bytes + 4, h.body_len, &again) == PROTO_OK);
	assert(again.code == PROTO_V3 && again.n_params == sp->n_params);
	for (size_t i = 0; i < sp->n_params; i++) {
		assert(strcmp(again.names[i], sp->names[i]) == 0);
		assert(strcmp(again.values[i], sp->values[i]) == 0);
	}
	evbuffer_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct pg_msg_hdr h;
		struct startup_pkt sp;
		enum proto_status st;
		uint8_t *body;

		st = proto_parse_hdr(data + pos, size - pos, true, PROTO_STARTUP_MAX_LEN, &h);
		if (st != PROTO_OK)
			return 0; /* NEED_MORE waits; the others fail the client */
		assert(h.body_len >= 4 && h.body_len <= PROTO_STARTUP_MAX_LEN);
		if (size - pos - 4 < h.body_len)
			return 0;
		/* An exact-size heap copy, so ASan catches any read past the body. */
		body = malloc(h.body_len);
		assert(body != NULL);
		memcpy(body, data + pos + 4, h.body_len);
		pos += 4 + (size_t)h.body_len;
		st = proto_parse_startup(body, h.body_len, &sp);
		if (st != PROTO_OK) {
			assert(st == PROTO_MALFORMED);
			free(body);
			return 0;
		}
		assert(sp.n_params <= PROTO_MAX_STARTUP_PARAMS);
		for (size_t i = 0; i < sp.n_params; i++) {
			assert((const uint8_t *)sp.names[i] >= body &&
			       (const uint8_t *)sp.names[i] < body + h.body_len);
			assert((const uint8_t *)sp.values[i] >= body &&
			       (const uint8_t *)sp.values[i] < body + h.body_len);
			assert(sp.names[i][0] != '\0');
		}
		if (sp.code == PROTO_SSL_CODE || sp.code == PROTO_GSSENC_CODE) {
			assert(h.body_len == 4);
			free(body);
			continue;
		}
		if (sp.code == PROTO_CANCEL_CODE)
			assert(h.body_len == 12);
		else if (sp.code == PROTO_V3)
			check_round_trip(&sp);
		free(body);
		return 0;
	}
	return 0;
}
