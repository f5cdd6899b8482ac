#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>

#include <seccomp.h>

#include "privsep.h"
#include "sandbox.h"

/*
 * The sanitizers (make check).  Their reports read /proc/self/environ,
 * /proc/self/exe and /proc/self/maps, and open the binary to symbolize
 * it.  Under the filter, the calls of the runtime's own code, and any call
 * once ASan has begun a report, fail with EPERM instead of ending the
 * process, so the report still comes out (frames as module+offset, for
 * addr2line).  Only runtimes linked as shared objects (gcc's way) are
 * recognised by address.
 */
#if defined(__x86_64__)
#define SANDBOX_SYSCALL_RET(uc)	((uc)->uc_mcontext.gregs[REG_RAX])
#elif defined(__aarch64__)
#define SANDBOX_SYSCALL_RET(uc)	((uc)->uc_mcontext.regs[0])
#endif

static const char *const sandbox_san_libs[] = {
	"libasan.so", "libubsan.so", "liblsan.so", "libtsan.so"
};
static struct {
	uintptr_t	start, end;
} sandbox_san_text[8];		/* their executable segments */
static size_t sandbox_san_n;
static volatile sig_atomic_t sandbox_san_reporting;

/* __sanitizer_sandbox_arguments of <sanitizer/common_interface_defs.h> */
struct sandbox_san_args {
	int		coverage_sandboxed;
	long		coverage_fd;
	unsigned int	coverage_max_block_size;
};
extern void __sanitizer_sandbox_on_notify(struct sandbox_san_args *)
    __attribute__((weak));
extern void __lsan_do_leak_check(void) __attribute__((weak));
void	__asan_on_error(void);

/* Called by ASan as a report begins (it replaces the runtime's own). */
void
__asan_on_error(void)
{
	sandbox_san_reporting = 1;
}

static int
sandbox_san_find(struct dl_phdr_info *info, size_t size, void *arg)
{
	const size_t nlibs = sizeof(sandbox_san_libs) /
	    sizeof(sandbox_san_libs[0]);
	const size_t max = sizeof(sandbox_san_text) /
	    sizeof(sandbox_san_text[0]);
	const ElfW(Phdr) *ph;
	const char *base;
	size_t i;

	(void)size;
	(void)arg;
	if ((base = strrchr(info->dlpi_name, '/')) == NULL)
		base = info->dlpi_name;
	else
		base++;
	for (i = 0; i < nlibs; i++)
		if (strncmp(base, sandbox_san_libs[i],
		    strlen(sandbox_san_libs[i])) == 0)
			break;
	if (i == nlibs)
		return 0;
	for (i = 0; i < info->dlpi_phnum && sandbox_san_n < max; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) == 0)
			continue;
		sandbox_san_text[sandbox_san_n].start =
		    info->dlpi_addr + ph->p_vaddr;
		sandbox_san_text[sandbox_san_n].end =
		    info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		sandbox_san_n++;
	}
	return 0;
}

/* While files and /proc can still be read. */
static void
sandbox_san_prepare(void)
{
	static int done;
	struct sandbox_san_args args = { 0, -1, 0 };

	if (done++)
		return;
	sandbox_san_n = 0;
	dl_iterate_phdr(sandbox_san_find, NULL);
	/*
	 * LeakSanitizer's check at exit needs ptrace, a thread and /proc:
	 * check now instead, and not at exit.  Nothing happens with
	 * detect_leaks=0, as in make check.
	 */
	if (__lsan_do_leak_check != NULL)
		__lsan_do_leak_check();
	if (__sanitizer_sandbox_on_notify != NULL)	/* caches the maps */
		__sanitizer_sandbox_on_notify(&args);
}

int
sandbox_enter(const char *dir, const char *user, const char **err)
{
	static char msg[256];
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	/* Before the chroot: there is no passwd file inside. */
	if (privsep_lookup(user, &uid, &gid, err) == -1)
		return -1;
	if (dir != NULL)
		sandbox_san_prepare();		/* no /proc inside either */
	if (dir != NULL && (chroot(dir) == -1 || chdir("/") == -1)) {
		snprintf(msg, sizeof(msg), "chroot %s: %s", dir,
		    strerror(errno));
		*err = msg;
		return -1;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(msg, sizeof(msg), "dropping to %s: %s", user,
		    strerror(errno));
		*err = msg;
		return -1;
	}
	if (setuid(0) != -1 || getuid() == 0 || geteuid() == 0) {
		*err = "could regain root after dropping privileges";
		return -1;
	}
	return 0;
}

/*
 * Landlock, with its constants spelled out: the installed <linux/landlock.h>
 * may be older than the running kernel (Debian 12's knows ABI 2).
 */
#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1

#define LL_FS_EXECUTE		(1ULL << 0)
#define LL_FS_WRITE_FILE	(1ULL << 1)
#define LL_FS_READ_FILE		(1ULL << 2)
#define LL_FS_READ_DIR		(1ULL << 3)
#define LL_FS_REMOVE_DIR	(1ULL << 4)
#define LL_FS_REMOVE_FILE	(1ULL << 5)
#define LL_FS_MAKE_DIR		(1ULL << 7)
#define LL_FS_MAKE_REG		(1ULL << 8)
#define LL_FS_REFER		(1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)

/*
 * Beneath rw_dir: what a Maildir needs, files and directories; no
 * execution, devices, FIFOs, sockets or symbolic links.
 */
#define LL_RW	(LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_READ_DIR |	\
		 LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |	\
		 LL_FS_MAKE_REG | LL_FS_REFER | LL_FS_TRUNCATE)
#define LL_RO	(LL_FS_READ_FILE | LL_FS_READ_DIR)
/* What a rule on a file, not a directory, may carry (else EINVAL). */
#define LL_FILE	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE |	\
		 LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* struct landlock_ruleset_attr as of ABI 6; older kernels get a prefix. */
struct sandbox_ll_ruleset {
	uint64_t	handled_fs;
	uint64_t	handled_net;
	uint64_t	scoped;
};

/* struct landlock_path_beneath_attr */
struct sandbox_ll_path {
	uint64_t	allowed;
	int32_t		parent_fd;
} __attribute__((packed));

int
sandbox_landlock_abi(void)
{
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

static int
sandbox_ll_allow(int ruleset, const char *path, uint64_t access,
    const char **err)
{
	static char msg[256];
	struct sandbox_ll_path rule;
	struct stat st;
	int fd, r = -1;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISDIR(st.st_mode))
		access &= LL_FILE;
	rule.allowed = access;
	rule.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
	    &rule, 0) == -1)
		goto fail;
	r = 0;
	goto out;
fail:
	snprintf(msg, sizeof(msg), "landlock: %s: %s", path, strerror(errno));
	*err = msg;
out:
	if (fd != -1)
		close(fd);
	return r;
}

int
sandbox_landlock(const char *rw_dir, const char *const *ro_paths,
    const char **err)
{
	const char *rw[2] = { rw_dir, NULL };

	return sandbox_landlock_dirs(rw, ro_paths, err);
}

int
sandbox_landlock_dirs(const char *const *rw_dirs, const char *const *ro_paths,
    const char **err)
{
	static char msg[256];
	struct sandbox_ll_ruleset attr;
	size_t size;
	long abi;
	int fd, r = -1;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		*err = errno == ENOSYS ?
		    "this kernel has no Landlock (Linux >= 5.19 needed)" :
		    "Landlock is disabled (not in the kernel's lsm= list)";
		return 1;
	}
	if (abi < 0) {
		snprintf(msg, sizeof(msg), "landlock: %s", strerror(errno));
		*err = msg;
		return -1;
	}
	/* ABI 1 denies every move to another directory, and a Maildir
	 * moves messages from tmp/ to new/ to cur/. */
	if (abi < 2) {
		*err = "Landlock ABI 1 cannot allow renames between "
		    "directories (Linux >= 5.19 needed)";
		return 1;
	}

	/* Handle every right this kernel knows: an unhandled one is allowed
	 * everywhere. */
	memset(&attr, 0, sizeof(attr));
	attr.handled_fs = (LL_FS_REFER << 1) - 1;
	if (abi >= 3)
		attr.handled_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_fs |= LL_FS_IOCTL_DEV;
	size = sizeof(attr.handled_fs);
	if (abi >= 4) {		/* and no rule for any port */
		attr.handled_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size += sizeof(attr.handled_net);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size += sizeof(attr.scoped);
	}
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size,
	    0)) == -1) {
		snprintf(msg, sizeof(msg), "landlock: %s", strerror(errno));
		*err = msg;
		return -1;
	}
	for (; *rw_dirs != NULL; rw_dirs++)
		if (sandbox_ll_allow(fd, *rw_dirs, LL_RW & attr.handled_fs,
		    err) == -1)
			goto out;
	for (; ro_paths != NULL && *ro_paths != NULL; ro_paths++)
		if (sandbox_ll_allow(fd, *ro_paths, LL_RO, err) == -1)
			goto out;
	sandbox_san_prepare();
	/* Without CAP_SYS_ADMIN, only a process that cannot gain privileges
	 * through execve() may restrict itself. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		snprintf(msg, sizeof(msg), "landlock: %s", strerror(errno));
		*err = msg;
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/*
 * The seccomp allow-list, by profile: each profile allows what the ones
 * before it allow.  Calls allowed only with some arguments follow in
 * sandbox_seccomp().  The names are the kernel's (x86-64): glibc's fstat()
 * is newfstatat, its open() openat, its send() sendto, its pipe() pipe2.
 */
static const struct sandbox_call {
	int			nr;
	enum sandbox_profile	min;	/* allowed from this profile on */
} sandbox_calls[] = {
	/* I/O on descriptors already held */
	{ SCMP_SYS(read),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(write),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(readv),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(writev),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(pread64),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(pwrite64),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(lseek),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(close),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(dup),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(dup2),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(dup3),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(fcntl),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(flock),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(fsync),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(fdatasync),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(ftruncate),		SANDBOX_NET_SESSION },
	/* an anonymous memory file (the webmail's uploads): no path */
	{ SCMP_SYS(memfd_create),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(fstat),		SANDBOX_NET_SESSION },	/* sanitizers */
	/* Opens nothing; the sanitizers' reports test whether memory is
	 * readable by writing it to a pipe. */
	{ SCMP_SYS(pipe2),		SANDBOX_NET_SESSION },
	/* Sockets held, and descriptors passed (SCM_RIGHTS) */
	{ SCMP_SYS(recvfrom),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(sendto),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(recvmsg),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(sendmsg),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(accept),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(accept4),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(shutdown),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(getsockopt),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(setsockopt),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(getsockname),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(getpeername),	SANDBOX_NET_SESSION },
	/* c-ares connects its UDP socket to the server; no bind() */
	{ SCMP_SYS(connect),		SANDBOX_NET_SESSION },
	/* Waiting */
	{ SCMP_SYS(poll),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(ppoll),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(epoll_create1),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(epoll_ctl),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(epoll_wait),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(epoll_pwait),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(futex),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(sched_yield),	SANDBOX_NET_SESSION },
	/* Memory (mmap and mprotect: below) */
	{ SCMP_SYS(brk),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(munmap),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(mremap),		SANDBOX_NET_SESSION },
	/* free() and malloc_trim() give memory back */
	{ SCMP_SYS(madvise),		SANDBOX_NET_SESSION },
	/* Signals (kill and tgkill: below) */
	{ SCMP_SYS(rt_sigaction),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(rt_sigprocmask),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(rt_sigreturn),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(sigaltstack),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(restart_syscall),	SANDBOX_NET_SESSION },
	/* Time: the vDSO answers without a system call; these remain */
	{ SCMP_SYS(clock_gettime),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(gettimeofday),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(time),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(clock_nanosleep),	SANDBOX_NET_SESSION },
	{ SCMP_SYS(nanosleep),		SANDBOX_NET_SESSION },
	/* Who we are */
	{ SCMP_SYS(getpid),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(gettid),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(getppid),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(getuid),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(geteuid),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(getgid),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(getegid),		SANDBOX_NET_SESSION },
	/* OpenSSL's random numbers; mkstemp()'s names */
	{ SCMP_SYS(getrandom),		SANDBOX_NET_SESSION },
	/* gethostname(): Maildir file names */
	{ SCMP_SYS(uname),		SANDBOX_NET_SESSION },
	/* glibc's qsort() asks for the size of physical memory, once */
	{ SCMP_SYS(sysinfo),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(exit),		SANDBOX_NET_SESSION },
	{ SCMP_SYS(exit_group),		SANDBOX_NET_SESSION },

	/* Files, as many as Landlock lets through */
	{ SCMP_SYS(openat),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(newfstatat),		SANDBOX_MAIL_SESSION },	/* stat() */
	{ SCMP_SYS(getdents64),		SANDBOX_MAIL_SESSION },	/* readdir() */
	{ SCMP_SYS(mkdir),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(mkdirat),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(rename),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(renameat),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(renameat2),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(link),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(linkat),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(unlink),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(unlinkat),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(rmdir),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(utimensat),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(fallocate),		SANDBOX_MAIL_SESSION },
	/* SQLite: a new -wal or -journal takes the mode of its database */
	{ SCMP_SYS(fchmod),		SANDBOX_MAIL_SESSION },
	/* SQLite makes a path absolute, symbolic links resolved */
	{ SCMP_SYS(getcwd),		SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(readlink),		SANDBOX_MAIL_SESSION },
	/* IMAP IDLE */
	{ SCMP_SYS(inotify_init1),	SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(inotify_add_watch),	SANDBOX_MAIL_SESSION },
	{ SCMP_SYS(inotify_rm_watch),	SANDBOX_MAIL_SESSION },
};

/*
 * An argument the kernel takes as an int: compare its low 32 bits only,
 * as the kernel does (the upper half of the register is undefined).
 */
#define ARG32(n, v)	SCMP_CMP((n), SCMP_CMP_MASKED_EQ, 0xffffffffU, (v))
#define ARG_NONE(n, f)	SCMP_CMP((n), SCMP_CMP_MASKED_EQ, (f), 0)
#define ARG_ALL(n, f)	SCMP_CMP((n), SCMP_CMP_MASKED_EQ, (f), (f))

/*
 * A denied call, made anywhere in the program: say which in one write(2)
 * (async-signal-safe calls only) and exit as though killed by SIGSYS, so
 * the supervisor logs it.  The call itself is never made.
 */
static void
sandbox_on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	static const char head[] = "sandbox: system call ";
	static const char tail[] = " denied by the seccomp filter\n";
	char line[sizeof(head) + 12 + sizeof(tail)], num[12];
	size_t len, n = 0, i = 0;
	unsigned int nr;

	(void)sig;
#ifdef SANDBOX_SYSCALL_RET
	while (i < sandbox_san_n &&
	    ((uintptr_t)si->si_call_addr < sandbox_san_text[i].start ||
	    (uintptr_t)si->si_call_addr >= sandbox_san_text[i].end))
		i++;
	if (i < sandbox_san_n || sandbox_san_reporting) {
		SANDBOX_SYSCALL_RET((ucontext_t *)ctx) = -EPERM;
		return;
	}
#else
	(void)ctx;
	(void)i;
#endif
	nr = (unsigned int)si->si_syscall;
	do
		num[n++] = (char)('0' + nr % 10);
	while ((nr /= 10) != 0);
	memcpy(line, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	while (n > 0)
		line[len++] = num[--n];
	memcpy(line + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	(void)!write(STDERR_FILENO, line, len);
	/* Not _exit(): the sanitizers intercept it. */
	syscall(SYS_exit_group, SANDBOX_EXIT_DENIED);
}

int
sandbox_seccomp(enum sandbox_profile profile, const char **err)
{
	static char msg[128];
	const uint32_t pid = (uint32_t)getpid();
	struct sigaction sa;
	scmp_filter_ctx ctx;
	sigset_t sys;
	size_t i;
	int rc = 0, r = -1;

	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		*err = "seccomp: cannot allocate the filter";
		return -1;
	}
	/* Every thread, should a library have started one. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto fail;
	for (i = 0; i < sizeof(sandbox_calls) / sizeof(sandbox_calls[0]); i++)
		if (profile >= sandbox_calls[i].min &&
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    sandbox_calls[i].nr, 0)) < 0)
			goto fail;

#define ALLOW(call, ...)						\
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(call),	\
	    __VA_ARGS__)) < 0)						\
		goto fail

	/* DNS over UDP and TCP (c-ares); no UNIX or netlink socket. */
	ALLOW(socket, 1, ARG32(0, AF_INET));
	ALLOW(socket, 1, ARG32(0, AF_INET6));
	/* A pair of connected sockets, to relay a TLS session. */
	ALLOW(socketpair, 1, ARG32(0, AF_UNIX));
	/* No new executable memory. */
	ALLOW(mmap, 1, ARG_NONE(2, PROT_EXEC));
	ALLOW(mprotect, 1, ARG_NONE(2, PROT_EXEC));
	/* raise() and abort(): to ourselves only. */
	ALLOW(kill, 1, ARG32(0, pid));
	ALLOW(tgkill, 1, ARG32(0, pid));
	/* isatty(), which glibc's stdio asks of a character device. */
	ALLOW(ioctl, 1, ARG32(1, TCGETS));
	/* How much a socket holds to read (libevent's buffers ask). */
	ALLOW(ioctl, 1, ARG32(1, FIONREAD));
	if (profile == SANDBOX_NET_SESSION) {
		/*
		 * glibc's fstat() is fstatat(fd, "", AT_EMPTY_PATH).  The flag
		 * does not keep a path from being looked up, but a stat tells
		 * nothing of the contents.
		 */
		ALLOW(newfstatat, 1, ARG_ALL(3, AT_EMPTY_PATH));
	} else {
		/*
		 * iconv_open() loads gconv modules: an executable mapping of
		 * a file Landlock lets us read, never of anonymous memory.
		 */
		ALLOW(mmap, 1, ARG_NONE(3, MAP_ANONYMOUS));
	}
#undef ALLOW

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	if (sigaction(SIGSYS, &sa, NULL) == -1 ||
	    sigprocmask(SIG_UNBLOCK, &sys, NULL) == -1) {
		snprintf(msg, sizeof(msg), "seccomp: SIGSYS: %s",
		    strerror(errno));
		*err = msg;
		goto out;
	}
	sandbox_san_prepare();
	if ((rc = seccomp_load(ctx)) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	snprintf(msg, sizeof(msg), "seccomp: %s", strerror(-rc));
	*err = msg;
out:
	seccomp_release(ctx);
	return r;
}
