/*
 * The pages of a session (GET: nothing changes): the mail page (folders,
 * the list of one folder from the index's summaries, and the message
 * open, if any), a mail's own document for the sandboxed frame, an
 * attachment, and a message's source.  Folders are named by their IMAP
 * names and messages by UID, both resolved by the store: no parameter
 * ever becomes a path.
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
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

#define PAGE_ROWS	50
#define MAX_PAGE_HTML	(8 * 1024 * 1024)
#define MAX_INLINE_IMAGES (4 * 1024 * 1024)	/* cid: as data: URLs */

/* ---- small pieces ---- */

/* A URL (web_url) escaped into an attribute of page b. */
static void
attr_url(struct buf *b, const char *path, ...)
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

static void
hidden(struct buf *b, const char *name, const char *value)
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

	util_strcpy(name, f != NULL && f[0] != '\0' ? f : "INBOX",
	    sizeof(name));
	maildir_name_normalize(name);
	if (maildir_name_valid(name, &why) == -1) {
		resp_text(rs, 404, "No such folder\n");
		return -1;
	}
	if (be->mb != NULL && strcmp(mbox_name(be->mb), name) == 0) {
		if (mbox_sync(be->mb) == 0)
			return 0;
		mbox_close(&be->mb);
	}
	mbox_close(&be->mb);
	if (mbox_open(be->st, name, &be->mb) == -1) {
		resp_text(rs, 404, "No such folder\n");
		return -1;
	}
	return 0;
}

/* A UID parameter: > 0, or 0. */
static uint32_t
param_uid(const struct web_request *r, const char *name)
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
};

/* The folders as a mail client shows them: Inbox, the special ones in
 * their usual order, then the others as the store sorts them. */
#define MAX_FOLDERS	1000

struct folder_ent {
	char		*name;
	unsigned int	 attrs;
	int		 rank;
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

static int
folder_cmp(const void *a, const void *b)
{
	const struct folder_ent *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->name, y->name);
}

static void
folders_each(struct backend *be, void (*cb)(const char *, unsigned int,
    void *), void *arg)
{
	struct folder_list *fl = util_calloc(1, sizeof(*fl));
	size_t i;

	(void)mstore_list(be->st, folder_collect, fl);
	qsort(fl->v, fl->n, sizeof(fl->v[0]), folder_cmp);
	for (i = 0; i < fl->n; i++) {
		cb(fl->v[i].name, fl->v[i].attrs, arg);
		free(fl->v[i].name);
	}
	free(fl);
}

static void
folder_row(const char *name, unsigned int attrs, void *arg)
{
	struct folders_arg *fa = arg;
	struct mbox_status st;
	char label[1024];
	const char *role = role_name(attrs), *slash;
	int current = strcmp(name, fa->current) == 0;

	memset(&st, 0, sizeof(st));
	if (current)
		st = *fa->current_status;
	else
		(void)mstore_status(fa->be->st, name, &st);
	slash = strrchr(name, '/');
	folder_label(slash != NULL ? slash + 1 : name, label, sizeof(label));
	if (strcmp(name, "INBOX") == 0)
		util_strcpy(label, "Inbox", sizeof(label));
	buf_puts(fa->b, "<li data-folder=\"");
	html_escape_str(fa->b, name);
	buf_printf(fa->b, "\"%s><a class=\"%s\" href=\"",
	    current ? " class=\"current\"" : "", slash != NULL ? "child" : "");
	attr_url(fa->b, "/mail", "f", name, NULL);
	buf_puts(fa->b, "\"><span>");
	html_escape_str(fa->b, label);
	if (role != NULL && strcasecmp(label, role) != 0)
		buf_printf(fa->b, "<span class=\"role\">%s</span>", role);
	buf_puts(fa->b, "</span><span class=\"count\">");
	if (st.unseen > 0)
		buf_printf(fa->b, "%u", st.unseen);
	buf_puts(fa->b, "</span></a></li>");
}

static void
folder_option(const char *name, unsigned int attrs, void *arg)
{
	struct buf *b = arg;
	char label[1024];

	(void)attrs;
	folder_label(name, label, sizeof(label));
	buf_puts(b, "<option value=\"");
	html_escape_str(b, name);
	buf_puts(b, "\">");
	html_escape_str(b, label);
	buf_puts(b, "</option>");
}

struct list_arg {
	struct buf	*b;
	const char	*folder, *page, *sort, *order, *q, *csrf;
	const char	*back;		/* this page */
	const char	*threads;	/* "1": the conversation view */
	int		 images;	/* remote images asked for */
	int		 child;		/* the row is a reply in its thread */
	uint32_t	 open_uid;
	uint32_t	 prev_uid, next_uid, last_uid;
	int		 open_seen;
	unsigned int	 open_flags;
	size_t		 rows;
};

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
	char uid[16];
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
	buf_printf(b, "<li data-uid=\"%u\" class=\"%s%s%s\" data-href=\"",
	    m->uid, m->flags & MF_SEEN ? "" : "unread",
	    current ? " current" : "", la->child ? " thread-child" : "");
	attr_url(b, "/mail", "f", la->folder, "p", la->page, "s", la->sort,
	    "o", la->order, "q", la->q, "t", la->threads, "u", uid, NULL);
	buf_printf(b, "\"><input type=\"checkbox\" name=\"uid\" value=\"%u\" "
	    "aria-label=\"Select\"><span class=\"from\">", m->uid);
	html_escape_str(b, sender(m));
	buf_puts(b, "</span><span class=\"date\">");
	put_time(b, m->sent, 0);
	buf_puts(b, "</span><span class=\"marks\">");
	if (m->flags & MF_FLAGGED)
		buf_puts(b, "<span class=\"flagged\" title=\"Flagged\">"
		    "&#9733;</span>");
	if (m->has_attachment)
		buf_puts(b, "<span title=\"Attachment\">&#128206;</span>");
	if (m->flags & MF_ANSWERED)
		buf_puts(b, "<span title=\"Answered\">&#8617;</span>");
	buf_puts(b, "</span><span class=\"subject\"><a href=\"");
	attr_url(b, "/mail", "f", la->folder, "p", la->page, "s", la->sort,
	    "o", la->order, "q", la->q, "t", la->threads, "u", uid, NULL);
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
	attr_url(b, "/mail", "f", la->folder, "s", key, "o",
	    on && desc ? "asc" : "desc", "q", la->q, NULL);
	buf_printf(b, "\"%s>%s%s</a> ", on ? " aria-current=\"true\"" : "",
	    label, on ? (desc ? " &#8595;" : " &#8593;") : "");
}

/* The open message: headers, actions, attachments, its frame. */
static void reader(struct backend *be, struct buf *b, struct list_arg *la);

void
view_mail(struct backend *be, const struct web_request *r, struct resp *rs)
{
	struct folders_arg fa;
	struct list_arg la;
	struct buf *b;
	char label[1024], title[1200], page[16], range[64], uidstr[16] = "";
	struct buf back;
	const char *folder;
	uint32_t total = 0, pageno = 1, pages;
	struct mbox_status st;

	if (view_folder(be, r, rs) == -1)
		return;
	folder = mbox_name(be->mb);
	memset(&la, 0, sizeof(la));
	la.folder = folder;
	la.sort = web_param(r, "s");
	la.order = web_param(r, "o");
	la.q = web_param(r, "q");
	la.csrf = r->csrf;
	la.threads = web_param(r, "t") != NULL && strcmp(web_param(r, "t"),
	    "1") == 0 && (la.q == NULL || la.q[0] == '\0') ? "1" : NULL;
	la.images = web_param(r, "images") != NULL &&
	    strcmp(web_param(r, "images"), "1") == 0;
	la.open_uid = param_uid(r, "u");
	if ((pageno = param_uid(r, "p")) == 0)
		pageno = 1;
	snprintf(page, sizeof(page), "%u", pageno);
	la.page = pageno > 1 ? page : NULL;

	if (la.open_uid != 0)
		snprintf(uidstr, sizeof(uidstr), "%u", la.open_uid);
	buf_init(&back, 4096);
	web_url(&back, "/mail", "f", folder, "p", la.page, "s", la.sort, "o",
	    la.order, "q", la.q, "t", la.threads, "u", uidstr, NULL);
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
	hidden(b, "f", folder);
	buf_puts(b, "<input type=\"search\" name=\"q\" placeholder=\""
	    "Search from, to, subject, text\" aria-label=\"Search\" "
	    "value=\"");
	html_escape_str(b, la.q != NULL ? la.q : "");
	buf_puts(b, "\"><button type=\"submit\">Search</button></form>"
	    "<span class=\"user\">");
	html_escape_str(b, be->user);
	buf_puts(b, "</span><form class=\"logout\" method=\"post\" "
	    "action=\"/logout\">");
	hidden(b, "csrf", r->csrf);
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
	folders_each(be, folder_row, &fa);
	buf_puts(b, "</ul><details><summary>Manage folders</summary>"
	    "<form method=\"post\" action=\"/folder\">");
	hidden(b, "csrf", r->csrf);
	hidden(b, "op", "create");
	buf_puts(b, "<input name=\"name\" aria-label=\"New folder\" "
	    "placeholder=\"New folder\" required><button type=\"submit\">"
	    "Create</button></form>");
	if (strcmp(folder, "INBOX") != 0) {
		buf_puts(b, "<form method=\"post\" action=\"/folder\">");
		hidden(b, "csrf", r->csrf);
		hidden(b, "op", "rename");
		hidden(b, "f", folder);
		buf_puts(b, "<input name=\"name\" aria-label=\"New name\" "
		    "required value=\"");
		html_escape_str(b, label);
		buf_puts(b, "\"><button type=\"submit\">Rename</button></form>"
		    "<form method=\"post\" action=\"/folder\">");
		hidden(b, "csrf", r->csrf);
		hidden(b, "op", "delete");
		hidden(b, "f", folder);
		buf_puts(b, "<button type=\"submit\">Delete this folder"
		    "</button></form>");
	}
	buf_puts(b, "</details></nav>\n");

	/* the list */
	buf_puts(b, "<section class=\"list\" aria-label=\"Messages\">"
	    "<form id=\"listform\" method=\"post\" action=\"/act\">");
	hidden(b, "csrf", r->csrf);
	hidden(b, "f", folder);
	hidden(b, "back", la.back);
	buf_puts(b, "<div class=\"toolbar\"><input type=\"checkbox\" "
	    "class=\"select-all\" aria-label=\"Select all\">"
	    "<button name=\"op\" value=\"read\">Read</button>"
	    "<button name=\"op\" value=\"unread\">Unread</button>"
	    "<button name=\"op\" value=\"flag\">Flag</button>"
	    "<button name=\"op\" value=\"delete\">Delete</button>"
	    "<button name=\"op\" value=\"junk\">Junk</button>"
	    "<select name=\"to\" aria-label=\"Move to\">");
	folders_each(be, folder_option, b);
	buf_puts(b, "</select><button name=\"op\" value=\"move\">Move</button>");
	if (mstore_special_use(folder) & MFA_TRASH)
		buf_puts(b, "<button name=\"op\" value=\"empty\">Empty trash"
		    "</button>");
	buf_puts(b, "<span class=\"spacer\"></span><a class=\"view-toggle\" "
	    "href=\"");
	attr_url(b, "/mail", "f", folder, "t", la.threads != NULL ? NULL :
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
	} else if (la.q != NULL && la.q[0] != '\0') {
		/* A search: the hits, a page of them. */
		uint32_t *hits = NULL;
		size_t nhits = 0, i;

		if (web_search(be, la.q, sort_of(la.sort), la.order == NULL ||
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
	if (pageno > 1) {
		snprintf(page, sizeof(page), "%u", pageno - 1);
		buf_puts(b, "<a rel=\"prev\" href=\"");
		attr_url(b, "/mail", "f", folder, "p", page, "s", la.sort,
		    "o", la.order, "q", la.q, "t", la.threads, NULL);
		buf_puts(b, "\">&#8592; Newer</a> ");
	}
	if (pageno < pages) {
		snprintf(page, sizeof(page), "%u", pageno + 1);
		buf_puts(b, "<a rel=\"next\" href=\"");
		attr_url(b, "/mail", "f", folder, "p", page, "s", la.sort,
		    "o", la.order, "q", la.q, "t", la.threads, NULL);
		buf_puts(b, "\">Older &#8594;</a>");
	}
	buf_puts(b, "</span></div></section>\n");
	reader(be, b, &la);
	page_end(b);
	buf_release(&back);
}

/* ---- the open message ---- */

struct parts_arg {
	struct buf	*b;
	const char	*folder;
	const char	*uid;
	int		 n;
};

static int
attachment_row(const struct mime_part_info *p, void *arg)
{
	struct parts_arg *pa = arg;
	const char *name = p->filename;

	if (p->is_multipart || p->is_message || p->depth == 0)
		return 0;
	if (name == NULL && (p->disposition == NULL ||
	    strcmp(p->disposition, "attachment") != 0))
		return 0;
	if (pa->n++ == 0)
		buf_puts(pa->b, "<ul class=\"attachments\" "
		    "aria-label=\"Attachments\">");
	buf_puts(pa->b, "<li><a href=\"");
	attr_url(pa->b, "/msg/part", "f", pa->folder, "u", pa->uid, "part",
	    p->id, NULL);
	buf_puts(pa->b, "\" download>&#128206; ");
	html_escape_str(pa->b, name != NULL ? name : "attachment");
	buf_printf(pa->b, " <small>(%zu KB)</small></a></li>",
	    (p->size * 3 / 4 + 1023) / 1024);
	return 0;
}

static struct mime_msg *
message_load(struct backend *be, uint32_t uid)
{
	struct mime_msg *m;
	int fd;

	if ((fd = mbox_msg_open(be->mb, uid)) == -1)
		return NULL;
	m = mime_msg_load(fd, (size_t)be->conf->smtpd.max_message_size * 2);
	close(fd);
	return m;
}

static void
header_row(struct buf *b, struct mime_msg *m, const char *name,
    const char *label)
{
	char *v = mime_header(m, NULL, name);

	if (v != NULL && v[0] != '\0') {
		buf_printf(b, "<dt>%s</dt><dd>", label);
		html_escape_str(b, v);
		buf_puts(b, "</dd>");
	}
	free(v);
}

static int remote_images(struct mime_msg *m);

/* The first From address, "local@domain" in lower case, or "". */
static void
sender_cb(const struct mime_addr *a, void *arg)
{
	char *out = arg;
	char *p;

	if (out[0] != '\0' || a->kind != MIME_ADDR_MAILBOX ||
	    a->local == NULL || a->domain == NULL ||
	    strlen(a->local) + strlen(a->domain) + 2 > ADDR_PATH_MAX)
		return;
	snprintf(out, ADDR_PATH_MAX + 1, "%s@%s", a->local, a->domain);
	for (p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

static void
sender_address(struct mime_msg *m, char *out, size_t size)
{
	char *raw = mime_header_raw(m, NULL, "From");

	out[0] = '\0';
	if (raw != NULL && size > ADDR_PATH_MAX)
		mime_addr_parse(raw, sender_cb, out);
	free(raw);
	if (!web_utf8_valid(out, strlen(out)))
		out[0] = '\0';
}

/* Does the user show this sender's remote images (act.c sets it)? */
static int
images_trusted(struct backend *be, const char *sender)
{
	char name[ADDR_PATH_MAX + 32], v[8];

	snprintf(name, sizeof(name), "images-from:%s", sender);
	return mstore_setting_get(be->st, name, v, sizeof(v)) == 1;
}

static void
images_form(struct buf *b, const struct list_arg *la, const char *folder,
    const char *uid, const char *sender, const char *op, const char *label)
{
	buf_puts(b, "<form class=\"inline\" method=\"post\" "
	    "action=\"/act\">");
	hidden(b, "csrf", la->csrf);
	hidden(b, "f", folder);
	hidden(b, "op", op);
	hidden(b, "sender", sender);
	hidden(b, "back", la->back);
	(void)uid;
	buf_puts(b, "<button type=\"submit\">");
	buf_puts(b, label);
	html_escape_str(b, sender);
	buf_puts(b, "</button></form>");
}

/* A link to a neighbour in the list (uid 0: back to the list). */
static void
nav_link(struct buf *b, const struct list_arg *la, uint32_t uid,
    const char *cls, const char *label)
{
	char u[16];

	if (uid == 0 && strcmp(cls, "close-msg") != 0)
		return;
	snprintf(u, sizeof(u), "%u", uid);
	buf_printf(b, "<a class=\"button %s\" href=\"", cls);
	attr_url(b, "/mail", "f", la->folder, "p", la->page, "s", la->sort,
	    "o", la->order, "q", la->q, "t", la->threads, "u", uid != 0 ? u :
	    NULL, NULL);
	buf_printf(b, "\">%s</a>", label);
}

static void
reader(struct backend *be, struct buf *b, struct list_arg *la)
{
	struct parts_arg pa;
	struct mime_msg *m;
	char uid[16], *subject, sender[ADDR_PATH_MAX + 1];
	const char *folder = la->folder;

	if (la->open_uid == 0 || (m = message_load(be, la->open_uid)) ==
	    NULL) {
		buf_puts(b, "<article class=\"reader\"><p class=\"nothing\">");
		buf_puts(b, la->open_uid ? "This message is no longer here." :
		    "No message selected.");
		buf_puts(b, "</p></article>");
		return;
	}
	snprintf(uid, sizeof(uid), "%u", la->open_uid);
	buf_printf(b, "<article class=\"reader\" data-uid=\"%s\" "
	    "data-unread=\"%d\" aria-label=\"Message\"><header><h2>", uid,
	    la->open_seen && !(la->open_flags & MF_SEEN));
	subject = mime_header(m, NULL, "Subject");
	html_escape_str(b, subject != NULL && subject[0] != '\0' ? subject :
	    "(no subject)");
	free(subject);
	buf_puts(b, "</h2><dl>");
	header_row(b, m, "From", "From");
	header_row(b, m, "To", "To");
	header_row(b, m, "Cc", "Cc");
	header_row(b, m, "Date", "Date");
	buf_puts(b, "</dl><div class=\"actions\"><form method=\"post\" "
	    "action=\"/act\">");
	hidden(b, "csrf", la->csrf);
	hidden(b, "f", folder);
	hidden(b, "uid", uid);
	{
		/* After it: the next message (or the list). */
		struct buf next;
		char u[16];

		snprintf(u, sizeof(u), "%u", la->next_uid);
		buf_init(&next, 4096);
		web_url(&next, "/mail", "f", folder, "p", la->page, "s",
		    la->sort, "o", la->order, "q", la->q, "t", la->threads,
		    "u", la->next_uid != 0 ? u : NULL, NULL);
		hidden(b, "back", next.data);
		buf_release(&next);
	}
	buf_puts(b, "<button name=\"op\" value=\"delete\" title=\"Delete "
	    "(Del)\">Delete</button><button name=\"op\" value=\"junk\">"
	    "Junk</button><button name=\"op\" value=\"unread\" title=\""
	    "Mark unread (u)\">Mark unread</button>");
	if (la->open_flags & MF_FLAGGED)
		buf_puts(b, "<button name=\"op\" value=\"unflag\">Unflag"
		    "</button>");
	else
		buf_puts(b, "<button name=\"op\" value=\"flag\" title=\"Flag "
		    "(s)\">Flag</button>");
	buf_puts(b, "</form>");
	if (mstore_special_use(folder) & MFA_DRAFTS) {
		buf_puts(b, "<a class=\"button primary\" href=\"");
		attr_url(b, "/compose", "mode", "draft", "f", folder, "u", uid,
		    NULL);
		buf_puts(b, "\">Edit</a>");
	} else {
		buf_puts(b, "<a class=\"button reply\" title=\"Reply (r)\" "
		    "href=\"");
		attr_url(b, "/compose", "mode", "reply", "f", folder, "u", uid,
		    NULL);
		buf_puts(b, "\">Reply</a><a class=\"button reply-all\" "
		    "title=\"Reply to all (a)\" href=\"");
		attr_url(b, "/compose", "mode", "replyall", "f", folder, "u",
		    uid, NULL);
		buf_puts(b, "\">Reply all</a><a class=\"button forward\" "
		    "title=\"Forward (f)\" href=\"");
		attr_url(b, "/compose", "mode", "forward", "f", folder, "u", uid,
		    NULL);
		buf_puts(b, "\">Forward</a>");
	}
	buf_puts(b, "<a class=\"button\" href=\"");
	attr_url(b, "/msg/raw", "f", folder, "u", uid, NULL);
	buf_puts(b, "\" target=\"_blank\" rel=\"noopener\">Source</a>"
	    "<a class=\"button\" href=\"");
	attr_url(b, "/msg/raw", "f", folder, "u", uid, "dl", "1", NULL);
	buf_puts(b, "\">Download</a>");
	nav_link(b, la, la->prev_uid, "prev-msg", "&#8593; Previous");
	nav_link(b, la, la->next_uid, "next-msg", "&#8595; Next");
	nav_link(b, la, 0, "close-msg", "Close");
	buf_puts(b, "</div>");
	sender_address(m, sender, sizeof(sender));
	if (sender[0] != '\0' && images_trusted(be, sender))
		la->images = 2;		/* this sender's, always */
	if (!la->images && remote_images(m) > 0) {
		buf_puts(b, "<div class=\"notice\">Remote images are blocked: "
		    "they tell the sender when and where you read. <a href=\"");
		attr_url(b, "/mail", "f", folder, "p", la->page, "s", la->sort,
		    "o", la->order, "q", la->q, "t", la->threads, "u", uid,
		    "images", "1", NULL);
		buf_puts(b, "\">Show them</a>");
		if (sender[0] != '\0')
			images_form(b, la, folder, uid, sender, "trust",
			    "Always for ");
		buf_puts(b, "</div>");
	} else if (la->images == 2)
		images_form(b, la, folder, uid, sender, "untrust",
		    "Stop showing remote images from ");
	memset(&pa, 0, sizeof(pa));
	pa.b = b;
	pa.folder = folder;
	pa.uid = uid;
	(void)mime_parts(m, attachment_row, &pa);
	if (pa.n > 0)
		buf_puts(b, "</ul>");
	buf_puts(b, "</header><iframe sandbox=\"allow-popups "
	    "allow-popups-to-escape-sandbox\" title=\"Message text\" src=\"");
	attr_url(b, "/msg/body", "f", folder, "u", uid, "images",
	    la->images ? "1" : NULL, NULL);
	buf_puts(b, "\"></iframe></article>");
	mime_msg_free(&m);
}

/* ---- a mail's own document (the frame) ---- */

/* Which part is the text to show: the first text/html (in an
 * alternative, the HTML one), else the first text/plain, not an
 * attachment. */
struct body_pick {
	char		 html[MIME_PART_ID_MAX], plain[MIME_PART_ID_MAX];
};

static int
body_pick_cb(const struct mime_part_info *p, void *arg)
{
	struct body_pick *bp = arg;

	if (p->is_multipart || p->is_message || strcmp(p->type, "text") != 0)
		return 0;
	if (p->disposition != NULL && strcmp(p->disposition, "attachment") ==
	    0)
		return 0;
	if (strcmp(p->subtype, "html") == 0 && bp->html[0] == '\0')
		util_strcpy(bp->html, p->id, sizeof(bp->html));
	else if (strcmp(p->subtype, "plain") == 0 && bp->plain[0] == '\0')
		util_strcpy(bp->plain, p->id, sizeof(bp->plain));
	return 0;
}

/* cid: images become data: URLs (the frame's CSP allows only those and
 * our origin, and a sandboxed frame's requests carry no cookie). */
struct cid_arg {
	struct mime_msg	*m;
	size_t		 used;
};

struct cid_find {
	const char	*cid;
	char		 id[MIME_PART_ID_MAX];
	char		 type[64];
};

static int
cid_find_cb(const struct mime_part_info *p, void *arg)
{
	struct cid_find *cf = arg;

	if (p->content_id == NULL || strcmp(p->content_id, cf->cid) != 0 ||
	    strcmp(p->type, "image") != 0)
		return 0;
	util_strcpy(cf->id, p->id, sizeof(cf->id));
	snprintf(cf->type, sizeof(cf->type), "image/%s", p->subtype);
	return 1;
}

static char *
cid_url(const char *cid, void *arg)
{
	static const char *const ok[] = { "image/png", "image/gif",
	    "image/jpeg", "image/webp", NULL };
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct cid_arg *ca = arg;
	struct cid_find cf;
	const unsigned char *d;
	struct buf u;
	size_t len, i;
	char *data;
	int good = 0;

	memset(&cf, 0, sizeof(cf));
	cf.cid = cid;
	(void)mime_parts(ca->m, cid_find_cb, &cf);
	if (cf.id[0] == '\0')
		return NULL;
	for (i = 0; ok[i] != NULL; i++)
		good |= strcmp(cf.type, ok[i]) == 0;
	if (!good || (data = mime_part_content(ca->m, cf.id, &len)) == NULL)
		return NULL;
	if (ca->used + len > MAX_INLINE_IMAGES) {
		free(data);
		return NULL;
	}
	ca->used += len;
	buf_init(&u, 0);
	buf_printf(&u, "data:%s;base64,", cf.type);
	d = (const unsigned char *)data;
	for (i = 0; i < len; i += 3) {
		unsigned int v = (unsigned int)d[i] << 16 |
		    (i + 1 < len ? (unsigned int)d[i + 1] << 8 : 0) |
		    (i + 2 < len ? d[i + 2] : 0);

		buf_putc(&u, b64[v >> 18 & 63]);
		buf_putc(&u, b64[v >> 12 & 63]);
		buf_putc(&u, i + 1 < len ? b64[v >> 6 & 63] : '=');
		buf_putc(&u, i + 2 < len ? b64[v & 63] : '=');
	}
	free(data);
	return buf_take(&u);
}

/* How many remote images the message's HTML would load. */
static int
remote_images(struct mime_msg *m)
{
	struct html_report rep;
	struct body_pick bp;
	struct buf scratch;
	char *text;
	size_t len;

	memset(&bp, 0, sizeof(bp));
	(void)mime_parts(m, body_pick_cb, &bp);
	if (bp.html[0] == '\0' || (text = mime_part_text(m, bp.html,
	    &len)) == NULL)
		return 0;
	memset(&rep, 0, sizeof(rep));
	buf_init(&scratch, MAX_PAGE_HTML);
	(void)html_sanitize(text, len, NULL, &scratch, &rep);
	buf_release(&scratch);
	free(text);
	return (int)rep.remote_blocked;
}

static const char frame_head[] = "<!doctype html><html><head>"
    "<meta charset=\"utf-8\"><base target=\"_blank\"><style>"
    "body{font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "sans-serif;color:#1c2430;margin:16px 18px;overflow-wrap:anywhere}"
    "pre.text{white-space:pre-wrap;font:inherit;margin:0}"
    "img{max-width:100%;height:auto}table{max-width:100%}"
    "blockquote{border-left:3px solid #d0d5dd;margin:0 0 0 4px;"
    "padding-left:10px;color:#475467}"
    "</style></head><body>";

/*
 * The text of message u as a document of its own: HTML mail rebuilt by
 * the sanitizer (remote images only with images=1), plain text escaped
 * with its links.  Served with the sandbox CSP (the front adds it for
 * the "frame:" type).
 */
void
view_body(struct backend *be, const struct web_request *r, struct resp *rs)
{
	struct html_policy pol;
	struct html_report rep;
	struct body_pick bp;
	struct cid_arg ca;
	struct mime_msg *m;
	uint32_t uid = param_uid(r, "u");
	char *text;
	size_t len;
	const char *images = web_param(r, "images");

	if (view_folder(be, r, rs) == -1)
		return;
	if (uid == 0 || (m = message_load(be, uid)) == NULL) {
		resp_text(rs, 404, "No such message\n");
		return;
	}
	memset(&bp, 0, sizeof(bp));
	(void)mime_parts(m, body_pick_cb, &bp);
	resp_init(rs, 200, "frame:text/html; charset=utf-8");
	rs->body.max = MAX_PAGE_HTML;
	buf_puts(&rs->body, frame_head);
	if (bp.html[0] != '\0' && (text = mime_part_text(m, bp.html, &len)) !=
	    NULL) {
		memset(&pol, 0, sizeof(pol));
		memset(&rep, 0, sizeof(rep));
		memset(&ca, 0, sizeof(ca));
		ca.m = m;
		pol.allow_remote_images = images != NULL &&
		    strcmp(images, "1") == 0;
		pol.cid_url = cid_url;
		pol.arg = &ca;
		if (html_sanitize(text, len, &pol, &rs->body, &rep) == -1)
			buf_puts(&rs->body, "<p>(This message is too large "
			    "to show.)</p>");
		free(text);
	} else if (bp.plain[0] != '\0' && (text = mime_part_text(m, bp.plain,
	    &len)) != NULL) {
		buf_puts(&rs->body, "<pre class=\"text\">");
		text_to_html(&rs->body, text, len);
		buf_puts(&rs->body, "</pre>");
		free(text);
	} else
		buf_puts(&rs->body, "<p>(This message has no text.)</p>");
	buf_puts(&rs->body, "</body></html>\n");
	mime_msg_free(&m);
}

struct attach_find {
	char		 id[MIME_PART_ID_MAX];
	char		 filename[512];
	int		 found;
};

static int
attach_find_cb(const struct mime_part_info *p, void *arg)
{
	struct attach_find *af = arg;

	if (strcmp(p->id, af->id) != 0 || p->is_multipart || p->is_message)
		return 0;
	af->found = 1;
	if (p->filename != NULL)
		util_strcpy(af->filename, p->filename, sizeof(af->filename));
	return 1;
}

/* Content-Disposition: attachment with the name in RFC 6266 / 5987 form
 * (and a plain ASCII fallback). */
static void
disposition(struct buf *b, const char *name)
{
	const char *p;

	buf_puts(b, "attachment; filename=\"");
	for (p = name; *p != '\0'; p++)
		buf_putc(b, (unsigned char)*p >= 0x20 && (unsigned char)*p <
		    0x7f && *p != '"' && *p != '\\' && *p != '/' ? *p : '_');
	buf_puts(b, "\"; filename*=UTF-8''");
	web_url_encode(b, name);
}

/* An attachment: always downloaded, never shown from our origin. */
void
view_part(struct backend *be, const struct web_request *r, struct resp *rs)
{
	struct mime_msg *m;
	struct attach_find af;
	uint32_t uid = param_uid(r, "u");
	const char *part = web_param(r, "part");
	struct buf cd;
	size_t len;
	char *data;

	if (view_folder(be, r, rs) == -1)
		return;
	if (uid == 0 || part == NULL || strlen(part) >= sizeof(af.id) ||
	    (m = message_load(be, uid)) == NULL) {
		resp_text(rs, 404, "No such message\n");
		return;
	}
	memset(&af, 0, sizeof(af));
	util_strcpy(af.id, part, sizeof(af.id));
	(void)mime_parts(m, attach_find_cb, &af);
	if (!af.found || (data = mime_part_content(m, part, &len)) == NULL) {
		mime_msg_free(&m);
		resp_text(rs, 404, "No such part\n");
		return;
	}
	resp_init(rs, 200, "application/octet-stream");
	buf_append(&rs->body, data, len);
	free(data);
	buf_init(&cd, 0);
	disposition(&cd, af.filename[0] != '\0' ? af.filename : "attachment");
	resp_header(rs, "Content-Disposition", cd.data);
	buf_release(&cd);
	mime_msg_free(&m);
}

/* The message as it is stored: shown as text, or downloaded (.eml). */
void
view_raw(struct backend *be, const struct web_request *r, struct resp *rs)
{
	uint32_t uid = param_uid(r, "u");
	const char *dl = web_param(r, "dl");
	char piece[65536];
	ssize_t n;
	int fd;

	if (view_folder(be, r, rs) == -1)
		return;
	if (uid == 0 || (fd = mbox_msg_open(be->mb, uid)) == -1) {
		resp_text(rs, 404, "No such message\n");
		return;
	}
	if (dl != NULL) {
		resp_init(rs, 200, "message/rfc822");
		resp_header(rs, "Content-Disposition",
		    "attachment; filename=\"message.eml\"");
	} else
		resp_init(rs, 200, "text/plain; charset=utf-8");
	while ((n = read(fd, piece, sizeof(piece))) > 0)
		if (buf_append(&rs->body, piece, (size_t)n) == -1)
			break;
	close(fd);
}
