#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../lib/log.h"
#include "../lib/privsep.h"
#include "../lib/util.h"
#include "layout.h"
#include "prog.h"
#include "userdb.h"

pid_t prog_parent;

static void
usage(const char *progname)
{
	fprintf(stderr, "usage: %s -c FILE [-o section.key=value]... "
	    "[-L service:fd]... [-p pid] [-S fd] [-M protocol]\n", progname);
	exit(2);
}

struct conf *
prog_init(int argc, char **argv, const char *progname,
    struct prog_args *args, int *optind_r)
{
	char err[1024];
	enum log_level level;
	struct conf *conf;
	int i, has_parent = 0;

	/*
	 * First, before any slow start-up; -p below says who the supervisor
	 * really is: should it die between its fork and this line, our
	 * parent is already init, and only the pid it passed tells us.
	 */
	prog_parent = getppid();
	/* users.db holds password hashes, the spool holds mail: nothing we
	 * create is for other users to read. */
	umask(077);
	/* Read the time zone once, not in every forked session. */
	tzset();
	memset(args, 0, sizeof(*args));
	args->status_fd = -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0' || a[2] != '\0')
			break;
		if (strchr("coLpSM", a[1]) == NULL)
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
			prog_parent = (pid_t)pid;
			has_parent = 1;
		}
		else if (a[1] == 'S') {
			char *end;
			long fd = strtol(argv[++i], &end, 10);

			if (*end != '\0' || fd < 3 || fd > 1024)
				usage(progname);
			args->status_fd = (int)fd;
		} else if (a[1] == 'M') {
			if (util_strcpy(args->mail_role, argv[++i],
			    sizeof(args->mail_role)) == -1)
				usage(progname);
		} else if (a[1] == 'o') {
			if (args->noverrides == PROG_MAX_OVERRIDES)
				usage(progname);
			args->overrides[args->noverrides++] = argv[++i];
		} else {
			struct prog_fd *f;
			char *colon, *end;
			long fd;

			if (args->nfds == PROG_MAX_FDS)
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
	/* Started by maild: die with it from the start, not only once set
	 * up (a slow start-up holding maild's sockets would keep the next
	 * maild from binding them).  A change of uid clears this: the
	 * confinement asks again. */
	if (has_parent)
		privsep_die_with_parent(prog_parent);
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

/* Who owns what under the data directory (when started as root). */
enum owner { OWN_ROOT, OWN_MAIL, OWN_AUTH };	/* users.db: prog_prepare_userdb */

/* Make path (a directory or a file that exists) owner's, with mode; a
 * looser mode found is logged as it is tightened.  0, or -1 (logged). */
static int
prog_own(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (stat(path, &st) == -1 ||
	    (geteuid() == 0 && (st.st_uid != uid || st.st_gid != gid) &&
	    chown(path, uid, gid) == -1) ||
	    ((st.st_mode & 07777) != mode && chmod(path, mode) == -1)) {
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 07777 & ~mode) != 0)
		log_warn("%s was mode %04o: now %04o (each service's user "
		    "reaches only its own part: users.db, the spool, the "
		    "Maildirs)", path, (unsigned int)(st.st_mode & 07777),
		    (unsigned int)mode);
	return 0;
}

/*
 * Can user reach path?  A data directory below a private one (/root is
 * 0700 on Debian) cannot be used by the services' users: say so at once
 * rather than let each service fail on its own.
 */
static void
prog_check_reach(const char *path, const char *user)
{
	const char *err;
	pid_t pid;
	int status;

	if (geteuid() != 0)
		return;
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		if (privsep_drop(user, &err) == -1)
			_exit(2);
		_exit(access(path, X_OK) == 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fatalx("%s cannot be reached by user %s: a directory above it "
		    "is private (as /root is); put server.data_dir elsewhere",
		    path, user);
}

void
prog_prepare_data_dir(const struct conf *c)
{
	static const struct {
		const char	*name;
		enum owner	 owner;
		mode_t		 mode;
	} dirs[] = {
		/* Traversed by every service's user, listed by none. */
		{ "", OWN_ROOT, 0711 },
		{ LAYOUT_QUEUE, OWN_MAIL, 0700 },
		{ LAYOUT_QUEUE_MSG, OWN_MAIL, 0700 },
		{ LAYOUT_QUEUE_TMP, OWN_MAIL, 0700 },
		{ LAYOUT_QUEUE_FREE, OWN_MAIL, 0700 },
		{ LAYOUT_MAIL, OWN_MAIL, 0700 },
		{ LAYOUT_AUTH_DIR, OWN_AUTH, 0700 },
		/* Where pre-login processes are chrooted: nothing in it. */
		{ LAYOUT_EMPTY, OWN_ROOT, 0555 },
	};
	char path[PATH_MAX];
	const char *err;
	uid_t uid[3] = { 0, 0, 0 };
	gid_t gid[3] = { 0, 0, 0 };
	size_t i;

	if (geteuid() == 0 && privsep_lookup(c->server.user, &uid[OWN_MAIL],
	    &gid[OWN_MAIL], &err) == -1)
		fatalx("%s", err);
	if (geteuid() == 0 && privsep_lookup(c->server.auth_user,
	    &uid[OWN_AUTH], &gid[OWN_AUTH], &err) == -1)
		fatalx("%s", err);
	if (geteuid() != 0)	/* every service runs as us */
		for (i = 0; i < 3; i++) {
			uid[i] = geteuid();
			gid[i] = getegid();
		}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((dirs[i].name[0] == '\0' ? util_strcpy(path,
		    c->server.data_dir, sizeof(path)) : layout_path(path,
		    sizeof(path), c->server.data_dir, dirs[i].name)) == -1)
			fatalx("data_dir too long");
		if (util_mkdir_p(path, dirs[i].mode) == -1)
			fatal("mkdir %s", path);
		if (prog_own(path, uid[dirs[i].owner], gid[dirs[i].owner],
		    dirs[i].mode) == -1)
			fatalx("cannot prepare the data directory");
	}
	prog_check_reach(c->server.data_dir, c->server.user);
	prog_check_reach(c->server.data_dir, c->server.auth_user);
	if (prog_prepare_userdb(c) == -1)
		fatalx("cannot prepare users.db");
}

int
prog_prepare_userdb(const struct conf *c)
{
	static const char *const db_files[] = { "", "-wal", "-shm" };
	char path[PATH_MAX], file[PATH_MAX + 8];
	const char *err;
	struct userdb *db;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	size_t i;

	if (geteuid() == 0 && privsep_lookup(c->server.auth_user, &uid, &gid,
	    &err) == -1) {
		log_err("%s", err);
		return -1;
	}
	/*
	 * Made here (the data directory is root's) and kept (db_open keeps
	 * the WAL files), so the auth service never has to create a file.
	 * Made again before each start of the auth service: a program that
	 * opened users.db without keeping them (the sqlite3 shell) removes
	 * them as it closes.
	 */
	if ((db = userdb_open(c->server.data_dir, 1, &err)) == NULL) {
		log_err("users.db: %s", err);
		return -1;
	}
	userdb_close(&db);
	if (layout_path(path, sizeof(path), c->server.data_dir,
	    LAYOUT_USERS_DB) == -1)
		return -1;
	for (i = 0; i < sizeof(db_files) / sizeof(db_files[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, db_files[i]);
		if (prog_own(file, uid, gid, 0600) == -1)
			return -1;
	}
	return 0;
}
