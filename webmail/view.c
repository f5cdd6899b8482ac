/*
 * The mail page of a session (GET: nothing changes): the folders, the
 * list of one folder from the index's summaries (or a search's hits, or
 * its conversations), and the message open, if any (message.c).
 * Folders are named by their IMAP names and messages by UID, both
 * resolved by the store: no parameter ever becomes a path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../global/addr.h"
#include "../global/conf.h"
#include "../global/mime.h"
#include "../global/sharing.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

#define PAGE_ROWS	50
#define MAX_PAGE_HTML	(8 * 1024 * 1024)

/* ---- small pieces ---- */

/* A URL (web_url) escaped into an attribute of page b. */
void
html_url_attr(struct buf *b, const char *path, ...)
{
	struct buf u;
	va_list ap;

	buf_init(&u, 0);
	va_start(ap, path);
	web_url_va(&u, path, ap);
	va_end(ap);
	html_escape(b, u.data, u.len);
	buf_release(&u);
}

void
list_url(struct buf *u, const struct list_arg *la, const char *page,
    const char *uid, const char *key, const char *value)
{
	web_url(u, "/mail", "f", la->folder, "p", page, "s", la->sort, "o",
	    la->order, "q", la->q, "in", la->in, "all", la->all, "t",
	    la->threads, "u", uid, key, value, NULL);
}

void
list_url_attr(struct buf *b, const struct list_arg *la, const char *page,
    const char *uid, const char *key, const char *value)
{
	struct buf u;

	buf_init(&u, 0);
	list_url(&u, la, page, uid, key, value);
	html_escape(b, u.data, u.len);
	buf_release(&u);
}

void
html_hidden(struct buf *b, const char *name, const char *value)
{
	buf_puts(b, "<input type=\"hidden\" name=\"");
	html_escape_str(b, name);
	buf_puts(b, "\" value=\"");
	html_escape_str(b, value);
	buf_puts(b, "\">");
}

/* A folder's name for people: UTF-8, INBOX as "Inbox". */
static void
folder_label(const char *name, char *out, size_t size)
{
	if (strcmp(name, "INBOX") == 0)
		util_strcpy(out, "Inbox", size);
	else if (mutf7_to_utf8(name, out, size) == -1)
		util_strcpy(out, name, size);
}

static const char *
role_name(unsigned int attrs)
{
	if (attrs & MFA_SENT)
		return "sent";
	if (attrs & MFA_DRAFTS)
		return "drafts";
	if (attrs & MFA_TRASH)
		return "trash";
	if (attrs & MFA_JUNK)
		return "junk";
	if (attrs & MFA_ARCHIVE)
		return "archive";
	return NULL;
}

/* A date in UTC (the page's script shows it in the reader's zone). */
static void
put_time(struct buf *b, int64_t t, int long_form)
{
	char iso[32], text[40];
	time_t tt = (time_t)t, now = time(NULL);
	struct tm tm, tn;

	gmtime_r(&tt, &tm);
	gmtime_r(&now, &tn);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (long_form)
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M UTC", &tm);
	else if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
		strftime(text, sizeof(text), "%H:%M", &tm);
	else if (tm.tm_year == tn.tm_year)
		strftime(text, sizeof(text), "%d %b", &tm);
	else
		strftime(text, sizeof(text), "%Y-%m-%d", &tm);
	buf_printf(b, "<time datetime=\"%s\"%s>%s</time>", iso,
	    long_form ? " class=\"long\"" : "", text);
}

int
view_folder(struct backend *be, const struct web_request *r,
    struct resp *rs)
{
	const char *f = web_param(r, "f"), *why;
	char name[1024];
	int k;

	util_strcpy(name, f != NULL && f[0] != '\0' ? f : "INBOX",
	    sizeof(name));
	maildir_name_normalize(name);
	if (maildir_name_valid(name, &why) == -1) {
		resp_text(rs, 404, "No such folder\n");
		return -1;
	}
	if (web_shared_name(name)) {
		/* Another user's: its rights read again at each request (a
		 * revocation is at once), the folder opened anew. */
		mbox_close(&be->mb);
		be->rights = 0;
		if ((k = web_folder_open(be, name, ACL_R, &be->mb,
		    &be->rights)) == 0) {
			util_strcpy(be->mb_name, name, sizeof(be->mb_name));
			return 0;
		}
		resp_text(rs, k == WEB_FOLDER_NOPERM ? 403 : 404, k ==
		    WEB_FOLDER_NOPERM ? "You may see this shared folder but "
		    "not read it: its owner has not given you the right (r)\n" :
		    "No such folder\n");
		return -1;
	}
	be->rights = ACL_ALL;
	if (be->mb != NULL && strcmp(be->mb_name, name) == 0) {
		if (mbox_sync(be->mb) == 0)
			return 0;
		mbox_close(&be->mb);
	}
	mbox_close(&be->mb);
	if (mbox_open(be->st, name, &be->mb) == -1) {
		resp_store_fail(be, rs, "open");
		return -1;
	}
	util_strcpy(be->mb_name, name, sizeof(be->mb_name));
	return 0;
}

/* A parameter that turns a choice on: value when it is that, else NULL
 * (so that only known values go back into the page's links). */
static const char *
param_choice(const struct web_request *r, const char *name,
    const char *value)
{
	const char *v = web_param(r, name);

	return v != NULL && strcmp(v, value) == 0 ? value : NULL;
}

/* A UID parameter: > 0, or 0. */
uint32_t
web_param_uid(const struct web_request *r, const char *name)
{
	const char *v = web_param(r, name);
	char *end;
	unsigned long n;

	if (v == NULL || v[0] < '1' || v[0] > '9')
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (*end != '\0' || errno != 0 || n > UINT32_MAX)
		return 0;
	return (uint32_t)n;
}

/* ---- the mail page ---- */

struct folders_arg {
	struct backend	*be;
	struct buf	*b;
	const char	*current;
	const struct mbox_status *current_status;	/* read already */
	const char	*owner;		/* of the shared folders shown */
	size_t		 owner_len;
};

/* The folders as a mail client shows them: Inbox, the special ones in
 * their usual order, then the others as the store sorts them. */
#define MAX_FOLDERS	1000

struct folder_ent {
	char		*name;		/* as shown: "Other Users/..." */
	unsigned int	 attrs;
	int		 rank;
	/* Another user's (IMAP ACL): its store, its name there, the
	 * user's rights; st NULL for the user's own. */
	struct mstore	*st;
	char		*folder;
	unsigned int	 rights;
};

struct folder_list {
	struct folder_ent v[MAX_FOLDERS];
	size_t		 n;
};

static void
folder_collect(const char *name, unsigned int attrs, void *arg)
{
	static const unsigned int order[] = { MFA_DRAFTS, MFA_SENT,
	    MFA_ARCHIVE, MFA_JUNK, MFA_TRASH };
	struct folder_list *fl = arg;
	struct folder_ent *e;
	size_t i;

	if (fl->n == MAX_FOLDERS || (attrs & (MFA_NONEXISTENT |
	    MFA_NOSELECT)))
		return;
	e = &fl->v[fl->n++];
	e->name = util_strdup(name);
	e->attrs = attrs;
	e->rank = strcmp(name, "INBOX") == 0 ? 0 : 10;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strchr(name, '/') == NULL && (attrs & order[i]))
			e->rank = 1 + (int)i;
}

/* Another user's folder the user may see: after its own. */
static void
folder_collect_shared(const char *name, struct mstore *st,
    const char *folder, unsigned int rights, void *arg)
{
	struct folder_list *fl = arg;
	struct folder_ent *e;

	if (fl->n == MAX_FOLDERS)
		return;
	e = &fl->v[fl->n++];
	e->name = util_strdup(name);
	e->rank = 100;
	e->st = st;
	e->folder = util_strdup(folder);
	e->rights = rights;
}

static int
folder_cmp(const void *a, const void *b)
{
	const struct folder_ent *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->name, y->name);
}

/* The folders, in the order shown (folders_free() them). */
static struct folder_list *
folders_get(struct backend *be)
{
	struct folder_list *fl = util_calloc(1, sizeof(*fl));

	(void)mstore_list(be->st, folder_collect, fl);
	web_shared_each(be, folder_collect_shared, fl);
	qsort(fl->v, fl->n, sizeof(fl->v[0]), folder_cmp);
	return fl;
}

static void
folders_each(const struct folder_list *fl,
    void (*cb)(const struct folder_ent *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		cb(&fl->v[i], arg);
}

static void
folders_free(struct folder_list **fl)
{
	size_t i;

	for (i = 0; i < (*fl)->n; i++) {
		free((*fl)->v[i].name);
		free((*fl)->v[i].folder);
	}
	free(*fl);
	*fl = NULL;
}

/* Before the first folder of each owner who shares with the user, its
 * heading, under one for the other users (as Roundcube shows its
 * "Other Users" namespace). */
static void
owner_heading(struct folders_arg *fa, const struct folder_ent *e)
{
	const char *owner = e->name + strlen(ACL_NS) + 1, *end;
	size_t len;

	if ((end = strchr(owner, '/')) == NULL)
		return;
	len = (size_t)(end - owner);
	if (fa->owner != NULL && fa->owner_len == len &&
	    strncmp(fa->owner, owner, len) == 0)
		return;
	if (fa->owner == NULL)
		buf_puts(fa->b, "<li class=\"heading others\">Other users"
		    "</li>");
	fa->owner = owner;
	fa->owner_len = len;
	buf_puts(fa->b, "<li class=\"heading owner\">");
	html_escape(fa->b, owner, len);
	buf_puts(fa->b, "</li>");
}

static void
folder_row(const struct folder_ent *e, void *arg)
{
	struct folders_arg *fa = arg;
	struct mbox_status st;
	char label[1024];
	const char *name = e->name, *own = e->st != NULL ? e->folder : name;
	const char *role = e->st != NULL ? NULL : role_name(e->attrs), *slash;
	int current = strcmp(name, fa->current) == 0;

	memset(&st, 0, sizeof(st));
	if (current)
		st = *fa->current_status;
	else if (e->st == NULL)
		(void)mstore_status(fa->be->st, name, &st);
	else if (e->rights & ACL_R)
		(void)mstore_status(e->st, e->folder, &st);
	if (e->st != NULL)
		owner_heading(fa, e);
	slash = strrchr(own, '/');
	folder_label(slash != NULL ? slash + 1 : own, label, sizeof(label));
	if (strcmp(own, "INBOX") == 0)
		util_strcpy(label, "Inbox", sizeof(label));
	/* data-folder: a folder a message may be dropped on */
	buf_puts(fa->b, "<li");
	if (e->st == NULL || (e->rights & ACL_I)) {
		buf_puts(fa->b, " data-folder=\"");
		html_escape_str(fa->b, name);
		buf_puts(fa->b, "\"");
	}
	buf_printf(fa->b, "%s><a class=\"%s%s\" href=\"",
	    current ? " class=\"current\"" : "", slash != NULL ? "child" : "",
	    e->st != NULL ? " shared" : "");
	html_url_attr(fa->b, "/mail", "f", name, NULL);
	buf_puts(fa->b, "\"><span>");
	html_escape_str(fa->b, label);
	if (role != NULL && strcasecmp(label, role) != 0)
		buf_printf(fa->b, "<span class=\"role\">%s</span>", role);
	buf_puts(fa->b, "</span><span class=\"count\">");
	if (st.unseen > 0)
		buf_printf(fa->b, "%u", st.unseen);
	buf_puts(fa->b, "</span></a></li>");
}

/* A folder messages may be moved into: the user's own, or another's
 * with the right to insert (i). */
static void
folder_option(const struct folder_ent *e, void *arg)
{
	struct buf *b = arg;
	char label[1024];

	if (e->st != NULL && !(e->rights & ACL_I))
		return;
	folder_label(e->name, label, sizeof(label));
	buf_puts(b, "<option value=\"");
	html_escape_str(b, e->name);
	buf_puts(b, "\">");
	html_escape_str(b, label);
	buf_puts(b, "</option>");
}

static const char *
sender(const struct msummary *m)
{
	if (m->from_name != NULL && m->from_name[0] != '\0')
		return m->from_name;
	if (m->from_addr != NULL && m->from_addr[0] != '\0')
		return m->from_addr;
	return "(no sender)";
}

static int
list_row(const struct msummary *m, void *arg)
{
	struct list_arg *la = arg;
	struct buf *b = la->b;
	char uid[16], label[1024];
	int current = m->uid == la->open_uid;

	snprintf(uid, sizeof(uid), "%u", m->uid);
	if (current) {
		la->prev_uid = la->last_uid;
		la->open_seen = 1;
		la->open_flags = m->flags;
	} else if (la->open_seen && la->next_uid == 0 && la->prev_uid !=
	    m->uid)
		la->next_uid = m->uid;
	la->last_uid = m->uid;
	la->rows++;
	if (la->row_folder != NULL) {
		/* A hit in another folder: it opens there; nothing to select
		 * (the toolbar acts on the folder shown). */
		buf_printf(b, "<li data-uid=\"%u\" class=\"%s\" data-href=\"",
		    m->uid, m->flags & MF_SEEN ? "" : "unread");
		html_url_attr(b, "/mail", "f", la->row_folder, "u", uid, NULL);
		buf_puts(b, "\"><span></span><span class=\"from\"><span "
		    "class=\"where\">");
		folder_label(la->row_folder, label, sizeof(label));
		html_escape_str(b, label);
		buf_puts(b, "</span> ");
	} else {
		buf_printf(b, "<li data-uid=\"%u\" class=\"%s%s%s\" "
		    "data-href=\"", m->uid, m->flags & MF_SEEN ? "" : "unread",
		    current ? " current" : "", la->child ? " thread-child" : "");
		list_url_attr(b, la, la->page, uid, NULL, NULL);
		buf_printf(b, "\"><input type=\"checkbox\" name=\"uid\" "
		    "value=\"%u\" aria-label=\"Select\"><span class=\"from\">",
		    m->uid);
	}
	html_escape_str(b, sender(m));
	buf_puts(b, "</span><span class=\"date\">");
	put_time(b, m->sent, 0);
	buf_puts(b, "</span><span class=\"marks\">");
	if (m->flags & MF_FLAGGED)
		buf_puts(b, "<span class=\"flagged\" title=\"Flagged\">"
		    "&#9733;</span>");
	if (m->has_attachment)
		buf_puts(b, "<span class=\"clip\" role=\"img\" "
		    "aria-label=\"Attachment\" title=\"Attachment\"></span>");
	if (m->flags & MF_ANSWERED)
		buf_puts(b, "<span title=\"Answered\">&#8617;</span>");
	buf_puts(b, "</span><span class=\"subject\"><a href=\"");
	if (la->row_folder != NULL)
		html_url_attr(b, "/mail", "f", la->row_folder, "u", uid, NULL);
	else
		list_url_attr(b, la, la->page, uid, NULL, NULL);
	buf_puts(b, "\">");
	html_escape_str(b, m->subject != NULL && m->subject[0] != '\0' ?
	    m->subject : "(no subject)");
	buf_puts(b, "</a></span></li>\n");
	return 0;
}

static enum msort
sort_of(const char *s)
{
	if (s == NULL)
		return MSORT_DATE;
	if (strcmp(s, "from") == 0)
		return MSORT_FROM;
	if (strcmp(s, "subject") == 0)
		return MSORT_SUBJECT;
	if (strcmp(s, "size") == 0)
		return MSORT_SIZE;
	if (strcmp(s, "arrival") == 0)
		return MSORT_ARRIVAL;
	return MSORT_DATE;
}

static void
sort_link(struct buf *b, struct list_arg *la, const char *key,
    const char *label)
{
	const char *cur = la->sort != NULL ? la->sort : "date";
	int on = strcmp(cur, key) == 0;
	int desc = la->order == NULL || strcmp(la->order, "asc") != 0;

	buf_puts(b, "<a href=\"");
	html_url_attr(b, "/mail", "f", la->folder, "s", key, "o",
	    on && desc ? "asc" : "desc", "q", la->q, "in", la->in, NULL);
	buf_printf(b, "\"%s>%s%s</a> ", on ? " aria-current=\"true\"" : "",
	    label, on ? (desc ? " &#8595;" : " &#8593;") : "");
}

/* A search of every folder: (folder, UID) hits in folder order. */
#define MAX_ALL_HITS	5000

struct all_hits {
	struct backend	*be;
	const char	*q;
	int		 head;		/* sender and subject only */
	char		**folder;	/* one name per hit */
	uint32_t	*uid;
	size_t		 n, cap;
};

static void
all_search_cb(const struct folder_ent *e, void *arg)
{
	struct all_hits *ah = arg;
	struct mbox *mb = NULL;
	const char *name = e->name;
	uint32_t *uids = NULL;
	size_t n = 0, i;

	if (ah->n >= MAX_ALL_HITS || web_folder_open(ah->be, name, ACL_R,
	    &mb, NULL) != 0)
		return;
	if (web_search(ah->be, mb, ah->q, ah->head, MSORT_DATE, 1, &uids,
	    &n) == 0)
		for (i = 0; i < n && ah->n < MAX_ALL_HITS; i++) {
			if (ah->n == ah->cap) {
				ah->cap = ah->cap ? ah->cap * 2 : 64;
				ah->folder = util_reallocarray(ah->folder,
				    ah->cap, sizeof(*ah->folder));
				ah->uid = util_reallocarray(ah->uid, ah->cap,
				    sizeof(*ah->uid));
			}
			ah->folder[ah->n] = util_strdup(name);
			ah->uid[ah->n++] = uids[i];
		}
	free(uids);
	mbox_close(&mb);
}

static void
all_hits_rows(struct backend *be, struct all_hits *ah, struct list_arg *la,
    uint32_t pageno)
{
	struct mbox *mb = NULL;
	const char *open = NULL;
	size_t i;

	for (i = (size_t)(pageno - 1) * PAGE_ROWS; i < ah->n &&
	    i < (size_t)pageno * PAGE_ROWS; i++) {
		if (mb == NULL || strcmp(open, ah->folder[i]) != 0) {
			mbox_close(&mb);
			if (web_folder_open(be, ah->folder[i], ACL_R, &mb,
			    NULL) != 0)
				continue;
			open = ah->folder[i];
		}
		la->row_folder = ah->folder[i];
		(void)mbox_summary(mb, ah->uid[i], list_row, la);
	}
	la->row_folder = NULL;
	mbox_close(&mb);
}

static void
all_hits_free(struct all_hits *ah)
{
	size_t i;

	for (i = 0; i < ah->n; i++)
		free(ah->folder[i]);
	free(ah->folder);
	free(ah->uid);
}

/* The open message: headers, actions, attachments, its frame. */

static void
view_mail_make(struct backend *be, const struct web_request *r,
    struct resp *rs)
{
	struct folders_arg fa;
	struct folder_list *fl;
	struct list_arg la;
	struct buf *b;
	char label[1024], title[1200], page[16], range[64], uidstr[16] = "";
	char other[16];
	struct buf back;
	const char *folder;
	uint32_t total = 0, pageno = 1, pages;
	struct mbox_status st;

	if (view_folder(be, r, rs) == -1)
		return;
	folder = be->mb_name;
	memset(&la, 0, sizeof(la));
	la.folder = folder;
	la.sort = web_param(r, "s");
	la.order = web_param(r, "o");
	la.q = web_param(r, "q");
	la.csrf = r->csrf;
	la.all = param_choice(r, "all", "1");
	la.in = param_choice(r, "in", "head");
	la.threads = la.q == NULL || la.q[0] == '\0' ?
	    param_choice(r, "t", "1") : NULL;
	la.images = param_choice(r, "images", "1") != NULL;
	la.open_uid = web_param_uid(r, "u");
	if ((pageno = web_param_uid(r, "p")) == 0)
		pageno = 1;
	snprintf(page, sizeof(page), "%u", pageno);
	la.page = pageno > 1 ? page : NULL;

	if (la.open_uid != 0)
		snprintf(uidstr, sizeof(uidstr), "%u", la.open_uid);
	buf_init(&back, 4096);
	list_url(&back, &la, la.page, la.open_uid != 0 ? uidstr : NULL, NULL,
	    NULL);
	la.back = back.data;
	resp_init(rs, 200, "text/html; charset=utf-8");
	rs->body.max = MAX_PAGE_HTML;
	b = &rs->body;
	la.b = b;
	memset(&st, 0, sizeof(st));
	(void)mbox_get_status(be->mb, &st);
	folder_label(folder, label, sizeof(label));
	if (st.unseen > 0)
		snprintf(title, sizeof(title), "(%u) %s · maild", st.unseen,
		    label);
	else
		snprintf(title, sizeof(title), "%s · maild", label);
	page_begin(b, title);
	buf_puts(b, "<meta name=\"csrf\" content=\"");
	html_escape_str(b, r->csrf);
	buf_puts(b, "\">");
	{
		struct buf attrs;

		buf_init(&attrs, 0);
		buf_puts(&attrs, " data-folder=\"");
		html_escape_str(&attrs, folder);
		buf_puts(&attrs, "\"");
		page_body(b, la.open_uid ? "app reading" : "app", attrs.data);
		buf_release(&attrs);
	}

	/* the top bar */
	buf_puts(b, "<header class=\"top\"><span class=\"logo\">maild</span>"
	    "<a class=\"button primary write\" href=\"/compose\" "
	    "title=\"Write (c)\">Write</a>"
	    "<form class=\"search\" method=\"get\" action=\"/mail\" "
	    "role=\"search\">");
	html_hidden(b, "f", folder);
	buf_puts(b, "<input type=\"search\" name=\"q\" placeholder=\""
	    "Search from, to, subject, text\" aria-label=\"Search\" "
	    "value=\"");
	html_escape_str(b, la.q != NULL ? la.q : "");
	buf_printf(b, "\"><select name=\"in\" aria-label=\"Search in\">"
	    "<option value=\"\">everywhere</option><option value=\"head\"%s>"
	    "sender, subject</option></select>"
	    "<label class=\"all\"><input type=\"checkbox\" "
	    "name=\"all\" value=\"1\"%s> all folders</label>"
	    "<button type=\"submit\">Search</button></form>",
	    la.in != NULL ? " selected" : "", la.all != NULL ? " checked" : "");
	buf_puts(b, "<span class=\"user\">");
	html_escape_str(b, be->user);
	buf_puts(b, "</span><form class=\"logout\" method=\"post\" "
	    "action=\"/logout\">");
	html_hidden(b, "csrf", r->csrf);
	buf_puts(b, "<button type=\"submit\">Log out</button></form>"
	    "</header>\n");
	if (web_param(r, "sent") != NULL)
		buf_puts(b, "<p class=\"flash\" role=\"status\">Message sent."
		    "</p>");

	/* the folders */
	memset(&fa, 0, sizeof(fa));
	fa.be = be;
	fa.b = b;
	fa.current = folder;
	fa.current_status = &st;
	buf_puts(b, "<nav class=\"folders\" aria-label=\"Folders\"><ul>");
	fl = folders_get(be);	/* for the pane, the toolbar, a search */
	folders_each(fl, folder_row, &fa);
	buf_puts(b, "</ul><details><summary>Manage folders</summary>"
	    "<form method=\"post\" action=\"/folder\">");
	html_hidden(b, "csrf", r->csrf);
	html_hidden(b, "op", "create");
	buf_puts(b, "<input name=\"name\" aria-label=\"New folder\" "
	    "placeholder=\"New folder\" required><button type=\"submit\">"
	    "Create</button></form>");
	if (strcmp(folder, "INBOX") != 0 && !web_shared_name(folder)) {
		buf_puts(b, "<form method=\"post\" action=\"/folder\">");
		html_hidden(b, "csrf", r->csrf);
		html_hidden(b, "op", "rename");
		html_hidden(b, "f", folder);
		buf_puts(b, "<input name=\"name\" aria-label=\"New name\" "
		    "required value=\"");
		html_escape_str(b, label);
		buf_puts(b, "\"><button type=\"submit\">Rename</button></form>"
		    "<form method=\"post\" action=\"/folder\">");
		html_hidden(b, "csrf", r->csrf);
		html_hidden(b, "op", "delete");
		html_hidden(b, "f", folder);
		buf_puts(b, "<button type=\"submit\">Delete this folder"
		    "</button></form>");
	}
	buf_puts(b, "</details></nav>\n");

	/* the list */
	buf_puts(b, "<section class=\"list\" aria-label=\"Messages\">"
	    "<form id=\"listform\" method=\"post\" action=\"/act\">");
	html_hidden(b, "csrf", r->csrf);
	html_hidden(b, "f", folder);
	html_hidden(b, "back", la.back);
	/* Only what the user's rights on the folder allow (a shared one's,
	 * RFC 4314 §4; act.c checks again). */
	buf_puts(b, "<div class=\"toolbar\"><input type=\"checkbox\" "
	    "class=\"select-all\" aria-label=\"Select all\">");
	if (be->rights & ACL_S)
		buf_puts(b, "<button name=\"op\" value=\"read\">Read</button>"
		    "<button name=\"op\" value=\"unread\">Unread</button>");
	if (be->rights & ACL_W)
		buf_puts(b, "<button name=\"op\" value=\"flag\">Flag</button>");
	if ((be->rights & (ACL_T | ACL_E)) == (ACL_T | ACL_E)) {
		buf_puts(b, "<button name=\"op\" value=\"delete\">Delete"
		    "</button><button name=\"op\" value=\"junk\">Junk</button>"
		    "<select name=\"to\" aria-label=\"Move to\">");
		folders_each(fl, folder_option, b);
		buf_puts(b, "</select><button name=\"op\" value=\"move\">Move"
		    "</button>");
	}
	if (mstore_special_use(folder) & MFA_TRASH)
		buf_puts(b, "<button name=\"op\" value=\"empty\">Empty trash"
		    "</button>");
	buf_puts(b, "<span class=\"spacer\"></span><a class=\"view-toggle\" "
	    "href=\"");
	html_url_attr(b, "/mail", "f", folder, "t", la.threads != NULL ? NULL :
	    "1", NULL);
	buf_puts(b, la.threads != NULL ? "\">List</a> " :
	    "\">Conversations</a> ");
	if (la.threads == NULL) {
		buf_puts(b, "Sort: ");
		sort_link(b, &la, "date", "Date");
		sort_link(b, &la, "from", "From");
		sort_link(b, &la, "subject", "Subject");
		sort_link(b, &la, "size", "Size");
	}
	buf_puts(b, "</div><ul class=\"messages\">\n");
	if (la.threads != NULL) {
		/* Conversations: a page of the messages in thread order. */
		uint32_t *uids = NULL;
		unsigned char *child = NULL;
		size_t nt = 0, i;

		if (web_threads(be, &uids, &child, &nt) == -1)
			log_err("sid=%s threads: %s", be->sid,
			    mstore_error(be->st));
		total = (uint32_t)nt;
		for (i = (size_t)(pageno - 1) * PAGE_ROWS; i < nt &&
		    i < (size_t)pageno * PAGE_ROWS; i++) {
			la.child = child[i];
			(void)mbox_summary(be->mb, uids[i], list_row, &la);
		}
		la.child = 0;
		free(uids);
		free(child);
	} else if (la.q != NULL && la.q[0] != '\0' && la.all != NULL) {
		/* A search of every folder: a page of the hits, each row
		 * naming its folder and opening there. */
		struct all_hits ah;

		memset(&ah, 0, sizeof(ah));
		ah.be = be;
		ah.q = la.q;
		ah.head = la.in != NULL;
		folders_each(fl, all_search_cb, &ah);
		total = (uint32_t)ah.n;
		all_hits_rows(be, &ah, &la, pageno);
		all_hits_free(&ah);
	} else if (la.q != NULL && la.q[0] != '\0') {
		/* A search: the hits, a page of them. */
		uint32_t *hits = NULL;
		size_t nhits = 0, i;

		if (web_search(be, be->mb, la.q, la.in != NULL,
		    sort_of(la.sort), la.order == NULL ||
		    strcmp(la.order, "asc") != 0, &hits, &nhits) == -1)
			log_err("sid=%s search: %s", be->sid,
			    mstore_error(be->st));
		total = (uint32_t)nhits;
		for (i = (size_t)(pageno - 1) * PAGE_ROWS; i < nhits &&
		    i < (size_t)pageno * PAGE_ROWS; i++)
			(void)mbox_summary(be->mb, hits[i], list_row, &la);
		free(hits);
	} else if (mbox_summaries(be->mb, sort_of(la.sort), la.order ==
	    NULL || strcmp(la.order, "asc") != 0, (pageno - 1) * PAGE_ROWS,
	    PAGE_ROWS, list_row, &la, &total) == -1)
		log_err("sid=%s summaries: %s", be->sid,
		    mstore_error(be->st));
	if (la.rows == 0)
		buf_puts(b, la.q != NULL && la.q[0] != '\0' ?
		    "<li class=\"empty\">Nothing found</li>" :
		    "<li class=\"empty\">No messages</li>");
	buf_puts(b, "</ul></form>");
	pages = total == 0 ? 1 : (total + PAGE_ROWS - 1) / PAGE_ROWS;
	if (total == 0)
		snprintf(range, sizeof(range), "0 of 0");
	else
		snprintf(range, sizeof(range), "%u–%u of %u",
		    (pageno - 1) * PAGE_ROWS + 1, (pageno - 1) * PAGE_ROWS +
		    (uint32_t)la.rows, total);
	buf_printf(b, "<div class=\"pager\"><span>%s</span><span>", range);
	/* Its own buffer: la.page, which the reader below uses, is
	 * page[]. */
	if (pageno > 1) {
		snprintf(other, sizeof(other), "%u", pageno - 1);
		buf_puts(b, "<a rel=\"prev\" href=\"");
		list_url_attr(b, &la, other, NULL, NULL, NULL);
		buf_puts(b, "\">&#8592; Newer</a> ");
	}
	if (pageno < pages) {
		snprintf(other, sizeof(other), "%u", pageno + 1);
		buf_puts(b, "<a rel=\"next\" href=\"");
		list_url_attr(b, &la, other, NULL, NULL, NULL);
		buf_puts(b, "\">Older &#8594;</a>");
	}
	buf_puts(b, "</span></div></section>\n");
	view_reader(be, b, &la);
	page_end(b);
	folders_free(&fl);
	buf_release(&back);
}

void
view_mail(struct backend *be, const struct web_request *r, struct resp *rs)
{
	struct pagecache_try pt;

	if (pagecache_get(be, r, &pt, rs) == 0) {
		view_mail_make(be, r, rs);
		pagecache_put(be, &pt, rs);
	}
	pagecache_done(&pt);
}
