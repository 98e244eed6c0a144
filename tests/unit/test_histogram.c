/* Unit tests of histogram.c: bucket layout, the 2% error bound from 1 us to
 * 1 hour, quantiles of known distributions, merge and reset. */

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

Suite *histogram_suite(void);

#define ONE_HOUR_US 3600000000ull

static double rel_err(uint64_t reported, uint64_t truth)
{
	double d = (double)reported - (double)truth;

	return fabs(d) / (double)truth;
}

/* One histogram (4 KiB) reused by the sweeps below. */
static struct hist h;

/* The representative value of v's bucket: v is the smaller of two values, so
 * the median rank falls in its bucket and not on the exact maximum. */
static uint64_t representative(uint64_t v)
{
	hist_reset(&h);
	hist_record(&h, v);
	hist_record(&h, (uint64_t)1 << 40);
	return hist_quantile(&h, 0.5);
}

START_TEST(values_below_32_us_each_have_their_own_exact_bucket)
{
	for (uint64_t v = 0; v < 32; v++) {
		ck_assert_uint_eq(hist_bucket_of(v), v);
		ck_assert_uint_eq(hist_bucket_lower(v), v);
		ck_assert_uint_eq(hist_bucket_upper(v), v);
		ck_assert_uint_eq(representative(v), v);
	}
	/* The first octave above is still one value wide. */
	for (uint64_t v = 32; v < 64; v++)
		ck_assert_uint_eq(representative(v), v);
}
END_TEST

START_TEST(bucket_edges_are_contiguous_and_every_edge_maps_to_its_bucket)
{
	ck_assert_uint_eq(hist_bucket_lower(0), 0);
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_lower(i), hi = hist_bucket_upper(i);

		ck_assert_uint_le(lo, hi);
		ck_assert_uint_eq(hist_bucket_of(lo), i);
		ck_assert_uint_eq(hist_bucket_of(hi), i);
		if (i + 1 < HIST_BUCKETS)
			ck_assert_uint_eq(hi + 1, hist_bucket_lower(i + 1));
		/* A bucket is at most 1/32 as wide as its lower edge. */
		if (lo >= 32 && i + 1 < HIST_BUCKETS)
			ck_assert_uint_le((hi - lo + 1) * 32, lo);
	}
	ck_assert_uint_eq(hist_bucket_upper(HIST_BUCKETS - 1), UINT64_MAX);
	/* One hour is well inside the range. */
	ck_assert_uint_lt(hist_bucket_of(ONE_HOUR_US), HIST_BUCKETS - 1);
}
END_TEST

START_TEST(single_values_are_reported_within_2_percent_from_1_us_to_1_hour)
{
	double worst = 0;

	for (uint64_t v = 1; v <= 100000; v++) {
		double e = rel_err(representative(v), v);

		ck_assert_msg(e <= 0.02, "value %llu reported as %llu", (unsigned long long)v,
		              (unsigned long long)representative(v));
		if (e > worst)
			worst = e;
	}
	/* Geometric sweep to past one hour, with the neighbours of each point
	 * so bucket edges are hit from both sides. */
	for (double x = 100000; x <= 3.7e9; x *= 1.0007) {
		for (int d = -1; d <= 1; d++) {
			uint64_t v = (uint64_t)x + (uint64_t)(int64_t)d;
			double e = rel_err(representative(v), v);

			ck_assert_msg(e <= 0.02, "value %llu reported as %llu",
			              (unsigned long long)v, (unsigned long long)representative(v));
			if (e > worst)
				worst = e;
		}
	}
	/* The bound is 1/64, not just 2%. */
	ck_assert_double_le(worst, 1.0 / 64 + 1e-12);
	/* Every power of two and its predecessor up to 2^32. */
	for (unsigned b = 1; b <= 32; b++) {
		uint64_t p = (uint64_t)1 << b;

		ck_assert_double_le(rel_err(representative(p), p), 0.02);
		ck_assert_double_le(rel_err(representative(p - 1), p - 1), 0.02);
	}
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Checks hist_quantile against the ceil(q*n)-th smallest of vals. */
static void check_quantiles(uint64_t *vals, size_t n)
{
	static const double qs[] = {0.0, 0.001, 0.01, 0.1,   0.25,   0.5,  0.75,
	                            0.9, 0.95,  0.99, 0.999, 0.9999, 0.07, 1.0};

	hist_reset(&h);
	for (size_t i = 0; i < n; i++)
		hist_record(&h, vals[i]);
	qsort(vals, n, sizeof(vals[0]), cmp_u64);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)ceil(qs[k] * (double)n - 1e-9);
		uint64_t truth = vals[rank == 0 ? 0 : rank - 1];
		uint64_t got = hist_quantile(&h, qs[k]);

		ck_assert_msg(rel_err(got, truth) <= 0.02, "q=%g: true %llu, reported %llu", qs[k],
		              (unsigned long long)truth, (unsigned long long)got);
	}
	ck_assert_uint_eq(hist_quantile(&h, 1.0), vals[n - 1]);
}

START_TEST(quantiles_of_known_distributions_are_within_2_percent)
{
	enum { N = 100000 };
	uint64_t *vals = malloc(N * sizeof(*vals));
	uint64_t seed = 42;

	ck_assert_ptr_nonnull(vals);
	/* Uniform 1..N, shuffled order does not matter to a histogram. */
	for (size_t i = 0; i < N; i++)
		vals[i] = N - i;
	check_quantiles(vals, N);
	/* Log-uniform from 1 us to 1 hour. */
	for (size_t i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		vals[i] = (uint64_t)exp((double)(seed >> 11) / 9007199254740992.0 *
		                        log((double)ONE_HOUR_US));
		if (vals[i] == 0)
			vals[i] = 1;
	}
	check_quantiles(vals, N);
	/* Bimodal: fast queries around 300 us and a slow tail around 2 s. */
	for (size_t i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		vals[i] = (i % 10 == 0 ? 2000000 : 300) + (seed >> 40) % 997;
	}
	check_quantiles(vals, N);
	/* Small counts: q*total near integers. */
	for (size_t n = 1; n <= 200; n++) {
		for (size_t i = 0; i < n; i++)
			vals[i] = 1000 + 37 * i;
		check_quantiles(vals, n);
	}
	free(vals);
}
END_TEST

START_TEST(an_empty_histogram_reports_zero)
{
	hist_reset(&h);
	ck_assert_uint_eq(hist_quantile(&h, 0.0), 0);
	ck_assert_uint_eq(hist_quantile(&h, 0.5), 0);
	ck_assert_uint_eq(hist_quantile(&h, 1.0), 0);
	ck_assert_uint_eq(h.total, 0);
	ck_assert_uint_eq(h.max_us, 0);
}
END_TEST

START_TEST(q_0_is_the_smallest_bucket_and_q_1_the_exact_maximum)
{
	hist_reset(&h);
	hist_record(&h, 5000);
	hist_record(&h, 123457);
	hist_record(&h, 7);
	ck_assert_uint_eq(hist_quantile(&h, 0.0), 7);
	ck_assert_uint_eq(hist_quantile(&h, 1.0), 123457);
	/* Out-of-range q is clamped, NaN counts as 0. */
	ck_assert_uint_eq(hist_quantile(&h, -1.0), 7);
	ck_assert_uint_eq(hist_quantile(&h, 2.0), 123457);
	ck_assert_uint_eq(hist_quantile(&h, NAN), 7);
	ck_assert_double_le(rel_err(hist_quantile(&h, 0.5), 5000), 0.02);
	/* A single value is every quantile, exactly. */
	hist_reset(&h);
	hist_record(&h, 987654);
	ck_assert_uint_eq(hist_quantile(&h, 0.0), 987654);
	ck_assert_uint_eq(hist_quantile(&h, 0.5), 987654);
}
END_TEST

START_TEST(quantiles_never_exceed_the_maximum)
{
	/* 64 and 65 share a bucket whose midpoint is 65: a median of ten 64s
	 * must not report more than was ever seen. */
	hist_reset(&h);
	for (int i = 0; i < 10; i++)
		hist_record(&h, 64);
	ck_assert_uint_eq(hist_bucket_of(64), hist_bucket_of(65));
	ck_assert_uint_eq(hist_quantile(&h, 0.5), 64);
}
END_TEST

START_TEST(values_above_the_range_land_in_the_last_bucket_and_max_stays_exact)
{
	hist_reset(&h);
	hist_record(&h, (uint64_t)1 << 45);
	hist_record(&h, UINT64_MAX);
	ck_assert_uint_eq(hist_bucket_of((uint64_t)1 << 45), HIST_BUCKETS - 1);
	ck_assert_uint_eq(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
	ck_assert_uint_eq(h.counts[HIST_BUCKETS - 1], 2);
	ck_assert_uint_eq(h.max_us, UINT64_MAX);
	ck_assert_uint_eq(hist_quantile(&h, 1.0), UINT64_MAX);
	ck_assert_uint_ge(hist_quantile(&h, 0.5), hist_bucket_lower(HIST_BUCKETS - 1));
}
END_TEST

START_TEST(merge_equals_recording_everything_in_one)
{
	static struct hist a, b, all;
	uint64_t seed = 7;

	hist_reset(&a);
	hist_reset(&b);
	hist_reset(&all);
	for (int i = 0; i < 5000; i++) {
		uint64_t v;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		v = (seed >> 33) % (i % 2 ? 1000 : 100000000);
		hist_record(i % 3 ? &a : &b, v);
		hist_record(&all, v);
	}
	hist_merge(&a, &b);
	ck_assert_int_eq(memcmp(&a, &all, sizeof(a)), 0);
	ck_assert_uint_eq(a.total, 5000);
	/* Merging an empty one changes nothing. */
	hist_reset(&b);
	hist_merge(&a, &b);
	ck_assert_int_eq(memcmp(&a, &all, sizeof(a)), 0);
}
END_TEST

START_TEST(record_keeps_total_sum_and_max_and_reset_clears_them)
{
	static const struct hist zero;

	hist_reset(&h);
	hist_record(&h, 10);
	hist_record(&h, 2000);
	hist_record(&h, 0);
	ck_assert_uint_eq(h.total, 3);
	ck_assert_uint_eq(h.sum_us, 2010);
	ck_assert_uint_eq(h.max_us, 2000);
	ck_assert_uint_eq(h.counts[0], 1);
	ck_assert_uint_eq(h.counts[10], 1);
	ck_assert_uint_eq(h.counts[hist_bucket_of(2000)], 1);
	hist_reset(&h);
	ck_assert_int_eq(memcmp(&h, &zero, sizeof(h)), 0);
}
END_TEST

Suite *histogram_suite(void)
{
	Suite *s = suite_create("histogram");
	TCase *tc = tcase_create("histogram");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, values_below_32_us_each_have_their_own_exact_bucket);
	tcase_add_test(tc, bucket_edges_are_contiguous_and_every_edge_maps_to_its_bucket);
	tcase_add_test(tc, single_values_are_reported_within_2_percent_from_1_us_to_1_hour);
	tcase_add_test(tc, quantiles_of_known_distributions_are_within_2_percent);
	tcase_add_test(tc, an_empty_histogram_reports_zero);
	tcase_add_test(tc, q_0_is_the_smallest_bucket_and_q_1_the_exact_maximum);
	tcase_add_test(tc, quantiles_never_exceed_the_maximum);
	tcase_add_test(tc, values_above_the_range_land_in_the_last_bucket_and_max_stays_exact);
	tcase_add_test(tc, merge_equals_recording_everything_in_one);
	tcase_add_test(tc, record_keeps_total_sum_and_max_and_reset_clears_them);
	suite_add_tcase(s, tc);
	return s;
}
