/* What the harness's own files share: harness.c (the run: PostgreSQL,
 * processes, polling), harness_fw.c (one daemon and its clients) and
 * harness_raw.c (raw sockets). Tests include only harness.h. */
#ifndef FAIRWAY_IT_HARNESS_INTERNAL_H
#define FAIRWAY_IT_HARNESS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Process-wide state of the run, written once by pg_setup() before any test
 * and only read afterwards, also by Check's forked test children. */
struct harness_run {
	pid_t owner;               /* the process that ran pg_setup(); only it tears down */
	bool drop;                 /* running as root: children switch to run_uid */
	uid_t run_uid;             /* valid when drop */
	gid_t run_gid;             /* valid when drop */
	char run_user[64];         /* valid when drop */
	char run_home[PATH_MAX];   /* valid when drop */
	char root[PATH_MAX];       /* mkdtemp directory of the whole run */
	char data[PATH_MAX];       /* root/data, the cluster */
	char bindir[PATH_MAX];     /* /usr/lib/postgresql/<highest>/bin */
	char daemon_bin[PATH_MAX]; /* FAIRWAY_BIN, or its copy in root/bin when drop */
	int port;                  /* PostgreSQL's TCP port on 127.0.0.1 */
	bool started;              /* pg_ctl start succeeded */
	bool keep;                 /* FAIRWAY_TEST_KEEP: leave the directories behind */
	int watchdog_fd;           /* write end; the watchdog cleans up when it closes */
};

/* Read-only view of the run's state. */
const struct harness_run *harness_run(void);

uint64_t harness_now_ms(void); /* CLOCK_MONOTONIC */
void harness_pause_ms(int ms);
/* snprintf that exits the run when the path does not fit */
void harness_fmt_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void harness_write_text(const char *path, const char *text, const char *mode);
/* chown to the unprivileged user when the tests run as root */
void harness_chown_to_run_user(const char *path);
/* In a forked child, before exec: become the unprivileged user when root. */
void harness_become_run_user(void);
void harness_remove_tree(const char *path);

#endif
