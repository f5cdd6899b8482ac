/*
 * authproto: the messages between the auth service (authd) and its
 * clients, over lib/ipc (SOCK_SEQPACKET, one message a packet).  Every
 * request gets exactly one reply; a client has one request under way
 * at a time.
 *
 * Two sockets: <data_dir>/authd.sock for sessions, delivery and the
 * post-login processes (authentication, lookups, tokens), and
 * <data_dir>/authd.control for the administrator (mailctl): cache
 * flushes and the state of the limits.  What a process can ask depends
 * on the sockets it holds; a pre-authentication process connects
 * before it confines itself, and never to the control socket.
 *
 * Request			fields
 *   AP_START			conv service client-ip secured mech [initial]
 *   AP_STEP			conv response
 *   AP_PASSWORD		conv service client-ip secured user password
 *   AP_CANCEL			conv
 *   AP_DOMAIN_LOCAL		domain
 *   AP_RESOLVE			address ["quota"]
 *   AP_POSTMASTER		(none)
 *   AP_SENDER_ALLOWED		user sender
 *   AP_IDENTITIES		user
 *   AP_QUOTA			address
 *   AP_USAGE_SERVE		(none)
 *   AP_REDEEM			token service
 *   AP_SUBMIT_TOKEN		proof
 *   AP_WEB_NEW			token client-ip
 *   AP_WEB_CHECK		session-id
 *   AP_WEB_TOKEN		session-id
 *   AP_WEB_END			session-id
 *   AP_SHARE_ADD		grantee
 *   AP_SHARE_DROP		grantee
 *   AP_SHARED_WITH		(none)
 *   AP_FLUSH (control)		user
 *   AP_STATUS (control)	(none)
 *
 * Reply			fields
 *   AR_CONTINUE		conv challenge
 *   AR_OK			conv user token
 *   AR_FAIL			conv delay-seconds
 *   AR_ERROR			conv kind (AUTH_ERR_*)
 *   AR_ANSWER			status [values...]
 *
 * SASL data travels in base64 as the client sent it ("=" for an empty
 * response, RFC 4954 §4); the service decodes and judges it.  conv is a
 * number the client chooses per exchange; a reply names it, so a stray
 * reply is noticed.  secured is "1" when the client's connection is
 * encrypted.  Answers to lookups: status is one of the AA_* words;
 * AP_RESOLVE's values are "L address" (a mailbox here) or "R address"
 * (remote) for each final recipient, its status "remote" (and the one
 * value "R address") when the address's domain is not one of ours, so
 * that smtpd learns both from one request; AP_IDENTITIES's the aliases
 * user may send as besides its own address; AP_QUOTA's the user's
 * limits, "storage-kib messages" in decimal, 0 for none (RFC 9208 §5:
 * asked by local delivery and by the IMAP post-login process, which so
 * learns them without any access to users.db; "no" for an unknown or
 * disabled user); AP_REDEEM's and AP_POSTMASTER's
 * value is the user or domain; AP_STATUS's are lines of text.
 * Quotas at RCPT time (authd/quota.c): with "quota", AP_RESOLVE gives
 * a mailbox with a limit whose usage is known as "Q storage-kib messages
 * octets count address" (limits, 0 for none, then what it holds) instead
 * of "L address", so that smtpd can refuse it (452 4.2.2) without any
 * access to the store; a mailbox without a limit, or whose usage is not
 * known just now, stays "L".  The usage comes from the queue's usage
 * process (server.user's, which reads the store): it sends
 * AP_USAGE_SERVE once ("yes" only from server.user's uid on a connection
 * bound to no user), and from then on that connection runs the other
 * way: authd sends AP_USAGE address, the process answers AR_ANSWER
 * "yes octets count" (decimal) or "no".
 * AP_SUBMIT_TOKEN (BURL, RFC 4468): proof is the token of the last
 * "smtp" login on this same connection to authd; the value is a new
 * token, for the service "submit", that the IMAP post-login process
 * redeems to fetch that user's submit+ URLs for the submission server.
 * The webmail's sessions (authd/websess.c): AP_WEB_NEW turns a "web"
 * login token into a session: "id csrf user"; AP_WEB_CHECK gives a live
 * session's "user csrf", AP_WEB_TOKEN its "user token" (a "web" token
 * for a Maildir process); AP_WEB_END ends it.  AP_FLUSH ends the user's
 * sessions as well.
 * IMAP ACL (RFC 4314, authd/share.c): a connection that redeemed a
 * token serves that one user (a second AP_REDEEM on it is refused), and
 * only such a connection may ask these, always for its own user: the
 * owner's AP_SHARE_ADD (before granting grantee anything; "no" when
 * grantee is neither "anyone" nor a user of the owner's domain) and
 * AP_SHARE_DROP (when grantee has no right left); the grantee's
 * AP_SHARED_WITH, whose values are the owners who share with it (at
 * most AUTH_SHARES_MAX), asked before it confines itself.
 */
#ifndef AUTHPROTO_H
#define AUTHPROTO_H

enum authproto_type {
	AP_START = 1,
	AP_STEP,
	AP_PASSWORD,
	AP_CANCEL,
	AP_DOMAIN_LOCAL = 20,
	AP_RESOLVE,
	AP_POSTMASTER,
	AP_SENDER_ALLOWED,
	AP_IDENTITIES,
	AP_QUOTA,
	AP_USAGE_SERVE,
	AP_USAGE,		/* authd -> the usage process */
	AP_REDEEM = 40,
	AP_SUBMIT_TOKEN,
	AP_WEB_NEW = 50,
	AP_WEB_CHECK,
	AP_WEB_TOKEN,
	AP_WEB_END,
	AP_SHARE_ADD = 70,
	AP_SHARE_DROP,
	AP_SHARED_WITH,
	AP_FLUSH = 60,
	AP_STATUS,

	AR_CONTINUE = 100,
	AR_OK,
	AR_FAIL,
	AR_ERROR,
	AR_ANSWER,
};

#define AA_YES		"yes"
#define AA_NO		"no"
#define AA_TEMPFAIL	"tempfail"
#define AA_REMOTE	"remote"	/* AP_RESOLVE: not our domain */

#define AUTH_ERR_BADPROTO	"badproto"	/* bad base64 or exchange */
#define AUTH_ERR_NOMECH		"nomech"
#define AUTH_ERR_TEMPFAIL	"tempfail"	/* our side, or too busy */

#define AUTH_TOKEN_LEN	32	/* hex digits of a login token */
#define WEB_ID_LEN	64	/* hex digits of a webmail session id */
#define AUTH_SHARES_MAX	32	/* owners one user's session can reach */

#endif
