/* Logging sinks and line format.  A line looks like PgBouncer's:
 * "2026-11-27 03:16:06.123 UTC [1234] LOG C-7: db/user@127.0.0.1:5555 message"
 * (the object prefix is built by the caller).  Lines go to the logfile
 * (appended and flushed at once), to syslog, and to stderr unless quiet. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
	FILE *file;
	bool use_syslog;
	bool quiet;
	int verbose;
	char ident[64];
} sink;

static const char *const level_name[] = {
    [LOG_LVL_FATAL] = "FATAL", [LOG_LVL_ERROR] = "ERROR", [LOG_LVL_WARNING] = "WARNING",
    [LOG_LVL_INFO] = "LOG",    [LOG_LVL_DEBUG] = "DEBUG", [LOG_LVL_NOISE] = "NOISE",
};

static const int syslog_prio[] = {
    [LOG_LVL_FATAL] = LOG_CRIT, [LOG_LVL_ERROR] = LOG_ERR,   [LOG_LVL_WARNING] = LOG_WARNING,
    [LOG_LVL_INFO] = LOG_INFO,  [LOG_LVL_DEBUG] = LOG_DEBUG, [LOG_LVL_NOISE] = LOG_DEBUG,
};

static int facility_code(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} map[] = {
	    {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"daemon", LOG_DAEMON},
	    {"user", LOG_USER},     {"local0", LOG_LOCAL0},     {"local1", LOG_LOCAL1},
	    {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},     {"local4", LOG_LOCAL4},
	    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},     {"local7", LOG_LOCAL7},
	};

	for (size_t i = 0; name != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(name, map[i].name) == 0)
			return map[i].code;
	return LOG_DAEMON;
}

bool log_configure(const struct log_settings *s)
{
	FILE *f = NULL;

	if (s->logfile != NULL && s->logfile[0] != '\0') {
		f = fopen(s->logfile, "a");
		if (f == NULL) {
			int err = errno;

			log_msg(LOG_LVL_ERROR, "cannot open logfile %s: %s", s->logfile,
			        strerror(err));
			return false;
		}
		setvbuf(f, NULL, _IOLBF, 0);
	}
	if (sink.file != NULL)
		fclose(sink.file);
	sink.file = f;
	if (sink.use_syslog)
		closelog();
	sink.use_syslog = s->use_syslog;
	if (sink.use_syslog) {
		snprintf(sink.ident, sizeof(sink.ident), "%s",
		         s->syslog_ident ? s->syslog_ident : "fairway");
		openlog(sink.ident, LOG_PID, facility_code(s->syslog_facility));
	}
	sink.quiet = s->quiet;
	sink.verbose = s->verbose;
	return true;
}

void log_close(void)
{
	if (sink.file != NULL)
		fclose(sink.file);
	sink.file = NULL;
	if (sink.use_syslog)
		closelog();
	sink.use_syslog = false;
}

bool log_enabled(enum log_level lvl)
{
	if (lvl <= LOG_LVL_INFO)
		return true;
	return (int)lvl - (int)LOG_LVL_INFO <= sink.verbose;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[2048], stamp[64];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Untrusted bytes may be in msg: keep one event on one line. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	if (sink.file != NULL)
		fprintf(sink.file, "%s.%03d UTC [%d] %s %s\n", stamp, (int)(tv.tv_usec / 1000),
		        (int)getpid(), level_name[lvl], msg);
	if (!sink.quiet || lvl <= LOG_LVL_FATAL)
		fprintf(stderr, "%s.%03d UTC [%d] %s %s\n", stamp, (int)(tv.tv_usec / 1000),
		        (int)getpid(), level_name[lvl], msg);
	if (sink.use_syslog)
		syslog(syslog_prio[lvl], "%s %s", level_name[lvl], msg);
}
