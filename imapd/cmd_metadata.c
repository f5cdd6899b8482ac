/*
 * METADATA and METADATA-SERVER (RFC 5464): GETMETADATA, SETMETADATA.
 *
 * Annotations of a folder, or of the server (mailbox ""), kept in the
 * user's index (maildir/metadata.c).  One user owns every mailbox it
 * sees, so its /private and /shared entries are both its own, kept
 * apart by their names (/private/comment is not /shared/comment).
 * Entry names are case-insensitive (§3.2): kept in lower case.
 *
 * Limits, all of them client-controlled input: a value of at most
 * META_MAXSIZE octets (NO [METADATA MAXSIZE n], §4.3), at most
 * META_MAX_ENTRIES entries for the server and for each folder (NO
 * [METADATA TOOMANY]), entry names of at most META_NAME_MAX octets.
 * No unsolicited METADATA responses (no NOTIFY).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "session.h"

#define META_MAXSIZE		65536	/* octets of one value */
#define META_MAX_ENTRIES	200	/* of the server, of each folder */
#define META_NAME_MAX		1024	/* octets of an entry name */

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
	struct mmeta *m;
	struct buf *b = NULL;
	uint64_t maxsize = UINT64_MAX;
	size_t nentries, i, j, n, longest = 0;
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
	if (!server && !mstore_exists(s->store, name)) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	for (i = 0; i < nentries; i++) {
		meta_entry_name(&entries[i], 1, entry, sizeof(entry));
		if (mstore_metadata_get(s->store, server ? NULL : name, entry,
		    depth, &m, &n) == -1) {
			if (b != NULL)
				buf_puts(b, ")\r\n");
			return imap_store_no(s, "getmetadata");
		}
		/* An entry asked for by name that does not exist is NIL;
		 * under DEPTH, only what exists (the example of §4.2.2). */
		if (depth == 0 && n == 0)
			meta_put_entry(s, &b, name, server, entry, NULL, 0);
		for (j = 0; j < n; j++) {
			if (m[j].len > maxsize) {
				if (m[j].len > longest)
					longest = m[j].len;
				continue;
			}
			meta_put_entry(s, &b, name, server, m[j].name,
			    m[j].value, m[j].len);
		}
		mmeta_free(&m, &n);
	}
	if (b != NULL) {
		buf_puts(b, ")\r\n");
		imap_out_done(s);
	}
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
	char name[MAILDIR_NAME_MAX + 1];
	const struct imap_arg *l, *v;
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
		set[n].name = util_calloc(1, META_NAME_MAX + 1);
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
	for (i = 0; i < n; i++)
		if (set[i].value != NULL && set[i].len > META_MAXSIZE) {
			imap_tagged(s, "NO [METADATA MAXSIZE %d] Value too "
			    "large", META_MAXSIZE);
			r = 0;
			goto out;
		}
	r = 0;
	if (mstore_metadata_set(s->store, server ? NULL : name, set, n,
	    META_MAX_ENTRIES) == -1) {
		/* RFC 5464 §4.3's own code for the limit; the rest as
		 * every store error */
		if (mstore_errclass(s->store) == MSTORE_ELIMIT)
			imap_tagged(s, "NO [METADATA TOOMANY] Too many "
			    "annotations");
		else
			imap_store_no(s, "setmetadata");
		goto out;
	}
	imap_tagged(s, "OK SETMETADATA completed");
out:
	for (i = 0; i < n; i++)
		free(set[i].name);
	free(set);
	return r;
}
