/* One connection's byte stream: a non-blocking socket, an input and an
 * output evbuffer, and the two events that drive them.  Writes are not
 * scheduled through the event loop: whatever a callback queued on an output
 * is written once the current batch of callbacks has run (one writev), and a
 * write event is armed only when the socket is full; io_forward writes a
 * whole request or reply straight to the peer instead.  Turning reads off and
 * on is applied lazily at the same point, so a state change that is undone
 * within one loop turn costs no epoll_ctl. */
#ifndef FAIRWAY_IO_H
#define FAIRWAY_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct fairway;
struct evbuffer;
struct evdns_base;
struct io;
struct ssl_ctx_st;

#define IO_EV_EOF       0x01
#define IO_EV_ERROR     0x02
#define IO_EV_CONNECTED 0x04
#define IO_EV_TLS_READY 0x08 /* the TLS handshake finished */

typedef void (*io_data_fn)(struct io *io, void *arg);
typedef void (*io_event_fn)(struct io *io, int what, void *arg);

/* fd < 0: io_connect* gives it one.  The io owns the fd from here on. */
struct io *io_new(struct fairway *fw, int fd);
/* read: input grew; drained: output fell to the low mark after a write;
 * event: IO_EV_* (EOF and ERROR end the stream; the owner frees the io). */
void io_setcb(struct io *io, io_data_fn read, io_data_fn drained, io_event_fn event, void *arg);
/* The input buffer.  A small read into an empty input is first offered to
 * the read callback where it lies (io_input_peek, io_forward); asking for the
 * buffer copies it in. */
struct evbuffer *io_input(struct io *io);
/* Bytes read and not yet consumed, and the first contiguous run of them
 * (NULL when none), without io_input's copy. */
size_t io_input_length(const struct io *io);
const uint8_t *io_input_peek(struct io *io, size_t *len);
/* The output buffer; taking it queues a flush after this loop turn. */
struct evbuffer *io_output(struct io *io);
/* Bytes queued for writing (does not queue a flush). */
size_t io_output_length(const struct io *io);
/* Moves the first n bytes of src's input to dst's output.  When they are all
 * src holds, lie in one piece and dst has nothing queued, they are written to
 * dst's socket at once from where they lie: the one write the flush would
 * make, without copying or moving buffer chains.  Whatever is not written
 * that way is queued as by io_output. */
void io_forward(struct io *dst, struct io *src, size_t n);
void io_read_on(struct io *io);
void io_read_off(struct io *io);
void io_set_low_mark(struct io *io, size_t bytes);
void io_set_max_read(struct io *io, size_t bytes);
int io_fd(const struct io *io);
bool io_connect(struct io *io, const struct sockaddr *sa, socklen_t len);
bool io_connect_hostname(struct io *io, struct evdns_base *dns, const char *host, int port);
/* Frees the buffers while they are empty (they are made again on demand): for
 * connections that have been idle a while, so idle clients cost no buffers. */
void io_trim(struct io *io);
/* TLS from here on (the plain output queued so far, such as the 'S' answer
 * to an SSLRequest, goes out first).  Accept: the bytes already read are the
 * start of the TLS stream (direct TLS).  Connect: host is checked against the
 * certificate when verify_host (verify-full).  IO_EV_TLS_READY follows the
 * handshake; a failed handshake ends with IO_EV_ERROR (see io_tls_error). */
bool io_tls_accept(struct io *io, struct ssl_ctx_st *ctx);
bool io_tls_connect(struct io *io, struct ssl_ctx_st *ctx, const char *host, bool verify_host);
bool io_is_tls(const struct io *io);
/* The verified client certificate's common name (auth_type cert). */
bool io_tls_peer_cn(const struct io *io, char *buf, size_t n);
/* tls-server-end-point channel binding data: the hash of our own (own) or
 * the peer's certificate, after the handshake (see tls_cert_hash()). */
bool io_tls_cert_hash(const struct io *io, bool own, unsigned char *out, size_t *len);
/* The peer negotiated ALPN "postgresql". */
bool io_tls_alpn_ok(const struct io *io);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519"; "" when plain or handshaking. */
void io_tls_describe(const struct io *io, char *buf, size_t n);
/* Why the TLS connection failed, for logs and errors. */
void io_tls_error(const struct io *io, char *buf, size_t n);
/* Closes the socket and frees everything; safe from the io's own callbacks. */
void io_free(struct io *io);

/* The flusher: created by io_init, run after each batch of callbacks. */
bool io_init(struct fairway *fw);
void io_shutdown(struct fairway *fw);

#endif
