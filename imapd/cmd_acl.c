/*
 * IMAP ACL (RFC 4314): SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS;
 * LIST's RETURN (MYRIGHTS) (RFC 8440); the other users' namespace in
 * NAMESPACE (RFC 2342).
 *
 * Identifiers are the users of the owner's domain, written as their
 * addresses ("fred" alone is fred@<the owner's domain>), and "anyone"
 * (every user of the owner's domain: no one else can log in to reach
 * it); "-" before one is a negative entry (§2).  The owner always has
 * every right on its own folders and is never in its ACLs; "a" stays
 * the owner's: a grantee that could change an ACL could grant a third
 * user folders that user's session cannot open (the auth service takes
 * shares from the owner's own session only, authd/share.c).
 *
 * SECURITY: identifiers and rights come from the network: bounded, of
 * known characters only, and a grant to a user is refused unless the
 * auth service knows the user in the owner's domain.  Whom the session
 * serves comes from the auth service, never from the client.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../global/authc.h"
#include "../lib/log.h"
#include "acl.h"

/* ---- arguments ---- */

/* A mailbox of the user's own (ACL commands other than MYRIGHTS): 0,
 * or -1 after the reply (NOPERM for a shared folder the user sees). */
static int
own_mailbox(struct imap_session *s, const struct imap_arg *a, char *name,
    size_t size)
{
	struct imap_mbref r;
	int k;

	if (imap_mailbox_arg(s, a, name, size) == -1)
		return -1;
	if ((k = imap_mbref(s, name, &r)) == -1 || !mstore_exists(r.st,
	    r.name) || (k == 1 && !(r.rights & (ACL_L | ACL_R)))) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return -1;
	}
	if (k == 1) {		/* §4: "a" is needed, and never given */
		imap_tagged(s, "NO [NOPERM] Only the owner administers "
		    "this mailbox");
		return -1;
	}
	return 0;
}

/*
 * The identifier in canonical form into id (global/sharing.c).  1 the
 * owner, 0 another, -1 after a reply.
 */
static int
acl_ident(struct imap_session *s, const struct imap_arg *a, char *id,
    size_t size)
{
	const char *v = imap_arg_astring(a), *why;
	int k;

	if (v == NULL || a->len != strlen(v) || v[0] == '\0') {
		imap_tagged(s, "BAD Missing or malformed identifier");
		return -1;
	}
	if ((k = acl_ident_canon(s->user, v, id, size, &why)) == -2)
		imap_tagged(s, "NO [CANNOT] %s", why);
	else if (k == -1)
		imap_tagged(s, "BAD %s", why);
	return k < 0 ? -1 : k;
}

/* §3.1: "[+-]rights"; 0 with the bits and op, or -1 after a BAD. */
static int
acl_rights_arg(struct imap_session *s, const struct imap_arg *a,
    unsigned int *rights, char *op)
{
	const char *v = imap_arg_astring(a), *why;

	if (v == NULL || a->len != strlen(v)) {
		imap_tagged(s, "BAD Missing or malformed rights");
		return -1;
	}
	if (acl_rights_parse(v, rights, op, &why) == -1) {
		imap_tagged(s, "BAD %s", why);
		return -1;
	}
	return 0;
}

/* The index of shares through the auth service: a connection bound to
 * the owner's login answers for the owner only (authd/share.c). */
static int
sharer_add(void *arg, const char *grantee)
{
	return authc_share_add(((struct imap_session *)arg)->authc, grantee);
}

static int
sharer_drop(void *arg, const char *grantee)
{
	struct imap_session *s = arg;

	if (authc_share_drop(s->authc, grantee) == 1)
		return 0;
	log_warn("sid=%s user=%s could not unshare with %s", s->id,
	    s->user, log_str(grantee));
	return -1;
}

static void
share_forget(struct imap_session *s, const char *id)
{
	struct acl_sharer sh = { sharer_add, sharer_drop, s };

	acl_share_forget(s->store, id, &sh);
}

struct macl *
imap_acl_take(struct imap_session *s, const struct imap_mbref *r, size_t *n)
{
	struct macl *v;

	*n = 0;
	if (r->owner != NULL || mstore_acl_get(s->store, r->name, &v, n) ==
	    -1)
		return NULL;
	return v;
}

void
imap_acl_forget(struct imap_session *s, struct macl *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		share_forget(s, v[i].ident);
	free(v);
}

/* ---- commands ---- */

/* acl_entry_set()'s answer as the tagged reply; 0. */
static int
set_reply(struct imap_session *s, enum acl_set_result r, const char *cmd)
{
	switch (r) {
	case ACL_SET_OK:
		imap_tagged(s, "OK %s completed", cmd);
		break;
	case ACL_SET_OWNER:
		imap_tagged(s, "NO [CANNOT] The owner always has every right");
		break;
	case ACL_SET_ADMIN:
		imap_tagged(s, "NO [CANNOT] The a right stays with the owner");
		break;
	case ACL_SET_NOUSER:
		imap_tagged(s, "NO [NONEXISTENT] No such user in your domain");
		break;
	case ACL_SET_TEMPFAIL:
		imap_tagged(s, "NO [UNAVAILABLE] Cannot share just now");
		break;
	case ACL_SET_STORE:
		if (mstore_errclass(s->store) == MSTORE_ELIMIT) {
			imap_tagged(s, "NO [LIMIT] At most %d identifiers a "
			    "mailbox", ACL_MAX_ENTRIES);
			break;
		}
		return imap_store_no(s, cmd);
	}
	return 0;
}

int
cmd_setacl(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], id[MACL_IDENT_MAX + 1];
	char letters[16];
	struct acl_sharer sh = { sharer_add, sharer_drop, s };
	enum acl_set_result r;
	unsigned int rights;
	char op;
	int owner;

	if (nargs != 3) {
		imap_tagged(s, "BAD Usage: SETACL mailbox identifier rights");
		return -1;
	}
	if (acl_rights_arg(s, &args[2], &rights, &op) == -1)
		return -1;
	if ((owner = acl_ident(s, &args[1], id, sizeof(id))) == -1 ||
	    own_mailbox(s, &args[0], name, sizeof(name)) == -1)
		return 0;
	r = acl_entry_set(s->store, name, id, owner, op, &rights, &sh,
	    letters);
	if (r == ACL_SET_OK)
		log_info("sid=%s user=%s setacl %s %s %s", s->id, s->user,
		    log_str(name), id, letters);
	return set_reply(s, r, "SETACL");
}

int
cmd_deleteacl(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], id[MACL_IDENT_MAX + 1];
	struct acl_sharer sh = { sharer_add, sharer_drop, s };
	enum acl_set_result r;
	int owner;

	if (nargs != 2) {
		imap_tagged(s, "BAD Usage: DELETEACL mailbox identifier");
		return -1;
	}
	if ((owner = acl_ident(s, &args[1], id, sizeof(id))) == -1 ||
	    own_mailbox(s, &args[0], name, sizeof(name)) == -1)
		return 0;
	r = acl_entry_set(s->store, name, id, owner, '=', NULL, &sh, NULL);
	if (r == ACL_SET_OK)
		log_info("sid=%s user=%s deleteacl %s %s", s->id, s->user,
		    log_str(name), id);
	return set_reply(s, r, "DELETEACL");
}

int
cmd_getacl(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1];
	struct macl *v;
	struct buf *b;
	size_t n, i;
	unsigned int r;

	if (nargs != 1) {
		imap_tagged(s, "BAD Usage: GETACL mailbox");
		return -1;
	}
	if (own_mailbox(s, &args[0], name, sizeof(name)) == -1)
		return 0;
	if (mstore_acl_get(s->store, name, &v, &n) == -1)
		return imap_store_no(s, "getacl");
	b = imap_out(s);
	buf_puts(b, "* ACL ");
	imap_put_mailbox(s, b, name);
	buf_putc(b, ' ');
	imap_put_astring(b, s->user);		/* implicit: everything */
	buf_putc(b, ' ');
	imap_acl_put_rights(b, ACL_ALL);
	for (i = 0; i < n; i++) {
		r = acl_bits(v[i].rights);
		buf_putc(b, ' ');
		imap_put_astring(b, v[i].ident);
		buf_putc(b, ' ');
		imap_acl_put_rights(b, r);
	}
	buf_puts(b, "\r\n");
	imap_out_done(s);
	free(v);
	imap_tagged(s, "OK GETACL completed");
	return 0;
}

int
cmd_listrights(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], id[MACL_IDENT_MAX + 1];
	const char *given;
	struct buf *b;
	int owner;

	if (nargs != 2) {
		imap_tagged(s, "BAD Usage: LISTRIGHTS mailbox identifier");
		return -1;
	}
	if ((owner = acl_ident(s, &args[1], id, sizeof(id))) == -1 ||
	    own_mailbox(s, &args[0], name, sizeof(name)) == -1)
		return 0;
	given = imap_arg_astring(&args[1]);
	b = imap_out(s);
	buf_puts(b, "* LISTRIGHTS ");
	imap_put_mailbox(s, b, name);
	buf_putc(b, ' ');
	imap_put_astring(b, given);	/* §3.4: as the client wrote it */
	/* The owner has everything, always; anyone else can be given each
	 * right but "a" on its own, "c" and "d" alone too (§2.1.1). */
	if (owner)
		buf_puts(b, " lrswipkxtea\r\n");
	else
		buf_puts(b, " \"\" l r s w i p k x t e c d\r\n");
	imap_out_done(s);
	imap_tagged(s, "OK LISTRIGHTS completed");
	return 0;
}

int
cmd_myrights(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1];
	struct imap_mbref r;
	struct buf *b;
	int k;

	if (nargs != 1) {
		imap_tagged(s, "BAD Usage: MYRIGHTS mailbox");
		return -1;
	}
	if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
		return -1;
	/* §4: any of l r i k x a; without l and r the folder is hidden. */
	if ((k = imap_mbref(s, name, &r)) == -1 || !mstore_exists(r.st,
	    r.name) || (k == 1 && !(r.rights & (ACL_L | ACL_R)))) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	b = imap_out(s);
	buf_puts(b, "* MYRIGHTS ");
	imap_put_mailbox(s, b, name);
	buf_putc(b, ' ');
	imap_acl_put_rights(b, r.rights);
	buf_puts(b, "\r\n");
	imap_out_done(s);
	imap_tagged(s, "OK MYRIGHTS completed");
	return 0;
}

void
imap_acl_list_myrights(struct imap_session *s, const char *name)
{
	struct imap_mbref r;
	struct buf *b;

	/* RFC 8440 §3: after the mailbox's LIST reply. */
	if (imap_mbref(s, name, &r) == -1 || !mstore_exists(r.st, r.name))
		return;
	b = imap_out(s);
	buf_puts(b, "* MYRIGHTS ");
	imap_put_mailbox(s, b, name);
	buf_putc(b, ' ');
	imap_acl_put_rights(b, r.rights);
	buf_puts(b, "\r\n");
	imap_out_done(s);
}

void
imap_acl_namespace(struct imap_session *s)
{
	/* RFC 2342 §5: personal, other users', shared. */
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) ((\"%s/\" \"/\")) NIL",
	    ACL_NS);
}
