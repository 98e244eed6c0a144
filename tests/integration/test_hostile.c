/* Hostile input and bounded memory (issues #5 and #6): raw sockets send half
 * packets, impossible lengths, protocol requests followed by garbage,
 * startup packets that are too big, floods of CancelRequests, and clients
 * or servers that stop reading in the middle of a 200 MB result or COPY.
 * After each, the daemon must still answer SELECT 1 and SHOW POOLS, SHOW MEM
 * must be back where it was, and the process must not have grown by the size
 * of what went through it (/proc/<pid>/status VmRSS). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* What the streaming tests push through the pooler: about 200 MB. */
#define BIG_ROWS      200000
#define BIG_ROW_WIDTH 1000
/* Growth of the daemon's RSS allowed while a peer stalls (the result is 200 MB). */
#define RSS_GROWTH_MAX_KB (64 * 1024)
/* SHOW MEM's memtotal summed over its rows, for the few clients a test holds. */
#define SHOW_MEM_MAX_BYTES (1024 * 1024)

static const uint8_t ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
static const uint8_t gssenc_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30};

/* ---- the daemon seen from outside ----------------------------------------- */

static long rss_kb(const struct fw *fw)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)fw->pid);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	ck_assert_msg(kb > 0, "no VmRSS in %s", path);
	return kb;
}

static int fd_count(const struct fw *fw)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)fw->pid);
	d = opendir(path);
	ck_assert_msg(d != NULL, "%s: %s", path, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* SHOW MEM: memtotal summed over the rows, and the client_cache row's used. */
static long long show_mem_total(struct fw *fw, long long *clients)
{
	PGresult *res = console_show(fw, "SHOW MEM");
	long long total = 0;

	for (int r = 0; r < PQntuples(res); r++) {
		total += res_ll(res, r, "memtotal");
		if (strcmp(res_str(res, r, "name"), "client_cache") == 0)
			*clients = res_ll(res, r, "used");
	}
	PQclear(res);
	return total;
}

struct mem_wait {
	struct fw *fw;
	long long clients; /* client_cache used to wait for */
};

static bool mem_clients_back(void *arg)
{
	struct mem_wait *w = arg;
	long long clients = -1;

	show_mem_total(w->fw, &clients);
	return clients == w->clients;
}

/* Still alive, Redis style: a normal client works, the console works, SHOW
 * MEM counts only the console and is small. */
static void assert_still_serves(struct fw *fw)
{
	PGconn *c = fw_connect_ok(fw, FW_AS_SUPER);
	struct mem_wait w = {fw, 1};
	long long total, clients = -1;
	PGresult *res;

	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	res = console_show(fw, "SHOW POOLS");
	ck_assert_int_ge(PQntuples(res), 1);
	PQclear(res);
	ck_assert_msg(wait_until(mem_clients_back, &w, FW_WAIT_MS),
	              "SHOW MEM: client_cache still holds more than the console");
	total = show_mem_total(fw, &clients);
	ck_assert_msg(total <= SHOW_MEM_MAX_BYTES, "SHOW MEM memtotal %lld bytes", total);
}

/* Reads until the daemon closes; the first ErrorResponse must carry one of
 * sqlstates ("A|B").  skip_n: a one-byte 'N' answer comes first. */
static void expect_error_and_close(int fd, bool skip_n, const char *sqlstates, const char *what)
{
	uint8_t buf[16384];
	struct raw_error err;
	bool closed;
	size_t got = raw_read(fd, buf, sizeof(buf), FW_WAIT_MS, false, &closed);

	close(fd);
	ck_assert_msg(closed, "%s: the connection was not closed", what);
	ck_assert_msg(raw_find_error(buf, got, skip_n, &err),
	              "%s: no ErrorResponse before the close (%zu bytes)", what, got);
	ck_assert_msg(sqlstate_in(err.sqlstate, sqlstates), "%s: SQLSTATE %s (%s), want %s", what,
	              err.sqlstate, err.message, sqlstates);
}

/* ---- a raw session that reads results as a stream ------------------------- */

struct stream {
	int fd;
	uint8_t buf[256 * 1024];
	size_t len;
	/* what was seen */
	long long rows, row_bytes;     /* DataRow messages, their bytes with headers */
	long long bad_rows;            /* DataRows that are not one BIG_ROW_WIDTH value */
	long long copy_bytes;          /* CopyData payload */
	long long bytes, rfqs;         /* every message's bytes; ReadyForQuery count */
	bool copy_in, copy_out, error; /* CopyInResponse, CopyOutResponse, ErrorResponse */
	char tag[64];                  /* last CommandComplete */
	uint32_t key_pid, key_secret;  /* BackendKeyData */
	struct raw_error err;
};

static void stream_message(struct stream *s, uint8_t type, const uint8_t *body, size_t len)
{
	switch (type) {
	case 'D':
		s->rows++;
		s->row_bytes += 5 + (long long)len;
		if (len != 6 + BIG_ROW_WIDTH || body[0] != 0 || body[1] != 1 ||
		    raw_get_be32(body + 2) != BIG_ROW_WIDTH)
			s->bad_rows++;
		break;
	case 'd':
		s->copy_bytes += (long long)len;
		break;
	case 'G':
		s->copy_in = true;
		break;
	case 'H':
		s->copy_out = true;
		break;
	case 'C':
		snprintf(s->tag, sizeof(s->tag), "%.*s", (int)(len > 0 ? len - 1 : 0),
		         (const char *)body);
		break;
	case 'K':
		if (len == 8) {
			s->key_pid = raw_get_be32(body);
			s->key_secret = raw_get_be32(body + 4);
		}
		break;
	case 'E': {
		uint8_t msg[4096] = {'E'};
		size_t n = len + 5 <= sizeof(msg) ? len : sizeof(msg) - 5;

		raw_put_be32(msg + 1, (uint32_t)n + 4);
		memcpy(msg + 5, body, n);
		raw_find_error(msg, n + 5, false, &s->err);
		s->error = true;
		break;
	}
	default:
		break;
	}
}

/* Reads and digests messages until ReadyForQuery (true) or until the
 * daemon closes or the deadline passes (false). */
static bool stream_until_rfq(struct stream *s, int timeout_ms)
{
	int waited = 0;

	for (;;) {
		size_t off = 0;

		while (s->len - off >= 5) {
			uint32_t mlen = raw_get_be32(s->buf + off + 1);
			uint8_t type = s->buf[off];

			ck_assert_msg(mlen >= 4 && mlen + 1 <= sizeof(s->buf),
			              "message '%c' of length %u from the daemon", type, mlen);
			if (s->len - off < 1 + (size_t)mlen)
				break;
			stream_message(s, type, s->buf + off + 5, mlen - 4);
			s->bytes += 1 + (long long)mlen;
			s->rfqs += type == 'Z';
			off += 1 + mlen;
			if (type == 'Z') {
				memmove(s->buf, s->buf + off, s->len - off);
				s->len -= off;
				return true;
			}
		}
		memmove(s->buf, s->buf + off, s->len - off);
		s->len -= off;

		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		int rc = poll(&p, 1, 1000);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			waited += 1000;
			if (waited >= timeout_ms)
				return false;
			continue;
		}
		ssize_t n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s->len += (size_t)n;
		waited = 0;
	}
}

static bool send_query(int fd, const char *sql)
{
	size_t n = strlen(sql) + 1;
	uint8_t *msg = malloc(n + 5);
	bool ok;

	ck_assert(msg != NULL);
	msg[0] = 'Q';
	raw_put_be32(msg + 1, (uint32_t)n + 4);
	memcpy(msg + 5, sql, n);
	ok = raw_send(fd, msg, n + 5);
	free(msg);
	return ok;
}

/* Logs in with auth_type = trust and keeps the BackendKeyData. */
static struct stream *stream_login_as(struct fw *fw, const char *user, const char *db)
{
	const char *kv[] = {"user", user, "database", db, NULL};
	struct stream *s = calloc(1, sizeof(*s));
	uint8_t pkt[512];
	size_t len;

	ck_assert(s != NULL);
	s->fd = raw_connect(fw);
	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	ck_assert(len > 0 && raw_send(s->fd, pkt, len));
	ck_assert_msg(stream_until_rfq(s, FW_WAIT_MS) && !s->error, "raw login failed: %s",
	              s->err.message);
	return s;
}

static struct stream *stream_login(struct fw *fw)
{
	return stream_login_as(fw, FW_SUPERUSER, FW_TESTDB);
}

static void stream_close(struct stream *s)
{
	close(s->fd);
	free(s);
}

/* ---- half packets --------------------------------------------------------- */

START_TEST(half_packets_then_close_leave_nothing_behind)
{
	const char *kv[] = {"user", FW_SUPERUSER, "database", FW_TESTDB, NULL};
	static const uint8_t query[] = "Q\0\0\0\015SELECT 1";
	uint8_t pkt[256];
	size_t len;
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	/* The startup packet cut after 1, 3, 4, 7 bytes and in its middle. */
	const size_t startup_cuts[] = {1, 3, 4, 7, len / 2, len - 1};

	for (size_t i = 0; i < sizeof(startup_cuts) / sizeof(startup_cuts[0]); i++) {
		int fd = raw_connect(&fw);

		raw_send(fd, pkt, startup_cuts[i]);
		close(fd);
	}
	/* An SSLRequest cut in two. */
	for (size_t cut = 1; cut < sizeof(ssl_request); cut += 3) {
		int fd = raw_connect(&fw);

		raw_send(fd, ssl_request, cut);
		close(fd);
	}
	/* A Query cut in its header and in its body, after login. */
	for (size_t cut = 1; cut < sizeof(query) - 1; cut += 2) {
		struct stream *s = stream_login(&fw);

		raw_send(s->fd, query, cut);
		stream_close(s);
	}
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(half_startup_packet_left_open_is_closed_by_client_login_timeout)
{
	const char *kv[] = {"user", FW_SUPERUSER, "database", FW_TESTDB, NULL};
	uint8_t pkt[256];
	size_t len;
	struct fw fw;
	int fd, fd2;

	fw_start(&fw, "auth_type = trust\nclient_login_timeout = 1\n", NULL, NULL, NULL);
	len = raw_startup_packet(pkt, sizeof(pkt), kv);
	fd = raw_connect(&fw);
	ck_assert(raw_send(fd, pkt, len / 2));
	fd2 = raw_connect(&fw);
	ck_assert(raw_send(fd2, ssl_request, 5));
	expect_error_and_close(fd, false, "08P01", "half a startup packet, left open");
	expect_error_and_close(fd2, false, "08P01", "half an SSLRequest, left open");
	ck_assert(fw_log_contains(&fw, "client_login_timeout"));
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(half_query_header_left_open_is_closed_by_client_idle_timeout)
{
	static const uint8_t query[] = "Q\0\0";
	struct stream *s;
	struct fw fw;

	fw_start(&fw, "auth_type = trust\nclient_idle_timeout = 1\n", NULL, NULL, NULL);
	s = stream_login(&fw);
	ck_assert(raw_send(s->fd, query, 3));
	expect_error_and_close(s->fd, false, "57P05|08P01", "3 bytes of a Query header");
	free(s);
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(half_query_body_left_open_is_closed_by_query_timeout)
{
	static const uint8_t query[] = "Q\0\0\0\040SELECT 'never finished'";
	struct stream *s;
	struct fw fw;

	fw_start(&fw, "auth_type = trust\nquery_timeout = 1\n", NULL, NULL, NULL);
	s = stream_login(&fw);
	ck_assert(raw_send(s->fd, query, 12));
	expect_error_and_close(s->fd, false, "08P01", "half a Query body");
	free(s);
	/* The server that received half a message cannot be reused. */
	ck_assert(wait_pool_stat(&fw, FW_TESTDB, FW_SUPERUSER, "sv_active", 0));
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

/* ---- impossible lengths --------------------------------------------------- */

static const uint32_t bad_lengths[] = {0, 1, 2, 3, 0x80000000u, 0xffffffffu};

START_TEST(impossible_startup_lengths_get_08P01)
{
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(bad_lengths[0]); i++) {
		uint8_t pkt[16] = {0, 0, 0, 0, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'x', 0, 0};
		char what[64];
		int fd = raw_connect(&fw);

		raw_put_be32(pkt, bad_lengths[i]);
		snprintf(what, sizeof(what), "startup length %u", bad_lengths[i]);
		raw_send(fd, pkt, sizeof(pkt));
		expect_error_and_close(fd, false, "08P01", what);
	}
	/* After an SSLRequest too. */
	for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(bad_lengths[0]); i++) {
		uint8_t pkt[16] = {0, 0, 0, 0, 0, 3, 0, 0};
		char what[64];
		int fd = raw_connect(&fw);

		raw_put_be32(pkt, bad_lengths[i]);
		snprintf(what, sizeof(what), "startup length %u after 'N'", bad_lengths[i]);
		raw_send(fd, ssl_request, sizeof(ssl_request));
		raw_send(fd, pkt, sizeof(pkt));
		expect_error_and_close(fd, true, "08P01", what);
	}
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(impossible_message_lengths_after_login_get_08P01)
{
	static const uint8_t types[] = {'Q', 'P', 'd', 'X'};
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	for (size_t t = 0; t < sizeof(types); t++) {
		for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(bad_lengths[0]); i++) {
			uint8_t msg[32] = {types[t]};
			struct stream *s = stream_login(&fw);
			char what[64];

			raw_put_be32(msg + 1, bad_lengths[i]);
			memcpy(msg + 5, "SELECT 1", 9);
			snprintf(what, sizeof(what), "'%c' of length %u", types[t], bad_lengths[i]);
			raw_send(s->fd, msg, sizeof(msg));
			expect_error_and_close(s->fd, false, "08P01", what);
			free(s);
		}
	}
	/* Inside a transaction, where the client already holds a server. */
	for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(bad_lengths[0]); i++) {
		uint8_t msg[32] = {'Q'};
		struct stream *s = stream_login(&fw);
		char what[64];

		ck_assert(send_query(s->fd, "BEGIN"));
		ck_assert(stream_until_rfq(s, FW_WAIT_MS) && !s->error);
		raw_put_be32(msg + 1, bad_lengths[i]);
		snprintf(what, sizeof(what), "'Q' of length %u in a transaction", bad_lengths[i]);
		raw_send(s->fd, msg, sizeof(msg));
		expect_error_and_close(s->fd, false, "08P01", what);
		free(s);
	}
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

/* ---- requests, then garbage; odd startup packets -------------------------- */

START_TEST(gssenc_request_then_garbage_gets_N_then_08P01)
{
	static const char garbage[] = "\x60\x82\x02\x00 this is no GSSAPI token either";
	uint8_t answer, two[2];
	bool closed;
	struct fw fw;
	int fd;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	fd = raw_connect(&fw);
	ck_assert(raw_send(fd, gssenc_request, sizeof(gssenc_request)));
	ck_assert_int_eq(raw_read(fd, &answer, 1, FW_WAIT_MS, false, &closed), 1);
	ck_assert_msg(answer == 'N', "GSSENCRequest answered '%c'", answer);
	raw_send(fd, garbage, sizeof(garbage) - 1);
	expect_error_and_close(fd, false, "08P01", "garbage after GSSENCRequest");
	/* Twice in a row, then garbage. */
	fd = raw_connect(&fw);
	ck_assert(raw_send(fd, ssl_request, sizeof(ssl_request)));
	ck_assert(raw_send(fd, gssenc_request, sizeof(gssenc_request)));
	ck_assert_int_eq(raw_read(fd, two, 2, FW_WAIT_MS, false, &closed), 2);
	ck_assert_msg(two[0] == 'N' && two[1] == 'N', "answers '%c%c'", two[0], two[1]);
	raw_send(fd, garbage, sizeof(garbage) - 1);
	expect_error_and_close(fd, false, "08P01", "garbage after SSLRequest and GSSENCRequest");
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

/* A StartupMessage of n parameters "pN" = value, hand-built. */
static uint8_t *startup_with(size_t n_params, size_t value_len, size_t *len_out)
{
	size_t cap = 128 + n_params * (sizeof("application_name") + value_len + 1);
	uint8_t *p = malloc(cap);
	size_t len = 8;

	ck_assert(p != NULL);
	raw_put_be32(p + 4, 3u << 16);
	len += (size_t)sprintf((char *)p + len, "user") + 1;
	len += (size_t)sprintf((char *)p + len, FW_SUPERUSER) + 1;
	for (size_t i = 0; i < n_params; i++) {
		len += (size_t)sprintf((char *)p + len, "application_name") + 1;
		memset(p + len, 'v', value_len);
		len += value_len;
		p[len++] = 0;
	}
	p[len++] = 0;
	raw_put_be32(p, (uint32_t)len);
	*len_out = len;
	return p;
}

START_TEST(startup_with_huge_parameter_lists_gets_08P01)
{
	const struct {
		size_t n, value_len;
	} cases[] = {
	    {65, 1},      /* more parameters than the pooler keeps */
	    {500, 1},     /* and longer than PostgreSQL's 10,000-byte startup limit */
	    {100000, 1},  /* a megabyte of parameters */
	    {1, 20000},   /* one value longer than the limit */
	    {1, 1 << 24}, /* 16 MB */
	};
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *pkt = startup_with(cases[i].n, cases[i].value_len, &len);
		int fd = raw_connect(&fw);
		char what[96];

		snprintf(what, sizeof(what), "startup with %zu parameters of %zu bytes", cases[i].n,
		         cases[i].value_len);
		raw_send(fd, pkt, len); /* the daemon may close before the end: fine */
		free(pkt);
		expect_error_and_close(fd, false, "08P01", what);
	}
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(startup_with_long_value_within_limits_logs_in_or_gets_an_error)
{
	size_t len;
	uint8_t *pkt = startup_with(1, 9000, &len);
	struct stream *s = calloc(1, sizeof(*s));
	struct fw fw;

	ck_assert(s != NULL);
	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	s->fd = raw_connect(&fw);
	ck_assert(raw_send(s->fd, pkt, len));
	free(pkt);
	if (stream_until_rfq(s, FW_WAIT_MS) && !s->error) {
		/* Logged in: the session works. */
		ck_assert(send_query(s->fd, "SELECT repeat('x', 1000)"));
		ck_assert(stream_until_rfq(s, FW_WAIT_MS));
		ck_assert_msg(!s->error && s->rows == 1, "query after a long application_name: %s",
		              s->err.message);
	} else {
		ck_assert_msg(s->error && s->err.sqlstate[0] != '\0',
		              "a 9,000-byte application_name got no answer");
	}
	stream_close(s);
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

/* ---- a flood of CancelRequests -------------------------------------------- */

struct fd_wait {
	const struct fw *fw;
	int baseline; /* open descriptors before the flood */
};

static bool fds_back(void *arg)
{
	const struct fd_wait *w = arg;

	return fd_count(w->fw) <= w->baseline;
}

START_TEST(cancel_request_flood_leaves_other_clients_and_fds_alone)
{
	struct stream *victim;
	struct fw fw;
	PGconn *other;
	struct fd_wait w = {&fw, 0};

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	other = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(other, "SELECT 1"), 1);
	/* The victim holds a server (open transaction), so valid cancels reach
	 * PostgreSQL, where an idle backend ignores them. */
	victim = stream_login(&fw);
	ck_assert(send_query(victim->fd, "BEGIN"));
	ck_assert(stream_until_rfq(victim, FW_WAIT_MS) && !victim->error);
	PQclear(console_show(&fw, "SHOW POOLS")); /* the console's socket counts from here */
	w.baseline = fd_count(&fw);
	for (int i = 0; i < 2000; i++) {
		uint8_t req[16] = {0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e};
		bool valid = i % 10 == 0;
		int fd = raw_connect(&fw);

		raw_put_be32(req + 8, valid ? victim->key_pid : (uint32_t)i * 2654435761u);
		raw_put_be32(req + 12, valid ? victim->key_secret : (uint32_t)i);
		if (i % 3 == 1)
			raw_put_be32(req + 8, victim->key_pid); /* right pid, wrong key */
		raw_send(fd, req, sizeof(req));
		close(fd);
		if (i % 200 == 0)
			ck_assert_int_eq(query_ll(other, "SELECT 1"), 1);
	}
	ck_assert_msg(wait_until(fds_back, &w, FW_WAIT_MS), "fds: %d after the flood, %d before",
	              fd_count(&fw), w.baseline);
	ck_assert_int_eq(query_ll(other, "SELECT 1"), 1);
	PQfinish(other);
	ck_assert(send_query(victim->fd, "SELECT 1"));
	ck_assert(stream_until_rfq(victim, FW_WAIT_MS));
	/* A valid cancel PostgreSQL delivers late may still hit this query:
	 * that is what the key is for.  Anything else is a failure. */
	ck_assert_msg(!victim->error || strcmp(victim->err.sqlstate, "57014") == 0,
	              "the victim's next query failed: %s %s", victim->err.sqlstate,
	              victim->err.message);
	victim->error = false;
	ck_assert(send_query(victim->fd, "COMMIT"));
	ck_assert(stream_until_rfq(victim, FW_WAIT_MS) && !victim->error);
	stream_close(victim);
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

/* ---- peers that stop reading ----------------------------------------------- */

struct backend_wait {
	const char *marker;     /* the query's start, unique to the test */
	const char *wait_event; /* pg_stat_activity.wait_event wanted */
};

static bool backend_waits(void *arg)
{
	const struct backend_wait *w = arg;
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
	         "query LIKE '%s%%' AND wait_event = '%s'",
	         w->marker, w->wait_event);
	return pg_query_ll(sql) > 0;
}

/* The client sends a query whose result is ~200 MB and reads nothing.  The
 * backend must end up blocked writing to fairway (ClientWrite), and stay so,
 * while fairway's RSS grows by far less than the result; then the client
 * reads everything and every byte is there. */
static void client_stalls_on_big_result(const char *sql, const char *marker, bool copy)
{
	struct backend_wait w = {marker, "ClientWrite"};
	struct stream *s;
	long base, peak = 0;
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	s = stream_login(&fw);
	ck_assert(send_query(s->fd, "SELECT 1"));
	ck_assert(stream_until_rfq(s, FW_WAIT_MS));
	s->rows = s->row_bytes = s->bad_rows = 0;
	base = rss_kb(&fw);
	ck_assert(send_query(s->fd, sql));
	/* Samples while stalled; each waits until the backend is blocked again. */
	for (int i = 0; i < 20; i++) {
		long now;

		ck_assert_msg(wait_until(backend_waits, &w, FW_WAIT_MS),
		              "sample %d: the backend is not blocked writing to fairway: fairway "
		              "reads the result though its client does not",
		              i);
		now = rss_kb(&fw);
		if (now > peak)
			peak = now;
		usleep(100 * 1000); /* spacing between samples, not a synchronisation */
	}
	ck_assert_msg(peak - base < RSS_GROWTH_MAX_KB,
	              "fairway grew from %ld kB to %ld kB while its client did not read", base,
	              peak);
	ck_assert_msg(stream_until_rfq(s, FW_SLOW_TIMEOUT * 1000), "result incomplete");
	ck_assert_msg(!s->error, "error: %s %s", s->err.sqlstate, s->err.message);
	if (copy) {
		ck_assert(s->copy_out);
		ck_assert_int_eq(s->copy_bytes, (long long)BIG_ROWS * (BIG_ROW_WIDTH + 1));
		ck_assert_str_eq(s->tag, "COPY 200000");
	} else {
		ck_assert_int_eq(s->rows, BIG_ROWS);
		ck_assert_int_eq(s->bad_rows, 0);
		ck_assert_int_eq(s->row_bytes, (long long)BIG_ROWS * (5 + 6 + BIG_ROW_WIDTH));
		ck_assert_str_eq(s->tag, "SELECT 200000");
	}
	/* The session goes on. */
	ck_assert(send_query(s->fd, "SELECT 1"));
	ck_assert(stream_until_rfq(s, FW_WAIT_MS) && !s->error);
	stream_close(s);
	assert_still_serves(&fw);
	fw_stop(&fw);
}

START_TEST(client_that_never_reads_a_200MB_result_holds_the_server_back)
{
	client_stalls_on_big_result("SELECT /* hostile-select */ repeat('x', 1000) FROM "
	                            "generate_series(1, 200000)",
	                            "SELECT /* hostile-select */", false);
}
END_TEST

START_TEST(client_that_never_reads_a_200MB_copy_out_holds_the_server_back)
{
	client_stalls_on_big_result("COPY /* hostile-copy-out */ (SELECT repeat('x', 1000) FROM "
	                            "generate_series(1, 200000)) TO STDOUT",
	                            "COPY /* hostile-copy-out */", true);
}
END_TEST

/* Sends what it can without blocking; false once the socket stays full for
 * stall_ms (the peer stopped reading). */
static bool send_or_stall(int fd, const uint8_t *buf, size_t len, size_t *sent, int stall_ms)
{
	while (*sent < len) {
		ssize_t n = send(fd, buf + *sent, len - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			*sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "send: %s",
		              strerror(errno));
		struct pollfd p = {.fd = fd, .events = POLLOUT};

		if (poll(&p, 1, stall_ms) == 0)
			return false;
	}
	return true;
}

START_TEST(copy_in_to_a_server_that_does_not_read_holds_the_client_back)
{
	static const char create[] = "DROP TABLE IF EXISTS hostile_copy_in; "
	                             "CREATE UNLOGGED TABLE hostile_copy_in (t text)";
	struct backend_wait w = {"COPY hostile_copy_in", "relation"};
	const size_t msg_len = 1 + 4 + BIG_ROW_WIDTH;
	size_t total = (size_t)BIG_ROWS * msg_len, sent = 0, chunk_rows = 1000;
	uint8_t *chunk = malloc(chunk_rows * msg_len);
	PGconn *locker = pg_connect(FW_TESTDB);
	struct stream *s;
	long base, now;
	struct fw fw;
	bool stalled = false;

	ck_assert(chunk != NULL);
	for (size_t i = 0; i < chunk_rows; i++) {
		uint8_t *m = chunk + i * msg_len;

		m[0] = 'd';
		raw_put_be32(m + 1, 4 + BIG_ROW_WIDTH);
		memset(m + 5, 'x', BIG_ROW_WIDTH - 1);
		m[5 + BIG_ROW_WIDTH - 1] = '\n';
	}
	PQclear(exec_ok(locker, create));
	PQclear(exec_ok(locker, "BEGIN"));
	PQclear(exec_ok(locker, "LOCK TABLE hostile_copy_in IN ACCESS EXCLUSIVE MODE"));
	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	s = stream_login(&fw);
	base = rss_kb(&fw);
	/* COPY and its data at once: the backend waits for the lock meanwhile. */
	ck_assert(send_query(s->fd, "COPY hostile_copy_in FROM STDIN"));
	ck_assert_msg(wait_until(backend_waits, &w, FW_WAIT_MS),
	              "COPY is not waiting for the lock");
	while (sent < total && !stalled) {
		size_t off = sent % (chunk_rows * msg_len), part = 0;
		size_t want = chunk_rows * msg_len - off;

		if (want > total - sent)
			want = total - sent;
		stalled = !send_or_stall(s->fd, chunk + off, want, &part, 2000);
		sent += part;
	}
	now = rss_kb(&fw);
	ck_assert_msg(stalled, "fairway took all %zu bytes of COPY data while the server read none",
	              sent);
	ck_assert_msg(now - base < RSS_GROWTH_MAX_KB,
	              "fairway grew from %ld kB to %ld kB while its server did not read", base,
	              now);
	ck_assert_msg(backend_waits(&w), "the backend is no longer waiting for the lock");
	PQclear(exec_ok(locker, "COMMIT"));
	while (sent < total) {
		size_t off = sent % (chunk_rows * msg_len), part = 0;
		size_t want = chunk_rows * msg_len - off;

		if (want > total - sent)
			want = total - sent;
		ck_assert_msg(send_or_stall(s->fd, chunk + off, want, &part, FW_WAIT_MS),
		              "COPY data not taken after the lock went (%zu of %zu bytes)", sent,
		              total);
		sent += part;
	}
	ck_assert(raw_send(s->fd, "c\0\0\0\4", 5));
	ck_assert_msg(stream_until_rfq(s, FW_SLOW_TIMEOUT * 1000), "no answer to CopyDone");
	ck_assert_msg(!s->error, "COPY failed: %s %s", s->err.sqlstate, s->err.message);
	ck_assert_str_eq(s->tag, "COPY 200000");
	ck_assert_int_eq(pg_query_ll("SELECT count(*) FROM hostile_copy_in WHERE length(t) = 999"),
	                 BIG_ROWS);
	stream_close(s);
	free(chunk);
	PQclear(exec_ok(locker, "DROP TABLE hostile_copy_in"));
	PQfinish(locker);
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

/* Sends the rest of buf while reading answers until want ReadyForQuery have
 * come (the daemon answers only as fast as we read). */
static void exchange(struct stream *s, const uint8_t *buf, size_t len, size_t *sent, long long want)
{
	while (s->rfqs < want) {
		if (*sent < len) {
			size_t part = 0;

			send_or_stall(s->fd, buf + *sent, len - *sent, &part, 0);
			*sent += part;
		}
		ck_assert_msg(stream_until_rfq(s, FW_WAIT_MS), "answer %lld of %lld missing",
		              s->rfqs + 1, want);
		ck_assert_msg(!s->error, "console error: %s", s->err.message);
	}
	ck_assert_uint_eq(*sent, len);
}

/* n Query messages of sql (padded with spaces to pad bytes if pad > 0). */
static uint8_t *queries(const char *sql, size_t pad, size_t n, size_t *len_out)
{
	size_t body = (pad > strlen(sql) ? pad : strlen(sql)) + 1, one = 5 + body;
	uint8_t *buf = malloc(n * one);

	ck_assert(buf != NULL);
	for (size_t i = 0; i < n; i++) {
		uint8_t *m = buf + i * one;

		m[0] = 'Q';
		raw_put_be32(m + 1, (uint32_t)body + 4);
		memset(m + 5, ' ', body - 1);
		memcpy(m + 5, sql, strlen(sql));
		m[5 + body - 1] = 0;
	}
	*len_out = n * one;
	return buf;
}

START_TEST(console_client_that_never_reads_its_answers_is_held_back)
{
	const size_t n = 20000;
	size_t len, sent = 0;
	uint8_t *buf = queries("SHOW CONFIG", 0, n, &len);
	struct stream *s;
	long base, peak = 0;
	struct fw fw;

	fw_start(&fw, "auth_type = trust\n", NULL, NULL, NULL);
	s = stream_login_as(&fw, FW_ADMIN, "pgbouncer");
	base = rss_kb(&fw);
	/* All of it fits in the socket buffers: the client is not held on send. */
	send_or_stall(s->fd, buf, len, &sent, 2000);
	for (int i = 0; i < 20; i++) {
		long now = rss_kb(&fw);

		if (now > peak)
			peak = now;
		usleep(100 * 1000); /* spacing between samples, not a synchronisation */
	}
	ck_assert_msg(peak - base < RSS_GROWTH_MAX_KB,
	              "fairway grew from %ld kB to %ld kB answering a console client that does "
	              "not read",
	              base, peak);
	exchange(s, buf, len, &sent, (long long)n);
	ck_assert_msg(s->bytes > 100LL * 1024 * 1024, "only %lld bytes of answers: too few to tell",
	              s->bytes);
	stream_close(s);
	free(buf);
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

START_TEST(console_client_that_floods_queries_during_pause_is_held_back)
{
	const size_t n = 25000; /* 8 KB each: 200 MB */
	size_t len, sent = 0;
	uint8_t *buf = queries("SHOW VERSION", 8000, n, &len);
	struct stream *s;
	PGconn *holder;
	long base, now;
	struct fw fw;
	bool all_sent;

	fw_start(&fw, "auth_type = trust\npool_mode = transaction\n", NULL, NULL, NULL);
	holder = fw_connect_ok(&fw, FW_AS_SUPER);
	PQclear(exec_ok(holder, "BEGIN"));
	ck_assert_int_eq(query_ll(holder, "SELECT 1"), 1);
	s = stream_login_as(&fw, FW_ADMIN, "pgbouncer");
	base = rss_kb(&fw);
	ck_assert(send_query(s->fd, "PAUSE"));
	all_sent = send_or_stall(s->fd, buf, len, &sent, 2000);
	now = rss_kb(&fw);
	ck_assert_msg(!all_sent, "fairway read all %zu bytes of queries while PAUSE waited", sent);
	ck_assert_msg(now - base < RSS_GROWTH_MAX_KB,
	              "fairway grew from %ld kB to %ld kB while PAUSE waited", base, now);
	/* The transaction ends: PAUSE is answered, then every query. */
	PQclear(exec_ok(holder, "COMMIT"));
	exchange(s, buf, len, &sent, 1 + (long long)n);
	stream_close(s);
	free(buf);
	PGresult *res = console_query(&fw, "RESUME");
	PQclear(res);
	PQfinish(holder);
	assert_still_serves(&fw);
	fw_stop(&fw);
}
END_TEST

Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	TCase *big = tcase_create("stalled_peers");

	tcase_set_timeout(tc, FW_SLOW_TIMEOUT);
	tcase_add_test(tc, half_packets_then_close_leave_nothing_behind);
	tcase_add_test(tc, half_startup_packet_left_open_is_closed_by_client_login_timeout);
	tcase_add_test(tc, half_query_header_left_open_is_closed_by_client_idle_timeout);
	tcase_add_test(tc, half_query_body_left_open_is_closed_by_query_timeout);
	tcase_add_test(tc, impossible_startup_lengths_get_08P01);
	tcase_add_test(tc, impossible_message_lengths_after_login_get_08P01);
	tcase_add_test(tc, gssenc_request_then_garbage_gets_N_then_08P01);
	tcase_add_test(tc, startup_with_huge_parameter_lists_gets_08P01);
	tcase_add_test(tc, startup_with_long_value_within_limits_logs_in_or_gets_an_error);
	tcase_add_test(tc, cancel_request_flood_leaves_other_clients_and_fds_alone);
	suite_add_tcase(s, tc);
	tcase_set_timeout(big, FW_SLOW_TIMEOUT);
	tcase_add_test(big, client_that_never_reads_a_200MB_result_holds_the_server_back);
	tcase_add_test(big, client_that_never_reads_a_200MB_copy_out_holds_the_server_back);
	tcase_add_test(big, copy_in_to_a_server_that_does_not_read_holds_the_client_back);
	tcase_add_test(big, console_client_that_never_reads_its_answers_is_held_back);
	tcase_add_test(big, console_client_that_floods_queries_during_pause_is_held_back);
	suite_add_tcase(s, big);
	return s;
}
