/* Command line, daemonizing, pidfile and user switch; then the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "fairway.h"
#include "log.h"

#include <event2/event.h>

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "%s is a PostgreSQL connection pooler with fair scheduling.\n\n"
	        "Usage:\n"
	        "  %s [OPTION]... CONFIG_FILE\n\n"
	        "Options:\n"
	        "  -d, --daemon         run in background (as a daemon)\n"
	        "  -q, --quiet          run quietly\n"
	        "  -R, --reboot         do an online reboot (not supported yet)\n"
	        "  -u, --user=USERNAME  assume identity of USERNAME\n"
	        "  -v, --verbose        increase verbosity\n"
	        "  -V, --version        show version, then exit\n"
	        "  -h, --help           show this help, then exit\n",
	        "Fairway", prog);
}

struct report_ctx {
	int errors;
};

static void startup_report(void *arg, bool is_error, const char *msg)
{
	struct report_ctx *rc = arg;

	if (is_error)
		rc->errors++;
	log_msg(is_error ? LOG_LVL_ERROR : LOG_LVL_WARNING, "%s", msg);
}

static bool switch_user(const char *user)
{
	struct passwd *pw;

	if (user == NULL || user[0] == '\0')
		return true;
	pw = getpwnam(user);
	if (pw == NULL) {
		log_msg(LOG_LVL_FATAL, "user %s not found", user);
		return false;
	}
	if (getuid() == pw->pw_uid)
		return true;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		int err = errno;

		log_msg(LOG_LVL_FATAL, "cannot switch to user %s: %s", user, strerror(err));
		return false;
	}
	return true;
}

static bool daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return false;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid > 0)
		_exit(0);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return true;
}

/* Writes the pidfile; refuses when it names a live process. */
static bool write_pidfile(const char *path)
{
	char buf[32];
	FILE *f;

	if (path == NULL || path[0] == '\0')
		return true;
	f = fopen(path, "r");
	if (f != NULL) {
		long old = 0;

		if (fgets(buf, sizeof(buf), f) != NULL)
			old = strtol(buf, NULL, 10);
		fclose(f);
		if (old > 0 && old != getpid() && kill((pid_t)old, 0) == 0) {
			log_msg(LOG_LVL_FATAL, "pidfile %s exists and process %ld is running", path,
			        old);
			return false;
		}
	}
	f = fopen(path, "w");
	if (f == NULL) {
		int err = errno;

		log_msg(LOG_LVL_FATAL, "cannot write pidfile %s: %s", path, strerror(err));
		return false;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"daemon", no_argument, NULL, 'd'},  {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'}, {"user", required_argument, NULL, 'u'},
	    {"version", no_argument, NULL, 'V'}, {"help", no_argument, NULL, 'h'},
	    {"reboot", no_argument, NULL, 'R'},  {NULL, 0, NULL, 0},
	};
	struct fairway fw;
	struct report_ctx rc = {0};
	struct log_settings ls = {0};
	struct config *cfg;
	char *pidfile = NULL;
	int opt, code;

	memset(&fw, 0, sizeof(fw));
	while ((opt = getopt_long(argc, argv, "dqvu:VhR", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			fw.opt_daemon = true;
			break;
		case 'q':
			fw.opt_quiet = true;
			break;
		case 'v':
			fw.opt_verbose++;
			break;
		case 'u':
			free(fw.opt_user);
			fw.opt_user = strdup(optarg);
			break;
		case 'V':
			printf("%s\n", FAIRWAY_VERSION_STR);
			return 0;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		case 'R':
			fprintf(stderr, "online reboot (-R) is not supported yet by Fairway\n");
			return 1;
		default:
			usage(stderr, argv[0]);
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr, argv[0]);
		free(fw.opt_user);
		return 1;
	}
	ls.quiet = fw.opt_quiet;
	ls.verbose = fw.opt_verbose;
	log_configure(&ls);
	fw.config_path = strdup(argv[optind]);
	cfg = config_load(fw.config_path, startup_report, &rc);
	if (cfg == NULL) {
		log_msg(LOG_LVL_FATAL, "cannot load config file %s", fw.config_path);
		free(fw.config_path);
		free(fw.opt_user);
		return 1;
	}
	ls.logfile = cfg->logfile;
	ls.use_syslog = cfg->syslog;
	ls.syslog_ident = cfg->syslog_ident;
	ls.syslog_facility = cfg->syslog_facility;
	ls.verbose = cfg->verbose > fw.opt_verbose ? cfg->verbose : fw.opt_verbose;
	if (!log_configure(&ls)) {
		config_free(cfg);
		free(fw.config_path);
		free(fw.opt_user);
		return 1;
	}
	if (fw.opt_daemon) {
		if (cfg->logfile == NULL && !cfg->syslog) {
			log_msg(LOG_LVL_FATAL, "in daemon mode, logfile or syslog must be set");
			config_free(cfg);
			free(fw.config_path);
			free(fw.opt_user);
			return 1;
		}
		ls.quiet = true;
		log_configure(&ls);
		if (!daemonize()) {
			log_msg(LOG_LVL_FATAL, "cannot daemonize");
			return 1;
		}
	}
	if (!daemon_init(&fw, cfg)) {
		daemon_free(&fw);
		log_close();
		return 1;
	}
	if (!switch_user(fw.opt_user ? fw.opt_user : fw.cfg->user) ||
	    !write_pidfile(fw.cfg->pidfile)) {
		daemon_free(&fw);
		log_close();
		return 1;
	}
	pidfile = fw.cfg->pidfile ? strdup(fw.cfg->pidfile) : NULL;
	log_info("process up: %s, libevent %s", FAIRWAY_VERSION_STR, event_get_version());
	code = daemon_run(&fw);
	log_info("shutting down");
	daemon_free(&fw);
	if (pidfile != NULL) {
		unlink(pidfile);
		free(pidfile);
	}
	log_close();
	return code;
}
