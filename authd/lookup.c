/*
 * What an address means, from users.db (as OpenSMTPD's lookup agent):
 * smtpd asks before it accepts a recipient or a sender, delivery before
 * it writes into a Maildir.  And the login tokens: the proof a login
 * process hands to the post-login process, which redeems it here, so
 * that the process given a user's mailbox learns whose it is from authd,
 * never from the login process it cannot trust.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "authd.h"
#include "../global/authproto.h"

#define TOKEN_LIFETIME	60	/* seconds to redeem a token */
#define TOKEN_MAX	4096	/* waiting at once */
/* Mailboxes of one recipient (an alias) whose usage is asked at RCPT;
 * the others are left to delivery. */
#define RESOLVE_QUOTA_MAX	16

struct token {
	char	 token[AUTH_TOKEN_LEN + 1];
	char	 user[320];
	char	 service[8];
	time_t	 expires;
};

static struct token	tokens[TOKEN_MAX];

void
authd_hex(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

void
authd_random_hex(char *out, size_t hexlen, const char *what)
{
	unsigned char r[64];

	if (hexlen / 2 > sizeof(r) || RAND_bytes(r, (int)(hexlen / 2)) != 1)
		fatalx("no randomness for %s", what);
	authd_hex(r, hexlen / 2, out);
	explicit_bzero(r, sizeof(r));
}

void
lookup_token_new(const char *user, const char *service,
    char out[AUTH_TOKEN_LEN + 1])
{
	time_t now = time(NULL);
	size_t i, slot = 0;

	authd_random_hex(out, AUTH_TOKEN_LEN, "a login token");
	/* A free (or expired) slot, else the one closest to expiry. */
	for (i = 0; i < TOKEN_MAX; i++) {
		if (tokens[i].expires < now) {
			slot = i;
			break;
		}
		if (tokens[i].expires < tokens[slot].expires)
			slot = i;
	}
	util_strcpy(tokens[slot].token, out, sizeof(tokens[slot].token));
	util_strcpy(tokens[slot].user, user, sizeof(tokens[slot].user));
	util_strcpy(tokens[slot].service, service, sizeof(tokens[slot].service));
	tokens[slot].expires = now + TOKEN_LIFETIME;
}

/* Once, for the service it was given for, within its lifetime. */
const char *
lookup_token_redeem(const char *token, const char *service)
{
	static char user[320];
	time_t now = time(NULL);
	size_t i;

	if (strlen(token) != AUTH_TOKEN_LEN)
		return NULL;
	for (i = 0; i < TOKEN_MAX; i++) {
		if (tokens[i].expires < now ||
		    strcmp(tokens[i].token, token) != 0)
			continue;
		tokens[i].expires = 0;
		if (strcmp(tokens[i].service, service) != 0)
			return NULL;
		util_strcpy(user, tokens[i].user, sizeof(user));
		return user;
	}
	return NULL;
}

static void
first_domain(const char *domain, void *arg)
{
	char *out = arg;

	if (out[0] == '\0')
		util_strcpy(out, domain, 256);
}

static void
answer(struct ipc_out *o, int r)
{
	ipc_put_str(o, r > 0 ? AA_YES : r == 0 ? AA_NO : AA_TEMPFAIL);
}

/* AP_IDENTITIES: "yes" before the first address, then each (at most
 * what a message holds). */
struct identities {
	struct ipc_out	*o;
	size_t		 n;
};

static void
identity_put(const char *address, void *arg)
{
	struct identities *ids = arg;

	if (ids->n == IPC_MAX_FIELDS - 2)
		return;
	if (ids->n++ == 0)
		ipc_put_str(ids->o, AA_YES);
	ipc_put_str(ids->o, address);
}

/*
 * AP_RESOLVE "quota": a mailbox with a limit (userdb_resolve() gave it)
 * and a known usage as "Q kib messages octets count address" (authd_lock
 * held; let go of while the usage process answers, which may take a
 * disk read).  0, or -1: no limit, or the usage unknown ("L address").
 */
static int
resolve_quota(const struct rcpt_target *t, char *line, size_t size)
{
	uint64_t octets, count;
	int r;

	if (t->quota_kib == 0 && t->quota_messages == 0)
		return -1;
	pthread_mutex_unlock(&authd_lock);
	r = quota_usage(t->address, &octets, &count);
	pthread_mutex_lock(&authd_lock);
	if (r == -1)
		return -1;
	snprintf(line, size, "Q %llu %llu %llu %llu %s",
	    (unsigned long long)t->quota_kib,
	    (unsigned long long)t->quota_messages,
	    (unsigned long long)octets, (unsigned long long)count,
	    t->address);
	return 0;
}

void
lookup_answer(struct ipc_in *in, struct client *c, struct ipc_out *o)
{
	const char *a1 = ipc_get_str(in), *a2 = ipc_get_str(in), *user;
	struct rcpt_list l = { 0 };
	char domain[256] = "", line[512];
	size_t i;
	int r = -1;

	ipc_begin(o, AR_ANSWER);
	pthread_mutex_lock(&authd_lock);
	switch (in->type) {
	case AP_DOMAIN_LOCAL:
		if (a1 != NULL)
			r = userdb_domain_is_local(authd_db, a1);
		answer(o, r);
		break;
	case AP_RESOLVE:
		if (a1 != NULL)
			r = userdb_resolve(authd_db, a1,
			    authd_conf->server.recipient_delimiter, &l);
		if (r == 2)
			ipc_put_str(o, AA_REMOTE);
		else
			answer(o, r);
		for (i = 0; r >= 1 && i < l.n; i++) {
			if (l.v[i].local && a2 != NULL &&
			    strcmp(a2, "quota") == 0 && i < RESOLVE_QUOTA_MAX &&
			    resolve_quota(&l.v[i], line, sizeof(line)) == 0)
				;	/* "Q ..." */
			else
				snprintf(line, sizeof(line), "%c %s",
				    l.v[i].local ? 'L' : 'R', l.v[i].address);
			ipc_put_str(o, line);
		}
		rcpt_list_free(&l);
		break;
	case AP_POSTMASTER:
		/* RFC 5321 §4.5.1: this host's domain, or the first. */
		if ((r = userdb_domain_is_local(authd_db,
		    authd_conf->server.hostname)) == 1)
			util_strcpy(domain, authd_conf->server.hostname,
			    sizeof(domain));
		else if (r == 0 && (r = userdb_domain_list(authd_db,
		    first_domain, domain)) == 0)
			r = domain[0] != '\0';
		answer(o, r);
		if (r == 1)
			ipc_put_str(o, domain);
		break;
	case AP_SENDER_ALLOWED:
		if (a1 != NULL && a2 != NULL)
			r = userdb_sender_allowed(authd_db, a1, a2,
			    authd_conf->server.recipient_delimiter);
		answer(o, r);
		break;
	case AP_IDENTITIES:
		if (a1 != NULL) {
			struct identities ids = { o, 0 };

			r = userdb_sender_identities(authd_db, a1, identity_put,
			    &ids) == -1 ? -1 : ids.n > 0;
			if (r == 1)
				break;	/* answered "yes" and the values */
		}
		answer(o, r);
		break;
	case AP_QUOTA:
		if (a1 != NULL) {
			uint64_t kib, msgs;

			r = userdb_user_quota(authd_db, a1, &kib, &msgs);
			answer(o, r);
			if (r == 1) {
				snprintf(line, sizeof(line), "%llu",
				    (unsigned long long)kib);
				ipc_put_str(o, line);
				snprintf(line, sizeof(line), "%llu",
				    (unsigned long long)msgs);
				ipc_put_str(o, line);
			}
		} else
			answer(o, r);
		break;
	case AP_REDEEM:
		/* A connection serves the one user it redeemed a token for
		 * (share.c trusts that binding). */
		user = a1 != NULL && a2 != NULL && c->user[0] == '\0' ?
		    lookup_token_redeem(a1, a2) : NULL;
		answer(o, r = user != NULL);
		if (user != NULL) {
			ipc_put_str(o, user);
			util_strcpy(c->user, user, sizeof(c->user));
		}
		break;
	case AP_SHARE_ADD:
	case AP_SHARE_DROP:
	case AP_SHARED_WITH:
		r = share_answer(in->type, a1, c, o);
		break;
	case AP_SUBMIT_TOKEN:
		/* BURL (RFC 4468 §5): only the session that logged the
		 * user in to submission, and only for that user */
		r = a1 != NULL && c->submit_user[0] != '\0' &&
		    strlen(a1) == AUTH_TOKEN_LEN &&
		    CRYPTO_memcmp(a1, c->submit_proof, AUTH_TOKEN_LEN) == 0;
		answer(o, r);
		if (r == 1) {
			char token[AUTH_TOKEN_LEN + 1];

			lookup_token_new(c->submit_user, "submit", token);
			ipc_put_str(o, token);
			explicit_bzero(token, sizeof(token));
		}
		break;
	case AP_FLUSH:
		if ((r = c->control && a1 != NULL)) {
			policy_cache_drop(a1);
			websess_drop_user(a1);
			log_info("cache: forgot the logins of %s, and ended "
			    "its webmail sessions", log_str(a1));
		}
		answer(o, r);
		break;
	case AP_WEB_NEW:
	case AP_WEB_CHECK:
	case AP_WEB_TOKEN:
	case AP_WEB_END:
		r = websess_answer(in->type, a1, a2, o);
		r = r < 0 ? 0 : 1;	/* logged there */
		break;
	case AP_STATUS:
		answer(o, r = c->control);
		if (c->control)
			policy_status(o);
		break;
	default:
		answer(o, 0);
		r = 0;
		break;
	}
	if (r < 0)
		log_err("lookup %u: %s", in->type, userdb_error(authd_db));
	pthread_mutex_unlock(&authd_lock);
}
