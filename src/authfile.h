/* The auth_file (userlist.txt) in PgBouncer's format: one `"user" "secret"`
 * per line, `""` for a quote inside a field, anything after the second field
 * ignored, `;` / `#` comment lines and blank lines skipped.  The parser works
 * on a buffer so it is unit-testable; authfile_load() reads the file. */
#ifndef FAIRWAY_AUTHFILE_H
#define FAIRWAY_AUTHFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Parses len bytes of buf (no NUL needed).  A malformed line is reported as a
 * warning "... (name:line)" through report and skipped.  On success *out is
 * sorted by user, a later duplicate user replacing an earlier one, and owned by
 * the caller (authfile_free).  False only when memory ran out. */
bool authfile_parse(const char *buf, size_t len, const char *name, struct auth_entry **out,
                    size_t *n_out, config_report_fn report, void *arg);

/* Reads and parses the file at path (relative paths are relative to the
 * current directory, as in PgBouncer).  False with errno set when the file
 * cannot be read, EINVAL when it is not a regular file (a device or FIFO
 * would never end or block), EISDIR for a directory, or ENOMEM. */
bool authfile_load(const char *path, struct auth_entry **out, size_t *n_out,
                   config_report_fn report, void *arg);

/* Binary search in a sorted array from authfile_parse(); NULL when absent. */
const struct auth_entry *authfile_find(const struct auth_entry *entries, size_t n,
                                       const char *user);

void authfile_free(struct auth_entry *entries, size_t n);

#endif
