/*
 * sandbox: confining the processes that talk to the network, so that a
 * bug in one of them yields as little as possible.  Three layers, applied
 * in this order by a freshly forked child:
 *
 *   sandbox_enter()	as root: chroot into an empty directory, then take
 *			an unprivileged uid (pre-authentication processes);
 *   sandbox_landlock()	the file system shrinks to one read-write tree and
 *			a few read-only ones (post-authentication processes
 *			on one user's Maildir);
 *   sandbox_seccomp()	an allow-list of system calls; any other call kills
 *			the process (see SANDBOX_EXIT_DENIED).
 *
 * None of them can be undone.  Whatever needs a file must have it loaded
 * before: the time zone (tzset(); then localtime_r(), as localtime() and
 * mktime() look at /etc/localtime again on every call), syslog (openlog()
 * with LOG_NDELAY), OpenSSL's configuration and the TLS keys
 * (OPENSSL_init_ssl(), then the SSL_CTX), the DNS resolver's configuration
 * (ares_init_options()), the user database.
 *
 * Built with the sanitizers (make check), LeakSanitizer checks for leaks
 * when the sandbox closes rather than at exit; ASan's reports come out
 * with frames as module+offset (for addr2line); UBSan's report only its
 * first line (it cannot read UBSAN_OPTIONS then: no stack trace).
 */
#ifndef SANDBOX_H
#define SANDBOX_H

/*
 * What a process does once confined.  Each profile allows everything the
 * one before allows.
 */
enum sandbox_profile {
	/*
	 * Serves clients on sockets it already holds (SMTP sessions, IMAP
	 * and POP3 logins): I/O, memory, time, UDP/TCP sockets for DNS,
	 * UNIX socket pairs and descriptor passing.  No file is opened, no
	 * program run, no process created.
	 */
	SANDBOX_NET_SESSION,
	/*
	 * Works on one user's Maildir after login (IMAP, POP3): files are
	 * opened, created, renamed and removed, SQLite indexes written,
	 * inotify watched, iconv's modules loaded.  Which files is up to
	 * sandbox_landlock().  A file it may read, it may also map
	 * executable: mount the Maildirs noexec.
	 */
	SANDBOX_MAIL_SESSION
};

/*
 * Exit status of a process that made a system call its profile does not
 * allow: 128 + SIGSYS, as a shell would report the signal.  The process
 * writes "sandbox: system call N denied by the seccomp filter" to stderr
 * first, so the supervisor's log names the call (ausyscall N).
 */
#define SANDBOX_EXIT_DENIED	159

/*
 * If root: look up user (not root), chroot(dir) and chdir("/") unless dir
 * is NULL, setgroups/setresgid/setresuid, and verify that root cannot be
 * regained.  Not root (development: everything runs as the invoking user):
 * nothing.  0, or -1 with *err.
 */
int	sandbox_enter(const char *dir, const char *user, const char **err);

/*
 * Landlock (Linux >= 5.19 for renames between directories): from now on
 * only rw_dir and what lies beneath it can be read, written, created,
 * renamed and removed, and the paths of ro_paths (NULL-terminated, may be
 * NULL; "/usr" keeps iconv's gconv modules loadable) can be read.  With
 * ABI >= 4, TCP bind and connect are denied (DNS over TCP too); with
 * ABI >= 6, signals and abstract UNIX sockets beyond this process.
 * Descriptors opened before keep their access.  0 when enforced; 1 with
 * *err when this kernel cannot (the caller logs that the confinement is
 * missing); -1 with *err.
 */
int	sandbox_landlock(const char *rw_dir, const char *const *ro_paths,
	    const char **err);
/* The same with several read-write trees (rw_dirs NULL-terminated, at
 * least one): an IMAP session given other users' shared folders (ACL,
 * RFC 4314) reaches their Maildirs too, and nothing else. */
int	sandbox_landlock_dirs(const char *const *rw_dirs,
	    const char *const *ro_paths, const char **err);
/* The running kernel's Landlock ABI version; 0 without Landlock. */
int	sandbox_landlock_abi(void);

/*
 * Load the seccomp filter of profile, once and last (it denies what the
 * other two need).  Also sets no_new_privs.  0, or -1 with *err.
 */
int	sandbox_seccomp(enum sandbox_profile profile, const char **err);

#endif
