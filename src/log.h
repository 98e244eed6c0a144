/* Logging: levels, PgBouncer-shaped lines, stderr / logfile / syslog sinks.
 * The sink is process-wide and set up once at start-up and on reload. */
#ifndef FAIRWAY_LOG_H
#define FAIRWAY_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_FATAL,
	LOG_LVL_ERROR,
	LOG_LVL_WARNING,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_NOISE
};

struct log_settings {
	const char *logfile; /* NULL = none */
	bool use_syslog;
	const char *syslog_ident;
	const char *syslog_facility;
	bool quiet;  /* -q: nothing on stderr */
	int verbose; /* 0 = info, 1 = debug, 2 = noise */
};

/* (Re)opens the log sinks; false with errno-based message on stderr if the
 * logfile cannot be opened (the previous sink stays). */
bool log_configure(const struct log_settings *s);
void log_close(void);
/* True if messages at this level are written (check before formatting). */
bool log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)   log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LVL_DEBUG))                                                    \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif
