/* libFuzzer harness: the configuration reader (src/config.c with inih),
 * loading the input as a whole pgbouncer.ini from a temporary file, the way
 * the daemon and RELOAD load it.  In a configuration that loads, every
 * value SHOW CONFIG shows must be accepted back by the console's SET. */
#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_report(void *arg, bool is_error, const char *msg)
{
	(void)arg;
	(void)is_error;
	assert(msg != NULL && strlen(msg) < 1024);
}

/* Every value SHOW CONFIG shows must be accepted back by the console's SET
 * (unless the key needs a restart). */
static void on_row(void *arg, const char *key, const char *value, const char *dflt,
                   const char *changeable)
{
	const struct config *cfg = arg;
	struct config *again;
	char err[256];

	assert(key != NULL && value != NULL && dflt != NULL && changeable != NULL);
	again = config_with_set(cfg, key, value, err, sizeof(err));
	if (again != NULL)
		config_free(again);
	else
		assert(strstr(err, "cannot be changed without a restart") != NULL);
}

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/fairway-fuzz-config-%d.ini", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	close(fd);
	atexit(remove_file);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");
	struct config *cfg;

	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	cfg = config_load(path, on_report, NULL);
	if (cfg != NULL) {
		config_show(cfg, on_row, cfg);
		config_free(cfg);
	}
	return 0;
}
