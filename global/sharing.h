/*
 * Shared folders (IMAP ACL, RFC 4314): what imapd, the webmail and
 * mailctl share about them.  The rights and identifiers as the RFC has
 * them, the one way an ACL entry is changed (IMAP's SETACL and
 * DELETEACL, mailctl's acl set and delete), and, for a post-login
 * process, the owners who share with its user: their Maildirs to
 * confine itself to and their stores, opened when first used, and the
 * names of the other users' namespace (RFC 2342) resolved into them.
 *
 * The entries themselves are kept by the store (maildir/acl.c), in the
 * owner's index; the pairs (owner, grantee) that decide which Maildirs a
 * session may open at all are the auth service's (authd/share.c).
 */
#ifndef GLOBAL_SHARING_H
#define GLOBAL_SHARING_H

#include <stddef.h>

struct authc;
struct mstore;

/* RFC 4314 §2.1, in the order "lrswipkxtea". */
#define ACL_L	0x001	/* lookup: LIST */
#define ACL_R	0x002	/* read: SELECT, EXAMINE, STATUS */
#define ACL_S	0x004	/* \Seen kept */
#define ACL_W	0x008	/* other flags and keywords */
#define ACL_I	0x010	/* insert: APPEND, COPY/MOVE into */
#define ACL_P	0x020	/* post (not enforced by IMAP) */
#define ACL_K	0x040	/* create below */
#define ACL_X	0x080	/* delete, rename away */
#define ACL_T	0x100	/* \Deleted */
#define ACL_E	0x200	/* expunge */
#define ACL_A	0x400	/* administer: the owner's alone here */
#define ACL_ALL	0x7ff
/* The rights an identifier can be given: "a" stays the owner's (a
 * grantee that could change an ACL could grant a third user folders
 * that user's session cannot open). */
#define ACL_GRANTABLE	(ACL_ALL & ~ACL_A)
/* Entries an owner may give one folder. */
#define ACL_MAX_ENTRIES	100

/* The other users' namespace: "Other Users/owner@domain/folder". */
#define ACL_NS		"Other Users"

/* Letters (as stored) to bits; letters not of §2.1 count for nothing. */
unsigned int acl_bits(const char *letters);
/* Bits to the letters as stored, "lrswipkxtea" order (out: 12 octets). */
void	acl_letters(unsigned int rights, char *out);
/*
 * "[+-]rights" (§3.1, given by a client or an administrator): 0 with
 * the bits (the obsolete "c" as k x and "d" as t e, §2.1.1) and op
 * ('=', '+' or '-'), or -1 with why (upper case, a letter not of §2.1,
 * too long: a client's BAD).
 */
int	acl_rights_parse(const char *s, unsigned int *rights, char *op,
	    const char **why);
/*
 * An identifier in canonical form into id: "anyone", or an address of
 * owner's domain ("fred" alone is fred@that domain), lower case, a "-"
 * in front kept (a negative entry, §2).  1 the owner itself, 0 another,
 * -1 malformed (why; a client's BAD), -2 of another domain (why; NO
 * [CANNOT]).
 */
int	acl_ident_canon(const char *owner, const char *given, char *id,
	    size_t size, const char **why);
/* The rights an entry gives id (exactly that identifier). */
unsigned int acl_entry_rights(struct mstore *st, const char *folder,
	    const char *id);
/* A user's rights on an owner's folder: §2, the union of what the user
 * and anyone are given less their negative entries; never "a".  0 when
 * none or no such folder. */
unsigned int acl_user_rights(struct mstore *st, const char *folder,
	    const char *user);

/* Whom the index of shares is told by (authd/share.c through an IMAP
 * session's connection, or users.db itself for mailctl): add, 1, 0 no
 * such user in the owner's domain, -1; drop, 0 or -1. */
struct acl_sharer {
	int	(*add)(void *arg, const char *grantee);
	int	(*drop)(void *arg, const char *grantee);
	void	*arg;
};

enum acl_set_result {
	ACL_SET_OK = 0,
	ACL_SET_OWNER,		/* the owner always has every right */
	ACL_SET_ADMIN,		/* "a" stays the owner's */
	ACL_SET_NOUSER,		/* no such user in the owner's domain */
	ACL_SET_TEMPFAIL,	/* the index of shares did not answer */
	ACL_SET_STORE,		/* the store refused: mstore_errclass() */
};
/*
 * SETACL (op '=' replace, '+' add, '-' remove; rights from
 * acl_rights_parse()) or DELETEACL (rights NULL) of id (canonical,
 * acl_ident_canon(); is_owner its answer) on folder, one of owner's own
 * in st.  The index of shares learns of a grantee before it is given
 * anything and forgets it once it has no entry left in st.  letters:
 * the entry's rights now, as stored (12 octets; NULL: not wanted).
 */
enum acl_set_result acl_entry_set(struct mstore *st, const char *folder,
	    const char *id, int is_owner, char op, const unsigned int *rights,
	    const struct acl_sharer *sh, char *letters);
/* id lost an entry some other way (its folder deleted): forget the
 * share once it has none left in st. */
void	acl_share_forget(struct mstore *st, const char *id,
	    const struct acl_sharer *sh);

/* ---- a post-login process's shares ---- */

struct shares;

/*
 * Ask the auth service, on the connection that redeemed user's login
 * token (it answers for that user only), which owners share with user:
 * those of them with a Maildir under data_dir.  Never NULL (none known
 * when the auth service did not answer, logged).
 */
struct shares *shares_load(struct authc *a, const char *data_dir,
	    const char *user, const char *sid);
/* Landlock over userdir and the owners' Maildirs (pool.h); exits on
 * failure to confine. */
void	shares_confine(const struct shares *sh, const char *userdir);
void	shares_free(struct shares **sh);
size_t	shares_count(const struct shares *sh);
const char *shares_owner(const struct shares *sh, size_t i);
/* The owner whose opened store st is, or NULL. */
const char *shares_owner_of(const struct shares *sh,
	    const struct mstore *st);
/* Owner i's store, opened on first use; NULL if it cannot be. */
struct mstore *shares_store(struct shares *sh, size_t i);
/*
 * A mailbox name (normalised): 0, not in the other users' namespace
 * (the user's own); 1, owner *owner_r's folder folder (rights: user's
 * there, 0 when it does not exist) in *st_r; -1, a name of the
 * namespace that is no folder this user can reach (the namespace
 * itself, an owner, an owner who does not share with user).
 */
int	shares_resolve(struct shares *sh, const char *user, const char *name,
	    struct mstore **st_r, const char **owner_r, char *folder,
	    size_t size, unsigned int *rights);
/* Is name in the other users' namespace ("Other Users" or below)? */
int	acl_ns_name(const char *name);

#endif
