/* SHOW result sets for the console, with PgBouncer's columns in PgBouncer's
 * wire order (Fairway's own columns appended after them). */
#ifndef FAIRWAY_SHOW_H
#define FAIRWAY_SHOW_H

#include <stdbool.h>

struct client;
struct evbuffer;

/* Writes the result set of "SHOW <what>" to out.  Returns false if what is not
 * a known SHOW command (nothing written); *oom is set on allocation failure. */
bool show_command(struct client *c, const char *what, struct evbuffer *out, bool *oom);
/* SHOW HISTOGRAM [db [user]] (NULL = all). false on out of memory. */
bool show_histogram_cmd(struct client *c, const char *db, const char *user, struct evbuffer *out);

#endif
