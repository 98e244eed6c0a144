/* Prometheus endpoint: metrics_listen = host:port serves /metrics in the
 * text exposition format: pools, clients, servers, counters, and the wait
 * histograms as native Prometheus histograms (the same figures as SHOW). */
#ifndef FAIRWAY_METRICS_H
#define FAIRWAY_METRICS_H

#include <stdbool.h>

struct fairway;
struct evbuffer;

/* Starts the HTTP listener if metrics_listen is set; false (logged) on error. */
bool metrics_start(struct fairway *fw);
void metrics_stop(struct fairway *fw);
/* Writes the whole exposition into out; false on out of memory. */
bool metrics_render(struct fairway *fw, struct evbuffer *out);

#endif
