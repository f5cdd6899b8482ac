/*
 * binary.h: FETCH BINARY and BINARY.SIZE (RFC 3516), binary.c; for
 * cmd_fetch.c.
 */
#ifndef IMAP_BINARY_H
#define IMAP_BINARY_H

#include <stdint.h>
#include <sys/types.h>

#include "../global/mime.h"

#define BINARY_MAX_PATH		64	/* numbers in a section-part */
#define BINARY_SECTION_MAX	560	/* octets of its text */

struct imap_session;

/* A part of one message, found, with its decoded size. */
struct binary_part {
	int		 fd;
	int		 exists;	/* else: empty (no such part) */
	off_t		 boff, end;	/* its body in the file */
	enum mime_cte	 cte;
	int		 text;
	uint64_t	 size;		/* decoded */
	int		 nul;		/* a NUL in it: literal8 */
};

enum binary_result {
	BINARY_OK,
	BINARY_GONE,		/* the message was expunged */
	BINARY_UNKNOWN_CTE,	/* NO [UNKNOWN-CTE] (RFC 3516 §4.3) */
	BINARY_ERROR,
};

/* section-binary: "" or "1.2.3" (RFC 3516 §4.2).  1 or 0. */
int	imap_binary_section_valid(const char *section);
/* The part of the message file fd that section names (bp->fd is not
 * touched): exists, its body's range, encoding and whether it is text.
 * 0, or -1 on a read error or a malformed section. */
int	imap_binary_locate(int fd, const char *section, struct binary_part *bp);
/* Its decoded size and whether it holds a NUL (one decoding pass over
 * bp->fd).  0 or -1. */
int	imap_binary_measure(struct binary_part *bp);
/* Find the part of the selected mailbox's message uid and its decoded
 * size (remembered for the session).  Close it even after an error. */
enum binary_result imap_binary_open(struct imap_session *s, uint32_t uid,
	    const char *section, struct binary_part *bp);
void	imap_binary_close(struct binary_part *bp);
/* Forget the remembered sizes (the session is over: nothing of it is
 * left for the next one). */
void	imap_binary_forget(void);
/* "label {n}" or "label ~{n}" and the decoded octets (those of
 * <offset.length> when partial), into the session's output. */
void	imap_binary_send(struct imap_session *s, const char *label,
	    const struct binary_part *bp, int partial, uint64_t offset,
	    uint64_t length);

#endif
