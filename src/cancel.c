/* Cancel keys (a chained hash on the pid half of the key) and the short
 * connections that carry a CancelRequest to a server. */
#include "cancel.h"

#include "io.h"
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "fairway.h"
#include "log.h"
#include "proto.h"
#include "server.h"
#include "util.h"

struct cancel_map {
	struct client **buckets; /* borrowed clients, chained by cancel_next */
	size_t n_buckets;
	size_t count;
};

/* One CancelRequest on its way to a server. */
struct cancel_req {
	struct list_head link; /* fw->cancel_reqs */
	struct fairway *fw;
	struct io *io; /* owned */
};

struct cancel_map *cancel_map_new(void)
{
	struct cancel_map *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->n_buckets = 256;
	m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
	if (m->buckets == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void cancel_map_free(struct cancel_map *m)
{
	if (m == NULL)
		return;
	free(m->buckets);
	free(m);
}

static size_t bucket_of(const struct cancel_map *m, uint32_t pid)
{
	return (pid * 2654435761u) & (m->n_buckets - 1);
}

static bool grow(struct cancel_map *m)
{
	size_t n = m->n_buckets * 2;
	struct client **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return false;
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct client *c = m->buckets[i], *next;

		for (; c != NULL; c = next) {
			size_t k = (c->cancel_pid * 2654435761u) & (n - 1);

			next = c->cancel_next;
			c->cancel_next = b[k];
			b[k] = c;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
	return true;
}

bool cancel_register(struct cancel_map *m, struct client *c)
{
	uint32_t kv[2];

	if (m->count >= m->n_buckets && !grow(m))
		return false;
	do {
		if (!util_random(kv, sizeof(kv)))
			return false;
		kv[0] &= 0x7fffffffu; /* some drivers treat the pid as signed */
	} while (kv[0] == 0 || cancel_lookup(m, kv[0], kv[1]) != NULL);
	c->cancel_pid = kv[0];
	c->cancel_key = kv[1];
	size_t b = bucket_of(m, c->cancel_pid);
	c->cancel_next = m->buckets[b];
	m->buckets[b] = c;
	m->count++;
	return true;
}

void cancel_unregister(struct cancel_map *m, struct client *c)
{
	struct client **pp;

	if (c->cancel_pid == 0)
		return;
	for (pp = &m->buckets[bucket_of(m, c->cancel_pid)]; *pp != NULL; pp = &(*pp)->cancel_next) {
		if (*pp == c) {
			*pp = c->cancel_next;
			c->cancel_next = NULL;
			c->cancel_pid = 0;
			m->count--;
			return;
		}
	}
}

struct client *cancel_lookup(const struct cancel_map *m, uint32_t pid, uint32_t key)
{
	struct client *c;

	for (c = m->buckets[bucket_of(m, pid)]; c != NULL; c = c->cancel_next)
		if (c->cancel_pid == pid && CRYPTO_memcmp(&c->cancel_key, &key, sizeof(key)) == 0)
			return c;
	return NULL;
}

size_t cancel_count(const struct cancel_map *m)
{
	return m->count;
}

static void cancel_req_free(struct cancel_req *r)
{
	list_del(&r->link);
	io_free(r->io);
	free(r);
}

static void cancel_event_cb(struct io *io, int what, void *arg)
{
	struct cancel_req *r = arg;

	(void)io;
	if (what & IO_EV_CONNECTED)
		return;
	/* The server closes the connection once it has read the request. */
	cancel_req_free(r);
}

static void cancel_read_cb(struct io *io, void *arg)
{
	(void)arg;
	evbuffer_drain(io_input(io), evbuffer_get_length(io_input(io)));
}

void cancel_forward(struct fairway *fw, const struct server *sv)
{
	struct cancel_req *r = calloc(1, sizeof(*r));

	if (r == NULL || sv->addrlen == 0) {
		free(r);
		return;
	}
	r->fw = fw;
	r->io = io_new(fw, -1);
	if (r->io == NULL) {
		free(r);
		return;
	}
	list_add_tail(&fw->cancel_reqs, &r->link);
	io_setcb(r->io, cancel_read_cb, NULL, cancel_event_cb, r);
	if (!proto_put_cancel(io_output(r->io), sv->backend_pid, sv->backend_key) ||
	    !io_connect(r->io, (const struct sockaddr *)&sv->addr, (socklen_t)sv->addrlen)) {
		log_warning("cannot forward cancel request to %s:%d", sv->host, sv->port);
		cancel_req_free(r);
		return;
	}
	io_read_on(r->io);
}

void cancel_close_all(struct fairway *fw)
{
	while (!list_empty(&fw->cancel_reqs))
		cancel_req_free(list_first(&fw->cancel_reqs, struct cancel_req, link));
}
