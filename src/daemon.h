/* The life of the daemon: building and freeing the root context, reload,
 * pause/resume, shutdown modes, the graveyard reaper. */
#ifndef FAIRWAY_DAEMON_H
#define FAIRWAY_DAEMON_H

#include <stdbool.h>

#include "fairway.h"

struct database;

/* Builds fw around a loaded config: event base, listeners, signals, timers.
 * false (with a logged reason) if the daemon cannot start. */
bool daemon_init(struct fairway *fw, struct config *cfg);
/* Runs the event loop until shutdown; returns the exit code. */
int daemon_run(struct fairway *fw);
/* Frees everything fw owns. */
void daemon_free(struct fairway *fw);

/* Re-reads the config file; false (old config kept, reason logged) on error. */
bool daemon_reload(struct fairway *fw);
/* Applies a new config (RELOAD, SET): takes ownership of cfg. */
void daemon_apply_config(struct fairway *fw, struct config *cfg);
void daemon_shutdown(struct fairway *fw, enum shutdown_mode mode);
/* PAUSE / RESUME of one database (db) or all (NULL). */
void daemon_pause(struct fairway *fw, struct database *db);
void daemon_resume(struct fairway *fw, struct database *db);
/* Servers not yet idle (or, closing_only, still marked to close) of db or all. */
int daemon_busy_servers(struct fairway *fw, struct database *db, bool closing_only);
/* SUSPEND: stop reading from clients and accepting new ones until RESUME. */
void daemon_suspend(struct fairway *fw);
/* KILL: closes a database's clients and servers. */
void daemon_kill_db(struct database *db, const char *reason);
/* Closes every server of db (or all when NULL) once it is idle. */
void daemon_reconnect(struct fairway *fw, struct database *db);

#endif
