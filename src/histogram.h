/* Log-linear (HDR-style) histograms of durations in microseconds: fixed
 * memory, relative error <= 2% from 1 us to 1 hour (values above 1 hour land
 * in the last bucket, and max_us keeps the exact maximum).  Pure. */
#ifndef FAIRWAY_HISTOGRAM_H
#define FAIRWAY_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 5  /* 32 linear sub-buckets per power of two */
#define HIST_OCTAVES  33 /* 2^32 us > 1 hour */
#define HIST_BUCKETS  (HIST_OCTAVES << HIST_SUB_BITS)

struct hist {
	uint32_t counts[HIST_BUCKETS];
	uint64_t total;  /* number of values recorded */
	uint64_t sum_us; /* for averages and Prometheus _sum */
	uint64_t max_us; /* exact maximum */
};

void hist_reset(struct hist *h);
void hist_record(struct hist *h, uint64_t us);
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at quantile q (0..1): a representative value of the bucket that
 * holds it (its midpoint), so within 2% of the true value; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Bucket i covers [hist_bucket_lower(i), hist_bucket_upper(i)] in us. */
size_t hist_bucket_of(uint64_t us);
uint64_t hist_bucket_lower(size_t i);
uint64_t hist_bucket_upper(size_t i);

#endif
