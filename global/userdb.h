/*
 * userdb: the virtual users in <data_dir>/users.db.
 *
 *	domains(name)				the local domains
 *	users(address, domain, password, ...)	mailboxes; crypt(3) hashes
 *	aliases(address, target)		address -> one or more targets;
 *						"@domain" is a catch-all
 *
 * Addresses are stored lower-case.  Resolution (what RCPT TO: means):
 * an alias wins over a mailbox of the same name, so "a -> a, b" keeps a
 * copy; then the mailbox; then "user+tag" as "user"; then the domain's
 * catch-all.  Expansion is recursive, bounded in depth and breadth.
 */
#ifndef USERDB_H
#define USERDB_H

#include <stddef.h>
#include <stdint.h>

struct userdb;

#define USERDB_MAX_EXPANSION	1000	/* final recipients of one address */
#define USERDB_MAX_DEPTH	10	/* alias nesting */

struct rcpt_target {
	char	*address;	/* final recipient */
	int	 local;		/* a mailbox here (else: remote) */
	/* A mailbox's limits (userdb_resolve(); 0: none), and for smtpd
	 * (AP_RESOLVE "quota") what it holds, when it has a limit and
	 * that is known (quota_known). */
	uint64_t quota_kib, quota_messages;
	int	 quota_known;
	uint64_t used_octets, used_messages;
};

struct rcpt_list {
	struct rcpt_target *v;
	size_t	 n, cap;
};

/* Open (create = also create file and schema); NULL with *err. */
struct userdb *userdb_open(const char *data_dir, int create, const char **err);
void	userdb_close(struct userdb **db);
const char *userdb_error(struct userdb *db);

/* Each returns 0 on success, -1 with a message in userdb_error(). */
int	userdb_domain_add(struct userdb *db, const char *domain);
int	userdb_domain_del(struct userdb *db, const char *domain);
/* 1 local, 0 not, -1 error. */
int	userdb_domain_is_local(struct userdb *db, const char *domain);
int	userdb_domain_list(struct userdb *db,
	    void (*cb)(const char *domain, void *arg), void *arg);

int	userdb_user_add(struct userdb *db, const char *address,
	    const char *password);
int	userdb_user_del(struct userdb *db, const char *address);
int	userdb_user_passwd(struct userdb *db, const char *address,
	    const char *password);
/* 1 exists and enabled, 0 not, -1 error. */
int	userdb_user_exists(struct userdb *db, const char *address);
int	userdb_user_list(struct userdb *db, const char *domain,
	    void (*cb)(const char *address, void *arg), void *arg);
/*
 * Quotas (RFC 9208 §5.1, §5.2): STORAGE in KiB of the messages' sizes
 * with CRLF line ends, MESSAGE a count; 0 is no limit.  Set: 0 or -1.
 * Get (an enabled user's): 1 (filled in), 0 no such user, -1 error.
 * List: every user (of domain, if not NULL) with its limits.
 */
#define USERDB_QUOTA_MAX	(1LL << 50)
int	userdb_user_quota_set(struct userdb *db, const char *address,
	    uint64_t storage_kib, uint64_t messages);
int	userdb_user_quota(struct userdb *db, const char *address,
	    uint64_t *storage_kib, uint64_t *messages);
int	userdb_quota_list(struct userdb *db, const char *domain,
	    void (*cb)(const char *address, uint64_t storage_kib,
	    uint64_t messages, void *arg), void *arg);
/*
 * The password hash of an enabled user: 1 (hash filled in), 0 unknown
 * or disabled (hash is then a dummy of the same cost, so that checking
 * against it takes as long: the time must not tell who exists), -1 error.
 */
int	userdb_user_hash(struct userdb *db, const char *address, char *hash,
	    size_t size);

int	userdb_alias_add(struct userdb *db, const char *address,
	    const char *target);
/* target NULL: every target of the alias. */
int	userdb_alias_del(struct userdb *db, const char *address,
	    const char *target);
int	userdb_alias_list(struct userdb *db,
	    void (*cb)(const char *address, const char *target, void *arg),
	    void *arg);
/* The aliases that name user as their target: besides the user's own
 * address (and user+tag), what userdb_sender_allowed() lets it send as
 * (a webmail's identities).  0 or -1. */
int	userdb_sender_identities(struct userdb *db, const char *user,
	    void (*cb)(const char *address, void *arg), void *arg);

/*
 * Expand an address received in RCPT TO: into final recipients, appended
 * to out (duplicates skipped).  Returns 1 when it names something here,
 * 2 when its domain is not one of ours (out gets the address itself),
 * 0 for an unknown local address, -1 on a database error.
 */
int	userdb_resolve(struct userdb *db, const char *address,
	    const char *delimiter, struct rcpt_list *out);
void	rcpt_list_free(struct rcpt_list *l);
int	rcpt_list_add(struct rcpt_list *l, const char *address, int local);
/* Add every target of src to l (rcpt_list_add() each). */
void	rcpt_list_append(struct rcpt_list *l, const struct rcpt_list *src);

/*
 * May the authenticated user send as this envelope sender?  Its own
 * address (with or without +tag) or an alias that delivers to it.
 * 1 yes, 0 no, -1 error.
 */
int	userdb_sender_allowed(struct userdb *db, const char *user,
	    const char *sender, const char *delimiter);

/* crypt(3) yescrypt hash of a password; 0 or -1. */
int	userdb_hash_password(const char *password, char *out, size_t size);
/* Constant-time check of a password against a crypt(3) hash. */
int	userdb_verify_hash(const char *password, const char *hash);

/* Normalise "Local@Domain" to the stored form; -1 if invalid. */
int	userdb_normalize(const char *in, char *out, size_t size,
	    const char **why);

/*
 * IMAP ACL (RFC 4314): the owners who share folders with a user (the
 * rights themselves are in each owner's index).  grantee: an address or
 * USERDB_ANYONE (every user of the owner's domain).  Add: 1, 0 when the
 * grantee is no enabled user of the owner's domain, -1.  Drop: 0 or -1.
 * Shared with: the enabled owners (not grantee itself), ordered; 0 or
 * -1.  Removing a user removes its shares both ways.
 */
#define USERDB_ANYONE	"anyone"
int	userdb_share_add(struct userdb *db, const char *owner,
	    const char *grantee);
int	userdb_share_drop(struct userdb *db, const char *owner,
	    const char *grantee);
/* The pairs address is in, as owner or grantee (mailctl): 0 or -1. */
int	userdb_share_list(struct userdb *db, const char *address,
	    void (*cb)(const char *owner, const char *grantee, void *arg),
	    void *arg);
int	userdb_shared_with(struct userdb *db, const char *grantee,
	    void (*cb)(const char *owner, void *arg), void *arg);

#endif
