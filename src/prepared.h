/* Protocol-level named prepared statements in transaction and statement
 * pooling: the bookkeeping, without any I/O.
 *
 * A client's Parse "s1" registers the statement text (query and parameter
 * types) once per process; every identical text shares one ps_stmt with one
 * server-side name ("fw_ps_<id>").  Each client maps its own names to
 * statements; each server connection remembers which statements it has
 * prepared (bounded, least recently used evicted) and a queue of the
 * ParseComplete / CloseComplete replies it owes, because Fairway adds,
 * removes and rewrites Parse and Close messages on the way and must give the
 * client exactly the replies it asked for, in order.  ps_forward.c does the
 * rewriting; this file only keeps the books. */
#ifndef FAIRWAY_PREPARED_H
#define FAIRWAY_PREPARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest server-side name: "fw_ps_" and a 64-bit number. */
#define PS_NAME_MAX 32
/* What Fairway sends as "Close statement" when the reply is all it wants:
 * closing a name that does not exist is not an error. */
#define PS_NOOP_NAME "fw_ps_noop"

struct ps_stmt {
	uint64_t id;
	uint32_t hash;
	uint32_t refs;          /* client names and server caches holding it */
	struct ps_stmt *next;   /* registry hash chain */
	char name[PS_NAME_MAX]; /* the server-side name */
	size_t len;             /* of body */
	uint8_t body[];         /* Parse body after the name: query, types */
};

struct ps_registry {
	struct ps_stmt **buckets; /* owned array; chains own nothing */
	size_t n_buckets;
	size_t count;
	uint64_t next_id;
};

/* One client's names.  Open addressing, linear probing. */
struct ps_client_slot {
	char *name; /* owned; NULL = empty */
	struct ps_stmt *st;
};
struct ps_client {
	struct ps_client_slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

/* Replies a server owes for the Parse and Close messages sent to it. */
enum ps_reply {
	PS_REPLY_FORWARD,  /* the client's own Parse or Close: forward as is */
	PS_REPLY_SWALLOW,  /* Fairway's own Parse or Close: drop the reply */
	PS_REPLY_AS_PARSE, /* a no-op Close standing in for a Parse the server
	                    * did not need: the client gets ParseComplete */
};

struct ps_pending {
	uint8_t reply;      /* enum ps_reply */
	bool uncache;       /* a Parse: if it never completes, the server lacks st */
	uint32_t seq;       /* Syncs sent before this message */
	struct ps_stmt *st; /* one reference, or NULL */
	char *name;         /* owned: the client's name of a Parse it sent, which
	                     * it loses if the Parse never completes */
};

struct ps_cached {
	struct ps_stmt *st; /* one reference; NULL = empty slot */
	uint64_t used;      /* LRU stamp */
};

struct ps_server {
	struct ps_cached *slots; /* open addressing keyed by st->id */
	size_t cap;              /* power of two */
	size_t count;
	uint64_t clock; /* LRU stamps */

	struct ps_pending *queue; /* ring */
	size_t q_cap, q_head, q_len;
};

void ps_registry_init(struct ps_registry *reg);
/* Every statement must have been released. */
void ps_registry_free(struct ps_registry *reg);
/* The statement with this Parse body (after the name), with one more
 * reference; NULL when out of memory. */
struct ps_stmt *ps_stmt_get(struct ps_registry *reg, const uint8_t *body, size_t len);
void ps_stmt_put(struct ps_registry *reg, struct ps_stmt *st);

struct ps_stmt *ps_client_find(const struct ps_client *pc, const char *name);
/* Maps name to st, taking over the caller's reference; false when out of
 * memory (the reference is then still the caller's). name must be new. */
bool ps_client_add(struct ps_client *pc, const char *name, struct ps_stmt *st);
/* Forgets name; true if it was there. */
bool ps_client_remove(struct ps_client *pc, struct ps_registry *reg, const char *name);
void ps_client_clear(struct ps_client *pc, struct ps_registry *reg);

/* Whether the server has st prepared; marks it used. */
bool ps_server_has(struct ps_server *ps, const struct ps_stmt *st);
/* Records st as prepared (one more reference).  When that makes more than
 * max entries, *victim gets the least recently used other statement, removed
 * from the cache with its reference handed to the caller (who closes it on
 * the server and releases it).  false when out of memory. */
bool ps_server_add(struct ps_server *ps, struct ps_stmt *st, size_t max, struct ps_stmt **victim);
/* Forgets st if present and releases the cache's reference. */
void ps_server_remove(struct ps_server *ps, struct ps_registry *reg, const struct ps_stmt *st);
/* Forgets every statement (DISCARD ALL, DEALLOCATE ALL). */
void ps_server_forget_all(struct ps_server *ps, struct ps_registry *reg);
/* Frees everything the server side holds. */
void ps_server_clear(struct ps_server *ps, struct ps_registry *reg);

/* Queues the reply of a Parse or Close about to be sent after seq Syncs
 * (counting Query and FunctionCall too).  st, if not NULL, gets one more
 * reference; name, if not NULL, is the client's name for st, which the
 * client loses if the Parse fails.  false when out of memory. */
bool ps_expect(struct ps_server *ps, uint32_t seq, enum ps_reply reply, bool uncache,
               struct ps_stmt *st, const char *name);
/* A ParseComplete or CloseComplete arrived: what to do with it.  false if
 * nothing was expected (the reply is forwarded unchanged). */
bool ps_reply(struct ps_server *ps, struct ps_registry *reg, enum ps_reply *reply);
/* The seen-th ReadyForQuery arrived: replies still queued from before that
 * Sync will never come (an error skipped them); a Parse among them did not
 * prepare its statement, which the server and the client (pc, may be NULL)
 * forget. */
void ps_sync_seen(struct ps_server *ps, struct ps_registry *reg, struct ps_client *pc,
                  uint32_t seen);

#endif
