/*
 * METADATA and METADATA-SERVER (RFC 5464): GETMETADATA, SETMETADATA.
 *
 * Annotations of a folder, or of the server (mailbox ""), kept in the
 * user's index (maildir/metadata.c).  One user owns every mailbox it
 * sees, so its /private and /shared entries are both its own, kept
 * apart by their names (/private/comment is not /shared/comment).
 * Entry names are case-insensitive (§3.2): kept in lower case.
 *
 * A folder another user shares (imapd/acl.c) has its annotations in
 * its owner's index: its /shared entries are the owner's and every
 * grantee's, its /private entries each user's own: a grantee's are
 * kept there under "/user/<address>/private/..." (MSTORE_META_USER,
 * which no entry name a client gives can start with), so the owner's
 * and each grantee's stay apart and go with the folder when it is
 * renamed or deleted.  RFC 5464 §3.3: with ACL, a user gets and sets
 * either kind only on a folder where it has "l" and one of "r", "s",
 * "w", "i", "p"; else NO [NOPERM] (NONEXISTENT without "l" or "r", as
 * for every command, RFC 4314 §4).  The folder's entry limit counts
 * everybody's entries.
 *
 * Limits, all of them client-controlled input: a value of at most
 * META_MAXSIZE octets (NO [METADATA MAXSIZE n], §4.3), at most
 * META_MAX_ENTRIES entries for the server and for each folder (NO
 * [METADATA TOOMANY]), entry names of at most META_NAME_MAX octets.
 * No unsolicited METADATA responses (no NOTIFY).  LIST-METADATA at the
 * end.
 *
 * The server's /shared/admin (§3.2.1.1: a URI for reaching the
 * administrator, read-only) is imapd.admin_uri, checked a URI when the
 * configuration is read, never stored: GETMETADATA "" gives it (NIL
 * when unset), SETMETADATA "" refuses it and what is under it with NO
 * [NOPERM] (RFC 5530; RFC 5464 has no code of its own for a read-only
 * entry, §3.3 asks for a NO).  A folder's /shared/admin is an entry as
 * any other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "acl.h"
#include "listmeta.h"
#include "session.h"

#define META_MAXSIZE		65536	/* octets of one value */
#define META_MAX_ENTRIES	200	/* of the server, of each folder */
#define META_NAME_MAX		1024	/* octets of an entry name */
/* A stored name: a grantee's /private entry has its prefix. */
#define META_KEY_MAX		(META_NAME_MAX + 400)

/*
 * An entry name (§3.2 and the entry ABNF of §5): "/private" or
 * "/shared", then "/"-separated parts of printable ASCII, no "*" or
 * "%", no empty part (so no "//" and no trailing "/").  The bare
 * "/private" and "/shared" only where whole may be 1 (GETMETADATA's
 * roots).  Into out, lower-cased; 0, or -1 (not an entry name).
 */
static int
meta_entry_name(const struct imap_arg *a, int whole, char *out,
    size_t size)
{
	const char *v = imap_arg_astring(a), *p;
	unsigned char c;
	size_t i;

	if (v == NULL || a->len != strlen(v) || a->len >= size ||
	    a->len > META_NAME_MAX)
		return -1;
	for (i = 0; (c = (unsigned char)v[i]) != '\0'; i++) {
		if (c <= 0x20 || c >= 0x7f || c == '*' || c == '%')
			return -1;
		if (c == '/' && (v[i + 1] == '/' || v[i + 1] == '\0'))
			return -1;
		out[i] = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
	}
	out[i] = '\0';
	if (strncmp(out, "/private", 8) == 0)
		p = out + 8;
	else if (strncmp(out, "/shared", 7) == 0)
		p = out + 7;
	else
		return -1;
	if (*p == '\0')
		return whole ? 0 : -1;
	return *p == '/' ? 0 : -1;
}

/* The mailbox argument: "" the server (*server set), else a folder's
 * name into name[].  0, or -1 after a reply. */
static int
meta_mailbox(struct imap_session *s, const struct imap_arg *a, char *name,
    size_t size, int *server)
{
	const char *v = imap_arg_astring(a);

	*server = v != NULL && a->len == 0;
	if (*server) {
		name[0] = '\0';
		return 0;
	}
	return imap_mailbox_arg(s, a, name, size);
}

/* Where a folder's annotations are, for this user. */
struct meta_target {
	struct mstore	*st;
	const char	*mailbox;	/* in st; NULL: the server */
	char		 name[MAILDIR_NAME_MAX + 1];
	char		 prefix[400];	/* of this user's /private names */
};

/* What meta_target_find() found. */
#define META_T_OK	0
#define META_T_NONE	1	/* no such folder, or neither l nor r */
#define META_T_NOPERM	2	/* l, but none of r s w i p */
#define META_T_LONG	3	/* the user's address too long a prefix */

/* The target of a folder name (see the top), without a reply. */
static int
meta_target_find(struct imap_session *s, const char *name, int server,
    struct meta_target *t)
{
	struct imap_mbref r;
	int k;

	memset(t, 0, sizeof(*t));
	t->st = s->store;
	if (server)
		return META_T_OK;
	if ((k = imap_mbref(s, name, &r)) == -1 ||
	    !mstore_exists(r.st, r.name) ||
	    (k == 1 && !(r.rights & (ACL_L | ACL_R))))
		return META_T_NONE;
	if (k == 1 && (!(r.rights & ACL_L) || !(r.rights & (ACL_R | ACL_S |
	    ACL_W | ACL_I | ACL_P))))
		return META_T_NOPERM;
	t->st = r.st;
	util_strcpy(t->name, r.name, sizeof(t->name));
	t->mailbox = t->name;
	if (k == 1 && snprintf(t->prefix, sizeof(t->prefix), "%s%s",
	    MSTORE_META_USER, s->user) >= (int)sizeof(t->prefix))
		return META_T_LONG;
	return META_T_OK;
}

/* The target of a folder name: 0, or -1 after a NO. */
static int
meta_target(struct imap_session *s, const char *name, int server,
    struct meta_target *t)
{
	switch (meta_target_find(s, name, server, t)) {
	case META_T_OK:
		return 0;
	case META_T_NONE:
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		break;
	case META_T_NOPERM:
		imap_tagged(s, "NO [NOPERM] Permission denied");
		break;
	default:
		imap_tagged(s, "NO [CANNOT] Address too long");
		break;
	}
	return -1;
}

/* The stored name of an entry (lower case, checked) for the target. */
static void
meta_key(const struct meta_target *t, const char *entry, char *out,
    size_t size)
{
	if (t->prefix[0] != '\0' && strncmp(entry, "/private", 8) == 0)
		snprintf(out, size, "%s%s", t->prefix, entry);
	else
		util_strcpy(out, entry, size);
}

/* A value as RFC 5464 §5 has it: nstring, or literal8 when it holds a
 * NUL (RFC 3516 §4.1). */
static void
meta_put_value(struct buf *b, const char *v, size_t len)
{
	if (memchr(v, '\0', len) != NULL) {
		buf_printf(b, "~{%zu}\r\n", len);
		buf_append(b, v, len);
	} else
		imap_put_string(b, v, len);
}

static void
meta_put_mailbox(struct imap_session *s, struct buf *b, const char *name,
    int server)
{
	if (server)
		buf_puts(b, "\"\"");
	else
		imap_put_mailbox(s, b, name);
}

/* One entry of the METADATA response, which *b starts (NULL: not yet);
 * value NULL: NIL. */
static void
meta_put_entry(struct imap_session *s, struct buf **b, const char *name,
    int server, const char *entry, const char *value, size_t len)
{
	if (*b == NULL) {
		*b = imap_out(s);
		buf_puts(*b, "* METADATA ");
		meta_put_mailbox(s, *b, name, server);
		buf_puts(*b, " (");
	} else
		buf_putc(*b, ' ');
	buf_puts(*b, entry);
	buf_putc(*b, ' ');
	if (value == NULL)
		buf_puts(*b, "NIL");
	else
		meta_put_value(*b, value, len);
	imap_out_done(s);
}

#define META_ADMIN	"/shared/admin"

/* The server's /shared/admin, or NULL (imapd.admin_uri empty). */
static const char *
meta_admin(const struct imap_session *s)
{
	const char *v = s->conf->imapd.admin_uri;

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Is a (server) entry name /shared/admin or under it? */
static int
meta_is_admin(const char *entry)
{
	size_t n = sizeof(META_ADMIN) - 1;

	return strncmp(entry, META_ADMIN, n) == 0 &&
	    (entry[n] == '\0' || entry[n] == '/');
}

/* Does GETMETADATA "" of entry at depth give /shared/admin?  It is
 * itself, or its parent /shared under DEPTH 1 or infinity. */
static int
meta_admin_asked(const char *entry, int depth)
{
	return strcmp(entry, META_ADMIN) == 0 ||
	    (depth != 0 && strcmp(entry, "/shared") == 0);
}

/* How one command gets entries: its options and what it left out. */
struct meta_get {
	uint64_t	 maxsize;	/* MAXSIZE, or UINT64_MAX */
	int		 depth;		/* DEPTH: 0, 1, -1 infinity */
	size_t		 longest;	/* the largest left out for MAXSIZE */
	size_t		 budget;	/* octets of values still allowed */
	int		 over;		/* a value left out for the budget */
};

/* One value found into the response, unless over MAXSIZE (§4.2.1) or
 * past the command's budget of octets. */
static void
meta_get_put(struct imap_session *s, struct buf **b, const char *name,
    int server, const char *entry, const char *value, size_t len,
    struct meta_get *g)
{
	if (len > g->maxsize) {
		if (len > g->longest)
			g->longest = len;
		return;
	}
	if (len > g->budget) {
		g->over = 1;
		g->budget = 0;
		return;
	}
	g->budget -= len;
	meta_put_entry(s, b, name, server, entry, value, len);
}

/*
 * One entry name (checked, lower case) of a target into the METADATA
 * response *b starts: NIL when it does not exist (not so under DEPTH,
 * as in §4.2.2's example), values over MAXSIZE left out (§4.2.1), and
 * once the command's budget of octets is spent every value.  The
 * server's /shared/admin from the configuration, not the store.  0, or
 * -1 (a store error; *b open).
 */
static int
meta_get_entry(struct imap_session *s, const struct meta_target *t,
    const char *name, int server, const char *entry, struct meta_get *g,
    struct buf **b)
{
	char key[META_KEY_MAX + 1];
	struct mmeta *m;
	const char *admin = NULL;
	size_t j, n, skip;
	int asked = server && meta_admin_asked(entry, g->depth);

	meta_key(t, entry, key, sizeof(key));
	/* what is stored under the key, named as the client did */
	skip = strlen(key) - strlen(entry);
	if (mstore_metadata_get(t->st, t->mailbox, key, g->depth, &m,
	    &n) == -1)
		return -1;
	if (asked && (admin = meta_admin(s)) != NULL)
		meta_get_put(s, b, name, server, META_ADMIN, admin,
		    strlen(admin), g);
	/* (one stored before the entry was the server's is not it) */
	for (j = 0; server && j < n; j++)
		if (strcmp(m[j].name, META_ADMIN) == 0)
			m[j].name[0] = '\0';
	if (g->depth == 0 && admin == NULL && (n == 0 || m[0].name[0] ==
	    '\0'))
		meta_put_entry(s, b, name, server, entry, NULL, 0);
	for (j = 0; j < n; j++)
		if (m[j].name[0] != '\0')
			meta_get_put(s, b, name, server, m[j].name + skip,
			    m[j].value, m[j].len, g);
	mmeta_free(&m, &n);
	return 0;
}

/* GETMETADATA's options (§4.2.1, §4.2.2): 0, or -1 (malformed). */
static int
meta_options(const struct imap_arg *l, uint64_t *maxsize, int *depth)
{
	const struct imap_arg *o;
	size_t i;

	if (l->nlist == 0 || l->nlist % 2 != 0)
		return -1;
	for (i = 0; i < l->nlist; i += 2) {
		o = &l->list[i + 1];
		if (imap_arg_atom_is(&l->list[i], "MAXSIZE")) {
			if (imap_arg_number(o, UINT32_MAX, maxsize) == -1)
				return -1;
		} else if (imap_arg_atom_is(&l->list[i], "DEPTH")) {
			if (imap_arg_atom_is(o, "0"))
				*depth = 0;
			else if (imap_arg_atom_is(o, "1"))
				*depth = 1;
			else if (imap_arg_atom_is(o, "infinity"))
				*depth = -1;
			else
				return -1;
		} else
			return -1;
	}
	return 0;
}

/*
 * GETMETADATA [(options)] mailbox entry
 * GETMETADATA [(options)] mailbox (entry ...)
 * One METADATA response with the entries asked for (NIL for one that
 * does not exist), those over MAXSIZE left out and the largest of them
 * told in OK [METADATA LONGENTRIES n] (§4.2.1).
 */
int
cmd_getmetadata(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], entry[META_NAME_MAX + 1];
	const struct imap_arg *entries, *opts = NULL, *mbox;
	struct meta_target t;
	struct meta_get g;
	struct buf *b = NULL;
	uint64_t maxsize = UINT64_MAX;
	size_t nentries, i, longest;
	int depth = 0, server;

	if (nargs == 3 && args[0].type == IMAP_ARG_LIST) {
		opts = &args[0];
		mbox = &args[1];
	} else if (nargs == 3 && args[1].type == IMAP_ARG_LIST) {
		/* The order of the RFC's own examples (§4.2.1, §4.2.2:
		 * mailbox, then options), not its ABNF's: taken too. */
		opts = &args[1];
		mbox = &args[0];
	} else if (nargs == 2)
		mbox = &args[0];
	else {
		imap_tagged(s, "BAD Usage: GETMETADATA [(options)] mailbox "
		    "entries");
		return -1;
	}
	if (opts != NULL && meta_options(opts, &maxsize, &depth) == -1) {
		imap_tagged(s, "BAD Malformed GETMETADATA options");
		return -1;
	}
	memset(&g, 0, sizeof(g));
	g.maxsize = maxsize;
	g.depth = depth;
	g.budget = SIZE_MAX;
	if (args[nargs - 1].type == IMAP_ARG_LIST) {
		entries = args[nargs - 1].list;
		nentries = args[nargs - 1].nlist;
	} else {
		entries = &args[nargs - 1];
		nentries = 1;
	}
	if (nentries == 0) {
		imap_tagged(s, "BAD No entry names");
		return -1;
	}
	for (i = 0; i < nentries; i++)
		if (meta_entry_name(&entries[i], 1, entry, sizeof(entry)) ==
		    -1) {
			imap_tagged(s, "BAD Invalid entry name");
			return -1;
		}
	if (meta_mailbox(s, mbox, name, sizeof(name), &server) == -1)
		return -1;
	if (meta_target(s, name, server, &t) == -1)
		return 0;
	for (i = 0; i < nentries; i++) {
		meta_entry_name(&entries[i], 1, entry, sizeof(entry));
		if (meta_get_entry(s, &t, name, server, entry, &g, &b) == -1) {
			if (b != NULL)
				buf_puts(b, ")\r\n");
			return imap_acl_store_no(s, t.st, "getmetadata");
		}
	}
	if (b != NULL) {
		buf_puts(b, ")\r\n");
		imap_out_done(s);
	}
	longest = g.longest;
	if (longest > 0)
		imap_tagged(s, "OK [METADATA LONGENTRIES %zu] GETMETADATA "
		    "completed", longest);
	else
		imap_tagged(s, "OK GETMETADATA completed");
	return 0;
}

/*
 * SETMETADATA mailbox (entry value ...): NIL removes (§4.3); all or
 * nothing.
 */
int
cmd_setmetadata(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], key[META_KEY_MAX + 1];
	const struct imap_arg *l, *v;
	struct meta_target t;
	struct mmeta *set = NULL;
	size_t i, n = 0;
	int server, r = -1;

	if (nargs != 2 || args[1].type != IMAP_ARG_LIST ||
	    args[1].nlist == 0 || args[1].nlist % 2 != 0) {
		imap_tagged(s, "BAD Usage: SETMETADATA mailbox "
		    "(entry value ...)");
		return -1;
	}
	l = &args[1];
	set = util_calloc(l->nlist / 2, sizeof(*set));
	for (i = 0; i < l->nlist; i += 2, n++) {
		set[n].name = util_calloc(1, META_KEY_MAX + 1);
		if (meta_entry_name(&l->list[i], 0, set[n].name,
		    META_NAME_MAX + 1) == -1) {
			imap_tagged(s, "BAD Invalid entry name");
			n++;
			goto out;
		}
		v = &l->list[i + 1];
		if (imap_arg_is_nil(v))
			continue;
		if (v->type != IMAP_ARG_STRING && v->type != IMAP_ARG_LITERAL) {
			imap_tagged(s, "BAD Value must be a string or NIL");
			n++;
			goto out;
		}
		/* NUL only in a literal8 (RFC 5464 §5, RFC 3516 §4.1). */
		if (!v->binary && memchr(v->str, '\0', v->len) != NULL) {
			imap_tagged(s, "BAD NUL in a value: use literal8");
			n++;
			goto out;
		}
		set[n].value = v->str;	/* weak: the parser's */
		set[n].len = v->len;
	}
	if (meta_mailbox(s, &args[0], name, sizeof(name), &server) == -1)
		goto out;
	r = 0;
	if (meta_target(s, name, server, &t) == -1)
		goto out;
	for (i = 0; server && i < n; i++)
		if (meta_is_admin(set[i].name)) {
			imap_tagged(s, "NO [NOPERM] %s is the server's, "
			    "read-only (RFC 5464 §3.2.1.1)", META_ADMIN);
			goto out;
		}
	for (i = 0; i < n; i++) {
		meta_key(&t, set[i].name, key, sizeof(key));
		util_strcpy(set[i].name, key, META_KEY_MAX + 1);
	}
	for (i = 0; i < n; i++)
		if (set[i].value != NULL && set[i].len > META_MAXSIZE) {
			imap_tagged(s, "NO [METADATA MAXSIZE %d] Value too "
			    "large", META_MAXSIZE);
			r = 0;
			goto out;
		}
	if (mstore_metadata_set(t.st, t.mailbox, set, n,
	    META_MAX_ENTRIES) == -1) {
		/* RFC 5464 §4.3's own code for the limit; the rest as
		 * every store error */
		if (mstore_errclass(t.st) == MSTORE_ELIMIT)
			imap_tagged(s, "NO [METADATA TOOMANY] Too many "
			    "annotations");
		else
			imap_acl_store_no(s, t.st, "setmetadata");
		goto out;
	}
	imap_tagged(s, "OK SETMETADATA completed");
out:
	for (i = 0; i < n; i++)
		free(set[i].name);
	free(set);
	return r;
}

/*
 * ---- LIST-METADATA (RFC 9590) ----
 *
 * LIST ... RETURN (METADATA (entry ...)): after each listed mailbox's
 * LIST, its METADATA response as GETMETADATA would give it (§3),
 * nothing for a mailbox that is not there (\NonExistent, \Noselect) or
 * whose annotations the user may not read (§3.3 of RFC 5464: a shared
 * folder without "l" and one of "r s w i p"), for a LIST must not fail
 * for one folder.  Options as GETMETADATA's, MAXSIZE and DEPTH, either
 * as a list "(MAXSIZE n)" or bare before the entries; the entries
 * bare or as a list.
 *
 * Limits: LISTMETA_MAX_ENTRIES entry names a command (BAD beyond), and
 * LISTMETA_BUDGET octets of values a command: values past it are left
 * out and the command ends NO [LIMIT] (RFC 5530), so that a client is
 * not told a partial answer is whole.
 */
#define LISTMETA_MAX_ENTRIES	50
#define LISTMETA_BUDGET		(4 * 1024 * 1024)

struct imap_listmeta {
	char		 entries[LISTMETA_MAX_ENTRIES][META_NAME_MAX + 1];
	size_t		 nentries;
	struct meta_get	 g;
};

static int
listmeta_add(struct imap_listmeta *lm, const struct imap_arg *a)
{
	if (lm->nentries >= LISTMETA_MAX_ENTRIES ||
	    meta_entry_name(a, 1, lm->entries[lm->nentries],
	    sizeof(lm->entries[0])) == -1)
		return -1;
	lm->nentries++;
	return 0;
}

static int
listmeta_is_option(const struct imap_arg *a)
{
	return imap_arg_atom_is(a, "MAXSIZE") || imap_arg_atom_is(a, "DEPTH");
}

int
imap_listmeta_parse(const struct imap_arg *a, struct imap_listmeta **lm_r)
{
	struct imap_listmeta *lm;
	struct imap_arg pair;
	size_t i, k;

	*lm_r = NULL;
	if (a->type != IMAP_ARG_LIST)
		return -1;
	lm = util_calloc(1, sizeof(*lm));
	lm->g.maxsize = UINT64_MAX;
	lm->g.budget = LISTMETA_BUDGET;
	for (i = 0; i < a->nlist; i++) {
		const struct imap_arg *x = &a->list[i];

		if (x->type == IMAP_ARG_LIST && x->nlist > 0 &&
		    listmeta_is_option(&x->list[0])) {
			if (meta_options(x, &lm->g.maxsize, &lm->g.depth) == -1)
				goto bad;
		} else if (x->type == IMAP_ARG_LIST) {
			for (k = 0; k < x->nlist; k++)
				if (listmeta_add(lm, &x->list[k]) == -1)
					goto bad;
		} else if (listmeta_is_option(x)) {
			if (i + 1 >= a->nlist)
				goto bad;
			/* "MAXSIZE n" bare: as the list "(MAXSIZE n)" */
			memset(&pair, 0, sizeof(pair));
			pair.type = IMAP_ARG_LIST;
			pair.list = (struct imap_arg *)x;
			pair.nlist = 2;
			if (meta_options(&pair, &lm->g.maxsize,
			    &lm->g.depth) == -1)
				goto bad;
			i++;
		} else if (listmeta_add(lm, x) == -1)
			goto bad;
	}
	if (lm->nentries == 0)
		goto bad;
	*lm_r = lm;
	return 0;
bad:
	free(lm);
	return -1;
}

void
imap_listmeta_reply(struct imap_session *s, struct imap_listmeta *lm,
    const char *name)
{
	struct meta_target t;
	struct buf *b = NULL;
	size_t i;

	if (meta_target_find(s, name, 0, &t) != META_T_OK)
		return;
	for (i = 0; i < lm->nentries; i++)
		if (meta_get_entry(s, &t, name, 0, lm->entries[i], &lm->g,
		    &b) == -1) {
			log_warn("sid=%s list-metadata of %.100s: %s",
			    s->id, name, mstore_error(t.st));
			break;
		}
	if (b != NULL) {
		buf_puts(b, ")\r\n");
		imap_out_done(s);
	}
}

void
imap_listmeta_tagged(struct imap_session *s, const struct imap_listmeta *lm)
{
	if (lm->g.over)
		imap_tagged(s, "NO [LIMIT] LIST-METADATA answers at most %d "
		    "octets of values: ask for fewer", LISTMETA_BUDGET);
	else if (lm->g.longest > 0)
		imap_tagged(s, "OK [METADATA LONGENTRIES %zu] LIST completed",
		    lm->g.longest);
	else
		imap_tagged(s, "OK LIST completed");
}

void
imap_listmeta_free(struct imap_listmeta **lm)
{
	free(*lm);
	*lm = NULL;
}
