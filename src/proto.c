/* PostgreSQL v3 wire messages: pure parsers over byte ranges (every read is
 * bounded by an end pointer) and builders that append to an evbuffer. */
#include "proto.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <string.h>

void pkt_reader_init(struct pkt_reader *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->failed = false;
}

size_t pkt_remaining(const struct pkt_reader *r)
{
	return (size_t)(r->end - r->p);
}

const uint8_t *pkt_get_bytes(struct pkt_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->failed || pkt_remaining(r) < n) {
		r->failed = true;
		return NULL;
	}
	r->p += n;
	return p;
}

uint8_t pkt_get_u8(struct pkt_reader *r)
{
	const uint8_t *p = pkt_get_bytes(r, 1);

	return p ? p[0] : 0;
}

uint16_t pkt_get_u16(struct pkt_reader *r)
{
	const uint8_t *p = pkt_get_bytes(r, 2);

	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t pkt_get_u32(struct pkt_reader *r)
{
	const uint8_t *p = pkt_get_bytes(r, 4);

	return p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
	         : 0;
}

const char *pkt_get_str(struct pkt_reader *r)
{
	const uint8_t *nul;
	const char *s = (const char *)r->p;

	if (r->failed)
		return NULL;
	nul = memchr(r->p, '\0', pkt_remaining(r));
	if (nul == NULL) {
		r->failed = true;
		return NULL;
	}
	r->p = nul + 1;
	return s;
}

enum proto_status proto_parse_startup(const uint8_t *body, size_t len, struct startup_pkt *out)
{
	struct pkt_reader r;

	memset(out, 0, sizeof(*out));
	pkt_reader_init(&r, body, len);
	out->code = pkt_get_u32(&r);
	if (r.failed)
		return PROTO_MALFORMED;
	if (out->code == PROTO_CANCEL_CODE) {
		out->cancel_pid = pkt_get_u32(&r);
		out->cancel_key = pkt_get_u32(&r);
		return r.failed || pkt_remaining(&r) != 0 ? PROTO_MALFORMED : PROTO_OK;
	}
	if (out->code == PROTO_SSL_CODE || out->code == PROTO_GSSENC_CODE)
		return pkt_remaining(&r) == 0 ? PROTO_OK : PROTO_MALFORMED;
	if ((out->code >> 16) != 3)
		return PROTO_OK; /* the caller refuses other major versions */
	for (;;) {
		const char *name = pkt_get_str(&r), *value;

		if (name == NULL)
			return PROTO_MALFORMED;
		if (name[0] == '\0')
			break;
		value = pkt_get_str(&r);
		if (value == NULL)
			return PROTO_MALFORMED;
		if (out->n_params == PROTO_MAX_STARTUP_PARAMS)
			return PROTO_MALFORMED;
		out->names[out->n_params] = name;
		out->values[out->n_params] = value;
		out->n_params++;
	}
	return pkt_remaining(&r) == 0 ? PROTO_OK : PROTO_MALFORMED;
}

enum proto_status proto_parse_error(const uint8_t *body, size_t len, struct pg_error_fields *out)
{
	struct pkt_reader r;

	memset(out, 0, sizeof(*out));
	pkt_reader_init(&r, body, len);
	for (;;) {
		uint8_t code = pkt_get_u8(&r);
		const char *val;

		if (r.failed)
			return PROTO_MALFORMED;
		if (code == 0)
			break;
		val = pkt_get_str(&r);
		if (val == NULL)
			return PROTO_MALFORMED;
		if (code == 'S')
			out->severity = val;
		else if (code == 'C')
			out->sqlstate = val;
		else if (code == 'M')
			out->message = val;
	}
	return PROTO_OK;
}

enum proto_status proto_parse_password(const uint8_t *body, size_t len, const char **password)
{
	struct pkt_reader r;

	pkt_reader_init(&r, body, len);
	*password = pkt_get_str(&r);
	return *password != NULL && pkt_remaining(&r) == 0 ? PROTO_OK : PROTO_MALFORMED;
}

enum proto_status proto_parse_sasl_initial(const uint8_t *body, size_t len, const char **mech,
                                           const uint8_t **data, size_t *data_len)
{
	struct pkt_reader r;
	uint32_t n;

	pkt_reader_init(&r, body, len);
	*mech = pkt_get_str(&r);
	n = pkt_get_u32(&r);
	*data = NULL;
	*data_len = 0;
	if (r.failed)
		return PROTO_MALFORMED;
	if (n == 0xffffffffu) /* -1: no initial response */
		return pkt_remaining(&r) == 0 ? PROTO_OK : PROTO_MALFORMED;
	if (n != pkt_remaining(&r))
		return PROTO_MALFORMED;
	*data = pkt_get_bytes(&r, n);
	*data_len = n;
	return PROTO_OK;
}

enum proto_status proto_parse_auth(const uint8_t *body, size_t len, uint32_t *code,
                                   const uint8_t **data, size_t *data_len)
{
	struct pkt_reader r;

	pkt_reader_init(&r, body, len);
	*code = pkt_get_u32(&r);
	if (r.failed)
		return PROTO_MALFORMED;
	*data = r.p;
	*data_len = pkt_remaining(&r);
	return PROTO_OK;
}

bool proto_sasl_has_mech(const uint8_t *data, size_t len, const char *mech, bool *malformed)
{
	struct pkt_reader r;
	const char *name;
	bool found = false;

	pkt_reader_init(&r, data, len);
	while ((name = pkt_get_str(&r)) != NULL && name[0] != '\0')
		if (strcmp(name, mech) == 0)
			found = true;
	*malformed = name == NULL || pkt_remaining(&r) != 0;
	return found && !*malformed;
}

enum proto_status proto_parse_param_status(const uint8_t *body, size_t len, const char **name,
                                           const char **value)
{
	struct pkt_reader r;

	pkt_reader_init(&r, body, len);
	*name = pkt_get_str(&r);
	*value = pkt_get_str(&r);
	return *value != NULL && pkt_remaining(&r) == 0 ? PROTO_OK : PROTO_MALFORMED;
}

enum proto_status proto_parse_backend_key(const uint8_t *body, size_t len, uint32_t *pid,
                                          uint32_t *key)
{
	struct pkt_reader r;

	pkt_reader_init(&r, body, len);
	*pid = pkt_get_u32(&r);
	*key = pkt_get_u32(&r);
	return !r.failed && pkt_remaining(&r) == 0 ? PROTO_OK : PROTO_MALFORMED;
}

enum proto_status proto_parse_rfq(const uint8_t *body, size_t len, char *status)
{
	if (len != 1 || (body[0] != 'I' && body[0] != 'T' && body[0] != 'E'))
		return PROTO_MALFORMED;
	*status = (char)body[0];
	return PROTO_OK;
}

/* Appends a header whose length covers body_len more bytes. */
static bool put_hdr(struct evbuffer *out, uint8_t type, size_t body_len)
{
	uint8_t hdr[5];
	uint32_t len = htonl((uint32_t)(body_len + 4));

	hdr[0] = type;
	memcpy(hdr + 1, &len, 4);
	return evbuffer_add(out, hdr, 5) == 0;
}

static bool put_u32(struct evbuffer *out, uint32_t v)
{
	v = htonl(v);
	return evbuffer_add(out, &v, 4) == 0;
}

static bool put_str(struct evbuffer *out, const char *s)
{
	return evbuffer_add(out, s, strlen(s) + 1) == 0;
}

bool proto_put_msg(struct evbuffer *out, uint8_t type, const void *body, size_t len)
{
	return put_hdr(out, type, len) && (len == 0 || evbuffer_add(out, body, len) == 0);
}

static bool put_error_like(struct evbuffer *out, uint8_t type, const char *severity,
                           const char *sqlstate, const char *msg)
{
	size_t body = 1 + strlen(severity) + 1 + 1 + strlen(severity) + 1 + 1 + strlen(sqlstate) +
	              1 + 1 + strlen(msg) + 1 + 1;

	return put_hdr(out, type, body) && evbuffer_add(out, "S", 1) == 0 &&
	       put_str(out, severity) && evbuffer_add(out, "V", 1) == 0 && put_str(out, severity) &&
	       evbuffer_add(out, "C", 1) == 0 && put_str(out, sqlstate) &&
	       evbuffer_add(out, "M", 1) == 0 && put_str(out, msg) && evbuffer_add(out, "", 1) == 0;
}

bool proto_put_error(struct evbuffer *out, const char *severity, const char *sqlstate,
                     const char *msg)
{
	return put_error_like(out, 'E', severity, sqlstate, msg);
}

bool proto_put_notice(struct evbuffer *out, const char *sqlstate, const char *msg)
{
	return put_error_like(out, 'N', "NOTICE", sqlstate, msg);
}

bool proto_put_notice_detail(struct evbuffer *out, const char *msg, const char *detail)
{
	size_t body = 2 * (1 + sizeof("NOTICE")) + 1 + sizeof("00000") + 1 + strlen(msg) + 1 + 1 +
	              strlen(detail) + 1 + 1;

	return put_hdr(out, 'N', body) && evbuffer_add(out, "SNOTICE", 8) == 0 &&
	       evbuffer_add(out, "VNOTICE", 8) == 0 && evbuffer_add(out, "C00000", 7) == 0 &&
	       evbuffer_add(out, "M", 1) == 0 && put_str(out, msg) &&
	       evbuffer_add(out, "D", 1) == 0 && put_str(out, detail) &&
	       evbuffer_add(out, "", 1) == 0;
}

bool proto_put_auth(struct evbuffer *out, uint32_t code, const void *data, size_t len)
{
	return put_hdr(out, 'R', 4 + len) && put_u32(out, code) &&
	       (len == 0 || evbuffer_add(out, data, len) == 0);
}

bool proto_put_param_status(struct evbuffer *out, const char *name, const char *value)
{
	return put_hdr(out, 'S', strlen(name) + 1 + strlen(value) + 1) && put_str(out, name) &&
	       put_str(out, value);
}

bool proto_put_backend_key(struct evbuffer *out, uint32_t pid, uint32_t key)
{
	return put_hdr(out, 'K', 8) && put_u32(out, pid) && put_u32(out, key);
}

bool proto_put_rfq(struct evbuffer *out, char status)
{
	return put_hdr(out, 'Z', 1) && evbuffer_add(out, &status, 1) == 0;
}

bool proto_put_query(struct evbuffer *out, const char *sql)
{
	return put_hdr(out, 'Q', strlen(sql) + 1) && put_str(out, sql);
}

bool proto_put_command_complete(struct evbuffer *out, const char *tag)
{
	return put_hdr(out, 'C', strlen(tag) + 1) && put_str(out, tag);
}

bool proto_put_empty_query(struct evbuffer *out)
{
	return put_hdr(out, 'I', 0);
}

bool proto_put_terminate(struct evbuffer *out)
{
	return put_hdr(out, 'X', 0);
}

bool proto_put_password(struct evbuffer *out, const char *password)
{
	return put_hdr(out, 'p', strlen(password) + 1) && put_str(out, password);
}

bool proto_put_sasl_initial(struct evbuffer *out, const char *mech, const void *data, size_t len)
{
	return put_hdr(out, 'p', strlen(mech) + 1 + 4 + len) && put_str(out, mech) &&
	       put_u32(out, (uint32_t)len) && evbuffer_add(out, data, len) == 0;
}

bool proto_put_sasl_response(struct evbuffer *out, const void *data, size_t len)
{
	return put_hdr(out, 'p', len) && evbuffer_add(out, data, len) == 0;
}

bool proto_put_cancel(struct evbuffer *out, uint32_t pid, uint32_t key)
{
	return put_u32(out, 16) && put_u32(out, PROTO_CANCEL_CODE) && put_u32(out, pid) &&
	       put_u32(out, key);
}

bool proto_put_startup(struct evbuffer *out, const char *const *names, const char *const *values,
                       size_t n)
{
	size_t len = 4 + 4 + 1;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1 + strlen(values[i]) + 1;
	if (!put_u32(out, (uint32_t)len) || !put_u32(out, PROTO_V3))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!put_str(out, names[i]) || !put_str(out, values[i]))
			return false;
	return evbuffer_add(out, "", 1) == 0;
}

bool proto_put_ssl_request(struct evbuffer *out)
{
	return put_u32(out, 8) && put_u32(out, PROTO_SSL_CODE);
}

bool proto_put_negotiate(struct evbuffer *out, uint32_t minor, const char *const *unknown, size_t n)
{
	size_t len = 8;

	for (size_t i = 0; i < n; i++)
		len += strlen(unknown[i]) + 1;
	if (!put_hdr(out, 'v', len) || !put_u32(out, minor) || !put_u32(out, (uint32_t)n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!put_str(out, unknown[i]))
			return false;
	return true;
}

bool proto_put_row_desc(struct evbuffer *out, size_t n, const char *const *names,
                        const uint32_t *types)
{
	size_t len = 2;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1 + 18;
	if (!put_hdr(out, 'T', len))
		return false;
	uint16_t cnt = htons((uint16_t)n);
	if (evbuffer_add(out, &cnt, 2) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t field[18] = {0};
		uint32_t type = htonl(types[i]);
		int16_t typlen = (int16_t)htons((uint16_t)(types[i] == PG_TYPE_INT8   ? 8
		                                           : types[i] == PG_TYPE_INT4 ? 4
		                                                                      : 0xffff));
		int32_t typmod = -1;

		/* table oid (4), column no (2), type oid (4), typlen (2), typmod (4), format (2) */
		memcpy(field + 6, &type, 4);
		memcpy(field + 10, &typlen, 2);
		memcpy(field + 12, &typmod, 4);
		if (!put_str(out, names[i]) || evbuffer_add(out, field, sizeof(field)) != 0)
			return false;
	}
	return true;
}

bool proto_put_data_row(struct evbuffer *out, size_t n, const char *const *values)
{
	size_t len = 2;

	for (size_t i = 0; i < n; i++)
		len += 4 + (values[i] ? strlen(values[i]) : 0);
	if (!put_hdr(out, 'D', len))
		return false;
	uint16_t cnt = htons((uint16_t)n);
	if (evbuffer_add(out, &cnt, 2) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (values[i] == NULL) {
			if (!put_u32(out, 0xffffffffu))
				return false;
			continue;
		}
		size_t vlen = strlen(values[i]);
		if (!put_u32(out, (uint32_t)vlen) || evbuffer_add(out, values[i], vlen) != 0)
			return false;
	}
	return true;
}
