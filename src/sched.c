/* The wait queue of one pool, FIFO for now (see sched.h). */
#include "sched.h"

void sched_init(struct sched_queue *q)
{
	list_init(&q->fifo);
	q->count = 0;
}

void sched_entry_init(struct sched_entry *e)
{
	list_init(&e->link);
	e->enqueue_us = 0;
}

void sched_enqueue(struct sched_queue *q, struct sched_entry *e, uint64_t now_us)
{
	if (list_is_linked(&e->link))
		return;
	e->enqueue_us = now_us;
	list_add_tail(&q->fifo, &e->link);
	q->count++;
}

void sched_remove(struct sched_queue *q, struct sched_entry *e)
{
	if (!list_is_linked(&e->link))
		return;
	list_del(&e->link);
	q->count--;
}

struct sched_entry *sched_pick(struct sched_queue *q)
{
	struct sched_entry *e;

	if (list_empty(&q->fifo))
		return NULL;
	e = list_first(&q->fifo, struct sched_entry, link);
	sched_remove(q, e);
	return e;
}

struct sched_entry *sched_oldest(const struct sched_queue *q)
{
	if (list_empty(&q->fifo))
		return NULL;
	return list_first(&q->fifo, struct sched_entry, link);
}

size_t sched_count(const struct sched_queue *q)
{
	return q->count;
}
