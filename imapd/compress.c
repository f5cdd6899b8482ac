/*
 * COMPRESS=DEFLATE (RFC 4978): after login, the rest of the connection
 * is a raw deflate stream each way.  The compression sits in the
 * connection (lib/conn.c over lib/zstream.c), where the session's
 * plaintext is: in this post-login process, above TLS, which a login
 * process relays for it (README, Design).  The session reads lines and
 * literals from it as it always does, so their limits bound what a
 * small compressed input can expand to; every flush, and so every wait
 * for the client, ends with a sync flush (§4).
 */
#include <strings.h>

#include "../lib/log.h"
#include "session.h"

int
cmd_compress(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	if (nargs != 1 || args[0].type != IMAP_ARG_ATOM) {
		imap_tagged(s, "BAD Usage: COMPRESS DEFLATE");
		return -1;
	}
	if (s->conn.z != NULL) {
		imap_tagged(s, "NO [COMPRESSIONACTIVE] DEFLATE is active");
		return 0;
	}
	if (strcasecmp(args[0].str, "DEFLATE") != 0) {
		imap_tagged(s, "NO Unknown compression mechanism");
		return 0;
	}
	/* The OK is the last thing sent uncompressed (§3); what the client
	 * sent after the command is compressed already. */
	imap_tagged(s, "OK DEFLATE active");
	imap_tagged_now(s);
	if (conn_flush(&s->conn) == -1 || conn_compress(&s->conn) == -1) {
		s->broken = 1;
		imap_set_state(s, ST_LOGOUT);
		return 0;
	}
	log_info("sid=%s user=%s compress=deflate", s->id, s->user);
	return 0;
}
