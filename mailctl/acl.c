/*
 * mailctl acl: the rights a user grants others on its folders (IMAP
 * ACL, RFC 4314), as the owner's IMAP SETACL, DELETEACL and GETACL would
 * see and change them: one code path (global/sharing.c) over the one
 * store (maildir/acl.c), and the index of shares in users.db told as
 * the auth service tells it for an IMAP session.
 *
 * SECURITY: run by an administrator.  Started as root, it works in the
 * owner's Maildir with the effective ids of server.user (who owns every
 * Maildir: a file the store makes must stay the daemons'), and in
 * users.db as root (which keeps its owner, as every mailctl command
 * does).  Folder names are taken as people write them (UTF-8) and
 * checked by the store: no argument becomes a path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../global/conf.h"
#include "../global/sharing.h"
#include "../global/userdb.h"
#include "../lib/privsep.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "mailctl.h"

struct acl_ctx {
	struct userdb	*db;
	struct mstore	*st;
	char		 owner[320];
	uid_t		 uid;		/* server.user, when started as root */
	gid_t		 gid;
	int		 root;
};

/* The owner's Maildir as server.user, users.db as ourselves. */
static void
as_mail(struct acl_ctx *c)
{
	if (c->root && (setegid(c->gid) == -1 || seteuid(c->uid) == -1)) {
		perror("mailctl: seteuid");
		exit(1);
	}
}

static void
as_admin(struct acl_ctx *c)
{
	if (c->root && (seteuid(0) == -1 || setegid(0) == -1)) {
		perror("mailctl: seteuid");
		exit(1);
	}
}

static int
sharer_add(void *arg, const char *grantee)
{
	struct acl_ctx *c = arg;
	int r;

	as_admin(c);
	r = userdb_share_add(c->db, c->owner, grantee);
	as_mail(c);
	return r;
}

static int
sharer_drop(void *arg, const char *grantee)
{
	struct acl_ctx *c = arg;
	int r;

	as_admin(c);
	r = userdb_share_drop(c->db, c->owner, grantee);
	as_mail(c);
	return r;
}

/* The owner (a user), its store open.  0, or 1 after saying why. */
static int
acl_open(struct acl_ctx *c, const struct conf *conf, const char *owner)
{
	char dir[4096];
	const char *err;
	struct stat sb;

	memset(c, 0, sizeof(*c));
	c->db = mailctl_open_db();
	if (userdb_normalize(owner, c->owner, sizeof(c->owner), &err) == -1 ||
	    userdb_user_exists(c->db, c->owner) != 1) {
		fprintf(stderr, "mailctl: no such user: %s\n", owner);
		return 1;
	}
	if ((c->root = geteuid() == 0) && privsep_lookup(conf->server.user,
	    &c->uid, &c->gid, &err) == -1) {
		fprintf(stderr, "mailctl: %s\n", err);
		return 1;
	}
	as_mail(c);
	if (maildir_user_path(conf->server.data_dir, c->owner, dir,
	    sizeof(dir)) == -1 || stat(dir, &sb) == -1) {
		fprintf(stderr, "mailctl: %s has no mail store yet (no folder "
		    "to share)\n", c->owner);
		return 1;
	}
	if (mstore_open(dir, &c->st, &err) == -1) {
		fprintf(stderr, "mailctl: the mail store of %s: %s\n",
		    c->owner, err);
		return 1;
	}
	return 0;
}

static void
acl_close(struct acl_ctx *c)
{
	mstore_close(&c->st);
	as_admin(c);
	userdb_close(&c->db);
}

/* A folder as written (UTF-8) into its IMAP name; 0, or 1 after saying
 * why. */
static int
acl_folder(struct acl_ctx *c, const char *given, char *name, size_t size)
{
	const char *why;

	if (utf8_to_mutf7(given, name, size) == 0)
		maildir_name_normalize(name);
	else
		name[0] = '\0';
	if (maildir_name_valid(name, &why) == -1 ||
	    !mstore_exists(c->st, name)) {
		fprintf(stderr, "mailctl: %s has no folder %s\n", c->owner,
		    given);
		return 1;
	}
	return 0;
}

/* "FOLDER  IDENTIFIER RIGHTS" of each entry (the rights as stored). */
static int
acl_print(struct acl_ctx *c, const char *name)
{
	char label[MAILDIR_NAME_MAX * 2 + 1];
	struct macl *v;
	size_t n, i;

	if (mstore_acl_get(c->st, name, &v, &n) == -1) {
		fprintf(stderr, "mailctl: %s\n", mstore_error(c->st));
		return 1;
	}
	if (mutf7_to_utf8(name, label, sizeof(label)) == -1)
		util_strcpy(label, name, sizeof(label));
	for (i = 0; i < n; i++)
		printf("%s  %s %s\n", label, v[i].ident, v[i].rights);
	free(v);
	return 0;
}

struct acl_names {
	char	**v;
	size_t	 n;
};

static void
acl_name_cb(const char *name, unsigned int attrs, void *arg)
{
	struct acl_names *l = arg;

	if (attrs & (MFA_NONEXISTENT | MFA_NOSELECT))
		return;
	l->v = util_reallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = util_strdup(name);
}

static int
acl_list(struct acl_ctx *c, const char *folder)
{
	char name[MAILDIR_NAME_MAX + 1];
	struct acl_names l = { NULL, 0 };
	size_t i;
	int r = 0;

	if (folder != NULL)
		return acl_folder(c, folder, name, sizeof(name)) != 0 ? 1 :
		    acl_print(c, name);
	if (mstore_list(c->st, acl_name_cb, &l) == -1) {
		fprintf(stderr, "mailctl: %s\n", mstore_error(c->st));
		r = 1;
	}
	for (i = 0; i < l.n; i++) {
		if (r == 0)
			r = acl_print(c, l.v[i]);
		free(l.v[i]);
	}
	free(l.v);
	return r;
}

static int
acl_change(struct acl_ctx *c, const char *folder, const char *grantee,
    const char *rights_arg)
{
	char name[MAILDIR_NAME_MAX + 1], id[MACL_IDENT_MAX + 1], letters[16];
	struct acl_sharer sh = { sharer_add, sharer_drop, c };
	const char *why, *dom = strchr(c->owner, '@');
	unsigned int rights;
	char op = '=';
	int k;

	if (rights_arg != NULL && acl_rights_parse(rights_arg, &rights, &op,
	    &why) == -1) {
		fprintf(stderr, "mailctl: rights %s: %s (RFC 4314: letters of "
		    "lrswipkxtea, c and d, after an optional + or -)\n",
		    rights_arg, why);
		return 1;
	}
	if ((k = acl_ident_canon(c->owner, grantee, id, sizeof(id),
	    &why)) < 0) {
		fprintf(stderr, "mailctl: %s: %s\n", grantee, k == -2 ?
		    "not a user of the owner's domain, nor anyone" : why);
		return 1;
	}
	if (acl_folder(c, folder, name, sizeof(name)) != 0)
		return 1;
	switch (acl_entry_set(c->st, name, id, k, op, rights_arg != NULL ?
	    &rights : NULL, &sh, letters)) {
	case ACL_SET_OK:
		if (letters[0] != '\0')
			printf("%s: %s %s\n", folder, id, letters);
		else
			printf("%s: %s has no entry now\n", folder, id);
		return 0;
	case ACL_SET_OWNER:
		fprintf(stderr, "mailctl: the owner always has every right\n");
		break;
	case ACL_SET_ADMIN:
		fprintf(stderr, "mailctl: the a right stays with the owner\n");
		break;
	case ACL_SET_NOUSER:
		fprintf(stderr, "mailctl: no such user in %s: %s\n",
		    dom != NULL ? dom + 1 : "the owner's domain", id);
		break;
	case ACL_SET_TEMPFAIL:
		fprintf(stderr, "mailctl: %s\n", userdb_error(c->db));
		break;
	case ACL_SET_STORE:
		fprintf(stderr, "mailctl: %s\n", mstore_error(c->st));
		break;
	}
	return 1;
}

int
mailctl_acl(const struct conf *conf, int argc, char **argv)
{
	struct acl_ctx c;
	int r;

	if (!((argc == 2 || argc == 3) && strcmp(argv[0], "list") == 0) &&
	    !(argc == 5 && strcmp(argv[0], "set") == 0) &&
	    !(argc == 4 && strcmp(argv[0], "del") == 0))
		return -1;
	if ((r = acl_open(&c, conf, argv[1])) == 0) {
		if (argv[0][0] == 'l')
			r = acl_list(&c, argc == 3 ? argv[2] : NULL);
		else
			r = acl_change(&c, argv[2], argv[3], argc == 5 ?
			    argv[4] : NULL);
	}
	acl_close(&c);
	return r;
}
