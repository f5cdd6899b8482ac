/*
 * A message of a session: the reader pane of the mail page (headers,
 * actions, attachments, its frame), the message's own document for that
 * sandboxed frame (HTML rebuilt by the sanitizer, cid: images inline,
 * remote ones only when asked), an attachment, and its source.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../global/addr.h"
#include "../global/conf.h"
#include "../global/mime.h"
#include "../global/sharing.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

#define MAX_PAGE_HTML	(8 * 1024 * 1024)
#define MAX_INLINE_IMAGES (4 * 1024 * 1024)	/* cid: as data: URLs */

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
	html_url_attr(pa->b, "/msg/part", "f", pa->folder, "u", pa->uid, "part",
	    p->id, NULL);
	buf_puts(pa->b, "\" download><span class=\"clip\" "
	    "aria-hidden=\"true\"></span> ");
	html_escape_str(pa->b, name != NULL ? name : "attachment");
	buf_printf(pa->b, " <small>(%zu KB)</small></a></li>",
	    (p->size * 3 / 4 + 1023) / 1024);
	return 0;
}

struct mime_msg *
web_msg_load(struct backend *be, struct mbox *mb, uint32_t uid)
{
	struct mime_msg *m;
	int fd;

	if ((fd = mbox_msg_open(mb, uid)) == -1)
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
	html_hidden(b, "csrf", la->csrf);
	html_hidden(b, "f", folder);
	html_hidden(b, "op", op);
	html_hidden(b, "sender", sender);
	html_hidden(b, "back", la->back);
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
	list_url_attr(b, la, la->page, uid != 0 ? u : NULL, NULL, NULL);
	buf_printf(b, "\">%s</a>", label);
}

void
view_reader(struct backend *be, struct buf *b, struct list_arg *la)
{
	struct parts_arg pa;
	struct mime_msg *m;
	char uid[16], *subject, sender[ADDR_PATH_MAX + 1];
	const char *folder = la->folder;

	if (la->open_uid == 0 || (m = web_msg_load(be, be->mb, la->open_uid)) ==
	    NULL) {
		buf_puts(b, "<article class=\"reader\"><p class=\"nothing\">");
		buf_puts(b, la->open_uid ? "This message is no longer here." :
		    "No message selected.");
		buf_puts(b, "</p></article>");
		return;
	}
	snprintf(uid, sizeof(uid), "%u", la->open_uid);
	/* data-unread: the page's script marks it read, if it may (s). */
	buf_printf(b, "<article class=\"reader\" data-uid=\"%s\" "
	    "data-unread=\"%d\" aria-label=\"Message\"><header><h2>", uid,
	    la->open_seen && !(la->open_flags & MF_SEEN) &&
	    (be->rights & ACL_S));
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
	html_hidden(b, "csrf", la->csrf);
	html_hidden(b, "f", folder);
	html_hidden(b, "uid", uid);
	{
		/* After it: the next message (or the list). */
		struct buf next;
		char u[16];

		snprintf(u, sizeof(u), "%u", la->next_uid);
		buf_init(&next, 4096);
		list_url(&next, la, la->page, la->next_uid != 0 ? u : NULL,
		    NULL, NULL);
		html_hidden(b, "back", next.data);
		buf_release(&next);
	}
	/* What the rights on the folder allow (a shared one's). */
	if ((be->rights & (ACL_T | ACL_E)) == (ACL_T | ACL_E))
		buf_puts(b, "<button name=\"op\" value=\"delete\" title=\""
		    "Delete (Del)\">Delete</button><button name=\"op\" "
		    "value=\"junk\">Junk</button>");
	if (be->rights & ACL_S)
		buf_puts(b, "<button name=\"op\" value=\"unread\" title=\""
		    "Mark unread (u)\">Mark unread</button>");
	if ((be->rights & ACL_W) && (la->open_flags & MF_FLAGGED))
		buf_puts(b, "<button name=\"op\" value=\"unflag\">Unflag"
		    "</button>");
	else if (be->rights & ACL_W)
		buf_puts(b, "<button name=\"op\" value=\"flag\" title=\"Flag "
		    "(s)\">Flag</button>");
	buf_puts(b, "</form>");
	if (mstore_special_use(folder) & MFA_DRAFTS) {
		buf_puts(b, "<a class=\"button primary\" href=\"");
		html_url_attr(b, "/compose", "mode", "draft", "f", folder, "u", uid,
		    NULL);
		buf_puts(b, "\">Edit</a>");
	} else {
		buf_puts(b, "<a class=\"button reply\" title=\"Reply (r)\" "
		    "href=\"");
		html_url_attr(b, "/compose", "mode", "reply", "f", folder, "u", uid,
		    NULL);
		buf_puts(b, "\">Reply</a><a class=\"button reply-all\" "
		    "title=\"Reply to all (a)\" href=\"");
		html_url_attr(b, "/compose", "mode", "replyall", "f", folder, "u",
		    uid, NULL);
		buf_puts(b, "\">Reply all</a><a class=\"button forward\" "
		    "title=\"Forward (f)\" href=\"");
		html_url_attr(b, "/compose", "mode", "forward", "f", folder, "u", uid,
		    NULL);
		buf_puts(b, "\">Forward</a>");
	}
	buf_puts(b, "<a class=\"button\" href=\"");
	html_url_attr(b, "/msg/raw", "f", folder, "u", uid, NULL);
	buf_puts(b, "\" target=\"_blank\" rel=\"noopener\">Source</a>"
	    "<a class=\"button\" href=\"");
	html_url_attr(b, "/msg/raw", "f", folder, "u", uid, "dl", "1", NULL);
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
		list_url_attr(b, la, la->page, uid, "images", "1");
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
	html_url_attr(b, "/msg/body", "f", folder, "u", uid, "images",
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
	struct cid_arg *ca = arg;
	struct cid_find cf;
	size_t len, i, head;
	char *data, *url;
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
	/* "data:<type>;base64," and the part in base64 (OpenSSL's). */
	head = strlen("data:;base64,") + strlen(cf.type);
	url = util_calloc(1, head + 4 * ((len + 2) / 3) + 1);
	snprintf(url, head + 1, "data:%s;base64,", cf.type);
	(void)EVP_EncodeBlock((unsigned char *)url + head,
	    (const unsigned char *)data, (int)len);
	free(data);
	return url;
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
	uint32_t uid = web_param_uid(r, "u");
	char *text;
	size_t len;
	const char *images = web_param(r, "images");

	if (view_folder(be, r, rs) == -1)
		return;
	if (uid == 0 || (m = web_msg_load(be, be->mb, uid)) == NULL) {
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
	uint32_t uid = web_param_uid(r, "u");
	const char *part = web_param(r, "part");
	struct buf cd;
	size_t len;
	char *data;

	if (view_folder(be, r, rs) == -1)
		return;
	if (uid == 0 || part == NULL || strlen(part) >= sizeof(af.id) ||
	    (m = web_msg_load(be, be->mb, uid)) == NULL) {
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
	uint32_t uid = web_param_uid(r, "u");
	const char *dl = web_param(r, "dl");
	size_t len;
	char *data;
	int fd;

	if (view_folder(be, r, rs) == -1)
		return;
	if (uid == 0) {
		resp_text(rs, 404, "No such message\n");
		return;
	}
	if ((fd = mbox_msg_open(be->mb, uid)) == -1) {
		resp_store_fail(be, rs, "message");
		return;
	}
	data = util_read_fd(fd, (size_t)be->conf->smtpd.max_message_size * 2,
	    &len);
	close(fd);
	if (data == NULL) {
		resp_text(rs, 500, "The message could not be read\n");
		return;
	}
	if (dl != NULL) {
		resp_init(rs, 200, "message/rfc822");
		resp_header(rs, "Content-Disposition",
		    "attachment; filename=\"message.eml\"");
	} else
		resp_init(rs, 200, "text/plain; charset=utf-8");
	buf_append(&rs->body, data, len);
	free(data);
}
