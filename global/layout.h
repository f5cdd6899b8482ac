/*
 * layout: where everything lives under server.data_dir (the README's
 * "Data layout" is this header in prose; other tools rely on it, so it
 * changes only with a reason written there).
 *
 *	<data_dir>/users.db			domains, users, aliases
 *	<data_dir>/authd.sock			the auth service (sessions)
 *	<data_dir>/authd.control		the auth service (mailctl)
 *	<data_dir>/authd.pid			the auth service, locked
 *	<data_dir>/empty/			where pre-login processes
 *						are chrooted
 *	<data_dir>/maild.pid			maild, locked while it runs
 *	<data_dir>/queue/msg/<queue-id>		committed spool files
 *	<data_dir>/queue/tmp/<queue-id>		spool files being written
 *	<data_dir>/queue/free/<queue-id>	delivered spool files, kept
 *						for maild to empty and reuse
 *	<data_dir>/queue/control		the queue runner's socket
 *	<data_dir>/queue/queued.pid		the runner, locked
 *	<data_dir>/mail/<domain>/<local>/	a user's Maildir (INBOX)
 *
 * and inside a user's Maildir:
 *
 *	index.db, uidvalidity			the store's index (maildir/)
 *	pop3.lock, imap-sessions.lock		session locks
 */
#ifndef LAYOUT_H
#define LAYOUT_H

#include <stddef.h>

/* Below <data_dir>: */
#define LAYOUT_USERS_DB		"users.db"
#define LAYOUT_AUTHD_SOCK	"authd.sock"
#define LAYOUT_AUTHD_CONTROL	"authd.control"
#define LAYOUT_AUTHD_PID	"authd.pid"
#define LAYOUT_EMPTY		"empty"
#define LAYOUT_MAILD_PID	"maild.pid"
#define LAYOUT_QUEUE		"queue"
#define LAYOUT_QUEUE_MSG	"queue/msg"
#define LAYOUT_QUEUE_TMP	"queue/tmp"
#define LAYOUT_QUEUE_FREE	"queue/free"
#define LAYOUT_QUEUE_CORRUPT	"queue/corrupt"
#define LAYOUT_QUEUE_CONTROL	"queue/control"
#define LAYOUT_QUEUED_PID	"queue/queued.pid"
#define LAYOUT_MAIL		"mail"
/* The auth service's own files (server.auth_user's, 0700). */
#define LAYOUT_AUTH_DIR		"auth"
#define LAYOUT_WEB_SESSIONS	"auth/websessions.db"

/* Below a user's Maildir: */
#define LAYOUT_INDEX_DB		"index.db"
#define LAYOUT_UIDVALIDITY	"uidvalidity"
#define LAYOUT_POP3_LOCK	"pop3.lock"
#define LAYOUT_IMAP_LOCK	"imap-sessions.lock"
/* In each folder's directory (INBOX: the Maildir): keyword letters. */
#define LAYOUT_DOVECOT_KEYWORDS	"dovecot-keywords"

/*
 * "<dir>/<name>" into buf; 0, or -1 with errno ENAMETOOLONG.  dir is the
 * data directory or a Maildir, name one of the above.
 */
int	layout_path(char *buf, size_t size, const char *dir, const char *name);

#endif
