/*
 * maildir: the mail store.
 *
 * <data_dir>/mail/<domain>/<local>/ is the user's Maildir++ (INBOX);
 * folders are ".Name" subdirectories.  Delivery is the classic safe one:
 * write tmp/, fsync, rename into new/, fsync new/ (RFC-less but as
 * qmail's maildir(5) describes).
 *
 * File names: "<base>,S=<size>,W=<size with CRLF>" where base is chosen
 * by the caller.  The queue names a delivery after its queue id and
 * recipient index, so a delivery repeated after a crash finds the first
 * one instead of making a duplicate.
 */
#ifndef MAILDIR_H
#define MAILDIR_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The Maildir of a local address: checks that both parts are safe path
 * components (never trusts that the caller did).  0 or -1.
 */
int	maildir_user_path(const char *data_dir, const char *address,
	    char *path, size_t size);
/* Create dir and its cur/ new/ tmp/ (0700) if missing. 0 or -1. */
int	maildir_create(const char *dir);

/*
 * Writes the message to fd and returns 0 (or -1 with errno), setting
 * *vsize to its size with CRLF line ends.
 */
typedef int (*maildir_producer)(int fd, void *arg, off_t *vsize);

enum maildir_result {
	MAILDIR_DELIVERED,
	MAILDIR_DUPLICATE,	/* a file with this base is already there */
	MAILDIR_ERROR,		/* errno says why */
};

/*
 * Deliver into dir/new.  If look_in_cur, also count a file in cur/ with
 * the same base (moved there by a reader) as already delivered: used when
 * recovering after a crash.  path_r gets the new file's path.
 */
enum maildir_result maildir_deliver(const char *dir, const char *base,
	    maildir_producer produce, void *arg, int look_in_cur,
	    char *path_r, size_t size);

#endif
