/* Prepared statements on the data path, for transaction and statement
 * pooling: the client's named statements are renamed to the registry's
 * server-side names, prepared on each server the first time they are used
 * there, and the server's ParseComplete / CloseComplete replies are turned
 * back into exactly those the client asked for (prepared.h keeps the books). */
#ifndef FAIRWAY_PS_FORWARD_H
#define FAIRWAY_PS_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct server;
struct pg_msg_hdr;

enum ps_fwd {
	PS_FWD_PASS,   /* not rewritten: forward the message as it is */
	PS_FWD_DONE,   /* written to the server; c->pkt_remain holds any tail to stream */
	PS_FWD_MORE,   /* the message is not all here yet */
	PS_FWD_FAILED, /* the client was failed (out of memory, malformed) */
};

/* Whether c's messages go through the rewriting: transaction or statement
 * pooling with max_prepared_statements > 0, or a client with names already. */
bool ps_wanted(const struct client *c);
/* Whether a Parse, Bind, Describe or Close (header h, msg at least its
 * first 7 bytes or all of it) goes to the server unchanged: the unnamed
 * statement and portals are the client's own.  1 = yes (its reply, if any,
 * is queued in its place), 0 = it needs ps_client_msg(), -1 = out of memory. */
int ps_client_plain(const struct client *c, struct server *sv, const struct pg_msg_hdr *h,
                    const uint8_t *msg);
/* A Parse, Bind, Describe or Close whose 5-byte header is h, at the front of
 * the client's input. */
enum ps_fwd ps_client_msg(struct client *c, struct server *sv, const struct pg_msg_hdr *h);

/* SQL-level "DEALLOCATE [PREPARE] name" of one of the client's
 * protocol-level names (drivers such as psycopg 3 send it): the name is
 * forgotten and the client answered (CommandComplete, ReadyForQuery with
 * xact_status) without a server.  Only for a Query that is whole in the
 * input and names a statement the client has; false otherwise (it goes to
 * the server as usual). */
bool ps_client_deallocate(struct client *c, const struct pg_msg_hdr *h, char xact_status);
/* The statement name of "DEALLOCATE [PREPARE] name" (unquoted names folded
 * to lower case); false for anything else, DEALLOCATE ALL included. */
bool ps_parse_deallocate(const uint8_t *q, size_t len, char *name, size_t name_size);

enum ps_srv {
	PS_SRV_PASS, /* stream the message to the client as usual */
	PS_SRV_DONE, /* consumed */
	PS_SRV_MORE, /* wait for the rest of the message */
	PS_SRV_FAILED,
};
/* A ParseComplete, CloseComplete or CommandComplete from sv (linked to its
 * client), header h, avail bytes buffered. */
enum ps_srv ps_server_msg(struct server *sv, const struct pg_msg_hdr *h, size_t avail);
/* An empty ParseComplete or CloseComplete from sv about to be forwarded with
 * the messages around it: true when it passes as it is (the reply it was owed
 * for is then settled), false when ps_server_msg must see it. */
bool ps_server_reply_passes(struct server *sv);
/* sv's ReadyForQuery for the client (call before it may be unlinked). */
void ps_server_rfq(struct server *sv);
/* A CommandComplete of one of Fairway's own queries on sv. */
void ps_server_internal_tag(struct server *sv, const char *tag);
/* Frees the server's and the client's prepared-statement state. */
void ps_server_free(struct server *sv);
void ps_client_free(struct client *c);
/* Statement counts for SHOW CLIENTS / SERVERS. */
size_t ps_client_count(const struct client *c);
size_t ps_server_count(const struct server *sv);

#endif
