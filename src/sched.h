/* The wait queue of one pool: who gets the next free server.  Waiting clients
 * are grouped into flows by a fairness key (fair_key: application_name,
 * client_addr, user, or none = one flow, plain FIFO).  A freed server goes to
 * the backlogged flow that has received the least server time relative to
 * its weight (weighted fair queuing, cost = measured hold time); FIFO inside
 * a flow.  A flow that becomes backlogged starts at the current virtual time,
 * so idling earns no credit.  Each decision is O(log flows).  Pure: no I/O,
 * time is passed in. */
#ifndef FAIRWAY_SCHED_H
#define FAIRWAY_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"
#include "list.h"

#define SCHED_KEY_MAX           64        /* longer keys are cut (bounded memory per flow) */
#define SCHED_FIFO_KEY          ""        /* the one flow of fifo mode */
#define SCHED_OVERFLOW_KEY      "(other)" /* the flow shared by keys beyond max_flows */
#define SCHED_DEFAULT_MAX_FLOWS 1024      /* set by sched_init */
#define SCHED_INITIAL_HOLD_US   1000      /* a new flow's hold estimate */
#define SCHED_GAP_UNKNOWN       UINT64_MAX

struct sched_flow;

/* Embedded in each client. */
struct sched_entry {
	struct list_head link;   /* in flow->waiters while waiting */
	struct list_head all;    /* in queue->all_waiters (arrival order) while waiting */
	uint64_t enqueue_us;     /* when it started to wait */
	struct sched_flow *flow; /* borrowed; set from enqueue/acquire until release/remove */
	int64_t charged;         /* virtual cost charged at pick, corrected at release */
	uint64_t seq;            /* arrival number while waiting: orders ties between flows */
	bool is_waiting;
};

/* One flow: the clients of a pool that share a fairness key. */
struct sched_flow {
	struct list_head link; /* queue->flows */
	char key[SCHED_KEY_MAX];
	uint32_t weight;          /* >= 1 */
	uint64_t vtime;           /* virtual server time received, scaled by 1/weight */
	struct list_head waiters; /* struct sched_entry, oldest first */
	size_t n_waiting, n_active;
	size_t heap_idx;       /* position in queue->heap while backlogged, else SIZE_MAX */
	uint64_t ewma_hold_us; /* estimate of one hold, charged at pick */
	uint64_t last_used_us; /* for forgetting idle flows */
	/* Counters for SHOW FLOWS (since the flow was created). */
	uint64_t served;              /* servers handed to this flow */
	uint64_t server_time_us;      /* total hold time */
	uint64_t refused;             /* admission refusals */
	uint64_t timed_out;           /* waits that ended in query_wait_timeout */
	struct hist wait_hist;        /* wait times of this flow (a wait of 0 for sched_acquire) */
	struct hist wait_period;      /* the same since sched_period_reset (stats_period) */
	struct sched_flow *hash_next; /* borrowed: next in its queue->buckets chain */
	uint64_t hash;                /* of key */
	/* Anticipation: how soon the flow asks again after its last server
	 * went back and it had nothing else running or waiting. */
	uint64_t idle_since_us; /* when it last became idle that way; 0 = not idle */
	uint64_t ewma_gap_us;   /* estimate of that gap; SCHED_GAP_UNKNOWN before one */
	uint64_t anticipated;   /* servers kept for it that it took */
	uint64_t antic_expired; /* servers kept for it in vain */
};

struct sched_queue {
	bool fifo;              /* fair_key = none: every client in one flow */
	struct list_head flows; /* struct sched_flow, owned */
	size_t n_flows;
	struct sched_flow **heap; /* owned array: backlogged flows, min vtime on top */
	size_t heap_len, heap_cap;
	struct list_head all_waiters; /* every waiting entry, arrival order */
	size_t count;                 /* waiting entries */
	uint64_t vclock;              /* virtual time: vtime of the flow served last */
	size_t max_waiting;           /* max_waiting_clients, 0 = unlimited */
	size_t max_per_flow;          /* max_waiting_per_flow, 0 = unlimited */
	size_t max_flows; /* beyond it, new keys share one overflow flow; 0 = no limit */
	uint64_t total_server_time_us; /* for server_time_share_pct */
	struct sched_flow **buckets;   /* owned array: hash chains of the keyed flows */
	size_t n_buckets;              /* 0 or a power of two */
	struct sched_flow *last;       /* borrowed: the keyed flow flow_get gave last, or NULL
	                                * (most requests of a pool repeat the key) */
	struct sched_flow *overflow;   /* borrowed (it is in flows): the "(other)" flow, or NULL */
	size_t n_active;          /* entries holding a server: picked or acquired, not released */
	uint64_t next_seq;        /* for sched_entry.seq */
	struct sched_flow *antic; /* borrowed: the flow a freed server is kept for, or NULL */
	struct sched_flow *last_idled; /* borrowed: the flow the last release left idle, or NULL */
};

enum sched_admit {
	SCHED_QUEUED,
	SCHED_FULL_POOL, /* max_waiting_clients reached: refuse (53300) */
	SCHED_FULL_FLOW, /* max_waiting_per_flow reached: refuse (53300) */
	SCHED_NO_MEMORY,
};

void sched_init(struct sched_queue *q, bool fifo, size_t max_waiting, size_t max_per_flow);
/* Frees every flow; the queue must have no waiting or active entries. */
void sched_free(struct sched_queue *q);
void sched_set_limits(struct sched_queue *q, bool fifo, size_t max_waiting, size_t max_per_flow);
void sched_entry_init(struct sched_entry *e);

/* e starts waiting in the flow of key (weight applies when the flow is new or
 * changes).  On refusal the flow's refused counter is incremented and e is not
 * queued. */
enum sched_admit sched_enqueue(struct sched_queue *q, struct sched_entry *e, const char *key,
                               uint32_t weight, uint64_t now_us);
/* e gets a server at once without waiting (nobody was queued): it is counted
 * active in its flow and charged like a pick.  false = out of memory. */
bool sched_acquire(struct sched_queue *q, struct sched_entry *e, const char *key, uint32_t weight,
                   uint64_t now_us);
/* Takes the entry that gets the next server off the queue (min vtime flow,
 * oldest in it); records its wait in the flow histogram; NULL if empty. */
struct sched_entry *sched_pick(struct sched_queue *q, uint64_t now_us);
/* e gives its server back after hold_us: charges its flow, ends e's tie to it. */
void sched_release(struct sched_queue *q, struct sched_entry *e, uint64_t hold_us, uint64_t now_us);
/* Anticipation (deceptive idleness): a light flow, such as a few clients
 * running short transactions, gives its server back and asks again a moment
 * later; by then the server has gone to a heavy flow for a long hold.  So a
 * server just freed by the last release may be kept idle for that flow, at
 * most max_us and only while the flow deserves it: its own next request is
 * due (its measured gap fits in max_us), it has nothing else running or
 * waiting, and it would win the next pick anyway (its virtual time is not
 * ahead of the best waiting flow's).  One kept server per queue.  Returns how
 * long to keep it (0 = hand it out now) and marks the flow; now_us must be the
 * time of that release.  Never in fifo mode. */
uint64_t sched_anticipate(struct sched_queue *q, uint64_t now_us, uint64_t max_us);
/* Whether a request with this key belongs to the flow a server is kept for. */
bool sched_is_anticipated(const struct sched_queue *q, const char *key);
/* The kept server is gone: taken by its flow (taken = true, counted as
 * anticipated), or the wait ended (counted as expired), or the server left. */
void sched_antic_end(struct sched_queue *q, bool taken);
/* e leaves the queue without a server (client gone, or timed_out: counted). */
void sched_remove(struct sched_queue *q, struct sched_entry *e, bool timed_out);
/* The entry that has waited longest (stays queued); NULL if empty. */
struct sched_entry *sched_oldest(const struct sched_queue *q);
size_t sched_count(const struct sched_queue *q);
/* A new stats_period: every flow's wait_period starts empty. */
void sched_period_reset(struct sched_queue *q);
/* Forgets flows with nobody waiting or active, unused for idle_us. */
void sched_forget_idle(struct sched_queue *q, uint64_t now_us, uint64_t idle_us);
/* The flow of exactly this key (cut to SCHED_KEY_MAX - 1 bytes), NULL if it
 * has none: the fifo flow is SCHED_FIFO_KEY, the overflow flow is q->overflow. */
struct sched_flow *sched_find_flow(const struct sched_queue *q, const char *key);

#endif
