/*
 * QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA, and the check
 * APPEND and COPY make.
 *
 * One quota root per user, named "" (as Dovecot names its user root),
 * holding every mailbox of the user.  Its limits are the user's in
 * users.db, set by the administrator (mailctl user quota) and asked of
 * the auth service at each use (authc_quota(): this process never
 * opens users.db), so a change applies to open sessions at once.  Its
 * usage is the store's (mstore_usage(): the index's running sums and
 * deliveries not yet picked up).  STORAGE is in units of 1024 octets of
 * RFC822.SIZE (§5.1), MESSAGE a count (§5.2); a resource without a
 * limit is not shown, and a user with neither has no quota root.
 *
 * SETQUOTA is refused: users do not set their own limits, and RFC 9208
 * §4.1.3 lets a server say NO (no QUOTASET capability is offered).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "session.h"

#define QUOTA_ROOT	""

struct quota {
	uint64_t	 limit_kib, limit_msgs;		/* 0: none */
	uint64_t	 octets, msgs;			/* in use */
};

/* The user's limits and usage: 1 (q filled), 0 no limit, -1 unknown
 * (logged). */
static int
quota_get(struct imap_session *s, struct quota *q)
{
	int r;

	memset(q, 0, sizeof(*q));
	if ((r = authc_quota(s->authc, s->user, &q->limit_kib,
	    &q->limit_msgs)) != 1) {
		log_warn("sid=%s user=%s quota lookup failed", s->id,
		    s->user);
		return -1;
	}
	if (q->limit_kib == 0 && q->limit_msgs == 0)
		return 0;
	if (mstore_usage(s->store, &q->octets, &q->msgs) == -1) {
		log_err("sid=%s user=%s quota usage: %s", s->id, s->user,
		    mstore_error(s->store));
		return -1;
	}
	return 1;
}

/* "* QUOTA "" (STORAGE used limit MESSAGE used limit)" */
static void
quota_reply(struct imap_session *s, const struct quota *q)
{
	struct buf *b = imap_out(s);
	const char *sep = "";

	buf_puts(b, "* QUOTA ");
	imap_put_astring(b, QUOTA_ROOT);
	buf_puts(b, " (");
	if (q->limit_kib != 0) {
		buf_printf(b, "STORAGE %llu %llu",
		    (unsigned long long)(q->octets / 1024),
		    (unsigned long long)q->limit_kib);
		sep = " ";
	}
	if (q->limit_msgs != 0)
		buf_printf(b, "%sMESSAGE %llu %llu", sep,
		    (unsigned long long)q->msgs,
		    (unsigned long long)q->limit_msgs);
	buf_puts(b, ")\r\n");
	imap_out_done(s);
}

int
cmd_getquota(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	const char *root;
	struct quota q;
	int r;

	if (nargs != 1 || (root = imap_arg_astring(&args[0])) == NULL) {
		imap_tagged(s, "BAD Usage: GETQUOTA quota-root");
		return -1;
	}
	if (strcmp(root, QUOTA_ROOT) != 0 || (r = quota_get(s, &q)) == 0) {
		imap_tagged(s, "NO [NONEXISTENT] No such quota root");
		return 0;
	}
	if (r == -1) {
		imap_tagged(s, "NO [UNAVAILABLE] Quota unknown just now");
		return 0;
	}
	quota_reply(s, &q);
	imap_tagged(s, "OK GETQUOTA completed");
	return 0;
}

int
cmd_getquotaroot(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1];
	struct quota q;
	struct buf *b;
	int r;

	if (nargs != 1) {
		imap_tagged(s, "BAD Usage: GETQUOTAROOT mailbox");
		return -1;
	}
	if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
		return -1;
	if (!mstore_exists(s->store, name)) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	if ((r = quota_get(s, &q)) == -1) {
		imap_tagged(s, "NO [UNAVAILABLE] Quota unknown just now");
		return 0;
	}
	/* §4.1.2: the roots, then a QUOTA response for each. */
	b = imap_out(s);
	buf_puts(b, "* QUOTAROOT ");
	imap_put_astring(b, name);
	if (r == 1) {
		buf_putc(b, ' ');
		imap_put_astring(b, QUOTA_ROOT);
	}
	buf_puts(b, "\r\n");
	imap_out_done(s);
	if (r == 1)
		quota_reply(s, &q);
	imap_tagged(s, "OK GETQUOTAROOT completed");
	return 0;
}

/* SETQUOTA quota-root (resource limit ...): checked, then refused. */
int
cmd_setquota(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	const struct imap_arg *l;
	size_t i;

	if (nargs != 2 || imap_arg_astring(&args[0]) == NULL ||
	    (l = &args[1])->type != IMAP_ARG_LIST || l->nlist % 2 != 0)
		goto bad;
	for (i = 0; i < l->nlist; i += 2)
		if (l->list[i].type != IMAP_ARG_ATOM ||
		    l->list[i + 1].type != IMAP_ARG_ATOM ||
		    strspn(l->list[i + 1].str, "0123456789") !=
		    strlen(l->list[i + 1].str) || l->list[i + 1].str[0] == '\0')
			goto bad;
	imap_tagged(s, "NO [NOPERM] Quotas are set by the administrator");
	return 0;
bad:
	imap_tagged(s, "BAD Usage: SETQUOTA quota-root (resource limit ...)");
	return -1;
}

int
imap_quota_over(struct imap_session *s, uint64_t add_octets,
    uint64_t add_msgs)
{
	struct quota q;

	if (quota_get(s, &q) != 1)
		return 0;	/* none, or unknown: as without a quota */
	if ((q.limit_kib != 0 && q.octets + add_octets > q.limit_kib * 1024) ||
	    (q.limit_msgs != 0 && q.msgs + add_msgs > q.limit_msgs)) {
		log_info("sid=%s user=%s over quota: %llu+%llu octets of %llu "
		    "KiB, %llu+%llu messages of %llu", s->id, s->user,
		    (unsigned long long)q.octets,
		    (unsigned long long)add_octets,
		    (unsigned long long)q.limit_kib,
		    (unsigned long long)q.msgs, (unsigned long long)add_msgs,
		    (unsigned long long)q.limit_msgs);
		return 1;
	}
	return 0;
}

int
imap_quota_append(struct imap_session *s, const struct mbox_append *adds,
    size_t n)
{
	uint64_t octets = 0;
	struct stat sb;
	size_t i;

	/* The literals as they came: CRLF line ends, RFC822.SIZE. */
	for (i = 0; i < n; i++)
		if (stat(adds[i].tmppath, &sb) == 0)
			octets += (uint64_t)sb.st_size;
	if (!imap_quota_over(s, octets, n))
		return 0;
	imap_tagged(s, "NO [OVERQUOTA] Quota exceeded");	/* §4.3.1 */
	return -1;
}
