/*
 * The webmail's sessions (auth/websessions.db): who a browser's cookie
 * says it is.  They live here, with the passwords' owner, because a
 * session is a login: only a login token (the proof authd gave for a
 * password it checked) makes one, and only a session makes the token a
 * webmail's Maildir process redeems.  The webmail's front process, which
 * parses every request and may be subverted by one, can therefore reach
 * no user it was not given a password or a cookie for.
 *
 * The id (256 random bits, the cookie) is stored as its SHA-256, so the
 * database alone opens no session; the CSRF token is stored as is (it is
 * no credential without the cookie).  A session ends unused after
 * webmail.session_idle, and webmail.session_lifetime after its login
 * whatever happens; a user keeps webmail.max_sessions_per_user, the
 * oldest going first.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "../global/layout.h"
#include "../lib/db.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "authd.h"

#define SEEN_EVERY	60	/* seconds between updates of "seen" */

static sqlite3	*db;

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS session ("
	" id_hash TEXT PRIMARY KEY,"
	" user TEXT NOT NULL,"
	" csrf TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" seen INTEGER NOT NULL,"
	" ip TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS session_user ON session (user, seen);";

int
websess_init(const char **err)
{
	char path[1024];

	if (layout_path(path, sizeof(path), authd_conf->server.data_dir,
	    LAYOUT_WEB_SESSIONS) == -1) {
		*err = "data_dir too long";
		return -1;
	}
	if ((db = db_open(path, 1, err)) == NULL)
		return -1;
	return db_exec(db, schema, err);
}

/* The stored form of a cookie's id; -1 for what cannot be one. */
static int
id_hash(const char *id, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	size_t i;

	if (strlen(id) != WEB_ID_LEN)
		return -1;
	for (i = 0; i < WEB_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return -1;
	if (EVP_Digest(id, WEB_ID_LEN, md, &n, EVP_sha256(), NULL) != 1 ||
	    n != sizeof(md))
		return -1;
	authd_hex(md, sizeof(md), out);
	return 0;
}

static void
num(char *out, size_t size, long long v)
{
	snprintf(out, size, "%lld", v);
}

/* Forget the sessions past their time. */
static void
websess_expire(time_t now)
{
	char idle[24], life[24];
	sqlite3_stmt *st = NULL;

	num(idle, sizeof(idle), (long long)now - authd_conf->web.session_idle);
	num(life, sizeof(life), (long long)now -
	    authd_conf->web.session_lifetime);
	(void)db_run(db, &st, "DELETE FROM session WHERE seen < ?1 OR "
	    "created < ?2", idle, life, NULL);
	sqlite3_finalize(st);
}

/* A new session for whoever token proves logged in: 1, 0, -1. */
static int
websess_new(const char *token, const char *ip, struct ipc_out *o)
{
	char id[WEB_ID_LEN + 1], csrf[WEB_ID_LEN + 1], h[65], t[24];
	char keep[24];
	sqlite3_stmt *st = NULL;
	const char *user;
	time_t now = time(NULL);
	int r;

	if ((user = lookup_token_redeem(token, "web")) == NULL)
		return 0;
	websess_expire(now);
	authd_random_hex(id, WEB_ID_LEN, "a webmail session");
	authd_random_hex(csrf, WEB_ID_LEN, "a webmail session");
	(void)id_hash(id, h);
	num(t, sizeof(t), (long long)now);
	r = db_run(db, &st, "INSERT INTO session (id_hash, user, csrf, "
	    "created, seen, ip) VALUES (?1, ?2, ?3, ?4, ?4, ?5)", h, user,
	    csrf, t, ip, NULL);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return -1;
	/* The user's oldest beyond the limit end. */
	num(keep, sizeof(keep), authd_conf->web.max_sessions_per_user);
	(void)db_run(db, &st, "DELETE FROM session WHERE user = ?1 AND "
	    "id_hash NOT IN (SELECT id_hash FROM session WHERE user = ?1 "
	    "ORDER BY seen DESC, created DESC LIMIT ?2)", user, keep, NULL);
	sqlite3_finalize(st);
	ipc_put_str(o, AA_YES);
	ipc_put_str(o, id);
	ipc_put_str(o, csrf);
	ipc_put_str(o, user);
	log_info("webmail session started user=%s client=[%s]", log_str(user),
	    log_str(ip));
	explicit_bzero(id, sizeof(id));
	return 1;
}

/* The user and CSRF token of a live session (seen now): 1, 0, -1. */
static int
websess_find(const char *id, char *user, size_t usize, char *csrf,
    size_t csize)
{
	char h[65], t[24], idle[24], life[24];
	sqlite3_stmt *st = NULL;
	time_t now = time(NULL);
	long long seen = 0;
	int r;

	if (id_hash(id, h) == -1)
		return 0;
	num(idle, sizeof(idle), (long long)now - authd_conf->web.session_idle);
	num(life, sizeof(life), (long long)now -
	    authd_conf->web.session_lifetime);
	r = db_run(db, &st, "SELECT user, csrf, seen FROM session WHERE "
	    "id_hash = ?1 AND seen >= ?2 AND created >= ?3", h, idle, life,
	    NULL);
	if (r == SQLITE_ROW) {
		util_strcpy(user, (const char *)sqlite3_column_text(st, 0),
		    usize);
		util_strcpy(csrf, (const char *)sqlite3_column_text(st, 1),
		    csize);
		seen = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return r == SQLITE_DONE ? 0 : -1;
	if (now - seen >= SEEN_EVERY) {
		num(t, sizeof(t), (long long)now);
		(void)db_run(db, &st, "UPDATE session SET seen = ?1 WHERE "
		    "id_hash = ?2", t, h, NULL);
		sqlite3_finalize(st);
	}
	return 1;
}

static int
websess_end(const char *id)
{
	sqlite3_stmt *st = NULL;
	char h[65];
	int r;

	if (id_hash(id, h) == -1)
		return 0;
	r = db_run(db, &st, "DELETE FROM session WHERE id_hash = ?1", h,
	    NULL);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db) > 0;
}

void
websess_drop_user(const char *user)
{
	sqlite3_stmt *st = NULL;

	(void)db_run(db, &st, "DELETE FROM session WHERE user = ?1", user,
	    NULL);
	sqlite3_finalize(st);
}

int
websess_answer(int type, const char *a1, const char *a2, struct ipc_out *o)
{
	char user[320], csrf[WEB_ID_LEN + 1], token[AUTH_TOKEN_LEN + 1];
	int r = 0;

	switch (type) {
	case AP_WEB_NEW:
		if (a1 != NULL && a2 != NULL)
			r = websess_new(a1, a2, o);
		break;
	case AP_WEB_CHECK:
	case AP_WEB_TOKEN:
		if (a1 == NULL || (r = websess_find(a1, user, sizeof(user),
		    csrf, sizeof(csrf))) != 1)
			break;
		ipc_put_str(o, AA_YES);
		ipc_put_str(o, user);
		if (type == AP_WEB_CHECK)
			ipc_put_str(o, csrf);
		else {
			lookup_token_new(user, "web", token);
			ipc_put_str(o, token);
		}
		break;
	case AP_WEB_END:
		if (a1 != NULL)
			r = websess_end(a1);
		if (r == 1)
			ipc_put_str(o, AA_YES);
		break;
	}
	if (r < 0)
		log_err("webmail sessions: %s", sqlite3_errmsg(db));
	if (r != 1)
		ipc_put_str(o, r == 0 ? AA_NO : AA_TEMPFAIL);
	return r;
}
