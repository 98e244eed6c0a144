/* Cancel keys: each client gets its own (pid, key) from Fairway; a
 * CancelRequest carrying it is forwarded to the server that client uses
 * right now, over a new connection with that server's real key. */
#ifndef FAIRWAY_CANCEL_H
#define FAIRWAY_CANCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct server;
struct fairway;
struct cancel_map;

struct cancel_map *cancel_map_new(void);
/* The map must be empty (every client unregistered). */
void cancel_map_free(struct cancel_map *m);
/* Gives c a random key unique in the map; false on out of memory. */
bool cancel_register(struct cancel_map *m, struct client *c);
void cancel_unregister(struct cancel_map *m, struct client *c);
struct client *cancel_lookup(const struct cancel_map *m, uint32_t pid, uint32_t key);
size_t cancel_count(const struct cancel_map *m);

/* Opens a connection to sv's backend and sends CancelRequest with its key. */
void cancel_forward(struct fairway *fw, const struct server *sv);
/* Closes every cancel connection still in flight (shutdown). */
void cancel_close_all(struct fairway *fw);

#endif
