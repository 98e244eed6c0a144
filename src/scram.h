/* SCRAM-SHA-256 (RFC 5802, RFC 7677) in both roles, PostgreSQL's md5 password
 * hashing, and the strict base64 they share.  Pure: no sockets, no globals, no
 * logging.  Every peer message is untrusted and parsed against its length; the
 * state structs hold fixed-size buffers, so nothing here allocates. */
#ifndef FAIRWAY_SCRAM_H
#define FAIRWAY_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAM_KEY_LEN            32       /* SHA-256 output: keys, signatures, proofs */
#define SCRAM_MAX_SALT_LEN       128      /* decoded salt bytes */
#define SCRAM_MAX_NONCE_LEN      256      /* characters of one side's nonce */
#define SCRAM_MAX_MESSAGE_LEN    1024     /* bytes of any one SCRAM message */
#define SCRAM_MAX_ITERATIONS     10000000 /* refused above this in a server-first-message */
#define SCRAM_DEFAULT_ITERATIONS 4096     /* PostgreSQL's default scram_iterations */
#define SCRAM_MAX_SECRET_LEN     320      /* characters of "SCRAM-SHA-256$...", without NUL */
#define PG_MD5_SECRET_LEN        35       /* "md5" + 32 hex, without NUL */

#define SCRAM_MUST_CHECK __attribute__((warn_unused_result))

/* ---- PostgreSQL md5 ---------------------------------------------------- */

/* out = "md5" + hex(md5(pass || salt)) + NUL.  The stored md5 secret is
 * pg_md5_hash(password, user); the answer to AuthenticationMD5Password(salt)
 * is pg_md5_hash(secret + 3 (32 hex chars), salt (4 bytes)).  If OpenSSL cannot
 * compute MD5 (FIPS mode), out is the empty string. */
void pg_md5_hash(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
                 char out[36]);

/* Checks a client's PasswordMessage for md5 auth.  stored_secret is a plain
 * password or an md5 secret ("md5" + 32 hex); an empty password or a SCRAM
 * secret never matches.  The comparison runs in constant time. */
SCRAM_MUST_CHECK bool pg_md5_check_response(const char *stored_secret, const char *user,
                                            const uint8_t salt[4], const char *client_response);

/* True for "md5" followed by exactly 32 lowercase hex digits. */
bool pg_is_md5_secret(const char *s);

/* ---- base64 (RFC 4648, standard alphabet, padded) ----------------------- */

/* Writes the encoding and a NUL; returns its length, or 0 if out_size cannot
 * hold it (an empty input also returns 0, with out = ""). */
size_t scram_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Strict: length a multiple of 4, alphabet only, '=' only as final padding,
 * unused bits zero.  False on any violation or if the result exceeds out_size. */
SCRAM_MUST_CHECK bool scram_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size,
                                       size_t *out_len);

/* ---- stored secrets ----------------------------------------------------- */

struct scram_secret {
	int iterations; /* >= 1 */
	uint8_t salt[SCRAM_MAX_SALT_LEN];
	size_t salt_len; /* 1..SCRAM_MAX_SALT_LEN */
	uint8_t stored_key[SCRAM_KEY_LEN];
	uint8_t server_key[SCRAM_KEY_LEN];
};

/* "SCRAM-SHA-256$<iterations>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>", as
 * in pg_authid.rolpassword.  out is written only on success. */
SCRAM_MUST_CHECK bool scram_parse_secret(const char *s, struct scram_secret *out);

/* The inverse of scram_parse_secret(); false if out_size is too small. */
SCRAM_MUST_CHECK bool scram_format_secret(const struct scram_secret *secret, char *out,
                                          size_t out_size);

/* Derives a secret from a password.  No SASLprep: the password's bytes are
 * used as they are.  That equals PostgreSQL for every ASCII password
 * (SASLprep leaves printable ASCII unchanged, and PostgreSQL itself falls back
 * to the raw bytes when a password holds control characters or is not UTF-8);
 * a non-ASCII password that SASLprep would change (NFKC, non-ASCII spaces,
 * characters mapped to nothing) yields keys PostgreSQL would not compute. */
SCRAM_MUST_CHECK bool scram_secret_from_password(const char *password, const uint8_t *salt,
                                                 size_t salt_len, int iterations,
                                                 struct scram_secret *out);

/* ---- server role: Fairway authenticates a client ------------------------ */

enum scram_server_state {
	SCRAM_SERVER_INIT,       /* expecting the client-first-message */
	SCRAM_SERVER_FIRST_SENT, /* server-first-message written; expecting client-final */
	SCRAM_SERVER_DONE,       /* proof verified; client_key valid */
	SCRAM_SERVER_FAILED,     /* any error: every later call fails */
};

#define SCRAM_CBIND_TYPE     "tls-server-end-point" /* the only channel binding type */
#define SCRAM_CBIND_MAX_DATA 64                     /* bytes: a SHA-512 certificate hash */

/* Channel binding (RFC 5802 section 6, tls-server-end-point of RFC 5929):
 * without scram_server_set_cbind() the gs2 header must be "n" or "y" and "p="
 * is refused.  With it, the server has advertised SCRAM-SHA-256-PLUS: the
 * client must use "p=tls-server-end-point" if it chose -PLUS and "n" if it
 * chose SCRAM-SHA-256 ("y" is a downgrade and refused), and the client-final
 * "c=" must carry the gs2 header followed by the certificate hash.  An
 * authorization identity ("a=") and mandatory extensions ("m=") are refused,
 * as PostgreSQL does.  The username attribute is ignored (PostgreSQL takes the
 * user from the startup packet). */
struct scram_server {
	enum scram_server_state state;
	struct scram_secret secret; /* owned copy; wiped by scram_server_clear() */
	bool is_mock;               /* unknown user: the exchange runs, the proof always fails */
	bool cbind_offered;         /* SCRAM-SHA-256-PLUS was advertised; cbind_data valid */
	bool cbind_selected;        /* the client chose SCRAM-SHA-256-PLUS */
	uint8_t cbind_data[SCRAM_CBIND_MAX_DATA]; /* our certificate's hash */
	size_t cbind_data_len;
	char cbind_flag;     /* 'n', 'y' or 'p'; valid from FIRST_SENT */
	bool cbind_mismatch; /* SCRAM_BAD_PROOF came from a wrong certificate hash */
	char client_first_bare[SCRAM_MAX_MESSAGE_LEN + 1]; /* valid from FIRST_SENT */
	size_t client_first_bare_len;
	char server_first[SCRAM_MAX_MESSAGE_LEN + 1]; /* valid from FIRST_SENT */
	size_t server_first_len;
	char nonce[2 * SCRAM_MAX_NONCE_LEN + 1]; /* client nonce + server nonce */
	size_t nonce_len;
	uint8_t client_key[SCRAM_KEY_LEN]; /* recovered from the proof, for pass-through login */
	bool client_key_valid;             /* true only in DONE */
};

void scram_server_init(struct scram_server *st, const struct scram_secret *secret);

/* For a user without a secret: the exchange looks like a real one (salt
 * derived from user and mock_key, so it is stable across attempts and does not
 * reveal that the user is unknown) and scram_server_final() returns
 * SCRAM_BAD_PROOF.  mock_key is a per-process random secret. */
void scram_server_init_mock(struct scram_server *st, const char *user, const uint8_t *mock_key,
                            size_t mock_key_len);

/* Before scram_server_first(): the connection is TLS and SCRAM-SHA-256-PLUS
 * was advertised (data = the tls-server-end-point hash of our certificate,
 * 1..SCRAM_CBIND_MAX_DATA bytes; NULL when -PLUS was not advertised), and
 * whether the client's SASLInitialResponse chose it.  False (the exchange is
 * failed) for a bad length, or for selected without data. */
SCRAM_MUST_CHECK bool scram_server_set_cbind(struct scram_server *st, const uint8_t *data,
                                             size_t len, bool selected);

/* in = SASLInitialResponse data (client-first-message), not NUL-terminated.
 * On success writes the server-first-message into out (NUL-terminated) and
 * returns true; false = malformed or out of room, err gets a short reason. */
SCRAM_MUST_CHECK bool scram_server_first(struct scram_server *st, const char *in, size_t in_len,
                                         char *out, size_t out_size, char *err, size_t err_len);

/* Test hook: as scram_server_first() with a fixed server nonce (1..256
 * printable ASCII characters other than ','), for known-answer tests. */
SCRAM_MUST_CHECK bool scram_server_first_with_nonce(struct scram_server *st, const char *in,
                                                    size_t in_len, const char *server_nonce,
                                                    char *out, size_t out_size, char *err,
                                                    size_t err_len);

enum scram_result {
	SCRAM_OK,        /* out holds the server-final-message ("v=...") */
	SCRAM_BAD_PROOF, /* well-formed, wrong password: SQLSTATE 28P01 */
	SCRAM_MALFORMED, /* protocol violation (or an internal failure, named in err): 08P01 */
};

/* in = client-final-message.  Checks the channel-binding echo ("biws" or
 * "eSws", matching the gs2 header, or for "p" the header and the certificate
 * hash), the nonce, and the proof in constant time.  A certificate hash that
 * differs is SCRAM_BAD_PROOF (the same answer as a wrong password), with
 * err saying so for the log. */
SCRAM_MUST_CHECK enum scram_result scram_server_final(struct scram_server *st, const char *in,
                                                      size_t in_len, char *out, size_t out_size,
                                                      char *err, size_t err_len);

/* Wipes the secret, the recovered ClientKey and all transcript state. */
void scram_server_clear(struct scram_server *st);

/* ---- client role: Fairway logs in to PostgreSQL ------------------------- */

enum scram_client_state {
	SCRAM_CLIENT_INIT,       /* nothing sent */
	SCRAM_CLIENT_FIRST_SENT, /* client-first-message written */
	SCRAM_CLIENT_FINAL_SENT, /* client-final-message written; server_signature valid */
	SCRAM_CLIENT_DONE,       /* server signature verified */
	SCRAM_CLIENT_FAILED,     /* any error: every later call fails */
};

struct scram_client {
	enum scram_client_state state;
	char nonce[SCRAM_MAX_NONCE_LEN + 1]; /* ours; valid from FIRST_SENT */
	size_t nonce_len;
	char client_first_bare[SCRAM_MAX_MESSAGE_LEN + 1]; /* valid from FIRST_SENT */
	size_t client_first_bare_len;
	char server_first[SCRAM_MAX_MESSAGE_LEN + 1]; /* valid from FINAL_SENT */
	size_t server_first_len;
	uint8_t server_signature[SCRAM_KEY_LEN];  /* expected "v=" value; valid in FINAL_SENT */
	uint8_t cbind_data[SCRAM_CBIND_MAX_DATA]; /* the server certificate's hash */
	size_t cbind_data_len;                    /* 0: no channel binding ("n,,") */
};

void scram_client_init(struct scram_client *st);

/* Before the first message: use SCRAM-SHA-256-PLUS with tls-server-end-point
 * data (the server certificate's hash, 1..SCRAM_CBIND_MAX_DATA bytes).  The
 * gs2 header becomes "p=tls-server-end-point,," and "c=" carries it and the
 * data.  False (the exchange is failed) for a bad length. */
SCRAM_MUST_CHECK bool scram_client_set_cbind(struct scram_client *st, const uint8_t *data,
                                             size_t len);

/* Writes "n,,n=,r=<24 random bytes in base64>" (libpq's form: the user name is
 * sent in the startup packet, not here); "p=tls-server-end-point,," instead
 * of "n,," after scram_client_set_cbind(). */
SCRAM_MUST_CHECK bool scram_client_first(struct scram_client *st, char *out, size_t out_size);

/* Test hook: a given user name (escaped as RFC 5802 says; NULL = empty) and
 * nonce (1..256 printable ASCII characters other than ','). */
SCRAM_MUST_CHECK bool scram_client_first_with_nonce(struct scram_client *st, const char *user,
                                                    const char *nonce, char *out, size_t out_size);

/* server_first = AuthenticationSASLContinue data, not NUL-terminated.  Checks
 * that the server nonce extends ours, the salt decodes, and 1 <= i <=
 * SCRAM_MAX_ITERATIONS; writes the client-final-message.  Password bytes are
 * used without SASLprep (see scram_secret_from_password()). */
SCRAM_MUST_CHECK bool scram_client_final(struct scram_client *st, const char *password,
                                         const char *server_first, size_t len, char *out,
                                         size_t out_size, char *err, size_t err_len);

/* Pass-through login: as scram_client_final() with the ClientKey recovered by
 * scram_server_final() and the ServerKey of the same secret, no password. */
SCRAM_MUST_CHECK bool scram_client_final_with_keys(struct scram_client *st,
                                                   const uint8_t client_key[SCRAM_KEY_LEN],
                                                   const uint8_t server_key[SCRAM_KEY_LEN],
                                                   const char *server_first, size_t len, char *out,
                                                   size_t out_size, char *err, size_t err_len);

/* server_final = AuthenticationSASLFinal data.  True only for "v=<signature>"
 * matching ours (constant time); "e=..." and anything else are false. */
SCRAM_MUST_CHECK bool scram_client_verify_server(struct scram_client *st, const char *server_final,
                                                 size_t len);

void scram_client_clear(struct scram_client *st);

#endif
