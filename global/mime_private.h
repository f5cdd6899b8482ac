/*
 * mime_private.h: what global/mime*.c share and no one else sees.
 */
#ifndef MIME_PRIVATE_H
#define MIME_PRIVATE_H

#include <gmime/gmime.h>

#include "mime.h"

struct mime_part {
	const char		*data;		/* the message's */
	size_t			 hoff, hlen;	/* header and blank line */
	size_t			 boff, blen;	/* body */
	size_t			 lines;		/* text lines of the body */
	int			 depth;		/* the top-level entity: 0 */
	GMimeContentType	*ct;		/* never NULL once built */
	GMimeContentDisposition	*cd;		/* parsed on first need */
	int			 cd_done;
	struct mime_part	*child;		/* multipart: the parts */
	size_t			 nchild;
	struct mime_part	*msg;		/* message/rfc822: inside */
	int			 opaque;	/* too deep: not looked into */
};

struct mime_msg {
	char			*data;		/* CRLF form, NUL-terminated */
	size_t			 len;
	struct mime_part	*root;		/* built on first need */
	size_t			 nparts;
};

/* The part's Content-Transfer-Encoding (default: none to undo). */
GMimeContentEncoding mime_part_encoding(const struct mime_part *p);
/* A text part's body decoded and converted to UTF-8 by GMime;
 * malloc'd. */
char	*mime_text_of(const struct mime_part *p);

#endif
