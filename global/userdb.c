#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/db.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "addr.h"
#include "layout.h"
#include "userdb.h"

struct userdb {
	sqlite3	*db;
	char	 err[512];
};

static const char userdb_schema[] =
	"CREATE TABLE IF NOT EXISTS domains ("
	"  name TEXT PRIMARY KEY NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS users ("
	"  address TEXT PRIMARY KEY NOT NULL,"
	"  domain TEXT NOT NULL REFERENCES domains(name),"
	"  password TEXT NOT NULL,"
	"  quota INTEGER NOT NULL DEFAULT 0,"	/* KiB; 0: none */
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS users_domain ON users(domain);"
	"CREATE TABLE IF NOT EXISTS aliases ("
	"  address TEXT NOT NULL,"
	"  domain TEXT NOT NULL REFERENCES domains(name),"
	"  target TEXT NOT NULL,"
	"  PRIMARY KEY (address, target)"
	") WITHOUT ROWID;"
	/* IMAP ACL (RFC 4314): which owners share folders with whom
	 * (userdb_share_*); the rights are in the owner's own index. */
	"CREATE TABLE IF NOT EXISTS shares ("
	"  owner TEXT NOT NULL,"
	"  grantee TEXT NOT NULL,"		/* an address, or "anyone" */
	"  PRIMARY KEY (owner, grantee)"
	") WITHOUT ROWID;"
	"PRAGMA user_version = 1;";

/*
 * users.quota_messages (the MESSAGE limit beside quota's STORAGE, RFC
 * 9208 §5) is added to a file made before it; its presence is how the
 * two are told apart.
 */
static int
userdb_has_quota_messages(sqlite3 *db)
{
	return db_compiles(db, "SELECT quota_messages FROM users LIMIT 0");
}

static int
userdb_upgrade(sqlite3 *db, const char **err)
{
	const char *ignored;

	if (userdb_has_quota_messages(db))
		return 0;
	if (db_exec(db, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	/* Another process may have done it while we waited. */
	if (!userdb_has_quota_messages(db) && db_exec(db, "ALTER TABLE"
	    " users ADD COLUMN quota_messages INTEGER NOT NULL DEFAULT 0",
	    err) == -1) {
		db_exec(db, "ROLLBACK", &ignored);
		return -1;
	}
	return db_exec(db, "COMMIT", err);
}

static int
userdb_fail(struct userdb *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
userdb_fail(struct userdb *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int
userdb_sqlfail(struct userdb *db, const char *what)
{
	return userdb_fail(db, "%s: %s", what, sqlite3_errmsg(db->db));
}

struct userdb *
userdb_open(const char *data_dir, int create, const char **err)
{
	static char msg[512];
	struct userdb *db;
	char path[PATH_MAX];

	if (layout_path(path, sizeof(path), data_dir, LAYOUT_USERS_DB) == -1) {
		*err = "data_dir too long";
		return NULL;
	}
	db = util_calloc(1, sizeof(*db));
	if ((db->db = db_open(path, create, err)) == NULL) {
		free(db);
		return NULL;
	}
	if (create && (db_exec(db->db, userdb_schema, err) == -1 ||
	    userdb_upgrade(db->db, err) == -1)) {
		snprintf(msg, sizeof(msg), "%s: %s", path, *err);
		*err = msg;
		userdb_close(&db);
		return NULL;
	}
	return db;
}

void
userdb_close(struct userdb **dbp)
{
	if (*dbp == NULL)
		return;
	db_close(&(*dbp)->db);
	free(*dbp);
	*dbp = NULL;
}

const char *
userdb_error(struct userdb *db)
{
	return db->err;
}

int
userdb_normalize(const char *in, char *out, size_t size, const char **why)
{
	struct mailaddr a;

	if (addr_parse(in, &a, why) == -1)
		return -1;
	if (a.domain[0] == '[') {
		*why = "address literals cannot be local";
		return -1;
	}
	util_lower(a.local);
	if (!addr_local_is_mailbox_safe(a.local)) {
		*why = "local part must be a plain dot-atom (no quotes, no '/')";
		return -1;
	}
	addr_format(&a, out, size);
	return 0;
}

/* Run a statement with text arguments that returns no rows. */
static int
userdb_write(struct userdb *db, const char *what, const char *sql, ...)
{
	sqlite3_stmt *st = db_prepare(db->db, sql);
	const char *arg;
	va_list ap;
	int i = 1, r;

	va_start(ap, sql);
	while ((arg = va_arg(ap, const char *)) != NULL)
		sqlite3_bind_text(st, i++, arg, -1, SQLITE_TRANSIENT);
	va_end(ap);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return userdb_sqlfail(db, what);
	return sqlite3_changes(db->db);
}

/* The count a query gives, with one or two text arguments (a2 NULL for
 * one: db_run()'s list ends at the first NULL); -1 on error. */
static int
userdb_count(struct userdb *db, const char *sql, const char *a1,
    const char *a2)
{
	sqlite3_stmt *st;
	int r, n;

	r = db_run(db->db, &st, sql, a1, a2, (char *)NULL);
	if (r != SQLITE_ROW) {
		sqlite3_finalize(st);
		return userdb_sqlfail(db, "query");
	}
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
userdb_domain_add(struct userdb *db, const char *domain)
{
	char d[ADDR_DOMAIN_MAX + 1];

	if (util_strcpy(d, domain, sizeof(d)) == -1 || !addr_domain_valid(d))
		return userdb_fail(db, "invalid domain name '%s'",
		    log_str(domain));
	util_lower(d);
	if (userdb_domain_is_local(db, d) == 1)
		return userdb_fail(db, "domain %s already exists", d);
	if (userdb_write(db, "add domain", "INSERT INTO domains(name) "
	    "VALUES (?)", d, (char *)NULL) < 0)
		return -1;
	return 0;
}

int
userdb_domain_del(struct userdb *db, const char *domain)
{
	char d[ADDR_DOMAIN_MAX + 1];
	int n;

	if (util_strcpy(d, domain, sizeof(d)) == -1)
		return userdb_fail(db, "no such domain");
	util_lower(d);
	if (userdb_domain_is_local(db, d) != 1)
		return userdb_fail(db, "no such domain: %s", log_str(d));
	if ((n = userdb_count(db, "SELECT count(*) FROM users WHERE "
	    "domain = ?", d, NULL)) != 0)
		return n < 0 ? -1 : userdb_fail(db, "domain %s still has %d "
		    "user(s); delete them first", d, n);
	if ((n = userdb_count(db, "SELECT count(*) FROM aliases WHERE "
	    "domain = ?", d, NULL)) != 0)
		return n < 0 ? -1 : userdb_fail(db, "domain %s still has %d "
		    "alias(es); delete them first", d, n);
	return userdb_write(db, "delete domain", "DELETE FROM domains WHERE "
	    "name = ?", d, (char *)NULL) < 0 ? -1 : 0;
}

int
userdb_domain_is_local(struct userdb *db, const char *domain)
{
	int n = userdb_count(db, "SELECT count(*) FROM domains WHERE name = ?",
	    domain, NULL);

	return n < 0 ? -1 : n > 0;
}

static int
userdb_list(struct userdb *db, const char *sql, const char *arg,
    void (*cb1)(const char *, void *),
    void (*cb2)(const char *, const char *, void *), void *cbarg)
{
	sqlite3_stmt *st;
	int r;

	r = db_run(db->db, &st, sql, arg, (char *)NULL);
	while (r == SQLITE_ROW) {
		if (cb2 != NULL)
			cb2((const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1), cbarg);
		else
			cb1((const char *)sqlite3_column_text(st, 0), cbarg);
		r = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : userdb_sqlfail(db, "list");
}

int
userdb_domain_list(struct userdb *db, void (*cb)(const char *, void *),
    void *arg)
{
	return userdb_list(db, "SELECT name FROM domains ORDER BY name",
	    NULL, cb, NULL, arg);
}

/* Validate an address of a local domain for a new user or alias. */
static int
userdb_check_local(struct userdb *db, const char *in, char *out, size_t size,
    const char **domain_r)
{
	const char *why;
	int r;

	if (userdb_normalize(in, out, size, &why) == -1)
		return userdb_fail(db, "invalid address '%s': %s",
		    log_str(in), why);
	*domain_r = strchr(out, '@') + 1;
	if ((r = userdb_domain_is_local(db, *domain_r)) != 1)
		return r < 0 ? -1 : userdb_fail(db, "%s is not a local domain "
		    "(add it with: mailctl domain add %s)", *domain_r,
		    *domain_r);
	return 0;
}

int
userdb_hash_password(const char *password, char *out, size_t size)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char *h;
	int r = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return -1;
	cd = util_calloc(1, sizeof(*cd));
	h = crypt_r(password, salt, cd);
	if (h != NULL && h[0] == '$' && util_strcpy(out, h, size) == 0)
		r = 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

int
userdb_verify_hash(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	size_t i, n;
	unsigned char diff = 0;
	int r = 0;

	/* Only the hash kinds we accept: yescrypt, SHA-512, bcrypt. */
	if (strncmp(hash, "$y$", 3) != 0 && strncmp(hash, "$6$", 3) != 0 &&
	    strncmp(hash, "$2b$", 4) != 0)
		return 0;
	cd = util_calloc(1, sizeof(*cd));
	h = crypt_r(password, hash, cd);
	if (h != NULL && h[0] != '*' && (n = strlen(hash)) == strlen(h)) {
		for (i = 0; i < n; i++)
			diff |= (unsigned char)(h[i] ^ hash[i]);
		r = diff == 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

static int
userdb_check_password(struct userdb *db, const char *password)
{
	if (password[0] == '\0')
		return userdb_fail(db, "empty password");
	if (strlen(password) > 1024)
		return userdb_fail(db, "password longer than 1024 characters");
	return 0;
}

int
userdb_user_add(struct userdb *db, const char *address, const char *password)
{
	char a[ADDR_PATH_MAX + 1], hash[256], now[32];
	const char *domain;
	int n;

	if (userdb_check_local(db, address, a, sizeof(a), &domain) == -1 ||
	    userdb_check_password(db, password) == -1)
		return -1;
	if ((n = userdb_count(db, "SELECT count(*) FROM users WHERE "
	    "address = ?", a, NULL)) != 0)
		return n < 0 ? -1 : userdb_fail(db, "user %s already exists", a);
	if (userdb_hash_password(password, hash, sizeof(hash)) == -1)
		return userdb_fail(db, "crypt(3) failed: %s", strerror(errno));
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	return userdb_write(db, "add user", "INSERT INTO users(address, domain,"
	    " password, created) VALUES (?, ?, ?, ?)", a, domain, hash, now,
	    (char *)NULL) < 0 ? -1 : 0;
}

static int
userdb_user_lookup(struct userdb *db, const char *address, char *out,
    size_t size)
{
	const char *why;
	int n;

	if (userdb_normalize(address, out, size, &why) == -1)
		return userdb_fail(db, "invalid address '%s': %s",
		    log_str(address), why);
	if ((n = userdb_count(db, "SELECT count(*) FROM users WHERE "
	    "address = ?", out, NULL)) != 1)
		return n < 0 ? -1 : userdb_fail(db, "no such user: %s", out);
	return 0;
}

int
userdb_user_del(struct userdb *db, const char *address)
{
	char a[ADDR_PATH_MAX + 1];

	if (userdb_user_lookup(db, address, a, sizeof(a)) == -1)
		return -1;
	if (userdb_write(db, "delete user", "DELETE FROM shares WHERE "
	    "owner = ?1 OR grantee = ?1", a, (char *)NULL) < 0)
		return -1;
	return userdb_write(db, "delete user", "DELETE FROM users WHERE "
	    "address = ?", a, (char *)NULL) < 0 ? -1 : 0;
}

int
userdb_user_passwd(struct userdb *db, const char *address,
    const char *password)
{
	char a[ADDR_PATH_MAX + 1], hash[256];

	if (userdb_user_lookup(db, address, a, sizeof(a)) == -1 ||
	    userdb_check_password(db, password) == -1)
		return -1;
	if (userdb_hash_password(password, hash, sizeof(hash)) == -1)
		return userdb_fail(db, "crypt(3) failed: %s", strerror(errno));
	return userdb_write(db, "set password", "UPDATE users SET password = ? "
	    "WHERE address = ?", hash, a, (char *)NULL) < 0 ? -1 : 0;
}

int
userdb_user_exists(struct userdb *db, const char *address)
{
	int n = userdb_count(db, "SELECT count(*) FROM users WHERE "
	    "address = ? AND enabled = 1", address, NULL);

	return n < 0 ? -1 : n > 0;
}

int
userdb_user_list(struct userdb *db, const char *domain,
    void (*cb)(const char *, void *), void *arg)
{
	if (domain != NULL)
		return userdb_list(db, "SELECT address FROM users WHERE "
		    "domain = lower(?) ORDER BY address", domain, cb, NULL, arg);
	return userdb_list(db, "SELECT address FROM users ORDER BY domain, "
	    "address", NULL, cb, NULL, arg);
}

int
userdb_user_quota_set(struct userdb *db, const char *address,
    uint64_t storage_kib, uint64_t messages)
{
	char a[ADDR_PATH_MAX + 1], kib[24], msgs[24];

	if (storage_kib > USERDB_QUOTA_MAX || messages > USERDB_QUOTA_MAX)
		return userdb_fail(db, "quota larger than %lld",
		    (long long)USERDB_QUOTA_MAX);
	if (userdb_user_lookup(db, address, a, sizeof(a)) == -1)
		return -1;
	snprintf(kib, sizeof(kib), "%llu", (unsigned long long)storage_kib);
	snprintf(msgs, sizeof(msgs), "%llu", (unsigned long long)messages);
	return userdb_write(db, "set quota", "UPDATE users SET quota ="
	    " CAST(? AS INTEGER), quota_messages = CAST(? AS INTEGER)"
	    " WHERE address = ?", kib, msgs, a, (char *)NULL) < 0 ? -1 : 0;
}

int
userdb_user_quota(struct userdb *db, const char *address,
    uint64_t *storage_kib, uint64_t *messages)
{
	char a[ADDR_PATH_MAX + 1];
	const char *why;
	sqlite3_stmt *st;
	int r;

	*storage_kib = *messages = 0;
	if (userdb_normalize(address, a, sizeof(a), &why) == -1)
		return 0;
	r = db_run(db->db, &st, "SELECT max(quota, 0), max(quota_messages, 0)"
	    " FROM users WHERE address = ? AND enabled = 1", a, (char *)NULL);
	if (r == SQLITE_ROW) {
		*storage_kib = (uint64_t)sqlite3_column_int64(st, 0);
		*messages = (uint64_t)sqlite3_column_int64(st, 1);
		r = 1;
	} else if (r == SQLITE_DONE)
		r = 0;
	else
		r = userdb_sqlfail(db, "quota lookup");
	sqlite3_finalize(st);
	return r;
}

int
userdb_quota_list(struct userdb *db, const char *domain,
    void (*cb)(const char *address, uint64_t storage_kib, uint64_t messages,
    void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (domain != NULL)
		r = db_run(db->db, &st, "SELECT address, max(quota, 0),"
		    " max(quota_messages, 0) FROM users WHERE domain = lower(?)"
		    " ORDER BY address", domain, (char *)NULL);
	else
		r = db_run(db->db, &st, "SELECT address, max(quota, 0),"
		    " max(quota_messages, 0) FROM users ORDER BY domain,"
		    " address", (char *)NULL);
	while (r == SQLITE_ROW) {
		cb((const char *)sqlite3_column_text(st, 0),
		    (uint64_t)sqlite3_column_int64(st, 1),
		    (uint64_t)sqlite3_column_int64(st, 2), arg);
		r = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : userdb_sqlfail(db, "quota list");
}

int
userdb_user_hash(struct userdb *db, const char *address, char *hash,
    size_t size)
{
	char a[ADDR_PATH_MAX + 1];
	const char *why;
	sqlite3_stmt *st;
	int r;

	/* An unknown user is checked against this, in the same time. */
	util_strcpy(hash, "$y$j9T$0000000000000000000000"
	    "$0000000000000000000000000000000000000000000", size);
	if (userdb_normalize(address, a, sizeof(a), &why) == -1)
		return 0;
	r = db_run(db->db, &st, "SELECT password FROM users WHERE address = ? "
	    "AND enabled = 1", a, (char *)NULL);
	if (r == SQLITE_ROW)
		r = util_strcpy(hash, (const char *)sqlite3_column_text(st, 0),
		    size) == 0 ? 1 : userdb_fail(db, "hash of %s too long", a);
	else if (r == SQLITE_DONE)
		r = 0;
	else
		r = userdb_sqlfail(db, "password lookup");
	sqlite3_finalize(st);
	return r;
}

/* An alias source: "local@domain" or "@domain" (catch-all). */
static int
userdb_alias_source(struct userdb *db, const char *in, char *out,
    size_t size, const char **domain_r)
{
	if (in[0] == '@') {
		if (!addr_domain_valid(in + 1))
			return userdb_fail(db, "invalid catch-all '%s'",
			    log_str(in));
		if (util_snprintf(out, size, "%s", in) == -1)
			return userdb_fail(db, "address too long");
		util_lower(out);
		*domain_r = out + 1;
		if (userdb_domain_is_local(db, *domain_r) != 1)
			return userdb_fail(db, "%s is not a local domain",
			    *domain_r);
		return 0;
	}
	return userdb_check_local(db, in, out, size, domain_r);
}

int
userdb_alias_add(struct userdb *db, const char *address, const char *target)
{
	char a[ADDR_PATH_MAX + 1], t[ADDR_PATH_MAX + 1];
	struct mailaddr ta;
	const char *domain, *why;
	int n;

	if (userdb_alias_source(db, address, a, sizeof(a), &domain) == -1)
		return -1;
	if (addr_parse(target, &ta, &why) == -1)
		return userdb_fail(db, "invalid target '%s': %s",
		    log_str(target), why);
	if ((n = userdb_domain_is_local(db, ta.domain)) == 1) {
		/* Local targets are stored as they will be looked up. */
		if (userdb_normalize(target, t, sizeof(t), &why) == -1)
			return userdb_fail(db, "invalid target '%s': %s",
			    log_str(target), why);
	} else if (n == 0)
		addr_format(&ta, t, sizeof(t));
	else
		return -1;
	if ((n = userdb_write(db, "add alias", "INSERT OR IGNORE INTO "
	    "aliases(address, domain, target) VALUES (?, ?, ?)", a, domain, t,
	    (char *)NULL)) == 0)
		return userdb_fail(db, "alias %s -> %s already exists", a, t);
	return n < 0 ? -1 : 0;
}

int
userdb_alias_del(struct userdb *db, const char *address, const char *target)
{
	char a[ADDR_PATH_MAX + 1], t[ADDR_PATH_MAX + 1];
	struct mailaddr ta;
	const char *domain, *why;
	int n;

	if (userdb_alias_source(db, address, a, sizeof(a), &domain) == -1)
		return -1;
	if (target == NULL)
		n = userdb_write(db, "delete alias", "DELETE FROM aliases WHERE "
		    "address = ?", a, (char *)NULL);
	else {
		if (addr_parse(target, &ta, &why) == -1)
			return userdb_fail(db, "invalid target '%s': %s",
			    log_str(target), why);
		if (userdb_domain_is_local(db, ta.domain) == 1)
			util_lower(ta.local);
		addr_format(&ta, t, sizeof(t));
		n = userdb_write(db, "delete alias", "DELETE FROM aliases WHERE "
		    "address = ? AND target = ?", a, t, (char *)NULL);
	}
	if (n == 0)
		return userdb_fail(db, "no such alias: %s%s%s", a,
		    target ? " -> " : "", target ? log_str(target) : "");
	return n < 0 ? -1 : 0;
}

int
userdb_alias_list(struct userdb *db,
    void (*cb)(const char *, const char *, void *), void *arg)
{
	return userdb_list(db, "SELECT address, target FROM aliases ORDER BY "
	    "domain, address, target", NULL, NULL, cb, arg);
}

int
userdb_sender_identities(struct userdb *db, const char *user,
    void (*cb)(const char *, void *), void *arg)
{
	return userdb_list(db, "SELECT address FROM aliases WHERE target = ? "
	    "ORDER BY domain, address", user, cb, NULL, arg);
}

void
rcpt_list_free(struct rcpt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].address);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
rcpt_list_append(struct rcpt_list *l, const struct rcpt_list *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (rcpt_list_add(l, src->v[i].address, src->v[i].local) == 1) {
			struct rcpt_target *t = &l->v[l->n - 1];

			t->quota_known = src->v[i].quota_known;
			t->quota_kib = src->v[i].quota_kib;
			t->quota_messages = src->v[i].quota_messages;
			t->used_octets = src->v[i].used_octets;
			t->used_messages = src->v[i].used_messages;
		}
}

int
rcpt_list_add(struct rcpt_list *l, const char *address, int local)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].address, address) == 0)
			return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		if ((l->v = realloc(l->v, l->cap * sizeof(*l->v))) == NULL)
			fatal("realloc");
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].address = util_strdup(address);
	l->v[l->n].local = local;
	l->n++;
	return 1;
}

struct resolve_ctx {
	struct userdb		*db;
	const char		*delimiter;
	struct rcpt_list	*out;
	struct rcpt_list	 visited;
	size_t			 added;
	int			 error;
	int			 remote;	/* the address's domain is not ours */
};

/* Targets of an alias into a list; -1 on error. */
static int
userdb_alias_targets(struct userdb *db, const char *address,
    struct rcpt_list *targets)
{
	sqlite3_stmt *st;
	int r;

	r = db_run(db->db, &st, "SELECT target FROM aliases WHERE address = ?",
	    address, (char *)NULL);
	while (r == SQLITE_ROW) {
		rcpt_list_add(targets, (const char *)sqlite3_column_text(st, 0),
		    0);
		r = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : userdb_sqlfail(db, "alias lookup");
}

static int resolve_addr(struct resolve_ctx *, const char *, int);

/* 1 if at least one target resolved, 0 none, -1 error. */
static int
resolve_targets(struct resolve_ctx *c, const char *alias, int depth)
{
	struct rcpt_list targets = { 0 };
	size_t i;
	int r, found = 0;

	if (userdb_alias_targets(c->db, alias, &targets) == -1)
		return -1;
	if (targets.n == 0) {
		rcpt_list_free(&targets);
		return 0;
	}
	for (i = 0; i < targets.n; i++) {
		if ((r = resolve_addr(c, targets.v[i].address, depth + 1)) < 0) {
			rcpt_list_free(&targets);
			return -1;
		}
		if (r == 0)
			log_warn("alias %s: target %s does not exist",
			    log_str(alias), log_str(targets.v[i].address));
		found |= r;
	}
	rcpt_list_free(&targets);
	/* An alias whose targets are all gone is as good as unknown. */
	return found ? 1 : 0;
}

static int
resolve_add(struct resolve_ctx *c, const char *address, int local)
{
	if (c->added >= USERDB_MAX_EXPANSION)
		return userdb_fail(c->db, "alias expansion of more than %d "
		    "addresses", USERDB_MAX_EXPANSION);
	c->added += rcpt_list_add(c->out, address, local);
	return 1;
}

/* A mailbox of ours, added with its limits (smtpd's quota check at
 * RCPT needs them: one query for both).  1, 0 no such enabled user,
 * -1. */
static int
resolve_mailbox(struct resolve_ctx *c, const char *norm)
{
	sqlite3_stmt *st;
	uint64_t kib = 0, msgs = 0;
	size_t n = c->out->n;
	int r;

	r = db_run(c->db->db, &st, "SELECT max(quota, 0),"
	    " max(quota_messages, 0) FROM users WHERE address = ?"
	    " AND enabled = 1", norm, (char *)NULL);
	if (r == SQLITE_ROW) {
		kib = (uint64_t)sqlite3_column_int64(st, 0);
		msgs = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (r == SQLITE_DONE)
		return 0;
	if (r != SQLITE_ROW)
		return userdb_sqlfail(c->db, "user lookup");
	if ((r = resolve_add(c, norm, 1)) == 1 && c->out->n > n) {
		c->out->v[n].quota_kib = kib;
		c->out->v[n].quota_messages = msgs;
	}
	return r;
}

static int
resolve_addr(struct resolve_ctx *c, const char *address, int depth)
{
	struct mailaddr a;
	char norm[ADDR_PATH_MAX + 1], base[ADDR_PATH_MAX + 1], catchall[300];
	const char *why;
	char *delim;
	int r;

	if (depth > USERDB_MAX_DEPTH)
		return userdb_fail(c->db, "aliases nested deeper than %d",
		    USERDB_MAX_DEPTH);
	if (addr_parse(address, &a, &why) == -1)
		return 0;
	if ((r = userdb_domain_is_local(c->db, a.domain)) < 0)
		return -1;
	if (r == 0) {
		c->remote = depth == 0;
		return resolve_add(c, address, 0);
	}
	util_lower(a.local);
	addr_format(&a, norm, sizeof(norm));
	if (!addr_local_is_mailbox_safe(a.local))
		return 0;

	/* Seen before on this path: "a -> a, b" means a's own mailbox. */
	for (size_t i = 0; i < c->visited.n; i++)
		if (strcmp(c->visited.v[i].address, norm) == 0)
			return resolve_mailbox(c, norm);
	rcpt_list_add(&c->visited, norm, 1);

	if ((r = resolve_targets(c, norm, depth)) != 0)
		return r;
	if ((r = resolve_mailbox(c, norm)) != 0)
		return r;
	if (c->delimiter[0] != '\0' &&
	    (delim = strchr(a.local, c->delimiter[0])) != NULL &&
	    delim != a.local) {
		*delim = '\0';
		snprintf(base, sizeof(base), "%s@%s", a.local, a.domain);
		if ((r = resolve_addr(c, base, depth + 1)) != 0)
			return r;
	}
	snprintf(catchall, sizeof(catchall), "@%s", a.domain);
	return resolve_targets(c, catchall, depth);
}

int
userdb_resolve(struct userdb *db, const char *address, const char *delimiter,
    struct rcpt_list *out)
{
	struct resolve_ctx c = { db, delimiter ? delimiter : "", out,
	    { 0 }, 0, 0, 0 };
	int r;

	r = resolve_addr(&c, address, 0);
	rcpt_list_free(&c.visited);
	return r == 1 && c.remote ? 2 : r;
}

int
userdb_sender_allowed(struct userdb *db, const char *user, const char *sender,
    const char *delimiter)
{
	char norm[ADDR_PATH_MAX + 1], *at, *d;
	const char *why;
	sqlite3_stmt *st;
	int r;

	if (userdb_normalize(sender, norm, sizeof(norm), &why) == -1)
		return 0;
	/* user+tag@domain is the user's too */
	if (delimiter != NULL && delimiter[0] != '\0' &&
	    (at = strrchr(norm, '@')) != NULL &&
	    (d = memchr(norm, delimiter[0], (size_t)(at - norm))) != NULL &&
	    d != norm)
		memmove(d, at, strlen(at) + 1);
	if (strcmp(norm, user) == 0)
		return 1;
	r = db_run(db->db, &st, "SELECT count(*) FROM aliases WHERE "
	    "address = ? AND target = ?", norm, user, (char *)NULL);
	r = r == SQLITE_ROW ? sqlite3_column_int(st, 0) > 0 :
	    userdb_sqlfail(db, "sender lookup");
	sqlite3_finalize(st);
	return r;
}

/*
 * The index of shares (IMAP ACL).  The owner's session adds a grantee
 * before it grants it anything and drops it once it has no right left
 * anywhere; a grantee's session asks which owners share with it before
 * it confines itself, and may reach those owners' Maildirs only.  A
 * grantee is "anyone" (every user of the owner's domain) or a user of
 * the owner's own domain.
 */
int
userdb_share_add(struct userdb *db, const char *owner, const char *grantee)
{
	int n;

	if (strcmp(grantee, USERDB_ANYONE) != 0) {
		n = userdb_count(db, "SELECT count(*) FROM users g, users o"
		    " WHERE g.address = ?1 AND g.enabled = 1 AND"
		    " o.address = ?2 AND o.domain = g.domain", grantee, owner);
		if (n <= 0)
			return n;
	}
	return userdb_write(db, "add share", "INSERT OR IGNORE INTO"
	    " shares(owner, grantee) VALUES (?, ?)", owner, grantee,
	    (char *)NULL) < 0 ? -1 : 1;
}

int
userdb_share_drop(struct userdb *db, const char *owner, const char *grantee)
{
	return userdb_write(db, "drop share", "DELETE FROM shares WHERE"
	    " owner = ? AND grantee = ?", owner, grantee, (char *)NULL) < 0 ?
	    -1 : 0;
}

int
userdb_share_list(struct userdb *db, const char *address,
    void (*cb)(const char *owner, const char *grantee, void *arg), void *arg)
{
	return userdb_list(db, "SELECT owner, grantee FROM shares"
	    " WHERE owner = lower(?1) OR grantee = lower(?1)"
	    " ORDER BY owner, grantee", address, NULL, cb, arg);
}

int
userdb_shared_with(struct userdb *db, const char *grantee,
    void (*cb)(const char *owner, void *arg), void *arg)
{
	return userdb_list(db, "SELECT DISTINCT o.address FROM shares s"
	    " JOIN users o ON o.address = s.owner AND o.enabled = 1"
	    " JOIN users g ON g.address = ?1 AND g.enabled = 1"
	    " WHERE o.address != g.address AND (s.grantee = g.address OR"
	    " (s.grantee = '" USERDB_ANYONE "' AND o.domain = g.domain))"
	    " ORDER BY o.address", grantee, cb, NULL, arg);
}
