/*
 * The index of shared folders (IMAP ACL, RFC 4314): which owners share
 * something with which users of their domain.
 *
 * SECURITY: a post-login process is confined (Landlock) to its user's
 * Maildir, plus the Maildirs of the owners this index names for it,
 * read before it confines itself.  So the index decides what a session
 * can open at all, and the grantee must not be able to write it: each
 * request here is for the user the connection redeemed a login token
 * for (lookup.c binds it), never for a user the request names.  An
 * owner adds and drops its own grantees; a grantee only reads who
 * shares with it.  What each grantee may do in each folder is the
 * owner's ACL, in the owner's index, which the owner's and the
 * grantee's sessions enforce.
 */
#include <string.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "authd.h"

struct owners {
	struct ipc_out	*o;
	size_t		 n;
};

static void
owner_put(const char *owner, void *arg)
{
	struct owners *ow = arg;

	if (ow->n >= AUTH_SHARES_MAX)
		return;
	if (ow->n++ == 0)
		ipc_put_str(ow->o, AA_YES);
	ipc_put_str(ow->o, owner);
}

int
share_answer(int type, const char *grantee, const struct client *c,
    struct ipc_out *o)
{
	struct owners ow = { o, 0 };
	int r;

	if (c->control || c->user[0] == '\0') {
		log_warn("share: asked on a connection that serves no user");
		ipc_put_str(o, AA_NO);
		return 0;
	}
	switch (type) {
	case AP_SHARE_ADD:
	case AP_SHARE_DROP:
		if (grantee == NULL || strlen(grantee) >= 320 ||
		    strcmp(grantee, c->user) == 0) {
			ipc_put_str(o, AA_NO);
			return 0;
		}
		r = type == AP_SHARE_ADD ?
		    userdb_share_add(authd_db, c->user, grantee) :
		    userdb_share_drop(authd_db, c->user, grantee) == 0;
		ipc_put_str(o, r > 0 ? AA_YES : r == 0 ? AA_NO : AA_TEMPFAIL);
		if (r > 0)
			log_info("share: %s %s %s", c->user, type ==
			    AP_SHARE_ADD ? "shares with" : "no longer shares "
			    "with", log_str(grantee));
		return r;
	case AP_SHARED_WITH:
		if ((r = userdb_shared_with(authd_db, c->user, owner_put,
		    &ow)) == -1) {
			ipc_put_str(o, AA_TEMPFAIL);
			return -1;
		}
		if (ow.n == 0)
			ipc_put_str(o, AA_NO);
		return 1;
	}
	ipc_put_str(o, AA_NO);
	return 0;
}
