/* The admin console: virtual databases "pgbouncer" and "fairway", simple
 * query protocol, SHOW commands (show.c) and control commands. */
#ifndef FAIRWAY_ADMIN_H
#define FAIRWAY_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct fairway;

/* Splits a console query into at most max words separated by spaces or ';'
 * (copied into buf, case kept); stops at the first word buf cannot hold. */
size_t admin_split_words(const char *q, char *buf, size_t buflen, char **words, size_t max);
/* "SET key = value" (value optionally in '' or ""): key and value copied out,
 * false when q is not that shape or a part does not fit. */
bool admin_parse_set(const char *q, char *key, size_t key_size, char *value, size_t value_size);

/* Sends the console's welcome to an authenticated console client. */
void admin_welcome(struct client *c);
/* Handles whatever the console client has sent. */
void admin_process(struct client *c);
/* Completes PAUSE / WAIT_CLOSE commands whose condition now holds (tick). */
void admin_check_waits(struct fairway *fw);

#endif
