/* Log-linear wait-time histograms: values below 32 us get a bucket each, every
 * power of two above is cut into 32 equal buckets, so a bucket is never wider
 * than 1/32 of its lower edge and its midpoint is within 1/64 (1.6%) of any
 * value in it.  Fixed memory, no allocation, no floating point on record. */

#include "histogram.h"

#include <math.h>
#include <string.h>

#define SUB_COUNT ((uint64_t)1 << HIST_SUB_BITS) /* linear buckets per power of two */

/* Adds without wrapping: a bucket that saw 4 billion values stays full. */
static uint32_t add_sat32(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static unsigned msb64(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v); /* v != 0 */
}

size_t hist_bucket_of(uint64_t us)
{
	unsigned msb, octave;
	uint64_t sub;

	if (us < SUB_COUNT)
		return (size_t)us;
	msb = msb64(us); /* >= HIST_SUB_BITS */
	octave = msb - HIST_SUB_BITS + 1;
	if (octave >= HIST_OCTAVES)
		return HIST_BUCKETS - 1; /* beyond the range: clamp, max_us stays exact */
	sub = (us >> (msb - HIST_SUB_BITS)) - SUB_COUNT;
	return ((size_t)octave << HIST_SUB_BITS) + (size_t)sub;
}

uint64_t hist_bucket_lower(size_t i)
{
	size_t octave = i >> HIST_SUB_BITS;
	uint64_t sub = i & (SUB_COUNT - 1);

	if (octave == 0)
		return sub;
	return (SUB_COUNT + sub) << (octave - 1);
}

/* The upper edge ignoring the clamp of the last bucket. */
static uint64_t nominal_upper(size_t i)
{
	size_t octave = i >> HIST_SUB_BITS;

	if (octave == 0)
		return hist_bucket_lower(i);
	return hist_bucket_lower(i) + ((uint64_t)1 << (octave - 1)) - 1;
}

uint64_t hist_bucket_upper(size_t i)
{
	if (i >= HIST_BUCKETS - 1)
		return UINT64_MAX; /* the last bucket takes everything above the range */
	return nominal_upper(i);
}

/* The midpoint of the bucket, halves rounded up. */
static uint64_t bucket_mid(size_t i)
{
	uint64_t lo = hist_bucket_lower(i);

	return lo + (nominal_upper(i) - lo + 1) / 2;
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_record(struct hist *h, uint64_t us)
{
	size_t b = hist_bucket_of(us);

	h->counts[b] = add_sat32(h->counts[b], 1);
	h->total++;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		dst->counts[i] = add_sat32(dst->counts[i], src->counts[i]);
	dst->total += src->total;
	dst->sum_us += src->sum_us;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	double x;

	if (h->total == 0)
		return 0;
	if (!(q > 0.0)) /* also NaN */
		q = 0.0;
	if (q > 1.0)
		q = 1.0;
	/* rank = ceil(q * total), but 0.07 * 100 is 7.000000000000001 in
	 * binary: shave the rounding noise off before rounding up. */
	x = q * (double)h->total;
	x = ceil(x - x * 1e-12);
	rank = x < 1.0 ? 1 : (uint64_t)x;
	if (rank >= h->total)
		return h->max_us; /* the largest value is known exactly */
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t mid = bucket_mid(i);

			return mid < h->max_us ? mid : h->max_us;
		}
	}
	return h->max_us; /* only when saturated counts fall short of total */
}
