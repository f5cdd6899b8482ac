/*
 * Writing mail: the compose form (new, reply, reply to all, forward, a
 * draft reopened), and sending it.  A message sent goes into the queue
 * as an authenticated submission does on port 587: the sender must be
 * an address the user may send as (the auth service's rule), each
 * recipient is resolved by the auth service, maild makes the spool file
 * (the session's process cannot open the spool) and renames it into the
 * queue once it is on disk; then a copy goes to Sent.  In-Reply-To and
 * References come from the message replied to, read here, never from
 * the form.  A draft goes to Drafts (\Draft), where IMAP clients see it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gmime/gmime.h>

#include "../global/addr.h"
#include "../global/authc.h"
#include "../global/conf.h"
#include "../global/mime.h"
#include "../global/sharing.h"
#include "../global/pool.h"
#include "../global/spool.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

#define MAX_RCPTS	100	/* recipients of one message from the web */
#define MAX_QUOTE	(256 * 1024)	/* text quoted in a reply */

/* ---- the form ---- */

struct draft {
	char	*from, *to, *cc, *bcc, *subject, *body;
	char	*html;			/* the rich text, sanitized, or NULL */
	char	 ref_f[1024];		/* the message replied to or forwarded */
	uint32_t ref_u;
	char	 mode[16];
	uint32_t draft_u;		/* the draft being edited (Drafts) */
};

static void
draft_free(struct draft *d)
{
	free(d->from);
	free(d->to);
	free(d->cc);
	free(d->bcc);
	free(d->subject);
	free(d->body);
	free(d->html);
	memset(d, 0, sizeof(*d));
}

static void
field(struct buf *b, const char *name, const char *label, const char *value,
    const char *type)
{
	buf_printf(b, "<label for=\"c-%s\">%s</label><input id=\"c-%s\" "
	    "name=\"%s\" type=\"%s\" value=\"", name, label, name, name, type);
	html_escape_str(b, value != NULL ? value : "");
	buf_puts(b, "\">");
}

/* ---- what the message replied to says ---- */

struct addr_acc {
	struct buf	*b;
	const char	*skip;		/* the user: not in "reply all" */
	int		 n;
};

static void
addr_acc_cb(const struct mime_addr *a, void *arg)
{
	struct addr_acc *acc = arg;
	char addr[ADDR_PATH_MAX + 1];

	if (a->kind != MIME_ADDR_MAILBOX || a->local == NULL ||
	    a->domain == NULL)
		return;
	snprintf(addr, sizeof(addr), "%s@%s", a->local, a->domain);
	if (acc->skip != NULL && strcasecmp(addr, acc->skip) == 0)
		return;
	if (acc->b->len > 0)
		buf_puts(acc->b, ", ");
	if (a->name_utf8 != NULL && a->name_utf8[0] != '\0' &&
	    strpbrk(a->name_utf8, "\",<>@") == NULL)
		buf_printf(acc->b, "%s <%s>", a->name_utf8, addr);
	else
		buf_puts(acc->b, addr);
	acc->n++;
}

/* The addresses of header name (raw, parsed) appended to b. */
static void
addresses(struct mime_msg *m, const char *name, struct buf *b,
    const char *skip)
{
	struct addr_acc acc = { b, skip, 0 };
	char *raw = mime_header_raw(m, NULL, name);

	if (raw != NULL)
		mime_addr_parse(raw, addr_acc_cb, &acc);
	free(raw);
}

/* The text of the message, for quoting (plain, or the HTML's text). */
struct text_pick {
	char	 id[MIME_PART_ID_MAX];
};

static int
text_pick_cb(const struct mime_part_info *p, void *arg)
{
	struct text_pick *tp = arg;

	if (!p->is_multipart && !p->is_message && strcmp(p->type, "text") ==
	    0 && strcmp(p->subtype, "plain") == 0 && (p->disposition == NULL ||
	    strcmp(p->disposition, "attachment") != 0)) {
		util_strcpy(tp->id, p->id, sizeof(tp->id));
		return 1;
	}
	return 0;
}

static void
quote(struct buf *out, struct mime_msg *m, int forward)
{
	struct text_pick tp;
	char *text = NULL, *p, *nl;
	size_t len = 0;

	memset(&tp, 0, sizeof(tp));
	(void)mime_parts(m, text_pick_cb, &tp);
	if (tp.id[0] != '\0')
		text = mime_part_text(m, tp.id, &len);
	if (text == NULL)
		return;
	if (len > MAX_QUOTE)
		text[MAX_QUOTE] = '\0';
	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		if (nl != NULL && nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		buf_puts(out, forward ? "" : (p[0] == '>' ? ">" : "> "));
		buf_puts(out, p);
		buf_putc(out, '\n');
		if (nl == NULL)
			break;
	}
	free(text);
}

/* "Re: x" / "Fwd: x", once. */
static void
subject_prefix(struct buf *b, const char *prefix, const char *subject)
{
	size_t n = strlen(prefix);

	if (strncasecmp(subject, prefix, n) != 0)
		buf_puts(b, prefix);
	buf_puts(b, subject);
}

static struct mime_msg *
load(struct backend *be, const char *folder, uint32_t uid,
    struct mbox **mb_r)
{
	struct mime_msg *m;

	if (web_folder_open(be, folder, ACL_R, mb_r, NULL) != 0)
		return NULL;
	if ((m = web_msg_load(be, *mb_r, uid)) == NULL)
		mbox_close(mb_r);
	return m;
}

/* Fill d for a reply, a forward or a draft of message ref_u in ref_f. */
static void
prefill(struct backend *be, struct draft *d)
{
	struct mime_msg *m;
	struct mbox *mb = NULL;
	struct buf b;
	char *subject, *from, *date;
	int reply = strncmp(d->mode, "reply", 5) == 0;
	int all = strcmp(d->mode, "replyall") == 0;
	int fwd = strcmp(d->mode, "forward") == 0;
	int draft = strcmp(d->mode, "draft") == 0;

	if ((m = load(be, d->ref_f, d->ref_u, &mb)) == NULL)
		return;
	subject = mime_header(m, NULL, "Subject");
	buf_init(&b, 0);
	if (draft) {
		addresses(m, "To", &b, NULL);
		d->to = buf_take(&b);
		addresses(m, "Cc", &b, NULL);
		d->cc = buf_take(&b);
		addresses(m, "Bcc", &b, NULL);
		d->bcc = buf_take(&b);
		d->subject = util_strdup(subject != NULL ? subject : "");
		quote(&b, m, 1);
		d->body = buf_take(&b);
		d->draft_u = d->ref_u;
		d->ref_u = 0;	/* a draft replies to nothing we know */
	} else if (reply) {
		char *rt = mime_header_raw(m, NULL, "Reply-To");

		addresses(m, rt != NULL ? "Reply-To" : "From", &b, NULL);
		free(rt);
		d->to = buf_take(&b);
		if (all) {
			addresses(m, "To", &b, be->user);
			addresses(m, "Cc", &b, be->user);
			d->cc = buf_take(&b);
		}
		subject_prefix(&b, "Re: ", subject != NULL ? subject : "");
		d->subject = buf_take(&b);
		from = mime_header(m, NULL, "From");
		date = mime_header(m, NULL, "Date");
		buf_printf(&b, "\n\nOn %s, %s wrote:\n", date != NULL ? date :
		    "an earlier day", from != NULL ? from : "someone");
		free(from);
		free(date);
		quote(&b, m, 0);
		d->body = buf_take(&b);
	} else if (fwd) {
		subject_prefix(&b, "Fwd: ", subject != NULL ? subject : "");
		d->subject = buf_take(&b);
		buf_puts(&b, "\n\n---------- Forwarded message ----------\n");
		{
			static const char *const h[] = { "From", "Date",
			    "Subject", "To", "Cc", NULL };
			char *v;
			size_t i;

			for (i = 0; h[i] != NULL; i++)
				if ((v = mime_header(m, NULL, h[i])) != NULL &&
				    v[0] != '\0')
					buf_printf(&b, "%s: %s\n", h[i], v),
					free(v);
				else
					free(v);
		}
		buf_putc(&b, '\n');
		quote(&b, m, 1);
		d->body = buf_take(&b);
	}
	buf_release(&b);
	free(subject);
	mime_msg_free(&m);
	mbox_close(&mb);
}

/* ---- the files of a draft ---- */

/* A file to attach: from the form (the front's memfd) or the original
 * of a forward (message/rfc822). */
struct attach {
	char	*data;
	size_t	 len;
	char	 type[128];
	char	 name[256];
};

struct attachments {
	struct attach	 v[WEB_MAX_FILES + 1];
	size_t		 n;
	size_t		 total;
};

static void
attachments_free(struct attachments *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].data);
	a->n = a->total = 0;
}


/* The parts of a draft that are files (what attach_part() made). */
struct draft_files {
	struct buf	*b;		/* the form: a checkbox each */
	struct attachments *atts;	/* or: the kept ones, read */
	struct mime_msg	*m;
	const struct web_request *r;
	size_t		 max;
};

static int
draft_file_cb(const struct mime_part_info *p, void *arg)
{
	struct draft_files *df = arg;
	struct attach *at;
	const char *name = p->filename != NULL ? p->filename : "attachment";
	size_t i, len;
	char *data;
	int kept = 0;

	if (p->is_multipart || p->depth == 0 || p->disposition == NULL ||
	    strcmp(p->disposition, "attachment") != 0)
		return 0;
	if (df->b != NULL) {
		buf_puts(df->b, "<span></span><label class=\"check\"><input "
		    "type=\"checkbox\" name=\"keep\" checked value=\"");
		html_escape_str(df->b, p->id);
		buf_puts(df->b, "\"> <span class=\"clip\" "
		    "aria-hidden=\"true\"></span> ");
		html_escape_str(df->b, name);
		buf_puts(df->b, "</label>");
		return 0;
	}
	for (i = 0; i < df->r->nparams; i++)
		if (strcmp(df->r->params[i].name, "keep") == 0 &&
		    strcmp(df->r->params[i].value, p->id) == 0)
			kept = 1;
	if (!kept || df->atts->n == WEB_MAX_FILES ||
	    (data = mime_part_content(df->m, p->id, &len)) == NULL)
		return 0;
	if (df->atts->total + len > df->max) {
		free(data);
		return 0;
	}
	at = &df->atts->v[df->atts->n++];
	at->data = data;
	at->len = len;
	snprintf(at->type, sizeof(at->type), "%s/%s", p->type, p->subtype);
	util_strcpy(at->name, name, sizeof(at->name));
	df->atts->total += len;
	return 0;
}

/* The form's checkboxes for the files of the draft being edited (b), or
 * the files it keeps, read into atts. */
static void
draft_files(struct backend *be, const struct draft *d, struct buf *b,
    const struct web_request *r, struct attachments *atts)
{
	struct draft_files df;
	struct mbox *mb = NULL;
	char name[1024];

	if (d->draft_u == 0 || view_role_folder(be, MFA_DRAFTS, name,
	    sizeof(name)) == -1)
		return;
	memset(&df, 0, sizeof(df));
	df.b = b;
	df.atts = atts;
	df.r = r;
	df.max = (size_t)be->conf->smtpd.max_message_size;
	if ((df.m = load(be, name, d->draft_u, &mb)) == NULL)
		return;
	(void)mime_parts(df.m, draft_file_cb, &df);
	mime_msg_free(&df.m);
	mbox_close(&mb);
}

static void
draft_files_list(struct backend *be, const struct draft *d, struct buf *b)
{
	draft_files(be, d, b, NULL, NULL);
}

/* ---- the page ---- */

/* The From choices: the user, then the aliases the auth service says it
 * may send as (587's rule, which the send checks again). */
struct identity_opts {
	struct buf	*b;
	const char	*chosen;
};

static void
identity_option(const char *address, void *arg)
{
	struct identity_opts *io = arg;

	buf_puts(io->b, "<option");
	if (io->chosen != NULL && strcmp(io->chosen, address) == 0)
		buf_puts(io->b, " selected");
	buf_puts(io->b, ">");
	html_escape_str(io->b, address);
	buf_puts(io->b, "</option>");
}

static void
compose_page(struct backend *be, const struct web_request *r,
    struct resp *rs, struct draft *d, const char *error)
{
	struct buf *b;
	char u[16];

	resp_init(rs, error != NULL ? 400 : 200, "text/html; charset=utf-8");
	b = &rs->body;
	page_begin(b, "Write · maild");
	buf_puts(b, "<meta name=\"csrf\" content=\"");
	html_escape_str(b, r->csrf);
	buf_puts(b, "\">");
	page_body(b, "compose-page", NULL);
	buf_puts(b, "<main class=\"compose\"><header class=\"top\"><a "
	    "class=\"logo\" href=\"/mail\">maild</a><h1>");
	buf_puts(b, strcmp(d->mode, "forward") == 0 ? "Forward" :
	    strncmp(d->mode, "reply", 5) == 0 ? "Reply" : "New message");
	buf_puts(b, "</h1></header>");
	if (error != NULL) {
		buf_puts(b, "<p class=\"error\" role=\"alert\">");
		html_escape_str(b, error);
		buf_puts(b, "</p>");
	}
	/* A form with files is parsed by us, not by the front: its CSRF
	 * token goes in the URL, where the front checks it. */
	buf_puts(b, "<form method=\"post\" action=\"/send?csrf=");
	html_escape_str(b, r->csrf);
	buf_puts(b, "\" enctype=\"multipart/form-data\" "
	    "class=\"compose-form\">");
	html_hidden(b, "csrf", r->csrf);
	html_hidden(b, "mode", d->mode);
	if (d->ref_u != 0) {
		snprintf(u, sizeof(u), "%u", d->ref_u);
		html_hidden(b, "ref_f", d->ref_f);
		html_hidden(b, "ref_u", u);
	}
	if (d->draft_u != 0) {
		snprintf(u, sizeof(u), "%u", d->draft_u);
		html_hidden(b, "draft_u", u);
	}
	draft_files_list(be, d, b);
	buf_puts(b, "<label for=\"c-from\">From</label><select id=\"c-from\" "
	    "name=\"from\"><option>");
	html_escape_str(b, be->user);
	buf_puts(b, "</option>");
	{
		struct identity_opts io = { b, d->from };

		(void)authc_identities(be->authc, be->user, identity_option,
		    &io);
	}
	buf_puts(b, "</select>");
	field(b, "to", "To", d->to, "text");
	field(b, "cc", "Cc", d->cc, "text");
	field(b, "bcc", "Bcc", d->bcc, "text");
	field(b, "subject", "Subject", d->subject, "text");
	/* The rich-text editor: the page's script shows it and fills
	 * "html" (and the text) from it when the form is sent. */
	buf_puts(b, "<div class=\"editor-bar\" hidden><button type=\"button\""
	    " data-cmd=\"bold\" title=\"Bold\"><b>B</b></button>"
	    "<button type=\"button\" data-cmd=\"italic\" title=\"Italic\">"
	    "<i>I</i></button><button type=\"button\" "
	    "data-cmd=\"insertUnorderedList\" title=\"List\">&#8226; List"
	    "</button><button type=\"button\" data-cmd=\"createLink\" "
	    "title=\"Link\">Link</button></div>"
	    "<div class=\"editor\" contenteditable=\"true\" hidden "
	    "aria-label=\"Text\"></div><input type=\"hidden\" name=\"html\" "
	    "value=\"\">"
	    "<label for=\"c-body\" class=\"sr\">Text</label>"
	    "<textarea id=\"c-body\" name=\"body\" rows=\"18\">");
	html_escape_str(b, d->body != NULL ? d->body : "");
	buf_printf(b, "</textarea><label for=\"c-attach\">Attach</label>"
	    "<input id=\"c-attach\" name=\"attach\" type=\"file\" multiple "
	    "title=\"Up to %d files\">", WEB_MAX_FILES);
	if (strcmp(d->mode, "forward") == 0)
		buf_puts(b, "<span></span><label class=\"check\"><input "
		    "type=\"checkbox\" name=\"fwd_as\" value=\"attachment\"> "
		    "Send the original as an attachment</label>");
	buf_puts(b, "<div class=\"compose-actions\">"
	    "<button type=\"button\" class=\"rich-toggle\" hidden>Rich text"
	    "</button>"
	    "<button class=\"primary\" name=\"op\" value=\"send\">Send"
	    "</button><button name=\"op\" value=\"draft\">Save draft"
	    "</button><a class=\"button\" href=\"/mail\">Cancel</a></div>"
	    "</form></main>");
	page_end(b);
}

void
view_compose(struct backend *be, const struct web_request *r,
    struct resp *rs)
{
	struct draft d;
	const char *mode = web_param(r, "mode"), *f = web_param(r, "f");
	const char *u = web_param(r, "u"), *to = web_param(r, "to"), *why;

	memset(&d, 0, sizeof(d));
	util_strcpy(d.mode, mode != NULL && (strcmp(mode, "reply") == 0 ||
	    strcmp(mode, "replyall") == 0 || strcmp(mode, "forward") == 0 ||
	    strcmp(mode, "draft") == 0) ? mode : "new", sizeof(d.mode));
	if (strcmp(d.mode, "new") != 0 && f != NULL && u != NULL &&
	    maildir_name_valid(f, &why) == 0 && strtoul(u, NULL, 10) > 0 &&
	    strtoul(u, NULL, 10) <= UINT32_MAX) {
		util_strcpy(d.ref_f, f, sizeof(d.ref_f));
		d.ref_u = (uint32_t)strtoul(u, NULL, 10);
		prefill(be, &d);
	} else
		util_strcpy(d.mode, "new", sizeof(d.mode));
	if (d.to == NULL && to != NULL)
		d.to = util_strdup(to);
	compose_page(be, r, rs, &d, NULL);
	draft_free(&d);
}

/* ---- the message ---- */

/*
 * The files the front named ("att" = "<offset> <length> <type> <name>")
 * read from the memfd it passed, each within the file and all within the
 * message size limit.  0, or -1 with err set.
 */
static int
attachments_read(struct backend *be, const struct web_request *r,
    struct attachments *a, const char **err)
{
	struct stat st;
	unsigned long long off, len;
	char type[128], name[256];
	size_t i, max = (size_t)be->conf->smtpd.max_message_size;
	ssize_t n;

	for (i = 0; i < r->nparams; i++) {
		if (strcmp(r->params[i].name, "att") != 0)
			continue;
		if (be->upload == -1 || fstat(be->upload, &st) == -1 ||
		    sscanf(r->params[i].value, "%llu %llu %127s %255[^\n]",
		    &off, &len, type, name) != 4 || off + len >
		    (unsigned long long)st.st_size || a->n == WEB_MAX_FILES) {
			*err = "The attachments did not arrive whole.";
			return -1;
		}
		if (a->total + len > max) {
			*err = "The attachments are larger than a message may "
			    "be.";
			return -1;
		}
		a->v[a->n].data = util_calloc(1, (size_t)len + 1);
		if ((n = pread(be->upload, a->v[a->n].data, (size_t)len,
		    (off_t)off)) != (ssize_t)len) {
			free(a->v[a->n].data);
			*err = "The attachments did not arrive whole.";
			return -1;
		}
		a->v[a->n].len = (size_t)len;
		util_strcpy(a->v[a->n].type, type, sizeof(a->v[a->n].type));
		util_strcpy(a->v[a->n].name, name, sizeof(a->v[a->n].name));
		a->total += (size_t)len;
		a->n++;
	}
	return 0;
}

/* The original of a forward, attached as it is (message/rfc822). */
static int
attach_original(struct backend *be, const struct draft *d,
    struct attachments *a)
{
	struct mbox *mb = NULL;
	size_t len;
	char *data;
	int fd;

	if (d->ref_u == 0 || web_folder_open(be, d->ref_f, ACL_R, &mb,
	    NULL) != 0)
		return -1;
	if ((fd = mbox_msg_open(mb, d->ref_u)) == -1) {
		mbox_close(&mb);
		return -1;
	}
	data = util_read_fd(fd, (size_t)be->conf->smtpd.max_message_size,
	    &len);
	close(fd);
	mbox_close(&mb);
	if (data == NULL)
		return -1;
	a->v[a->n].len = len;
	a->v[a->n].data = data;
	util_strcpy(a->v[a->n].type, "message/rfc822", sizeof(a->v[0].type));
	snprintf(a->v[a->n].name, sizeof(a->v[0].name), "%.240s.eml",
	    d->subject != NULL && d->subject[0] != '\0' ? d->subject :
	    "message");
	a->total += a->v[a->n].len;
	a->n++;
	return 0;
}

/* One attachment as a MIME entity. */
static GMimeObject *
attach_part(const struct attach *at)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(at->data,
	    at->len);
	GMimeObject *obj;

	if (strcmp(at->type, "message/rfc822") == 0) {
		GMimeParser *parser = g_mime_parser_new_with_stream(stream);
		GMimeMessage *inner = g_mime_parser_construct_message(parser,
		    NULL);

		g_object_unref(parser);
		g_object_unref(stream);
		if (inner == NULL)
			return NULL;
		obj = GMIME_OBJECT(g_mime_message_part_new_with_message(
		    "rfc822", inner));
		g_object_unref(inner);
	} else {
		GMimeContentType *ct = g_mime_content_type_parse(NULL,
		    at->type);
		GMimePart *part = g_mime_part_new_with_type(
		    g_mime_content_type_get_media_type(ct),
		    g_mime_content_type_get_media_subtype(ct));
		GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(
		    stream, GMIME_CONTENT_ENCODING_DEFAULT);

		g_object_unref(ct);
		g_mime_part_set_content(part, w);
		g_object_unref(w);
		g_object_unref(stream);
		g_mime_part_set_content_encoding(part,
		    GMIME_CONTENT_ENCODING_BASE64);
		g_mime_part_set_filename(part, at->name);
		obj = GMIME_OBJECT(part);
	}
	g_mime_object_set_disposition(obj, "attachment");
	if (GMIME_IS_MESSAGE_PART(obj))
		g_mime_object_set_content_disposition_parameter(obj,
		    "filename", at->name);
	return obj;
}

struct rcpts {
	char		*v[MAX_RCPTS];
	size_t		 n;
	int		 bad;
	char		 first_bad[ADDR_PATH_MAX + 1];
};

static void
rcpts_cb(const struct mime_addr *a, void *arg)
{
	struct rcpts *rc = arg;
	struct mailaddr ma;
	char path[ADDR_PATH_MAX + 8], norm[ADDR_PATH_MAX + 1];
	const char *rest, *why;
	size_t i;

	if (a->kind != MIME_ADDR_MAILBOX)
		return;
	snprintf(path, sizeof(path), "<%s@%s>", a->local != NULL ? a->local :
	    "", a->domain != NULL ? a->domain : "");
	if (a->local == NULL || a->domain == NULL ||
	    addr_parse_path(path, 0, &ma, &rest, &why) == -1 || *rest != '\0') {
		if (!rc->bad++)
			util_strcpy(rc->first_bad, path, sizeof(rc->first_bad));
		return;
	}
	addr_format(&ma, norm, sizeof(norm));
	for (i = 0; i < rc->n; i++)
		if (strcasecmp(rc->v[i], norm) == 0)
			return;
	if (rc->n == MAX_RCPTS) {
		rc->bad++;
		return;
	}
	rc->v[rc->n++] = util_strdup(norm);
}

static void
rcpts_free(struct rcpts *rc)
{
	size_t i;

	for (i = 0; i < rc->n; i++)
		free(rc->v[i]);
	rc->n = 0;
}

/* The header value for an address field: as typed, but only what parsed. */
static void
add_addresses(GMimeMessage *msg, GMimeAddressType type, const char *v)
{
	InternetAddressList *l;

	if (v == NULL || v[0] == '\0')
		return;
	if ((l = internet_address_list_parse(NULL, v)) == NULL)
		return;
	internet_address_list_append(g_mime_message_get_addresses(msg, type),
	    l);
	g_object_unref(l);
}

/*
 * The message as RFC 5322 text (LF line ends; the spool and the store
 * take it as it is): text/plain UTF-8, quoted-printable when needed.
 */
static char *
build(struct backend *be, const struct draft *d, const char *msgid,
    const char *in_reply_to, const char *references, int with_bcc,
    const struct attachments *atts, size_t *len)
{
	GMimeMessage *msg;
	GMimeTextPart *text;
	GMimeObject *body;
	GMimeStream *mem;
	GByteArray *arr;
	GDateTime *now;
	char *out = NULL;

	mime_init();
	msg = g_mime_message_new(TRUE);
	text = g_mime_text_part_new_with_subtype("plain");
	mem = g_mime_stream_mem_new();
	now = g_date_time_new_now_local();

	internet_address_list_add(g_mime_message_get_from(msg),
	    internet_address_mailbox_new(NULL, d->from));
	add_addresses(msg, GMIME_ADDRESS_TYPE_TO, d->to);
	add_addresses(msg, GMIME_ADDRESS_TYPE_CC, d->cc);
	if (with_bcc)
		add_addresses(msg, GMIME_ADDRESS_TYPE_BCC, d->bcc);
	g_mime_message_set_subject(msg, d->subject != NULL ? d->subject : "",
	    "utf-8");
	g_mime_message_set_date(msg, now);
	g_mime_message_set_message_id(msg, msgid);
	if (in_reply_to != NULL)
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To",
		    in_reply_to, NULL);
	if (references != NULL)
		g_mime_object_set_header(GMIME_OBJECT(msg), "References",
		    references, NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "User-Agent",
	    "maild webmail", NULL);
	g_mime_text_part_set_text(text, d->body != NULL ? d->body : "");
	g_mime_text_part_set_charset(text, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(text),
	    g_mime_part_get_best_content_encoding(GMIME_PART(text),
	    GMIME_ENCODING_CONSTRAINT_7BIT));
	body = GMIME_OBJECT(text);
	g_object_ref(body);
	if (d->html != NULL && d->html[0] != '\0') {
		/* Written as HTML: both forms (RFC 2046 §5.1.4), the plain
		 * one first. */
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype(
		    "alternative");
		GMimeTextPart *html = g_mime_text_part_new_with_subtype("html");

		g_mime_text_part_set_text(html, d->html);
		g_mime_text_part_set_charset(html, "utf-8");
		g_mime_part_set_content_encoding(GMIME_PART(html),
		    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
		g_mime_multipart_add(alt, GMIME_OBJECT(text));
		g_mime_multipart_add(alt, GMIME_OBJECT(html));
		g_object_unref(html);
		g_object_unref(body);
		body = GMIME_OBJECT(alt);
	}
	if (atts->n == 0)
		g_mime_message_set_mime_part(msg, body);
	else {
		GMimeMultipart *mixed = g_mime_multipart_new_with_subtype(
		    "mixed");
		GMimeObject *part;
		size_t i;

		g_mime_multipart_add(mixed, body);
		for (i = 0; i < atts->n; i++)
			if ((part = attach_part(&atts->v[i])) != NULL) {
				g_mime_multipart_add(mixed, part);
				g_object_unref(part);
			}
		g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
		g_object_unref(mixed);
	}
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, mem) >= 0) {
		arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		out = util_calloc(1, arr->len + 1);
		memcpy(out, arr->data, arr->len);
		*len = arr->len;
	}
	g_date_time_unref(now);
	g_object_unref(mem);
	g_object_unref(body);
	g_object_unref(text);
	g_object_unref(msg);
	(void)be;
	return out;
}

/* In-Reply-To and References of a reply to ref_u (RFC 5322 §3.6.4). */
static void
thread_headers(struct backend *be, const struct draft *d, char **irt,
    char **refs)
{
	struct mime_msg *m;
	struct mbox *mb = NULL;
	char *raw, *id, *old;
	struct buf b;

	*irt = *refs = NULL;
	if (d->ref_u == 0 || strncmp(d->mode, "reply", 5) != 0 ||
	    (m = load(be, d->ref_f, d->ref_u, &mb)) == NULL)
		return;
	raw = mime_header_raw(m, NULL, "Message-ID");
	old = mime_header_raw(m, NULL, "References");
	id = raw != NULL ? util_trim(raw) : NULL;
	if (id != NULL && id[0] == '<' && strlen(id) < 1000 &&
	    strpbrk(id, "\r\n") == NULL) {
		buf_init(&b, 0);
		if (old != NULL && strlen(old) < 8000 &&
		    strpbrk(old, "\r\n") == NULL) {
			buf_puts(&b, util_trim(old));
			buf_putc(&b, ' ');
		}
		buf_puts(&b, id);
		*refs = buf_take(&b);
		*irt = util_strdup(id);
	}
	free(raw);
	free(old);
	mime_msg_free(&m);
	mbox_close(&mb);
}

/* Into the queue, as maild's POOL_SPOOL hands over a file: 0 or -1. */
static int
enqueue(struct backend *be, const char *sender, struct rcpt_list *targets,
    const char *orcpt_of, const char *msg, size_t len, char *qid,
    size_t qsize)
{
	struct spool_env env;
	struct spool_writer w;
	struct buf recv;
	char date[64];
	size_t i;
	int fd;

	memset(&env, 0, sizeof(env));
	spool_env_arrive(&env);
	env.sender = util_strdup(sender);
	env.client = util_strdup(be->client_ip);
	env.helo = util_strdup("webmail");
	env.protocol = util_strdup("HTTPSA");
	env.body = util_strdup("8bitmime");
	env.auth = util_strdup(be->user);
	for (i = 0; i < targets->n; i++)
		spool_env_add_rcpt(&env, targets->v[i].address, orcpt_of);
	if (pool_spool_new(be->pool, qid, qsize, &fd) == -1) {
		spool_env_free(&env);
		return -1;
	}
	if (spool_start(&w, fd, qid, &env) == -1) {
		pool_spool_abort(be->pool, qid);
		spool_env_free(&env);
		return -1;
	}
	buf_init(&recv, 0);
	util_rfc5322_date(date, sizeof(date), time(NULL));
	buf_printf(&recv, "Received: from [%s]\n\tby %s (maild) with HTTPSA "
	    "(webmail)\n\t(authenticated as %s)\n\tid %s;\n\t%s\n",
	    be->client_ip, be->conf->server.hostname, be->user, qid, date);
	if (spool_write(&w, recv.data, recv.len) == -1 ||
	    spool_write(&w, msg, len) == -1) {
		buf_release(&recv);
		spool_abort(&w);
		pool_spool_abort(be->pool, qid);
		spool_env_free(&env);
		return -1;
	}
	buf_release(&recv);
	spool_env_free(&env);
	return pool_spool_commit(be->pool, &w, qid);
}

/* A copy into the folder of role (Sent, Drafts): its UID, or 0. */
static uint32_t
keep_copy(struct backend *be, unsigned int role, const char *msg,
    size_t len, unsigned int flags)
{
	char tmp[PATH_MAX], name[1024] = "";
	struct mbox *mb = NULL;
	uint32_t uid = 0;
	ssize_t n;
	size_t off;
	int fd;

	if (view_role_folder(be, role, name, sizeof(name)) == -1 ||
	    mbox_open(be->st, name, &mb) == -1)
		return 0;
	if ((fd = mbox_append_begin(mb, tmp, sizeof(tmp))) != -1) {
		for (off = 0; off < len; off += (size_t)n)
			if ((n = write(fd, msg + off, len - off)) <= 0)
				break;
		if (off == len && fsync(fd) == 0) {
			close(fd);
			if (mbox_append_commit(mb, tmp, flags, "", time(NULL),
			    &uid) == -1)
				uid = 0;
		} else {
			close(fd);
			unlink(tmp);
		}
	}
	mbox_close(&mb);
	return uid;
}

static char *
param_dup(const struct web_request *r, const char *name)
{
	const char *v = web_param(r, name);

	return util_strdup(v != NULL ? v : "");
}

void
act_send(struct backend *be, const struct web_request *r, struct resp *rs)
{
	const char *op = web_param(r, "op"), *mode = web_param(r, "mode");
	const char *rf = web_param(r, "ref_f"), *ru = web_param(r, "ref_u");
	const char *du = web_param(r, "draft_u"), *why;
	const char *fwd = web_param(r, "fwd_as"), *html;
	struct attachments atts;
	struct rcpt_list targets = { 0 };
	struct rcpts rc;
	struct draft d;
	char msgid[300], qid[SPOOL_ID_LEN + 1], err[600], *msg = NULL;
	char *irt = NULL, *refs = NULL;
	size_t len = 0, i;
	int is_draft = op != NULL && strcmp(op, "draft") == 0, ok;

	memset(&d, 0, sizeof(d));
	memset(&rc, 0, sizeof(rc));
	memset(&atts, 0, sizeof(atts));
	d.from = param_dup(r, "from");
	d.to = param_dup(r, "to");
	d.cc = param_dup(r, "cc");
	d.bcc = param_dup(r, "bcc");
	d.subject = param_dup(r, "subject");
	d.body = param_dup(r, "body");
	if ((html = web_param(r, "html")) != NULL && html[0] != '\0') {
		/* What the page's editor made goes out through the same
		 * sanitizer as mail that comes in. */
		struct html_policy pol = { 1, NULL, NULL };
		struct buf hb;

		buf_init(&hb, (size_t)be->conf->smtpd.max_message_size);
		buf_puts(&hb, "<!doctype html><html><head><meta charset=\""
		    "utf-8\"></head><body>");
		if (html_sanitize(html, strlen(html), &pol, &hb, NULL) == 0 &&
		    buf_puts(&hb, "</body></html>\n") == 0)
			d.html = buf_take(&hb);
		buf_release(&hb);
	}
	util_strcpy(d.mode, mode != NULL ? mode : "new", sizeof(d.mode));
	if (rf != NULL && ru != NULL && maildir_name_valid(rf, &why) == 0) {
		util_strcpy(d.ref_f, rf, sizeof(d.ref_f));
		d.ref_u = (uint32_t)strtoul(ru, NULL, 10);
	}
	if (du != NULL)
		d.draft_u = (uint32_t)strtoul(du, NULL, 10);
	snprintf(msgid, sizeof(msgid), "%08x%08x.%08x%08x@%s",
	    util_random(), util_random(), util_random(), util_random(),
	    be->conf->server.hostname);

	/* Who may this be from? The same rule as submission's. */
	if (strcmp(d.from, be->user) != 0 &&
	    authc_sender_allowed(be->authc, be->user, d.from) != 1) {
		compose_page(be, r, rs, &d, "You may not send as that "
		    "address.");
		goto out;
	}
	mime_addr_parse(d.to, rcpts_cb, &rc);
	mime_addr_parse(d.cc, rcpts_cb, &rc);
	mime_addr_parse(d.bcc, rcpts_cb, &rc);
	if (!is_draft && (rc.bad || rc.n == 0)) {
		snprintf(err, sizeof(err), rc.n == 0 && !rc.bad ? "Add a "
		    "recipient." : rc.n == MAX_RCPTS ? "Too many recipients." :
		    "This is not an address: %.500s", rc.first_bad);
		compose_page(be, r, rs, &d, err);
		goto out;
	}
	/* The files the draft had, that the form keeps. */
	draft_files(be, &d, NULL, r, &atts);
	if (attachments_read(be, r, &atts, &why) == -1 ||
	    (fwd != NULL && strcmp(fwd, "attachment") == 0 &&
	    strcmp(d.mode, "forward") == 0 && attach_original(be, &d,
	    &atts) == -1 && (why = "The message to forward is gone.") !=
	    NULL)) {
		compose_page(be, r, rs, &d, why);
		goto out;
	}
	thread_headers(be, &d, &irt, &refs);
	if ((msg = build(be, &d, msgid, irt, refs, is_draft, &atts,
	    &len)) == NULL) {
		compose_page(be, r, rs, &d, "The message could not be made.");
		goto out;
	}
	if (is_draft) {
		uint32_t uid = keep_copy(be, MFA_DRAFTS, msg, len, MF_DRAFT |
		    MF_SEEN);

		if (uid == 0) {
			compose_page(be, r, rs, &d, "The draft could not be "
			    "saved.");
			goto out;
		}
		view_drop_draft(be, d.draft_u);
		log_info("sid=%s user=%s draft saved uid=%u", be->sid,
		    log_str(be->user), uid);
		resp_redirect(rs, "/mail?f=Drafts");
		goto out;
	}
	/* Each recipient as the auth service resolves it (aliases too). */
	for (i = 0; i < rc.n; i++) {
		struct rcpt_list one = { 0 };

		if (authc_resolve(be->authc, rc.v[i], &one) < 1 ||
		    one.n == 0) {
			rcpt_list_free(&one);
			snprintf(err, sizeof(err), "No such recipient here: "
			    "%.500s", rc.v[i]);
			rcpt_list_free(&targets);
			compose_page(be, r, rs, &d, err);
			goto out;
		}
		rcpt_list_append(&targets, &one);
		rcpt_list_free(&one);
	}
	ok = enqueue(be, d.from, &targets, rc.v[0], msg, len, qid,
	    sizeof(qid)) == 0;
	rcpt_list_free(&targets);
	if (!ok) {
		compose_page(be, r, rs, &d, "The message could not be queued; "
		    "try again.");
		goto out;
	}
	log_info("sid=%s user=%s qid=%s sent from=<%s> rcpts=%zu", be->sid,
	    log_str(be->user), qid, log_str(d.from), rc.n);
	(void)keep_copy(be, MFA_SENT, msg, len, MF_SEEN);
	view_drop_draft(be, d.draft_u);
	if (d.ref_u != 0 && strncmp(d.mode, "reply", 5) == 0)
		act_mark(be, d.ref_f, d.ref_u, MF_ANSWERED);
	resp_redirect(rs, "/mail?sent=1");
out:
	attachments_free(&atts);
	free(msg);
	free(irt);
	free(refs);
	rcpts_free(&rc);
	draft_free(&d);
}
