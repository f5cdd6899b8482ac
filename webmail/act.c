/*
 * What a session changes (POST; the front has checked the Origin and
 * the CSRF token): flags, moving and deleting messages, folders.  Each
 * goes through the store, as IMAP's STORE, MOVE and EXPUNGE do, so an
 * IMAP client sees it at once.  Then back to the page the form came
 * from (a path of ours only), or 204 for the page's script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../global/addr.h"
#include "../global/sharing.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

#define MAX_UIDS	WEB_MAX_PARAMS

struct cur_flags {
	unsigned int	 flags;
	char		*keywords;
};

static int
cur_flags_cb(const struct mmsg *m, void *arg)
{
	struct cur_flags *cf = arg;

	cf->flags = m->flags;
	cf->keywords = util_strdup(m->keywords != NULL ? m->keywords : "");
	return 1;
}

/* Set (on) or clear flag on message uid; 0 or -1. */
static int
set_flag(struct mbox *mb, uint32_t uid, unsigned int flag, int on)
{
	struct cur_flags cf = { 0, NULL };
	uint64_t modseq;
	unsigned int want;
	int r;

	if (mbox_messages(mb, uid, uid, 0, 0, cur_flags_cb, &cf) == -1 ||
	    cf.keywords == NULL) {
		free(cf.keywords);
		return -1;
	}
	want = on ? cf.flags | flag : cf.flags & ~flag;
	r = want == cf.flags ? 0 : mbox_set_flags(mb, uid, want, cf.keywords,
	    0, &modseq);
	free(cf.keywords);
	return r < 0 ? -1 : 0;
}

/* The flags of a message copied into another user's folder: only those
 * the rights there allow (RFC 4314 §4, as IMAP's COPY). */
static void
copy_flags_allowed(struct mbox *dst, uint32_t uid, unsigned int rights)
{
	struct cur_flags cf = { 0, NULL };
	unsigned int mask = 0;
	uint64_t modseq;

	if ((rights & (ACL_S | ACL_W | ACL_T)) == (ACL_S | ACL_W | ACL_T))
		return;
	if (rights & ACL_S)
		mask |= MF_SEEN;
	if (rights & ACL_T)
		mask |= MF_DELETED;
	if (rights & ACL_W)
		mask |= MF_ALL & ~(MF_SEEN | MF_DELETED);
	if (mbox_messages(dst, uid, uid, 0, 0, cur_flags_cb, &cf) == 0 &&
	    cf.keywords != NULL)
		(void)mbox_set_flags(dst, uid, cf.flags & mask, (rights &
		    ACL_W) ? cf.keywords : "", 0, &modseq);
	free(cf.keywords);
}

/* Move uids into folder to (copy, then expunge here, as IMAP's MOVE):
 * 0, -1, or WEB_FOLDER_NOPERM (another user's folder without "i"). */
static int
move_to(struct backend *be, const uint32_t *uids, size_t n, const char *to)
{
	struct mbox *dst = NULL;
	uint32_t newuid;
	size_t i, done = 0;
	uint32_t moved[MAX_UIDS];
	unsigned int rights;
	int k;

	if (strcmp(to, be->mb_name) == 0)
		return 0;
	if ((k = web_folder_open(be, to, ACL_I, &dst, &rights)) != 0)
		return k == WEB_FOLDER_NOPERM ? k : -1;
	for (i = 0; i < n; i++)
		if (mbox_copy(be->mb, uids[i], dst, &newuid) == 0) {
			moved[done++] = uids[i];
			copy_flags_allowed(dst, newuid, rights);
		}
	mbox_close(&dst);
	if (done > 0 && mbox_expunge(be->mb, moved, done) == -1)
		return -1;
	return done == n ? 0 : -1;
}

struct find_role {
	unsigned int	 role;
	char		*name;
	size_t		 size;
	int		 found;
};

static void
find_role_cb(const char *name, unsigned int attrs, void *arg)
{
	struct find_role *fr = arg;

	/* The folder made with the role ("Drafts") wins over one an IMAP
	 * client gave it later (CREATE ... (USE (\Drafts)), RFC 6154 §3),
	 * so the webmail's drafts and sent mail stay where they were. */
	if ((fr->found && !(mstore_special_use(name) & fr->role)) ||
	    !(attrs & fr->role) || (attrs & (MFA_NONEXISTENT | MFA_NOSELECT)))
		return;
	if (util_strcpy(fr->name, name, fr->size) == 0)
		fr->found = 1;
}

int
view_role_folder(struct backend *be, unsigned int role, char *name,
    size_t size)
{
	struct find_role fr = { role, name, size, 0 };

	(void)mstore_list(be->st, find_role_cb, &fr);
	return fr.found ? 0 : -1;
}

void
act_mark(struct backend *be, const char *folder, uint32_t uid,
    unsigned int flag)
{
	struct mbox *mb = NULL;

	if (web_folder_open(be, folder, flag == MF_SEEN ? ACL_S :
	    flag == MF_DELETED ? ACL_T : ACL_W, &mb, NULL) != 0)
		return;
	(void)set_flag(mb, uid, flag, 1);
	mbox_close(&mb);
}

void
view_drop_draft(struct backend *be, uint32_t uid)
{
	struct mbox *mb = NULL;
	char name[1024];

	if (uid == 0 || view_role_folder(be, MFA_DRAFTS, name,
	    sizeof(name)) == -1 || mbox_open(be->st, name, &mb) == -1)
		return;
	(void)mbox_expunge(mb, &uid, 1);
	mbox_close(&mb);
}

/* Back to where the form was: only a page of ours. */
static void
go_back(const struct web_request *r, struct resp *rs, const char *folder)
{
	const char *back = web_param(r, "back");
	struct buf b;

	if (web_param(r, "js") != NULL) {
		resp_text(rs, 204, "");
		return;
	}
	if (back != NULL && strncmp(back, "/mail", 5) == 0 &&
	    (back[5] == '\0' || back[5] == '?') && strlen(back) < 4096 &&
	    strpbrk(back, "\r\n\\") == NULL) {
		resp_redirect(rs, back);
		return;
	}
	buf_init(&b, 0);
	web_url(&b, "/mail", "f", folder, NULL);
	resp_redirect(rs, b.data);
	buf_release(&b);
}

/*
 * In another user's folder, what the rights there allow (RFC 4314 §4,
 * as IMAP's STORE and MOVE check them): 0, or -1 with rs a refusal
 * that says which right is missing.  The page offers only what is
 * allowed; this is for a page made before a right was taken away.
 */
static int
act_allowed(struct backend *be, const char *op, struct resp *rs)
{
	static const struct {
		const char	*op;
		unsigned int	 need;
		const char	*text;
	} rules[] = {
		{ "read", ACL_S, "mark messages read or unread (s)" },
		{ "unread", ACL_S, "mark messages read or unread (s)" },
		{ "flag", ACL_W, "flag messages (w)" },
		{ "unflag", ACL_W, "flag messages (w)" },
		{ "move", ACL_T | ACL_E, "move messages out (t, e)" },
		{ "junk", ACL_T | ACL_E, "move messages out (t, e)" },
		{ "delete", ACL_T | ACL_E, "delete messages (t, e)" },
		{ "empty", ACL_ALL, "empty it" },
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(op, rules[i].op) == 0 &&
		    (be->rights & rules[i].need) != rules[i].need) {
			snprintf(text, sizeof(text), "You may not %s in this "
			    "shared folder: its owner has not given you that "
			    "right\n", rules[i].text);
			resp_text(rs, 403, text);
			return -1;
		}
	return 0;
}

void
act_messages(struct backend *be, const struct web_request *r,
    struct resp *rs)
{
	const char *op = web_param(r, "op"), *to = web_param(r, "to"), *why;
	uint32_t uids[MAX_UIDS];
	char role_name[1024], *end;
	unsigned long v;
	size_t i, n = 0;
	int failed = 0, k = 0;
	unsigned int role;

	if (op == NULL || view_folder(be, r, rs) == -1) {
		if (op == NULL)
			resp_text(rs, 400, "Bad request: no action\n");
		return;
	}
	for (i = 0; i < r->nparams && n < MAX_UIDS; i++) {
		if (strcmp(r->params[i].name, "uid") != 0)
			continue;
		v = strtoul(r->params[i].value, &end, 10);
		if (*end != '\0' || v == 0 || v > UINT32_MAX) {
			resp_text(rs, 400, "Bad request: a message number\n");
			return;
		}
		uids[n++] = (uint32_t)v;
	}
	if (act_allowed(be, op, rs) == -1)
		return;
	if (strcmp(op, "trust") == 0 || strcmp(op, "untrust") == 0) {
		/* A sender whose remote images are shown, or no longer. */
		const char *sender = web_param(r, "sender"), *rest;
		char path[ADDR_PATH_MAX + 3], name[ADDR_PATH_MAX + 32];
		struct mailaddr ma;

		snprintf(path, sizeof(path), "<%s>", sender != NULL ?
		    sender : "");
		if (sender == NULL || strlen(sender) > ADDR_PATH_MAX ||
		    addr_parse_path(path, 0, &ma, &rest, &why) == -1 ||
		    *rest != '\0') {
			resp_text(rs, 400, "Bad request: not an address\n");
			return;
		}
		snprintf(name, sizeof(name), "images-from:%s", sender);
		if (mstore_setting_set(be->st, name, op[0] == 't' ? "1" :
		    NULL) == -1)
			failed = 1;
	} else if (strcmp(op, "empty") == 0) {
		uint32_t *all = NULL;
		size_t nall = 0;

		if (!(mstore_special_use(be->mb_name) & MFA_TRASH) ||
		    mbox_uids(be->mb, &all, &nall) == -1 ||
		    (nall > 0 && mbox_expunge(be->mb, all, nall) == -1))
			failed = 1;
		free(all);
	} else if (strcmp(op, "read") == 0 || strcmp(op, "unread") == 0 ||
	    strcmp(op, "flag") == 0 || strcmp(op, "unflag") == 0) {
		unsigned int flag = strstr(op, "read") != NULL ? MF_SEEN :
		    MF_FLAGGED;
		int on = strcmp(op, "read") == 0 || strcmp(op, "flag") == 0;

		for (i = 0; i < n; i++)
			if (set_flag(be->mb, uids[i], flag, on) == -1)
				failed = 1;
	} else if (strcmp(op, "move") == 0 || strcmp(op, "junk") == 0 ||
	    strcmp(op, "delete") == 0) {
		role = op[0] == 'j' ? MFA_JUNK : MFA_TRASH;
		if (op[0] == 'm')
			to = to != NULL && maildir_name_valid(to, &why) == 0 ?
			    to : NULL;
		else if (op[0] == 'd' && (mstore_special_use(
		    be->mb_name) & MFA_TRASH)) {
			/* Deleting in the trash: gone for good. */
			to = NULL;
			if (n > 0 && mbox_expunge(be->mb, uids, n) == -1)
				failed = 1;
			go_back(r, rs, be->mb_name);
			if (failed)
				resp_text(rs, 500, "Could not delete\n");
			return;
		} else
			to = view_role_folder(be, role, role_name,
			    sizeof(role_name)) == 0 ? role_name : NULL;
		if (to != NULL && (k = move_to(be, uids, n, to)) ==
		    WEB_FOLDER_NOPERM) {
			resp_text(rs, 403, "You may not put messages into that "
			    "shared folder: its owner has not given you the "
			    "right (i)\n");
			return;
		}
		if (to == NULL || k == -1)
			failed = 1;
	} else {
		resp_text(rs, 400, "Bad request: unknown action\n");
		return;
	}
	if (failed) {
		log_warn("sid=%s user=%s %s: %s", be->sid, log_str(be->user),
		    op, mstore_error(be->st));
		resp_text(rs, 409, "Some messages could not be changed (gone "
		    "already?); reload the page\n");
		return;
	}
	go_back(r, rs, be->mb_name);
}

void
act_folder(struct backend *be, const struct web_request *r, struct resp *rs)
{
	const char *op = web_param(r, "op"), *name = web_param(r, "name");
	const char *f = web_param(r, "f"), *why = NULL;
	char imap[1024], parent[1024] = "", *slash;
	struct buf b;
	int rc = -1;

	if (op == NULL) {
		resp_text(rs, 400, "Bad request: no action\n");
		return;
	}
	if (name != NULL && (utf8_to_mutf7(name, imap, sizeof(imap)) == -1 ||
	    maildir_name_valid(imap, &why) == -1)) {
		resp_text(rs, 400, "That name cannot be a folder's\n");
		return;
	}
	if ((f != NULL && web_shared_name(f)) || (name != NULL &&
	    web_shared_name(imap))) {
		/* RFC 4314's k and x stay with IMAP: the webmail manages
		 * one's own folders only. */
		resp_text(rs, 403, "Folders of other users are managed by "
		    "their owners\n");
		return;
	}
	if (strcmp(op, "rename") == 0 && f != NULL &&
	    strcmp(f, "INBOX") == 0) {
		/* as IMAP's RENAME INBOX would, it would empty it */
		resp_text(rs, 403, "The INBOX keeps its name\n");
		return;
	}
	if (strcmp(op, "create") == 0 && name != NULL)
		rc = mstore_create(be->st, imap);
	else if (strcmp(op, "rename") == 0 && name != NULL && f != NULL) {
		/* The new name stays beside the old one. */
		util_strcpy(parent, f, sizeof(parent));
		if ((slash = strrchr(parent, '/')) != NULL) {
			slash[1] = '\0';
			if (strlen(parent) + strlen(imap) < sizeof(parent))
				strcat(parent, imap);
			util_strcpy(imap, parent, sizeof(imap));
		}
		mbox_close(&be->mb);
		rc = mstore_rename(be->st, f, imap);
	} else if (strcmp(op, "delete") == 0 && f != NULL) {
		mbox_close(&be->mb);
		util_strcpy(imap, "INBOX", sizeof(imap));
		rc = mstore_delete(be->st, f);	/* never the INBOX */
	} else {
		resp_text(rs, 400, "Bad request: no such folder action\n");
		return;
	}
	if (rc == -1) {
		resp_store_fail(be, rs, "folder");
		return;
	}
	buf_init(&b, 0);
	web_url(&b, "/mail", "f", imap, NULL);
	resp_redirect(rs, b.data);
	buf_release(&b);
}
