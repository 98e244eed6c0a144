/* The wait queue of one pool: flows found by key in a hash table, backlogged
 * flows in a binary min-heap by virtual time, FIFO inside a flow.  This is
 * start-time fair queuing with the hold time as the cost: a hold estimate is
 * charged when a server is handed out (so servers freed together do not all
 * go to one flow) and corrected by the measured hold when it comes back. */

#include "sched.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define VT_UNIT      1024                /* virtual time of 1 us of server time at weight 1 */
#define MAX_HOLD_US  ((uint64_t)1 << 40) /* ~12 days: longer holds count as this, no overflow */
#define MIN_BUCKETS  16
#define MIN_HEAP_CAP 8
#define NOT_IN_HEAP  SIZE_MAX

/* Keys are cut to SCHED_KEY_MAX - 1 bytes before hashing and comparing, so a
 * long key and its cut form are one flow. */
static void key_cut(char out[SCHED_KEY_MAX], const char *key)
{
	size_t n = key == NULL ? 0 : strnlen(key, SCHED_KEY_MAX - 1);

	if (n > 0)
		memcpy(out, key, n);
	out[n] = '\0';
}

static uint64_t key_hash(const char *key)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t vt_cost(uint64_t hold_us, uint32_t weight)
{
	if (hold_us > MAX_HOLD_US)
		hold_us = MAX_HOLD_US;
	return hold_us * VT_UNIT / (weight == 0 ? 1 : weight);
}

/* ---- the heap of backlogged flows ---- */

/* A flow's position in the heap depends on its vtime and on the arrival of
 * its oldest waiter, so equal flows take turns in arrival order. */
static bool flow_before(const struct sched_flow *a, const struct sched_flow *b)
{
	if (a->vtime != b->vtime)
		return a->vtime < b->vtime;
	return list_first(&a->waiters, struct sched_entry, link)->seq <
	       list_first(&b->waiters, struct sched_entry, link)->seq;
}

static void heap_put(struct sched_queue *q, size_t i, struct sched_flow *f)
{
	q->heap[i] = f;
	f->heap_idx = i;
}

static void heap_sift_up(struct sched_queue *q, size_t i)
{
	struct sched_flow *f = q->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!flow_before(f, q->heap[parent]))
			break;
		heap_put(q, i, q->heap[parent]);
		i = parent;
	}
	heap_put(q, i, f);
}

static void heap_sift_down(struct sched_queue *q, size_t i)
{
	struct sched_flow *f = q->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= q->heap_len)
			break;
		if (child + 1 < q->heap_len && flow_before(q->heap[child + 1], q->heap[child]))
			child++;
		if (!flow_before(q->heap[child], f))
			break;
		heap_put(q, i, q->heap[child]);
		i = child;
	}
	heap_put(q, i, f);
}

/* After f's key moved either way. */
static void heap_fix(struct sched_queue *q, struct sched_flow *f)
{
	heap_sift_up(q, f->heap_idx);
	heap_sift_down(q, f->heap_idx);
}

/* Never allocates: heap_cap >= n_flows is kept when flows are created. */
static void heap_push(struct sched_queue *q, struct sched_flow *f)
{
	assert(f->heap_idx == NOT_IN_HEAP && q->heap_len < q->heap_cap);
	heap_put(q, q->heap_len++, f);
	heap_sift_up(q, f->heap_idx);
}

static void heap_delete(struct sched_queue *q, struct sched_flow *f)
{
	size_t i = f->heap_idx;
	struct sched_flow *last;

	assert(i < q->heap_len && q->heap[i] == f);
	last = q->heap[--q->heap_len];
	f->heap_idx = NOT_IN_HEAP;
	if (last != f) {
		heap_put(q, i, last);
		heap_fix(q, last);
	}
}

static bool heap_reserve(struct sched_queue *q, size_t n)
{
	size_t cap = q->heap_cap;
	struct sched_flow **heap;

	if (n <= cap)
		return true;
	cap = cap < MIN_HEAP_CAP ? MIN_HEAP_CAP : cap;
	while (cap < n)
		cap *= 2;
	heap = realloc(q->heap, cap * sizeof(*heap));
	if (heap == NULL)
		return false;
	q->heap = heap;
	q->heap_cap = cap;
	return true;
}

/* ---- the flow table ---- */

static size_t keyed_flows(const struct sched_queue *q)
{
	return q->n_flows - (q->overflow != NULL ? 1 : 0);
}

static struct sched_flow *table_find(const struct sched_queue *q, const char *cut, uint64_t hash)
{
	if (q->n_buckets == 0)
		return NULL;
	for (struct sched_flow *f = q->buckets[hash & (q->n_buckets - 1)]; f != NULL;
	     f = f->hash_next)
		if (f->hash == hash && strcmp(f->key, cut) == 0)
			return f;
	return NULL;
}

/* Doubles the table; on failure the old one stays, only with longer chains. */
static void table_grow(struct sched_queue *q)
{
	size_t n = q->n_buckets == 0 ? MIN_BUCKETS : q->n_buckets * 2;
	struct sched_flow **buckets = calloc(n, sizeof(*buckets));

	if (buckets == NULL)
		return;
	for (size_t i = 0; i < q->n_buckets; i++) {
		struct sched_flow *f = q->buckets[i], *next;

		for (; f != NULL; f = next) {
			next = f->hash_next;
			f->hash_next = buckets[f->hash & (n - 1)];
			buckets[f->hash & (n - 1)] = f;
		}
	}
	free(q->buckets);
	q->buckets = buckets;
	q->n_buckets = n;
}

static void table_unlink(struct sched_queue *q, struct sched_flow *f)
{
	struct sched_flow **pp = &q->buckets[f->hash & (q->n_buckets - 1)];

	while (*pp != f)
		pp = &(*pp)->hash_next;
	*pp = f->hash_next;
	f->hash_next = NULL;
}

/* A new flow starts at the current virtual time.  keyed = false makes the
 * overflow flow, which is listed but not in the table. */
static struct sched_flow *flow_new(struct sched_queue *q, const char *cut, uint64_t hash,
                                   bool keyed, uint64_t now_us)
{
	struct sched_flow *f;

	if (!heap_reserve(q, q->n_flows + 1))
		return NULL;
	if (keyed && keyed_flows(q) >= q->n_buckets)
		table_grow(q);
	if (keyed && q->n_buckets == 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	memcpy(f->key, cut, strlen(cut) + 1);
	f->hash = hash;
	f->weight = 1;
	f->vtime = q->vclock;
	list_init(&f->waiters);
	f->heap_idx = NOT_IN_HEAP;
	f->ewma_hold_us = SCHED_INITIAL_HOLD_US;
	f->ewma_gap_us = SCHED_GAP_UNKNOWN;
	f->last_used_us = now_us;
	hist_reset(&f->wait_hist);
	hist_reset(&f->wait_period);
	list_add_tail(&q->flows, &f->link);
	q->n_flows++;
	if (keyed) {
		struct sched_flow **head = &q->buckets[hash & (q->n_buckets - 1)];

		f->hash_next = *head;
		*head = f;
	}
	return f;
}

static void flow_free(struct sched_queue *q, struct sched_flow *f)
{
	assert(f->n_waiting == 0 && f->n_active == 0 && f->heap_idx == NOT_IN_HEAP);
	if (f == q->overflow)
		q->overflow = NULL;
	else
		table_unlink(q, f);
	if (q->antic == f)
		q->antic = NULL;
	if (q->last_idled == f)
		q->last_idled = NULL;
	list_del(&f->link);
	q->n_flows--;
	if (q->last == f)
		q->last = NULL;
	free(f);
}

/* The flow an entry with this key joins, created if needed; NULL = no memory. */
static struct sched_flow *flow_get(struct sched_queue *q, const char *key, uint32_t weight,
                                   uint64_t now_us)
{
	char cut[SCHED_KEY_MAX];
	uint64_t hash;
	struct sched_flow *f = q->last;

	if (q->fifo || key == NULL)
		key = SCHED_FIFO_KEY;
	/* The same key as last time (compared as cut): no hashing. */
	if (f != NULL && strncmp(f->key, key, SCHED_KEY_MAX - 1) == 0) {
		f->weight = weight == 0 ? 1 : weight;
		return f;
	}
	key_cut(cut, key);
	hash = key_hash(cut);
	f = table_find(q, cut, hash);
	if (f == NULL && q->max_flows != 0 && keyed_flows(q) >= q->max_flows) {
		/* Bounded memory: unknown keys beyond the limit share one flow
		 * of weight 1, fair among themselves only by FIFO. */
		if (q->overflow == NULL)
			q->overflow = flow_new(q, SCHED_OVERFLOW_KEY, 0, false, now_us);
		return q->overflow;
	}
	if (f == NULL)
		f = flow_new(q, cut, hash, true, now_us);
	if (f != NULL)
		f->weight = weight == 0 ? 1 : weight;
	q->last = f;
	return f;
}

/* ---- entries ---- */

#define MAX_GAP_US 1000000 /* longer gaps count as this in the estimate */

/* f asks for a server: if it was idle since a release, that gap is measured. */
static void note_request(struct sched_flow *f, uint64_t now_us)
{
	uint64_t gap;

	if (f->idle_since_us == 0)
		return;
	gap = now_us > f->idle_since_us ? now_us - f->idle_since_us : 0;
	if (gap > MAX_GAP_US)
		gap = MAX_GAP_US;
	if (f->ewma_gap_us == SCHED_GAP_UNKNOWN)
		f->ewma_gap_us = gap;
	else if (gap >= f->ewma_gap_us)
		f->ewma_gap_us += (gap - f->ewma_gap_us) / 8;
	else
		f->ewma_gap_us -= (f->ewma_gap_us - gap) / 8;
	f->idle_since_us = 0;
}

static void entry_unqueue(struct sched_queue *q, struct sched_entry *e)
{
	struct sched_flow *f = e->flow;

	assert(e->is_waiting && f->n_waiting > 0 && q->count > 0);
	list_del(&e->link);
	list_del(&e->all);
	e->is_waiting = false;
	f->n_waiting--;
	q->count--;
}

/* e gets a server now: vclock moves to f's start tag, f pays the estimate. */
static void grant(struct sched_queue *q, struct sched_flow *f, struct sched_entry *e,
                  uint64_t wait_us, uint64_t now_us)
{
	uint64_t cost = vt_cost(f->ewma_hold_us, f->weight);

	if (f->vtime > q->vclock)
		q->vclock = f->vtime;
	f->vtime += cost;
	e->charged = (int64_t)cost;
	e->flow = f;
	f->n_active++;
	q->n_active++;
	f->served++;
	f->last_used_us = now_us;
	hist_record(&f->wait_hist, wait_us);
	hist_record(&f->wait_period, wait_us);
}

/* ---- API ---- */

void sched_init(struct sched_queue *q, bool fifo, size_t max_waiting, size_t max_per_flow)
{
	memset(q, 0, sizeof(*q));
	list_init(&q->flows);
	list_init(&q->all_waiters);
	q->max_flows = SCHED_DEFAULT_MAX_FLOWS;
	sched_set_limits(q, fifo, max_waiting, max_per_flow);
}

void sched_free(struct sched_queue *q)
{
	struct list_head *pos, *next;

	assert(q->count == 0 && q->n_active == 0);
	list_for_each_safe(pos, next, &q->flows)
	{
		flow_free(q, list_entry(pos, struct sched_flow, link));
	}
	free(q->heap);
	free(q->buckets);
	q->heap = NULL;
	q->buckets = NULL;
	q->heap_cap = q->heap_len = q->n_buckets = 0;
}

/* Entries already waiting keep their flows when fifo changes; new ones follow
 * the new mode.  Lower caps refuse new entries only. */
void sched_set_limits(struct sched_queue *q, bool fifo, size_t max_waiting, size_t max_per_flow)
{
	q->fifo = fifo;
	q->max_waiting = max_waiting;
	q->max_per_flow = max_per_flow;
}

void sched_entry_init(struct sched_entry *e)
{
	memset(e, 0, sizeof(*e));
	list_init(&e->link);
	list_init(&e->all);
}

enum sched_admit sched_enqueue(struct sched_queue *q, struct sched_entry *e, const char *key,
                               uint32_t weight, uint64_t now_us)
{
	struct sched_flow *f;

	assert(!e->is_waiting && e->flow == NULL);
	f = flow_get(q, key, weight, now_us);
	if (f == NULL)
		return SCHED_NO_MEMORY;
	f->last_used_us = now_us;
	if (q->max_waiting != 0 && q->count >= q->max_waiting) {
		f->refused++;
		return SCHED_FULL_POOL;
	}
	if (q->max_per_flow != 0 && f->n_waiting >= q->max_per_flow) {
		f->refused++;
		return SCHED_FULL_FLOW;
	}
	note_request(f, now_us);
	e->enqueue_us = now_us;
	e->seq = q->next_seq++;
	e->flow = f;
	e->charged = 0;
	e->is_waiting = true;
	list_add_tail(&f->waiters, &e->link);
	list_add_tail(&q->all_waiters, &e->all);
	f->n_waiting++;
	q->count++;
	if (f->n_waiting == 1) {
		/* Idling earns no credit: a flow rejoins at the current virtual time. */
		if (f->vtime < q->vclock)
			f->vtime = q->vclock;
		heap_push(q, f);
	}
	return SCHED_QUEUED;
}

bool sched_acquire(struct sched_queue *q, struct sched_entry *e, const char *key, uint32_t weight,
                   uint64_t now_us)
{
	struct sched_flow *f;

	assert(!e->is_waiting && e->flow == NULL);
	f = flow_get(q, key, weight, now_us);
	if (f == NULL)
		return false;
	note_request(f, now_us);
	if (f->heap_idx == NOT_IN_HEAP) {
		if (f->vtime < q->vclock)
			f->vtime = q->vclock;
		grant(q, f, e, 0, now_us);
	} else {
		grant(q, f, e, 0, now_us);
		heap_sift_down(q, f->heap_idx);
	}
	return true;
}

struct sched_entry *sched_pick(struct sched_queue *q, uint64_t now_us)
{
	struct sched_flow *f;
	struct sched_entry *e;

	if (q->heap_len == 0)
		return NULL;
	f = q->heap[0];
	e = list_first(&f->waiters, struct sched_entry, link);
	entry_unqueue(q, e);
	grant(q, f, e, now_us > e->enqueue_us ? now_us - e->enqueue_us : 0, now_us);
	if (f->n_waiting == 0)
		heap_delete(q, f);
	else
		heap_sift_down(q, f->heap_idx);
	return e;
}

void sched_release(struct sched_queue *q, struct sched_entry *e, uint64_t hold_us, uint64_t now_us)
{
	struct sched_flow *f = e->flow;
	int64_t delta, diff;

	if (f == NULL || e->is_waiting)
		return; /* not holding a server: nothing to give back */
	assert(f->n_active > 0 && q->n_active > 0);
	if (hold_us > MAX_HOLD_US)
		hold_us = MAX_HOLD_US;

	/* Replace the estimate charged at pick by the measured cost. */
	delta = (int64_t)vt_cost(hold_us, f->weight) - e->charged;
	if (delta >= 0)
		f->vtime += (uint64_t)delta;
	else
		f->vtime = f->vtime > (uint64_t)-delta ? f->vtime - (uint64_t)-delta : 0;

	diff = (int64_t)hold_us - (int64_t)f->ewma_hold_us;
	f->ewma_hold_us = (uint64_t)((int64_t)f->ewma_hold_us + diff / 8);
	if (f->ewma_hold_us == 0)
		f->ewma_hold_us = 1; /* a free hold would let one flow take every server */

	f->server_time_us += hold_us;
	q->total_server_time_us += hold_us;
	f->n_active--;
	q->n_active--;
	f->last_used_us = now_us;
	e->flow = NULL;
	e->charged = 0;
	if (f->heap_idx != NOT_IN_HEAP)
		heap_fix(q, f);
	if (f->n_active == 0 && f->n_waiting == 0) {
		f->idle_since_us = now_us;
		q->last_idled = f;
	} else if (q->last_idled == f) {
		q->last_idled = NULL;
	}
}

uint64_t sched_anticipate(struct sched_queue *q, uint64_t now_us, uint64_t max_us)
{
	struct sched_flow *f = q->last_idled;
	uint64_t start, window;

	if (q->fifo || max_us == 0 || q->antic != NULL || f == NULL || q->heap_len == 0)
		return 0;
	if (f->n_active != 0 || f->n_waiting != 0 || f->idle_since_us != now_us)
		return 0; /* not idle since this very release */
	if (f->ewma_gap_us == SCHED_GAP_UNKNOWN || f->ewma_gap_us > max_us / 2)
		return 0; /* it does not come back soon enough to be worth waiting for */
	start = f->vtime > q->vclock ? f->vtime : q->vclock;
	if (start > q->heap[0]->vtime)
		return 0; /* a waiting flow is owed more: no reason to keep it */
	window = 2 * f->ewma_gap_us + 50;
	q->antic = f;
	return window < max_us ? window : max_us;
}

bool sched_is_anticipated(const struct sched_queue *q, const char *key)
{
	char cut[SCHED_KEY_MAX];
	const struct sched_flow *f;

	if (q->antic == NULL || q->fifo)
		return false;
	key_cut(cut, key);
	f = table_find(q, cut, key_hash(cut));
	if (f == NULL && q->antic == q->overflow)
		return q->max_flows != 0 && keyed_flows(q) >= q->max_flows;
	return f != NULL && f == q->antic;
}

void sched_antic_end(struct sched_queue *q, bool taken)
{
	if (q->antic == NULL)
		return;
	if (taken)
		q->antic->anticipated++;
	else
		q->antic->antic_expired++;
	q->antic = NULL;
}

void sched_remove(struct sched_queue *q, struct sched_entry *e, bool timed_out)
{
	struct sched_flow *f = e->flow;
	bool was_head;

	if (!e->is_waiting)
		return; /* safe from any close path */
	was_head = f->waiters.next == &e->link;
	entry_unqueue(q, e);
	if (timed_out)
		f->timed_out++;
	e->flow = NULL;
	if (f->n_waiting == 0)
		heap_delete(q, f);
	else if (was_head)
		heap_sift_down(q, f->heap_idx); /* its next waiter arrived later */
}

struct sched_entry *sched_oldest(const struct sched_queue *q)
{
	if (list_empty(&q->all_waiters))
		return NULL;
	return list_first(&q->all_waiters, struct sched_entry, all);
}

size_t sched_count(const struct sched_queue *q)
{
	return q->count;
}

void sched_period_reset(struct sched_queue *q)
{
	struct list_head *pos;

	list_for_each(pos, &q->flows)
	{
		hist_reset(&list_entry(pos, struct sched_flow, link)->wait_period);
	}
}

void sched_forget_idle(struct sched_queue *q, uint64_t now_us, uint64_t idle_us)
{
	struct list_head *pos, *next;

	list_for_each_safe(pos, next, &q->flows)
	{
		struct sched_flow *f = list_entry(pos, struct sched_flow, link);

		if (f->n_waiting != 0 || f->n_active != 0 || now_us < f->last_used_us ||
		    now_us - f->last_used_us < idle_us)
			continue;
		flow_free(q, f);
	}
}

struct sched_flow *sched_find_flow(const struct sched_queue *q, const char *key)
{
	char cut[SCHED_KEY_MAX];

	key_cut(cut, key);
	return table_find(q, cut, key_hash(cut));
}
