/* Intrusive doubly linked list with container_of, as in the Linux kernel:
 * an object embeds a struct list_head per list it can be on. */
#ifndef FAIRWAY_LIST_H
#define FAIRWAY_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#define list_entry(ptr, type, member)   container_of(ptr, type, member)
#define list_first(head, type, member)  container_of((head)->next, type, member)
#define list_for_each(pos, head)        for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define list_for_each_safe(pos, n, head)                                                           \
	for ((pos) = (head)->next, (n) = (pos)->next; (pos) != (head);                             \
	     (pos) = (n), (n) = (pos)->next)

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_insert_between(struct list_head *n, struct list_head *prev,
                                       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *head, struct list_head *n)
{
	list_insert_between(n, head, head->next);
}

static inline void list_add_tail(struct list_head *head, struct list_head *n)
{
	list_insert_between(n, head->prev, head);
}

/* Unlinks n and leaves it pointing at itself, so a second list_del is harmless. */
static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

static inline bool list_is_linked(const struct list_head *n)
{
	return n->next != n;
}

#endif
