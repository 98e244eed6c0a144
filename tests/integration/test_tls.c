/* TLS on both sides: libpq clients with sslmode require / verify-full through
 * the pooler, plain clients under prefer and refused under require, direct
 * TLS (PostgreSQL 17 style, ALPN "postgresql"), server_tls_sslmode against
 * the harness's PostgreSQL (ssl = on, certificate of the harness CA),
 * certificates swapped by RELOAD, a broken one refused by RELOAD, 20 MB
 * each way and pgbench over TLS, SCRAM-SHA-256-PLUS channel binding
 * (libpq's channel_binding, on the wire, and towards PostgreSQL).  Certificates come from the openssl command
 * line (tls_make_ca / tls_make_cert in the harness). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* fairway's own certificate (fw.crt, harness CA) for its clients. */
#define CLIENT_TLS(mode)                                                                           \
	"client_tls_sslmode = " mode "\n"                                                          \
	"client_tls_key_file = @DIR@/fw.key\n"                                                     \
	"client_tls_cert_file = @DIR@/fw.crt\n"

#define BIG_CHUNKS 2621440 /* 8-digit numbers: 20 MiB */

/* text with every "@DIR@" replaced by the daemon's directory and "@CA@" by
 * the harness CA; static buffer. */
static const char *expand(const struct fw *fw, const char *text)
{
	static char buf[8192];
	size_t n = 0;

	for (const char *p = text; *p != '\0' && n < sizeof(buf) - PATH_MAX - 1;) {
		const char *with = NULL;
		size_t skip = 0;

		if (strncmp(p, "@DIR@", 5) == 0) {
			with = fw->dir;
			skip = 5;
		} else if (strncmp(p, "@CA@", 4) == 0) {
			with = tls_ca_file();
			skip = 4;
		}
		if (with != NULL) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", with);
			p += skip;
		} else {
			buf[n++] = *p++;
		}
	}
	buf[n] = '\0';
	return buf;
}

/* A daemon with fw.crt/fw.key and client.crt/client.key (CN fwsuper), both
 * of the harness CA, in its directory; extra may use @DIR@ and @CA@. */
static void start_tls_fw(struct fw *fw, const char *extra)
{
	memset(fw, 0, sizeof(*fw));
	fw_write_config(fw, NULL, NULL, NULL, NULL);
	tls_make_cert(fw->dir, "fw", "localhost", NULL, NULL);
	tls_make_cert(fw->dir, "client", FW_SUPERUSER, NULL, NULL);
	fw_write_config(fw, expand(fw, extra), NULL, NULL, NULL);
	fw_spawn(fw);
	fw_wait_listening(fw);
}

/* The console over TLS, for daemons that refuse plain clients. */
static void console_over_tls(struct fw *fw)
{
	fw->console = fw_connect_ok(fw, "sslmode=require " FW_AS_ADMIN);
}

/* SHOW CLIENTS / SERVERS "tls" of the row with this remote port / first server. */
static void client_tls_of(struct fw *fw, PGconn *c, char *buf, size_t n)
{
	char port[16];
	PGresult *res = console_show(fw, "SHOW CLIENTS");
	int row;

	/* The client's local port is the pooler's remote port for it. */
	snprintf(port, sizeof(port), "%s", "");
	{
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);

		ck_assert_int_eq(getsockname(PQsocket(c), (struct sockaddr *)&sa, &sl), 0);
		snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
	}
	row = res_find_row(res, "port", port, NULL, NULL);
	ck_assert_msg(row >= 0, "no SHOW CLIENTS row with port %s", port);
	snprintf(buf, n, "%s", res_str(res, row, "tls") ? res_str(res, row, "tls") : "(null)");
	PQclear(res);
}

START_TEST(libpq_require_gets_tls13_and_show_clients_says_so)
{
	struct fw fw;
	PGconn *tls, *plain;
	char v[256];

	start_tls_fw(&fw, CLIENT_TLS("prefer"));
	tls = fw_connect_ok(&fw, "sslmode=require " FW_AS_SUPER);
	ck_assert_int_eq(PQsslInUse(tls), 1);
	ck_assert_str_eq(PQsslAttribute(tls, "protocol"), "TLSv1.3");
	ck_assert_int_eq(query_ll(tls, "SELECT 41 + 1"), 42);
	client_tls_of(&fw, tls, v, sizeof(v));
	ck_assert_msg(strncmp(v, "TLSv1.3/TLS_", 12) == 0, "SHOW CLIENTS tls: %s", v);

	/* prefer: a plain client is still welcome, and shows an empty tls. */
	plain = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(PQsslInUse(plain), 0);
	ck_assert_int_eq(query_ll(plain, "SELECT 7"), 7);
	client_tls_of(&fw, plain, v, sizeof(v));
	ck_assert_str_eq(v, "");
	ck_assert(fw_wait_log(&fw, "tls=TLSv1.3/"));
	PQfinish(tls);
	PQfinish(plain);
	fw_stop(&fw);
}
END_TEST

START_TEST(require_refuses_plain_clients_with_ssl_required)
{
	struct fw fw;
	PGconn *c;

	start_tls_fw(&fw, CLIENT_TLS("require"));
	console_over_tls(&fw);
	expect_connect_error(fw_connect(&fw, FW_AS_SUPER), "08P01", "SSL required");
	c = fw_connect_ok(&fw, "sslmode=require " FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	/* Unix sockets are exempt, as in PgBouncer. */
	c = fw_connect_unix(&fw, FW_AS_SUPER);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(verify_full_takes_a_client_certificate_and_refuses_none)
{
	struct fw fw;
	PGconn *c;

	start_tls_fw(&fw, CLIENT_TLS("verify-full") "client_tls_ca_file = @CA@\n");
	fw.console =
	    fw_connect_ok(&fw, "%s",
	                  expand(&fw, "sslmode=verify-full sslrootcert=@CA@ "
	                              "sslcert=@DIR@/client.crt sslkey=@DIR@/client.key "
	                              "dbname=pgbouncer user=" FW_ADMIN " password=" FW_ADMIN_PW));
	c = fw_connect(&fw, "%s",
	               expand(&fw, "sslmode=verify-full sslrootcert=@CA@ sslcert=@DIR@/client.crt "
	                           "sslkey=@DIR@/client.key " FW_AS_SUPER));
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	ck_assert_int_eq(query_ll(c, "SELECT 2"), 2);
	PQfinish(c);

	/* No certificate: the handshake fails. */
	c = fw_connect(&fw, "sslmode=require " FW_AS_SUPER);
	ck_assert_msg(PQstatus(c) != CONNECTION_OK, "a client without certificate got in");
	PQfinish(c);
	ck_assert(fw_wait_log(&fw, "TLS handshake failed"));
	fw_stop(&fw);
}
END_TEST

static const char *server_ssl(PGconn *c, char *buf, size_t n)
{
	return query_str(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", buf, n);
}

START_TEST(server_require_talks_tls_to_postgresql)
{
	struct fw fw;
	PGconn *c;
	PGresult *res;
	char v[64];

	fw_start(&fw, "server_tls_sslmode = require\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_str_eq(server_ssl(c, v, sizeof(v)), "t");
	res = console_show(&fw, "SHOW SERVERS");
	ck_assert_int_ge(PQntuples(res), 1);
	ck_assert_msg(strncmp(res_str(res, 0, "tls"), "TLSv1.3/", 8) == 0, "SHOW SERVERS tls: %s",
	              res_str(res, 0, "tls"));
	PQclear(res);
	PQfinish(c);
	fw_stop(&fw);

	/* disable: plain to the server. */
	fw_start(&fw, "server_tls_sslmode = disable\n", NULL, NULL, NULL);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_str_eq(server_ssl(c, v, sizeof(v)), "f");
	PQfinish(c);
	fw_stop(&fw);

	/* Unix-socket servers never use TLS, even under require (as PgBouncer). */
	{
		char dbs[PATH_MAX + 128];

		snprintf(dbs, sizeof(dbs), "testdb = host=%s port=%d dbname=testdb\n",
		         pg_socket_dir(), pg_port());
		fw_start(&fw, "server_tls_sslmode = require\n", dbs, NULL, NULL);
		c = fw_connect_ok(&fw, FW_AS_SUPER);
		ck_assert_str_eq(server_ssl(c, v, sizeof(v)), "f");
		PQfinish(c);
		fw_stop(&fw);
	}
}
END_TEST

START_TEST(server_verify_full_with_the_right_ca_logs_in)
{
	struct fw fw;
	PGconn *c;
	char v[64];

	start_tls_fw(&fw, "server_tls_sslmode = verify-full\nserver_tls_ca_file = @CA@\n");
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_str_eq(server_ssl(c, v, sizeof(v)), "t");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(server_verify_full_with_a_wrong_ca_fails_login_clearly)
{
	struct fw fw;

	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, NULL, NULL, NULL, NULL);
	tls_make_ca(fw.dir, "other");
	fw_write_config(&fw,
	                expand(&fw, "server_tls_sslmode = verify-full\n"
	                            "server_tls_ca_file = @DIR@/other.crt\n"),
	                NULL, NULL, NULL);
	fw_spawn(&fw);
	fw_wait_listening(&fw);
	expect_connect_error(fw_connect(&fw, FW_AS_SUPER), "08006", "certificate verify failed");
	fw_stop(&fw);
}
END_TEST

START_TEST(reload_swaps_the_certificate_and_keeps_established_clients)
{
	struct fw fw;
	PGconn *old, *c;
	PGresult *res;

	start_tls_fw(&fw, CLIENT_TLS("prefer"));
	old = fw_connect(&fw, "%s", expand(&fw, "sslmode=verify-ca sslrootcert=@CA@ " FW_AS_SUPER));
	ck_assert_msg(PQstatus(old) == CONNECTION_OK, "%s", PQerrorMessage(old));
	ck_assert_int_eq(query_ll(old, "SELECT 1"), 1);

	/* A certificate of another CA under the same file names. */
	tls_make_ca(fw.dir, "second");
	tls_make_cert(fw.dir, "fw", "localhost", fw.dir, "second");
	res = console_query(&fw, "RELOAD");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);

	ck_assert_int_eq(query_ll(old, "SELECT 3"), 3); /* the old session goes on */
	c = fw_connect(&fw, "%s",
	               expand(&fw, "sslmode=verify-ca sslrootcert=@DIR@/second.crt " FW_AS_SUPER));
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "new client, new CA: %s", PQerrorMessage(c));
	PQfinish(c);
	c = fw_connect(&fw, "%s", expand(&fw, "sslmode=verify-ca sslrootcert=@CA@ " FW_AS_SUPER));
	ck_assert_msg(PQstatus(c) != CONNECTION_OK, "the old certificate is still served");
	PQfinish(c);
	ck_assert_int_eq(query_ll(old, "SELECT 4"), 4);
	PQfinish(old);
	fw_stop(&fw);
}
END_TEST

START_TEST(reload_with_a_broken_certificate_keeps_the_old_one)
{
	struct fw fw;
	PGconn *old, *c;
	PGresult *res;
	char path[PATH_MAX + 16];

	start_tls_fw(&fw, CLIENT_TLS("require"));
	console_over_tls(&fw);
	old = fw_connect_ok(&fw, "sslmode=require " FW_AS_SUPER);
	snprintf(path, sizeof(path), "%s/fw.crt", fw.dir);
	fw_write_file(&fw, "fw.crt", "-----BEGIN CERTIFICATE-----\nnot a certificate\n", path,
	              sizeof(path));
	res = console_query(&fw, "RELOAD");
	PQclear(res);
	ck_assert_msg(fw_wait_log(&fw, "keeping the old TLS configuration"), "%s",
	              fw_log_tail(&fw));
	ck_assert(fw_log_contains(&fw, "client_tls_cert_file"));
	ck_assert_int_eq(query_ll(old, "SELECT 5"), 5);
	c = fw_connect(&fw, "%s", expand(&fw, "sslmode=verify-ca sslrootcert=@CA@ " FW_AS_SUPER));
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "after a bad reload: %s", PQerrorMessage(c));
	ck_assert_int_eq(query_ll(c, "SELECT 6"), 6);
	PQfinish(c);
	PQfinish(old);
	fw_stop(&fw);
}
END_TEST

START_TEST(startup_with_a_broken_certificate_fails_with_a_clear_message)
{
	struct fw fw;
	char path[PATH_MAX + 16];
	char *err;

	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, NULL, NULL, NULL, NULL);
	fw_write_file(&fw, "fw.crt", "garbage\n", path, sizeof(path));
	fw_write_file(&fw, "fw.key", "garbage\n", path, sizeof(path));
	fw_write_config(&fw, expand(&fw, CLIENT_TLS("require")), NULL, NULL, NULL);
	fw_spawn(&fw);
	ck_assert_msg(fw_wait_exit(&fw, FW_STOP_MS), "fairway started with a broken certificate");
	ck_assert(WIFEXITED(fw.exit_status) && WEXITSTATUS(fw.exit_status) != 0);
	err = read_file(fw.logfile);
	ck_assert_msg(err != NULL && strstr(err, "TLS configuration error: cannot load "
	                                         "client_tls_cert_file") != NULL,
	              "%s", fw_log_tail(&fw));
	free(err);
	fw_assert_no_sanitizer_report(&fw);
}
END_TEST

START_TEST(twenty_megabytes_each_way_through_tls_on_both_sides)
{
	struct fw fw;
	PGconn *c;
	PGresult *res;
	char sql[256], *param, want_md5[64], got_md5[64];
	const char *v;
	size_t len;

	start_tls_fw(&fw, CLIENT_TLS("require") "server_tls_sslmode = require\n");
	console_over_tls(&fw);
	c = fw_connect_ok(&fw, "sslmode=require " FW_AS_SUPER);

	/* Server to client: 20 MiB of numbered 8-byte chunks, checked in place. */
	snprintf(sql, sizeof(sql),
	         "SELECT string_agg(lpad(i::text, 8, '0'), '' ORDER BY i) "
	         "FROM generate_series(0, %d) i",
	         BIG_CHUNKS - 1);
	res = exec_ok(c, sql);
	v = PQgetvalue(res, 0, 0);
	len = (size_t)PQgetlength(res, 0, 0);
	ck_assert_uint_eq(len, (size_t)BIG_CHUNKS * 8);
	for (int i = 0; i < BIG_CHUNKS; i++) {
		char want[16];

		snprintf(want, sizeof(want), "%08d", i);
		if (memcmp(v + (size_t)i * 8, want, 8) != 0)
			ck_abort_msg("chunk %d is \"%.8s\"", i, v + (size_t)i * 8);
	}

	/* Client to server: the same text as a parameter; PostgreSQL's md5 of it
	 * must match the md5 of the text it builds itself. */
	param = malloc(len + 1);
	ck_assert_ptr_nonnull(param);
	memcpy(param, v, len + 1);
	PQclear(res);
	{
		const char *vals[1] = {param};

		res = PQexecParams(c, "SELECT md5($1::text)", 1, NULL, vals, NULL, NULL, 0);
		ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
		snprintf(got_md5, sizeof(got_md5), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	snprintf(sql, sizeof(sql),
	         "SELECT md5(string_agg(lpad(i::text, 8, '0'), '' ORDER BY i)) "
	         "FROM generate_series(0, %d) i",
	         BIG_CHUNKS - 1);
	query_str(c, sql, want_md5, sizeof(want_md5));
	ck_assert_str_eq(got_md5, want_md5);
	free(param);
	ck_assert_str_eq(server_ssl(c, sql, sizeof(sql)), "t");
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(pgbench_over_tls_has_no_failed_transactions)
{
	struct fw fw;
	char pgbench[PATH_MAX], conninfo[512], out[32768];
	const char *argv[16];
	int status;
	size_t n = 0;

	start_tls_fw(&fw, CLIENT_TLS("require") "server_tls_sslmode = require\n"
	                                        "pool_mode = transaction\n");
	console_over_tls(&fw);
	snprintf(conninfo, sizeof(conninfo),
	         "host=127.0.0.1 port=%d sslmode=require dbname=" FW_TESTDB
	         " " FW_AS_SUPER_CREDENTIALS,
	         fw.port);
	argv[n++] = pg_bin("pgbench", pgbench, sizeof(pgbench));
	argv[n++] = "-n";
	argv[n++] = "-c";
	argv[n++] = "4";
	argv[n++] = "-j";
	argv[n++] = "2";
	argv[n++] = "-t";
	argv[n++] = "200";
	argv[n++] = conninfo;
	argv[n] = NULL;
	status = run_cmd(argv, out, sizeof(out), FW_SLOW_TIMEOUT * 1000);
	ck_assert_msg(status == 0, "pgbench exit %d:\n%s", status, out);
	ck_assert_msg(strstr(out, "number of transactions actually processed: 800/800") != NULL,
	              "%s", out);
	ck_assert_msg(strstr(out, "number of failed transactions: 0 ") != NULL ||
	                  strstr(out, "number of failed transactions") == NULL,
	              "%s", out);
	fw_stop(&fw);
}
END_TEST

/* ---- direct TLS: a TLS ClientHello first, as PostgreSQL 17 clients may ---- */

/* Connects, does the handshake with the given ALPN (NULL: none), sends a
 * StartupMessage for trustuser and returns the first message type the
 * pooler answers with ('R' for an authentication request), or 0 if the
 * handshake or the read failed. */
static char direct_tls_first_reply(const struct fw *fw, const char *alpn)
{
	const char *kv[] = {"user", FW_SUPERUSER, "database", FW_TESTDB, NULL};
	uint8_t pkt[256], reply[1];
	size_t len = raw_startup_packet(pkt, sizeof(pkt), kv);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	int fd = raw_connect(fw);
	char got = 0;

	ERR_clear_error(); /* a refused handshake before leaves its error queued */
	SSL_set_fd(ssl, fd);
	if (alpn != NULL) {
		unsigned char wire[32];

		wire[0] = (unsigned char)strlen(alpn);
		memcpy(wire + 1, alpn, wire[0]);
		SSL_set_alpn_protos(ssl, wire, 1u + wire[0]);
	}
	if (SSL_connect(ssl) == 1 && SSL_write(ssl, pkt, (int)len) == (int)len &&
	    SSL_read(ssl, reply, 1) == 1)
		got = (char)reply[0];
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return got;
}

/* Reads one message over ssl into buf (type, then body); false at EOF. */
static bool ssl_read_msg(SSL *ssl, char *type, uint8_t *buf, size_t size, size_t *len)
{
	uint8_t hdr[5];
	uint32_t n;

	if (SSL_read_ex(ssl, hdr, 1, &(size_t){0}) != 1)
		return false;
	for (size_t got = 1; got < 5;) {
		size_t r = 0;

		if (SSL_read_ex(ssl, hdr + got, 5 - got, &r) != 1)
			return false;
		got += r;
	}
	memcpy(&n, hdr + 1, 4);
	n = ntohl(n) - 4;
	ck_assert_msg(n <= size, "message '%c' of %u bytes", hdr[0], n);
	for (size_t got = 0; got < n;) {
		size_t r = 0;

		if (SSL_read_ex(ssl, buf + got, n - got, &r) != 1)
			return false;
		got += r;
	}
	*type = (char)hdr[0];
	*len = n;
	return true;
}

/* Reads messages until ReadyForQuery; returns the first DataRow's first
 * value (as text, in buf) or fails the test on an ErrorResponse. */
static void ssl_read_until_ready(SSL *ssl, char *value, size_t size)
{
	static uint8_t body[65536];
	char type;
	size_t len;

	for (;;) {
		ck_assert_msg(ssl_read_msg(ssl, &type, body, sizeof(body), &len),
		              "the pooler closed the TLS connection");
		ck_assert_msg(type != 'E', "ErrorResponse: %.*s", (int)len, body);
		if (type == 'D' && value != NULL && len >= 6) {
			uint32_t vl;

			memcpy(&vl, body + 2, 4);
			vl = ntohl(vl);
			snprintf(value, size, "%.*s", (int)(vl < len - 6 ? vl : len - 6), body + 6);
		}
		if (type == 'Z')
			return;
	}
}

/* A TLS record larger than the pooler's read leaves decrypted bytes inside
 * OpenSSL, with nothing left on the socket to wake the pooler: it must
 * process them anyway (SSL_pending).  Right after a direct-TLS handshake
 * the pooler's first read is small (2 KiB), so one 10 KB record holding the
 * StartupMessage and a Query does it; so do queries sent in two records. */
START_TEST(bytes_buffered_inside_openssl_are_processed_without_new_data)
{
	const char *kv[] = {"user", FW_SUPERUSER, "database", FW_TESTDB, NULL};
	static char buf[16484 + 256];
	unsigned char alpn[] = {10, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 'q', 'l'};
	char value[64], want[64];
	size_t start_len = raw_startup_packet((uint8_t *)buf, 256, kv);
	struct fw fw;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;

	start_tls_fw(&fw, CLIENT_TLS("require") "auth_type = trust\n");
	console_over_tls(&fw);
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = SSL_new(ctx);
	fd = raw_connect(&fw);
	ERR_clear_error();
	SSL_set_fd(ssl, fd);
	SSL_set_alpn_protos(ssl, alpn, sizeof(alpn));
	ck_assert_int_eq(SSL_connect(ssl), 1);

	/* StartupMessage and a 10000-byte Query in one record. */
	{
		char *q = buf + start_len;
		size_t total = 10000, xs = total - 6 - 17;
		uint32_t n = htonl((uint32_t)total - 1);

		q[0] = 'Q';
		memcpy(q + 1, &n, 4);
		memcpy(q + 5, "SELECT length('", 15);
		memset(q + 20, 'x', xs);
		memcpy(q + 20 + xs, "')", 3);
		ck_assert_int_eq(SSL_write(ssl, buf, (int)(start_len + total)),
		                 (int)(start_len + total));
		ssl_read_until_ready(ssl, NULL, 0); /* the login */
		ssl_read_until_ready(ssl, value, sizeof(value));
		snprintf(want, sizeof(want), "%zu", xs);
		ck_assert_str_eq(value, want);
	}
	/* A Query of 16484 bytes in a 100-byte and a 16384-byte record. */
	{
		size_t total = 16484, xs = total - 6 - 17;
		uint32_t n = htonl((uint32_t)total - 1);

		buf[0] = 'Q';
		memcpy(buf + 1, &n, 4);
		memcpy(buf + 5, "SELECT length('", 15);
		memset(buf + 20, 'x', xs);
		memcpy(buf + 20 + xs, "')", 3);
		for (int round = 0; round < 3; round++) {
			ck_assert_int_eq(SSL_write(ssl, buf, 100), 100);
			ck_assert_int_eq(SSL_write(ssl, buf + 100, (int)total - 100),
			                 (int)total - 100);
			ssl_read_until_ready(ssl, value, sizeof(value));
			snprintf(want, sizeof(want), "%zu", xs);
			ck_assert_str_eq(value, want);
		}
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	fw_stop(&fw);
}
END_TEST

START_TEST(direct_tls_with_alpn_postgresql_logs_in_and_without_is_refused)
{
	struct fw fw;

	start_tls_fw(&fw, CLIENT_TLS("require"));
	console_over_tls(&fw);
	ck_assert_int_eq(direct_tls_first_reply(&fw, "postgresql"), 'R');
	/* No ALPN: the handshake works, then an error instead of a login. */
	ck_assert_int_eq(direct_tls_first_reply(&fw, NULL), 'E');
	/* Another protocol only: the handshake is refused. */
	ck_assert_int_eq(direct_tls_first_reply(&fw, "http/1.1"), 0);
	ck_assert_int_eq(direct_tls_first_reply(&fw, "postgresql"), 'R');
	fw_stop(&fw);
}
END_TEST

START_TEST(direct_tls_without_tls_enabled_is_closed_and_daemon_lives)
{
	struct fw fw;
	PGconn *c;

	fw_start(&fw, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(direct_tls_first_reply(&fw, "postgresql"), 0);
	c = fw_connect_ok(&fw, FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

START_TEST(plain_bytes_after_ssl_request_are_refused)
{
	struct fw fw;
	uint8_t buf[64];
	/* SSLRequest and the start of a StartupMessage in one write. */
	const uint8_t req[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 9, 0, 3, 0, 0, 0};
	bool closed = false;
	int fd;
	size_t n;
	PGconn *c;

	start_tls_fw(&fw, CLIENT_TLS("prefer"));
	fd = raw_connect(&fw);
	ck_assert(raw_send(fd, req, sizeof(req)));
	n = raw_read(fd, buf, sizeof(buf), 10000, true, &closed);
	close(fd);
	ck_assert_msg(n >= 1 && buf[0] == 'E', "got %zu bytes, first %d", n, n ? buf[0] : -1);
	ck_assert(fw_wait_log(&fw, "received unencrypted data after SSL request"));
	c = fw_connect_ok(&fw, "sslmode=require " FW_AS_SUPER);
	ck_assert_int_eq(query_ll(c, "SELECT 1"), 1);
	PQfinish(c);
	fw_stop(&fw);
}
END_TEST

/* auth_type = cert: the verified client certificate's common name is the
 * user; another user, or no certificate, is refused. */
START_TEST(cert_auth_takes_the_user_from_the_certificate)
{
	struct fw fw;
	PGconn *c;

	start_tls_fw(&fw, CLIENT_TLS("require") "client_tls_ca_file = @CA@\nauth_type = cert\n");
	/* The console goes through cert authentication too. */
	tls_make_cert(fw.dir, "admin", FW_ADMIN, NULL, NULL);
	fw.console = fw_connect_ok(&fw, "%s",
	                           expand(&fw, "sslmode=require sslcert=@DIR@/admin.crt "
	                                       "sslkey=@DIR@/admin.key dbname=pgbouncer "
	                                       "user=" FW_ADMIN));
	c = fw_connect(&fw, "%s",
	               expand(&fw,
	                      "sslmode=require sslcert=@DIR@/client.crt "
	                      "sslkey=@DIR@/client.key dbname=" FW_TESTDB " user=" FW_SUPERUSER));
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	ck_assert_int_eq(query_ll(c, "SELECT 3"), 3);
	PQfinish(c);

	/* The certificate says fwsuper, the client asks for trustuser. */
	c = fw_connect(&fw, "%s",
	               expand(&fw,
	                      "sslmode=require sslcert=@DIR@/client.crt "
	                      "sslkey=@DIR@/client.key dbname=" FW_TESTDB " user=" FW_TRUSTUSER));
	expect_connect_error(c, "28000", "certificate authentication failed");
	ck_assert(fw_wait_log(&fw, "does not match user name"));

	/* TLS without a certificate. */
	c = fw_connect(&fw, "sslmode=require dbname=" FW_TESTDB " user=" FW_SUPERUSER);
	expect_connect_error(c, "28000", "certificate authentication failed");
	fw_stop(&fw);
}
END_TEST

/* An hba cert line with an ident map: the certificate of fwsuper may log in
 * as trustuser, and only as that. */
START_TEST(hba_cert_line_maps_the_certificate_through_the_ident_file)
{
	struct fw fw;
	PGconn *c;
	char path[PATH_MAX];

	memset(&fw, 0, sizeof(fw));
	fw_write_config(&fw, NULL, NULL, NULL, NULL);
	tls_make_cert(fw.dir, "fw", "localhost", NULL, NULL);
	tls_make_cert(fw.dir, "client", FW_SUPERUSER, NULL, NULL);
	fw_write_file(&fw, "hba.conf",
	              "hostssl pgbouncer all 127.0.0.1/32 md5\n"
	              "hostssl testdb all 127.0.0.1/32 cert map=certmap\n",
	              path, sizeof(path));
	fw_write_file(&fw, "ident.conf", "certmap " FW_SUPERUSER " " FW_TRUSTUSER "\n", path,
	              sizeof(path));
	fw_write_config(&fw,
	                expand(&fw, CLIENT_TLS("require") "client_tls_ca_file = @CA@\n"
	                                                  "auth_type = hba\n"
	                                                  "auth_hba_file = @DIR@/hba.conf\n"
	                                                  "auth_ident_file = @DIR@/ident.conf\n"),
	                NULL, NULL, NULL);
	fw_spawn(&fw);
	fw_wait_listening(&fw);
	console_over_tls(&fw);
	c = fw_connect(&fw, "%s",
	               expand(&fw,
	                      "sslmode=require sslcert=@DIR@/client.crt "
	                      "sslkey=@DIR@/client.key dbname=" FW_TESTDB " user=" FW_TRUSTUSER));
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	ck_assert_int_eq(query_ll(c, "SELECT 4"), 4);
	PQfinish(c);
	c = fw_connect(&fw, "%s",
	               expand(&fw,
	                      "sslmode=require sslcert=@DIR@/client.crt "
	                      "sslkey=@DIR@/client.key dbname=" FW_TESTDB " user=" FW_MD5USER));
	expect_connect_error(c, "28000", "certificate authentication failed");
	ck_assert(fw_wait_log(&fw, "ident map \"certmap\" does not let certificate"));
	fw_stop(&fw);
}
END_TEST

/* ---- SCRAM-SHA-256-PLUS (channel binding tls-server-end-point) ---------- */

/* A TLS daemon whose certificate is signed with md (NULL: SHA-256) and whose
 * auth_file holds PostgreSQL's own SCRAM secret of scramuser, so the server
 * login can only be the pass-through of the client's proof. */
static void start_scram_tls_fw(struct fw *fw, const char *md, const char *extra)
{
	char userlist[1024], secret[512];
	PGconn *pg = pg_connect("postgres");

	query_str(pg, "SELECT rolpassword FROM pg_authid WHERE rolname = '" FW_SCRAMUSER "'",
	          secret, sizeof(secret));
	PQfinish(pg);
	ck_assert_msg(strncmp(secret, "SCRAM-SHA-256$", 14) == 0, "not a SCRAM secret: %s", secret);
	snprintf(userlist, sizeof(userlist), "\"%s\" \"%s\"\n\"%s\" \"%s\"\n", FW_SCRAMUSER, secret,
	         FW_ADMIN, FW_ADMIN_PW);
	memset(fw, 0, sizeof(*fw));
	fw_write_config(fw, NULL, NULL, NULL, userlist);
	tls_make_cert_md(fw->dir, "fw", "localhost", NULL, NULL, md);
	fw_write_config(fw, expand(fw, extra), NULL, NULL, userlist);
	fw_spawn(fw);
	fw_wait_listening(fw);
}

static void assert_scram_user(PGconn *c)
{
	char buf[64];

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	ck_assert_str_eq(query_str(c, "SELECT current_user", buf, sizeof(buf)), FW_SCRAMUSER);
	PQfinish(c);
}

/* libpq's channel_binding=require only succeeds if Fairway offers
 * SCRAM-SHA-256-PLUS and accepts libpq's hash of Fairway's certificate (a
 * wrong hash or a wrong comparison fails it); the server login after it is
 * the pass-through of the proof.  disable and prefer keep working. */
static void channel_binding_with_certificate_digest(const char *md)
{
	struct fw fw;

	start_scram_tls_fw(&fw, md, CLIENT_TLS("prefer") "auth_type = scram-sha-256\n");
	assert_scram_user(fw_connect(&fw,
	                             "sslmode=require channel_binding=require dbname=" FW_TESTDB
	                             " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW));
	assert_scram_user(fw_connect(&fw,
	                             "sslmode=require channel_binding=disable dbname=" FW_TESTDB
	                             " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW));
	assert_scram_user(fw_connect(&fw, "sslmode=require channel_binding=prefer dbname=" FW_TESTDB
	                                  " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW));
	/* A wrong password with channel binding: the usual failure. */
	expect_connect_error(fw_connect(&fw,
	                                "sslmode=require channel_binding=require dbname=" FW_TESTDB
	                                " user=" FW_SCRAMUSER " password=nope"),
	                     "28P01", "SASL authentication failed");
	/* An unknown user runs the mock exchange with binding too. */
	expect_connect_error(fw_connect(&fw,
	                                "sslmode=require channel_binding=require dbname=" FW_TESTDB
	                                " user=nosuchuser password=nope"),
	                     "28P01", "SASL authentication failed");
	fw_stop(&fw);
}

START_TEST(channel_binding_require_logs_in_over_tls_sha256_certificate)
{
	channel_binding_with_certificate_digest(NULL);
}
END_TEST

/* A certificate signed with SHA-384 (SHA-512): the binding hash is SHA-384
 * (SHA-512) too, as libpq computes it. */
START_TEST(channel_binding_require_logs_in_with_sha384_and_sha512_certificates)
{
	channel_binding_with_certificate_digest("-sha384");
	channel_binding_with_certificate_digest("-sha512");
}
END_TEST

/* Over plain TCP Fairway offers only SCRAM-SHA-256: libpq with
 * channel_binding=require gives up by itself, and the daemon goes on. */
START_TEST(channel_binding_require_over_plain_tcp_is_refused_by_libpq)
{
	struct fw fw;
	PGconn *c;

	start_scram_tls_fw(&fw, NULL, CLIENT_TLS("prefer") "auth_type = scram-sha-256\n");
	c = fw_connect(&fw, "sslmode=disable channel_binding=require dbname=" FW_TESTDB
	                    " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW);
	ck_assert_int_eq(PQstatus(c), CONNECTION_BAD);
	ck_assert_msg(strstr(PQerrorMessage(c), "channel binding") != NULL, "%s",
	              PQerrorMessage(c));
	PQfinish(c);
	assert_scram_user(fw_connect(&fw, "sslmode=disable dbname=" FW_TESTDB " user=" FW_SCRAMUSER
	                                  " password=" FW_SCRAM_PW));
	assert_scram_user(fw_connect(&fw,
	                             "sslmode=require channel_binding=require dbname=" FW_TESTDB
	                             " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW));
	fw_stop(&fw);
}
END_TEST

/* Fairway -> PostgreSQL over TLS: the server offers SCRAM-SHA-256-PLUS and
 * Fairway binds to the server's certificate, with a plain password and with
 * the pass-through keys of a client that itself used channel binding.
 * PostgreSQL checks the hash; a wrong one would fail the login. */
START_TEST(server_login_over_tls_uses_scram_sha_256_plus)
{
	struct fw fw;

	fw_start(&fw, "server_tls_sslmode = require\nverbose = 1\nauth_type = scram-sha-256\n",
	         NULL, NULL, NULL);
	assert_scram_user(
	    fw_connect(&fw, "dbname=" FW_TESTDB " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW));
	ck_assert(fw_wait_log(&fw, "logging in with SCRAM-SHA-256-PLUS (32-byte binding)"));
	fw_stop(&fw);

	start_scram_tls_fw(&fw, NULL,
	                   CLIENT_TLS("prefer") "server_tls_sslmode = require\nverbose = 1\n"
	                                        "auth_type = scram-sha-256\n");
	assert_scram_user(fw_connect(&fw,
	                             "sslmode=require channel_binding=require dbname=" FW_TESTDB
	                             " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW));
	ck_assert(fw_wait_log(&fw, "logging in with SCRAM-SHA-256-PLUS"));
	fw_stop(&fw);
}
END_TEST

/* ---- SCRAM-SHA-256-PLUS on the wire, without libpq ---------------------- */

#define CB_CNONCE "chanbindTestClientNonce0123"

/* Sends one message ('p' etc.) over ssl. */
static void ssl_send_msg(SSL *ssl, char type, const void *body, size_t len)
{
	uint8_t buf[1024];
	uint32_t n = htonl((uint32_t)len + 4);

	ck_assert_uint_le(len + 5, sizeof(buf));
	buf[0] = (uint8_t)type;
	memcpy(buf + 1, &n, 4);
	memcpy(buf + 5, body, len);
	ck_assert_int_eq(SSL_write(ssl, buf, (int)(len + 5)), (int)(len + 5));
}

/* SASLInitialResponse: mechanism, then the client-first-message. */
static void ssl_send_sasl_initial(SSL *ssl, const char *mech, const char *first)
{
	uint8_t body[512];
	size_t ml = strlen(mech) + 1, fl = strlen(first);
	uint32_t n = htonl((uint32_t)fl);

	memcpy(body, mech, ml);
	memcpy(body + ml, &n, 4);
	memcpy(body + ml + 4, first, fl);
	ssl_send_msg(ssl, 'p', body, ml + 4 + fl);
}

/* Reads one message; for 'R' returns the code in *code and the data after it. */
static char ssl_expect(SSL *ssl, uint32_t *code, char *data, size_t size)
{
	static uint8_t body[4096];
	char type;
	size_t len;

	ck_assert_msg(ssl_read_msg(ssl, &type, body, sizeof(body), &len),
	              "the pooler closed the TLS connection");
	if (type == 'R') {
		ck_assert_uint_ge(len, 4);
		memcpy(code, body, 4);
		*code = ntohl(*code);
		ck_assert_uint_lt(len - 4, size);
		memcpy(data, body + 4, len - 4);
		data[len - 4] = '\0';
	} else if (type == 'E') {
		/* "C<sqlstate>\0M<message>\0" into data as "<sqlstate> <message>". */
		const char *st = "", *msg = "";

		for (size_t i = 0; i < len && body[i] != 0;) {
			const char *f = (const char *)body + i + 1;

			if (body[i] == 'C')
				st = f;
			else if (body[i] == 'M')
				msg = f;
			i += strnlen(f, len - i - 1) + 2;
		}
		snprintf(data, size, "%s %s", st, msg);
	}
	return type;
}

/* Direct TLS (ALPN postgresql) as scramuser; returns the SSL after the
 * AuthenticationSASL, whose mechanism list must be -PLUS then plain. */
static SSL *cb_start(const struct fw *fw, SSL_CTX **ctx, int *fd)
{
	static const char want[] = "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";
	const char *kv[] = {"user", FW_SCRAMUSER, "database", FW_TESTDB, NULL};
	unsigned char alpn[] = {10, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 'q', 'l'};
	uint8_t pkt[256];
	size_t len = raw_startup_packet(pkt, sizeof(pkt), kv);
	char data[256];
	uint32_t code = 0;
	SSL *ssl;

	*ctx = SSL_CTX_new(TLS_client_method());
	ssl = SSL_new(*ctx);
	*fd = raw_connect(fw);
	ERR_clear_error();
	SSL_set_fd(ssl, *fd);
	SSL_set_alpn_protos(ssl, alpn, sizeof(alpn));
	ck_assert_int_eq(SSL_connect(ssl), 1);
	ck_assert_int_eq(SSL_write(ssl, pkt, (int)len), (int)len);
	ck_assert_int_eq(ssl_expect(ssl, &code, data, sizeof(data)), 'R');
	ck_assert_uint_eq(code, 10);
	ck_assert_mem_eq(data, want, sizeof(want)); /* includes the list's final NUL */
	return ssl;
}

static void cb_end(SSL *ssl, SSL_CTX *ctx, int fd)
{
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

/* SASLInitialResponse (mech, first) that must be refused: returns the error. */
static void cb_refused_first(const struct fw *fw, const char *mech, const char *first,
                             const char *want)
{
	SSL_CTX *ctx;
	int fd;
	SSL *ssl = cb_start(fw, &ctx, &fd);
	char data[512];
	uint32_t code;

	ssl_send_sasl_initial(ssl, mech, first);
	ck_assert_int_eq(ssl_expect(ssl, &code, data, sizeof(data)), 'E');
	ck_assert_msg(strstr(data, want) != NULL, "%s", data);
	cb_end(ssl, ctx, fd);
}

/* A -PLUS exchange up to the client-final-message, whose c= binds to hash
 * and whose proof is zeros: the answer's error text. */
static void cb_final_with_hash(const struct fw *fw, const uint8_t *hash, size_t hash_len, char *err,
                               size_t err_size)
{
	static const char header[] = "p=tls-server-end-point,,";
	SSL_CTX *ctx;
	int fd;
	SSL *ssl = cb_start(fw, &ctx, &fd);
	uint8_t cb[24 + 64];
	char data[512], b64[160], final[512];
	uint32_t code;
	const char *nonce, *comma;

	ssl_send_sasl_initial(ssl, "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=" CB_CNONCE);
	ck_assert_int_eq(ssl_expect(ssl, &code, data, sizeof(data)), 'R');
	ck_assert_uint_eq(code, 11);
	ck_assert_msg(strncmp(data, "r=" CB_CNONCE, strlen("r=" CB_CNONCE)) == 0, "%s", data);
	nonce = data + 2;
	comma = strchr(nonce, ',');
	ck_assert_ptr_nonnull(comma);
	memcpy(cb, header, 24);
	memcpy(cb + 24, hash, hash_len);
	ck_assert_int_gt(EVP_EncodeBlock((unsigned char *)b64, cb, (int)(24 + hash_len)), 0);
	snprintf(final, sizeof(final), "c=%s,r=%.*s,p=%s", b64, (int)(comma - nonce), nonce,
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	ssl_send_msg(ssl, 'p', final, strlen(final));
	ck_assert_int_eq(ssl_expect(ssl, &code, err, err_size), 'E');
	cb_end(ssl, ctx, fd);
}

/* Fairway's certificate hash, computed here from fw.crt (SHA-256 signed). */
static void fw_cert_sha256(const struct fw *fw, uint8_t out[32])
{
	char path[PATH_MAX + 16];
	unsigned int n = 0;
	FILE *f;
	X509 *cert;

	snprintf(path, sizeof(path), "%s/fw.crt", fw->dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(cert);
	ck_assert_int_eq(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
	ck_assert_int_eq(X509_digest(cert, EVP_sha256(), out, &n), 1);
	ck_assert_uint_eq(n, 32);
	X509_free(cert);
}

/* The server side of the binding without libpq: the hash this test computes
 * passes the binding check (the zero proof then fails as a wrong password),
 * a different one fails the same way and the log says it was the binding;
 * "y,," (a downgrade), "n,," with -PLUS, "p=" with plain SCRAM and another
 * binding type are refused as protocol violations. */
START_TEST(scram_plus_on_the_wire_checks_the_hash_and_the_gs2_header)
{
	struct fw fw;
	uint8_t hash[32];
	char err[512];

	start_scram_tls_fw(&fw, NULL, CLIENT_TLS("prefer") "auth_type = scram-sha-256\n");
	fw_cert_sha256(&fw, hash);

	cb_final_with_hash(&fw, hash, sizeof(hash), err, sizeof(err));
	ck_assert_str_eq(err, "28P01 SASL authentication failed");
	/* Logged before the answer was sent, so its absence is final. */
	ck_assert(!fw_log_contains(&fw, "channel binding check failed"));

	hash[31] ^= 1;
	cb_final_with_hash(&fw, hash, sizeof(hash), err, sizeof(err));
	ck_assert_str_eq(err, "28P01 SASL authentication failed");
	ck_assert(fw_wait_log(&fw, "channel binding check failed"));

	cb_refused_first(&fw, "SCRAM-SHA-256", "y,,n=,r=" CB_CNONCE, "08P01 ");
	ck_assert(fw_wait_log(&fw, "thinks the server does not"));
	cb_refused_first(&fw, "SCRAM-SHA-256-PLUS", "n,,n=,r=" CB_CNONCE,
	                 "does not include channel binding");
	cb_refused_first(&fw, "SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=" CB_CNONCE,
	                 "without channel binding");
	cb_refused_first(&fw, "SCRAM-SHA-256-PLUS", "p=tls-unique,,n=,r=" CB_CNONCE,
	                 "unsupported SCRAM channel binding type");
	cb_refused_first(&fw, "SCRAM-SHA-256-PLUS-X", "n,,n=,r=" CB_CNONCE,
	                 "invalid SASL authentication mechanism");
	/* "n,," with plain SCRAM over TLS goes on to the server-first-message. */
	{
		SSL_CTX *ctx;
		int fd;
		SSL *ssl = cb_start(&fw, &ctx, &fd);
		uint32_t code = 0;

		ssl_send_sasl_initial(ssl, "SCRAM-SHA-256", "n,,n=,r=" CB_CNONCE);
		ck_assert_int_eq(ssl_expect(ssl, &code, err, sizeof(err)), 'R');
		ck_assert_uint_eq(code, 11);
		cb_end(ssl, ctx, fd);
	}
	/* The daemon is fine. */
	assert_scram_user(fw_connect(&fw,
	                             "sslmode=require channel_binding=require dbname=" FW_TESTDB
	                             " user=" FW_SCRAMUSER " password=" FW_SCRAM_PW));
	fw_stop(&fw);
}
END_TEST

Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	TCase *slow = tcase_create("tls_big");

	tcase_set_timeout(tc, FW_TEST_TIMEOUT);
	tcase_add_test(tc, libpq_require_gets_tls13_and_show_clients_says_so);
	tcase_add_test(tc, require_refuses_plain_clients_with_ssl_required);
	tcase_add_test(tc, verify_full_takes_a_client_certificate_and_refuses_none);
	tcase_add_test(tc, server_require_talks_tls_to_postgresql);
	tcase_add_test(tc, server_verify_full_with_the_right_ca_logs_in);
	tcase_add_test(tc, server_verify_full_with_a_wrong_ca_fails_login_clearly);
	tcase_add_test(tc, reload_swaps_the_certificate_and_keeps_established_clients);
	tcase_add_test(tc, reload_with_a_broken_certificate_keeps_the_old_one);
	tcase_add_test(tc, startup_with_a_broken_certificate_fails_with_a_clear_message);
	tcase_add_test(tc, direct_tls_with_alpn_postgresql_logs_in_and_without_is_refused);
	tcase_add_test(tc, direct_tls_without_tls_enabled_is_closed_and_daemon_lives);
	tcase_add_test(tc, plain_bytes_after_ssl_request_are_refused);
	tcase_add_test(tc, cert_auth_takes_the_user_from_the_certificate);
	tcase_add_test(tc, hba_cert_line_maps_the_certificate_through_the_ident_file);
	tcase_add_test(tc, bytes_buffered_inside_openssl_are_processed_without_new_data);
	tcase_add_test(tc, channel_binding_require_logs_in_over_tls_sha256_certificate);
	tcase_add_test(tc, channel_binding_require_logs_in_with_sha384_and_sha512_certificates);
	tcase_add_test(tc, channel_binding_require_over_plain_tcp_is_refused_by_libpq);
	tcase_add_test(tc, server_login_over_tls_uses_scram_sha_256_plus);
	tcase_add_test(tc, scram_plus_on_the_wire_checks_the_hash_and_the_gs2_header);
	suite_add_tcase(s, tc);
	tcase_set_timeout(slow, FW_SLOW_TIMEOUT);
	tcase_add_test(slow, twenty_megabytes_each_way_through_tls_on_both_sides);
	tcase_add_test(slow, pgbench_over_tls_has_no_failed_transactions);
	suite_add_tcase(s, slow);
	return s;
}
