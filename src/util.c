/* Small helpers shared by every module: clocks, strings, random bytes. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"

uint64_t util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t util_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC + (uint64_t)ts.tv_nsec / 1000;
}

char *util_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

bool util_streq_ci(const char *a, const char *b)
{
	return strcasecmp(a ? a : "", b ? b : "") == 0;
}

bool util_streq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool util_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n == 0)
		return false;
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return false;
	}
	memcpy(dst, src, len + 1);
	return true;
}

void util_fmt_time(uint64_t wall_us, char *buf, size_t n)
{
	time_t t = (time_t)(wall_us / USEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

bool util_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got <= 0)
			return false;
		p += got;
		n -= (size_t)got;
	}
	return true;
}

void util_tune_tcp(int fd, const struct config *cfg)
{
	int one = 1;

	if (cfg->tcp_keepalive) {
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (cfg->tcp_keepcnt > 0)
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cfg->tcp_keepcnt, sizeof(int));
		if (cfg->tcp_keepidle > 0)
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &cfg->tcp_keepidle, sizeof(int));
		if (cfg->tcp_keepintvl > 0)
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &cfg->tcp_keepintvl,
			           sizeof(int));
	}
	if (cfg->tcp_user_timeout > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &cfg->tcp_user_timeout, sizeof(int));
	if (cfg->tcp_socket_buffer > 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg->tcp_socket_buffer, sizeof(int));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg->tcp_socket_buffer, sizeof(int));
	}
}

bool util_read_file(const char *path, char **out, size_t *out_len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int saved;

	if (f == NULL)
		return false;
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		/* /dev/zero would be read until memory runs out, a FIFO blocks */
		fclose(f);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return false;
	}
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *bigger = realloc(buf, cap ? cap * 2 : 8192);

			if (bigger == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return false;
			}
			buf = bigger;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		saved = errno ? errno : EIO;
		free(buf);
		fclose(f);
		errno = saved;
		return false;
	}
	fclose(f);
	*out = buf;
	*out_len = len;
	return true;
}
