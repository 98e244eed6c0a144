/* The integration-test harness, raw sockets: for input no driver would
 * send (garbage, impossible lengths, half packets) and for logins whose
 * exact answer matters (a wrong SCRAM proof, an unknown user). */
#include "harness.h"
#include "harness_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- raw sockets -------------------------------------------------------- */

int raw_connect(const struct fw *fw)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fw->port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	              "connect to 127.0.0.1:%d: %s", fw->port, strerror(errno));
	return fd;
}

int raw_connect_unix(const struct fw *fw)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.s.PGSQL.%d", fw->dir, fw->port);

	ck_assert_msg(n > 0 && (size_t)n < sizeof(sa.sun_path), "socket path too long");
	ck_assert_msg(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	              "connect to %s: %s", sa.sun_path, strerror(errno));
	return fd;
}

bool raw_send(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

void raw_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t raw_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t raw_startup_packet(uint8_t *buf, size_t size, const char *const kv[])
{
	size_t len = 8;

	if (size < 9)
		return 0;
	for (size_t i = 0; kv[i] != NULL; i++) {
		size_t n = strlen(kv[i]) + 1;

		if (len + n + 1 > size)
			return 0;
		memcpy(buf + len, kv[i], n);
		len += n;
	}
	buf[len++] = '\0';
	raw_put_be32(buf, (uint32_t)len);
	raw_put_be32(buf + 4, 196608); /* protocol 3.0 */
	return len;
}

bool raw_find_error(const uint8_t *buf, size_t len, bool skip_ssl_answer, struct raw_error *out)
{
	size_t pos = skip_ssl_answer && len > 0 ? 1 : 0;

	memset(out, 0, sizeof(*out));
	while (pos + 5 <= len) {
		uint8_t type = buf[pos];
		uint32_t mlen = raw_get_be32(buf + pos + 1);
		const uint8_t *p, *end;

		if (mlen < 4 || pos + 1 + mlen > len)
			return false;
		if (type != 'E') {
			pos += 1 + mlen;
			continue;
		}
		p = buf + pos + 5;
		end = buf + pos + 1 + mlen;
		while (p < end && *p != '\0') {
			uint8_t code = *p++;
			const uint8_t *z = memchr(p, '\0', (size_t)(end - p));

			if (z == NULL)
				return false;
			if (code == 'S' && out->severity[0] == '\0')
				snprintf(out->severity, sizeof(out->severity), "%s",
				         (const char *)p);
			else if (code == 'V')
				snprintf(out->severity, sizeof(out->severity), "%s",
				         (const char *)p);
			else if (code == 'C')
				snprintf(out->sqlstate, sizeof(out->sqlstate), "%s",
				         (const char *)p);
			else if (code == 'M')
				snprintf(out->message, sizeof(out->message), "%s", (const char *)p);
			p = z + 1;
		}
		return true;
	}
	return false;
}

size_t raw_read(int fd, uint8_t *buf, size_t size, int timeout_ms, bool stop_at_error, bool *closed)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
	struct raw_error err;
	size_t len = 0;

	*closed = false;
	while (len < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = harness_now_ms();
		ssize_t n;
		int rc;

		if (now >= deadline)
			break;
		rc = poll(&p, 1, (int)(deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = recv(fd, buf + len, size - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*closed = true; /* EOF or reset: either way the peer is gone */
			break;
		}
		len += (size_t)n;
		if (stop_at_error && (raw_find_error(buf, len, false, &err) ||
		                      (buf[0] == 'N' && raw_find_error(buf, len, true, &err))))
			break;
	}
	return len;
}

/* Reads one typed message (header and body) with a deadline. */
static bool raw_next_msg(int fd, uint8_t *type, uint8_t *body, size_t size, size_t *body_len,
                         uint64_t deadline)
{
	uint8_t hdr[5];
	size_t want = 5, got = 0;
	uint8_t *dst = hdr;

	for (int part = 0; part < 2; part++) {
		while (got < want) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			uint64_t now = harness_now_ms();
			ssize_t n;

			if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
				return false;
			n = recv(fd, dst + got, want - got, 0);
			if (n <= 0)
				return false;
			got += (size_t)n;
		}
		if (part == 0) {
			uint32_t mlen = raw_get_be32(hdr + 1);

			if (mlen < 4 || mlen - 4 > size)
				return false;
			*type = hdr[0];
			*body_len = mlen - 4;
			want = mlen - 4;
			got = 0;
			dst = body;
		}
	}
	return true;
}

/* One send() per message: PgBouncer refuses a packet that arrives in parts
 * during login ("client sent partial pkt in startup phase"). */
static bool raw_send_msg(int fd, uint8_t type, const void *body, size_t len)
{
	uint8_t msg[2048] = {type};

	ck_assert_msg(len + 5 <= sizeof(msg), "message too long");
	raw_put_be32(msg + 1, (uint32_t)len + 4);
	memcpy(msg + 5, body, len);
	return raw_send(fd, msg, len + 5);
}

static void parse_error_body(const uint8_t *body, size_t len, struct raw_error *err)
{
	uint8_t msg[4096];

	msg[0] = 'E';
	raw_put_be32(msg + 1, (uint32_t)len + 4);
	if (len + 5 > sizeof(msg))
		len = sizeof(msg) - 5;
	memcpy(msg + 5, body, len);
	raw_find_error(msg, len + 5, false, err);
}

bool raw_login_error(const struct fw *fw, const char *user, const char *db, const char *password,
                     struct raw_error *err)
{
	const char *kv[] = {"user", user, "database", db, NULL};
	uint64_t deadline = harness_now_ms() + FW_WAIT_MS;
	uint8_t pkt[1024], body[8192], type;
	size_t len, blen;
	int fd = raw_connect(fw);
	bool got_error = false;

	memset(err, 0, sizeof(*err));
	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	ck_assert_msg(len > 0 && raw_send(fd, pkt, len), "cannot send StartupMessage");
	while (raw_next_msg(fd, &type, body, sizeof(body), &blen, deadline)) {
		uint32_t code = blen >= 4 ? raw_get_be32(body) : 0xffffffffu;

		if (type == 'E') {
			parse_error_body(body, blen, err);
			got_error = true;
			break;
		}
		if (type == 'Z')
			break; /* logged in: no error */
		if (type != 'R' || code == 0)
			continue;
		if (code == 3) { /* cleartext */
			raw_send_msg(fd, 'p', password, strlen(password) + 1);
		} else if (code == 5) { /* md5: any well-formed wrong answer */
			static const char wrong[] = "md500000000000000000000000000000000";

			raw_send_msg(fd, 'p', wrong, sizeof(wrong));
		} else if (code == 10) { /* SASL: SCRAM-SHA-256 */
			static const char first[] = "n,,n=,r=fairwaytestclientnonce";
			uint8_t out[256];
			size_t n = sizeof("SCRAM-SHA-256");

			memcpy(out, "SCRAM-SHA-256", n);
			raw_put_be32(out + n, (uint32_t)strlen(first));
			memcpy(out + n + 4, first, strlen(first));
			raw_send_msg(fd, 'p', out, n + 4 + strlen(first));
		} else if (code == 11) { /* SASLContinue: echo the nonce, prove nothing */
			char server_first[1024], final[1200];
			const char *r, *comma;

			snprintf(server_first, sizeof(server_first), "%.*s", (int)(blen - 4),
			         (const char *)body + 4);
			r = strstr(server_first, "r=");
			ck_assert_msg(r != NULL, "SCRAM server-first-message without nonce: %s",
			              server_first);
			comma = strchr(r, ',');
			snprintf(final, sizeof(final),
			         "c=biws,%.*s,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			         comma != NULL ? (int)(comma - r) : (int)strlen(r), r);
			raw_send_msg(fd, 'p', final, strlen(final));
		} else {
			snprintf(err->message, sizeof(err->message),
			         "unexpected authentication request %u", code);
			break;
		}
	}
	close(fd);
	return got_error;
}

int raw_login_trust(const struct fw *fw, const char *user, const char *db)
{
	const char *kv[] = {"user", user, "database", db, NULL};
	uint64_t deadline = harness_now_ms() + FW_WAIT_MS;
	uint8_t pkt[1024], body[8192], type;
	size_t len, blen;
	int fd = raw_connect(fw);

	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	ck_assert_msg(len > 0 && raw_send(fd, pkt, len), "cannot send StartupMessage");
	while (raw_next_msg(fd, &type, body, sizeof(body), &blen, deadline)) {
		if (type == 'Z')
			return fd;
		if (type == 'E') {
			struct raw_error err;

			parse_error_body(body, blen, &err);
			ck_abort_msg("raw login as %s failed: %s %s", user, err.sqlstate,
			             err.message);
		}
		ck_assert_msg(type != 'R' || (blen >= 4 && raw_get_be32(body) == 0),
		              "raw login as %s: fairway asked for a password (auth_type=trust?)",
		              user);
	}
	ck_abort_msg("raw login as %s: no ReadyForQuery", user);
	return -1;
}
