/* libFuzzer harness: the auth_file reader (src/authfile.c), on the input as
 * a whole userlist.txt.  What parses must be sorted, unique by user, and
 * every user must be found again by authfile_find(). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_report(void *arg, bool is_error, const char *msg)
{
	(void)arg;
	(void)is_error;
	assert(msg != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy with no NUL: the parser must stop at len. */
	char *buf = malloc(size > 0 ? size : 1);
	struct auth_entry *e = NULL;
	size_t n = 0;

	assert(buf != NULL);
	memcpy(buf, data, size);
	if (!authfile_parse(buf, size, "fuzz.txt", &e, &n, on_report, NULL))
		abort(); /* only out of memory fails */
	for (size_t i = 0; i < n; i++) {
		assert(e[i].user != NULL && e[i].secret != NULL);
		if (i > 0)
			assert(strcmp(e[i - 1].user, e[i].user) < 0);
		assert(authfile_find(e, n, e[i].user) == &e[i]);
	}
	authfile_free(e, n);
	free(buf);
	return 0;
}
