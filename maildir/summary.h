/*
 * summary: what the index keeps of a message's header to draw a list
 * (msglist.c) without reading the message again.  Only the header block
 * is read, at most SUMMARY_HEADER_MAX octets of it, and every value is
 * bounded: a hostile header costs a bounded read and a bounded row.
 * Not for use outside maildir/.
 *
 * This is the one place of the store that uses GMime (RFC 2047 words,
 * addresses, dates), so that it can move to a shared MIME module.
 */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#define SUMMARY_HEADER_MAX	(64 * 1024)	/* octets of header read */
#define SUMMARY_FIELD_MAX	(16 * 1024)	/* one field, unfolded, raw */
#define SUMMARY_SUBJECT_MAX	1000		/* subject, base subject */
#define SUMMARY_NAME_MAX	200		/* from_name, sort key */
#define SUMMARY_ADDR_MAX	320		/* 64 + "@" + 255 (RFC 5321) */
#define SUMMARY_TO_MAX		200		/* to_text */
#define SUMMARY_MSGID_MAX	998		/* RFC 5322 §2.1.1's line */
#define SUMMARY_REFS_MAX	2048		/* references */
#define SUMMARY_ADDRS		32		/* addresses parsed, per field */
#define SUMMARY_ADDR_RAW	2048		/* and octets of them */

#define SUMMARY_NO_DATE		INT64_MIN

/* Strings malloc'd, valid UTF-8 without control characters. */
struct summary {
	int64_t	 sent;		/* Date:, or SUMMARY_NO_DATE */
	char	*from_name;	/* "" when none */
	char	*from_addr;	/* "local@domain", or "" */
	char	*from_key;	/* how FROM sorts: name or addr, casemap'd */
	char	*to_text;	/* "Ann, bob@example.org, …", or "" */
	char	*subject;	/* decoded, unfolded, or "" */
	char	*base_subject;	/* RFC 5256 §2.1, casemap'd */
	char	*message_id;	/* "<id>", or NULL */
	char	*in_reply_to;	/* its first "<id>", or NULL */
	char	*references;	/* "<a> <b> ...", or NULL */
	int	 has_attachment;
	/* An octet >= 0x80 in the header block (RFC 6532): 1 or 0; -1 when
	 * not known (its end was not read).  Kept in msg.hdr8, not here. */
	int	 hdr8;
	/* IMAP SORT's keys (RFC 5256 §3, RFC 5957), "" when none: */
	char	*from_mbox;	/* the first From's addr-mailbox, */
	char	*to_mbox;	/* casemap'd (RFC 5051) */
	char	*cc_mbox;
	char	*to_key;	/* DISPLAYTO, as from_key is DISPLAYFROM */
	int	 reply;		/* the subject says reply or forward */
	/*
	 * The same six keys unfolded (clean, bounded alike), for the
	 * comparators a session may choose instead of i;unicode-casemap,
	 * i;ascii-casemap and i;octet (RFC 5255 §4.7): a key folded by one
	 * comparator cannot be folded by another.
	 */
	char	*raw_from_mbox, *raw_to_mbox, *raw_cc_mbox;
	char	*raw_from_key, *raw_to_key, *raw_base_subject;
};

/* The header block at the start of fd (read with pread(2), so the
 * offset stays).  0, or -1 with errno (s is then empty). */
int	summary_read(int fd, struct summary *s);
/* The same from memory: the header ends at the first empty line, or
 * len. */
void	summary_parse(const char *hdr, size_t len, struct summary *s);
/* An empty summary (no header at all): what a vanished file gets. */
void	summary_empty(struct summary *s);
void	summary_free(struct summary *s);
/* The RFC 5256 §2.1 base subject of a decoded subject in its
 * i;unicode-casemap form (lib/casemap.h), as SORT and THREAD compare
 * them; malloc'd.  *reply_r (unless
 * NULL): whether a "Re:"/"Fwd:" leader, a "(fwd)" trailer or a "[fwd:
 * ...]" wrapper was taken off, which makes the message a reply or a
 * forward for THREAD=REFERENCES (RFC 5256 §2.1, §3 step 5). */
char	*summary_base_subject(const char *subject, int *reply_r);
/* The same base subject unfolded (clean, at most SUMMARY_SUBJECT_MAX). */
char	*summary_base_subject_raw(const char *subject, int *reply_r);

#endif
