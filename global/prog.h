/*
 * prog: what every program of the mail system does first.
 *
 *	prog -c FILE [-o section.key=value]... [-L service:fd]... [-p pid]
 *	    [-S fd] [-M protocol]
 *
 * maild binds the listening sockets and hands them over as inherited file
 * descriptors named by -L; -c and -o are passed on unchanged, so every
 * process sees the same configuration; -p is maild's own pid, so that a
 * service can tell that maild died before it asked to be told
 * (privsep_die_with_parent()).  A process of one of maild's pools
 * (pool.h) has its status channel as -S; -M makes an IMAP or POP3
 * program a post-login process.
 */
#ifndef PROG_H
#define PROG_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

#define PROG_MAX_FDS		32
#define PROG_MAX_OVERRIDES	256

struct prog_fd {
	char	service[32];
	int	fd;
};

struct prog_args {
	const char	*conf_path;
	char		*overrides[PROG_MAX_OVERRIDES];
	size_t		 noverrides;
	struct prog_fd	 fds[PROG_MAX_FDS];
	size_t		 nfds;
	int		 status_fd;	/* -S, or -1 */
	char		 mail_role[16];	/* -M, or "" */
};

/*
 * Parse the arguments (the first unknown option stops parsing, its index
 * is returned in *optind_r; without optind_r extra arguments are an
 * error), load the configuration and start logging.  Exits with a
 * message on error.
 */
struct conf *prog_init(int argc, char **argv, const char *progname,
	    struct prog_args *args, int *optind_r);

/* The supervisor: -p, or else the parent as it was at the start. */
extern pid_t prog_parent;

/*
 * Create the data directory layout (layout.h), each part owned by the
 * user of the service that uses it (server.user: the spool and the
 * Maildirs; server.auth_user: users.db), and users.db with its schema.
 * Modes found looser than ours are tightened, and logged.  Exits with a
 * message on failure.
 */
void	prog_prepare_data_dir(const struct conf *conf);
/* users.db and its WAL files, made if missing and the auth service's
 * (part of the above; again before each start of the auth service).
 * 0, or -1 (logged). */
int	prog_prepare_userdb(const struct conf *conf);

#endif
