/*
 * IMAP ACL (RFC 4314) and the other users' namespace (RFC 2342): what
 * imapd/acl.c and imapd/cmd_acl.c share with the commands that check
 * rights.  Not for use outside imapd/.
 */
#ifndef IMAP_ACL_H
#define IMAP_ACL_H

#include "../global/sharing.h"
#include "session.h"

/* The rights over flags: PERMANENTFLAGS shows what they allow. */
#define ACL_FLAG_RIGHTS	(ACL_S | ACL_W | ACL_T)
/* §5.2: a mailbox is READ-WRITE with any of these. */
#define ACL_WRITE (ACL_S | ACL_W | ACL_I | ACL_T | ACL_E)

/* A mailbox name resolved: whose store, the name there, the rights. */
struct imap_mbref {
	struct mstore	*st;
	const char	*owner;		/* NULL: the user's own */
	char		 name[MAILDIR_NAME_MAX + 1];	/* in st */
	unsigned int	 rights;
};

/* The post-login process, before it confines itself: the owners who
 * share with user (the auth service's index), and Landlock over its own
 * Maildir and theirs.  Exits on failure to confine. */
void	imap_acl_confine(struct imap_session *s);
void	imap_acl_free(struct imap_session *s);
/*
 * A mailbox name (normalised, as imap_mailbox_arg() gives it): the
 * user's own (0, all rights), or a folder of an owner who shares with
 * it (1, the rights it has there; 0 when the folder does not exist).
 * -1: a name of the other users' namespace that is no folder this user
 * can reach (answer as for a mailbox that does not exist).
 */
int	imap_mbref(struct imap_session *s, const char *name,
	    struct imap_mbref *r);
/* Whose is st: the user's own store (s->user) or a sharing owner's;
 * NULL for a store of neither. */
const char *imap_acl_store_owner(struct imap_session *s, struct mstore *st);
/* The store of owner (one who shares with the user), when the user has
 * "i" on one of its folders at least; NULL otherwise.  *owner_r: the
 * owner's address as the auth service gave it. */
struct mstore *imap_acl_owner_store(struct imap_session *s,
	    const char *owner, const char **owner_r);
/* A user's rights on an owner's folder (0 if none or no folder). */
unsigned int imap_acl_rights(struct mstore *st, const char *folder,
	    const char *user);
/* "lrswipkxtea" letters of rights, with the virtual "c" and "d" of
 * §2.1.1 when a member is there. */
void	imap_acl_put_rights(struct buf *b, unsigned int rights);
/*
 * Open a mailbox for a command that needs the rights need: 0 with *mb_r
 * (and *rights_r; *no_r NULL), or -1 with *no_r the NO to give: NONEXISTENT (or
 * TRYCREATE when trycreate) when it is not there or not visible to
 * this user (neither "l" nor "r": §4's hiding), NOPERM when a right is
 * missing.
 */
int	imap_acl_open(struct imap_session *s, const char *name,
	    unsigned int need, int trycreate, struct mbox **mb_r,
	    unsigned int *rights_r, const char **no_r);
/* Is name in the other users' namespace ("Other Users" or below)? */
int	imap_acl_ns_name(const char *name);
/* SUBSCRIBE: the user's own folder, or another's it may see ("l"). */
int	imap_acl_subscribable(struct imap_session *s, const char *name);
/* LIST: the other users' folders this user may see ("l"), as
 * mstore_list() gives them (parents "Other Users" and each owner
 * \Noselect), with the user's own subscriptions of them (kept in its
 * own store under their full names); subscribed ones out of reach as
 * \NonExistent. */
void	imap_acl_list(struct imap_session *s,
	    void (*cb)(const char *name, unsigned int attrs, void *arg),
	    void *arg);
/* STORE, APPEND, COPY: the flags rights allow to change (§4). */
unsigned int imap_acl_flag_mask(unsigned int rights);
/* "* OK [PERMANENTFLAGS (...)]" as the selected mailbox's rights allow
 * (§5.1.1), kw the mailbox's keywords. */
void	imap_acl_permanentflags(struct imap_session *s, struct buf *b,
	    const char *kw);
/*
 * STORE (§4): drop from flags and keywords (an empty string then) what
 * the selected mailbox's rights do not allow; for "=" imap_store_flags()
 * keeps those as they are.  0, or -1 when nothing is left to change
 * (NO [NOPERM]).
 */
int	imap_acl_store_filter(struct imap_session *s, char op,
	    unsigned int *flags, char *keywords);
/* Keep a copied message's flags to those the target's rights allow. */
void	imap_acl_copy_flags(struct imap_session *s, struct mbox *dst,
	    unsigned int rights, uint32_t src_uid, uint32_t dst_uid);

/*
 * CREATE (need ACL_K: on the nearest existing parent), DELETE and
 * RENAME's old name (ACL_X): resolve name into r, the user's own or a
 * shared folder it has the right on.  0, or -1 after a NO.
 */
int	imap_acl_manage(struct imap_session *s, const char *name,
	    unsigned int need, struct imap_mbref *r);
/* The NO for the last failure of st (a shared store's, or our own). */
int	imap_acl_store_no(struct imap_session *s, struct mstore *st,
	    const char *what);
/* A folder just created takes its parent's ACL (§4's SHOULD). */
void	imap_acl_inherit(struct imap_session *s, struct mstore *st,
	    const char *name);

/* DELETE of one of the user's own folders drops its ACL: take it
 * before (NULL when none, or not the user's own), and after the delete
 * tell the auth service of the grantees left with no right anywhere
 * (frees v). */
struct macl *imap_acl_take(struct imap_session *s,
	    const struct imap_mbref *r, size_t *n);
void	imap_acl_forget(struct imap_session *s, struct macl *v, size_t n);

/* cmd_acl.c */
/* LIST ... RETURN (MYRIGHTS): the MYRIGHTS reply of a listed name. */
void	imap_acl_list_myrights(struct imap_session *s, const char *name);
/* The NAMESPACE reply, with the other users' namespace. */
void	imap_acl_namespace(struct imap_session *s);

#endif
