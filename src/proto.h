/* PostgreSQL v3 wire messages: pure parsers over byte ranges and builders
 * that append to an evbuffer.  No sockets, no global state. */
#ifndef FAIRWAY_PROTO_H
#define FAIRWAY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define PROTO_V3              196608u /* 3.0 */
#define PROTO_CANCEL_CODE     80877102u
#define PROTO_SSL_CODE        80877103u
#define PROTO_GSSENC_CODE     80877104u
#define PROTO_STARTUP_MAX_LEN 10000u /* PostgreSQL's own limit for startup packets */

#define WARN_UNUSED __attribute__((warn_unused_result))

enum proto_status {
	PROTO_OK,
	PROTO_NEED_MORE,  /* not an error: wait for more bytes */
	PROTO_BAD_LENGTH, /* length word smaller than the header itself */
	PROTO_TOO_BIG,    /* larger than the allowed maximum */
	PROTO_MALFORMED,  /* body does not parse */
};

struct pg_msg_hdr {
	uint8_t type;      /* 0 for startup-phase packets: they have no type byte */
	uint32_t body_len; /* bytes after the length word */
};

/* A message header: type byte (none for startup packets) and length word.
 * Inline: it runs for every message on the data path. */
static inline enum proto_status proto_parse_hdr(const uint8_t *buf, size_t avail, bool startup,
                                                uint32_t max_body, struct pg_msg_hdr *out)
{
	size_t hdr_len = startup ? 4 : 5;
	uint32_t min_len = startup ? 8 : 4; /* startup: length + protocol code */
	uint32_t len;

	if (avail < hdr_len)
		return PROTO_NEED_MORE;
	len = (uint32_t)buf[hdr_len - 4] << 24 | (uint32_t)buf[hdr_len - 3] << 16 |
	      (uint32_t)buf[hdr_len - 2] << 8 | buf[hdr_len - 1];
	if (len < min_len)
		return PROTO_BAD_LENGTH;
	/* The length word is an Int32: above INT32_MAX it is too big whatever
	 * max_body says (PostgreSQL itself would read it as negative). */
	if (len - 4 > max_body || len > INT32_MAX)
		return PROTO_TOO_BIG;
	out->type = startup ? 0 : buf[0];
	out->body_len = len - 4;
	return PROTO_OK;
}

/* A bounded reader over a message body. */
struct pkt_reader {
	const uint8_t *p, *end;
	bool failed; /* sticky: set when a read ran past the end */
};

void pkt_reader_init(struct pkt_reader *r, const uint8_t *buf, size_t len);
uint8_t pkt_get_u8(struct pkt_reader *r);
uint16_t pkt_get_u16(struct pkt_reader *r);
uint32_t pkt_get_u32(struct pkt_reader *r);
/* A NUL-terminated string inside the body; NULL (and failed) if unterminated. */
const char *pkt_get_str(struct pkt_reader *r);
/* n raw bytes; NULL (and failed) if fewer remain. */
const uint8_t *pkt_get_bytes(struct pkt_reader *r, size_t n);
size_t pkt_remaining(const struct pkt_reader *r);

/* A startup packet's body (after the length word): protocol code and, for
 * StartupMessage, its name/value pairs pointing into the body. */
#define PROTO_MAX_STARTUP_PARAMS 64
struct startup_pkt {
	uint32_t code;
	uint32_t cancel_pid, cancel_key; /* CancelRequest */
	size_t n_params;
	const char *names[PROTO_MAX_STARTUP_PARAMS];
	const char *values[PROTO_MAX_STARTUP_PARAMS];
};

enum proto_status proto_parse_startup(const uint8_t *body, size_t len, struct startup_pkt *out);

/* ErrorResponse / NoticeResponse: the fields Fairway uses, pointing into body. */
struct pg_error_fields {
	const char *severity; /* 'S' (localized) */
	const char *sqlstate; /* 'C' */
	const char *message;  /* 'M' */
};
enum proto_status proto_parse_error(const uint8_t *body, size_t len, struct pg_error_fields *out);

/* The bodies of the few other messages the pooler reads.  Every pointer
 * returned points into body; each function accepts only the exact shape the
 * protocol defines (no trailing bytes). */

/* PasswordMessage ('p' answering a cleartext or md5 request): one string. */
enum proto_status proto_parse_password(const uint8_t *body, size_t len, const char **password);

/* SASLInitialResponse ('p'): mechanism name, then Int32 length and that many
 * data bytes (-1 = no data, reported as data NULL, data_len 0). */
enum proto_status proto_parse_sasl_initial(const uint8_t *body, size_t len, const char **mech,
                                           const uint8_t **data, size_t *data_len);

/* Authentication* ('R'): the request code and the bytes after it. */
enum proto_status proto_parse_auth(const uint8_t *body, size_t len, uint32_t *code,
                                   const uint8_t **data, size_t *data_len);

/* AuthenticationSASL's data: a list of NUL-terminated names ended by an
 * empty one.  true when mech is listed; false (and *malformed) on bad lists. */
bool proto_sasl_has_mech(const uint8_t *data, size_t len, const char *mech, bool *malformed);

/* ParameterStatus ('S'): name and value. */
enum proto_status proto_parse_param_status(const uint8_t *body, size_t len, const char **name,
                                           const char **value);

/* BackendKeyData ('K') of protocol 3.0: process id and secret key. */
enum proto_status proto_parse_backend_key(const uint8_t *body, size_t len, uint32_t *pid,
                                          uint32_t *key);

/* ReadyForQuery ('Z'): one status byte, 'I', 'T' or 'E'. */
enum proto_status proto_parse_rfq(const uint8_t *body, size_t len, char *status);

/* Builders.  false = out of memory. */
bool proto_put_msg(struct evbuffer *out, uint8_t type, const void *body, size_t len) WARN_UNUSED;
bool proto_put_error(struct evbuffer *out, const char *severity, const char *sqlstate,
                     const char *msg) WARN_UNUSED;
bool proto_put_notice(struct evbuffer *out, const char *sqlstate, const char *msg) WARN_UNUSED;
/* NoticeResponse with a DETAIL field (PgBouncer's SHOW HELP shape). */
bool proto_put_notice_detail(struct evbuffer *out, const char *msg, const char *detail) WARN_UNUSED;
bool proto_put_auth(struct evbuffer *out, uint32_t code, const void *data, size_t len) WARN_UNUSED;
bool proto_put_param_status(struct evbuffer *out, const char *name, const char *value) WARN_UNUSED;
bool proto_put_backend_key(struct evbuffer *out, uint32_t pid, uint32_t key) WARN_UNUSED;
bool proto_put_rfq(struct evbuffer *out, char status) WARN_UNUSED;
bool proto_put_query(struct evbuffer *out, const char *sql) WARN_UNUSED;
bool proto_put_command_complete(struct evbuffer *out, const char *tag) WARN_UNUSED;
bool proto_put_empty_query(struct evbuffer *out) WARN_UNUSED;
bool proto_put_terminate(struct evbuffer *out) WARN_UNUSED;
bool proto_put_password(struct evbuffer *out, const char *password) WARN_UNUSED;
bool proto_put_sasl_initial(struct evbuffer *out, const char *mech, const void *data,
                            size_t len) WARN_UNUSED;
bool proto_put_sasl_response(struct evbuffer *out, const void *data, size_t len) WARN_UNUSED;
bool proto_put_cancel(struct evbuffer *out, uint32_t pid, uint32_t key) WARN_UNUSED;
/* StartupMessage v3.0 with n name/value pairs. */
bool proto_put_startup(struct evbuffer *out, const char *const *names, const char *const *values,
                       size_t n) WARN_UNUSED;
/* NegotiateProtocolVersion: newest minor we support and the options we ignored. */
/* SSLRequest (length 8, code 80877103). */
bool proto_put_ssl_request(struct evbuffer *out) WARN_UNUSED;
bool proto_put_negotiate(struct evbuffer *out, uint32_t minor, const char *const *unknown,
                         size_t n) WARN_UNUSED;

/* Result sets for the console.  Column types are PostgreSQL OIDs. */
#define PG_TYPE_INT8    20
#define PG_TYPE_INT4    23
#define PG_TYPE_TEXT    25
#define PG_TYPE_NUMERIC 1700
bool proto_put_row_desc(struct evbuffer *out, size_t n, const char *const *names,
                        const uint32_t *types) WARN_UNUSED;
/* values[i] == NULL sends SQL NULL. */
bool proto_put_data_row(struct evbuffer *out, size_t n, const char *const *values) WARN_UNUSED;

#endif
