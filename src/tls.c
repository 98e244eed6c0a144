/* TLS on OpenSSL (see tls.h).  Contexts are built from the config as one
 * unit; every SSL reads and writes its socket through a small BIO of ours
 * that first serves bytes the pooler had already read (a direct-TLS
 * ClientHello) and keeps the error that ended the connection, so that io.c
 * can report it after the fact. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"

#define TLS_WRITE_CHUNK (16 * 1024) /* one TLS record */

static const unsigned char alpn_pg[] = {10, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 'q', 'l'};

/* ---- pure parsing ---------------------------------------------------------- */

bool tls_parse_mode(const char *s, enum tls_mode *out)
{
	static const char *const names[] = {
	    [TLS_DISABLE] = "disable",     [TLS_ALLOW] = "allow",
	    [TLS_PREFER] = "prefer",       [TLS_REQUIRE] = "require",
	    [TLS_VERIFY_CA] = "verify-ca", [TLS_VERIFY_FULL] = "verify-full",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (s != NULL && strcasecmp(s, names[i]) == 0) {
			*out = (enum tls_mode)i;
			return true;
		}
	}
	return false;
}

bool tls_parse_protocols(const char *s, unsigned *bits, char *err, size_t errlen)
{
	static const struct {
		const char *word;
		unsigned bits;
	} words[] = {
	    {"tlsv1.0", TLS_PROTO_10},
	    {"tlsv1.1", TLS_PROTO_11},
	    {"tlsv1.2", TLS_PROTO_12},
	    {"tlsv1.3", TLS_PROTO_13},
	    {"all", TLS_PROTO_10 | TLS_PROTO_11 | TLS_PROTO_12 | TLS_PROTO_13},
	    {"legacy", TLS_PROTO_10 | TLS_PROTO_11 | TLS_PROTO_12 | TLS_PROTO_13},
	    {"secure", TLS_PROTO_12 | TLS_PROTO_13},
	    {"default", TLS_PROTO_12 | TLS_PROTO_13},
	    {"normal", TLS_PROTO_12 | TLS_PROTO_13},
	};
	unsigned acc = 0;
	const char *p = s != NULL ? s : "";

	for (;;) {
		char word[32];
		size_t len;
		bool negate = false, found = false;

		p += strspn(p, " \t,:");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,:");
		if (*p == '!') {
			negate = true;
			p++;
			len--;
		}
		if (len == 0 || len >= sizeof(word)) {
			snprintf(err, errlen, "unknown protocol \"%.*s\"",
			         (int)(len < 40 ? len : 40), p);
			return false;
		}
		memcpy(word, p, len);
		word[len] = '\0';
		p += len;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strcasecmp(word, words[i].word) == 0) {
				acc = negate ? acc & ~words[i].bits : acc | words[i].bits;
				found = true;
				break;
			}
		}
		if (!found) {
			snprintf(err, errlen, "unknown protocol \"%s\"", word);
			return false;
		}
	}
	if (acc == 0) {
		snprintf(err, errlen, "no protocol left");
		return false;
	}
	*bits = acc;
	return true;
}

const char *tls_cipher_list(const char *s)
{
	if (s == NULL || s[0] == '\0' || strcasecmp(s, "default") == 0 ||
	    strcasecmp(s, "secure") == 0)
		return "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!SHA1:!CAMELLIA:!ARIA";
	if (strcasecmp(s, "fast") == 0 || strcasecmp(s, "normal") == 0)
		return "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
	if (strcasecmp(s, "compat") == 0 || strcasecmp(s, "legacy") == 0)
		return "HIGH:MEDIUM:!aNULL:!eNULL";
	if (strcasecmp(s, "insecure") == 0 || strcasecmp(s, "all") == 0)
		return "ALL:!aNULL:!eNULL";
	return s;
}

/* ---- the socket BIO --------------------------------------------------------- */

struct tls_bio {
	int fd;                  /* borrowed: the io owns the socket */
	struct evbuffer *prefix; /* borrowed; read before the socket; may be NULL */
	unsigned long err;       /* first OpenSSL error of the failed step */
	int sys_errno;           /* errno of a failed read or write */
	bool fatal;              /* SSL_ERROR_SSL or _SYSCALL seen: no SSL_shutdown */
};

static BIO_METHOD *bio_method; /* process-wide, made once */

static int bio_read(BIO *b, char *buf, int len)
{
	struct tls_bio *tb = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (tb->prefix != NULL && evbuffer_get_length(tb->prefix) > 0)
		return evbuffer_remove(tb->prefix, buf, (size_t)len);
	n = read(tb->fd, buf, (size_t)len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_read(b);
		else
			tb->sys_errno = errno;
		return -1;
	}
	return (int)n;
}

static int bio_write(BIO *b, const char *buf, int len)
{
	struct tls_bio *tb = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = write(tb->fd, buf, (size_t)len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_write(b);
		else
			tb->sys_errno = errno;
		return -1;
	}
	return (int)n;
}

static int bio_puts(BIO *b, const char *s)
{
	return bio_write(b, s, (int)strlen(s));
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_destroy(BIO *b)
{
	free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

static BIO *bio_new(int fd, struct evbuffer *prefix)
{
	struct tls_bio *tb;
	BIO *b;

	if (bio_method == NULL) {
		BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fairway");

		if (m == NULL || !BIO_meth_set_read(m, bio_read) ||
		    !BIO_meth_set_write(m, bio_write) || !BIO_meth_set_puts(m, bio_puts) ||
		    !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_destroy(m, bio_destroy)) {
			BIO_meth_free(m);
			return NULL;
		}
		bio_method = m;
	}
	if ((tb = calloc(1, sizeof(*tb))) == NULL)
		return NULL;
	if ((b = BIO_new(bio_method)) == NULL) {
		free(tb);
		return NULL;
	}
	tb->fd = fd;
	tb->prefix = prefix;
	BIO_set_data(b, tb);
	BIO_set_init(b, 1);
	return b;
}

static struct tls_bio *ssl_bio(SSL *ssl)
{
	return BIO_get_data(SSL_get_rbio(ssl));
}

void tls_set_prefix(SSL *ssl, struct evbuffer *prefix)
{
	ssl_bio(ssl)->prefix = prefix;
}

/* ---- contexts ---------------------------------------------------------------- */

/* ALPN on the accepting side: "postgresql" when offered; a client that
 * offers other protocols only is refused, as PostgreSQL does. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned int i = 0; i < inlen;) {
		unsigned int len = in[i];

		if (i + 1 + len > inlen)
			break;
		if (len == alpn_pg[0] && memcmp(in + i + 1, alpn_pg + 1, len) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)len;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + len;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The first error of the queue: the root cause ("no start line"), where the
 * last one is only the wrapper ("PEM lib"). */
static const char *last_ssl_error(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (r == NULL && e != 0 && ERR_GET_LIB(e) == ERR_LIB_SYS)
		return strerror(ERR_GET_REASON(e)); /* fopen failed: ENOENT, EACCES */
	return r != NULL ? r : "unknown error";
}

/* Settings common to both roles.  side is "client" or "server" for messages. */
static SSL_CTX *ctx_new(bool accept, const char *side, const char *protocols, const char *ciphers,
                        const char *ciphers13, char *err, size_t errlen)
{
	static const int versions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
	                               TLS1_3_VERSION};
	static const uint64_t no_opts[] = {SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1, SSL_OP_NO_TLSv1_2,
	                                   SSL_OP_NO_TLSv1_3};
	char why[128], list[512];
	unsigned bits;
	int lo = -1, hi = -1;
	SSL_CTX *ctx;

	if (!tls_parse_protocols(protocols, &bits, why, sizeof(why))) {
		snprintf(err, errlen, "invalid value \"%s\" for %s_tls_protocols: %s", protocols,
		         side, why);
		return NULL;
	}
	ctx = SSL_CTX_new(accept ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context: %s", last_ssl_error());
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION |
	                             SSL_OP_NO_RENEGOTIATION |
	                             (accept ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          SSL_MODE_RELEASE_BUFFERS);
	for (int i = 0; i < 4; i++) {
		if (bits & (1u << i)) {
			if (lo < 0)
				lo = i;
			hi = i;
		}
	}
	for (int i = lo; i <= hi; i++)
		if (!(bits & (1u << i)))
			SSL_CTX_set_options(ctx, no_opts[i]);
	SSL_CTX_set_min_proto_version(ctx, versions[lo]);
	SSL_CTX_set_max_proto_version(ctx, versions[hi]);
	/* TLS 1.0 and 1.1 need security level 0 in OpenSSL 3. */
	snprintf(list, sizeof(list), "%s%s", tls_cipher_list(ciphers),
	         (bits & (TLS_PROTO_10 | TLS_PROTO_11)) ? ":@SECLEVEL=0" : "");
	if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
		snprintf(err, errlen, "invalid value \"%s\" for %s_tls_ciphers: %s", ciphers, side,
		         last_ssl_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ciphers13 != NULL && ciphers13[0] != '\0' &&
	    SSL_CTX_set_ciphersuites(ctx, ciphers13) != 1) {
		snprintf(err, errlen, "invalid value \"%s\" for %s_tls13_ciphers: %s", ciphers13,
		         side, last_ssl_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool load_key_pair(SSL_CTX *ctx, const char *side, const char *key, const char *cert,
                          char *err, size_t errlen)
{
	if (cert != NULL && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "cannot load %s_tls_cert_file \"%s\": %s", side, cert,
		         last_ssl_error());
		return false;
	}
	if (key != NULL && SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "cannot load %s_tls_key_file \"%s\": %s", side, key,
		         last_ssl_error());
		return false;
	}
	if (key != NULL && cert != NULL && SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen,
		         "%s_tls_key_file \"%s\" does not match %s_tls_cert_file \"%s\"", side, key,
		         side, cert);
		return false;
	}
	return true;
}

static SSL_CTX *build_accept(const struct config *cfg, enum tls_mode mode, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (cfg->client_tls_key_file == NULL || cfg->client_tls_cert_file == NULL) {
		snprintf(
		    err, errlen,
		    "client_tls_sslmode = %s needs client_tls_key_file and client_tls_cert_file",
		    cfg->client_tls_sslmode);
		return NULL;
	}
	if (mode >= TLS_VERIFY_CA && cfg->client_tls_ca_file == NULL) {
		snprintf(err, errlen, "client_tls_sslmode = %s needs client_tls_ca_file",
		         cfg->client_tls_sslmode);
		return NULL;
	}
	ctx = ctx_new(true, "client", cfg->client_tls_protocols, cfg->client_tls_ciphers,
	              cfg->client_tls13_ciphers, err, errlen);
	if (ctx == NULL)
		return NULL;
	if (!load_key_pair(ctx, "client", cfg->client_tls_key_file, cfg->client_tls_cert_file, err,
	                   errlen))
		goto fail;
	if (cfg->client_tls_ca_file != NULL) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->client_tls_ca_file);

		if (names == NULL ||
		    SSL_CTX_load_verify_locations(ctx, cfg->client_tls_ca_file, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			snprintf(err, errlen, "cannot load client_tls_ca_file \"%s\": %s",
			         cfg->client_tls_ca_file, last_ssl_error());
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		/* A certificate is asked for; verify-ca and verify-full insist. */
		SSL_CTX_set_verify(
		    ctx,
		    SSL_VERIFY_PEER | (mode >= TLS_VERIFY_CA ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		    NULL);
	}
	if (cfg->client_tls_ecdhcurve != NULL &&
	    strcasecmp(cfg->client_tls_ecdhcurve, "auto") != 0 &&
	    SSL_CTX_set1_groups_list(ctx, cfg->client_tls_ecdhcurve) != 1) {
		snprintf(err, errlen, "invalid value \"%s\" for client_tls_ecdhcurve",
		         cfg->client_tls_ecdhcurve);
		goto fail;
	}
	if (cfg->client_tls_dheparams == NULL ||
	    strcasecmp(cfg->client_tls_dheparams, "auto") == 0 ||
	    strcasecmp(cfg->client_tls_dheparams, "legacy") == 0) {
		SSL_CTX_set_dh_auto(ctx, 1);
	} else if (strcasecmp(cfg->client_tls_dheparams, "none") != 0) {
		snprintf(err, errlen,
		         "invalid value \"%s\" for client_tls_dheparams (none, auto or legacy)",
		         cfg->client_tls_dheparams);
		goto fail;
	}
	/* No resumption: every client does a full handshake, and idle clients
	 * keep no session state. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL_CTX *build_connect(const struct config *cfg, enum tls_mode mode, char *err,
                              size_t errlen)
{
	SSL_CTX *ctx = ctx_new(false, "server", cfg->server_tls_protocols, cfg->server_tls_ciphers,
	                       cfg->server_tls13_ciphers, err, errlen);

	if (ctx == NULL)
		return NULL;
	if (!load_key_pair(ctx, "server", cfg->server_tls_key_file, cfg->server_tls_cert_file, err,
	                   errlen))
		goto fail;
	if (mode >= TLS_VERIFY_CA) {
		if (cfg->server_tls_ca_file != NULL
		        ? SSL_CTX_load_verify_locations(ctx, cfg->server_tls_ca_file, NULL) != 1
		        : SSL_CTX_set_default_verify_paths(ctx) != 1) {
			snprintf(err, errlen, "cannot load server_tls_ca_file \"%s\": %s",
			         cfg->server_tls_ca_file ? cfg->server_tls_ca_file : "(system)",
			         last_ssl_error());
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

bool tls_contexts_build(const struct config *cfg, struct tls_contexts *out, char *err,
                        size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!tls_parse_mode(cfg->client_tls_sslmode, &out->client_mode) ||
	    !tls_parse_mode(cfg->server_tls_sslmode, &out->server_mode)) {
		snprintf(err, errlen, "invalid sslmode");
		return false;
	}
	ERR_clear_error();
	if ((out->client_mode != TLS_DISABLE &&
	     (out->accept = build_accept(cfg, out->client_mode, err, errlen)) == NULL) ||
	    (out->server_mode != TLS_DISABLE &&
	     (out->connect = build_connect(cfg, out->server_mode, err, errlen)) == NULL)) {
		tls_contexts_free(out);
		ERR_clear_error(); /* reported in err; leave no stale errors behind */
		return false;
	}
	ERR_clear_error();
	return true;
}

void tls_contexts_free(struct tls_contexts *t)
{
	SSL_CTX_free(t->accept);
	SSL_CTX_free(t->connect);
	t->accept = t->connect = NULL;
}

/* ---- connections ------------------------------------------------------------- */

static SSL *ssl_new(SSL_CTX *ctx, int fd, struct evbuffer *prefix)
{
	SSL *ssl = SSL_new(ctx);
	BIO *b;

	if (ssl == NULL)
		return NULL;
	if ((b = bio_new(fd, prefix)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_bio(ssl, b, b); /* one BIO both ways: the SSL owns one reference */
	return ssl;
}

SSL *tls_new_accept(SSL_CTX *ctx, int fd, struct evbuffer *prefix)
{
	SSL *ssl = ssl_new(ctx, fd, prefix);

	if (ssl != NULL)
		SSL_set_accept_state(ssl);
	return ssl;
}

SSL *tls_new_connect(SSL_CTX *ctx, int fd, const char *host, bool verify_host)
{
	SSL *ssl = ssl_new(ctx, fd, NULL);
	unsigned char addr[16];
	bool is_ip;

	if (ssl == NULL)
		return NULL;
	SSL_set_connect_state(ssl);
	if (host == NULL || host[0] == '/')
		return ssl;
	is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(ssl, host);
	if (verify_host) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
		               : X509_VERIFY_PARAM_set1_host(vp, host, 0);

		if (ok != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

void tls_free(SSL *ssl)
{
	/* A close_notify when the session is up, best effort and without
	 * waiting: the peer then sees a clean end rather than a cut. */
	if (SSL_is_init_finished(ssl) && !ssl_bio(ssl)->fatal &&
	    !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN)) {
		ERR_clear_error();
		SSL_shutdown(ssl);
		ERR_clear_error();
	}
	SSL_free(ssl);
}

/* Maps the result of an SSL call; keeps the error for tls_error_text. */
static enum tls_status status_of(SSL *ssl, int rc)
{
	struct tls_bio *tb;

	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_EOF;
	case SSL_ERROR_SYSCALL:
		tb = ssl_bio(ssl);
		tb->fatal = true;
		if (ERR_peek_error() == 0)
			return tb->sys_errno == 0 ? TLS_EOF : TLS_FAILED;
		tb->err = ERR_peek_last_error();
		ERR_clear_error();
		return TLS_FAILED;
	default:
		tb = ssl_bio(ssl);
		tb->fatal = true;
		tb->err = ERR_peek_last_error();
		ERR_clear_error();
		return TLS_FAILED;
	}
}

enum tls_status tls_handshake(SSL *ssl)
{
	int rc;

	ERR_clear_error();
	rc = SSL_do_handshake(ssl);
	return rc == 1 ? TLS_DONE : status_of(ssl, rc);
}

enum tls_status tls_read(SSL *ssl, struct evbuffer *in, size_t want, size_t *got)
{
	*got = 0;
	while (*got < want) {
		struct evbuffer_iovec v;
		size_t n = 0, room = want - *got;
		int rc;

		if (evbuffer_reserve_space(in, (ev_ssize_t)room, &v, 1) != 1)
			return TLS_FAILED;
		ERR_clear_error();
		rc = SSL_read_ex(ssl, v.iov_base, v.iov_len < room ? v.iov_len : room, &n);
		v.iov_len = rc == 1 ? n : 0;
		evbuffer_commit_space(in, &v, 1);
		if (rc != 1)
			return status_of(ssl, rc);
		*got += n;
	}
	return TLS_DONE;
}

enum tls_status tls_write(SSL *ssl, struct evbuffer *out)
{
	size_t len;

	while ((len = evbuffer_get_length(out)) > 0) {
		/* Only appended to until drained, so a retry after WANT_WRITE
		 * passes the same bytes and at least as many. */
		size_t chunk = len < TLS_WRITE_CHUNK ? len : TLS_WRITE_CHUNK, done = 0;
		unsigned char *p = evbuffer_pullup(out, (ev_ssize_t)chunk);
		int rc;

		if (p == NULL)
			return TLS_FAILED;
		ERR_clear_error();
		rc = SSL_write_ex(ssl, p, chunk, &done);
		if (rc != 1)
			return status_of(ssl, rc);
		evbuffer_drain(out, done);
	}
	return TLS_DONE;
}

bool tls_has_pending(SSL *ssl)
{
	return SSL_pending(ssl) > 0;
}

bool tls_alpn_ok(SSL *ssl)
{
	const unsigned char *p;
	unsigned int len;

	SSL_get0_alpn_selected(ssl, &p, &len);
	return len == alpn_pg[0] && memcmp(p, alpn_pg + 1, len) == 0;
}

void tls_describe(SSL *ssl, char *buf, size_t n)
{
	const char *ver, *cipher;
	int nid;

	if (ssl == NULL || !SSL_is_init_finished(ssl)) {
		snprintf(buf, n, "%s", "");
		return;
	}
	ver = SSL_get_version(ssl);
	cipher = SSL_get_cipher_name(ssl);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	nid = SSL_get_negotiated_group(ssl);
#else
	nid = NID_undef;
#endif
	if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
		snprintf(buf, n, "%s/%s/ECDH=%s", ver, cipher, OBJ_nid2sn(nid));
	else
		snprintf(buf, n, "%s/%s", ver, cipher);
}

bool tls_peer_cn(SSL *ssl, char *buf, size_t n)
{
	X509 *cert;
	int len;

	if (ssl == NULL || !SSL_is_init_finished(ssl) || SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	cert = SSL_get_peer_certificate(ssl);
	if (cert == NULL)
		return false;
	len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)n);
	X509_free(cert);
	/* A name with a NUL inside would compare as a shorter one: refuse it. */
	return len > 0 && (size_t)len < n && strlen(buf) == (size_t)len;
}

bool tls_cert_hash(SSL *ssl, bool own, unsigned char out[TLS_CERT_HASH_MAX], size_t *len)
{
	X509 *cert;
	const EVP_MD *md = NULL;
	unsigned int n = 0;
	int md_nid = NID_undef;
	bool ok;

	*len = 0;
	if (ssl == NULL)
		return false;
	if (own) {
		cert = SSL_get_certificate(ssl); /* not a new reference */
		if (cert == NULL || X509_up_ref(cert) != 1)
			return false;
	} else {
		cert = SSL_get_peer_certificate(ssl);
		if (cert == NULL)
			return false;
	}
	if (X509_get_signature_info(cert, &md_nid, NULL, NULL, NULL) == 1) {
		if (md_nid == NID_md5 || md_nid == NID_sha1)
			md_nid = NID_sha256;
		md = EVP_get_digestbynid(md_nid);
	}
	ok = md != NULL && EVP_MD_size(md) > 0 && EVP_MD_size(md) <= TLS_CERT_HASH_MAX &&
	     X509_digest(cert, md, out, &n) == 1 && n == (unsigned int)EVP_MD_size(md);
	X509_free(cert);
	if (ok)
		*len = n;
	return ok;
}

void tls_error_text(SSL *ssl, char *buf, size_t n)
{
	struct tls_bio *tb = ssl_bio(ssl);
	long vr = SSL_get_verify_result(ssl);
	const char *r;

	if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) && vr != X509_V_OK) {
		snprintf(buf, n, "certificate verify failed: %s",
		         X509_verify_cert_error_string(vr));
		return;
	}
	if (tb->err != 0 && (r = ERR_reason_error_string(tb->err)) != NULL) {
		snprintf(buf, n, "%s", r);
		return;
	}
	if (tb->sys_errno != 0) {
		snprintf(buf, n, "%s", strerror(tb->sys_errno));
		return;
	}
	snprintf(buf, n, "connection closed during TLS");
}
