/*
 * mime: a message read as MIME (RFC 2045-2049 on RFC 5322), the one
 * reader imapd (FETCH, SEARCH) and the webmail (reading, attachments)
 * share.
 *
 * A message is held in its CRLF form (every LF not after a CR gets
 * one), because every size and offset IMAP reports is on that form.
 * The part tree is our own scan of header ends and multipart
 * boundaries, so that every part is an exact byte range of the
 * message; GMime parses what is inside a field (Content-Type and
 * Content-Disposition parameters with RFC 2231, RFC 2047 encoded
 * words, dates) and decodes bodies.  Strings handed out are ours
 * (malloc'd or owned by the message), never GMime's.
 *
 * Malformed MIME never fails: a missing close delimiter ends the last
 * part at the end of its parent, a boundary never seen gives no parts,
 * and a multipart or message/rfc822 part below MIME_MAX_DEPTH levels
 * (or past MIME_MAX_PARTS parts) is an opaque application/octet-stream
 * body, whose octets SEARCH still reads as plain text.
 *
 * Part ids are IMAP's section numbers (RFC 3501 §6.4.5), chosen so that
 * BODY[id] is always the part's body, encoded as it stands:
 *	"1", "2.3"	a part of a multipart, or the body of a message
 *			that is not multipart (a one-part message's
 *			body is its part "1")
 *	"TEXT"		the top-level message's body when it is multipart
 *	"2.TEXT"	the multipart body of the message in the
 *			message/rfc822 part "2" (a one-part one is "2.1")
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>
#include <stdint.h>

#define MIME_MAX_DEPTH		50	/* deeper multiparts/messages are
					   opaque */
#define MIME_MAX_PARTS		10000	/* per message; later delimiters
					   are ignored */
/* The longest part id: a number of at most 5 digits and a dot for
 * each level, then ".TEXT". */
#define MIME_PART_ID_MAX	(6 * (MIME_MAX_DEPTH + 1) + 6)

struct mime_msg;	/* one message, loaded */
struct mime_part;	/* one entity of its tree, owned by the message */

/* ---- loading ---- */

/* Read a message (LF or CRLF on disk) from fd, refusing more than
 * max_size octets; NULL on error. */
struct mime_msg *mime_msg_load(int fd, size_t max_size);
/* A message from memory (copied); NULL if memory runs out. */
struct mime_msg *mime_msg_from_mem(const char *data, size_t len);
void	mime_msg_free(struct mime_msg **m);
/* GMime made ready (done by the functions here; for a caller that builds
 * a message with GMime itself, as the webmail's compose). */
void	mime_init(void);
/* A string GLib allocated (g_free() frees it), copied to malloc'd memory
 * as valid UTF-8 ("" for NULL); for callers of GLib's text functions. */
char	*mime_from_glib(char *g);
/* The whole message in its CRLF form (NUL-terminated after len). */
const char *mime_msg_data(const struct mime_msg *m, size_t *len);
/*
 * n octets of a message, a piece at a time, into its CRLF form: out
 * holds up to 2 * n; *prev is the octet before in ('\0' at the start),
 * and becomes in's last.  The length of out.
 */
size_t	mime_crlf_piece(const char *in, size_t n, char *out, char *prev);

/* ---- the part tree ---- */

/* The top-level message as an entity (built on first use). */
struct mime_part *mime_msg_root(struct mime_msg *m);
/* A multipart's parts (0 for anything else), the i-th from 0. */
size_t	mime_part_nchildren(const struct mime_part *p);
struct mime_part *mime_part_child(const struct mime_part *p, size_t i);
/* A message/rfc822 part's message, or NULL. */
struct mime_part *mime_part_message(const struct mime_part *p);
/* Is the line p (n octets, its line end included or not) a delimiter
 * of boundary b (RFC 2046 §5.1.1)?  1: "--b" and transport padding;
 * 2: the close delimiter "--b--"; 0: any other line. */
int	mime_delimiter(const char *p, size_t n, const char *b, size_t blen);
/* Below the caps: shown as application/octet-stream, not looked into. */
int	mime_part_is_opaque(const struct mime_part *p);
/*
 * The part numbered path[0].path[1]... (RFC 3501 §6.4.5: part k of a
 * message is its multipart's k-th part, or for a one-part message the
 * message itself when k is 1), or NULL.
 */
struct mime_part *mime_part_at(struct mime_msg *m, const uint32_t *path,
	    size_t n);

/*
 * The Content-Type (RFC 2045 §5): without one, text/plain;
 * charset=US-ASCII (RFC 2045 §5.2), message/rfc822 inside a
 * multipart/digest (RFC 2046 §5.1.5); an invalid one counts as absent.
 * Type and subtype as written; a match ignores case, subtype "*" is
 * any.
 */
const char *mime_part_type(const struct mime_part *p);
const char *mime_part_subtype(const struct mime_part *p);
int	mime_part_is(const struct mime_part *p, const char *type,
	    const char *subtype);

enum mime_params {
	MIME_PARAMS_TYPE,		/* Content-Type */
	MIME_PARAMS_DISPOSITION,	/* Content-Disposition */
};
/*
 * The i-th parameter (from 0, in the order written) with RFC 2231
 * continuations joined and values decoded: 0, or -1 past the last.
 * *value is never NULL.
 */
int	mime_part_param(struct mime_part *p, enum mime_params which,
	    size_t i, const char **name, const char **value);
/* A parameter's value by name (case-insensitive), or NULL. */
const char *mime_part_param_get(struct mime_part *p, enum mime_params which,
	    const char *name);
/* The Content-Disposition's value as written (RFC 2183), or NULL when
 * absent, empty or unparsable. */
const char *mime_part_disposition(struct mime_part *p);

/* The header, blank line included, and the body: slices of the
 * message's data. */
const char *mime_part_header(const struct mime_part *p, size_t *len);
const char *mime_part_body(const struct mime_part *p, size_t *len);
/* Text lines of the body (a last line without CRLF counts). */
size_t	mime_part_lines(const struct mime_part *p);

/* One header field as it stands (RFC 5322 §2.2). */
struct mime_field {
	const char	*name;		/* NULL when the line has no colon */
	size_t		 namelen;	/* blanks before the colon dropped */
	const char	*value;		/* after the colon, still folded */
	size_t		 valuelen;	/* without the final CRLF */
	const char	*line;		/* the whole field, CRLFs included */
	size_t		 linelen;
};
/* The fields of p's header in order: start with *pos = 0; 1, or 0 at
 * the end. */
int	mime_field_next(const struct mime_part *p, size_t *pos,
	    struct mime_field *f);
/* Is the field called name (case-insensitive)? */
int	mime_field_is(const struct mime_field *f, const char *name);
/* Its value unfolded (RFC 5322 §2.2.3), blanks trimmed; malloc'd. */
char	*mime_field_value(const struct mime_field *f);
/* The first field called name in p's header, unfolded, not decoded;
 * malloc'd, NULL if none. */
char	*mime_part_field(const struct mime_part *p, const char *name);
/* The same for n names (at most MIME_FIELDS_MAX) in one pass over the
 * header: values[i] for names[i], NULL if none. */
#define MIME_FIELDS_MAX		16
void	mime_part_fields(const struct mime_part *p, const char *const *names,
	    size_t n, char **values);

/* ---- decoding ---- */

/* Header text with RFC 2047 encoded words decoded, as valid UTF-8;
 * malloc'd. */
char	*mime_decode_header(const char *raw);
/* An RFC 5322 date-time as seconds since the epoch, or -1. */
int64_t	mime_date_parse(const char *value);

/*
 * An address-list (RFC 5322 §3.4), one callback per mailbox and per
 * group start and end, in order.  Comments and blanks are gone; a bare
 * addr-spec's trailing comment serves as its name.  Malformed input
 * gives what could be made of it, never an error.
 */
enum mime_addr_kind {
	MIME_ADDR_MAILBOX,
	MIME_ADDR_GROUP,	/* a group's start: name is its name */
	MIME_ADDR_GROUP_END,	/* its end: every string NULL */
};
struct mime_addr {
	enum mime_addr_kind	 kind;
	const char	*name;		/* display name as written (words
					   joined by one space, quotes
					   gone, encoded words kept), or
					   NULL */
	const char	*name_utf8;	/* the same, RFC 2047-decoded */
	const char	*route;		/* obs-route "@a,@b", or NULL */
	const char	*local;		/* local part as written (a quoted
					   one keeps its quotes), or NULL */
	const char	*domain;	/* or NULL */
};
void	mime_addr_parse(const char *value,
	    void (*cb)(const struct mime_addr *, void *), void *arg);

/* ---- for reading a message (the webmail) ---- */

struct mime_part_info {
	char		 id[MIME_PART_ID_MAX];	/* see the top of this file */
	const char	*type, *subtype;	/* lower case ("text",
						   "plain") */
	const char	*charset;		/* as written, or NULL */
	const char	*filename;		/* the disposition's filename,
						   else the type's name,
						   decoded (RFC 2231, 2047)
						   to UTF-8; or NULL */
	const char	*content_id;		/* without "<>", or NULL */
	const char	*disposition;		/* lower case ("inline",
						   "attachment"), or NULL */
	size_t		 size;			/* encoded body octets */
	size_t		 lines;			/* of the encoded body */
	int		 depth;			/* the top-level entity: 0 */
	int		 is_multipart;		/* containers */
	int		 is_message;		/* message/rfc822: its message
						   follows, one deeper */
};
/*
 * Every entity depth-first, the top-level one and containers included;
 * cb returns non-0 to stop, and that is what mime_parts() returns (0
 * when all were seen).  The strings are valid during the call only.
 */
int	mime_parts(struct mime_msg *m,
	    int (*cb)(const struct mime_part_info *, void *), void *arg);
/* The entity with that id, or NULL. */
struct mime_part *mime_part_find(struct mime_msg *m, const char *id);
/* A part's body with its Content-Transfer-Encoding undone (malloc'd,
 * NUL-terminated after *len), NULL if there is no such part. */
char	*mime_part_content(struct mime_msg *m, const char *id, size_t *len);
/* A text part's body decoded and converted from its charset to UTF-8
 * (invalid sequences replaced; up to a NUL), malloc'd; NULL if there is
 * no such part or it is not text. */
char	*mime_part_text(struct mime_msg *m, const char *id, size_t *len);
/* A header field of the top-level message (part_id NULL or "") or of
 * the message in a message/rfc822 part, the first of that name:
 * unfolded, RFC 2047-decoded UTF-8 (mime_header()) or as written
 * (mime_header_raw(), for mime_addr_parse()); malloc'd, NULL if absent. */
char	*mime_header(struct mime_msg *m, const char *part_id,
	    const char *name);
char	*mime_header_raw(struct mime_msg *m, const char *part_id,
	    const char *name);

/* ---- for SEARCH (RFC 3501 §6.4.4; compared through lib/casemap.h) ---- */

/* Every field called name, unfolded and decoded (RFC 2047), joined by
 * CRLF; "" if absent; malloc'd. */
char	*mime_msg_header_text(struct mime_msg *m, const char *name);
/* The same, each field followed by its addresses, one a line, as
 * "name <local@domain>" (name decoded), so that "<a (x) @ b.org>" is
 * found as "a@b.org". */
char	*mime_msg_address_text(struct mime_msg *m, const char *name);
/* Every header field as "Name: decoded value" lines. */
char	*mime_msg_headers_text(struct mime_msg *m);
/* The text parts (decoded and converted to UTF-8) and the headers and
 * text of attached messages; below the caps, the octets as they are. */
char	*mime_msg_body_text(struct mime_msg *m);
/* The top-level Date: as seconds since the epoch, or -1. */
int64_t	mime_msg_date(struct mime_msg *m);

/* ---- decoding a body piece by piece (mime_decode.c) ---- */

enum mime_cte {			/* Content-Transfer-Encoding, RFC 2045 §6 */
	MIME_CTE_7BIT, MIME_CTE_8BIT, MIME_CTE_BINARY, MIME_CTE_BASE64,
	MIME_CTE_QP, MIME_CTE_UNKNOWN,
};
/* A field's value (NULL when absent: 7bit), any case. */
enum mime_cte mime_cte_parse(const char *value);
struct mime_decoder;
/* NULL for MIME_CTE_UNKNOWN.  text: the content is text (its line ends
 * become CRLF whatever the encoding; 7bit, 8bit and quoted-printable
 * always get CRLF). */
struct mime_decoder *mime_decoder_new(enum mime_cte cte, int text);
void	mime_decoder_free(struct mime_decoder **d);
/* Room out needs for n octets in. */
size_t	mime_decoder_outmax(size_t n);
/* Decode n octets into out; the octets out.  At the end, finish gives
 * what the decoder still held (out: mime_decoder_outmax(0)). */
size_t	mime_decoder_step(struct mime_decoder *d, const char *in, size_t n,
	    char *out);
size_t	mime_decoder_finish(struct mime_decoder *d, char *out);

#endif
