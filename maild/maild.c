/*
 * maild: the supervisor, and the master of the session processes.
 *
 * SECURITY: maild is the only process that keeps root (when started as
 * root): it binds every listening socket (and binds them again on
 * reload), prepares the data directory, and forks every other process:
 * the auth service (authd) and the queue runner (queued), long-lived,
 * and the pools of session processes (pools.c), which start as root,
 * load their keys, connect to the auth service, then confine themselves
 * before they read a byte from a client.  maild never reads the network.
 * From its own processes it takes the status messages of global/pool.h,
 * each decoded by lib/ipc and checked against what that process may say:
 * a session process can ask for a spool file, and for the one it holds
 * to go into the queue, and nothing more of the spool.
 *
 * It restarts a program that dies (with a growing delay), keeps the
 * pools at their size, reloads the configuration on SIGHUP (processes of
 * the old one finish their sessions and go), and stops everything on
 * SIGTERM or SIGINT, the auth service last.
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
#include "maild.h"

#define STOP_GRACE	15	/* seconds before SIGKILL on stop */
#define RESTART_MAX	60	/* longest delay between restarts */

/* A long-lived program maild runs (the session processes: pools.c). */
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
	{ "authd", 1 }, { "queued" },
};
#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

struct prog_args	 args;
char			 conf_path[PATH_MAX];
struct conf		*conf;
struct lsock		 socks[MAX_SOCKETS];
size_t			 nsocks;

int
program_built(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", util_exe_dir(), name);
	return access(path, X_OK) == 0;
}

void
program_argv(const char *name, char **argv, size_t max, char *path,
    size_t pathsize)
{
	static char self[32];
	size_t i, n = 0;

	snprintf(path, pathsize, "%s/%s", util_exe_dir(), name);
	/* Who the child's supervisor is, should we die before it asks. */
	snprintf(self, sizeof(self), "%ld", (long)getpid());
	if (max < 6 + 2 * args.noverrides)
		fatalx("program_argv: no room");
	argv[n++] = path;
	argv[n++] = "-c";
	argv[n++] = conf_path;
	for (i = 0; i < args.noverrides; i++) {
		argv[n++] = "-o";
		argv[n++] = args.overrides[i];
	}
	argv[n++] = "-p";
	argv[n++] = self;
	argv[n] = NULL;
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

		p = service_listen(c, &service_table[k]);
		if (*p == '\0')
			continue;
		if (!program_built(service_table[k].program)) {
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
			/* Shut for the session processes that still hold it
			 * too: nobody accepts on it any more. */
			shutdown(socks[i].fd, SHUT_RDWR);
			close(socks[i].fd);
		}
	memcpy(socks, next, nnext * sizeof(next[0]));
	nsocks = nnext;
	return r;
}

static void
program_start(struct program *p)
{
	char path[PATH_MAX], *argv[8 + 2 * PROG_MAX_OVERRIDES];
	pid_t pid;

	program_argv(p->name, argv, sizeof(argv) / sizeof(argv[0]), path,
	    sizeof(path));
	if (strcmp(p->name, "authd") == 0 && prog_prepare_userdb(conf) == -1) {
		p->restart_at = time(NULL) + 1;
		return;
	}
	if ((pid = fork()) == -1) {
		log_err("fork: %s", strerror(errno));
		p->restart_at = time(NULL) + 1;
		return;
	}
	if (pid == 0) {
		daemon_signals_reset();
		close_range(3, ~0U, 0);
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
reap(int stopping)
{
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pools_reaped(pid, status))
			continue;
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
	 * The session processes of the old configuration finish their
	 * sessions while new ones take over (pools_sync).  The long-lived
	 * programs are replaced once they have exited: two queue runners on
	 * one spool would deliver the same message twice.
	 */
	for (i = 0; i < NPROGRAMS; i++) {
		struct program *p = &programs[i];

		p->failures = 0;
		p->restart_at = time(NULL);
		if (p->pid == 0)
			continue;
		kill(p->pid, SIGTERM);
		p->replacing = 1;
	}
	if (sockets_sync(conf) == -1)
		log_err("some sockets could not be bound; see above");
	pools_sync();
}

/*
 * Stop the programs of one phase (and, in the first, the pools' session
 * processes): SIGTERM, then SIGKILL after STOP_GRACE.
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
		if (!last)
			alive += sig != 0 ? pools_signal(sig) :
			    (int)pools_count();
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
	struct pollfd *pfd;
	time_t now, next;
	size_t i, n, max = 16384;
	long wait;
	int pwait;

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
	pools_sync();
	pfd = util_calloc(max, sizeof(*pfd));

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
		if ((pwait = pools_tend()) >= 0 && (wait < 0 || pwait < wait))
			wait = pwait;
		n = 0;
		pools_poll_fds(pfd, &n, max);
		if (daemon_poll(pfd, n, (int)wait) > 0)	/* a signal wakes us */
			for (i = 0; i < n; i++)
				if (pfd[i].revents != 0)
					pools_channel(pfd[i].fd);
		pools_round_end();
	}
	stop_all();
	for (i = 0; i < nsocks; i++)
		close(socks[i].fd);
	free(pfd);
	conf_free(&conf);
	return 0;
}
