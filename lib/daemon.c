#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "privsep.h"
#include "userdb.h"
#include "util.h"

volatile sig_atomic_t daemon_term, daemon_hup, daemon_usr1, daemon_chld;
pid_t daemon_parent;

static const int daemon_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };

static void
usage(const char *progname)
{
	fprintf(stderr, "usage: %s -c FILE [-o section.key=value]... "
	    "[-L service:fd]... [-p pid]\n", progname);
	exit(2);
}

struct conf *
daemon_init(int argc, char **argv, const char *progname,
    struct daemon_args *args, int *optind_r)
{
	char err[1024];
	enum log_level level;
	struct conf *conf;
	int i;

	/*
	 * First, before any slow start-up; -p below says who the supervisor
	 * really is: should it die between its fork and this line, our
	 * parent is already init, and only the pid it passed tells us.
	 */
	daemon_parent = getppid();
	/* users.db holds password hashes, the spool holds mail: nothing we
	 * create is for other users to read. */
	umask(077);
	/* Read the time zone once, not in every forked session. */
	tzset();
	memset(args, 0, sizeof(*args));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0' || a[2] != '\0')
			break;
		if (strchr("coLp", a[1]) == NULL)
			break;
		if (i + 1 >= argc)
			usage(progname);
		if (a[1] == 'c')
			args->conf_path = argv[++i];
		else if (a[1] == 'p') {
			char *end;
			long pid = strtol(argv[++i], &end, 10);

			if (*end != '\0' || pid < 2 || pid > INT_MAX)
				usage(progname);
			daemon_parent = (pid_t)pid;
		}
		else if (a[1] == 'o') {
			if (args->noverrides == DAEMON_MAX_OVERRIDES)
				usage(progname);
			args->overrides[args->noverrides++] = argv[++i];
		} else {
			struct daemon_fd *f;
			char *colon, *end;
			long fd;

			if (args->nfds == DAEMON_MAX_FDS)
				usage(progname);
			f = &args->fds[args->nfds];
			colon = strrchr(argv[++i], ':');
			if (colon == NULL || (size_t)(colon - argv[i]) >=
			    sizeof(f->service))
				usage(progname);
			fd = strtol(colon + 1, &end, 10);
			if (*end != '\0' || fd < 3 || fd > 1024)
				usage(progname);
			memcpy(f->service, argv[i], colon - argv[i]);
			f->service[colon - argv[i]] = '\0';
			f->fd = (int)fd;
			args->nfds++;
		}
	}
	if (optind_r != NULL)
		*optind_r = i;
	else if (i != argc)
		usage(progname);
	if (args->conf_path == NULL)
		usage(progname);
	log_init(progname, LOG_LVL_INFO, 0);
	conf = conf_load(args->conf_path, args->overrides, args->noverrides,
	    err, sizeof(err));
	if (conf == NULL)
		fatalx("%s", err);
	log_level_parse(conf->server.log_level, &level);
	log_init(progname, level, conf->server.log_syslog);
	return conf;
}

static void
daemon_on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		daemon_term = 1;
		break;
	case SIGHUP:
		daemon_hup = 1;
		break;
	case SIGUSR1:
		daemon_usr1 = 1;
		break;
	case SIGCHLD:
		daemon_chld = 1;
		break;
	}
}

void
daemon_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: we want EINTR */
	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		sigaction(daemon_sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
daemon_signals_reset(void)
{
	size_t i;
	sigset_t none;

	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		signal(daemon_sigs[i], SIG_DFL);
	daemon_term = daemon_hup = daemon_usr1 = daemon_chld = 0;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
daemon_signals_block(void)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		sigaddset(&set, daemon_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int
daemon_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	sigset_t none;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	sigemptyset(&none);
	return ppoll(fds, nfds, tsp, &none);
}

int
daemon_poll_unless(volatile sig_atomic_t *stop, struct pollfd *fds,
    nfds_t nfds, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	sigset_t set, old;
	size_t i;
	int r, saved;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	sigemptyset(&set);
	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		sigaddset(&set, daemon_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (*stop) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = EINTR;
		return -1;
	}
	r = ppoll(fds, nfds, tsp, &old);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return r;
}

void
daemon_prepare_data_dir(const struct conf *c)
{
	static const char *subdirs[] = { "", "/queue", "/queue/msg",
	    "/queue/tmp", "/mail" };
	char path[PATH_MAX];
	struct stat st;
	const char *err;
	uid_t uid = 0;
	gid_t gid = 0;
	size_t i;
	pid_t pid;
	int status;

	if (geteuid() == 0 &&
	    privsep_lookup(c->server.user, &uid, &gid, &err) == -1)
		fatalx("server.user: %s", err);
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", c->server.data_dir,
		    subdirs[i]);
		if (util_mkdir_p(path, 0700) == -1)
			fatal("mkdir %s", path);
		if (geteuid() == 0 && chown(path, uid, gid) == -1)
			fatal("chown %s", path);
		/* One that existed keeps its mode: make it ours alone. */
		if (stat(path, &st) == -1)
			fatal("stat %s", path);
		if ((st.st_mode & 077) != 0) {
			if (chmod(path, 0700) == -1)
				fatal("chmod %s", path);
			log_warn("%s was mode %04o: now 0700 (users.db, the "
			    "spool and the Maildirs are for the mail system "
			    "alone)", path, (unsigned int)(st.st_mode & 07777));
		}
	}
	/* users.db is created by the user who will use it. */
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		struct userdb *db;

		if (privsep_drop(c->server.user, &err) == -1)
			fatalx("cannot drop privileges: %s", err);
		if ((db = userdb_open(c->server.data_dir, 1, &err)) == NULL)
			fatalx("users.db: %s", err);
		userdb_close(&db);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fatalx("cannot prepare %s", c->server.data_dir);
}

int
daemon_lock(const char *path, const char *what, unsigned int wait_s,
    int cloexec)
{
	char pid[32], holder[32] = "?";
	ssize_t n;
	unsigned int waited_ms = 0;
	int fd, len;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW |
	    (cloexec ? O_CLOEXEC : 0), 0600);
	if (fd == -1)
		fatal("%s", path);
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			fatal("flock %s", path);
		if (waited_ms == 0) {
			if ((n = pread(fd, holder, sizeof(holder) - 1, 0)) > 0)
				holder[strcspn(holder, "\n")] = '\0';
			if (wait_s > 0)
				log_warn("waiting up to %us for the %s that "
				    "holds %s (pid %s) to exit", wait_s, what,
				    path, holder);
		}
		if (waited_ms >= wait_s * 1000)
			fatalx("another %s (pid %s) is running on this data "
			    "directory (%s is locked)", what, holder, path);
		daemon_poll(NULL, 0, 100);	/* lets SIGTERM in */
		if (daemon_term) {
			log_info("stopping before the %s lock was free", what);
			exit(0);
		}
		waited_ms += 100;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_warn("%s: cannot record our pid: %s", path,
		    strerror(errno));
	return fd;
}
