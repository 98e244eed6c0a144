/* The housekeeping tick: timeouts, lifetimes, min_pool_size, login retry,
 * statistics periods and shutdown progress. */
#ifndef FAIRWAY_TIMER_H
#define FAIRWAY_TIMER_H

#include <stdbool.h>

struct fairway;

bool timer_start(struct fairway *fw);
/* One tick's work (also called by tests and after state changes). */
void timer_tick(struct fairway *fw);

#endif
