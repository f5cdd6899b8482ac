/*
 * Shared folders (IMAP ACL, RFC 4314) in the other users' namespace
 * (RFC 2342): "Other Users/bob@example.test/Projects" is bob's folder
 * Projects, for a user bob shares it with.
 *
 * SECURITY: the post-login process confines itself (Landlock) to its
 * user's Maildir and to the Maildirs of the owners the auth service
 * names as sharing with that user (authd/share.c, which only an
 * owner's own session can change; global/sharing.c asks), before it
 * reads a byte of the client's commands after login.  So a session can
 * open no Maildir of a user who shares nothing with it, whatever it is
 * made to do.  Within
 * an owner's Maildir, the owner's ACLs (its index, maildir/acl.c) say
 * what the user may do in each folder, and each command checks them
 * here; a grant made after the session started takes effect at its
 * next login (the Landlock rules of a process cannot grow).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/log.h"
#include "acl.h"

void
imap_acl_confine(struct imap_session *s)
{
	s->shares = shares_load(s->authc, s->conf->server.data_dir, s->user,
	    s->id);
	shares_confine(s->shares, s->userdir);
}

void
imap_acl_free(struct imap_session *s)
{
	shares_free(&s->shares);
}

const char *
imap_acl_store_owner(struct imap_session *s, struct mstore *st)
{
	if (st == s->store)
		return s->user;
	return shares_owner_of(s->shares, st);
}

/* The folder names of st, for imap_acl_owner_store(). */
static void
owner_folder(const char *name, unsigned int attrs, void *arg)
{
	void **a = arg;
	struct imap_session *s = a[0];
	struct mstore *st = a[1];
	int *found = a[2];

	if (!*found && !(attrs & (MFA_NONEXISTENT | MFA_NOSELECT)) &&
	    (imap_acl_rights(st, name, s->user) & ACL_I))
		*found = 1;
}

struct mstore *
imap_acl_owner_store(struct imap_session *s, const char *owner,
    const char **owner_r)
{
	struct mstore *st;
	void *a[3];
	size_t i, n = shares_count(s->shares);
	int found = 0;

	for (i = 0; i < n; i++)
		if (strcasecmp(shares_owner(s->shares, i), owner) == 0)
			break;
	if (i == n || (st = shares_store(s->shares, i)) == NULL)
		return NULL;
	/* Only to a user who may add to one of the owner's folders
	 * (cmd_quota.c says why). */
	a[0] = s;
	a[1] = st;
	a[2] = &found;
	if (mstore_list(st, owner_folder, a) == -1 || !found)
		return NULL;
	*owner_r = shares_owner(s->shares, i);
	return st;
}

unsigned int
imap_acl_rights(struct mstore *st, const char *folder, const char *user)
{
	return acl_user_rights(st, folder, user);
}

void
imap_acl_put_rights(struct buf *b, unsigned int rights)
{
	static const char acl_letters[] = "lrswipkxtea";
	size_t i;

	for (i = 0; acl_letters[i] != '\0'; i++)
		if (rights & (1u << i))
			buf_putc(b, acl_letters[i]);
	/* §2.1.1: "c" is k and x here, "d" t and e. */
	if (rights & (ACL_K | ACL_X))
		buf_putc(b, 'c');
	if (rights & (ACL_T | ACL_E))
		buf_putc(b, 'd');
}

int
imap_mbref(struct imap_session *s, const char *name, struct imap_mbref *r)
{
	int k;

	memset(r, 0, sizeof(*r));
	if ((k = shares_resolve(s->shares, s->user, name, &r->st, &r->owner,
	    r->name, sizeof(r->name), &r->rights)) != 0)
		return k;
	r->st = s->store;
	r->rights = ACL_ALL;
	util_strcpy(r->name, name, sizeof(r->name));
	return 0;
}

int
imap_acl_open(struct imap_session *s, const char *name, unsigned int need,
    int trycreate, struct mbox **mb_r, unsigned int *rights_r,
    const char **no_r)
{
	struct imap_mbref r;
	int k;

	*mb_r = NULL;
	*no_r = trycreate ? "NO [TRYCREATE] No such mailbox" :
	    "NO [NONEXISTENT] No such mailbox";
	if ((k = imap_mbref(s, name, &r)) == -1 ||
	    !mstore_exists(r.st, r.name))
		return -1;
	/* §4: without "l" or "r" the folder stays hidden. */
	if (k == 1 && !(r.rights & (ACL_L | ACL_R)))
		return -1;
	if ((r.rights & need) != need) {
		*no_r = "NO [NOPERM] Permission denied";
		return -1;
	}
	if (mbox_open(r.st, r.name, mb_r) == -1)
		return -1;
	if (rights_r != NULL)
		*rights_r = r.rights;
	*no_r = NULL;
	return 0;
}

/* ---- LIST ---- */

struct acl_list {
	char		**names;
	unsigned int	*attrs;
	size_t		 n, cap;
};

static void
acl_list_collect(const char *name, unsigned int attrs, void *arg)
{
	struct acl_list *l = arg;

	if (attrs & (MFA_NONEXISTENT | MFA_NOSELECT))
		return;		/* subscriptions, parents without a row */
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->names = util_reallocarray(l->names, l->cap,
		    sizeof(*l->names));
		l->attrs = util_reallocarray(l->attrs, l->cap,
		    sizeof(*l->attrs));
	}
	l->names[l->n] = util_strdup(name);
	l->attrs[l->n++] = attrs;
}

int
imap_acl_ns_name(const char *name)
{
	return acl_ns_name(name);
}

int
imap_acl_subscribable(struct imap_session *s, const char *name)
{
	struct imap_mbref r;
	int k;

	/* RFC 4314 §4: "l", as this server checks that it exists. */
	if ((k = imap_mbref(s, name, &r)) == -1 || !mstore_exists(r.st,
	    r.name))
		return 0;
	return k == 0 || (r.rights & ACL_L) != 0;
}

/* The user's subscriptions in the other users' namespace. */
static void
acl_subs_collect(const char *name, unsigned int attrs, void *arg)
{
	if ((attrs & MFA_SUBSCRIBED) && imap_acl_ns_name(name))
		acl_list_collect(name, 0, arg);
}

static int
acl_subscribed(struct acl_list *subs, const char *name, int take)
{
	size_t i;

	for (i = 0; i < subs->n; i++)
		if (subs->attrs[i] != 1 && strcmp(subs->names[i], name) == 0) {
			if (take)
				subs->attrs[i] = 1;	/* given */
			return 1;
		}
	return 0;
}

void
imap_acl_list(struct imap_session *s,
    void (*cb)(const char *name, unsigned int attrs, void *arg), void *arg)
{
	char full[MAILDIR_NAME_MAX * 2 + 2];
	struct acl_list l, subs;
	struct mstore *st;
	unsigned char *shown;
	size_t i, j, k, len, any = 0;
	unsigned int attrs;

	memset(&subs, 0, sizeof(subs));
	if (shares_count(s->shares) == 0 ||
	    mstore_list(s->store, acl_subs_collect, &subs) == -1)
		subs.n = 0;
	for (i = 0; i < shares_count(s->shares); i++) {
		if ((st = shares_store(s->shares, i)) == NULL)
			continue;
		memset(&l, 0, sizeof(l));
		if (mstore_list(st, acl_list_collect, &l) == -1)
			log_err("sid=%s list shared: %s", s->id,
			    mstore_error(st));
		shown = util_calloc(l.n + 1, 1);
		for (j = 0; j < l.n; j++)
			shown[j] = (imap_acl_rights(st, l.names[j], s->user) &
			    ACL_L) != 0;
		for (j = 0; j < l.n; j++)
			if (shown[j])
				break;
		if (j < l.n) {
			if (any++ == 0)
				cb(ACL_NS, MFA_NOSELECT | MFA_CHILDREN, arg);
			snprintf(full, sizeof(full), "%s%c%s", ACL_NS,
			    MAILDIR_SEP, shares_owner(s->shares, i));
			cb(full, MFA_NOSELECT | MFA_CHILDREN, arg);
		}
		for (j = 0; j < l.n; j++) {
			if (!shown[j])
				continue;
			/* Children only as far as this user sees them; no
			 * owner's subscription or special use: the user's
			 * own subscriptions instead. */
			attrs = 0;
			len = strlen(l.names[j]);
			for (k = 0; k < l.n; k++)
				if (shown[k] && strncmp(l.names[k], l.names[j],
				    len) == 0 && l.names[k][len] == MAILDIR_SEP)
					attrs = MFA_CHILDREN;
			if (snprintf(full, sizeof(full), "%s%c%s%c%s", ACL_NS,
			    MAILDIR_SEP, shares_owner(s->shares, i), MAILDIR_SEP,
			    l.names[j]) >= (int)sizeof(full))
				continue;
			if (acl_subscribed(&subs, full, 1))
				attrs |= MFA_SUBSCRIBED;
			cb(full, attrs, arg);
		}
		for (j = 0; j < l.n; j++)
			free(l.names[j]);
		free(l.names);
		free(l.attrs);
		free(shown);
	}
	/* Subscribed, and gone or out of reach now (RFC 3501 §6.3.6). */
	for (j = 0; j < subs.n; j++) {
		if (subs.attrs[j] != 1)
			cb(subs.names[j], MFA_SUBSCRIBED | MFA_NONEXISTENT, arg);
		free(subs.names[j]);
	}
	free(subs.names);
	free(subs.attrs);
}

/* ---- flags ---- */

unsigned int
imap_acl_flag_mask(unsigned int rights)
{
	unsigned int m = 0;

	if (rights & ACL_S)
		m |= MF_SEEN;
	if (rights & ACL_T)
		m |= MF_DELETED;
	if (rights & ACL_W)
		m |= MF_ALL & ~(MF_SEEN | MF_DELETED);
	return m;
}

struct copy_flags {
	unsigned int	 flags;
	char		*keywords;
};

static int
copy_flags_cb(const struct mmsg *m, void *arg)
{
	struct copy_flags *cf = arg;

	cf->flags = m->flags;
	cf->keywords = util_strdup(m->keywords);
	return 1;
}

void
imap_acl_copy_flags(struct imap_session *s, struct mbox *dst,
    unsigned int rights, uint32_t src_uid, uint32_t dst_uid)
{
	struct copy_flags cf = { 0, NULL };
	uint64_t modseq;

	if ((rights & (ACL_S | ACL_W | ACL_T)) == (ACL_S | ACL_W | ACL_T))
		return;
	/* §4: a flag the user may not set in the target is not copied;
	 * the COPY does not fail for it. */
	if (mbox_messages(s->mb, src_uid, src_uid, 0, 0, copy_flags_cb,
	    &cf) == -1 || cf.keywords == NULL) {
		free(cf.keywords);
		return;
	}
	if (mbox_set_flags(dst, dst_uid, cf.flags & imap_acl_flag_mask(rights),
	    (rights & ACL_W) ? cf.keywords : "", 0, &modseq) == -1)
		log_err("sid=%s copy flags: %s", s->id,
		    mstore_error(mbox_store(dst)));
	free(cf.keywords);
}

/* ---- CREATE, DELETE, RENAME ---- */

int
imap_acl_manage(struct imap_session *s, const char *name, unsigned int need,
    struct imap_mbref *r)
{
	char parent[MAILDIR_NAME_MAX + 1], *slash;
	int k;

	if ((k = imap_mbref(s, name, r)) == 0)
		return 0;
	if (k == -1) {
		imap_tagged(s, need == ACL_K ? "NO [NOPERM] Permission denied" :
		    "NO [NONEXISTENT] No such mailbox");
		return -1;
	}
	if (need == ACL_K) {
		/* §4: "k" on the nearest existing parent. */
		util_strcpy(parent, r->name, sizeof(parent));
		r->rights = 0;
		while ((slash = strrchr(parent, MAILDIR_SEP)) != NULL) {
			*slash = '\0';
			if (mstore_exists(r->st, parent)) {
				r->rights = imap_acl_rights(r->st, parent,
				    s->user);
				break;
			}
		}
	} else if (!mstore_exists(r->st, r->name) ||
	    !(r->rights & (ACL_L | ACL_R))) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return -1;
	}
	if (!(r->rights & need)) {
		imap_tagged(s, "NO [NOPERM] Permission denied");
		return -1;
	}
	return 0;
}

int
imap_acl_store_no(struct imap_session *s, struct mstore *st,
    const char *what)
{
	return imap_errclass_no(s, what, mstore_errclass(st),
	    mstore_error(st));
}

void
imap_acl_inherit(struct imap_session *s, struct mstore *st, const char *name)
{
	char parent[MAILDIR_NAME_MAX + 1], *slash;
	struct macl *v;
	size_t n, i;

	/* RFC 4314 §4: a new mailbox SHOULD inherit its parent's ACL. */
	util_strcpy(parent, name, sizeof(parent));
	if ((slash = strrchr(parent, MAILDIR_SEP)) == NULL)
		return;
	*slash = '\0';
	if (!mstore_exists(st, parent) || mstore_acl_get(st, parent, &v,
	    &n) == -1)
		return;
	for (i = 0; i < n; i++)
		if (mstore_acl_set(st, name, v[i].ident, v[i].rights,
		    n) == -1)
			log_err("sid=%s acl inherit: %s", s->id,
			    mstore_error(st));
	free(v);
}

void
imap_acl_permanentflags(struct imap_session *s, struct buf *b,
    const char *kw)
{
	const char *sep = "";

	buf_puts(b, "* OK [PERMANENTFLAGS (");
	if (s->rights & ACL_W) {
		buf_printf(b, "\\Answered \\Flagged \\Draft%s%s", kw[0] ?
		    " " : "", kw);
		sep = " ";
	}
	if (s->rights & ACL_T) {
		buf_printf(b, "%s\\Deleted", sep);
		sep = " ";
	}
	if (s->rights & ACL_S) {
		buf_printf(b, "%s\\Seen", sep);
		sep = " ";
	}
	if (s->rights & ACL_W)
		buf_puts(b, " \\*");
	buf_puts(b, ")] Flags permitted by your rights\r\n");
}

int
imap_acl_store_filter(struct imap_session *s, char op, unsigned int *flags,
    char *keywords)
{
	unsigned int mask = imap_acl_flag_mask(s->rights);

	if ((s->rights & ACL_FLAG_RIGHTS) == ACL_FLAG_RIGHTS)
		return 0;
	if (op == '=')		/* imap_store_flags() keeps the others */
		return (s->rights & ACL_FLAG_RIGHTS) ? 0 : -1;
	if (!(s->rights & ACL_W))
		keywords[0] = '\0';
	if ((*flags & mask) == 0 && keywords[0] == '\0')
		return -1;
	*flags &= mask;
	return 0;
}
