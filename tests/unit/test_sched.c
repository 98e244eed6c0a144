/* Unit tests for the wait queue (src/sched.c): FIFO order, removal from
 * anywhere, idempotent enqueue and remove, and a random walk checked
 * against a plain array. */
#include <stdint.h>
#include <string.h>

#include "sched.h"
#include "suites.h"

/* Stands in for struct client: the entry is embedded, as in client.h. */
struct waiter {
	int id;
	struct sched_entry wait;
};

static void waiters_init(struct waiter *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		w[i].id = (int)i;
		sched_entry_init(&w[i].wait);
	}
}

static int picked_id(struct sched_queue *q)
{
	struct sched_entry *e = sched_pick(q);

	return e == NULL ? -1 : container_of(e, struct waiter, wait)->id;
}

static int oldest_id(const struct sched_queue *q)
{
	struct sched_entry *e = sched_oldest(q);

	return e == NULL ? -1 : container_of(e, struct waiter, wait)->id;
}

START_TEST(empty_queue_picks_nothing_and_has_no_oldest)
{
	struct sched_queue q;

	sched_init(&q);
	ck_assert_uint_eq(sched_count(&q), 0);
	ck_assert_ptr_null(sched_oldest(&q));
	ck_assert_ptr_null(sched_pick(&q));
	ck_assert_ptr_null(sched_pick(&q));
	ck_assert_uint_eq(sched_count(&q), 0);
}
END_TEST

START_TEST(waiters_are_picked_in_arrival_order_with_their_enqueue_time)
{
	struct waiter w[4];
	struct sched_queue q;
	struct sched_entry *e;

	sched_init(&q);
	waiters_init(w, 4);
	for (size_t i = 0; i < 4; i++) {
		sched_enqueue(&q, &w[i].wait, 1000 + i);
		ck_assert_uint_eq(sched_count(&q), i + 1);
	}
	for (int i = 0; i < 4; i++) {
		e = sched_pick(&q);
		ck_assert_ptr_eq(e, &w[i].wait);
		ck_assert_uint_eq(e->enqueue_us, 1000 + (uint64_t)i);
		ck_assert_uint_eq(sched_count(&q), 3 - (size_t)i);
	}
	ck_assert_ptr_null(sched_pick(&q));
}
END_TEST

START_TEST(oldest_peeks_at_the_head_without_taking_it)
{
	struct waiter w[2];
	struct sched_queue q;

	sched_init(&q);
	waiters_init(w, 2);
	sched_enqueue(&q, &w[0].wait, 5);
	sched_enqueue(&q, &w[1].wait, 7);
	ck_assert_int_eq(oldest_id(&q), 0);
	ck_assert_int_eq(oldest_id(&q), 0);
	ck_assert_uint_eq(sched_count(&q), 2);
	ck_assert_uint_eq(sched_oldest(&q)->enqueue_us, 5);
	ck_assert_int_eq(picked_id(&q), 0);
	ck_assert_int_eq(oldest_id(&q), 1);
}
END_TEST

START_TEST(removing_from_the_middle_keeps_the_others_in_order)
{
	struct waiter w[5];
	struct sched_queue q;

	sched_init(&q);
	waiters_init(w, 5);
	for (size_t i = 0; i < 5; i++)
		sched_enqueue(&q, &w[i].wait, i);
	sched_remove(&q, &w[2].wait);
	ck_assert_uint_eq(sched_count(&q), 4);
	sched_remove(&q, &w[0].wait); /* the head */
	sched_remove(&q, &w[4].wait); /* the tail */
	ck_assert_uint_eq(sched_count(&q), 2);
	ck_assert_int_eq(oldest_id(&q), 1);
	ck_assert_int_eq(picked_id(&q), 1);
	ck_assert_int_eq(picked_id(&q), 3);
	ck_assert_int_eq(picked_id(&q), -1);
	ck_assert_uint_eq(sched_count(&q), 0);
}
END_TEST

START_TEST(removing_twice_or_removing_an_unqueued_waiter_is_harmless)
{
	struct waiter w[3];
	struct sched_queue q;

	sched_init(&q);
	waiters_init(w, 3);
	sched_remove(&q, &w[0].wait); /* never queued */
	ck_assert_uint_eq(sched_count(&q), 0);
	sched_enqueue(&q, &w[0].wait, 1);
	sched_enqueue(&q, &w[1].wait, 2);
	sched_remove(&q, &w[0].wait);
	sched_remove(&q, &w[0].wait);
	ck_assert_uint_eq(sched_count(&q), 1);
	ck_assert_int_eq(picked_id(&q), 1);
	sched_remove(&q, &w[1].wait); /* already picked */
	sched_remove(&q, &w[2].wait);
	ck_assert_uint_eq(sched_count(&q), 0);
	ck_assert_ptr_null(sched_oldest(&q));
}
END_TEST

START_TEST(enqueuing_twice_keeps_the_first_place_and_time)
{
	struct waiter w[2];
	struct sched_queue q;

	sched_init(&q);
	waiters_init(w, 2);
	sched_enqueue(&q, &w[0].wait, 10);
	sched_enqueue(&q, &w[1].wait, 20);
	sched_enqueue(&q, &w[0].wait, 30);
	ck_assert_uint_eq(sched_count(&q), 2);
	ck_assert_uint_eq(w[0].wait.enqueue_us, 10);
	ck_assert_int_eq(picked_id(&q), 0);
	ck_assert_int_eq(picked_id(&q), 1);
	ck_assert_int_eq(picked_id(&q), -1);
}
END_TEST

START_TEST(a_picked_waiter_can_queue_again_at_the_back)
{
	struct waiter w[3];
	struct sched_queue q;

	sched_init(&q);
	waiters_init(w, 3);
	for (size_t i = 0; i < 3; i++)
		sched_enqueue(&q, &w[i].wait, i);
	ck_assert_int_eq(picked_id(&q), 0);
	sched_enqueue(&q, &w[0].wait, 99);
	ck_assert_uint_eq(w[0].wait.enqueue_us, 99);
	ck_assert_uint_eq(sched_count(&q), 3);
	ck_assert_int_eq(picked_id(&q), 1);
	ck_assert_int_eq(picked_id(&q), 2);
	ck_assert_int_eq(picked_id(&q), 0);
}
END_TEST

START_TEST(two_queues_keep_their_own_waiters_and_counts)
{
	struct waiter w[4];
	struct sched_queue a, b;

	sched_init(&a);
	sched_init(&b);
	waiters_init(w, 4);
	sched_enqueue(&a, &w[0].wait, 1);
	sched_enqueue(&b, &w[1].wait, 2);
	sched_enqueue(&a, &w[2].wait, 3);
	sched_enqueue(&b, &w[3].wait, 4);
	ck_assert_uint_eq(sched_count(&a), 2);
	ck_assert_uint_eq(sched_count(&b), 2);
	ck_assert_int_eq(picked_id(&b), 1);
	ck_assert_int_eq(picked_id(&a), 0);
	ck_assert_int_eq(picked_id(&a), 2);
	ck_assert_int_eq(picked_id(&b), 3);
}
END_TEST

static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

START_TEST(random_enqueues_removes_and_picks_match_a_plain_array)
{
	enum { N = 8 };
	struct waiter w[N];
	struct sched_queue q;
	int model[N]; /* ids in queue order */
	size_t model_len = 0;
	uint64_t rnd = 7;

	sched_init(&q);
	waiters_init(w, N);
	for (int step = 0; step < 5000; step++) {
		uint64_t x = next_random(&rnd);
		int id = (int)((x >> 8) % N);
		size_t at = 0;

		while (at < model_len && model[at] != id)
			at++;
		switch (x % 3) {
		case 0: /* enqueue: a no-op for a waiter already queued */
			sched_enqueue(&q, &w[id].wait, (uint64_t)step);
			if (at == model_len)
				model[model_len++] = id;
			break;
		case 1: /* remove: a no-op for a waiter not queued */
			sched_remove(&q, &w[id].wait);
			if (at < model_len) {
				memmove(model + at, model + at + 1,
				        (model_len - at - 1) * sizeof(model[0]));
				model_len--;
			}
			break;
		case 2: /* pick */
			ck_assert_int_eq(picked_id(&q), model_len > 0 ? model[0] : -1);
			if (model_len > 0) {
				memmove(model, model + 1, (model_len - 1) * sizeof(model[0]));
				model_len--;
			}
			break;
		}
		ck_assert_uint_eq(sched_count(&q), model_len);
		ck_assert_int_eq(oldest_id(&q), model_len > 0 ? model[0] : -1);
	}
}
END_TEST

Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("fifo");

	tcase_add_test(tc, empty_queue_picks_nothing_and_has_no_oldest);
	tcase_add_test(tc, waiters_are_picked_in_arrival_order_with_their_enqueue_time);
	tcase_add_test(tc, oldest_peeks_at_the_head_without_taking_it);
	tcase_add_test(tc, removing_from_the_middle_keeps_the_others_in_order);
	tcase_add_test(tc, removing_twice_or_removing_an_unqueued_waiter_is_harmless);
	tcase_add_test(tc, enqueuing_twice_keeps_the_first_place_and_time);
	tcase_add_test(tc, a_picked_waiter_can_queue_again_at_the_back);
	tcase_add_test(tc, two_queues_keep_their_own_waiters_and_counts);
	tcase_add_test(tc, random_enqueues_removes_and_picks_match_a_plain_array);
	suite_add_tcase(s, tc);
	return s;
}
