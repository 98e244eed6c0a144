/* libFuzzer harness: auth_ident_file and auth_hba_file (src/hba.c).  The
 * input is the ident text, a NUL, then the hba text.  What parses is matched
 * against a few fixed connections; a rule that matches must name a line and
 * a method, and its map must exist in the ident maps. */
#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hba.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_report(void *arg, bool is_error, const char *msg)
{
	(void)arg;
	(void)is_error;
	assert(msg != NULL);
}

/* An exact-size heap copy, so ASan sees any read past the end. */
static char *copy(const uint8_t *p, size_t n)
{
	char *buf = malloc(n > 0 ? n : 1);

	assert(buf != NULL);
	memcpy(buf, p, n);
	return buf;
}

static void match_some(const struct hba *hba, const struct ident *ident)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
	struct hba_conn conns[] = {
	    {.is_unix = true, .dbname = "app", .user = "app"},
	    {.addr = (struct sockaddr *)&v4, .dbname = "app", .user = "root"},
	    {.addr = (struct sockaddr *)&v4, .is_tls = true, .dbname = "my db", .user = "x"},
	    {.addr = (struct sockaddr *)&v6,
	     .dbname = "replication",
	     .user = "app",
	     .replication = HBA_REPL_PHYSICAL},
	    {.addr = (struct sockaddr *)&v6,
	     .is_tls = true,
	     .dbname = "x",
	     .user = "x",
	     .replication = HBA_REPL_LOGICAL},
	};

	inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
	inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
		const struct hba_rule *r = hba_match(hba, &conns[i]);

		if (r == NULL)
			continue;
		assert(r->line > 0 && r->file != NULL);
		assert(hba_method_name(r->method) != NULL);
		if (r->map != NULL) {
			assert(ident != NULL && ident_has_map(ident, r->map));
			(void)ident_allows(ident, r->map, "root", conns[i].user);
			(void)ident_allows(ident, r->map, "someone@example.com", "someone");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t ident_len = nul != NULL ? (size_t)(nul - data) : 0;
	const uint8_t *hba_text = nul != NULL ? nul + 1 : data;
	size_t hba_len = size - (size_t)(hba_text - data);
	char *ident_buf = copy(data, ident_len), *hba_buf = copy(hba_text, hba_len);
	/* A directory that does not exist: @file includes fail cleanly. */
	struct ident *ident =
	    ident_parse(ident_buf, ident_len, "/nonexistent/ident.conf", on_report, NULL);
	struct hba *hba =
	    hba_parse(hba_buf, hba_len, "/nonexistent/hba.conf", ident, on_report, NULL);

	if (hba != NULL) {
		match_some(hba, ident);
		hba_unref(hba);
	}
	if (ident != NULL)
		ident_unref(ident);
	free(ident_buf);
	free(hba_buf);
	return 0;
}
