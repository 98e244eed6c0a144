/* Connection byte streams on raw non-blocking sockets (see io.h).  Reads land
 * in pooled blocks (no FIONREAD probe); writes are batched per loop turn by
 * one flusher event, and a socket is registered for writing only while its
 * kernel buffer is full.  On the request/response path a small read is
 * handed to the owner where it lies and io_forward writes it to the peer's
 * socket from there, so a query or a short reply costs no buffer chain.  A
 * connection with an SSL object takes the tls_* paths below instead (one
 * pointer test on the plain path): tls.c moves the bytes, this file decides
 * which readiness to wait for. */
#include "io.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fairway.h"
#include "list.h"
#include "tls.h"

#define IO_DEFAULT_READ (16 * 1024)
#define IO_FIRST_READ   2048
/* Reads land in pooled blocks: a small read is copied into the input buffer
 * (a small chain, cheap to allocate) and the block kept; a large one is
 * handed to the buffer as it is and comes back to the pool once written out,
 * so bulk data is never copied and 16-64 KB chunks are not malloc'd and freed
 * per read. */
#define IO_BLOCK_SIZE  (64 * 1024)
#define IO_BLOCKS_KEPT 16
#define IO_COPY_MAX    900 /* fits libevent's smallest chain */

struct io_block {
	struct io_block *next; /* while in the pool */
};

struct io {
	struct fairway *fw;
	int fd;
	int port;                    /* for io_connect_hostname */
	struct evbuffer *in, *out;   /* owned; NULL while empty (idle connections hold no
	                              * buffers): io_input/io_output make them on demand */
	struct event ev_read;        /* assigned once there is a socket; persistent
	                              * while reading is on */
	struct event *ev_write;      /* owned; armed when the socket is full or connecting */
	struct list_head flush_link; /* fw->io_flush while a flush is queued */
	struct evdns_getaddrinfo_request *dns; /* in flight name lookup */
	io_data_fn on_read, on_drained;
	io_event_fn on_event;
	void *arg;
	uint32_t low_mark, max_read; /* bytes (uint32_t: thousands of ios) */
	bool want_read;              /* what the owner asked for */
	bool read_added;             /* what the event loop has */
	bool write_armed;
	bool connecting;
	bool failed;       /* an event ended the stream: no more I/O */
	bool failed_alloc; /* an output buffer could not be made: fail at the flush */
	bool in_lookup;    /* inside evdns_getaddrinfo(): its callback may run at once */
	bool lookup_done;
	bool lookup_failed;

	/* TLS: everything below is unused while ssl is NULL. */
	bool tls_handshaking;        /* handshake not finished: no application data */
	bool tls_plain_out;          /* plain output ('S') to send before the handshake */
	bool tls_read_wants_write;   /* SSL_read needs the socket writable: reads wait */
	bool tls_write_wants_read;   /* SSL_write needs the socket readable */
	struct ssl_st *ssl;          /* owned; NULL on the plain path */
	struct evbuffer *tls_prefix; /* owned; bytes read before TLS began (direct TLS) */
};

static void write_cb(evutil_socket_t fd, short what, void *arg);
static bool tls_flush(struct io *io);
static void tls_on_readable(struct io *io);

/* Arms the write event (made on first use: most sockets never fill up). */
static bool arm_write(struct io *io)
{
	if (io->ev_write == NULL &&
	    (io->ev_write = event_new(io->fw->base, io->fd, EV_WRITE, write_cb, io)) == NULL)
		return false;
	if (!io->write_armed && event_add(io->ev_write, NULL) != 0)
		return false;
	io->write_armed = true;
	return true;
}

static void queue_flush(struct io *io)
{
	if (list_is_linked(&io->flush_link))
		return;
	list_add_tail(&io->fw->io_flush, &io->flush_link);
	/* Inside a plain read callback the flush runs when it returns;
	 * elsewhere the flusher event runs it after this loop turn. */
	if (list_first(&io->fw->io_flush, struct io, flush_link) == io && !io->fw->io_in_read)
		event_active(io->fw->io_flusher, EV_TIMEOUT, 0);
}

static void io_fail(struct io *io, int what)
{
	io->failed = true;
	if (io->read_added)
		event_del(&io->ev_read);
	io->read_added = false;
	if (io->write_armed)
		event_del(io->ev_write);
	io->write_armed = false;
	io->on_event(io, what, io->arg);
}

/* Writes what is queued; false if the io failed. */
void io_trim(struct io *io)
{
	if (io->in != NULL && evbuffer_get_length(io->in) == 0) {
		evbuffer_free(io->in);
		io->in = NULL;
	}
	if (io->out != NULL && evbuffer_get_length(io->out) == 0 &&
	    !list_is_linked(&io->flush_link)) {
		evbuffer_free(io->out);
		io->out = NULL;
	}
}

static bool flush_one(struct io *io)
{
	size_t left;

	if (io->connecting || io->failed || io->fd < 0)
		return true;
	if (io->failed_alloc) {
		io_fail(io, IO_EV_ERROR);
		return false;
	}
	if (io->ssl != NULL)
		return tls_flush(io);
	if (io->want_read != io->read_added) {
		if (io->want_read)
			event_add(&io->ev_read, NULL);
		else
			event_del(&io->ev_read);
		io->read_added = io->want_read;
	}
	left = io->out != NULL ? evbuffer_get_length(io->out) : 0;
	if (left == 0)
		return true;
	while (left > 0) {
		int n = evbuffer_write(io->out, io->fd);

		if (n > 0) {
			left -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (!arm_write(io)) {
				io_fail(io, IO_EV_ERROR);
				return false;
			}
			break;
		}
		io_fail(io, IO_EV_ERROR);
		return false;
	}
	if (left <= io->low_mark && io->on_drained != NULL) {
		/* on_drained may queue more output or free the io: look at it no more. */
		io->on_drained(io, io->arg);
		return true;
	}
	return true;
}

static void flush_all(struct fairway *fw)
{
	while (!list_empty(&fw->io_flush)) {
		struct io *io = list_first(&fw->io_flush, struct io, flush_link);

		list_del(&io->flush_link);
		flush_one(io);
	}
	if (fw->io_scratch_used) {
		evbuffer_drain(fw->io_scratch, evbuffer_get_length(fw->io_scratch));
		fw->io_scratch_used = false;
	}
}

static void flusher_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_all(arg);
}

bool io_init(struct fairway *fw)
{
	list_init(&fw->io_flush);
	fw->io_flusher = event_new(fw->base, -1, 0, flusher_cb, fw);
	fw->io_empty = evbuffer_new();
	fw->io_scratch = evbuffer_new();
	return fw->io_flusher != NULL && fw->io_empty != NULL && fw->io_scratch != NULL;
}

void io_shutdown(struct fairway *fw)
{
	while (fw->io_blocks != NULL) {
		struct io_block *b = fw->io_blocks;

		fw->io_blocks = b->next;
		free(b);
	}
	fw->n_io_blocks = 0;
	if (fw->io_flusher != NULL)
		event_free(fw->io_flusher);
	fw->io_flusher = NULL;
	if (fw->io_empty != NULL)
		evbuffer_free(fw->io_empty);
	if (fw->io_scratch != NULL)
		evbuffer_free(fw->io_scratch);
	fw->io_empty = fw->io_scratch = NULL;
}

/* --- the block pool --------------------------------------------------------- */

static void *block_get(struct fairway *fw)
{
	struct io_block *b = fw->io_blocks;

	if (b == NULL)
		return malloc(IO_BLOCK_SIZE);
	fw->io_blocks = b->next;
	fw->n_io_blocks--;
	return b;
}

static void block_put(struct fairway *fw, void *data)
{
	struct io_block *b = data;

	if (fw->n_io_blocks >= IO_BLOCKS_KEPT) {
		free(b);
		return;
	}
	b->next = fw->io_blocks;
	fw->io_blocks = b;
	fw->n_io_blocks++;
}

/* A block handed to an evbuffer was written out (or the buffer freed). */
static void block_done(const void *data, size_t len, void *arg)
{
	(void)len;
	block_put(arg, (void *)(uintptr_t)data);
}

/* io's pending small read (see struct io_pending), or NULL. */
static struct io_pending *pending(const struct io *io)
{
	struct io_pending *pr = &io->fw->io_read;

	return pr->io == io && pr->blk != NULL ? pr : NULL;
}

/* Moves what is left of io's pending read into `in` (copied: it is small)
 * and gives the block back.  false when out of memory (the bytes are lost:
 * the caller fails the io). */
static bool pending_spill(struct io *io)
{
	struct io_pending *pr = pending(io);
	bool ok = true;

	if (pr == NULL)
		return true;
	if (pr->len > 0)
		ok = (io->in != NULL || (io->in = evbuffer_new()) != NULL) &&
		     evbuffer_add(io->in, pr->p, pr->len) == 0;
	block_put(io->fw, pr->blk);
	pr->blk = NULL;
	pr->p = NULL;
	pr->len = 0;
	return ok;
}

/* n bytes of the pending read consumed. */
static void pending_consume(struct io_pending *pr, size_t n)
{
	pr->p += n;
	pr->len -= n;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io *io = arg;
	uint8_t *blk;
	ssize_t n;

	(void)what;
	fw_update_now(io->fw);
	if (io->ssl != NULL) {
		tls_on_readable(io);
		return;
	}
	if (!io->want_read) {
		event_del(&io->ev_read);
		io->read_added = false;
		return;
	}
	size_t want = io->max_read;

	if (want > IO_BLOCK_SIZE)
		want = IO_BLOCK_SIZE;
	if ((blk = block_get(io->fw)) == NULL) {
		io_fail(io, IO_EV_ERROR);
		return;
	}
	n = read(fd, blk, want);
	if (n <= 0) {
		block_put(io->fw, blk);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		io_fail(io, n == 0 ? IO_EV_EOF : IO_EV_ERROR);
		return;
	}
	if (n <= IO_COPY_MAX && (io->in == NULL || evbuffer_get_length(io->in) == 0)) {
		/* A small read into an empty input stays in the block for the
		 * callback: what io_forward passes on is never copied into `in`. */
		io->fw->io_read.blk = blk;
		io->fw->io_read.p = blk;
		io->fw->io_read.len = (size_t)n;
	} else {
		/* Behind other input, or large: into `in`, a small read copied
		 * (the block kept), a large one handed over as it is. */
		int rc = -1;

		if (io->in != NULL || (io->in = evbuffer_new()) != NULL)
			rc = n <= IO_COPY_MAX ? evbuffer_add(io->in, blk, (size_t)n)
			                      : evbuffer_add_reference(io->in, blk, (size_t)n,
			                                               block_done, io->fw);
		if (rc != 0 || n <= IO_COPY_MAX)
			block_put(io->fw, blk);
		if (rc != 0) {
			io_fail(io, IO_EV_ERROR);
			return;
		}
	}
	{
		/* The output this read produces is written when it has been
		 * handled: no flusher event to schedule and run. */
		struct fairway *fw = io->fw;

		fw->io_in_read = true;
		fw->io_read.io = io;
		io->on_read(io, io->arg); /* may free io */
		fw->io_in_read = false;
		if (fw->io_read.io == io && fw->io_read.blk != NULL) {
			/* What the callback left goes into the input. */
			if (fw->io_read.len == 0) {
				block_put(fw, fw->io_read.blk);
				fw->io_read.blk = NULL;
			} else if (!pending_spill(io)) {
				io_fail(io, IO_EV_ERROR);
			}
		}
		fw->io_read.io = NULL;
		if (!list_empty(&fw->io_flush) || fw->io_scratch_used)
			flush_all(fw);
	}
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io *io = arg;

	(void)fd;
	(void)what;
	fw_update_now(io->fw);
	io->write_armed = false;
	if (io->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		io->connecting = false;
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			errno = err;
			io_fail(io, IO_EV_ERROR);
			return;
		}
		io->on_event(io, IO_EV_CONNECTED, io->arg);
		if (io->failed)
			return;
	}
	if (io->ssl != NULL && io->tls_read_wants_write) {
		/* The read that waited for this runs after the flush. */
		io->tls_read_wants_write = false;
		event_active(&io->ev_read, EV_READ, 0);
	}
	flush_one(io);
}

static bool attach_fd(struct io *io, int fd)
{
	io->fd = fd;
	if (event_assign(&io->ev_read, io->fw->base, fd, EV_READ | EV_PERSIST, read_cb, io) != 0)
		return false;
	return true; /* the write event is made when first needed */
}

struct io *io_new(struct fairway *fw, int fd)
{
	struct io *io = calloc(1, sizeof(*io));

	if (io == NULL)
		return NULL;
	io->fw = fw;
	io->fd = -1;
	io->max_read = IO_DEFAULT_READ;
	list_init(&io->flush_link);
	if (fd >= 0 && !attach_fd(io, fd)) {
		io->fd = fd;
		io_free(io);
		return NULL;
	}
	if (fd >= 0)
		evutil_make_socket_nonblocking(fd);
	return io;
}

void io_setcb(struct io *io, io_data_fn read, io_data_fn drained, io_event_fn event, void *arg)
{
	io->on_read = read;
	io->on_drained = drained;
	io->on_event = event;
	io->arg = arg;
}

struct evbuffer *io_input(struct io *io)
{
	if (!pending_spill(io)) {
		io->failed_alloc = true; /* the flush fails the io */
		queue_flush(io);
	}
	/* Nothing read: an always-empty buffer stands in (callers only read it). */
	return io->in != NULL ? io->in : io->fw->io_empty;
}

size_t io_input_length(const struct io *io)
{
	const struct io_pending *pr = pending(io);

	if (pr != NULL)
		return pr->len;
	return io->in != NULL ? evbuffer_get_length(io->in) : 0;
}

const uint8_t *io_input_peek(struct io *io, size_t *len)
{
	const struct io_pending *pr = pending(io);

	if (pr != NULL) {
		*len = pr->len;
		return pr->p;
	}
	*len = io->in != NULL ? evbuffer_get_contiguous_space(io->in) : 0;
	return *len > 0 ? evbuffer_pullup(io->in, (ssize_t)*len) : NULL;
}

struct evbuffer *io_output(struct io *io)
{
	if (io->out == NULL && (io->out = evbuffer_new()) == NULL) {
		/* Out of memory: the connection fails at the flush; the writes go
		 * to a scratch buffer that the flusher empties. */
		io->failed_alloc = true;
		io->fw->io_scratch_used = true;
		queue_flush(io);
		return io->fw->io_scratch;
	}
	queue_flush(io);
	return io->out;
}

size_t io_output_length(const struct io *io)
{
	return io->out != NULL ? evbuffer_get_length(io->out) : 0;
}

void io_forward(struct io *dst, struct io *src, size_t n)
{
	struct io_pending *pr = pending(src);
	const uint8_t *b = pr != NULL ? pr->p : NULL;

	if (n == 0)
		return;
	/* Forwarding is the last step of a request or of a reply, so nothing
	 * else is normally due on dst this loop turn and writing now costs no
	 * extra write.  A full socket and errors are left to the flush. */
	if (dst->ssl == NULL && dst->fd >= 0 && !dst->connecting && !dst->failed &&
	    !dst->failed_alloc && (dst->out == NULL || evbuffer_get_length(dst->out) == 0) &&
	    (pr != NULL ? n == pr->len
	                : n == evbuffer_get_length(src->in) &&
	                      evbuffer_get_contiguous_space(src->in) >= n)) {
		ssize_t w;

		if (b == NULL)
			b = evbuffer_pullup(src->in, (ssize_t)n); /* contiguous: no copy */
		w = write(dst->fd, b, n);
		if (w > 0) {
			if (pr != NULL)
				pending_consume(pr, (size_t)w);
			else
				evbuffer_drain(src->in, (size_t)w);
			n -= (size_t)w;
		}
		if (n == 0)
			return;
	}
	if (pr != NULL) {
		if (evbuffer_add(io_output(dst), pr->p, n) != 0)
			dst->failed_alloc = true; /* the flush fails dst */
		pending_consume(pr, n);
		return;
	}
	evbuffer_remove_buffer(src->in, io_output(dst), n);
}

void io_read_on(struct io *io)
{
	if (io->want_read)
		return;
	io->want_read = true;
	/* With TLS, bytes may wait decrypted inside the SSL: the flush looks. */
	if (!io->read_added || io->ssl != NULL)
		queue_flush(io);
}

void io_read_off(struct io *io)
{
	if (!io->want_read)
		return;
	io->want_read = false;
	/* Applied at the flush (or by read_cb if data arrives first). */
	if (io->read_added)
		queue_flush(io);
}

void io_set_low_mark(struct io *io, size_t bytes)
{
	io->low_mark = bytes < UINT32_MAX ? (uint32_t)bytes : UINT32_MAX;
}

void io_set_max_read(struct io *io, size_t bytes)
{
	io->max_read = bytes < UINT32_MAX ? (uint32_t)bytes : UINT32_MAX;
}

int io_fd(const struct io *io)
{
	return io->fd;
}

bool io_connect(struct io *io, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	if (!attach_fd(io, fd))
		return false;
	if (connect(fd, sa, len) != 0 && errno != EINPROGRESS)
		return false;
	io->connecting = true;
	return arm_write(io);
}

static void dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct io *io = arg;

	if (result == EVUTIL_EAI_CANCEL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	io->dns = NULL;
	io->lookup_done = true;
	fw_update_now(io->fw);
	io->connecting = false;
	if (result != 0 || res == NULL || !io_connect(io, res->ai_addr, res->ai_addrlen)) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		if (io->in_lookup) {
			io->lookup_failed = true; /* reported by io_connect_hostname's return */
			return;
		}
		io_fail(io, IO_EV_ERROR);
		return;
	}
	evutil_freeaddrinfo(res);
}

bool io_connect_hostname(struct io *io, struct evdns_base *dns, const char *host, int port)
{
	struct evutil_addrinfo hints;
	char portstr[16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(portstr, sizeof(portstr), "%d", port);
	struct evdns_getaddrinfo_request *req;

	io->connecting = true; /* until the lookup ends */
	io->in_lookup = true;
	req = evdns_getaddrinfo(dns, host, portstr, &hints, dns_cb, io);
	io->in_lookup = false;
	if (!io->lookup_done)
		io->dns = req;
	return !io->lookup_failed; /* later failures come through the event callback */
}

void io_free(struct io *io)
{
	if (io == NULL)
		return;
	if (io->dns != NULL) {
		evdns_getaddrinfo_cancel(io->dns);
		io->dns = NULL;
	}
	list_del(&io->flush_link);
	if (io->fw->io_read.io == io) {
		if (io->fw->io_read.blk != NULL)
			block_put(io->fw, io->fw->io_read.blk);
		io->fw->io_read = (struct io_pending){NULL, NULL, NULL, 0};
	}
	if (io->ssl != NULL)
		tls_free(io->ssl);
	if (io->tls_prefix != NULL)
		evbuffer_free(io->tls_prefix);
	if (event_initialized(&io->ev_read))
		event_del(&io->ev_read);
	if (io->ev_write != NULL)
		event_free(io->ev_write);
	if (io->fd >= 0)
		close(io->fd);
	if (io->in != NULL)
		evbuffer_free(io->in);
	if (io->out != NULL)
		evbuffer_free(io->out);
	free(io);
}

/* ---- TLS ---------------------------------------------------------------------- */

static void tls_set_read(struct io *io, bool on)
{
	if (on == io->read_added)
		return;
	if (on)
		event_add(&io->ev_read, NULL);
	else
		event_del(&io->ev_read);
	io->read_added = on;
}

/* One handshake step, after the plain output ('S') has gone out. */
static void tls_step_handshake(struct io *io)
{
	while (io->tls_plain_out && io->out != NULL && evbuffer_get_length(io->out) > 0) {
		int n = evbuffer_write(io->out, io->fd);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			tls_set_read(io, false);
			if (!arm_write(io))
				io_fail(io, IO_EV_ERROR);
			return;
		}
		io_fail(io, IO_EV_ERROR);
		return;
	}
	io->tls_plain_out = false;
	switch (tls_handshake(io->ssl)) {
	case TLS_DONE:
		io->tls_handshaking = false;
		if (io->tls_prefix != NULL && evbuffer_get_length(io->tls_prefix) == 0) {
			tls_set_prefix(io->ssl, NULL); /* the ClientHello is consumed */
			evbuffer_free(io->tls_prefix);
			io->tls_prefix = NULL;
		}
		queue_flush(io); /* applies the owner's read state, writes its output */
		if (io->want_read)
			event_active(&io->ev_read, EV_READ, 0); /* data may be buffered already */
		io->on_event(io, IO_EV_TLS_READY, io->arg);     /* last: it may free the io */
		return;
	case TLS_WANT_READ:
		tls_set_read(io, true);
		return;
	case TLS_WANT_WRITE:
		/* Readable data would only repeat the same WANT_WRITE: wait. */
		tls_set_read(io, false);
		if (!arm_write(io))
			io_fail(io, IO_EV_ERROR);
		return;
	case TLS_EOF:
		io_fail(io, IO_EV_EOF);
		return;
	case TLS_FAILED:
		io_fail(io, IO_EV_ERROR);
		return;
	}
}

static void tls_on_readable(struct io *io)
{
	size_t want = io->max_read, got = 0;
	enum tls_status st;
	bool fresh = false;

	if (io->tls_handshaking) {
		tls_step_handshake(io);
		return;
	}
	if (io->tls_write_wants_read) {
		io->tls_write_wants_read = false;
		queue_flush(io); /* the write that waited runs at the flush */
	}
	if (!io->want_read || io->tls_read_wants_write) {
		if (!io->tls_write_wants_read)
			tls_set_read(io, false);
		return;
	}
	if (io->in == NULL) {
		want = IO_FIRST_READ;
		if ((io->in = evbuffer_new()) == NULL) {
			io_fail(io, IO_EV_ERROR);
			return;
		}
		fresh = true;
	}
	st = tls_read(io->ssl, io->in, want, &got);
	if (fresh && got == 0) {
		/* Only TLS records without data (or none yet): stay without buffer. */
		evbuffer_free(io->in);
		io->in = NULL;
	}
	switch (st) {
	case TLS_DONE:
		/* Stopped at want: what SSL holds decrypted brings no event. */
		if (tls_has_pending(io->ssl))
			event_active(&io->ev_read, EV_READ, 0);
		break;
	case TLS_WANT_READ:
		break;
	case TLS_WANT_WRITE:
		io->tls_read_wants_write = true;
		tls_set_read(io, false);
		if (!arm_write(io)) {
			io_fail(io, IO_EV_ERROR);
			return;
		}
		break;
	case TLS_EOF:
	case TLS_FAILED:
		/* Data first; the end is seen again at the next read. */
		if (got == 0) {
			io_fail(io, st == TLS_EOF ? IO_EV_EOF : IO_EV_ERROR);
			return;
		}
		break;
	}
	if (got > 0)
		io->on_read(io, io->arg); /* last: it may free the io */
}

static bool tls_flush(struct io *io)
{
	size_t before = io->out != NULL ? evbuffer_get_length(io->out) : 0;

	if (io->tls_handshaking) {
		tls_step_handshake(io); /* the io may be gone now: look at it no more */
		return true;
	}
	if (before > 0) {
		switch (tls_write(io->ssl, io->out)) {
		case TLS_DONE:
			break;
		case TLS_WANT_WRITE:
			if (!arm_write(io)) {
				io_fail(io, IO_EV_ERROR);
				return false;
			}
			break;
		case TLS_WANT_READ:
			io->tls_write_wants_read = true;
			break;
		case TLS_EOF:
		case TLS_FAILED:
			io_fail(io, IO_EV_ERROR);
			return false;
		}
	}
	if (!io->tls_read_wants_write) {
		tls_set_read(io, io->want_read || io->tls_write_wants_read);
		if (io->want_read && tls_has_pending(io->ssl))
			event_active(&io->ev_read, EV_READ, 0);
	}
	if (before > 0 && evbuffer_get_length(io->out) <= io->low_mark && io->on_drained != NULL)
		io->on_drained(io, io->arg); /* last: it may free the io */
	return true;
}

static bool tls_begin(struct io *io, struct ssl_st *ssl)
{
	if (ssl == NULL)
		return false;
	io->ssl = ssl;
	io->tls_handshaking = true;
	io->tls_plain_out = io->out != NULL && evbuffer_get_length(io->out) > 0;
	queue_flush(io);
	return true;
}

bool io_tls_accept(struct io *io, struct ssl_ctx_st *ctx)
{
	if (io->ssl != NULL || io->fd < 0)
		return false;
	/* What was read already is the start of the TLS stream (direct TLS). */
	io_input(io);
	if (io->in != NULL && evbuffer_get_length(io->in) > 0) {
		io->tls_prefix = io->in;
		io->in = NULL;
	}
	return tls_begin(io, tls_new_accept(ctx, io->fd, io->tls_prefix));
}

bool io_tls_connect(struct io *io, struct ssl_ctx_st *ctx, const char *host, bool verify_host)
{
	if (io->ssl != NULL || io->fd < 0)
		return false;
	return tls_begin(io, tls_new_connect(ctx, io->fd, host, verify_host));
}

bool io_is_tls(const struct io *io)
{
	return io->ssl != NULL;
}

bool io_tls_alpn_ok(const struct io *io)
{
	return io->ssl != NULL && tls_alpn_ok(io->ssl);
}

void io_tls_describe(const struct io *io, char *buf, size_t n)
{
	if (io == NULL || io->ssl == NULL || io->tls_handshaking) {
		snprintf(buf, n, "%s", "");
		return;
	}
	tls_describe(io->ssl, buf, n);
}

bool io_tls_peer_cn(const struct io *io, char *buf, size_t n)
{
	return io != NULL && io->ssl != NULL && !io->tls_handshaking &&
	       tls_peer_cn(io->ssl, buf, n);
}

bool io_tls_cert_hash(const struct io *io, bool own, unsigned char *out, size_t *len)
{
	*len = 0;
	return io != NULL && io->ssl != NULL && !io->tls_handshaking &&
	       tls_cert_hash(io->ssl, own, out, len);
}

void io_tls_error(const struct io *io, char *buf, size_t n)
{
	if (io->ssl == NULL) {
		snprintf(buf, n, "not a TLS connection");
		return;
	}
	tls_error_text(io->ssl, buf, n);
}
