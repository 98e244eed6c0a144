/* Unit tests of sched.c on a fake clock: FIFO mode, fair shares by weight and
 * by cost, no credit for idling, admission caps, flow bookkeeping, and a
 * randomized run that checks every invariant after each operation. */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

Suite *sched_suite(void);

/* A client as the pooler would have it: the entry is embedded. */
struct client {
	struct sched_entry e;
	int id;
	int flow;  /* index of its key in the test */
	int state; /* CLIENT_* */
	bool seen; /* scratch for the invariant check */
};

enum { CLIENT_IDLE, CLIENT_WAITING, CLIENT_ACTIVE };

static struct client *client_of(struct sched_entry *e)
{
	return container_of(e, struct client, e);
}

static void clients_init(struct client *c, int n)
{
	for (int i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		sched_entry_init(&c[i].e);
		c[i].id = i;
	}
}

static void enqueue_ok(struct sched_queue *q, struct client *c, const char *key, uint32_t weight,
                       uint64_t now)
{
	ck_assert_int_eq(sched_enqueue(q, &c->e, key, weight, now), SCHED_QUEUED);
	c->state = CLIENT_WAITING;
}

static struct client *pick(struct sched_queue *q, uint64_t now)
{
	struct sched_entry *e = sched_pick(q, now);

	ck_assert_ptr_nonnull(e);
	client_of(e)->state = CLIENT_ACTIVE;
	return client_of(e);
}

static struct sched_flow *flow_of(const struct sched_queue *q, const char *key)
{
	struct sched_flow *f = sched_find_flow(q, key);

	ck_assert_msg(f != NULL, "no flow for key \"%s\"", key);
	return f;
}

START_TEST(fifo_mode_reproduces_arrival_order_exactly_across_many_keys)
{
	enum { N = 300 };
	struct sched_queue q;
	struct client c[N];
	char key[16];
	uint64_t now = 0;
	int next = 0;

	sched_init(&q, true, 0, 0);
	clients_init(c, N);
	/* Arrivals and grants interleave; keys and weights vary wildly. */
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "app%d", (i * 7) % 23);
		enqueue_ok(&q, &c[i], key, 1 + (uint32_t)(i % 5) * 10, now++);
		if (i % 3 == 2) {
			struct client *p = pick(&q, now);

			ck_assert_int_eq(p->id, next++);
			sched_release(&q, &p->e, (uint64_t)(i % 4) * 5000, now);
		}
	}
	while (sched_count(&q) > 0) {
		struct client *p = pick(&q, now++);

		ck_assert_int_eq(p->id, next++);
		sched_release(&q, &p->e, 100, now);
	}
	ck_assert_int_eq(next, N);
	ck_assert_uint_eq(q.n_flows, 1);
	ck_assert_uint_eq(flow_of(&q, SCHED_FIFO_KEY)->served, N);
	ck_assert_ptr_null(sched_pick(&q, now));
	sched_free(&q);
}
END_TEST

START_TEST(each_flow_is_served_in_its_own_arrival_order)
{
	enum { N = 90 };
	struct sched_queue q;
	struct client c[N];
	const char *keys[] = {"a", "b", "c"};
	int last[3] = {-1, -1, -1};

	sched_init(&q, false, 0, 0);
	clients_init(c, N);
	for (int i = 0; i < N; i++) {
		c[i].flow = (i * i) % 3;
		enqueue_ok(&q, &c[i], keys[c[i].flow], 1 + (uint32_t)c[i].flow, (uint64_t)i);
	}
	for (int i = 0; i < N; i++) {
		struct client *p = pick(&q, 1000);

		ck_assert_int_gt(p->id, last[p->flow]);
		last[p->flow] = p->id;
		sched_release(&q, &p->e, 500 + (uint64_t)p->flow * 700, 1000);
	}
	sched_free(&q);
}
END_TEST

START_TEST(two_equal_flows_with_backlogs_alternate)
{
	enum { N = 20 };
	struct sched_queue q;
	struct client c[2 * N];

	sched_init(&q, false, 0, 0);
	clients_init(c, 2 * N);
	/* All of a's backlog arrives before any of b's. */
	for (int i = 0; i < N; i++)
		enqueue_ok(&q, &c[i], "a", 1, (uint64_t)i);
	for (int i = N; i < 2 * N; i++)
		enqueue_ok(&q, &c[i], "b", 1, (uint64_t)i);
	for (int i = 0; i < 2 * N; i++) {
		struct client *p = pick(&q, 100);

		ck_assert_int_eq(p->id, i % 2 == 0 ? i / 2 : N + i / 2);
		sched_release(&q, &p->e, SCHED_INITIAL_HOLD_US, 100);
	}
	ck_assert_uint_eq(flow_of(&q, "a")->served, N);
	ck_assert_uint_eq(flow_of(&q, "b")->served, N);
	sched_free(&q);
}
END_TEST

START_TEST(quiet_flow_is_served_before_noisy_backlog)
{
	enum { NOISY = 80, QUIET = 4 };
	struct sched_queue q;
	struct client c[NOISY + QUIET];
	int quiet_done_at = -1, quiet_served = 0;
	uint64_t now = 0;

	sched_init(&q, false, 0, 0);
	clients_init(c, NOISY + QUIET);
	for (int i = 0; i < NOISY; i++)
		enqueue_ok(&q, &c[i], "noisy", 1, now);
	for (int i = NOISY; i < NOISY + QUIET; i++)
		enqueue_ok(&q, &c[i], "quiet", 1, ++now);
	/* One server: pick, hold for a fixed time, release. */
	for (int n = 0; sched_count(&q) > 0; n++) {
		struct client *p = pick(&q, now);

		now += 5000;
		sched_release(&q, &p->e, 5000, now);
		if (p->id >= NOISY && ++quiet_served == QUIET)
			quiet_done_at = n + 1;
	}
	ck_assert_int_ge(quiet_done_at, QUIET);
	ck_assert_int_le(quiet_done_at, 8);
	/* Under FIFO the same quiet clients wait for the whole backlog. */
	ck_assert_uint_lt(flow_of(&q, "quiet")->wait_hist.max_us, 8 * 5000);
	sched_free(&q);
}
END_TEST

START_TEST(servers_freed_together_do_not_all_go_to_one_flow)
{
	enum { NOISY = 80, QUIET = 4 };
	struct sched_queue q;
	struct client c[NOISY + QUIET];
	int quiet_served = 0;

	sched_init(&q, false, 0, 0);
	clients_init(c, NOISY + QUIET);
	for (int i = 0; i < NOISY; i++)
		enqueue_ok(&q, &c[i], "noisy", 1, 0);
	for (int i = NOISY; i < NOISY + QUIET; i++)
		enqueue_ok(&q, &c[i], "quiet", 1, 1);
	/* Eight servers become free at once: the charge at pick makes the
	 * flows take turns without waiting for any release. */
	for (int n = 0; n < 8; n++)
		if (pick(&q, 10)->id >= NOISY)
			quiet_served++;
	ck_assert_int_eq(quiet_served, QUIET);
	ck_assert_uint_eq(flow_of(&q, "noisy")->n_active, 4);
	ck_assert_uint_eq(flow_of(&q, "quiet")->n_active, 4);
	for (int i = 0; i < NOISY + QUIET; i++) {
		if (c[i].state == CLIENT_ACTIVE)
			sched_release(&q, &c[i].e, 1000, 20);
		else
			sched_remove(&q, &c[i].e, false);
	}
	sched_free(&q);
}
END_TEST

/* ---- a closed-loop simulation: each client needs a server, holds it,
 * thinks, and needs one again ---- */

struct sim_flow {
	const char *key;
	uint32_t weight;
	uint64_t hold_us;  /* mean hold; +-50% when jitter is set */
	uint64_t think_us; /* between a release and the next need */
	int clients;
	/* results */
	uint64_t picks, server_time_us, p99_wait_us;
};

struct sim_server {
	struct client *c; /* NULL = idle */
	uint64_t until, hold;
	bool kept; /* idle, kept for q.antic until kept_until (as pool.c keeps one) */
};

struct sim {
	struct sched_queue q;
	struct sim_flow *flows;
	struct sim_server *sv;
	struct client *c;
	uint64_t *ready_at; /* per client: when it needs a server; UINT64_MAX = not thinking */
	int n_servers, n_clients;
	uint64_t now, seed, busy_us;
	bool jitter;
	uint64_t antic_max_us; /* fair_anticipation; 0 = off */
	int kept;              /* index of the kept server, -1 = none */
	uint64_t kept_since, kept_until, kept_idle_us;
};

static uint64_t lcg(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	return *seed >> 33;
}

static void sim_serve(struct sim *s, struct sim_server *v, struct client *c)
{
	struct sim_flow *f = &s->flows[c->flow];

	v->c = c;
	v->hold = s->jitter ? f->hold_us / 2 + lcg(&s->seed) % (f->hold_us + 1) : f->hold_us;
	v->until = s->now + v->hold;
	f->picks++;
}

/* Work-conserving but for a kept server: every idle server takes the next waiter. */
static void sim_assign(struct sim *s)
{
	for (int i = 0; i < s->n_servers && sched_count(&s->q) > 0; i++) {
		struct sim_server *v = &s->sv[i];

		if (v->c != NULL || v->kept)
			continue;
		sim_serve(s, v, pick(&s->q, s->now));
	}
}

static void sim_end_keep(struct sim *s, bool taken)
{
	s->kept_idle_us += s->now - s->kept_since;
	s->sv[s->kept].kept = false;
	s->kept = -1;
	sched_antic_end(&s->q, taken);
}

static void sim_need(struct sim *s, int i)
{
	const struct sim_flow *f = &s->flows[s->c[i].flow];

	s->ready_at[i] = UINT64_MAX;
	if (s->kept >= 0 && sched_is_anticipated(&s->q, f->key)) {
		struct sim_server *v = &s->sv[s->kept];

		sim_end_keep(s, true);
		ck_assert(sched_acquire(&s->q, &s->c[i].e, f->key, f->weight, s->now));
		s->c[i].state = CLIENT_ACTIVE;
		sim_serve(s, v, &s->c[i]);
		return;
	}
	enqueue_ok(&s->q, &s->c[i], f->key, f->weight, s->now);
}

/* A server was given back: kept for its flow if the scheduler says so. */
static void sim_freed(struct sim *s, int server)
{
	uint64_t us;

	if (s->antic_max_us == 0 || s->kept >= 0 || sched_count(&s->q) == 0)
		return;
	us = sched_anticipate(&s->q, s->now, s->antic_max_us);
	ck_assert_uint_le(us, s->antic_max_us);
	if (us == 0)
		return;
	s->kept = server;
	s->sv[server].kept = true;
	s->kept_since = s->now;
	s->kept_until = s->now + us;
}

/* Runs n_servers servers for horizon_us of simulated time, keeping a freed
 * server for its flow up to antic_max_us as pool.c does (0 = never);
 * returns the time servers spent kept idle. */
static uint64_t simulate_kept(bool fifo, struct sim_flow *flows, int n_flows, int n_servers,
                              uint64_t horizon_us, bool jitter, uint64_t antic_max_us)
{
	struct sim s = {.flows = flows,
	                .n_servers = n_servers,
	                .seed = 12345,
	                .jitter = jitter,
	                .antic_max_us = antic_max_us,
	                .kept = -1};
	int k = 0;

	for (int f = 0; f < n_flows; f++)
		s.n_clients += flows[f].clients;
	s.sv = calloc((size_t)n_servers, sizeof(*s.sv));
	s.c = calloc((size_t)s.n_clients, sizeof(*s.c));
	s.ready_at = calloc((size_t)s.n_clients, sizeof(*s.ready_at));
	ck_assert(s.sv != NULL && s.c != NULL && s.ready_at != NULL);
	clients_init(s.c, s.n_clients);
	sched_init(&s.q, fifo, 0, 0);
	for (int f = 0; f < n_flows; f++)
		for (int i = 0; i < flows[f].clients; i++, k++) {
			s.c[k].flow = f;
			sim_need(&s, k);
		}
	sim_assign(&s);
	for (;;) {
		uint64_t t = UINT64_MAX;
		int server = -1, client = -1;

		for (int i = 0; i < n_servers; i++)
			if (s.sv[i].c != NULL && s.sv[i].until < t) {
				t = s.sv[i].until;
				server = i;
			}
		for (int i = 0; i < s.n_clients; i++)
			if (s.ready_at[i] < t) {
				t = s.ready_at[i];
				client = i;
				server = -1;
			}
		if (s.kept >= 0 && s.kept_until < t) {
			t = s.kept_until;
			client = server = -1;
		}
		if (t > horizon_us)
			break;
		s.now = t;
		if (server < 0 && client < 0) {
			sim_end_keep(&s, false); /* expired: the next waiter gets it */
		} else if (server >= 0) {
			struct sim_server *v = &s.sv[server];
			int i = (int)(v->c - s.c);

			sched_release(&s.q, &v->c->e, v->hold, s.now);
			s.busy_us += v->hold;
			v->c = NULL;
			s.ready_at[i] = s.now + flows[s.c[i].flow].think_us;
			sim_freed(&s, server);
			if (flows[s.c[i].flow].think_us == 0)
				sim_need(&s, i);
		} else {
			sim_need(&s, client);
		}
		sim_assign(&s);
	}
	for (int f = 0; f < n_flows && !fifo; f++) {
		const struct sched_flow *sf = flow_of(&s.q, flows[f].key);

		flows[f].server_time_us = sf->server_time_us;
		flows[f].p99_wait_us = hist_quantile(&sf->wait_hist, 0.99);
	}
	/* Work-conserving: no server idled while anyone waited, but for the
	 * time one was kept for a flow. */
	ck_assert_uint_ge(s.busy_us + s.kept_idle_us + (uint64_t)n_servers * 20000,
	                  (uint64_t)n_servers * horizon_us);
	if (s.kept >= 0)
		sim_end_keep(&s, false);
	for (int i = 0; i < n_servers; i++)
		if (s.sv[i].c != NULL)
			sched_release(&s.q, &s.sv[i].c->e, s.sv[i].hold, s.now);
	for (int i = 0; i < s.n_clients; i++)
		sched_remove(&s.q, &s.c[i].e, false);
	sched_free(&s.q);
	free(s.ready_at);
	free(s.c);
	free(s.sv);
	return s.kept_idle_us;
}

static void simulate(bool fifo, struct sim_flow *flows, int n_flows, int n_servers,
                     uint64_t horizon_us, bool jitter)
{
	ck_assert_uint_eq(simulate_kept(fifo, flows, n_flows, n_servers, horizon_us, jitter, 0), 0);
}

START_TEST(weights_3_to_1_give_3_to_1_server_time)
{
	struct sim_flow f[2] = {
	    {.key = "heavy", .weight = 3, .hold_us = 2000, .clients = 12},
	    {.key = "light", .weight = 1, .hold_us = 2000, .clients = 12},
	};
	double share;

	simulate(false, f, 2, 4, 5000000, true); /* about 10,000 grants */
	share = (double)f[0].server_time_us / (double)(f[0].server_time_us + f[1].server_time_us);
	ck_assert_msg(share > 0.75 - 0.02 && share < 0.75 + 0.02, "weight-3 share %.4f", share);
	ck_assert_uint_ge(f[0].picks + f[1].picks, 9000);
}
END_TEST

START_TEST(a_flow_with_ten_times_longer_holds_gets_a_tenth_of_the_picks)
{
	struct sim_flow f[2] = {
	    {.key = "slow", .weight = 1, .hold_us = 10000, .clients = 10},
	    {.key = "fast", .weight = 1, .hold_us = 1000, .clients = 10},
	};
	double ratio, share;

	simulate(false, f, 2, 4, 10000000, false);
	ratio = (double)f[0].picks / (double)f[1].picks;
	share = (double)f[0].server_time_us / (double)(f[0].server_time_us + f[1].server_time_us);
	ck_assert_msg(ratio > 0.09 && ratio < 0.11, "slow/fast picks %.4f", ratio);
	ck_assert_msg(share > 0.48 && share < 0.52, "slow server time share %.4f", share);
}
END_TEST

START_TEST(a_quiet_tenant_waits_far_less_beside_a_noisy_one_than_under_fifo)
{
	/* The scenario of the benchmark: a pool of 10, 80 noisy clients with
	 * 5 ms holds, 4 quiet clients with 0.1 ms holds and 1 ms between. */
	struct sim_flow fair[2] = {
	    {.key = "noisy", .weight = 1, .hold_us = 5000, .think_us = 200, .clients = 80},
	    {.key = "quiet", .weight = 1, .hold_us = 100, .think_us = 1000, .clients = 4},
	};
	struct sim_flow fifo[2];

	memcpy(fifo, fair, sizeof(fifo));
	simulate(false, fair, 2, 10, 10000000, true);
	simulate(true, fifo, 2, 10, 10000000, true);
	/* Under FIFO the quiet tenant gets a server per trip through the whole
	 * queue; fair, it waits at most for the next server to come free. */
	ck_assert_uint_le(fair[1].p99_wait_us, 5000);
	ck_assert_uint_gt(fair[1].picks, 10 * fifo[1].picks);
	/* Fairness does not waste capacity: the noisy tenant keeps its pace. */
	ck_assert_uint_ge(fair[0].picks * 10, fifo[0].picks * 9);
}
END_TEST

START_TEST(a_server_kept_for_the_quiet_flow_ends_its_waits_for_long_holds)
{
	/* Servers freed in bunches (every noisy hold is 5 ms, no jitter) and a
	 * quiet flow that thinks 50 us between short transactions: without
	 * anticipation it waits for the next bunch; with a server kept for it
	 * (fair_anticipation = 1 ms) its waits end, for little idle time. */
	struct sim_flow plain[2] = {
	    {.key = "noisy", .weight = 1, .hold_us = 5000, .think_us = 0, .clients = 80},
	    {.key = "quiet", .weight = 1, .hold_us = 100, .think_us = 50, .clients = 1},
	};
	struct sim_flow kept[2], fifo[2];
	uint64_t horizon = 10000000, idle;

	memcpy(kept, plain, sizeof(kept));
	memcpy(fifo, plain, sizeof(fifo));
	simulate(false, plain, 2, 10, horizon, false);
	idle = simulate_kept(false, kept, 2, 10, horizon, false, 1000);
	ck_assert_uint_eq(simulate_kept(true, fifo, 2, 10, horizon, false, 1000), 0);
	ck_assert_uint_ge(plain[1].p99_wait_us, 1000);
	ck_assert_uint_le(kept[1].p99_wait_us, 10);
	ck_assert_uint_gt(kept[1].picks, 10 * plain[1].picks);
	/* Kept time is the quiet think time only: a third of one server of ten
	 * here (think 50 us per 100 us hold), never more than one server. */
	ck_assert_uint_le(idle, kept[1].picks * 50 + 1000);
	ck_assert_uint_le(idle * 2, horizon);
	/* The noisy flow pays only the quiet flow's own server time. */
	ck_assert_uint_ge(kept[0].server_time_us + kept[1].server_time_us + idle + 10 * 20000,
	                  10 * horizon);
}
END_TEST

START_TEST(no_server_is_kept_for_a_flow_that_is_slow_to_return_or_owed_less)
{
	struct sched_queue q;
	struct client c[4];
	uint64_t now = 1000;

	clients_init(c, 4);
	sched_init(&q, false, 0, 0);
	/* "other" has had a long hold: it is owed less than "slow" below. */
	ck_assert(sched_acquire(&q, &c[1].e, "other", 1, now));
	sched_release(&q, &c[1].e, 20000, now);
	/* "slow" comes back 800 us after its releases: beyond half of 1 ms. */
	for (int i = 0; i < 20; i++) {
		ck_assert(sched_acquire(&q, &c[0].e, "slow", 1, now));
		now += 100;
		sched_release(&q, &c[0].e, 100, now);
		now += 800;
	}
	enqueue_ok(&q, &c[1], "other", 1, now);
	ck_assert(sched_acquire(&q, &c[0].e, "slow", 1, now));
	sched_release(&q, &c[0].e, 100, now);
	ck_assert_uint_eq(sched_anticipate(&q, now, 1000), 0);
	ck_assert_uint_eq(flow_of(&q, "slow")->ewma_gap_us, 800);
	/* With 2 ms allowed it is worth waiting for: 2 x 800 + 50 us. */
	ck_assert_uint_eq(sched_anticipate(&q, now, 2000), 1650);
	ck_assert(sched_is_anticipated(&q, "slow"));
	ck_assert(!sched_is_anticipated(&q, "other"));
	ck_assert_uint_eq(sched_anticipate(&q, now, 2000), 0); /* one at a time */
	sched_antic_end(&q, false);
	ck_assert_uint_eq(flow_of(&q, "slow")->antic_expired, 1);
	ck_assert(!sched_is_anticipated(&q, "slow"));
	/* Only at the release itself, not later. */
	ck_assert_uint_eq(sched_anticipate(&q, now + 1, 2000), 0);
	/* A flow that has had more than the waiting one is not kept for. */
	ck_assert(sched_acquire(&q, &c[0].e, "slow", 1, now));
	sched_release(&q, &c[0].e, 100000, now);
	ck_assert_uint_gt(flow_of(&q, "slow")->vtime, flow_of(&q, "other")->vtime);
	ck_assert_uint_eq(sched_anticipate(&q, now, 2000), 0);
	/* Nor while it still holds another server. */
	ck_assert(sched_acquire(&q, &c[2].e, "other", 1, now));
	ck_assert(sched_acquire(&q, &c[3].e, "other", 1, now));
	sched_release(&q, &c[2].e, 1, now);
	ck_assert_uint_eq(sched_anticipate(&q, now, 2000), 0);
	sched_release(&q, &c[3].e, 1, now);
	sched_remove(&q, &c[1].e, false);
	/* Nobody waiting: nothing to keep it from. */
	ck_assert_uint_eq(sched_anticipate(&q, now, 2000), 0);
	/* fifo mode never keeps. */
	sched_set_limits(&q, true, 0, 0);
	enqueue_ok(&q, &c[1], "other", 1, now);
	ck_assert(sched_acquire(&q, &c[0].e, "slow", 1, now));
	sched_release(&q, &c[0].e, 1, now);
	ck_assert_uint_eq(sched_anticipate(&q, now, 2000), 0);
	sched_remove(&q, &c[1].e, false);
	sched_free(&q);
}
END_TEST

START_TEST(period_histograms_restart_and_total_ones_keep_counting)
{
	struct sched_queue q;
	struct client c[2];

	clients_init(c, 2);
	sched_init(&q, false, 0, 0);
	enqueue_ok(&q, &c[0], "a", 1, 0);
	sched_release(&q, &pick(&q, 700)->e, 10, 710);
	ck_assert_uint_eq(flow_of(&q, "a")->wait_period.total, 1);
	sched_period_reset(&q);
	ck_assert_uint_eq(flow_of(&q, "a")->wait_period.total, 0);
	ck_assert_uint_eq(flow_of(&q, "a")->wait_hist.total, 1);
	enqueue_ok(&q, &c[1], "a", 1, 1000);
	sched_release(&q, &pick(&q, 1300)->e, 10, 1310);
	ck_assert_uint_eq(flow_of(&q, "a")->wait_period.total, 1);
	ck_assert_uint_eq(flow_of(&q, "a")->wait_period.max_us, 300);
	ck_assert_uint_eq(flow_of(&q, "a")->wait_hist.max_us, 700);
	sched_free(&q);
}
END_TEST

START_TEST(a_flow_returning_from_idle_gets_no_burst)
{
	enum { N = 20 };
	struct sched_queue q;
	struct client c[2 * N + 1];
	int b_in_first = 0;
	uint64_t now = 0;

	sched_init(&q, false, 0, 0);
	clients_init(c, 2 * N + 1);
	/* b is served once, then idles while a is served 1000 times. */
	enqueue_ok(&q, &c[2 * N], "b", 1, now);
	sched_release(&q, &pick(&q, now)->e, 1000, now + 1000);
	for (int i = 0; i < 1000; i++) {
		enqueue_ok(&q, &c[0], "a", 1, now);
		now += 1000;
		sched_release(&q, &pick(&q, now)->e, 1000, now);
	}
	ck_assert_uint_lt(flow_of(&q, "b")->vtime, q.vclock);
	/* Both now have a backlog; b arrives second. */
	for (int i = 0; i < N; i++)
		enqueue_ok(&q, &c[i], "a", 1, now);
	for (int i = N; i < 2 * N; i++)
		enqueue_ok(&q, &c[i], "b", 1, now + 1);
	ck_assert_uint_ge(flow_of(&q, "b")->vtime, q.vclock);
	for (int i = 0; i < N; i++) {
		struct client *p = pick(&q, now);

		if (p->id >= N)
			b_in_first++;
		sched_release(&q, &p->e, 1000, now);
	}
	ck_assert_int_ge(b_in_first, N / 2 - 1);
	ck_assert_int_le(b_in_first, N / 2 + 1);
	while (sched_count(&q) > 0)
		sched_release(&q, &pick(&q, now)->e, 1000, now);
	sched_free(&q);
}
END_TEST

START_TEST(admission_caps_per_pool_and_per_flow_are_counted)
{
	struct sched_queue q;
	struct client c[10];

	sched_init(&q, false, 5, 3);
	clients_init(c, 10);
	for (int i = 0; i < 3; i++)
		enqueue_ok(&q, &c[i], "a", 1, 0);
	ck_assert_int_eq(sched_enqueue(&q, &c[3].e, "a", 1, 0), SCHED_FULL_FLOW);
	ck_assert_uint_eq(flow_of(&q, "a")->refused, 1);
	ck_assert(!c[3].e.is_waiting);
	ck_assert_ptr_null(c[3].e.flow);
	enqueue_ok(&q, &c[4], "b", 1, 0);
	enqueue_ok(&q, &c[5], "b", 1, 0);
	/* The pool is full: a new key is refused, and its flow made to count it. */
	ck_assert_int_eq(sched_enqueue(&q, &c[6].e, "c", 1, 0), SCHED_FULL_POOL);
	ck_assert_int_eq(sched_enqueue(&q, &c[6].e, "b", 1, 0), SCHED_FULL_POOL);
	ck_assert_uint_eq(flow_of(&q, "c")->refused, 1);
	ck_assert_uint_eq(flow_of(&q, "c")->n_waiting, 0);
	ck_assert_uint_eq(flow_of(&q, "b")->refused, 1);
	ck_assert_uint_eq(sched_count(&q), 5);
	/* A pick makes room for one. */
	sched_release(&q, &pick(&q, 1)->e, 10, 2);
	enqueue_ok(&q, &c[6], "c", 1, 2);
	ck_assert_int_eq(sched_enqueue(&q, &c[7].e, "c", 1, 2), SCHED_FULL_POOL);
	/* Limits change on reload; 0 means unlimited. */
	sched_set_limits(&q, false, 0, 0);
	enqueue_ok(&q, &c[7], "a", 1, 3);
	enqueue_ok(&q, &c[8], "a", 1, 3);
	ck_assert_uint_eq(flow_of(&q, "c")->refused, 2);
	ck_assert_uint_eq(sched_count(&q), 7);
	for (int i = 0; i < 10; i++)
		sched_remove(&q, &c[i].e, false);
	ck_assert_uint_eq(sched_count(&q), 0);
	sched_free(&q);
}
END_TEST

START_TEST(removal_from_the_middle_keeps_order_and_counts_timeouts)
{
	struct sched_queue q;
	struct client c[6];

	sched_init(&q, false, 0, 0);
	clients_init(c, 6);
	enqueue_ok(&q, &c[0], "a", 1, 0);
	enqueue_ok(&q, &c[3], "b", 1, 1);
	enqueue_ok(&q, &c[1], "a", 1, 2);
	enqueue_ok(&q, &c[2], "a", 1, 3);
	sched_remove(&q, &c[1].e, true);
	ck_assert_uint_eq(flow_of(&q, "a")->timed_out, 1);
	ck_assert_uint_eq(flow_of(&q, "a")->n_waiting, 2);
	ck_assert_ptr_null(c[1].e.flow);
	ck_assert(!c[1].e.is_waiting);
	/* A second remove (a close path running twice) changes nothing. */
	sched_remove(&q, &c[1].e, true);
	ck_assert_uint_eq(flow_of(&q, "a")->timed_out, 1);
	ck_assert_uint_eq(sched_count(&q), 3);
	/* The head leaves without a timeout: a's next waiter arrived after b's. */
	sched_remove(&q, &c[0].e, false);
	ck_assert_uint_eq(flow_of(&q, "a")->timed_out, 1);
	ck_assert_int_eq(pick(&q, 10)->id, 3);
	ck_assert_int_eq(pick(&q, 10)->id, 2);
	/* The last waiter of a flow takes the flow out of the heap. */
	enqueue_ok(&q, &c[4], "b", 1, 11);
	ck_assert_uint_eq(q.heap_len, 1);
	sched_remove(&q, &c[4].e, true);
	ck_assert_uint_eq(q.heap_len, 0);
	ck_assert_uint_eq(flow_of(&q, "b")->heap_idx, SIZE_MAX);
	ck_assert_uint_eq(flow_of(&q, "b")->timed_out, 1);
	ck_assert_ptr_null(sched_pick(&q, 12));
	sched_release(&q, &c[2].e, 5, 12);
	sched_release(&q, &c[3].e, 5, 12);
	sched_free(&q);
}
END_TEST

START_TEST(oldest_is_the_longest_waiter_across_flows)
{
	struct sched_queue q;
	struct client c[4];

	sched_init(&q, false, 0, 0);
	clients_init(c, 4);
	ck_assert_ptr_null(sched_oldest(&q));
	enqueue_ok(&q, &c[0], "b", 1, 5);
	enqueue_ok(&q, &c[1], "a", 1, 6);
	enqueue_ok(&q, &c[2], "b", 1, 7);
	enqueue_ok(&q, &c[3], "c", 1, 8);
	ck_assert_ptr_eq(sched_oldest(&q), &c[0].e);
	sched_remove(&q, &c[0].e, true);
	ck_assert_ptr_eq(sched_oldest(&q), &c[1].e);
	ck_assert_ptr_eq(&pick(&q, 9)->e, &c[1].e);
	ck_assert_ptr_eq(sched_oldest(&q), &c[2].e);
	sched_remove(&q, &c[3].e, false);
	ck_assert_ptr_eq(sched_oldest(&q), &c[2].e);
	sched_remove(&q, &c[2].e, false);
	ck_assert_ptr_null(sched_oldest(&q));
	sched_release(&q, &c[1].e, 1, 10);
	sched_free(&q);
}
END_TEST

START_TEST(idle_flows_are_forgotten_and_recreated_on_demand)
{
	struct sched_queue q;
	struct client c[4];
	struct sched_flow *a;

	sched_init(&q, false, 0, 0);
	clients_init(c, 4);
	enqueue_ok(&q, &c[0], "a", 1, 0);
	sched_release(&q, &pick(&q, 10)->e, 500, 100);         /* a last used at 100 */
	enqueue_ok(&q, &c[1], "waiting", 1, 0);                /* never idle: waits */
	ck_assert(sched_acquire(&q, &c[2].e, "active", 1, 0)); /* never idle: active */
	ck_assert_uint_eq(q.n_flows, 3);
	sched_forget_idle(&q, 1099, 1000);
	ck_assert_uint_eq(q.n_flows, 3);
	sched_forget_idle(&q, 1100, 1000);
	ck_assert_uint_eq(q.n_flows, 2);
	ck_assert_ptr_null(sched_find_flow(&q, "a"));
	ck_assert_ptr_nonnull(sched_find_flow(&q, "waiting"));
	ck_assert_ptr_nonnull(sched_find_flow(&q, "active"));
	/* A new enqueue starts a fresh flow at the current virtual time. */
	enqueue_ok(&q, &c[3], "a", 2, 2000);
	a = flow_of(&q, "a");
	ck_assert_uint_eq(a->served, 0);
	ck_assert_uint_eq(a->server_time_us, 0);
	ck_assert_uint_eq(a->weight, 2);
	ck_assert_uint_eq(a->vtime, q.vclock);
	ck_assert_uint_eq(q.n_flows, 3);
	sched_remove(&q, &c[1].e, false);
	sched_remove(&q, &c[3].e, false);
	sched_release(&q, &c[2].e, 10, 3000);
	sched_forget_idle(&q, 3000, 0);
	ck_assert_uint_eq(q.n_flows, 0);
	sched_free(&q);
}
END_TEST

START_TEST(keys_beyond_max_flows_share_the_overflow_flow)
{
	struct sched_queue q;
	struct client c[8];
	char key[16];

	sched_init(&q, false, 0, 0);
	ck_assert_uint_eq(q.max_flows, SCHED_DEFAULT_MAX_FLOWS);
	q.max_flows = 3;
	clients_init(c, 8);
	for (int i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		enqueue_ok(&q, &c[i], key, 5, (uint64_t)i);
	}
	ck_assert_uint_eq(q.n_flows, 4);
	ck_assert_ptr_nonnull(q.overflow);
	ck_assert_str_eq(q.overflow->key, SCHED_OVERFLOW_KEY);
	ck_assert_uint_eq(q.overflow->n_waiting, 3);
	ck_assert_uint_eq(q.overflow->weight, 1);
	ck_assert_ptr_null(sched_find_flow(&q, "k4"));
	for (int i = 3; i < 6; i++)
		ck_assert_ptr_eq(c[i].e.flow, q.overflow);
	/* Known keys still find their own flow. */
	enqueue_ok(&q, &c[6], "k1", 5, 7);
	ck_assert_ptr_eq(c[6].e.flow, flow_of(&q, "k1"));
	/* The overflow flow is forgotten only when nobody uses it. */
	for (int i = 0; i < 3; i++)
		sched_remove(&q, &c[i].e, false);
	sched_remove(&q, &c[6].e, false);
	sched_forget_idle(&q, 100, 0);
	ck_assert_ptr_nonnull(q.overflow);
	ck_assert_uint_eq(q.n_flows, 1);
	/* With room again, a new key gets its own flow. */
	enqueue_ok(&q, &c[7], "k7", 1, 101);
	ck_assert_ptr_eq(c[7].e.flow, flow_of(&q, "k7"));
	for (int i = 3; i < 8; i++)
		sched_remove(&q, &c[i].e, false);
	sched_forget_idle(&q, 200, 0);
	ck_assert_ptr_null(q.overflow);
	ck_assert_uint_eq(q.n_flows, 0);
	sched_free(&q);
}
END_TEST

START_TEST(long_keys_are_cut_and_share_a_flow)
{
	struct sched_queue q;
	struct client c[2];
	char k1[200], k2[200];

	memset(k1, 'x', sizeof(k1) - 1);
	k1[sizeof(k1) - 1] = '\0';
	memcpy(k2, k1, sizeof(k2));
	k2[150] = 'y';
	sched_init(&q, false, 0, 0);
	clients_init(c, 2);
	enqueue_ok(&q, &c[0], k1, 1, 0);
	enqueue_ok(&q, &c[1], k2, 1, 0);
	ck_assert_uint_eq(q.n_flows, 1);
	ck_assert_uint_eq(strlen(c[0].e.flow->key), SCHED_KEY_MAX - 1);
	ck_assert_ptr_eq(sched_find_flow(&q, k2), c[0].e.flow);
	sched_remove(&q, &c[0].e, false);
	sched_remove(&q, &c[1].e, false);
	sched_free(&q);
}
END_TEST

/* Requests that repeat the last key find its flow without a table lookup:
 * the answer must be the flow the table would give, also for keys that
 * differ only past the cut or only by length, and never a forgotten flow. */
START_TEST(repeated_keys_find_the_same_flow_as_the_table)
{
	struct sched_queue q;
	struct client c[6];
	char k1[100], k2[100];
	struct sched_flow *abc;

	memset(k1, 'k', sizeof(k1) - 1);
	k1[sizeof(k1) - 1] = '\0';
	memcpy(k2, k1, sizeof(k2));
	k2[SCHED_KEY_MAX + 5] = 'z'; /* past the cut: the same flow */
	sched_init(&q, false, 0, 0);
	clients_init(c, 6);
	ck_assert(sched_acquire(&q, &c[0].e, "abc", 1, 0));
	ck_assert(sched_acquire(&q, &c[1].e, "abc", 3, 0));
	abc = c[0].e.flow;
	ck_assert_ptr_eq(c[1].e.flow, abc);
	ck_assert_uint_eq(abc->weight, 3);
	ck_assert_uint_eq(abc->served, 2);
	ck_assert(sched_acquire(&q, &c[2].e, "ab", 1, 0)); /* a prefix of the last key */
	ck_assert_ptr_ne(c[2].e.flow, abc);
	ck_assert(sched_acquire(&q, &c[3].e, "abcd", 1, 0)); /* the last key is its prefix */
	ck_assert_ptr_ne(c[3].e.flow, abc);
	ck_assert_ptr_ne(c[3].e.flow, c[2].e.flow);
	ck_assert(sched_acquire(&q, &c[4].e, k1, 1, 0));
	ck_assert(sched_acquire(&q, &c[5].e, k2, 1, 0));
	ck_assert_ptr_eq(c[5].e.flow, c[4].e.flow);
	ck_assert_uint_eq(q.n_flows, 4);
	for (int i = 0; i < 6; i++)
		sched_release(&q, &c[i].e, 10, 100);
	/* Forgotten, then asked for again: a new flow (ASan sees a stale one). */
	sched_forget_idle(&q, 2000, 1000);
	ck_assert_uint_eq(q.n_flows, 0);
	ck_assert(sched_acquire(&q, &c[0].e, k2, 1, 2000));
	ck_assert_uint_eq(c[0].e.flow->served, 1);
	ck_assert_uint_eq(q.n_flows, 1);
	sched_release(&q, &c[0].e, 10, 2100);
	sched_free(&q);
}
END_TEST

START_TEST(acquire_and_release_account_server_time_and_virtual_time)
{
	struct sched_queue q;
	struct client c[3];
	struct sched_flow *f;

	sched_init(&q, false, 0, 0);
	clients_init(c, 3);
	ck_assert(sched_acquire(&q, &c[0].e, "a", 2, 50));
	f = flow_of(&q, "a");
	ck_assert_ptr_eq(c[0].e.flow, f);
	ck_assert(!c[0].e.is_waiting);
	ck_assert_uint_eq(sched_count(&q), 0);
	ck_assert_uint_eq(f->n_active, 1);
	ck_assert_uint_eq(q.n_active, 1);
	ck_assert_uint_eq(f->served, 1);
	ck_assert_uint_eq(f->wait_hist.total, 1); /* a wait of 0 */
	ck_assert_uint_eq(f->wait_hist.max_us, 0);
	/* Charged the estimate at weight 2. */
	ck_assert_int_eq(c[0].e.charged, SCHED_INITIAL_HOLD_US * 1024 / 2);
	ck_assert_uint_eq(f->vtime, SCHED_INITIAL_HOLD_US * 1024 / 2);
	/* The real hold replaces the estimate. */
	sched_release(&q, &c[0].e, 3000, 3050);
	ck_assert_uint_eq(f->vtime, 3000 * 1024 / 2);
	ck_assert_uint_eq(f->server_time_us, 3000);
	ck_assert_uint_eq(q.total_server_time_us, 3000);
	ck_assert_uint_eq(f->ewma_hold_us, 1000 + 2000 / 8);
	ck_assert_uint_eq(f->n_active, 0);
	ck_assert_uint_eq(q.n_active, 0);
	ck_assert_uint_eq(f->last_used_us, 3050);
	ck_assert_ptr_null(c[0].e.flow);
	/* A hold shorter than the estimate is refunded. */
	ck_assert(sched_acquire(&q, &c[1].e, "a", 2, 4000));
	ck_assert_uint_eq(f->vtime, (3000 + 1250) * 1024 / 2);
	sched_release(&q, &c[1].e, 250, 4250);
	ck_assert_uint_eq(f->vtime, (3000 + 250) * 1024 / 2);
	/* A second release of the same entry is a no-op. */
	sched_release(&q, &c[1].e, 250, 4250);
	ck_assert_uint_eq(f->server_time_us, 3250);
	/* A pick records the wait. */
	enqueue_ok(&q, &c[2], "a", 2, 5000);
	ck_assert_ptr_eq(&pick(&q, 5400)->e, &c[2].e);
	ck_assert_uint_eq(f->wait_hist.max_us, 400);
	ck_assert_uint_eq(f->served, 3);
	sched_release(&q, &c[2].e, 100, 5500);
	sched_free(&q);
}
END_TEST

START_TEST(virtual_time_never_goes_below_zero_on_refund)
{
	struct sched_queue q;
	struct client c[1];

	sched_init(&q, false, 0, 0);
	clients_init(c, 1);
	ck_assert(sched_acquire(&q, &c[0].e, "a", 1, 0));
	flow_of(&q, "a")->vtime = 5; /* as if something already refunded it */
	sched_release(&q, &c[0].e, 0, 1);
	ck_assert_uint_eq(flow_of(&q, "a")->vtime, 0);
	ck_assert_uint_ge(flow_of(&q, "a")->ewma_hold_us, 1);
	sched_free(&q);
}
END_TEST

/* ---- randomized operations with every invariant checked ---- */

static bool flow_sorts_before(const struct sched_flow *a, const struct sched_flow *b)
{
	if (a->vtime != b->vtime)
		return a->vtime < b->vtime;
	return list_first(&a->waiters, struct sched_entry, link)->seq <
	       list_first(&b->waiters, struct sched_entry, link)->seq;
}

/* The checker runs ~100 checks after each of 10,000 operations: Check's
 * assertions report every passing call to the runner, this only failures. */
#define INVARIANT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("invariant broken at line %d: %s", __LINE__, #cond);          \
	} while (0)

static void check_invariants(const struct sched_queue *q, struct client *c, int n)
{
	struct list_head *pos, *epos;
	size_t flows = 0, waiting = 0, active = 0, backlogged = 0, n_waiting_c = 0, n_active_c = 0;
	uint64_t last_seq = 0;
	bool first = true;
	const struct sched_flow *min = NULL;
	const struct sched_entry *oldest = NULL;
	bool antic_found = q->antic == NULL, idled_found = q->last_idled == NULL;

	for (int i = 0; i < n; i++)
		c[i].seen = false;
	list_for_each(pos, &q->flows)
	{
		const struct sched_flow *lf = list_entry(pos, struct sched_flow, link);

		antic_found = antic_found || lf == q->antic;
		idled_found = idled_found || lf == q->last_idled;
		const struct sched_flow *f = list_entry(pos, struct sched_flow, link);
		size_t len = 0;
		uint64_t prev = 0;

		flows++;
		INVARIANT((f->weight) >= (1));
		list_for_each(epos, &f->waiters)
		{
			struct sched_entry *e = list_entry(epos, struct sched_entry, link);

			INVARIANT((e->flow) == (f));
			INVARIANT(e->is_waiting);
			INVARIANT(len == 0 || e->seq > prev);
			prev = e->seq;
			INVARIANT(!client_of(e)->seen);
			client_of(e)->seen = true;
			len++;
		}
		INVARIANT((len) == (f->n_waiting));
		waiting += f->n_waiting;
		active += f->n_active;
		if (f->n_waiting > 0) {
			backlogged++;
			INVARIANT((f->heap_idx) < (q->heap_len));
			INVARIANT((q->heap[f->heap_idx]) == (f));
			if (min == NULL || flow_sorts_before(f, min))
				min = f;
		} else {
			INVARIANT((f->heap_idx) == (SIZE_MAX));
		}
		if (f == q->overflow)
			INVARIANT(strcmp(f->key, SCHED_OVERFLOW_KEY) == 0);
		else
			INVARIANT((sched_find_flow(q, f->key)) == (f));
	}
	INVARIANT((flows) == (q->n_flows));
	INVARIANT(antic_found); /* a forgotten flow is not kept for */
	INVARIANT(idled_found);
	INVARIANT((waiting) == (q->count));
	INVARIANT((active) == (q->n_active));
	INVARIANT((backlogged) == (q->heap_len));
	INVARIANT((q->heap_len) <= (q->heap_cap));
	INVARIANT((q->heap_cap) >= (q->n_flows));
	if (q->max_flows != 0)
		INVARIANT((q->n_flows) <= (q->max_flows + 1));
	/* The heap property, and the top is the true minimum. */
	for (size_t i = 1; i < q->heap_len; i++)
		INVARIANT(!flow_sorts_before(q->heap[i], q->heap[(i - 1) / 2]));
	INVARIANT((q->heap_len > 0 ? q->heap[0] : NULL) == (min));
	/* all_waiters: every waiting entry, in arrival order. */
	waiting = 0;
	list_for_each(epos, &q->all_waiters)
	{
		struct sched_entry *e = list_entry(epos, struct sched_entry, all);

		INVARIANT(e->is_waiting);
		INVARIANT(first || e->seq > last_seq);
		first = false;
		last_seq = e->seq;
		waiting++;
	}
	INVARIANT((waiting) == (q->count));
	/* Each client is where the test believes it is; the oldest is the
	 * waiting client that arrived first. */
	for (int i = 0; i < n; i++) {
		if (c[i].state == CLIENT_WAITING && (oldest == NULL || c[i].e.seq < oldest->seq))
			oldest = &c[i].e;
		switch (c[i].state) {
		case CLIENT_IDLE:
			INVARIANT(!c[i].seen && !c[i].e.is_waiting);
			INVARIANT(c[i].e.flow == NULL);
			break;
		case CLIENT_WAITING:
			INVARIANT(c[i].seen);
			n_waiting_c++;
			break;
		case CLIENT_ACTIVE:
			INVARIANT(!c[i].seen && !c[i].e.is_waiting);
			INVARIANT(c[i].e.flow != NULL);
			n_active_c++;
			break;
		}
	}
	INVARIANT((n_waiting_c) == (q->count));
	INVARIANT((n_active_c) == (q->n_active));
	INVARIANT((sched_oldest(q)) == (oldest));
}

static int random_client_in(struct client *c, int n, int state, uint64_t *seed)
{
	int start = (int)(lcg(seed) % (uint64_t)n);

	for (int k = 0; k < n; k++) {
		int i = (start + k) % n;

		if (c[i].state == state)
			return i;
	}
	return -1;
}

START_TEST(random_operations_keep_every_invariant)
{
	enum { N = 200, KEYS = 30, OPS = 10000 };
	static struct client c[N];
	struct sched_queue q;
	uint64_t seed = 2024, now = 0, vclock = 0, picks = 0, refused = 0;
	char key[80];

	clients_init(c, N);
	sched_init(&q, false, 150, 20);
	q.max_flows = 20;
	for (int op = 0; op < OPS; op++) {
		unsigned r = (unsigned)(lcg(&seed) % 100);
		int i;

		now += lcg(&seed) % 200;
		if (r < 40) {
			i = random_client_in(c, N, CLIENT_IDLE, &seed);
			if (i >= 0) {
				enum sched_admit a;
				int k = (int)(lcg(&seed) % KEYS);

				/* Some keys differ only after the cut. */
				snprintf(key, sizeof(key), "%s%d",
				         k % 7 == 0 ? "a-rather-long-application-name-that-"
				                      "goes-on-and-on-beyond-sixty-four-bytes"
				                    : "app",
				         k);
				a = sched_enqueue(&q, &c[i].e, key, 1 + (uint32_t)(lcg(&seed) % 4),
				                  now);
				if (a == SCHED_QUEUED)
					c[i].state = CLIENT_WAITING;
				else {
					ck_assert(a == SCHED_FULL_POOL || a == SCHED_FULL_FLOW);
					refused++;
				}
			}
		} else if (r < 48) {
			i = random_client_in(c, N, CLIENT_IDLE, &seed);
			if (i >= 0) {
				snprintf(key, sizeof(key), "app%d", (int)(lcg(&seed) % KEYS));
				ck_assert(sched_acquire(&q, &c[i].e, key, 1, now));
				c[i].state = CLIENT_ACTIVE;
			}
		} else if (r < 73) {
			struct sched_entry *e = sched_pick(&q, now);

			if (e == NULL) {
				ck_assert_uint_eq(sched_count(&q), 0);
			} else {
				ck_assert_int_eq(client_of(e)->state, CLIENT_WAITING);
				client_of(e)->state = CLIENT_ACTIVE;
				picks++;
			}
		} else if (r < 93) {
			i = random_client_in(c, N, CLIENT_ACTIVE, &seed);
			if (i >= 0) {
				sched_release(&q, &c[i].e, lcg(&seed) % 5000, now);
				c[i].state = CLIENT_IDLE;
				/* A kept server: taken, or its wait ends, a while later. */
				if (q.antic != NULL && lcg(&seed) % 3 == 0)
					sched_antic_end(&q, lcg(&seed) % 2 == 0);
				if (sched_anticipate(&q, now, 100 + lcg(&seed) % 1000) > 0)
					ck_assert_ptr_nonnull(q.antic);
			}
		} else if (r < 98) {
			i = random_client_in(c, N, CLIENT_WAITING, &seed);
			if (i >= 0) {
				sched_remove(&q, &c[i].e, lcg(&seed) % 2 == 0);
				c[i].state = CLIENT_IDLE;
			}
		} else if (r < 99) {
			sched_forget_idle(&q, now, lcg(&seed) % 3000);
		} else {
			bool fifo = lcg(&seed) % 4 == 0;

			sched_set_limits(&q, fifo, lcg(&seed) % 2 ? 150 : 0,
			                 lcg(&seed) % 2 ? 20 : 0);
		}
		ck_assert_uint_ge(q.vclock, vclock);
		vclock = q.vclock;
		check_invariants(&q, c, N);
	}
	ck_assert_uint_gt(picks, 1000);
	ck_assert_uint_gt(refused, 0);
	ck_assert_ptr_nonnull(q.overflow);
	for (int i = 0; i < N; i++) {
		if (c[i].state == CLIENT_ACTIVE)
			sched_release(&q, &c[i].e, 1, now);
		else if (c[i].state == CLIENT_WAITING)
			sched_remove(&q, &c[i].e, false);
		c[i].state = CLIENT_IDLE;
	}
	check_invariants(&q, c, N);
	sched_free(&q);
}
END_TEST

Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *order = tcase_create("order");
	TCase *fair = tcase_create("fairness");
	TCase *books = tcase_create("bookkeeping");

	tcase_add_test(order, fifo_mode_reproduces_arrival_order_exactly_across_many_keys);
	tcase_add_test(order, each_flow_is_served_in_its_own_arrival_order);
	tcase_add_test(order, two_equal_flows_with_backlogs_alternate);
	tcase_add_test(order, oldest_is_the_longest_waiter_across_flows);
	tcase_add_test(order, removal_from_the_middle_keeps_order_and_counts_timeouts);
	suite_add_tcase(s, order);

	tcase_set_timeout(fair, 60);
	tcase_add_test(fair, quiet_flow_is_served_before_noisy_backlog);
	tcase_add_test(fair, servers_freed_together_do_not_all_go_to_one_flow);
	tcase_add_test(fair, weights_3_to_1_give_3_to_1_server_time);
	tcase_add_test(fair, a_flow_with_ten_times_longer_holds_gets_a_tenth_of_the_picks);
	tcase_add_test(fair, a_quiet_tenant_waits_far_less_beside_a_noisy_one_than_under_fifo);
	tcase_add_test(fair, a_flow_returning_from_idle_gets_no_burst);
	tcase_add_test(fair, a_server_kept_for_the_quiet_flow_ends_its_waits_for_long_holds);
	tcase_add_test(fair, no_server_is_kept_for_a_flow_that_is_slow_to_return_or_owed_less);
	suite_add_tcase(s, fair);

	tcase_set_timeout(books, 60);
	tcase_add_test(books, admission_caps_per_pool_and_per_flow_are_counted);
	tcase_add_test(books, idle_flows_are_forgotten_and_recreated_on_demand);
	tcase_add_test(books, period_histograms_restart_and_total_ones_keep_counting);
	tcase_add_test(books, keys_beyond_max_flows_share_the_overflow_flow);
	tcase_add_test(books, long_keys_are_cut_and_share_a_flow);
	tcase_add_test(books, repeated_keys_find_the_same_flow_as_the_table);
	tcase_add_test(books, acquire_and_release_account_server_time_and_virtual_time);
	tcase_add_test(books, virtual_time_never_goes_below_zero_on_refund);
	tcase_add_test(books, random_operations_keep_every_invariant);
	suite_add_tcase(s, books);
	return s;
}
