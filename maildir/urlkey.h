/*
 * URLAUTH's mailbox access keys (RFC 4467 §4, mechanism INTERNAL):
 * maildir/urlkey.c.  Its own header so that the store's (maildir.h)
 * stays as it is: nothing else of the store uses them.
 */
#ifndef MAILDIR_URLKEY_H
#define MAILDIR_URLKEY_H

#include <stdint.h>

#include "maildir.h"

#define URLKEY_LEN	32	/* octets of a key: 256 random bits */
#define URLKEY_FILE	"urlauth-keys"	/* in the user's Maildir */

/*
 * The key of mailbox (the store's name) in the Maildir userdir, bound to
 * the mailbox's uidvalidity: a key made under another UIDVALIDITY is no
 * key (the messages its URLs named are gone).  When there is none and
 * create is set, a new random one is made and kept.  0 (key filled), 1
 * none (create unset), -1 error (*err_r its class: MSTORE_ELIMIT for
 * keys beyond the file's limit, MSTORE_ENOSPACE ...).
 */
int	urlkey_get(const char *userdir, const char *mailbox,
	    uint32_t uidvalidity, int create, unsigned char key[URLKEY_LEN],
	    enum mstore_err *err_r);
/* Forget the key of mailbox, or every key when mailbox is NULL (RESETKEY,
 * RFC 4467 §3.1): the URLs made with them stop working.  0 or -1 (as
 * above). */
int	urlkey_reset(const char *userdir, const char *mailbox,
	    enum mstore_err *err_r);

#endif
