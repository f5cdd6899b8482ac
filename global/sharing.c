/*
 * Shared folders (IMAP ACL, RFC 4314): rights, identifiers, the one way
 * an ACL entry changes, and a post-login process's view of the owners
 * who share with its user.  Used by imapd (imapd/acl.c, cmd_acl.c), the
 * webmail's session process (webmail/shared.c) and mailctl.
 *
 * SECURITY: a post-login process confines itself (Landlock) to its
 * user's Maildir and to the Maildirs of the owners the auth service
 * names as sharing with that user (authd/share.c, which only an owner's
 * own session, or the administrator, changes), before it reads a byte
 * of its client's requests after login.  Within an owner's Maildir the
 * owner's ACLs say what the user may do in each folder; the callers
 * check them.  Identifiers and rights may come from the network:
 * bounded, of known characters only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "authc.h"
#include "authproto.h"
#include "pool.h"
#include "sharing.h"

static const char acl_order[] = "lrswipkxtea";

unsigned int
acl_bits(const char *letters)
{
	unsigned int r = 0;
	const char *p;

	for (; *letters != '\0'; letters++)
		if ((p = strchr(acl_order, *letters)) != NULL)
			r |= 1u << (p - acl_order);
	return r;
}

void
acl_letters(unsigned int rights, char *out)
{
	size_t i, n = 0;

	for (i = 0; acl_order[i] != '\0'; i++)
		if (rights & (1u << i))
			out[n++] = acl_order[i];
	out[n] = '\0';
}

int
acl_rights_parse(const char *s, unsigned int *rights, char *op,
    const char **why)
{
	static char unknown[64];
	const char *p, *q;

	*rights = 0;
	*op = '=';
	if (strlen(s) > 64) {
		*why = "Malformed rights";
		return -1;
	}
	if (*s == '+' || *s == '-')
		*op = *s++;
	for (p = s; *p != '\0'; p++) {
		if (*p == 'c')
			*rights |= ACL_K | ACL_X;	/* §2.1.1 */
		else if (*p == 'd')
			*rights |= ACL_T | ACL_E;
		else if ((q = strchr(acl_order, *p)) != NULL)
			*rights |= 1u << (q - acl_order);
		else {
			/* §3.1: upper case is not the same right */
			if (isupper((unsigned char)*p))
				*why = "Uppercase rights are not allowed";
			else if (*p > ' ' && *p < 0x7f) {
				snprintf(unknown, sizeof(unknown), "The %c "
				    "right is not supported", *p);
				*why = unknown;
			} else
				*why = "Malformed rights";
			return -1;
		}
	}
	return 0;
}

int
acl_ident_canon(const char *owner, const char *given, char *id, size_t size,
    const char **why)
{
	const char *at, *dom, *p;
	size_t neg;

	*why = "Malformed identifier";
	if (given[0] == '\0' || strlen(given) > MACL_IDENT_MAX - 1)
		return -1;
	for (p = given; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"\\/()%*", *p))
			return -1;
	neg = given[0] == '-';
	if (given[neg] == '\0' || given[neg] == '-')
		return -1;
	dom = strchr(owner, '@');
	if (strcasecmp(given + neg, "anyone") == 0) {
		snprintf(id, size, "%sanyone", neg ? "-" : "");
		return 0;
	}
	if ((at = strchr(given + neg, '@')) == NULL) {
		if (snprintf(id, size, "%s%s", given, dom != NULL ? dom : "") >=
		    (int)size) {
			*why = "Identifier too long";
			return -1;
		}
	} else if (at == given + neg || dom == NULL || strchr(at + 1, '@') !=
	    NULL || strcasecmp(at, dom) != 0) {
		*why = "Identifiers are users of the owner's domain, or anyone";
		return -2;
	} else if (util_strcpy(id, given, size) == -1) {
		*why = "Identifier too long";
		return -1;
	}
	for (p = id; *p != '\0'; p++)
		id[p - id] = (char)tolower((unsigned char)*p);
	return strcasecmp(id + neg, owner) == 0;
}

unsigned int
acl_entry_rights(struct mstore *st, const char *folder, const char *id)
{
	struct macl *v;
	size_t n, i;
	unsigned int r = 0;

	if (mstore_acl_get(st, folder, &v, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].ident, id) == 0)
			r |= acl_bits(v[i].rights);
	free(v);
	return r;
}

unsigned int
acl_user_rights(struct mstore *st, const char *folder, const char *user)
{
	struct macl *v;
	size_t n, i;
	unsigned int pos = 0, neg = 0;
	const char *id;

	if (mstore_acl_get(st, folder, &v, &n) == -1)
		return 0;
	/* §2: the union of what user and anyone are granted, less what
	 * their negative entries take away. */
	for (i = 0; i < n; i++) {
		id = v[i].ident[0] == '-' ? v[i].ident + 1 : v[i].ident;
		if (strcmp(id, user) != 0 && strcmp(id, "anyone") != 0)
			continue;
		if (v[i].ident[0] == '-')
			neg |= acl_bits(v[i].rights);
		else
			pos |= acl_bits(v[i].rights);
	}
	free(v);
	return pos & ~neg & ~ACL_A;
}

void
acl_share_forget(struct mstore *st, const char *id,
    const struct acl_sharer *sh)
{
	/* Best effort: a stale share only lets the grantee's session open
	 * a Maildir where the ACLs give it nothing. */
	if (id[0] == '-' || mstore_acl_used(st, id) != 0)
		return;
	if (sh->drop(sh->arg, id) == -1)
		log_warn("could not unshare with %s", log_str(id));
}

enum acl_set_result
acl_entry_set(struct mstore *st, const char *folder, const char *id,
    int is_owner, char op, const unsigned int *rights,
    const struct acl_sharer *sh, char *letters)
{
	char buf[16];
	unsigned int r = 0, cur;
	int k;

	if (letters == NULL)
		letters = buf;
	letters[0] = '\0';
	if (is_owner)
		return ACL_SET_OWNER;
	if (rights != NULL) {
		if ((*rights & ~ACL_GRANTABLE) && op != '-')
			return ACL_SET_ADMIN;
		cur = acl_entry_rights(st, folder, id);
		r = op == '+' ? cur | *rights : op == '-' ? cur & ~*rights :
		    *rights;
		r &= ACL_GRANTABLE;
	}
	/* A grant: the index of shares first, so that the grantee's next
	 * session can open this Maildir (a negative entry grants none). */
	if (r != 0 && id[0] != '-' && (k = sh->add(sh->arg, id)) != 1)
		return k == 0 ? ACL_SET_NOUSER : ACL_SET_TEMPFAIL;
	acl_letters(r, letters);
	if (mstore_acl_set(st, folder, id, r != 0 ? letters : NULL,
	    ACL_MAX_ENTRIES) == -1)
		return ACL_SET_STORE;
	if (r == 0)
		acl_share_forget(st, id, sh);
	return ACL_SET_OK;
}

/* ---- a post-login process's shares ---- */

struct share {
	char		 owner[320];
	char		 dir[4096];
	struct mstore	*store;		/* opened on first use */
	int		 broken;	/* could not be opened */
};

struct shares {
	struct share	 v[AUTH_SHARES_MAX];
	size_t		 n;
	const char	*data_dir, *user, *sid;	/* while loading */
};

static void
share_add(const char *owner, void *arg)
{
	struct shares *sh = arg;
	struct share *e;
	struct stat st;

	if (sh->n >= AUTH_SHARES_MAX)
		return;
	e = &sh->v[sh->n];
	if (util_strcpy(e->owner, owner, sizeof(e->owner)) == -1 ||
	    maildir_user_path(sh->data_dir, owner, e->dir,
	    sizeof(e->dir)) == -1 || stat(e->dir, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		log_warn("sid=%s user=%s shared by %s: no Maildir", sh->sid,
		    log_str(sh->user), log_str(owner));
		return;
	}
	sh->n++;
}

struct shares *
shares_load(struct authc *a, const char *data_dir, const char *user,
    const char *sid)
{
	struct shares *sh = util_calloc(1, sizeof(*sh));

	sh->data_dir = data_dir;
	sh->user = user;
	sh->sid = sid;
	if (authc_shared_with(a, share_add, sh) == -1)
		log_err("sid=%s user=%s shared folders unknown just now",
		    sid, log_str(user));
	if (sh->n > 0)
		log_info("sid=%s user=%s shared with it by %zu users", sid,
		    log_str(user), sh->n);
	sh->data_dir = sh->user = sh->sid = NULL;
	return sh;
}

void
shares_confine(const struct shares *sh, const char *userdir)
{
	const char *dirs[AUTH_SHARES_MAX + 2];
	size_t i;

	dirs[0] = userdir;
	for (i = 0; i < sh->n; i++)
		dirs[i + 1] = sh->v[i].dir;
	dirs[i + 1] = NULL;
	pool_confine_mail_dirs(dirs);
}

void
shares_free(struct shares **sh)
{
	size_t i;

	if (*sh == NULL)
		return;
	for (i = 0; i < (*sh)->n; i++)
		mstore_close(&(*sh)->v[i].store);
	free(*sh);
	*sh = NULL;
}

size_t
shares_count(const struct shares *sh)
{
	return sh != NULL ? sh->n : 0;
}

const char *
shares_owner(const struct shares *sh, size_t i)
{
	return sh->v[i].owner;
}

const char *
shares_owner_of(const struct shares *sh, const struct mstore *st)
{
	size_t i;

	for (i = 0; sh != NULL && i < sh->n; i++)
		if (sh->v[i].store == st)
			return sh->v[i].owner;
	return NULL;
}

struct mstore *
shares_store(struct shares *sh, size_t i)
{
	struct share *e = &sh->v[i];
	const char *err;

	if (e->store == NULL && !e->broken && mstore_open(e->dir, &e->store,
	    &err) == -1) {
		log_err("shared store of %s: %s", log_str(e->owner), err);
		e->broken = 1;
	}
	return e->store;
}

int
acl_ns_name(const char *name)
{
	size_t nslen = strlen(ACL_NS);

	return strncmp(name, ACL_NS, nslen) == 0 && (name[nslen] == '\0' ||
	    name[nslen] == MAILDIR_SEP);
}

int
shares_resolve(struct shares *sh, const char *user, const char *name,
    struct mstore **st_r, const char **owner_r, char *folder, size_t size,
    unsigned int *rights)
{
	const char *p, *slash;
	size_t i, len;

	*st_r = NULL;
	*owner_r = NULL;
	*rights = 0;
	if (!acl_ns_name(name))
		return 0;
	if (name[strlen(ACL_NS)] == '\0' || sh == NULL)
		return -1;
	p = name + strlen(ACL_NS) + 1;
	if ((slash = strchr(p, MAILDIR_SEP)) == NULL || slash[1] == '\0')
		return -1;	/* the namespace, or an owner: \Noselect */
	len = (size_t)(slash - p);
	for (i = 0; i < sh->n; i++)
		if (strlen(sh->v[i].owner) == len &&
		    strncasecmp(sh->v[i].owner, p, len) == 0)
			break;
	if (i == sh->n || (*st_r = shares_store(sh, i)) == NULL ||
	    util_strcpy(folder, slash + 1, size) == -1)
		return -1;
	*owner_r = sh->v[i].owner;
	maildir_name_normalize(folder);
	*rights = mstore_exists(*st_r, folder) ?
	    acl_user_rights(*st_r, folder, user) : 0;
	return 1;
}
