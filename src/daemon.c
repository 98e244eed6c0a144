/* The life of the daemon: build the root context, signals, reload as a swap
 * of the whole config, pause/resume, the shutdown modes, the reaper that frees
 * closed objects after the loop turn, and freeing everything at exit. */
#include "daemon.h"

#include "io.h"
#include <errno.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cancel.h"
#include "client.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "server.h"
#include "sqlstate.h"
#include "timer.h"
#include "util.h"

uint64_t fw_update_now(struct fairway *fw)
{
	fw->now_us = util_now_us();
	return fw->now_us;
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fairway *fw = arg;

	(void)fd;
	(void)what;
	while (!list_empty(&fw->graveyard_clients))
		client_free(list_first(&fw->graveyard_clients, struct client, link));
	while (!list_empty(&fw->graveyard_servers))
		server_free(list_first(&fw->graveyard_servers, struct server, link));
}

void fw_schedule_reap(struct fairway *fw)
{
	if (fw->reaper != NULL && !event_pending(fw->reaper, EV_TIMEOUT, NULL)) {
		struct timeval zero = {0, 0};

		event_add(fw->reaper, &zero);
	}
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct fairway *fw = arg;

	(void)what;
	fw_update_now(fw);
	switch (sig) {
	case SIGHUP:
		log_info("got SIGHUP, re-reading config");
		daemon_reload(fw);
		break;
	case SIGINT:
		log_info("got SIGINT, shutting down, waiting for servers");
		daemon_shutdown(fw, fw->shutdown == SHUTDOWN_NONE ? SHUTDOWN_WAIT_SERVERS
		                                                  : SHUTDOWN_NOW);
		break;
	case SIGTERM:
		log_info("got SIGTERM, shutting down, waiting for clients");
		daemon_shutdown(fw, fw->shutdown == SHUTDOWN_NONE ? SHUTDOWN_WAIT_CLIENTS
		                                                  : SHUTDOWN_NOW);
		break;
	case SIGQUIT:
		log_info("got SIGQUIT, fast exit");
		daemon_shutdown(fw, SHUTDOWN_NOW);
		break;
	case SIGUSR1:
		log_info("got SIGUSR1, pausing all activity");
		daemon_pause(fw, NULL);
		break;
	case SIGUSR2:
		if (fw->shutdown != SHUTDOWN_NONE) {
			log_info("got SIGUSR2 while shutting down, ignoring");
			break;
		}
		log_info("got SIGUSR2, continuing");
		daemon_resume(fw, NULL);
		break;
	default:
		break;
	}
}

/* The TLS contexts for cfg; at start-up a file that cannot be used is
 * fatal, at reload the old contexts stay (connections keep theirs anyway). */
static bool daemon_build_tls(struct fairway *fw, const struct config *cfg, bool starting)
{
	struct tls_contexts t;
	char err[512];

	if (!tls_contexts_build(cfg, &t, err, sizeof(err))) {
		if (starting)
			log_msg(LOG_LVL_FATAL, "TLS configuration error: %s", err);
		else
			log_error("TLS settings not applied, keeping the old TLS configuration: %s",
			          err);
		return false;
	}
	tls_contexts_free(&fw->tls);
	fw->tls = t;
	return true;
}

bool daemon_init(struct fairway *fw, struct config *cfg)
{
	static const int sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2};

	fw->cfg = cfg;
	list_init(&fw->databases);
	list_init(&fw->users);
	list_init(&fw->clients);
	list_init(&fw->graveyard_clients);
	list_init(&fw->graveyard_servers);
	list_init(&fw->cancel_reqs);
	fw->start_wall_us = util_wall_us();
	fw_update_now(fw);
	fw->last_stats_us = fw->now_us;
	fw->daemon_uid = (uint32_t)getuid();
	if (!util_random(fw->scram_mock_key, sizeof(fw->scram_mock_key))) {
		log_error("cannot read random bytes");
		return false;
	}
	if (!params_names_init(&fw->tracked, cfg->track_extra_parameters)) {
		log_error("track_extra_parameters: more than %d parameters, or a name that is "
		          "not a parameter name",
		          PARAM_SLOTS - 6);
		return false;
	}
	if (!daemon_build_tls(fw, cfg, true))
		return false;
	signal(SIGPIPE, SIG_IGN);
	fw->base = event_base_new();
	if (fw->base == NULL || event_base_priority_init(fw->base, 3) != 0) {
		log_error("cannot create the event loop");
		return false;
	}
	fw->dns = evdns_base_new(fw->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (fw->dns == NULL)
		fw->dns = evdns_base_new(fw->base, 0);
	fw->cancels = cancel_map_new();
	fw->reaper = event_new(fw->base, -1, 0, reap_cb, fw);
	if (!io_init(fw)) {
		log_error("out of memory at start-up");
		return false;
	}
	if (fw->cancels == NULL || fw->reaper == NULL || fw->dns == NULL) {
		log_error("out of memory at start-up");
		return false;
	}
	event_priority_set(fw->reaper, 2);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		fw->signals[i] = evsignal_new(fw->base, sigs[i], signal_cb, fw);
		if (fw->signals[i] == NULL || event_add(fw->signals[i], NULL) != 0) {
			log_error("cannot install signal handlers");
			return false;
		}
	}
	if (!timer_start(fw)) {
		log_error("cannot start the housekeeping timer");
		return false;
	}
	return listener_open_all(fw) && metrics_start(fw);
}

int daemon_run(struct fairway *fw)
{
	event_base_dispatch(fw->base);
	return fw->exit_code;
}

/* Closes every client and server; used at exit and for KILL. */
static void close_all(struct fairway *fw, const char *reason)
{
	struct list_head *pos, *next, *dpos, *ppos;

	list_for_each_safe(pos, next, &fw->clients)
	    client_close(list_entry(pos, struct client, link), reason);
	list_for_each(dpos, &fw->databases)
	{
		struct database *db = list_entry(dpos, struct database, link);

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			while (!list_empty(&p->servers))
				server_close(list_first(&p->servers, struct server, link), reason);
		}
	}
}

void daemon_free(struct fairway *fw)
{
	if (fw->base != NULL) {
		close_all(fw, "server shutting down");
		cancel_close_all(fw);
		reap_cb(-1, 0, fw);
	}
	ps_registry_free(&fw->prepared);
	while (!list_empty(&fw->databases))
		db_free(list_first(&fw->databases, struct database, link));
	while (!list_empty(&fw->users)) {
		struct pool_user *pu = list_first(&fw->users, struct pool_user, link);

		list_del(&pu->link);
		free(pu->name);
		free(pu);
	}
	listener_close(fw, true);
	metrics_stop(fw);
	for (size_t i = 0; i < ARRAY_SIZE(fw->signals); i++)
		if (fw->signals[i] != NULL)
			event_free(fw->signals[i]);
	if (fw->tick != NULL)
		event_free(fw->tick);
	if (fw->reaper != NULL)
		event_free(fw->reaper);
	io_shutdown(fw);
	cancel_map_free(fw->cancels);
	if (fw->dns != NULL)
		evdns_base_free(fw->dns, 0);
	if (fw->base != NULL)
		event_base_free(fw->base);
	params_names_free(&fw->tracked);
	tls_contexts_free(&fw->tls);
	config_free(fw->cfg);
	fw->cfg = NULL;
	free(fw->config_path);
	free(fw->opt_user);
}

static void report_cb(void *arg, bool is_error, const char *msg)
{
	(void)arg;
	if (is_error)
		log_error("%s", msg);
	else
		log_warning("%s", msg);
}

/* Settings that cannot change without a restart keep their old values. */
static void keep_fixed_settings(struct config *old_cfg, struct config *new_cfg)
{
	char names[512];

#define KEEP(field)                                                                                \
	do {                                                                                       \
		__typeof__(new_cfg->field) tmp_ = new_cfg->field;                                  \
		new_cfg->field = old_cfg->field;                                                   \
		old_cfg->field = tmp_;                                                             \
	} while (0)
	if (!config_fixed_changed(old_cfg, new_cfg, names, sizeof(names)))
		return;
	log_warning("settings that need a restart keep their old values: %s", names);
	KEEP(listen_addr);
	KEEP(listen_port);
	KEEP(unix_socket_dir);
	KEEP(unix_socket_mode);
	KEEP(unix_socket_group);
	KEEP(user);
	KEEP(pidfile);
	KEEP(pkt_buf);
	KEEP(listen_backlog);
	KEEP(so_reuseport);
	KEEP(track_extra_parameters);
	KEEP(disable_pqexec);
	KEEP(service_name);
	KEEP(job_name);
	KEEP(resolv_conf);
#undef KEEP
}

bool daemon_reload(struct fairway *fw)
{
	struct config *ncfg = config_load(fw->config_path, report_cb, NULL);

	if (ncfg == NULL) {
		log_error("config reload failed: keeping the old configuration");
		return false;
	}
	keep_fixed_settings(fw->cfg, ncfg);
	daemon_apply_config(fw, ncfg);
	log_info("config reloaded from %s", fw->config_path);
	return true;
}

/* pool_each_server callbacks; arg is the close reason. */
static void close_if_idle(struct server *sv, void *arg)
{
	if (sv->state == SV_IDLE)
		server_close(sv, arg);
}

static void close_when_idle(struct server *sv, void *arg)
{
	sv->close_needed = true;
	close_if_idle(sv, arg);
}

static void refresh_pool_passwords(struct fairway *fw, struct database *db)
{
	struct list_head *pos;

	list_for_each(pos, &db->pools)
	{
		struct pool *p = list_entry(pos, struct pool, link);
		const struct auth_entry *ae = config_find_auth(fw->cfg, p->user);
		const char *pw = db->conf->password ? db->conf->password : ae ? ae->secret : NULL;
		char *copy = pw ? strdup(pw) : NULL;

		if (pw == NULL && p->has_dynamic_password)
			continue; /* from auth_query: the next login refreshes it */
		if (pw != NULL && copy == NULL)
			continue; /* out of memory: keep the old one */
		free(p->password);
		p->password = copy;
	}
}

void daemon_apply_config(struct fairway *fw, struct config *ncfg)
{
	struct config *old_cfg = fw->cfg;
	struct list_head *pos, *next;
	struct log_settings ls = {
	    .logfile = ncfg->logfile,
	    .use_syslog = ncfg->syslog,
	    .syslog_ident = ncfg->syslog_ident,
	    .syslog_facility = ncfg->syslog_facility,
	    .quiet = fw->opt_quiet,
	    .verbose = ncfg->verbose > fw->opt_verbose ? ncfg->verbose : fw->opt_verbose,
	};

	daemon_build_tls(fw, ncfg, false); /* logs why when the old TLS setup stays */
	fw->cfg = ncfg;
	list_for_each_safe(pos, next, &fw->databases)
	{
		struct database *db = list_entry(pos, struct database, link);
		const struct db_conf *dc = config_find_db(ncfg, db->name, db->is_auto);

		if (dc == NULL || (strcmp(dc->name, "*") == 0) != db->is_auto) {
			db->conf = NULL;
			/* Still pointing at the old config while its users are closed. */
			db->conf = config_find_db(old_cfg, db->name, db->is_auto);
			daemon_kill_db(db, "database removed");
			db_free(db);
			continue;
		}
		if (!util_streq(dc->connstr, db->conf->connstr))
			pool_each_server(fw, db, close_when_idle, "database configuration changed");
		db->conf = dc;
		refresh_pool_passwords(fw, db);
	}
	if (!log_configure(&ls))
		log_warning("keeping the previous log destination");
	config_free(old_cfg);
	list_for_each(pos, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		if (c->user != NULL)
			client_refresh_settings(c);
	}
	/* New limits may let waiting clients in. */
	list_for_each(pos, &fw->databases)
	{
		struct database *db = list_entry(pos, struct database, link);
		struct list_head *ppos;

		list_for_each(ppos, &db->pools)
		{
			struct pool *p = list_entry(ppos, struct pool, link);

			pool_refresh_settings(p);
			sched_set_limits(&p->waitq, ncfg->fair_key == FAIR_NONE,
			                 (size_t)ncfg->max_waiting_clients,
			                 (size_t)ncfg->max_waiting_per_flow);
			pool_maybe_launch(p);
		}
	}
}

void daemon_shutdown(struct fairway *fw, enum shutdown_mode mode)
{
	struct list_head *pos, *next;

	if (mode == SHUTDOWN_NOW) {
		fw->shutdown = SHUTDOWN_NOW;
		event_base_loopbreak(fw->base);
		return;
	}
	if (fw->shutdown != SHUTDOWN_NONE)
		return;
	fw->shutdown = mode;
	listener_close(fw, false);
	if (mode == SHUTDOWN_WAIT_SERVERS) {
		/* Nobody new gets a server: those waiting are told now. */
		list_for_each_safe(pos, next, &fw->clients)
		{
			struct client *c = list_entry(pos, struct client, link);

			if (c->state == CL_WAITING || c->state == CL_LOGIN || c->state == CL_LOOKUP)
				client_fail(c, SQLSTATE_ADMIN_SHUTDOWN, "pooler is shutting down");
			else if (c->state == CL_IDLE && !c->is_console)
				client_close(c, "server shutting down");
		}
	}
	timer_tick(fw);
}

static void resume_pool(struct pool *pool)
{
	while (sched_count(&pool->waitq) > 0 && !list_empty(&pool->idle_servers)) {
		struct server *sv = list_first(&pool->idle_servers, struct server, idle_link);

		pool_server_idle(sv);
		if (sv->state == SV_IDLE)
			break;
	}
	pool_maybe_launch(pool);
}

void daemon_pause(struct fairway *fw, struct database *db)
{
	if (db != NULL)
		db->paused = true;
	else
		fw->paused = true;
	pool_each_server(fw, db, close_if_idle, "pause");
}

struct busy_count {
	bool closing_only;
	int n;
};

static void count_busy(struct server *sv, void *arg)
{
	struct busy_count *bc = arg;

	if (bc->closing_only ? sv->close_needed : sv->state != SV_IDLE)
		bc->n++;
}

int daemon_busy_servers(struct fairway *fw, struct database *db, bool closing_only)
{
	struct busy_count bc = {closing_only, 0};

	pool_each_server(fw, db, count_busy, &bc);
	return bc.n;
}

void daemon_suspend(struct fairway *fw)
{
	struct list_head *pos;

	fw->suspended = true;
	listener_pause(fw, true);
	list_for_each(pos, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		if (!c->is_console && c->io != NULL)
			io_read_off(c->io);
	}
}

static void unsuspend(struct fairway *fw)
{
	struct list_head *pos, *next;

	fw->suspended = false;
	listener_pause(fw, false);
	list_for_each_safe(pos, next, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		if (c->is_console || c->io == NULL)
			continue;
		if (c->state == CL_IDLE || c->state == CL_ACTIVE || c->state == CL_STARTUP ||
		    c->state == CL_AUTH || c->state == CL_LOOKUP) {
			io_read_on(c->io);
			client_process(c);
		}
	}
}

void daemon_resume(struct fairway *fw, struct database *db)
{
	struct list_head *dpos, *ppos;

	if (db == NULL && fw->suspended)
		unsuspend(fw);
	if (db != NULL)
		db->paused = false;
	else
		fw->paused = false;
	list_for_each(dpos, &fw->databases)
	{
		struct database *d = list_entry(dpos, struct database, link);

		if (db != NULL && d != db)
			continue;
		list_for_each(ppos, &d->pools) resume_pool(list_entry(ppos, struct pool, link));
	}
}

void daemon_kill_db(struct database *db, const char *reason)
{
	struct fairway *fw = db->fw;
	struct list_head *pos, *next;

	list_for_each_safe(pos, next, &fw->clients)
	{
		struct client *c = list_entry(pos, struct client, link);

		/* An auth_query lookup may wait in a pool of another database. */
		if ((c->db != db && (c->pool == NULL || c->pool->db != db)) || c->is_console)
			continue;
		client_fail(c, SQLSTATE_ADMIN_SHUTDOWN, "%s", reason);
		/* Its error is still being flushed: it must not point at db any more. */
		if (c->state == CL_DRAINING)
			client_detach(c);
	}
	list_for_each(pos, &db->pools)
	{
		struct pool *p = list_entry(pos, struct pool, link);

		while (!list_empty(&p->servers))
			server_close(list_first(&p->servers, struct server, link), reason);
	}
}

void daemon_reconnect(struct fairway *fw, struct database *db)
{
	pool_each_server(fw, db, close_when_idle, "reconnect requested");
}
