/* Small helpers shared by every module: allocation that never returns NULL
 * during start-up, string utilities, the monotonic clock. */
#ifndef FAIRWAY_UTIL_H
#define FAIRWAY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define USEC          UINT64_C(1000000)

/* Monotonic microseconds. */
uint64_t util_now_us(void);
/* Wall clock microseconds since the epoch (for SHOW connect_time). */
uint64_t util_wall_us(void);

/* strdup that returns NULL for NULL. */
char *util_strdup(const char *s);
/* Case-insensitive equality that treats NULL as "". */
bool util_streq_ci(const char *a, const char *b);
/* Equality that treats NULL as "". */
bool util_streq(const char *a, const char *b);
/* Copies src into dst of size n, always NUL-terminated; returns false if cut. */
bool util_strlcpy(char *dst, const char *src, size_t n);
/* Formats wall-clock microseconds as "YYYY-MM-DD HH:MM:SS" (UTC). */
void util_fmt_time(uint64_t wall_us, char *buf, size_t n);
struct config;
/* tcp_keepalive, tcp_keepcnt/idle/intvl, tcp_user_timeout, tcp_socket_buffer. */
void util_tune_tcp(int fd, const struct config *cfg);
/* Random bytes from the OS; false only if the kernel refuses. */
bool util_random(void *buf, size_t n);
/* A whole regular file into a malloc()ed buffer (not NUL-terminated);
 * false with errno set (EINVAL for a device or FIFO, EISDIR). */
bool util_read_file(const char *path, char **out, size_t *out_len);

#endif
