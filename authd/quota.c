/*
 * Quotas at RCPT time: what a mailbox holds, for smtpd, which may not
 * read the store (RFC 3463 4.2.2, "mailbox full").
 *
 * authd knows the limits (users.db) but reads no Maildir either; the
 * usage comes from the queue's usage process (queue/usage.c), which runs
 * as server.user, as delivery does, and reads the one row of the user's
 * index that delivery reads (maildir_usage()).  That process connects
 * like any client and offers its connection with AP_USAGE_SERVE; from
 * then on authd asks on it (AP_USAGE) and the connection is no longer a
 * client's.  Only server.user's processes may offer (SO_PEERCRED): the
 * sessions run as server.login_user, and the post-login processes, which
 * are server.user's, cannot make a UNIX socket under their seccomp
 * filter (lib/sandbox.c) and hold only their connection bound to their
 * user.  A newer offer replaces an older one (a queue runner restarted).
 *
 * Each answer is kept a second (USAGE_TTL), so that a flood of RCPTs
 * from many sessions reads an index at most once a second per mailbox;
 * with smtpd's own second for its last recipient, a user who makes room
 * (EXPUNGE) or whose limit goes (mailctl) is accepted again within two
 * seconds.  Whatever goes wrong (no usage process, a slow one, a missing
 * Maildir) leaves the usage unknown: smtpd accepts and delivery decides,
 * as before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "authd.h"

#define USAGE_TTL		1.0	/* seconds an answer is kept */
#define USAGE_TIMEOUT_MS	200	/* then the process is dropped */
#define USAGE_CACHE		256	/* mailboxes kept */

uid_t	authd_mail_uid;

static int	usage_fd = -1;

static struct usage_entry {
	char		 mailbox[320];
	uint64_t	 octets, messages;
	double		 at;		/* policy_now(); 0: free */
} cache[USAGE_CACHE];

int
quota_serve_allowed(const struct client *c)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (c->control || c->user[0] != '\0' ||
	    getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1 ||
	    cr.uid != authd_mail_uid) {
		log_warn("usage: an offer to serve quota usage from a process "
		    "that may not: disconnected");
		return 0;
	}
	return 1;
}

void
quota_serve_take(int fd)
{
	if (usage_fd != -1) {
		close(usage_fd);
		log_info("usage: a new usage process replaces the old one");
	} else
		log_info("usage: the queue's usage process is connected");
	usage_fd = fd;
}

static void
usage_drop(const char *why)
{
	log_warn("usage: the usage process %s: quotas not checked at RCPT "
	    "until it is back", why);
	close(usage_fd);
	usage_fd = -1;
}

/* A decimal number, all of s. */
static int
usage_number(const char *s, uint64_t *v)
{
	const char *end = util_decimal(s, v);

	return end != NULL && *end == '\0' ? 0 : -1;
}

/* Ask the usage process.  0, or -1 (unknown). */
static int
usage_ask(const char *mailbox, uint64_t *octets, uint64_t *messages)
{
	static struct ipc_out o;
	static struct ipc_in in;
	const char *s;
	int r;

	if (usage_fd == -1)
		return -1;
	ipc_begin(&o, AP_USAGE);
	ipc_put_str(&o, mailbox);
	if (ipc_send(usage_fd, &o, -1) == -1) {
		usage_drop(strerror(errno));
		return -1;
	}
	if ((r = ipc_recv(usage_fd, &in, USAGE_TIMEOUT_MS)) != 1) {
		usage_drop(r == 0 ? "closed its connection" :
		    errno == ETIMEDOUT ? "did not answer in time" :
		    strerror(errno));
		return -1;
	}
	if (in.fd != -1) {
		close(in.fd);
		in.fd = -1;
	}
	if (in.type != AR_ANSWER || (s = ipc_get_str(&in)) == NULL) {
		usage_drop("broke the protocol");
		return -1;
	}
	if (strcmp(s, AA_YES) != 0)
		return -1;
	if (usage_number(ipc_get_str(&in), octets) == -1 ||
	    usage_number(ipc_get_str(&in), messages) == -1) {
		usage_drop("broke the protocol");
		return -1;
	}
	return 0;
}

int
quota_usage(const char *mailbox, uint64_t *octets, uint64_t *messages)
{
	struct usage_entry *e, *oldest = &cache[0];
	double now = policy_now();
	size_t i;

	for (i = 0; i < USAGE_CACHE; i++) {
		e = &cache[i];
		if (e->at > 0 && now - e->at < USAGE_TTL &&
		    strcmp(e->mailbox, mailbox) == 0) {
			*octets = e->octets;
			*messages = e->messages;
			return 0;
		}
		if (e->at < oldest->at)
			oldest = e;
	}
	if (strlen(mailbox) >= sizeof(oldest->mailbox) ||
	    usage_ask(mailbox, octets, messages) == -1)
		return -1;
	util_strcpy(oldest->mailbox, mailbox, sizeof(oldest->mailbox));
	oldest->octets = *octets;
	oldest->messages = *messages;
	oldest->at = now;
	return 0;
}
