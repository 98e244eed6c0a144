/* libFuzzer harness: admin console commands (src/admin.c): the query text
 * split into words as admin_command() does, "SET key = value" parsing, and
 * the new configuration config_with_set() builds from it (src/config.c), on a
 * small base configuration loaded once. */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"

static struct config *base;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/fairway-fuzz-admin-%d.ini", (int)getpid());
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs("[databases]\napp = host=127.0.0.1 port=5432 dbname=app pool_size=5\n"
	      "[pgbouncer]\nlisten_port = 6432\nauth_type = trust\npool_mode = transaction\n",
	      f);
	if (fclose(f) != 0 || (base = config_load(path, NULL, NULL)) == NULL)
		abort();
	unlink(path);
	return 0;
}

static void check_words(const char *q, size_t buflen)
{
	char *buf = malloc(buflen), *w[4];
	size_t n, used = 0;

	assert(buf != NULL);
	n = admin_split_words(q, buf, buflen, w, 4);
	assert(n <= 4);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(w[i]);

		assert(w[i] >= buf && w[i] + len < buf + buflen);
		assert(len > 0 && strpbrk(w[i], " \t\n\v\f\r;") == NULL);
		used += len + 1;
	}
	assert(used <= buflen);
	free(buf);
}

struct shown {
	const char *key;
	char value[2048];
	bool found;
};

static void find_row(void *arg, const char *key, const char *value, const char *dflt,
                     const char *changeable)
{
	struct shown *sh = arg;

	(void)dflt;
	(void)changeable;
	if (strcasecmp(key, sh->key) == 0) {
		snprintf(sh->value, sizeof(sh->value), "%s", value);
		sh->found = true;
	}
}

/* What SHOW CONFIG says a key holds must be accepted by SET and mean the same. */
static void check_shown_value_sets_back(const struct config *cfg, const char *key)
{
	struct shown first = {.key = key}, again = {.key = key};
	struct config *cfg2;
	char err[256];

	config_show(cfg, find_row, &first);
	if (!first.found)
		return;
	cfg2 = config_with_set(cfg, key, first.value, err, sizeof(err));
	assert(cfg2 != NULL);
	config_show(cfg2, find_row, &again);
	assert(again.found && strcmp(first.value, again.value) == 0);
	config_free(cfg2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1), key[128], value[1024], err[256];

	assert(q != NULL);
	memcpy(q, data, size);
	q[size] = '\0';
	check_words(q, 512);
	check_words(q, 8);
	if (admin_parse_set(q, key, sizeof(key), value, sizeof(value))) {
		struct config *cfg;

		assert(key[0] != '\0' && !isspace((unsigned char)key[0]));
		assert(!isspace((unsigned char)key[strlen(key) - 1]));
		cfg = config_with_set(base, key, value, err, sizeof(err));
		if (cfg != NULL) {
			check_shown_value_sets_back(cfg, key);
			config_free(cfg);
		} else
			assert(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
	}
	free(q);
	return 0;
}
