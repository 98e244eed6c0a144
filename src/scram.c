/* SCRAM-SHA-256 in both roles (Fairway as the server clients log in to, and as
 * the client of PostgreSQL), PostgreSQL's md5 hashing and strict base64, on
 * OpenSSL primitives.  Messages from peers are parsed with a cursor against an
 * end pointer; nothing reads past a length, and every limit is checked before
 * a byte is copied into the fixed-size state buffers. */
#include "scram.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define RANDOM_NONCE_BYTES 24 /* 32 base64 characters */
#define MOCK_SALT_LEN      16 /* PostgreSQL's default salt length */
#define AUTH_MESSAGE_MAX   (3 * SCRAM_MAX_MESSAGE_LEN + 3)

static const char gs2_n_b64[] = "biws"; /* base64("n,,") */
static const char gs2_y_b64[] = "eSws"; /* base64("y,,") */

/* ---- small helpers ------------------------------------------------------ */

static void set_err(char *err, size_t err_len, const char *why)
{
	if (err != NULL && err_len > 0)
		snprintf(err, err_len, "%s", why);
}

/* A bounded string builder: once anything does not fit, ok stays false and
 * the buffer holds "". */
struct writer {
	char *buf;
	size_t size;
	size_t len;
	bool ok;
};

static void w_init(struct writer *w, char *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->ok = buf != NULL && size > 0;
	if (w->ok)
		buf[0] = '\0';
}

static void w_fail(struct writer *w)
{
	if (w->ok)
		w->buf[0] = '\0';
	w->ok = false;
}

static void w_put(struct writer *w, const char *s, size_t n)
{
	if (!w->ok)
		return;
	if (n >= w->size - w->len) {
		w_fail(w);
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void w_str(struct writer *w, const char *s)
{
	w_put(w, s, strlen(s));
}

static void w_b64(struct writer *w, const uint8_t *data, size_t len)
{
	size_t n;

	if (!w->ok)
		return;
	n = scram_b64_encode(data, len, w->buf + w->len, w->size - w->len);
	if (n == 0 && len > 0) {
		w_fail(w);
		return;
	}
	w->len += n;
}

static void w_int(struct writer *w, int v)
{
	char tmp[16];
	int n = snprintf(tmp, sizeof(tmp), "%d", v);

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w_fail(w);
		return;
	}
	w_put(w, tmp, (size_t)n);
}

/* A read position in an untrusted message. */
struct cursor {
	const char *p;
	const char *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p == c->end;
}

static bool peek_char(const struct cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool take_char(struct cursor *c, char ch)
{
	if (!peek_char(c, ch))
		return false;
	c->p++;
	return true;
}

/* Reads "<name>=<value>"; the value runs to the next ',' or the end, which is
 * left unread.  The value may be empty. */
static bool take_attr(struct cursor *c, char name, const char **val, size_t *val_len)
{
	const char *comma;

	if (c->end - c->p < 2 || c->p[0] != name || c->p[1] != '=')
		return false;
	c->p += 2;
	comma = memchr(c->p, ',', (size_t)(c->end - c->p));
	if (comma == NULL)
		comma = c->end;
	*val = c->p;
	*val_len = (size_t)(comma - c->p);
	c->p = comma;
	return true;
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* An optional extension "<letter>=<value>", which we read and ignore. */
static bool take_extension(struct cursor *c)
{
	const char *val;
	size_t len;

	if (c->p >= c->end || !is_alpha(*c->p))
		return false;
	return take_attr(c, *c->p, &val, &len) && len > 0;
}

/* RFC 5802 "printable": ASCII 0x21..0x7e except ','. */
static bool is_valid_nonce(const char *s, size_t len, size_t max_len)
{
	if (len == 0 || len > max_len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x21 || ch > 0x7e || ch == ',')
			return false;
	}
	return true;
}

/* A positive decimal without sign, spaces or leading zeros, at most max. */
static bool parse_positive(const char *s, size_t len, long long max, int *out)
{
	long long v = 0;

	if (len == 0 || len > 10 || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > max || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

/* Checks a whole message's framing: a length within bounds and no NUL, so no
 * later step can be fooled by a C string ending early. */
static bool message_ok(const char *in, size_t in_len)
{
	return in != NULL && in_len > 0 && in_len <= SCRAM_MAX_MESSAGE_LEN &&
	       memchr(in, '\0', in_len) == NULL;
}

/* ---- crypto primitives -------------------------------------------------- */

static bool sha256(const void *data, size_t len, uint8_t out[SCRAM_KEY_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == SCRAM_KEY_LEN;
}

static bool hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                        uint8_t out[SCRAM_KEY_LEN])
{
	unsigned int n = 0;

	if (key_len > INT_MAX)
		return false;
	return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) != NULL &&
	       n == SCRAM_KEY_LEN;
}

/* SaltedPassword = Hi(password, salt, i); ClientKey and ServerKey from it. */
static bool keys_from_password(const char *password, const uint8_t *salt, size_t salt_len,
                               int iterations, uint8_t client_key[SCRAM_KEY_LEN],
                               uint8_t server_key[SCRAM_KEY_LEN])
{
	static const char client_label[] = "Client Key", server_label[] = "Server Key";
	uint8_t salted[SCRAM_KEY_LEN];
	size_t pw_len = strlen(password);
	bool ok;

	if (pw_len > INT_MAX || salt_len == 0 || salt_len > SCRAM_MAX_SALT_LEN || iterations < 1)
		return false;
	ok = PKCS5_PBKDF2_HMAC(password, (int)pw_len, salt, (int)salt_len, iterations, EVP_sha256(),
	                       SCRAM_KEY_LEN, salted) == 1 &&
	     hmac_sha256(salted, sizeof(salted), client_label, strlen(client_label), client_key) &&
	     hmac_sha256(salted, sizeof(salted), server_label, strlen(server_label), server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	return ok;
}

/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof. */
static bool build_auth_message(char *buf, size_t size, size_t *len, const char *cfb, size_t cfb_len,
                               const char *sf, size_t sf_len, const char *cfwp, size_t cfwp_len)
{
	struct writer w;

	w_init(&w, buf, size);
	w_put(&w, cfb, cfb_len);
	w_put(&w, ",", 1);
	w_put(&w, sf, sf_len);
	w_put(&w, ",", 1);
	w_put(&w, cfwp, cfwp_len);
	*len = w.len;
	return w.ok;
}

/* ---- PostgreSQL md5 ----------------------------------------------------- */

void pg_md5_hash(const void *pass, size_t pass_len, const void *salt, size_t salt_len, char out[36])
{
	static const char hex[] = "0123456789abcdef";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t digest[16];
	unsigned int n = 0;
	bool ok;

	out[0] = '\0';
	if (ctx == NULL)
		return;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	     (pass_len == 0 || EVP_DigestUpdate(ctx, pass, pass_len) == 1) &&
	     (salt_len == 0 || EVP_DigestUpdate(ctx, salt, salt_len) == 1) &&
	     EVP_DigestFinal_ex(ctx, digest, &n) == 1 && n == sizeof(digest);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return;
	memcpy(out, "md5", 3);
	for (size_t i = 0; i < sizeof(digest); i++) {
		out[3 + 2 * i] = hex[digest[i] >> 4];
		out[4 + 2 * i] = hex[digest[i] & 0x0f];
	}
	out[PG_MD5_SECRET_LEN] = '\0';
	OPENSSL_cleanse(digest, sizeof(digest));
}

bool pg_is_md5_secret(const char *s)
{
	if (s == NULL || strncmp(s, "md5", 3) != 0)
		return false;
	for (size_t i = 3; i < PG_MD5_SECRET_LEN; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false; /* also stops at a NUL */
	}
	return s[PG_MD5_SECRET_LEN] == '\0';
}

bool pg_md5_check_response(const char *stored_secret, const char *user, const uint8_t salt[4],
                           const char *client_response)
{
	char secret[36], expected[36];
	struct scram_secret scram;
	bool ok;

	if (stored_secret == NULL || user == NULL || salt == NULL || client_response == NULL ||
	    stored_secret[0] == '\0')
		return false;
	if (pg_is_md5_secret(stored_secret)) {
		memcpy(secret, stored_secret, sizeof(secret));
	} else if (scram_parse_secret(stored_secret, &scram)) {
		OPENSSL_cleanse(&scram, sizeof(scram));
		return false; /* a SCRAM verifier cannot answer an md5 challenge */
	} else {
		pg_md5_hash(stored_secret, strlen(stored_secret), user, strlen(user), secret);
		if (secret[0] == '\0')
			return false;
	}
	pg_md5_hash(secret + 3, 32, salt, 4, expected);
	ok = expected[0] != '\0' &&
	     strnlen(client_response, sizeof(expected)) == PG_MD5_SECRET_LEN &&
	     CRYPTO_memcmp(expected, client_response, PG_MD5_SECRET_LEN) == 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(expected, sizeof(expected));
	return ok;
}

/* ---- base64 ------------------------------------------------------------- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t scram_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
	size_t need, i, o = 0;
	uint32_t v;

	if (out == NULL || out_size == 0)
		return 0;
	out[0] = '\0';
	if (len / 3 >= SIZE_MAX / 4 - 1)
		return 0;
	need = (len + 2) / 3 * 4;
	if (out_size < need + 1)
		return 0;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = b64_chars[v >> 6 & 63];
		out[o++] = b64_chars[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = b64_chars[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

bool scram_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size, size_t *out_len)
{
	size_t pad = 0, o = 0;

	if (out_len != NULL)
		*out_len = 0;
	if ((in == NULL && in_len > 0) || in_len % 4 != 0)
		return false;
	if (in_len == 0)
		return true;
	if (in[in_len - 1] == '=')
		pad = in[in_len - 2] == '=' ? 2 : 1;
	if (in_len / 4 * 3 - pad > out_size)
		return false;
	for (size_t i = 0; i < in_len; i += 4) {
		bool last = i + 4 == in_len;
		int a = b64_value(in[i]), b = b64_value(in[i + 1]);
		int c = last && pad == 2 ? 0 : b64_value(in[i + 2]);
		int d = last && pad >= 1 ? 0 : b64_value(in[i + 3]);
		uint32_t v;

		/* '=' anywhere but the padding maps to -1 and fails here. */
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return false;
		/* The bits the padding drops must be zero: one encoding per value. */
		if (last && ((pad == 2 && (b & 0x0f) != 0) || (pad == 1 && (c & 0x03) != 0)))
			return false;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(v >> 16);
		if (!(last && pad == 2))
			out[o++] = (uint8_t)(v >> 8);
		if (!(last && pad >= 1))
			out[o++] = (uint8_t)v;
	}
	if (out_len != NULL)
		*out_len = o;
	return true;
}

/* Decodes a value that must be exactly SCRAM_KEY_LEN bytes. */
static bool decode_key(const char *in, size_t in_len, uint8_t out[SCRAM_KEY_LEN])
{
	size_t n;

	return in_len == 44 && scram_b64_decode(in, in_len, out, SCRAM_KEY_LEN, &n) &&
	       n == SCRAM_KEY_LEN;
}

/* ---- stored secrets ----------------------------------------------------- */

bool scram_parse_secret(const char *s, struct scram_secret *out)
{
	static const char prefix[] = "SCRAM-SHA-256$";
	const size_t prefix_len = sizeof(prefix) - 1;
	const char *p, *end, *colon1, *dollar, *colon2;
	struct scram_secret tmp;
	size_t n;
	bool ok;

	if (s == NULL || out == NULL)
		return false;
	n = strnlen(s, SCRAM_MAX_SECRET_LEN + 1);
	if (n > SCRAM_MAX_SECRET_LEN || n < prefix_len || memcmp(s, prefix, prefix_len) != 0)
		return false;
	p = s + prefix_len;
	end = s + n;
	colon1 = memchr(p, ':', (size_t)(end - p));
	if (colon1 == NULL)
		return false;
	dollar = memchr(colon1 + 1, '$', (size_t)(end - colon1 - 1));
	if (dollar == NULL)
		return false;
	colon2 = memchr(dollar + 1, ':', (size_t)(end - dollar - 1));
	if (colon2 == NULL)
		return false;

	/* The base64 alphabet has neither ':' nor '$', so a stray separator makes
	 * one of the decodes below fail. */
	memset(&tmp, 0, sizeof(tmp));
	ok = parse_positive(p, (size_t)(colon1 - p), INT_MAX, &tmp.iterations) &&
	     scram_b64_decode(colon1 + 1, (size_t)(dollar - colon1 - 1), tmp.salt, sizeof(tmp.salt),
	                      &tmp.salt_len) &&
	     tmp.salt_len > 0 &&
	     decode_key(dollar + 1, (size_t)(colon2 - dollar - 1), tmp.stored_key) &&
	     decode_key(colon2 + 1, (size_t)(end - colon2 - 1), tmp.server_key);
	if (ok)
		*out = tmp;
	OPENSSL_cleanse(&tmp, sizeof(tmp));
	return ok;
}

bool scram_format_secret(const struct scram_secret *secret, char *out, size_t out_size)
{
	struct writer w;

	w_init(&w, out, out_size);
	if (secret == NULL || secret->iterations < 1 || secret->salt_len == 0 ||
	    secret->salt_len > SCRAM_MAX_SALT_LEN) {
		w_fail(&w);
		return false;
	}
	w_str(&w, "SCRAM-SHA-256$");
	w_int(&w, secret->iterations);
	w_str(&w, ":");
	w_b64(&w, secret->salt, secret->salt_len);
	w_str(&w, "$");
	w_b64(&w, secret->stored_key, SCRAM_KEY_LEN);
	w_str(&w, ":");
	w_b64(&w, secret->server_key, SCRAM_KEY_LEN);
	return w.ok;
}

bool scram_secret_from_password(const char *password, const uint8_t *salt, size_t salt_len,
                                int iterations, struct scram_secret *out)
{
	uint8_t client_key[SCRAM_KEY_LEN];
	struct scram_secret tmp;
	bool ok;

	if (password == NULL || salt == NULL || out == NULL || salt_len == 0 ||
	    salt_len > SCRAM_MAX_SALT_LEN || iterations < 1)
		return false;
	memset(&tmp, 0, sizeof(tmp));
	tmp.iterations = iterations;
	memcpy(tmp.salt, salt, salt_len);
	tmp.salt_len = salt_len;
	ok = keys_from_password(password, salt, salt_len, iterations, client_key, tmp.server_key) &&
	     sha256(client_key, sizeof(client_key), tmp.stored_key);
	if (ok)
		*out = tmp;
	OPENSSL_cleanse(client_key, sizeof(client_key));
	OPENSSL_cleanse(&tmp, sizeof(tmp));
	return ok;
}

/* ---- server role -------------------------------------------------------- */

static bool secret_is_usable(const struct scram_secret *s)
{
	return s->iterations >= 1 && s->salt_len >= 1 && s->salt_len <= SCRAM_MAX_SALT_LEN;
}

void scram_server_init(struct scram_server *st, const struct scram_secret *secret)
{
	memset(st, 0, sizeof(*st));
	st->state = SCRAM_SERVER_INIT;
	if (secret != NULL) {
		st->secret = *secret;
		return;
	}
	/* No secret at all: run a mock exchange with a random salt. */
	st->is_mock = true;
	st->secret.iterations = SCRAM_DEFAULT_ITERATIONS;
	st->secret.salt_len = MOCK_SALT_LEN;
	if (RAND_bytes(st->secret.salt, MOCK_SALT_LEN) != 1)
		memset(st->secret.salt, 0x5a, MOCK_SALT_LEN);
}

void scram_server_init_mock(struct scram_server *st, const char *user, const uint8_t *mock_key,
                            size_t mock_key_len)
{
	uint8_t digest[SCRAM_KEY_LEN];

	scram_server_init(st, NULL);
	if (user != NULL && mock_key != NULL && mock_key_len > 0 &&
	    hmac_sha256(mock_key, mock_key_len, user, strlen(user), digest)) {
		memcpy(st->secret.salt, digest, MOCK_SALT_LEN);
		OPENSSL_cleanse(digest, sizeof(digest));
	}
}

static bool server_fail(struct scram_server *st, char *err, size_t err_len, const char *why)
{
	st->state = SCRAM_SERVER_FAILED;
	set_err(err, err_len, why);
	return false;
}

bool scram_server_set_cbind(struct scram_server *st, const uint8_t *data, size_t len, bool selected)
{
	if (st->state != SCRAM_SERVER_INIT)
		return server_fail(st, NULL, 0, "");
	if (data == NULL) {
		st->cbind_offered = false;
		st->cbind_data_len = 0;
		st->cbind_selected = selected;
		if (selected)
			return server_fail(st, NULL, 0, "");
		return true;
	}
	if (len == 0 || len > SCRAM_CBIND_MAX_DATA)
		return server_fail(st, NULL, 0, "");
	memcpy(st->cbind_data, data, len);
	st->cbind_data_len = len;
	st->cbind_offered = true;
	st->cbind_selected = selected;
	return true;
}

/* Reads the gs2 header's channel binding flag, as PostgreSQL decides it. */
static const char *take_cbind_flag(const struct scram_server *st, struct cursor *c, char *flag)
{
	static const char cbind_type[] = SCRAM_CBIND_TYPE;
	const char *name;
	size_t name_len;

	if (take_attr(c, 'p', &name, &name_len)) {
		if (!st->cbind_selected)
			return "the client selected SCRAM-SHA-256 without channel binding, but the "
			       "SCRAM message includes channel binding data";
		if (name_len != sizeof(cbind_type) - 1 || memcmp(name, cbind_type, name_len) != 0)
			return "unsupported SCRAM channel binding type";
		*flag = 'p';
		return NULL;
	}
	if (take_char(c, 'n') || take_char(c, 'y')) {
		*flag = c->p[-1];
		if (st->cbind_selected)
			return "the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does "
			       "not include channel binding data";
		if (*flag == 'y' && st->cbind_offered)
			return "SCRAM channel binding negotiation error: the client supports "
			       "channel binding but thinks the server does not, and this server "
			       "does";
		return NULL;
	}
	return "malformed SCRAM gs2 header";
}

static bool server_first(struct scram_server *st, const char *in, size_t in_len, const char *snonce,
                         size_t snonce_len, char *out, size_t out_size, char *err, size_t err_len)
{
	struct cursor c;
	const char *bare, *user, *cnonce, *why;
	size_t user_len, cnonce_len;
	char flag = 'n';
	struct writer w;

	if (out != NULL && out_size > 0)
		out[0] = '\0';
	if (st->state != SCRAM_SERVER_INIT)
		return server_fail(st, err, err_len, "unexpected SCRAM client-first-message");
	if (!secret_is_usable(&st->secret))
		return server_fail(st, err, err_len, "unusable SCRAM secret");
	if (!message_ok(in, in_len))
		return server_fail(st, err, err_len,
		                   "SCRAM client-first-message is empty, too long or has NUL");
	c.p = in;
	c.end = in + in_len;

	/* gs2-header: cbind flag "," [authzid] "," */
	if ((why = take_cbind_flag(st, &c, &flag)) != NULL)
		return server_fail(st, err, err_len, why);
	if (!take_char(&c, ','))
		return server_fail(st, err, err_len, "malformed SCRAM gs2 header");
	if (peek_char(&c, 'a'))
		return server_fail(st, err, err_len,
		                   "SCRAM authorization identity is not supported");
	if (!take_char(&c, ','))
		return server_fail(st, err, err_len, "malformed SCRAM gs2 header");

	/* client-first-message-bare: [m=...,] n=user,r=nonce[,extensions] */
	bare = c.p;
	if (peek_char(&c, 'm'))
		return server_fail(st, err, err_len, "SCRAM mandatory extension is not supported");
	if (!take_attr(&c, 'n', &user, &user_len))
		return server_fail(st, err, err_len, "SCRAM username attribute expected");
	(void)user; /* PostgreSQL takes the user from the startup packet */
	if (!take_char(&c, ',') || !take_attr(&c, 'r', &cnonce, &cnonce_len))
		return server_fail(st, err, err_len, "SCRAM nonce attribute expected");
	if (!is_valid_nonce(cnonce, cnonce_len, SCRAM_MAX_NONCE_LEN))
		return server_fail(st, err, err_len, "invalid SCRAM client nonce");
	while (!at_end(&c)) {
		if (!take_char(&c, ',') || !take_extension(&c))
			return server_fail(st, err, err_len, "malformed SCRAM attribute");
	}

	st->cbind_flag = flag;
	st->client_first_bare_len = (size_t)(c.end - bare); /* < SCRAM_MAX_MESSAGE_LEN */
	memcpy(st->client_first_bare, bare, st->client_first_bare_len);
	st->client_first_bare[st->client_first_bare_len] = '\0';
	memcpy(st->nonce, cnonce, cnonce_len);
	memcpy(st->nonce + cnonce_len, snonce, snonce_len);
	st->nonce_len = cnonce_len + snonce_len;
	st->nonce[st->nonce_len] = '\0';

	w_init(&w, st->server_first, sizeof(st->server_first));
	w_str(&w, "r=");
	w_put(&w, st->nonce, st->nonce_len);
	w_str(&w, ",s=");
	w_b64(&w, st->secret.salt, st->secret.salt_len);
	w_str(&w, ",i=");
	w_int(&w, st->secret.iterations);
	if (!w.ok)
		return server_fail(st, err, err_len, "SCRAM server-first-message too long");
	st->server_first_len = w.len;
	if (out == NULL || out_size <= w.len)
		return server_fail(st, err, err_len, "no room for SCRAM server-first-message");
	memcpy(out, st->server_first, w.len + 1);
	st->state = SCRAM_SERVER_FIRST_SENT;
	return true;
}

bool scram_server_first_with_nonce(struct scram_server *st, const char *in, size_t in_len,
                                   const char *server_nonce, char *out, size_t out_size, char *err,
                                   size_t err_len)
{
	size_t len = server_nonce == NULL ? 0 : strnlen(server_nonce, SCRAM_MAX_NONCE_LEN + 1);

	if (!is_valid_nonce(server_nonce, len, SCRAM_MAX_NONCE_LEN))
		return server_fail(st, err, err_len, "invalid SCRAM server nonce");
	return server_first(st, in, in_len, server_nonce, len, out, out_size, err, err_len);
}

bool scram_server_first(struct scram_server *st, const char *in, size_t in_len, char *out,
                        size_t out_size, char *err, size_t err_len)
{
	uint8_t raw[RANDOM_NONCE_BYTES];
	char nonce[2 * RANDOM_NONCE_BYTES];
	size_t len;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return server_fail(st, err, err_len, "random generator failed");
	len = scram_b64_encode(raw, sizeof(raw), nonce, sizeof(nonce));
	if (len == 0)
		return server_fail(st, err, err_len, "SCRAM nonce encoding failed");
	return server_first(st, in, in_len, nonce, len, out, out_size, err, err_len);
}

static enum scram_result server_malformed(struct scram_server *st, char *err, size_t err_len,
                                          const char *why)
{
	server_fail(st, err, err_len, why);
	return SCRAM_MALFORMED;
}

/* The "c=" value for a "p" gs2 header: base64 of the header and our
 * certificate hash.  Returns NULL, or the reason it is bad; *hash_differs
 * tells a wrong hash (a failed login) from a malformed value. */
static const char *check_cbind_data(const struct scram_server *st, const char *cb, size_t cb_len,
                                    bool *hash_differs)
{
	static const char header[] = "p=" SCRAM_CBIND_TYPE ",,";
	const size_t header_len = sizeof(header) - 1;
	uint8_t got[sizeof(header) + SCRAM_CBIND_MAX_DATA + 3]; /* room to see a longer one */
	size_t got_len = 0;

	if (!scram_b64_decode(cb, cb_len, got, sizeof(got), &got_len) || got_len < header_len ||
	    memcmp(got, header, header_len) != 0)
		return "SCRAM channel binding attribute does not match the gs2 header";
	if (got_len != header_len + st->cbind_data_len ||
	    CRYPTO_memcmp(got + header_len, st->cbind_data, st->cbind_data_len) != 0) {
		*hash_differs = true;
		return "SCRAM channel binding check failed: the client's tls-server-end-point data "
		       "is not the hash of this server's certificate";
	}
	return NULL;
}

/* Reads "c=<base64 gs2 header>,r=<nonce>[,extensions],p=<proof>" and checks
 * everything but the proof itself.  Returns NULL or the reason it is bad;
 * cfwp_len is the length of the client-final-message-without-proof. */
static const char *parse_client_final(const struct scram_server *st, const char *in, size_t in_len,
                                      uint8_t proof[SCRAM_KEY_LEN], size_t *cfwp_len,
                                      bool *cbind_differs)
{
	const char *expected_cb = st->cbind_flag == 'y' ? gs2_y_b64 : gs2_n_b64;
	const char *cb, *nonce, *proof_b64, *proof_start, *why;
	size_t cb_len, nonce_len, proof_len;
	struct cursor c;

	if (!message_ok(in, in_len))
		return "SCRAM client-final-message is empty, too long or has NUL";
	c.p = in;
	c.end = in + in_len;
	if (!take_attr(&c, 'c', &cb, &cb_len))
		return "SCRAM channel binding attribute expected";
	if (st->cbind_flag == 'p') {
		if ((why = check_cbind_data(st, cb, cb_len, cbind_differs)) != NULL)
			return why;
	} else if (cb_len != 4 || memcmp(cb, expected_cb, 4) != 0) {
		return "SCRAM channel binding check failed";
	}
	if (!take_char(&c, ',') || !take_attr(&c, 'r', &nonce, &nonce_len))
		return "SCRAM nonce attribute expected";
	if (nonce_len != st->nonce_len || memcmp(nonce, st->nonce, nonce_len) != 0)
		return "SCRAM nonce mismatch";
	for (;;) {
		proof_start = c.p;
		if (!take_char(&c, ','))
			return "SCRAM proof attribute expected";
		if (peek_char(&c, 'p'))
			break;
		if (!take_extension(&c))
			return "malformed SCRAM attribute";
	}
	if (!take_attr(&c, 'p', &proof_b64, &proof_len) || !at_end(&c))
		return "SCRAM proof must be the last attribute";
	if (!decode_key(proof_b64, proof_len, proof))
		return "invalid SCRAM proof encoding";
	*cfwp_len = (size_t)(proof_start - in);
	return NULL;
}

enum scram_result scram_server_final(struct scram_server *st, const char *in, size_t in_len,
                                     char *out, size_t out_size, char *err, size_t err_len)
{
	uint8_t proof[SCRAM_KEY_LEN], sig[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
	uint8_t stored[SCRAM_KEY_LEN];
	char am[AUTH_MESSAGE_MAX];
	size_t cfwp_len = 0, am_len;
	const char *why;
	struct writer w;
	bool matches, cbind_differs = false;

	if (out != NULL && out_size > 0)
		out[0] = '\0';
	if (st->state != SCRAM_SERVER_FIRST_SENT)
		return server_malformed(st, err, err_len, "unexpected SCRAM client-final-message");
	why = parse_client_final(st, in, in_len, proof, &cfwp_len, &cbind_differs);
	if (why != NULL) {
		OPENSSL_cleanse(proof, sizeof(proof));
		if (cbind_differs) {
			st->cbind_mismatch = true;
			server_fail(st, err, err_len, why);
			return SCRAM_BAD_PROOF;
		}
		return server_malformed(st, err, err_len, why);
	}
	if (!build_auth_message(am, sizeof(am), &am_len, st->client_first_bare,
	                        st->client_first_bare_len, st->server_first, st->server_first_len,
	                        in, cfwp_len)) {
		OPENSSL_cleanse(proof, sizeof(proof));
		return server_malformed(st, err, err_len, "SCRAM auth message too long");
	}

	/* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey. */
	if (!hmac_sha256(st->secret.stored_key, SCRAM_KEY_LEN, am, am_len, sig)) {
		OPENSSL_cleanse(proof, sizeof(proof));
		return server_malformed(st, err, err_len, "SCRAM HMAC failed");
	}
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		client_key[i] = proof[i] ^ sig[i];
	matches = sha256(client_key, sizeof(client_key), stored) &&
	          CRYPTO_memcmp(stored, st->secret.stored_key, SCRAM_KEY_LEN) == 0 && !st->is_mock;
	OPENSSL_cleanse(proof, sizeof(proof));
	OPENSSL_cleanse(stored, sizeof(stored));
	if (!matches) {
		OPENSSL_cleanse(client_key, sizeof(client_key));
		OPENSSL_cleanse(sig, sizeof(sig));
		server_fail(st, err, err_len, "password authentication failed");
		return SCRAM_BAD_PROOF;
	}

	/* ServerSignature = HMAC(ServerKey, AuthMessage). */
	if (!hmac_sha256(st->secret.server_key, SCRAM_KEY_LEN, am, am_len, sig)) {
		OPENSSL_cleanse(client_key, sizeof(client_key));
		return server_malformed(st, err, err_len, "SCRAM HMAC failed");
	}
	w_init(&w, out, out_size);
	w_str(&w, "v=");
	w_b64(&w, sig, sizeof(sig));
	OPENSSL_cleanse(sig, sizeof(sig));
	if (!w.ok) {
		OPENSSL_cleanse(client_key, sizeof(client_key));
		return server_malformed(st, err, err_len, "no room for SCRAM server-final-message");
	}
	memcpy(st->client_key, client_key, SCRAM_KEY_LEN);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	st->client_key_valid = true;
	st->state = SCRAM_SERVER_DONE;
	return SCRAM_OK;
}

void scram_server_clear(struct scram_server *st)
{
	OPENSSL_cleanse(st, sizeof(*st));
	st->state = SCRAM_SERVER_FAILED;
}

/* ---- client role -------------------------------------------------------- */

void scram_client_init(struct scram_client *st)
{
	memset(st, 0, sizeof(*st));
	st->state = SCRAM_CLIENT_INIT;
}

static bool client_fail(struct scram_client *st, char *err, size_t err_len, const char *why)
{
	st->state = SCRAM_CLIENT_FAILED;
	set_err(err, err_len, why);
	return false;
}

static const char gs2_p_header[] = "p=" SCRAM_CBIND_TYPE ",,";

bool scram_client_set_cbind(struct scram_client *st, const uint8_t *data, size_t len)
{
	if (st->state != SCRAM_CLIENT_INIT || data == NULL || len == 0 ||
	    len > SCRAM_CBIND_MAX_DATA)
		return client_fail(st, NULL, 0, "");
	memcpy(st->cbind_data, data, len);
	st->cbind_data_len = len;
	return true;
}

bool scram_client_first_with_nonce(struct scram_client *st, const char *user, const char *nonce,
                                   char *out, size_t out_size)
{
	size_t nonce_len = nonce == NULL ? 0 : strnlen(nonce, SCRAM_MAX_NONCE_LEN + 1);
	struct writer w;

	if (out != NULL && out_size > 0)
		out[0] = '\0';
	if (st->state != SCRAM_CLIENT_INIT ||
	    !is_valid_nonce(nonce, nonce_len, SCRAM_MAX_NONCE_LEN))
		return client_fail(st, NULL, 0, "");
	memcpy(st->nonce, nonce, nonce_len);
	st->nonce[nonce_len] = '\0';
	st->nonce_len = nonce_len;

	/* saslname: ',' and '=' are escaped as "=2C" and "=3D". */
	w_init(&w, st->client_first_bare, sizeof(st->client_first_bare));
	w_str(&w, "n=");
	for (const char *u = user == NULL ? "" : user; *u != '\0' && w.ok; u++) {
		if (*u == ',')
			w_str(&w, "=2C");
		else if (*u == '=')
			w_str(&w, "=3D");
		else
			w_put(&w, u, 1);
	}
	w_str(&w, ",r=");
	w_put(&w, nonce, nonce_len);
	if (!w.ok)
		return client_fail(st, NULL, 0, "");
	st->client_first_bare_len = w.len;

	w_init(&w, out, out_size);
	w_str(&w, st->cbind_data_len > 0 ? gs2_p_header : "n,,");
	w_put(&w, st->client_first_bare, st->client_first_bare_len);
	if (!w.ok)
		return client_fail(st, NULL, 0, "");
	st->state = SCRAM_CLIENT_FIRST_SENT;
	return true;
}

bool scram_client_first(struct scram_client *st, char *out, size_t out_size)
{
	uint8_t raw[RANDOM_NONCE_BYTES];
	char nonce[2 * RANDOM_NONCE_BYTES];

	if (RAND_bytes(raw, sizeof(raw)) != 1 ||
	    scram_b64_encode(raw, sizeof(raw), nonce, sizeof(nonce)) == 0) {
		if (out != NULL && out_size > 0)
			out[0] = '\0';
		return client_fail(st, NULL, 0, "");
	}
	return scram_client_first_with_nonce(st, NULL, nonce, out, out_size);
}

/* What the client needs from a server-first-message. */
struct server_first_fields {
	size_t nonce_len; /* the nonce is st->server_first + 2 */
	uint8_t salt[SCRAM_MAX_SALT_LEN];
	size_t salt_len;
	int iterations;
};

/* Parses and keeps "r=<nonce>,s=<salt>,i=<iterations>[,extensions]". */
static bool client_take_server_first(struct scram_client *st, const char *in, size_t in_len,
                                     struct server_first_fields *f, char *err, size_t err_len)
{
	const char *nonce, *salt, *iter;
	size_t nonce_len, salt_len, iter_len;
	struct cursor c;

	if (st->state != SCRAM_CLIENT_FIRST_SENT)
		return client_fail(st, err, err_len, "unexpected SCRAM server-first-message");
	if (!message_ok(in, in_len))
		return client_fail(st, err, err_len,
		                   "SCRAM server-first-message is empty, too long or has NUL");
	c.p = in;
	c.end = in + in_len;
	if (peek_char(&c, 'm'))
		return client_fail(st, err, err_len, "SCRAM mandatory extension is not supported");
	if (!take_attr(&c, 'r', &nonce, &nonce_len))
		return client_fail(st, err, err_len, "SCRAM nonce attribute expected");
	if (!is_valid_nonce(nonce, nonce_len, 2 * SCRAM_MAX_NONCE_LEN) ||
	    nonce_len <= st->nonce_len || memcmp(nonce, st->nonce, st->nonce_len) != 0)
		return client_fail(st, err, err_len, "SCRAM server nonce does not extend ours");
	if (!take_char(&c, ',') || !take_attr(&c, 's', &salt, &salt_len))
		return client_fail(st, err, err_len, "SCRAM salt attribute expected");
	if (!scram_b64_decode(salt, salt_len, f->salt, sizeof(f->salt), &f->salt_len) ||
	    f->salt_len == 0)
		return client_fail(st, err, err_len, "invalid SCRAM salt");
	if (!take_char(&c, ',') || !take_attr(&c, 'i', &iter, &iter_len))
		return client_fail(st, err, err_len, "SCRAM iteration count expected");
	if (!parse_positive(iter, iter_len, SCRAM_MAX_ITERATIONS, &f->iterations))
		return client_fail(st, err, err_len, "invalid SCRAM iteration count");
	while (!at_end(&c)) {
		if (!take_char(&c, ',') || !take_extension(&c))
			return client_fail(st, err, err_len, "malformed SCRAM attribute");
	}
	memcpy(st->server_first, in, in_len); /* in_len <= SCRAM_MAX_MESSAGE_LEN */
	st->server_first[in_len] = '\0';
	st->server_first_len = in_len;
	f->nonce_len = nonce_len;
	return true;
}

/* Writes "c=biws,r=<nonce>,p=<proof>" (with channel binding, "c=" is the
 * base64 of the gs2 header and the data) and keeps the expected server
 * signature. */
static bool client_finish(struct scram_client *st, const struct server_first_fields *f,
                          const uint8_t client_key[SCRAM_KEY_LEN],
                          const uint8_t server_key[SCRAM_KEY_LEN], char *out, size_t out_size,
                          char *err, size_t err_len)
{
	uint8_t stored[SCRAM_KEY_LEN], sig[SCRAM_KEY_LEN], proof[SCRAM_KEY_LEN];
	char cfwp[SCRAM_MAX_MESSAGE_LEN + 1], am[AUTH_MESSAGE_MAX];
	size_t am_len;
	struct writer w;
	bool ok;

	w_init(&w, cfwp, sizeof(cfwp));
	w_str(&w, "c=");
	if (st->cbind_data_len > 0) {
		uint8_t cb[sizeof(gs2_p_header) + SCRAM_CBIND_MAX_DATA];
		size_t hl = sizeof(gs2_p_header) - 1;

		memcpy(cb, gs2_p_header, hl);
		memcpy(cb + hl, st->cbind_data, st->cbind_data_len);
		w_b64(&w, cb, hl + st->cbind_data_len);
	} else {
		w_str(&w, gs2_n_b64);
	}
	w_str(&w, ",r=");
	w_put(&w, st->server_first + 2, f->nonce_len);
	if (!w.ok || !build_auth_message(am, sizeof(am), &am_len, st->client_first_bare,
	                                 st->client_first_bare_len, st->server_first,
	                                 st->server_first_len, cfwp, w.len))
		return client_fail(st, err, err_len, "SCRAM auth message too long");

	ok = sha256(client_key, SCRAM_KEY_LEN, stored) &&
	     hmac_sha256(stored, sizeof(stored), am, am_len, sig) &&
	     hmac_sha256(server_key, SCRAM_KEY_LEN, am, am_len, st->server_signature);
	if (ok) {
		for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
			proof[i] = client_key[i] ^ sig[i];
		w_str(&w, ",p=");
		w_b64(&w, proof, sizeof(proof));
	}
	OPENSSL_cleanse(stored, sizeof(stored));
	OPENSSL_cleanse(sig, sizeof(sig));
	OPENSSL_cleanse(proof, sizeof(proof));
	if (!ok)
		return client_fail(st, err, err_len, "SCRAM key computation failed");
	if (!w.ok || out == NULL || out_size <= w.len) {
		OPENSSL_cleanse(cfwp, sizeof(cfwp));
		return client_fail(st, err, err_len, "no room for SCRAM client-final-message");
	}
	memcpy(out, cfwp, w.len + 1);
	OPENSSL_cleanse(cfwp, sizeof(cfwp));
	st->state = SCRAM_CLIENT_FINAL_SENT;
	return true;
}

bool scram_client_final(struct scram_client *st, const char *password, const char *server_first,
                        size_t len, char *out, size_t out_size, char *err, size_t err_len)
{
	struct server_first_fields f;
	uint8_t client_key[SCRAM_KEY_LEN], server_key[SCRAM_KEY_LEN];
	bool ok;

	if (out != NULL && out_size > 0)
		out[0] = '\0';
	if (password == NULL)
		return client_fail(st, err, err_len, "no password for SCRAM");
	if (!client_take_server_first(st, server_first, len, &f, err, err_len))
		return false;
	if (!keys_from_password(password, f.salt, f.salt_len, f.iterations, client_key, server_key))
		return client_fail(st, err, err_len, "SCRAM key derivation failed");
	ok = client_finish(st, &f, client_key, server_key, out, out_size, err, err_len);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	OPENSSL_cleanse(server_key, sizeof(server_key));
	return ok;
}

bool scram_client_final_with_keys(struct scram_client *st, const uint8_t client_key[SCRAM_KEY_LEN],
                                  const uint8_t server_key[SCRAM_KEY_LEN], const char *server_first,
                                  size_t len, char *out, size_t out_size, char *err, size_t err_len)
{
	struct server_first_fields f;

	if (out != NULL && out_size > 0)
		out[0] = '\0';
	if (client_key == NULL || server_key == NULL)
		return client_fail(st, err, err_len, "no keys for SCRAM");
	if (!client_take_server_first(st, server_first, len, &f, err, err_len))
		return false;
	return client_finish(st, &f, client_key, server_key, out, out_size, err, err_len);
}

bool scram_client_verify_server(struct scram_client *st, const char *server_final, size_t len)
{
	uint8_t sig[SCRAM_KEY_LEN];
	const char *val;
	size_t val_len;
	struct cursor c;
	bool ok;

	if (st->state != SCRAM_CLIENT_FINAL_SENT)
		return client_fail(st, NULL, 0, "");
	st->state = SCRAM_CLIENT_FAILED;
	if (!message_ok(server_final, len))
		return false;
	c.p = server_final;
	c.end = server_final + len;
	/* "e=<error>" lands here too: only "v=" is a success. */
	if (!take_attr(&c, 'v', &val, &val_len) || !at_end(&c) || !decode_key(val, val_len, sig))
		return false;
	ok = CRYPTO_memcmp(sig, st->server_signature, SCRAM_KEY_LEN) == 0;
	OPENSSL_cleanse(sig, sizeof(sig));
	if (ok)
		st->state = SCRAM_CLIENT_DONE;
	return ok;
}

void scram_client_clear(struct scram_client *st)
{
	OPENSSL_cleanse(st, sizeof(*st));
	st->state = SCRAM_CLIENT_FAILED;
}
