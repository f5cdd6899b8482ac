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

/* Entries an owner may give one folder (SETACL beyond: NO [LIMIT]). */
#define ACL_MAX_ENTRIES	100

/* The rights an identifier can be given: "a" is the owner's (see
 * above). */
#define ACL_GRANTABLE	(ACL_ALL & ~ACL_A)

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
 * The identifier in canonical form into id: "anyone", or an address of
 * the owner's domain, lower case, "-" kept in front.  1 the owner, 0
 * another, -1 after a reply.
 */
static int
acl_ident(struct imap_session *s, const struct imap_arg *a, char *id,
    size_t size)
{
	const char *v = imap_arg_astring(a), *at, *dom, *p;
	size_t neg;

	if (v == NULL || a->len != strlen(v) || v[0] == '\0' ||
	    strlen(v) > MACL_IDENT_MAX - 1) {
		imap_tagged(s, "BAD Missing or malformed identifier");
		return -1;
	}
	for (p = v; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"\\/()%*", *p)) {
			imap_tagged(s, "BAD Malformed identifier");
			return -1;
		}
	neg = v[0] == '-';
	if (v[neg] == '\0' || v[neg] == '-') {
		imap_tagged(s, "BAD Malformed identifier");
		return -1;
	}
	dom = strchr(s->user, '@');
	if (strcasecmp(v + neg, "anyone") == 0) {
		snprintf(id, size, "%sanyone", neg ? "-" : "");
		return 0;
	}
	if ((at = strchr(v + neg, '@')) == NULL) {
		if (snprintf(id, size, "%s%s", v, dom != NULL ? dom : "") >=
		    (int)size)
			goto bad;
	} else if (at == v + neg || dom == NULL || strchr(at + 1, '@') !=
	    NULL || strcasecmp(at, dom) != 0) {
		imap_tagged(s, "NO [CANNOT] Identifiers are users of %s, or "
		    "anyone", dom != NULL ? dom + 1 : "this domain");
		return -1;
	} else if (util_strcpy(id, v, size) == -1)
		goto bad;
	for (p = id; *p != '\0'; p++)
		id[p - id] = (char)tolower((unsigned char)*p);
	return strcasecmp(id + neg, s->user) == 0;
bad:
	imap_tagged(s, "BAD Identifier too long");
	return -1;
}

/* §3.1: "[+-]rights"; 0 with the bits and op, or -1 after a BAD. */
static int
acl_rights_arg(struct imap_session *s, const struct imap_arg *a,
    unsigned int *rights, char *op)
{
	static const char letters[] = "lrswipkxtea";
	const char *v = imap_arg_astring(a), *p, *q;

	*rights = 0;
	*op = '=';
	if (v == NULL || a->len != strlen(v) || strlen(v) > 64) {
		imap_tagged(s, "BAD Missing or malformed rights");
		return -1;
	}
	if (*v == '+' || *v == '-')
		*op = *v++;
	for (p = v; *p != '\0'; p++) {
		if (*p == 'c')
			*rights |= ACL_K | ACL_X;	/* §2.1.1 */
		else if (*p == 'd')
			*rights |= ACL_T | ACL_E;
		else if ((q = strchr(letters, *p)) != NULL)
			*rights |= 1u << (q - letters);
		else {
			if (isupper((unsigned char)*p))
				imap_tagged(s, "BAD Uppercase rights are not "
				    "allowed");
			else if (*p > ' ' && *p < 0x7f)
				imap_tagged(s, "BAD The %c right is not "
				    "supported", *p);
			else
				imap_tagged(s, "BAD Malformed rights");
			return -1;
		}
	}
	return 0;
}

static unsigned int
entry_rights(struct mstore *st, const char *mailbox, const char *id)
{
	static const char letters[] = "lrswipkxtea";
	struct macl *v;
	size_t n, i;
	unsigned int r = 0;
	const char *p, *q;

	if (mstore_acl_get(st, mailbox, &v, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].ident, id) == 0)
			for (p = v[i].rights; *p != '\0'; p++)
				if ((q = strchr(letters, *p)) != NULL)
					r |= 1u << (q - letters);
	free(v);
	return r;
}

/* As stored: the letters alone, without the virtual "c" and "d". */
static void
rights_letters(unsigned int rights, char *out)
{
	static const char letters[] = "lrswipkxtea";
	size_t i, n = 0;

	for (i = 0; letters[i] != '\0'; i++)
		if (rights & (1u << i))
			out[n++] = letters[i];
	out[n] = '\0';
}

/* A grant to a user or anyone: the auth service learns of it first, so
 * that the grantee's next session can open this Maildir.  1, or 0 after
 * a NO. */
static int
share_tell(struct imap_session *s, const char *id)
{
	int r;

	if (id[0] == '-')
		return 1;	/* a negative entry grants nothing */
	if ((r = authc_share_add(s->authc, id)) == 1)
		return 1;
	if (r == 0)
		imap_tagged(s, "NO [NONEXISTENT] No such user in your domain");
	else
		imap_tagged(s, "NO [UNAVAILABLE] Cannot share just now");
	return 0;
}

/* An entry gone: once id has none left anywhere, the auth service
 * forgets the share (best effort: a stale share only lets the
 * grantee's session open a Maildir where the ACLs give it nothing). */
static void share_forget(struct imap_session *, const char *);

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

static void
share_forget(struct imap_session *s, const char *id)
{
	if (id[0] == '-' || mstore_acl_used(s->store, id) != 0)
		return;
	if (authc_share_drop(s->authc, id) != 1)
		log_warn("sid=%s user=%s could not unshare with %s", s->id,
		    s->user, log_str(id));
}

/* ---- commands ---- */

int
cmd_setacl(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], id[MACL_IDENT_MAX + 1];
	char letters[16];
	unsigned int rights, cur;
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
	if (owner) {
		imap_tagged(s, "NO [CANNOT] The owner always has every right");
		return 0;
	}
	if ((rights & ~ACL_GRANTABLE) && op != '-') {
		imap_tagged(s, "NO [CANNOT] The a right stays with the owner");
		return 0;
	}
	cur = entry_rights(s->store, name, id);
	rights = op == '+' ? cur | rights : op == '-' ? cur & ~rights :
	    rights;
	rights &= ACL_GRANTABLE;
	if (rights != 0 && !share_tell(s, id))
		return 0;
	rights_letters(rights, letters);
	if (mstore_acl_set(s->store, name, id, letters, ACL_MAX_ENTRIES) ==
	    -1) {
		if (mstore_errclass(s->store) == MSTORE_ELIMIT) {
			imap_tagged(s, "NO [LIMIT] At most %d identifiers a "
			    "mailbox", ACL_MAX_ENTRIES);
			return 0;
		}
		return imap_store_no(s, "setacl");
	}
	if (rights == 0)
		share_forget(s, id);
	log_info("sid=%s user=%s setacl %s %s %s", s->id, s->user,
	    log_str(name), id, letters);
	imap_tagged(s, "OK SETACL completed");
	return 0;
}

int
cmd_deleteacl(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], id[MACL_IDENT_MAX + 1];
	int owner;

	if (nargs != 2) {
		imap_tagged(s, "BAD Usage: DELETEACL mailbox identifier");
		return -1;
	}
	if ((owner = acl_ident(s, &args[1], id, sizeof(id))) == -1 ||
	    own_mailbox(s, &args[0], name, sizeof(name)) == -1)
		return 0;
	if (owner) {
		imap_tagged(s, "NO [CANNOT] The owner always has every right");
		return 0;
	}
	if (mstore_acl_set(s->store, name, id, NULL, ACL_MAX_ENTRIES) == -1)
		return imap_store_no(s, "deleteacl");
	share_forget(s, id);
	log_info("sid=%s user=%s deleteacl %s %s", s->id, s->user,
	    log_str(name), id);
	imap_tagged(s, "OK DELETEACL completed");
	return 0;
}

static const char rights_order[] = "lrswipkxtea";

int
cmd_getacl(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1];
	struct macl *v;
	struct buf *b;
	size_t n, i;
	unsigned int r;
	const char *p, *q;

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
		for (r = 0, p = v[i].rights; *p != '\0'; p++)
			if ((q = strchr(rights_order, *p)) != NULL)
				r |= 1u << (q - rights_order);
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
