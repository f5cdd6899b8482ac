/*
 * Folders other users share with the session's user (IMAP ACL, RFC
 * 4314), as imapd reaches them (global/sharing.c): named in the other
 * users' namespace, "Other Users/ann@example.test/Projects", opened in
 * the owner's store, and each action allowed by the user's rights there
 * (read again at every request: a revocation is at once).
 *
 * SECURITY: the session's process confined itself to its user's
 * Maildir and those of the owners the auth service names as sharing
 * with it, as an IMAP session does (backend.c); nothing here widens
 * that.  The rights within an owner's Maildir are enforced here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../global/sharing.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

int
web_folder_open(struct backend *be, const char *name, unsigned int need,
    struct mbox **mb_r, unsigned int *rights_r)
{
	char folder[MAILDIR_NAME_MAX + 1];
	const char *owner;
	struct mstore *st;
	unsigned int rights;
	int k;

	*mb_r = NULL;
	if (rights_r != NULL)
		*rights_r = 0;
	if ((k = shares_resolve(be->shares, be->user, name, &st, &owner,
	    folder, sizeof(folder), &rights)) == -1)
		return WEB_FOLDER_NONE;
	if (k == 0) {
		st = be->st;
		rights = ACL_ALL;
		util_strcpy(folder, name, sizeof(folder));
	} else if (!(rights & (ACL_L | ACL_R)))
		return WEB_FOLDER_NONE;	/* §4: hidden without l or r */
	if ((rights & need) != need)
		return WEB_FOLDER_NOPERM;
	if (mbox_open(st, folder, mb_r) == -1)
		return WEB_FOLDER_NONE;
	if (rights_r != NULL)
		*rights_r = rights;
	return 0;
}

int
web_shared_name(const char *name)
{
	return acl_ns_name(name);
}

void
web_shared_each(struct backend *be, void (*cb)(const char *name,
    struct mstore *st, const char *folder, unsigned int rights, void *arg),
    void *arg)
{
	char full[MAILDIR_NAME_MAX * 2 + 2];
	struct mstore *st;
	struct web_names l;
	unsigned int rights;
	size_t i, j;

	for (i = 0; i < shares_count(be->shares); i++) {
		if ((st = shares_store(be->shares, i)) == NULL)
			continue;
		memset(&l, 0, sizeof(l));
		if (mstore_list(st, web_names_collect, &l) == -1)
			log_err("sid=%s list shared: %s", be->sid,
			    mstore_error(st));
		for (j = 0; j < l.n; j++) {
			rights = acl_user_rights(st, l.v[j], be->user);
			if ((rights & ACL_L) && snprintf(full, sizeof(full),
			    "%s%c%s%c%s", ACL_NS, MAILDIR_SEP,
			    shares_owner(be->shares, i), MAILDIR_SEP,
			    l.v[j]) < (int)sizeof(full))
				cb(full, st, l.v[j], rights, arg);
		}
		web_names_free(&l);
	}
}

void
web_names_collect(const char *name, unsigned int attrs, void *arg)
{
	struct web_names *l = arg;

	if (attrs & (MFA_NONEXISTENT | MFA_NOSELECT))
		return;
	l->v = util_reallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = util_strdup(name);
}

void
web_names_free(struct web_names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
web_shared_stamp(struct backend *be, struct buf *out, int64_t *own,
    int64_t *newest)
{
	struct mstore *st;
	struct buf one;
	int64_t o, n;
	size_t i;
	int r = 0;

	/* mstore_stamp() starts its buffer again: each owner's apart. */
	buf_init(&one, 0);
	for (i = 0; r == 0 && i < shares_count(be->shares); i++) {
		o = 0;
		n = -1;
		if ((st = shares_store(be->shares, i)) == NULL ||
		    mstore_stamp(st, &one, &o, &n) == -1 ||
		    buf_append(out, one.data, one.len) == -1)
			r = -1;
		*own += o;
		if (n > *newest)
			*newest = n;
	}
	buf_release(&one);
	return r;
}
