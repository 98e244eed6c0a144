/* The wait queue of one pool: who gets the next free server.  This version
 * is FIFO; the fair scheduler replaces it behind the same interface, so
 * client.c, server.c and pool.c never look inside.  Pure (no I/O). */
#ifndef FAIRWAY_SCHED_H
#define FAIRWAY_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"

/* Embedded in each waiting client. */
struct sched_entry {
	struct list_head link; /* in the queue while waiting */
	uint64_t enqueue_us;   /* when it started to wait */
};

struct sched_queue {
	struct list_head fifo; /* struct sched_entry, oldest first */
	size_t count;
};

void sched_init(struct sched_queue *q);
void sched_entry_init(struct sched_entry *e);
void sched_enqueue(struct sched_queue *q, struct sched_entry *e, uint64_t now_us);
/* Removes e if it is queued; harmless otherwise. */
void sched_remove(struct sched_queue *q, struct sched_entry *e);
/* Takes the entry that gets the next server off the queue; NULL if empty. */
struct sched_entry *sched_pick(struct sched_queue *q);
/* The entry that has waited longest (stays queued); NULL if empty. */
struct sched_entry *sched_oldest(const struct sched_queue *q);
size_t sched_count(const struct sched_queue *q);

#endif
