/*
 * LIST-METADATA (RFC 9590): LIST's RETURN (METADATA (...)), in
 * imapd/cmd_metadata.c beside GETMETADATA, whose rules it follows.
 */
#ifndef IMAPD_LISTMETA_H
#define IMAPD_LISTMETA_H

struct imap_session;
struct imap_arg;
struct imap_listmeta;

/* The METADATA return option's argument: *lm_r (free with
 * imap_listmeta_free()), or -1 (malformed, or over the limits). */
int	imap_listmeta_parse(const struct imap_arg *a,
	    struct imap_listmeta **lm_r);
/* The METADATA response of one listed mailbox (internal name), after
 * its LIST; nothing for one the user may not read annotations of. */
void	imap_listmeta_reply(struct imap_session *s, struct imap_listmeta *lm,
	    const char *name);
/* LIST's tagged reply: OK, with [METADATA LONGENTRIES n] when MAXSIZE
 * left entries out, or NO [LIMIT] when the budget of the command was
 * spent. */
void	imap_listmeta_tagged(struct imap_session *s,
	    const struct imap_listmeta *lm);
void	imap_listmeta_free(struct imap_listmeta **lm);

#endif
