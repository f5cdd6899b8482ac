/*
 * The maildrop: the user's INBOX through the store index (maildir/), so
 * that POP3 and IMAP agree on what is there and on each message's UIDL.
 *
 * One POP3 session at a time per user (RFC 1939 §8 leaves it to the
 * server): an flock(2) on <maildir>/pop3.lock, released by the kernel if
 * the session dies.  IMAP sessions and delivery are not locked out: POP3
 * works on a snapshot of UIDs taken at login, and UPDATE expunges only
 * those that were DELE'd, so mail that arrived meanwhile is untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>

#include "../global/layout.h"
#include "../lib/log.h"
#include "../maildir/maildir.h"
#include "pop3d.h"

struct snap_arg {
	struct maildrop	*md;
};

static int
maildrop_add(const struct mmsg *m, void *arg)
{
	struct maildrop *md = arg;

	md->msgs[md->nmsgs].uid = m->uid;
	md->msgs[md->nmsgs].vsize = m->vsize;
	md->msgs[md->nmsgs].deleted = 0;
	md->nmsgs++;
	return 0;
}

enum maildrop_open
maildrop_open(struct maildrop *md, const char *data_dir, const char *user,
    const char **err)
{
	char dir[PATH_MAX], lock[PATH_MAX];
	struct mbox_status st;

	memset(md, 0, sizeof(*md));
	md->lockfd = -1;
	if (maildir_user_path(data_dir, user, dir, sizeof(dir)) == -1 ||
	    layout_path(lock, sizeof(lock), dir, LAYOUT_POP3_LOCK) == -1) {
		*err = "unusable mailbox name";
		return MAILDROP_ERROR;
	}
	if (mstore_open(dir, &md->store, err) == -1)
		return MAILDROP_ERROR;
	md->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (md->lockfd == -1) {
		*err = strerror(errno);
		goto fail;
	}
	if (flock(md->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			maildrop_close(md);
			return MAILDROP_IN_USE;
		}
		*err = strerror(errno);
		goto fail;
	}
	if (mbox_open(md->store, "INBOX", &md->inbox) == -1 ||
	    mbox_get_status(md->inbox, &st) == -1) {
		*err = mstore_error(md->store);
		goto fail;
	}
	md->msgs = util_calloc(st.messages + 1, sizeof(*md->msgs));
	/* UID order is arrival order: message 1 is the oldest. */
	if (mbox_messages(md->inbox, 1, UINT32_MAX, 0, 0, maildrop_add, md) ==
	    -1 || md->nmsgs > st.messages) {
		*err = mstore_error(md->store);
		goto fail;
	}
	return MAILDROP_OK;
fail:
	maildrop_close(md);
	return MAILDROP_ERROR;
}

void
maildrop_close(struct maildrop *md)
{
	if (md->inbox != NULL)
		mbox_close(&md->inbox);
	if (md->store != NULL)
		mstore_close(&md->store);
	if (md->lockfd != -1)
		close(md->lockfd);	/* releases the flock */
	md->lockfd = -1;
	free(md->msgs);
	md->msgs = NULL;
	md->nmsgs = 0;
}

struct pop3_msg *
maildrop_get(struct maildrop *md, unsigned long n)
{
	if (n < 1 || n > md->nmsgs || md->msgs[n - 1].deleted)
		return NULL;
	return &md->msgs[n - 1];
}

void
maildrop_uidl(struct maildrop *md, const struct pop3_msg *m, char *out,
    size_t size)
{
	char uidl[MAILDIR_UIDL_LEN + 1];

	mbox_uidl(md->inbox, m->uid, uidl);
	util_strcpy(out, uidl, size);
}

/*
 * Copy fd to the client: bare LF becomes CRLF (existing CRLF stays, so
 * what is sent is exactly vsize octets), a line starting with "." gets
 * another (RFC 1939 §3), and TOP stops after body_lines body lines.
 */
int
maildrop_send(struct maildrop *md, struct conn *c, const struct pop3_msg *m,
    long body_lines)
{
	char in[65536];
	ssize_t n, i;
	size_t start;
	int fd, bol = 1, in_body = 0, r = -1;
	char prev = '\0', prevprev = '\0';
	long lines = 0;

	if ((fd = mbox_msg_open(md->inbox, m->uid)) == -1)
		return -2;		/* gone: expunged by IMAP meanwhile */
	while ((n = read(fd, in, sizeof(in))) > 0) {
		start = 0;
		for (i = 0; i < n; i++) {
			char ch = in[i];

			if (bol && ch == '.') {
				conn_write(c, in + start, (size_t)i - start);
				conn_write(c, ".", 1);
				start = (size_t)i;
			}
			bol = 0;
			if (ch == '\n') {
				if (prev != '\r') {
					conn_write(c, in + start,
					    (size_t)i - start);
					conn_write(c, "\r", 1);
					start = (size_t)i;
				}
				bol = 1;
				/* An empty line ends the header. */
				if (!in_body && (prev == '\n' ||
				    (prev == '\r' && prevprev == '\n'))) {
					in_body = 1;
					if (body_lines == 0) {
						i++;
						goto done;
					}
				} else if (in_body && body_lines >= 0 &&
				    ++lines >= body_lines) {
					i++;
					goto done;
				}
			}
			prevprev = prev;
			prev = ch;
		}
		conn_write(c, in + start, (size_t)n - start);
	}
	if (n < 0)
		goto out;
	/* A last line without its line end still gets one. */
	if (!bol)
		conn_write(c, "\r\n", 2);
	goto end;
done:
	conn_write(c, in + start, (size_t)i - start);
end:
	conn_write(c, ".\r\n", 3);
	r = 0;
out:
	close(fd);
	return r;
}

int
maildrop_update(struct maildrop *md, size_t *removed)
{
	uint32_t *uids;
	size_t i, n = 0;
	int r;

	uids = util_calloc(md->nmsgs + 1, sizeof(*uids));
	for (i = 0; i < md->nmsgs; i++)
		if (md->msgs[i].deleted)
			uids[n++] = md->msgs[i].uid;
	r = n > 0 ? mbox_expunge(md->inbox, uids, n) : 0;
	free(uids);
	*removed = n;
	return r;
}
