/*
 * maild: the supervisor.
 *
 * SECURITY: maild is the only process that keeps root (when started as
 * root), so that it can bind privileged ports again on reload.  It never
 * reads the network.  It binds every listening socket, prepares the data
 * directory for server.user, and starts each service with its sockets as
 * inherited descriptors; each service reads its keys and drops to
 * server.user before it serves anyone.
 *
 * It restarts a service that dies (with a growing delay), reloads the
 * configuration on SIGHUP (services finish their sessions and are
 * replaced), and stops everything on SIGTERM or SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../global/conf.h"
#include "../global/layout.h"
#include "../global/prog.h"
#include "../global/service.h"
#include "../global/userdb.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/net.h"
#include "../lib/privsep.h"
#include "../lib/util.h"

#define MAX_SOCKETS	64
#define STOP_GRACE	15	/* seconds before SIGKILL on stop */
#define RESTART_MAX	60	/* longest delay between restarts */

/* A listening socket and the config section it came from. */
struct lsock {
	char	 service[32];
	char	 addr[300];	/* "host:port" as configured */
	int	 fd;
};

/* A program maild runs; the service table says whose sockets it takes. */
struct program {
	const char	*name;
	int		 stop_last;	/* the others ask it until they end */
	pid_t		 pid;
	time_t		 started;
	time_t		 restart_at;	/* 0: not waiting to restart */
	int		 failures;
	int		 built;		/* the binary exists */
	int		 replacing;	/* stopped by a reload: start again
					   when it has exited */
};

static struct program programs[] = {
	{ "authd", 1 }, { "queued" }, { "smtpd" }, { "pop3d" }, { "imapd" },
	{ "webmail" },
};
#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

static struct prog_args args;
static char		 conf_path[PATH_MAX];
static struct conf	*conf;
static struct lsock	 socks[MAX_SOCKETS];
static size_t		 nsocks;
/* Old services finishing their sessions after a reload. */
static pid_t		 draining[64];

static int
program_wants(const struct program *p, const char *service)
{
	return service_of_program(service, p->name);
}

/* Does the program serve the network (else it runs without sockets)? */
static int
program_listens(const struct program *p)
{
	size_t i;

	for (i = 0; i < service_count; i++)
		if (strcmp(service_table[i].program, p->name) == 0)
			return 1;
	return 0;
}

static const struct program *
program_of(const char *service)
{
	size_t i;

	for (i = 0; i < NPROGRAMS; i++)
		if (program_wants(&programs[i], service))
			return &programs[i];
	return NULL;
}

/* Is a socket for service/addr already open?  Returns its index. */
static long
sock_find(const char *service, const char *addr)
{
	size_t i;

	for (i = 0; i < nsocks; i++)
		if (strcmp(socks[i].service, service) == 0 &&
		    strcmp(socks[i].addr, addr) == 0)
			return (long)i;
	return -1;
}

/*
 * Make the open sockets match the configuration: keep those that stay,
 * close those that went, bind the new ones.  Returns -1 if a new one
 * cannot be bound (the old set is then kept as far as it still applies).
 */
static int
sockets_sync(const struct conf *c)
{
	struct lsock next[MAX_SOCKETS];
	size_t nnext = 0, i, k;
	char host[256], port[16], err[512];
	const char *p, *start;
	long found;
	int fd, tries, r = 0;

	for (k = 0; k < service_count; k++) {
		const char *svc = service_table[k].name;
		const struct program *prog = program_of(svc);

		p = service_listen(c, &service_table[k]);
		if (*p == '\0')
			continue;
		if (prog == NULL || !prog->built) {
			log_info("service %s: %s is not built, not started",
			    svc, service_table[k].program);
			continue;
		}
		for (;;) {
			while (*p == ' ' || *p == ',' || *p == '\t')
				p++;
			start = p;
			if (conf_listen_next(&p, host, sizeof(host), port,
			    sizeof(port)) != 0)
				break;
			if (nnext == MAX_SOCKETS) {
				log_err("more than %d listening sockets",
				    MAX_SOCKETS);
				return -1;
			}
			snprintf(next[nnext].service, sizeof(next[0].service),
			    "%s", svc);
			snprintf(next[nnext].addr, sizeof(next[0].addr),
			    "%.*s", (int)(p - start), start);
			if ((found = sock_find(svc, next[nnext].addr)) >= 0) {
				next[nnext].fd = socks[found].fd;
				socks[found].fd = -1;	/* moved */
			} else {
				/* The old owner may not have let go yet. */
				for (tries = 0; tries < 20; tries++) {
					fd = net_listen(host, port, err,
					    sizeof(err));
					if (fd != -1 || errno != EADDRINUSE)
						break;
					poll(NULL, 0, 100);
				}
				if (fd == -1) {
					log_err("service %s: cannot listen on "
					    "%s", svc, err);
					r = -1;
					continue;
				}
				log_info("service %s: listening on %s",
				    svc, next[nnext].addr);
				next[nnext].fd = fd;
			}
			nnext++;
		}
	}
	for (i = 0; i < nsocks; i++)
		if (socks[i].fd != -1) {
			log_info("service %s: closing %s", socks[i].service,
			    socks[i].addr);
			close(socks[i].fd);
		}
	memcpy(socks, next, nnext * sizeof(next[0]));
	nsocks = nnext;
	return r;
}

static void
program_start(struct program *p)
{
	char path[PATH_MAX], *argv[6 + 2 * PROG_MAX_OVERRIDES +
	    2 * MAX_SOCKETS + 1];
	char fdargs[MAX_SOCKETS][64], self[32];
	size_t i, n = 0, nfd = 0;
	int fds[MAX_SOCKETS];
	pid_t pid;

	for (i = 0; i < nsocks; i++)
		if (program_wants(p, socks[i].service)) {
			fds[nfd] = socks[i].fd;
			snprintf(fdargs[nfd], sizeof(fdargs[0]), "%.31s:%zu",
			    socks[i].service, nfd + 3);
			nfd++;
		}
	if (program_listens(p) && nfd == 0) {
		p->restart_at = 0;	/* nothing to listen on: not started */
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", util_exe_dir(), p->name);
	argv[n++] = path;
	argv[n++] = "-c";
	argv[n++] = conf_path;
	for (i = 0; i < args.noverrides; i++) {
		argv[n++] = "-o";
		argv[n++] = args.overrides[i];
	}
	for (i = 0; i < nfd; i++) {
		argv[n++] = "-L";
		argv[n++] = fdargs[i];
	}
	/* Who the child's supervisor is, should we die before it asks. */
	snprintf(self, sizeof(self), "%ld", (long)getpid());
	argv[n++] = "-p";
	argv[n++] = self;
	argv[n] = NULL;

	if ((pid = fork()) == -1) {
		log_err("fork: %s", strerror(errno));
		p->restart_at = time(NULL) + 1;
		return;
	}
	if (pid == 0) {
		int tmp[MAX_SOCKETS];

		daemon_signals_reset();
		/* Move the sockets to 3, 4, ... without clobbering. */
		for (i = 0; i < nfd; i++)
			if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC,
			    3 + MAX_SOCKETS)) == -1)
				_exit(1);
		for (i = 0; i < nfd; i++)
			if (dup2(tmp[i], (int)(3 + i)) == -1)
				_exit(1);
		close_range((unsigned)(3 + nfd), ~0U, 0);
		execv(path, argv);
		fprintf(stderr, "maild: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	p->pid = pid;
	p->started = time(NULL);
	p->restart_at = 0;
	log_info("started %s (pid %ld)", p->name, (long)pid);
}

static void
programs_check_built(void)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < NPROGRAMS; i++) {
		snprintf(path, sizeof(path), "%s/%s", util_exe_dir(),
		    programs[i].name);
		programs[i].built = access(path, X_OK) == 0;
	}
}

static void
draining_add(pid_t pid)
{
	size_t i;

	for (i = 0; i < sizeof(draining) / sizeof(draining[0]); i++)
		if (draining[i] == 0) {
			draining[i] = pid;
			return;
		}
	kill(pid, SIGTERM);	/* no room to track it: stop it now */
}

static void
reap(int stopping)
{
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < sizeof(draining) / sizeof(draining[0]); i++)
			if (draining[i] == pid)
				draining[i] = 0;
		for (i = 0; i < NPROGRAMS; i++) {
			struct program *p = &programs[i];
			time_t now = time(NULL), delay;

			if (p->pid != pid)
				continue;
			p->pid = 0;
			if (stopping)
				break;
			if (p->replacing) {
				p->replacing = 0;
				p->restart_at = now;
				break;
			}
			if (now - p->started > RESTART_MAX)
				p->failures = 0;
			delay = (time_t)1 << (p->failures < 6 ? p->failures : 6);
			if (delay > RESTART_MAX)
				delay = RESTART_MAX;
			p->failures++;
			p->restart_at = now + delay;
			if (WIFSIGNALED(status))
				log_err("%s (pid %ld) killed by signal %d; "
				    "restarting in %lds", p->name, (long)pid,
				    WTERMSIG(status), (long)delay);
			else
				log_err("%s (pid %ld) exited with status %d; "
				    "restarting in %lds", p->name, (long)pid,
				    WEXITSTATUS(status), (long)delay);
		}
	}
}

static void
reload(void)
{
	char err[1024];
	struct conf *nconf;
	size_t i;

	nconf = conf_load(conf_path, args.overrides, args.noverrides, err,
	    sizeof(err));
	if (nconf == NULL) {
		log_err("reload failed, keeping the running configuration: %s",
		    err);
		return;
	}
	log_info("reloading %s", conf_path);
	conf_free(&conf);
	conf = nconf;
	{
		enum log_level level;

		log_level_parse(conf->server.log_level, &level);
		log_set_level(level);
	}
	prog_prepare_data_dir(conf);
	/*
	 * Old listeners stop accepting and finish their sessions while new
	 * ones take over.  The queue runner is different: two on one spool
	 * would deliver the same message twice, so the new one starts only
	 * when the old one has finished its jobs and exited.
	 */
	for (i = 0; i < NPROGRAMS; i++) {
		struct program *p = &programs[i];

		p->failures = 0;
		p->restart_at = time(NULL);
		if (p->pid == 0)
			continue;
		if (!program_listens(p)) {
			kill(p->pid, SIGTERM);
			p->replacing = 1;
			continue;
		}
		kill(p->pid, SIGUSR1);
		draining_add(p->pid);
		p->pid = 0;
	}
	if (sockets_sync(conf) == -1)
		log_err("some sockets could not be bound; see above");
}

/*
 * Stop the programs of one phase (and, in the first, what still drains
 * after a reload): SIGTERM, then SIGKILL after STOP_GRACE.
 */
static void
stop_phase(int last)
{
	time_t deadline = time(NULL) + STOP_GRACE;
	size_t i;
	int alive, sig = SIGTERM;

	for (;;) {
		alive = 0;
		for (i = 0; i < NPROGRAMS; i++)
			if (programs[i].pid > 0 && programs[i].stop_last == last) {
				if (sig != 0)
					kill(programs[i].pid, sig);
				alive++;
			}
		for (i = 0; !last && i < sizeof(draining) /
		    sizeof(draining[0]); i++)
			if (draining[i] > 0) {
				if (sig != 0)
					kill(draining[i], sig);
				alive++;
			}
		if (alive == 0)
			return;
		sig = 0;
		if (time(NULL) >= deadline) {
			log_warn("%d process(es) did not stop in %ds: killing",
			    alive, STOP_GRACE);
			sig = SIGKILL;
			deadline = time(NULL) + 5;
			continue;
		}
		daemon_poll(NULL, 0, 100);
		reap(1);
	}
}

/*
 * The services first; the auth service last, as delivery under way and
 * sessions finishing ask it until the end.
 */
static void
stop_all(void)
{
	log_info("stopping");
	stop_phase(0);
	stop_phase(1);
	log_info("stopped");
}

/*
 * One maild per data directory: a second would start a second queue
 * runner on the same spool.  The lock is not inherited by the services
 * (they have their own where it matters: the queue runner's), so it is
 * free again the moment maild dies, and a new maild can start at once
 * while the old services, told by their death signal, wind down.
 */
static void
lock_data_dir(const struct conf *c)
{
	char path[PATH_MAX];

	if (layout_path(path, sizeof(path), c->server.data_dir,
	    LAYOUT_MAILD_PID) == -1)
		fatalx("data_dir too long");
	(void)daemon_lock(path, "maild", 0, 1);
}

int
main(int argc, char **argv)
{
	time_t now, next;
	size_t i;
	long wait;

	conf = prog_init(argc, argv, "maild", &args, NULL);
	if (args.nfds != 0)
		fatalx("maild binds its own sockets (no -L)");
	if (realpath(args.conf_path, conf_path) == NULL)
		fatal("%s", args.conf_path);
	daemon_signals();
	daemon_signals_block();
	programs_check_built();
	prog_prepare_data_dir(conf);
	lock_data_dir(conf);
	if (sockets_sync(conf) == -1)
		fatalx("cannot bind the listening sockets");
	log_info("starting: data_dir=%s user=%s%s", conf->server.data_dir,
	    conf->server.user, geteuid() == 0 ? "" : " (not root: services "
	    "keep this user)");
	for (i = 0; i < NPROGRAMS; i++)
		if (programs[i].built)
			program_start(&programs[i]);

	while (!daemon_term) {
		if (daemon_chld) {
			daemon_chld = 0;
			reap(0);
		}
		if (daemon_hup) {
			daemon_hup = 0;
			programs_check_built();
			reload();
		}
		now = time(NULL);
		next = 0;
		for (i = 0; i < NPROGRAMS; i++) {
			struct program *p = &programs[i];

			if (p->pid != 0 || p->restart_at == 0 || !p->built)
				continue;
			if (p->restart_at <= now)
				program_start(p);
			else if (next == 0 || p->restart_at < next)
				next = p->restart_at;
		}
		wait = next ? (long)(next - now) * 1000 : -1;
		daemon_poll(NULL, 0, (int)wait);	/* a signal wakes us */
	}
	stop_all();
	for (i = 0; i < nsocks; i++)
		close(socks[i].fd);
	conf_free(&conf);
	return 0;
}
