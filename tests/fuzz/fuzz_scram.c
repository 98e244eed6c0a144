/* libFuzzer harness: SCRAM-SHA-256 and md5 (src/scram.c).  The first input
 * byte picks what is fuzzed; the rest is split into messages at 0xFF bytes
 * (SCRAM messages are UTF-8, which never holds 0xFF):
 *   0  a stored secret "SCRAM-SHA-256$i:salt$stored:server" (must round-trip)
 *   1  server role: client-first-message, then client-final-message
 *   2  the same against the mock exchange for unknown users
 *   3  client role: server-first-message, then server-final-message
 *   4  client role with keys (pass-through login), same messages
 *   5  base64 decoding (must round-trip) and md5 answers
 * The server role uses the RFC 7677 example (user "user", password "pencil",
 * the RFC's salt and server nonce), so the RFC's messages are valid seeds.
 * In 1 and 2 a third part's first byte sets up channel binding: 0 none, 1
 * SCRAM-SHA-256-PLUS advertised (hash: 32 zero bytes) and plain chosen, 2
 * advertised and chosen, 3 chosen without TLS (refused). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scram.h"

#define RFC_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_CLIENT_NONCE "rOprNGfwEbeRWgbNEkqO"
#define MAX_PARTS        3

/* The client role runs PBKDF2 with the server's iteration count (up to
 * SCRAM_MAX_ITERATIONS): a cost, not a bug; keep executions fast. */
#define FUZZ_MAX_ITERATIONS 4096

static struct scram_secret rfc_secret;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char salt_b64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
	uint8_t salt[32];
	size_t salt_len;

	(void)argc;
	(void)argv;
	if (!scram_b64_decode(salt_b64, strlen(salt_b64), salt, sizeof(salt), &salt_len) ||
	    !scram_secret_from_password("pencil", salt, salt_len, 4096, &rfc_secret))
		abort();
	return 0;
}

/* Splits data at 0xFF into at most MAX_PARTS heap copies of exact size. */
static size_t split(const uint8_t *data, size_t size, char **part, size_t *len)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= size && n < MAX_PARTS; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		len[n] = i - start;
		part[n] = malloc(len[n] > 0 ? len[n] : 1);
		assert(part[n] != NULL);
		memcpy(part[n], data + start, len[n]);
		n++;
		start = i + 1;
	}
	return n;
}

static char *nul_terminated(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	assert(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void fuzz_secret(const uint8_t *data, size_t size)
{
	char *s = nul_terminated(data, size), out[SCRAM_MAX_SECRET_LEN + 1];
	struct scram_secret sec, again;

	if (scram_parse_secret(s, &sec)) {
		assert(sec.iterations >= 1 && sec.salt_len >= 1 &&
		       sec.salt_len <= SCRAM_MAX_SALT_LEN);
		assert(scram_format_secret(&sec, out, sizeof(out)));
		assert(scram_parse_secret(out, &again));
		assert(memcmp(&sec, &again, sizeof(sec)) == 0 || /* padding: compare fields */
		       (sec.iterations == again.iterations && sec.salt_len == again.salt_len &&
		        memcmp(sec.salt, again.salt, sec.salt_len) == 0 &&
		        memcmp(sec.stored_key, again.stored_key, SCRAM_KEY_LEN) == 0 &&
		        memcmp(sec.server_key, again.server_key, SCRAM_KEY_LEN) == 0));
	}
	free(s);
}

static void fuzz_server(const uint8_t *data, size_t size, bool mock)
{
	static const uint8_t mock_key[16] = "0123456789abcdef";
	char *part[MAX_PARTS], out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];
	size_t len[MAX_PARTS], n = split(data, size, part, len);
	struct scram_server st;

	static const uint8_t cbind_hash[32];
	int cbind = n > 2 && len[2] > 0 ? (uint8_t)part[2][0] % 4 : 0;

	if (mock)
		scram_server_init_mock(&st, "user", mock_key, sizeof(mock_key));
	else
		scram_server_init(&st, &rfc_secret);
	if (cbind > 0 && !scram_server_set_cbind(&st, cbind == 3 ? NULL : cbind_hash,
	                                         sizeof(cbind_hash), cbind >= 2)) {
		assert(cbind == 3 && st.state == SCRAM_SERVER_FAILED);
	} else if (scram_server_first_with_nonce(&st, part[0], len[0], RFC_SERVER_NONCE, out, sizeof(out),
	                                  err, sizeof(err))) {
		assert(st.state == SCRAM_SERVER_FIRST_SENT);
		assert(strlen(out) < sizeof(out));
		if (n > 1) {
			enum scram_result r = scram_server_final(&st, part[1], len[1], out,
			                                         sizeof(out), err, sizeof(err));

			assert(r != SCRAM_OK || (!mock && st.client_key_valid));
			assert(r == SCRAM_OK || st.state == SCRAM_SERVER_FAILED);
		}
	} else {
		assert(memchr(err, '\0', sizeof(err)) != NULL);
	}
	scram_server_clear(&st);
	for (size_t i = 0; i < n; i++)
		free(part[i]);
}

/* True when the "i=" attribute of a server-first-message is small enough. */
static bool cheap_iterations(const char *msg, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if ((i == 0 || msg[i - 1] == ',') && msg[i] == 'i' && msg[i + 1] == '=') {
			long v = 0;

			for (size_t j = i + 2; j < len && msg[j] >= '0' && msg[j] <= '9'; j++)
				if ((v = v * 10 + (msg[j] - '0')) > FUZZ_MAX_ITERATIONS)
					return false;
		}
	}
	return true;
}

static void fuzz_client(const uint8_t *data, size_t size, bool with_keys)
{
	static const uint8_t client_key[SCRAM_KEY_LEN] = {1, 2, 3};
	char *part[MAX_PARTS], out[SCRAM_MAX_MESSAGE_LEN + 1], err[128];
	size_t len[MAX_PARTS], n = split(data, size, part, len);
	struct scram_client st;
	bool ok;

	scram_client_init(&st);
	if (!scram_client_first_with_nonce(&st, "user", RFC_CLIENT_NONCE, out, sizeof(out)))
		abort();
	if (cheap_iterations(part[0], len[0])) {
		if (with_keys)
			ok = scram_client_final_with_keys(&st, client_key, rfc_secret.server_key,
			                                  part[0], len[0], out, sizeof(out), err,
			                                  sizeof(err));
		else
			ok = scram_client_final(&st, "pencil", part[0], len[0], out, sizeof(out),
			                        err, sizeof(err));
		if (ok) {
			assert(st.state == SCRAM_CLIENT_FINAL_SENT);
			if (n > 1 && scram_client_verify_server(&st, part[1], len[1]))
				assert(st.state == SCRAM_CLIENT_DONE);
		}
	}
	scram_client_clear(&st);
	for (size_t i = 0; i < n; i++)
		free(part[i]);
}

static void fuzz_b64_md5(const uint8_t *data, size_t size)
{
	char *s = nul_terminated(data, size), enc[1400], md5[36];
	uint8_t dec[1024], salt[4] = {1, 2, 3, 4};
	size_t dec_len;

	if (scram_b64_decode(s, size, dec, sizeof(dec), &dec_len)) {
		size_t n = scram_b64_encode(dec, dec_len, enc, sizeof(enc));

		assert(n == size && memcmp(enc, s, size) == 0);
	}
	(void)pg_is_md5_secret(s);
	pg_md5_hash(s, size, "user", 4, md5);
	assert(pg_md5_check_response(s, "user", salt, s) == false || s[0] != '\0');
	(void)pg_md5_check_response("md5a3556571e93b0d20722ba62be61e8c2d", "user", salt, s);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_secret(data + 1, size - 1);
		break;
	case 1:
		fuzz_server(data + 1, size - 1, false);
		break;
	case 2:
		fuzz_server(data + 1, size - 1, true);
		break;
	case 3:
		fuzz_client(data + 1, size - 1, false);
		break;
	case 4:
		fuzz_client(data + 1, size - 1, true);
		break;
	case 5:
		fuzz_b64_md5(data + 1, size - 1);
		break;
	}
	return 0;
}
