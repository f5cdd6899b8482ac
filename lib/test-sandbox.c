/*
 * Each check runs in a forked child, since a sandbox cannot be left: the
 * child writes "ok:<what>" or "no:<what>" lines to its stderr, where a
 * denied call also writes its line, and the parent asserts on those lines
 * and on the exit status.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "sandbox.h"
#include "../t/tap.h"

struct child {
	int	status;		/* exit status, or 128 + signal */
	char	out[8192];	/* its stderr */
};

struct mail_arg {
	const char	*rw;		/* the Maildir */
	const char	*outside;	/* a readable file elsewhere */
	const char	*user;
	int		 port;		/* a TCP listener on 127.0.0.1 */
};

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* In the child: one line to the parent, in one write(2). */
static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

static void
check(int cond, const char *what)
{
	if (cond)
		say("ok:%s", what);
	else
		say("no:%s (%s)", what, strerror(errno));
}

static void
run(void (*fn)(const void *), const void *arg, struct child *c)
{
	char scratch[512];
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int p[2], st;

	fflush(stdout);
	if (pipe(p) == -1 || (pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		fn(arg);
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		if (len < sizeof(c->out) - 1)
			n = read(p[0], c->out + len, sizeof(c->out) - 1 - len);
		else
			n = read(p[0], scratch, sizeof(scratch));
		if (n <= 0)
			break;
		if (len < sizeof(c->out) - 1)
			len += (size_t)n;
	}
	c->out[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The child said "ok:what"; else show what it said instead. */
static int
saw(const struct child *c, const char *what)
{
	char want[256];

	snprintf(want, sizeof(want), "ok:%s\n", what);
	if (strstr(c->out, want) != NULL)
		return 1;
	diag("child (status %d) said:\n%s", c->status, c->out);
	return 0;
}

static int
denied(const struct child *c, long nr)
{
	char want[128];

	snprintf(want, sizeof(want),
	    "sandbox: system call %ld denied by the seccomp filter\n", nr);
	if (c->status == SANDBOX_EXIT_DENIED && strstr(c->out, want) != NULL)
		return 1;
	diag("child (status %d) said:\n%s", c->status, c->out);
	return 0;
}

static const char *
test_user(void)
{
	return getpwnam("maild") != NULL ? "maild" : "nobody";
}

/* (a) as root: chroot into an empty directory, another uid */
static void
child_enter(const void *arg)
{
	const char *err;
	char cwd[64];

	if (sandbox_enter(arg, test_user(), &err) == -1) {
		say("no:enter %s", err);
		return;
	}
	say("ok:enter");
	check(open("/etc/hostname", O_RDONLY) == -1 && errno == ENOENT,
	    "chrooted");
	check(getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, "/") == 0,
	    "cwd /");
	check(getuid() != 0 && geteuid() != 0 && getgid() != 0 &&
	    getegid() != 0, "uid");
	check(setuid(0) == -1 && setgid(0) == -1, "no way back");
	if (sandbox_seccomp(SANDBOX_NET_SESSION, &err) == -1)
		say("no:seccomp %s", err);
	else
		say("ok:seccomp");
}

static void
child_enter_root(const void *arg)
{
	const char *err;

	check(sandbox_enter(arg, "root", &err) == -1 && getuid() == 0,
	    "refuses root");
}

static void
child_enter_user(const void *arg)
{
	const char *err;
	char before[4096], after[4096];

	(void)arg;
	if (geteuid() == 0 && sandbox_enter(NULL, test_user(), &err) == -1) {
		say("no:drop %s", err);
		return;
	}
	check(getcwd(before, sizeof(before)) != NULL &&
	    sandbox_enter("/nonexistent", "nobody", &err) == 0 &&
	    getcwd(after, sizeof(after)) != NULL &&
	    strcmp(before, after) == 0, "not root: nothing");
}

static int
int_cmp(const void *a, const void *b)
{
	return *(const int *)a < *(const int *)b ? -1 :
	    *(const int *)a > *(const int *)b;
}

/* (b) what a network session does still works */
static void
child_net(const void *arg)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 0, stamp[64], rnd[16];
	struct sigaction sa;
	struct timespec ts;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	struct tm tm;
	const char *err;
	time_t now;
	int pp[2], q[2], sp[2], sp2[2], fd, *v, i;
	char *big;

	(void)arg;
	tzset();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	if (pipe(pp) == -1 || pipe(q) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1) {
		say("no:setup %s", strerror(errno));
		return;
	}
	if (sandbox_seccomp(SANDBOX_NET_SESSION, &err) == -1) {
		say("no:seccomp %s", err);
		return;
	}
	say("ok:seccomp");
	check(write(pp[1], "x", 1) == 1 && read(pp[0], &c, 1) == 1 &&
	    c == 'x', "pipe");
	big = malloc(10 << 20);
	check(big != NULL, "malloc 10 MB");
	if (big != NULL)
		memset(big, 'x', 10 << 20);
	free(big);

	/* q[1] travels over sp, arrives as fd, and still writes into q */
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &q[1], sizeof(int));
	fd = -1;
	if (sendmsg(sp[0], &msg, 0) == 1) {
		msg.msg_controllen = sizeof(cbuf);
		if (recvmsg(sp[1], &msg, MSG_CMSG_CLOEXEC) == 1 &&
		    (cm = CMSG_FIRSTHDR(&msg)) != NULL &&
		    cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	}
	c = 0;
	check(fd >= 0 && fd != q[1] && write(fd, "y", 1) == 1 &&
	    read(q[0], &c, 1) == 1 && c == 'y', "SCM_RIGHTS");
	check(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp2) == 0,
	    "socketpair");
	check((fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0 && close(fd) == 0,
	    "UDP socket");

	check(getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd), "getrandom");
	check(clock_gettime(CLOCK_REALTIME, &ts) == 0 &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime");
	now = time(NULL);
	check(localtime_r(&now, &tm) != NULL &&
	    strftime(stamp, sizeof(stamp), "%a, %d %b %Y %H:%M:%S %z",
	    &tm) > 0, "localtime_r");
	check(raise(SIGUSR1) == 0 && got_usr1, "raise");
	/* glibc's qsort() asks the kernel for the memory size */
	if ((v = malloc(100000 * sizeof(*v))) != NULL) {
		for (i = 0; i < 100000; i++)
			v[i] = 100000 - i;
		qsort(v, 100000, sizeof(*v), int_cmp);
	}
	check(v != NULL && v[0] == 1, "qsort");
	free(v);
}

/* (b) and what it must not do kills it */
static void
child_net_denied(const void *arg)
{
	const char *what = arg, *err;
	char *argv[] = { "true", NULL };

	if (sandbox_seccomp(strncmp(what, "mail-", 5) == 0 ?
	    SANDBOX_MAIL_SESSION : SANDBOX_NET_SESSION, &err) == -1) {
		say("no:seccomp %s", err);
		return;
	}
	if (strcmp(what, "open") == 0)
		open("/etc/hostname", O_RDONLY);
	else if (strcmp(what, "execve") == 0 ||
	    strcmp(what, "mail-execve") == 0)
		execve("/bin/true", argv, NULL);
	else if (strcmp(what, "fork") == 0)
		fork();
	else if (strcmp(what, "unix") == 0)
		socket(AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(what, "exec-memory") == 0)
		mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else if (strcmp(what, "kill") == 0)
		kill(getppid(), 0);
	say("no:still alive after %s", what);
}

static int
sql(sqlite3 *db, const char *q)
{
	return sqlite3_exec(db, q, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
sqlite_wal(const char *dir)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	char path[512];
	int r = -1;

	snprintf(path, sizeof(path), "%s/index.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE t (uid INTEGER PRIMARY KEY, name TEXT);"
	    "BEGIN; INSERT INTO t (name) VALUES ('a'), ('b'); COMMIT;") ==
	    -1 ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_int(st, 0) != 2) {
		say("no:sqlite %s", db != NULL ? sqlite3_errmsg(db) : "");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static int
maildir_ops(const char *dir)
{
	char tmp[512], new[512], link2[512], buf[16];
	struct dirent *de;
	DIR *d;
	int fd, n = 0;

	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	snprintf(new, sizeof(new), "%s/new", dir);
	if (mkdir(tmp, 0700) == -1 || mkdir(new, 0700) == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/tmp/1.M1P1.host", dir);
	snprintf(new, sizeof(new), "%s/new/1.M1P1.host", dir);
	snprintf(link2, sizeof(link2), "%s/new/2.M1P1.host", dir);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, "hello\n", 6) != 6 || fsync(fd) == -1 ||
	    ftruncate(fd, 6) == -1 || close(fd) == -1)
		return -1;
	if (rename(tmp, new) == -1 || link(new, link2) == -1 ||
	    unlink(link2) == -1)
		return -1;
	if ((fd = open(new, O_RDONLY)) == -1 ||
	    read(fd, buf, sizeof(buf)) != 6 || memcmp(buf, "hello\n", 6) ||
	    close(fd) == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/new", dir);
	if ((d = opendir(tmp)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	if (n != 1 || unlink(new) == -1 || rmdir(tmp) == -1)
		return -1;
	return 0;
}

/* (c) a mail session: its Maildir and /usr, nothing else */
static void
child_mail(const void *varg)
{
	const struct mail_arg *a = varg;
	const char *ro[] = { "/usr", NULL }, *err;
	struct sockaddr_in sin;
	char buf[4];
	int fd, r, in;

	if (geteuid() == 0 && sandbox_enter(NULL, a->user, &err) == -1) {
		say("no:drop %s", err);
		return;
	}
	/* So that a failure later is Landlock's, not the permissions'. */
	if ((fd = open(a->outside, O_RDONLY)) == -1) {
		say("no:outside readable before (%s)", strerror(errno));
		return;
	}
	close(fd);
	if ((r = sandbox_landlock(a->rw, ro, &err)) == 1) {
		say("skip:%s", err);
		return;
	}
	if (r == -1) {
		say("no:landlock %s", err);
		return;
	}
	if (sandbox_seccomp(SANDBOX_MAIL_SESSION, &err) == -1) {
		say("no:seccomp %s", err);
		return;
	}
	say("ok:sandboxed");
	check(maildir_ops(a->rw) == 0, "maildir");
	check(sqlite_wal(a->rw) == 0, "sqlite");
	check((in = inotify_init1(IN_CLOEXEC)) >= 0 &&
	    inotify_add_watch(in, a->rw, IN_CREATE | IN_MOVED_TO) >= 0,
	    "inotify");
	check(open(a->outside, O_RDONLY) == -1 && errno == EACCES,
	    "outside denied");
	check(open("/etc/hostname", O_RDONLY) == -1 && errno == EACCES,
	    "/etc denied");
	check((fd = open("/usr/bin/env", O_RDONLY)) >= 0 &&
	    read(fd, buf, 4) == 4 && memcmp(buf, "\177ELF", 4) == 0,
	    "/usr readable");
	check(open("/usr/bin/sandbox-test", O_WRONLY | O_CREAT, 0600) == -1,
	    "/usr not writable");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(a->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1 && errno == EACCES)
		say("ok:tcp denied");
	else
		say("tcp:%s", fd >= 0 ? "connected" : strerror(errno));
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static const struct {
	const char	*what;
	long		 nr, nr2;	/* either call may be reported */
	const char	*name;
} denials[] = {
	{ "open",	SYS_openat, SYS_openat,	"open(\"/etc/hostname\")" },
	{ "execve",	SYS_execve, SYS_execve,	"execve" },
	{ "fork",	SYS_clone, SYS_clone3,	"fork" },
	{ "unix",	SYS_socket, SYS_socket,	"an AF_UNIX socket" },
	{ "exec-memory", SYS_mmap, SYS_mmap,	"executable memory" },
	{ "kill",	SYS_kill, SYS_kill,	"a signal to the parent" },
	{ "mail-execve", SYS_execve, SYS_execve, "mail session: execve" },
};

int
main(void)
{
	struct mail_arg ma;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct child c;
	char empty[] = "/tmp/test-sandbox.XXXXXX";
	char rw[] = "/tmp/test-sandbox.XXXXXX";
	char out[] = "/tmp/test-sandbox.XXXXXX";
	char secret[64];
	struct passwd *pw;
	size_t i;
	int fd, lfd, abi;

	/* The new root must be searchable by the user it will run as. */
	if (mkdtemp(empty) == NULL || mkdtemp(rw) == NULL ||
	    mkdtemp(out) == NULL || chmod(empty, 0755) == -1) {
		perror("mkdtemp");
		return 1;
	}

	/* (a) */
	if (geteuid() == 0) {
		run(child_enter, empty, &c);
		ok(saw(&c, "enter"), "sandbox_enter as root");
		ok(saw(&c, "chrooted"), "chrooted: /etc/hostname is gone");
		ok(saw(&c, "cwd /"), "cwd is the new root");
		ok(saw(&c, "uid"), "uid and gid are not root");
		ok(saw(&c, "no way back"), "setuid(0) fails");
		ok(c.status == 0 && saw(&c, "seccomp"),
		    "then the filter, inside the chroot");
		run(child_enter_root, empty, &c);
		ok(saw(&c, "refuses root"), "refuses to run as root");
	} else
		ok(1, "sandbox_enter as root # SKIP not root");
	run(child_enter_user, NULL, &c);
	ok(saw(&c, "not root: nothing"), "not root: sandbox_enter does "
	    "nothing");

	/* (b) */
	run(child_net, NULL, &c);
	ok(c.status == 0 && saw(&c, "seccomp"), "net session: filter loaded");
	ok(saw(&c, "pipe"), "net session: pipe I/O");
	ok(saw(&c, "malloc 10 MB"), "net session: malloc and free 10 MB");
	ok(saw(&c, "SCM_RIGHTS"), "net session: passing a descriptor");
	ok(saw(&c, "socketpair"), "net session: socketpair");
	ok(saw(&c, "UDP socket"), "net session: UDP socket for DNS");
	ok(saw(&c, "getrandom"), "net session: getrandom");
	ok(saw(&c, "clock_gettime"), "net session: clock_gettime");
	ok(saw(&c, "localtime_r"), "net session: localtime_r after tzset");
	ok(saw(&c, "raise"), "net session: raise");
	ok(saw(&c, "qsort"), "net session: qsort");
	for (i = 0; i < sizeof(denials) / sizeof(denials[0]); i++) {
		run(child_net_denied, denials[i].what, &c);
		ok(denied(&c, denials[i].nr) || (denials[i].nr2 !=
		    denials[i].nr && denied(&c, denials[i].nr2)),
		    "%s: exit %d, denial logged", denials[i].name,
		    SANDBOX_EXIT_DENIED);
	}

	/* (c) */
	memset(&ma, 0, sizeof(ma));
	ma.rw = rw;
	ma.user = test_user();
	snprintf(secret, sizeof(secret), "%s/secret", out);
	ma.outside = secret;
	if ((fd = open(secret, O_WRONLY | O_CREAT, 0644)) == -1 ||
	    write(fd, "secret\n", 7) != 7 || close(fd) == -1 ||
	    chmod(out, 0755) == -1) {
		perror(secret);
		return 1;
	}
	if (geteuid() == 0 && ((pw = getpwnam(ma.user)) == NULL ||
	    chown(rw, pw->pw_uid, pw->pw_gid) == -1)) {
		perror(rw);
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 8) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1) {
		perror("listen");
		return 1;
	}
	ma.port = ntohs(sin.sin_port);
	abi = sandbox_landlock_abi();
	diag("Landlock ABI %d", abi);
	run(child_mail, &ma, &c);
	if (strncmp(c.out, "skip:", 5) == 0)
		ok(1, "mail session # SKIP %.*s", (int)strcspn(c.out + 5,
		    "\n"), c.out + 5);
	else {
		ok(c.status == 0 && saw(&c, "sandboxed"),
		    "mail session: Landlock and filter loaded");
		ok(saw(&c, "maildir"), "mail session: create, write, rename "
		    "tmp -> new, link, read, list, unlink");
		ok(saw(&c, "sqlite"), "mail session: SQLite WAL database");
		ok(saw(&c, "inotify"), "mail session: inotify");
		ok(saw(&c, "outside denied"),
		    "mail session: a file elsewhere: EACCES, not a trap");
		ok(saw(&c, "/etc denied"), "mail session: /etc: EACCES");
		ok(saw(&c, "/usr readable"), "mail session: /usr readable");
		ok(saw(&c, "/usr not writable"), "mail session: /usr not "
		    "writable");
		if (abi >= 4)
			ok(saw(&c, "tcp denied"),
			    "mail session: TCP connect denied");
		else
			ok(1, "mail session: TCP connect denied # SKIP "
			    "Landlock ABI %d < 4", abi);
	}
	close(lfd);
	rm_tree(empty);
	rm_tree(rw);
	rm_tree(out);
	return done_testing();
}
