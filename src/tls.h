/* TLS on OpenSSL: the two SSL_CTXs (accepting clients, connecting to
 * servers) built from the config and swapped whole on reload, the sslmode
 * rules, and the non-blocking handshake / read / write steps that io.c calls
 * for a connection that has an SSL object. */
#ifndef FAIRWAY_TLS_H
#define FAIRWAY_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct evbuffer;
struct ssl_st;
struct ssl_ctx_st;

enum tls_mode {
	TLS_DISABLE,
	TLS_ALLOW,
	TLS_PREFER,
	TLS_REQUIRE,
	TLS_VERIFY_CA,
	TLS_VERIFY_FULL,
};

/* First byte of a TLS handshake record: a direct-TLS client starts with it. */
#define TLS_HANDSHAKE_BYTE 0x16

/* Protocol bits of client_tls_protocols / server_tls_protocols. */
#define TLS_PROTO_10 0x01u
#define TLS_PROTO_11 0x02u
#define TLS_PROTO_12 0x04u
#define TLS_PROTO_13 0x08u

/* Both contexts and the modes they were built for: one unit, so that a reload
 * that fails keeps the old modes together with the old certificates. */
struct tls_contexts {
	enum tls_mode client_mode;  /* client_tls_sslmode */
	enum tls_mode server_mode;  /* server_tls_sslmode */
	struct ssl_ctx_st *accept;  /* owned; NULL when client_mode is disable */
	struct ssl_ctx_st *connect; /* owned; NULL when server_mode is disable */
};

enum tls_status {
	TLS_DONE,       /* the step finished (bytes moved, handshake complete) */
	TLS_WANT_READ,  /* try again when the socket is readable */
	TLS_WANT_WRITE, /* try again when the socket is writable */
	TLS_EOF,        /* the peer closed the connection */
	TLS_FAILED,     /* protocol or certificate error: see tls_error_text */
};

/* Pure: "disable" .. "verify-full"; false if unknown. */
bool tls_parse_mode(const char *s, enum tls_mode *out);
/* Pure: PgBouncer's protocol list ("secure", "all", "legacy", "normal",
 * "default", "tlsv1.0" .. "tlsv1.3", "!tlsv1.2", separated by commas, colons
 * or spaces) into TLS_PROTO_* bits.  False (with a reason) if a word is
 * unknown or nothing is left. */
bool tls_parse_protocols(const char *s, unsigned *bits, char *err, size_t errlen);
/* Pure: cipher keywords ("default", "secure", "fast", "normal", "compat",
 * "legacy", "insecure", "all") to an OpenSSL cipher list; anything else is
 * returned as it is. */
const char *tls_cipher_list(const char *s);

/* Builds both contexts from cfg.  False with a message naming the setting
 * and file when a file cannot be used; out is left empty then. */
bool tls_contexts_build(const struct config *cfg, struct tls_contexts *out, char *err,
                        size_t errlen);
/* Frees the contexts; connections still using them keep their reference. */
void tls_contexts_free(struct tls_contexts *t);

/* A new SSL for a connection on fd.  prefix: bytes already read from the
 * socket that belong to the TLS stream (direct TLS), read before the socket;
 * borrowed, may be NULL.  host: the name to verify (verify-full) and send as
 * SNI; NULL for none. */
struct ssl_st *tls_new_accept(struct ssl_ctx_st *ctx, int fd, struct evbuffer *prefix);
struct ssl_st *tls_new_connect(struct ssl_ctx_st *ctx, int fd, const char *host, bool verify_host);
/* Sends close_notify if it can without waiting, then frees. */
void tls_free(struct ssl_st *ssl);
/* Points the SSL's socket reader at another prefix buffer (or NULL). */
void tls_set_prefix(struct ssl_st *ssl, struct evbuffer *prefix);

enum tls_status tls_handshake(struct ssl_st *ssl);
/* Reads up to want bytes into in; *got says how many. */
enum tls_status tls_read(struct ssl_st *ssl, struct evbuffer *in, size_t want, size_t *got);
/* Writes from out until it is empty or the socket is full; drains what went. */
enum tls_status tls_write(struct ssl_st *ssl, struct evbuffer *out);
/* Decrypted bytes waiting inside the SSL (no readiness event will come). */
bool tls_has_pending(struct ssl_st *ssl);
/* The client offered and got ALPN "postgresql". */
bool tls_alpn_ok(struct ssl_st *ssl);
/* The common name of the client's certificate, if it sent one that verified
 * against client_tls_ca_file; false otherwise. */
bool tls_peer_cn(struct ssl_st *ssl, char *buf, size_t n);
/* Largest certificate hash tls_cert_hash() writes (SHA-512). */
#define TLS_CERT_HASH_MAX 64

/* The tls-server-end-point channel binding data (RFC 5929): the hash of our
 * own certificate (own) or of the peer's, with the certificate's signature
 * digest, except that MD5 and SHA-1 become SHA-256, as PostgreSQL computes it.
 * False if there is no certificate or its signature digest is unknown (such
 * as Ed25519). */
bool tls_cert_hash(struct ssl_st *ssl, bool own, unsigned char out[TLS_CERT_HASH_MAX], size_t *len);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519"; "" before the handshake. */
void tls_describe(struct ssl_st *ssl, char *buf, size_t n);
/* Why the last step failed, for logs and client errors. */
void tls_error_text(struct ssl_st *ssl, char *buf, size_t n);

#endif
