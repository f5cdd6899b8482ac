/*
 * Unit test: what a session watching the whole store (IMAP NOTIFY, RFC
 * 5465; imapd/notify_watch.c) reads under the store's lock names what
 * is on disk.  Another process creates, renames and deletes folders
 * meanwhile; every folder the watcher lists must have its row, or it
 * cannot tell a later RENAME from a DELETE and a CREATE (§5.4 wants
 * LIST with OLDNAME).  It failed before CREATE took the lock: the
 * directory came first, the row after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../lib/log.h"
#include "maildir.h"
#include "../t/tap.h"

#define ROUNDS	100

static char root[256];

struct look {
	char	 names[64][MAILDIR_NAME_MAX + 1];
	int	 rowed[64];
	size_t	 n;
};

static void
list_cb(const char *name, unsigned int attrs, void *arg)
{
	struct look *l = arg;

	if ((name[0] != 'P' && name[0] != 'Q') ||
	    (attrs & (MFA_NONEXISTENT | MFA_NOSELECT)) || l->n == 64)
		return;
	snprintf(l->names[l->n], sizeof(l->names[l->n]), "%s", name);
	l->rowed[l->n++] = 0;
}

static int
stamp_cb(const struct mstamp *m, void *arg)
{
	struct look *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->names[i], m->name) == 0)
			l->rowed[i] = 1;
	return 0;
}

/* The other session: folders made, renamed and removed, over and over. */
static void
writer(void)
{
	struct mstore *st;
	const char *err;
	char a[32], b[32];
	int i;

	if (mstore_open(root, &st, &err) == -1)
		_exit(2);
	for (i = 0; i < ROUNDS; i++) {
		snprintf(a, sizeof(a), "P%d", i);
		snprintf(b, sizeof(b), "Q%d", i);
		/* (each for a while, for the watcher to see it) */
		if (mstore_create(st, a) == -1 || usleep(2000) == -1 ||
		    mstore_rename(st, a, b) == -1 || usleep(2000) == -1 ||
		    mstore_delete(st, b) == -1)
			_exit(3);
	}
	mstore_close(&st);
	_exit(0);
}

int
main(void)
{
	struct mstore *st;
	struct look l;
	const char *err;
	size_t i, looks = 0, seen = 0, rowless = 0;
	pid_t pid;
	int status = -1, done = 0;

	log_init("test-notify", LOG_LVL_ERR, 0);
	snprintf(root, sizeof(root), "/tmp/test-notify.%ld", (long)getpid());
	/* (made before the fork; each process opens its own handle) */
	if (!ok(mstore_open(root, &st, &err) == 0, "open the store"))
		return done_testing();
	mstore_close(&st);
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0)
		writer();
	if (mstore_open(root, &st, &err) == -1)
		abort();
	while (!done) {
		done = waitpid(pid, &status, WNOHANG) == pid;
		memset(&l, 0, sizeof(l));
		/* As notify_watch.c's boxes_read(): under the lock. */
		if (mstore_begin(st) == -1)
			continue;
		if (mstore_list(st, list_cb, &l) == 0)
			mstore_stamps(st, stamp_cb, &l);
		mstore_commit(st);
		usleep(500);	/* the writer waits for the lock */
		looks++;
		for (i = 0; i < l.n; i++) {
			seen++;
			if (!l.rowed[i] && rowless++ == 0)
				diag("%s on disk without its row",
				    l.names[i]);
		}
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the other session made, renamed and deleted %d folders",
	    ROUNDS);
	diag("%zu looks, %zu folders seen", looks, seen);
	ok(seen > 0, "the watcher saw some of them");
	ok(rowless == 0, "never a folder without its row (%zu times)",
	    rowless);
	mstore_close(&st);
	tap_remove_tree(root);
	return done_testing();
}
