/* libFuzzer harness: the messages a logged-in (or logging-in) client sends.
 * The input is a stream of typed messages split by proto_parse_hdr() as
 * client.c and admin.c do; the bodies the pooler itself reads are parsed:
 * PasswordMessage, SASLInitialResponse and SASLResponse ('p'), and the text
 * of a Query ('Q', read by the console).  Every message must rebuild to the
 * same bytes with proto_put_msg(). */
#include <assert.h>
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "proto.h"

#define MAX_BODY (1u << 16)

static void check_password_like(const uint8_t *body, size_t len)
{
	const char *pw, *mech;
	const uint8_t *sasl;
	size_t sasl_len;

	if (proto_parse_password(body, len, &pw) == PROTO_OK)
		assert(strlen(pw) + 1 == len);
	if (proto_parse_sasl_initial(body, len, &mech, &sasl, &sasl_len) == PROTO_OK) {
		size_t mlen = strlen(mech);

		assert(mlen + 1 + 4 + sasl_len == len);
		assert(sasl == NULL ? sasl_len == 0 : sasl == body + mlen + 1 + 4);
	}
}

static void check_query(const uint8_t *body, size_t len)
{
	struct pkt_reader r;
	const char *q;
	char buf[512], *w[4], key[128], value[1024];
	size_t n;

	pkt_reader_init(&r, body, len);
	q = pkt_get_str(&r);
	if (q == NULL)
		return;
	n = admin_split_words(q, buf, sizeof(buf), w, 4);
	assert(n <= 4);
	(void)admin_parse_set(q, key, sizeof(key), value, sizeof(value));
}

static void check_rebuild(uint8_t type, const uint8_t *msg, const uint8_t *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	assert(b != NULL);
	if (!proto_put_msg(b, type, body, len))
		abort();
	assert(evbuffer_get_length(b) == 5 + len);
	assert(memcmp(evbuffer_pullup(b, -1), msg, 5 + len) == 0);
	evbuffer_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct pg_msg_hdr h;
		enum proto_status st;
		uint8_t *body;

		st = proto_parse_hdr(data + pos, size - pos, false, MAX_BODY, &h);
		if (st == PROTO_NEED_MORE) {
			assert(size - pos < 5);
			return 0;
		}
		if (st != PROTO_OK)
			return 0; /* the client gets 08P01 and is closed */
		assert(h.type == data[pos] && h.body_len <= MAX_BODY);
		if (size - pos - 5 < h.body_len)
			return 0;
		body = malloc(h.body_len > 0 ? h.body_len : 1);
		assert(body != NULL);
		memcpy(body, data + pos + 5, h.body_len);
		if (h.type == 'p')
			check_password_like(body, h.body_len);
		else if (h.type == 'Q')
			check_query(body, h.body_len);
		check_rebuild(h.type, data + pos, body, h.body_len);
		free(body);
		pos += 5 + (size_t)h.body_len;
	}
	return 0;
}
