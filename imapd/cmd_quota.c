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
 *
 * A folder another user shares (imapd/acl.c) is in its owner's quota
 * root, not the user's (§3: a mailbox's resources count against its
 * root's limits), named as the owner is in the other users' namespace:
 * "Other Users/ann@example.test".  APPEND, COPY and MOVE into it are
 * checked against the owner's limits and usage, asked as for the
 * user's own.  The figures are the owner's: GETQUOTAROOT and GETQUOTA
 * give them only to a user who may add to the owner's folders (RFC 4314
 * "i", the right whose commands the quota can refuse; on that folder
 * for GETQUOTAROOT, on one at least for GETQUOTA), else NO [NOPERM]
 * (GETQUOTAROOT, §4.1.2's "permission denied") or as for a root that
 * does not exist (GETQUOTA).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "acl.h"
#include "session.h"

#define QUOTA_ROOT	""

struct quota {
	uint64_t	 limit_kib, limit_msgs;		/* 0: none */
	uint64_t	 octets, msgs;			/* in use */
};

/* The limits and usage of the root of st (the user's own store or a
 * sharing owner's): 1 (q filled), 0 no limit, -1 unknown (logged). */
static int
quota_get(struct imap_session *s, struct mstore *st, struct quota *q)
{
	const char *owner;
	int r;

	memset(q, 0, sizeof(*q));
	if ((owner = imap_acl_store_owner(s, st)) == NULL)
		return -1;
	if ((r = authc_quota(s->authc, owner, &q->limit_kib,
	    &q->limit_msgs)) != 1) {
		log_warn("sid=%s user=%s quota lookup of %s failed", s->id,
		    s->user, log_str(owner));
		return -1;
	}
	if (q->limit_kib == 0 && q->limit_msgs == 0)
		return 0;
	if (mstore_usage(st, &q->octets, &q->msgs) == -1) {
		log_err("sid=%s user=%s quota usage of %s: %s", s->id, s->user,
		    log_str(owner), mstore_error(st));
		return -1;
	}
	return 1;
}

/* The root's name: "" for the user's own, else the owner's in the other
 * users' namespace. */
static void
quota_root_name(struct imap_session *s, struct mstore *st, char *out,
    size_t size)
{
	const char *owner = imap_acl_store_owner(s, st);

	if (st == s->store || owner == NULL)
		util_strcpy(out, QUOTA_ROOT, size);
	else
		snprintf(out, size, "%s%c%s", ACL_NS, MAILDIR_SEP, owner);
}

/* "* QUOTA "" (STORAGE used limit MESSAGE used limit)" */
static void
quota_reply(struct imap_session *s, const char *root, const struct quota *q)
{
	struct buf *b = imap_out(s);
	const char *sep = "";

	buf_puts(b, "* QUOTA ");
	imap_put_astring(b, root);
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
	const char *root, *owner;
	struct mstore *st = NULL;
	struct quota q;
	size_t nslen = strlen(ACL_NS);
	int r = 0;

	if (nargs != 1 || (root = imap_arg_astring(&args[0])) == NULL) {
		imap_tagged(s, "BAD Usage: GETQUOTA quota-root");
		return -1;
	}
	if (strcmp(root, QUOTA_ROOT) == 0)
		st = s->store;
	else if (strncmp(root, ACL_NS, nslen) == 0 &&
	    root[nslen] == MAILDIR_SEP)
		st = imap_acl_owner_store(s, root + nslen + 1, &owner);
	if (st == NULL || (r = quota_get(s, st, &q)) == 0) {
		imap_tagged(s, "NO [NONEXISTENT] No such quota root");
		return 0;
	}
	if (r == -1) {
		imap_tagged(s, "NO [UNAVAILABLE] Quota unknown just now");
		return 0;
	}
	quota_reply(s, root, &q);
	imap_tagged(s, "OK GETQUOTA completed");
	return 0;
}

int
cmd_getquotaroot(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], root[MAILDIR_NAME_MAX + 16];
	struct imap_mbref ref;
	struct quota q;
	struct buf *b;
	int k, r;

	if (nargs != 1) {
		imap_tagged(s, "BAD Usage: GETQUOTAROOT mailbox");
		return -1;
	}
	if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
		return -1;
	/* RFC 4314 §4: a folder without "l" or "r" stays hidden. */
	if ((k = imap_mbref(s, name, &ref)) == -1 ||
	    !mstore_exists(ref.st, ref.name) ||
	    (k == 1 && !(ref.rights & (ACL_L | ACL_R)))) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	if (k == 1 && !(ref.rights & ACL_I)) {
		imap_tagged(s, "NO [NOPERM] Permission denied");
		return 0;
	}
	if ((r = quota_get(s, ref.st, &q)) == -1) {
		imap_tagged(s, "NO [UNAVAILABLE] Quota unknown just now");
		return 0;
	}
	quota_root_name(s, ref.st, root, sizeof(root));
	/* §4.1.2: the roots, then a QUOTA response for each. */
	b = imap_out(s);
	buf_puts(b, "* QUOTAROOT ");
	imap_put_astring(b, name);
	if (r == 1) {
		buf_putc(b, ' ');
		imap_put_astring(b, root);
	}
	buf_puts(b, "\r\n");
	imap_out_done(s);
	if (r == 1)
		quota_reply(s, root, &q);
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
imap_quota_over(struct imap_session *s, struct mstore *st,
    uint64_t add_octets, uint64_t add_msgs)
{
	struct quota q;

	if (quota_get(s, st, &q) != 1)
		return 0;	/* none, or unknown: as without a quota */
	if ((q.limit_kib != 0 && q.octets + add_octets > q.limit_kib * 1024) ||
	    (q.limit_msgs != 0 && q.msgs + add_msgs > q.limit_msgs)) {
		log_info("sid=%s user=%s over quota of %s: %llu+%llu octets "
		    "of %llu KiB, %llu+%llu messages of %llu", s->id, s->user,
		    log_str(imap_acl_store_owner(s, st)),
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
imap_quota_append(struct imap_session *s, struct mstore *st,
    const struct mbox_append *adds, size_t n)
{
	uint64_t octets = 0;
	struct stat sb;
	size_t i;

	/* The literals as they came: CRLF line ends, RFC822.SIZE. */
	for (i = 0; i < n; i++)
		if (stat(adds[i].tmppath, &sb) == 0)
			octets += (uint64_t)sb.st_size;
	if (!imap_quota_over(s, st, octets, n))
		return 0;
	imap_tagged(s, "NO [OVERQUOTA] Quota exceeded");	/* §4.3.1 */
	return -1;
}
