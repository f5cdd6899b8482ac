/*
 * A webmail session's process: one user's Maildir, and the requests the
 * front passes on (webmail.h), one at a time.  maild forks it (from the
 * webmail's post-login parent) when a session makes its first request;
 * it learns its user from the auth service by the token the front got
 * for the session, confines itself to that user's Maildir and those of
 * the owners who share folders with it, as IMAP does (Landlock,
 * seccomp), and exits after webmail.backend_idle without a request, or
 * when the front closes its socket.  Reads and writes go through the
 * store (maildir/), so IMAP clients see every change at once and the
 * other way round.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../global/authc.h"
#include "../global/conf.h"
#include "../global/pool.h"
#include "../global/sharing.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

const char *
web_param(const struct web_request *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].name, name) == 0)
			return r->params[i].value;
	return NULL;
}

/* ---- responses ---- */

void
resp_init(struct resp *rs, int status, const char *type)
{
	memset(rs, 0, sizeof(*rs));
	rs->status = status;
	util_strcpy(rs->type, type, sizeof(rs->type));
	buf_init(&rs->body, 0);
}

void
resp_header(struct resp *rs, const char *name, const char *value)
{
	if (rs->nheaders < RESP_MAX_HEADERS) {
		rs->headers[rs->nheaders].name = util_strdup(name);
		rs->headers[rs->nheaders].value = util_strdup(value);
		rs->nheaders++;
	}
}

/* The response to the front: small ones in one message, others in
 * pieces.  0, or -1 (the front is gone). */
static int
resp_send(struct backend *be, struct resp *rs)
{
	struct ipc_out *o = &be->out;
	char status[8];
	size_t off, n, i;
	int more = rs->body.len > WEB_CHUNK, r = 0;

	snprintf(status, sizeof(status), "%d", rs->status);
	ipc_begin(o, WB_RESPONSE);
	ipc_put_str(o, status);
	ipc_put_str(o, rs->type);
	ipc_put_str(o, more ? "1" : "0");
	ipc_put(o, rs->body.data, more ? 0 : rs->body.len);
	for (i = 0; i < rs->nheaders; i++) {
		ipc_put_str(o, rs->headers[i].name);
		ipc_put_str(o, rs->headers[i].value);
	}
	if (ipc_send(be->fd, o, -1) == -1)
		r = -1;
	for (off = 0; more && r == 0 && off < rs->body.len; off += n) {
		n = rs->body.len - off < WEB_CHUNK ? rs->body.len - off :
		    WEB_CHUNK;
		ipc_begin(o, WB_BODY);
		ipc_put(o, rs->body.data + off, n);
		r = ipc_send(be->fd, o, -1);
	}
	if (more && r == 0) {
		ipc_begin(o, WB_END);
		r = ipc_send(be->fd, o, -1);
	}
	for (i = 0; i < rs->nheaders; i++) {
		free(rs->headers[i].name);
		free(rs->headers[i].value);
	}
	buf_release(&rs->body);
	return r;
}

void
resp_redirect(struct resp *rs, const char *to)
{
	resp_init(rs, 303, "text/plain; charset=utf-8");
	resp_header(rs, "Location", to);
	buf_puts(&rs->body, "See Other\n");
}

void
resp_text(struct resp *rs, int status, const char *text)
{
	resp_init(rs, status, "text/plain; charset=utf-8");
	buf_puts(&rs->body, text);
}

/*
 * The one place the store's failures become HTTP: a status and words
 * the user can act on.  What the user cannot help (the index or the
 * disk failed) goes to the log for the administrator: what is ours, the
 * store's words name no path.
 */
static const struct {
	int		 status;
	const char	*text;
	int		 log;
} store_fail_reply[] = {
	[MSTORE_OK] = { 500, "The server failed; its log says why\n", 1 },
	[MSTORE_ENOTFOUND] = { 404, "No such folder or message (gone "
	    "already?); reload the page\n", 0 },
	[MSTORE_EEXISTS] = { 409, "A folder of that name exists already\n",
	    0 },
	[MSTORE_ENOSPACE] = { 503, "The server's disk is full; try again "
	    "later\n", 1 },
	[MSTORE_EOVERQUOTA] = { 409, "Your mailbox is full: delete some "
	    "mail first\n", 0 },
	[MSTORE_ECHILDREN] = { 409, "The folder has folders inside: delete "
	    "them first\n", 0 },
	[MSTORE_EPERM] = { 403, "That cannot be done to this folder\n", 0 },
	[MSTORE_EINVAL] = { 400, "That name cannot be a folder's\n", 0 },
	[MSTORE_ELIMIT] = { 409, "Too many of those already\n", 0 },
	[MSTORE_EINTERNAL] = { 500, "The server failed; its log says why\n",
	    1 },
};

void
resp_store_fail(struct backend *be, struct resp *rs, const char *what)
{
	enum mstore_err cls = mstore_errclass(be->st);

	/* MSTORE_OK: a failure the store gave no class, a bug of ours */
	if ((size_t)cls >= sizeof(store_fail_reply) /
	    sizeof(store_fail_reply[0]))
		cls = MSTORE_OK;
	if (store_fail_reply[cls].log)
		log_err("sid=%s user=%s %s: %s", be->sid, log_str(be->user),
		    what, mstore_error(be->st));
	resp_text(rs, store_fail_reply[cls].status,
	    store_fail_reply[cls].text);
}

/* ---- requests ---- */

/* ---- live updates ---- */

static void
watch_stop(struct backend *be)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (be->watch[i].fd != -1)
			close(be->watch[i].fd);
		mbox_close(&be->watch[i].mb);
		memset(&be->watch[i], 0, sizeof(be->watch[i]));
		be->watch[i].fd = -1;
	}
	be->watching = 0;
}

/* Tell the front what changed in the folders watched. */
static int
watch_report(struct backend *be)
{
	struct mbox_status st;
	char unseen[16], messages[16], modseq[24];
	struct watched *w;
	size_t i;

	for (i = 0; i < 2; i++) {
		w = &be->watch[i];
		if (w->mb == NULL)
			continue;
		if (w->fd != -1)
			mbox_watch_drain(w->fd);
		memset(&st, 0, sizeof(st));
		if (mbox_sync(w->mb) == -1 || mbox_get_status(w->mb, &st) == -1)
			continue;
		if (st.unseen == w->unseen && st.messages == w->messages &&
		    st.highestmodseq == w->modseq)
			continue;
		w->unseen = st.unseen;
		w->messages = st.messages;
		w->modseq = st.highestmodseq;
		snprintf(unseen, sizeof(unseen), "%u", st.unseen);
		snprintf(messages, sizeof(messages), "%u", st.messages);
		snprintf(modseq, sizeof(modseq), "%llu",
		    (unsigned long long)st.highestmodseq);
		ipc_begin(&be->out, WB_EVENT);
		ipc_put_str(&be->out, w->name);
		ipc_put_str(&be->out, unseen);
		ipc_put_str(&be->out, messages);
		ipc_put_str(&be->out, modseq);
		if (ipc_send(be->fd, &be->out, -1) == -1)
			return -1;
	}
	return 0;
}

static void
watch_start(struct backend *be, const struct web_request *r,
    struct resp *rs)
{
	const char *f = web_param(r, "f"), *names[2], *why;
	struct mbox_status st;
	size_t i;

	watch_stop(be);
	names[0] = "INBOX";
	names[1] = f != NULL && strcmp(f, "INBOX") != 0 &&
	    maildir_name_valid(f, &why) == 0 ? f : NULL;
	for (i = 0; i < 2; i++) {
		if (names[i] == NULL || web_folder_open(be, names[i], ACL_R,
		    &be->watch[i].mb, NULL) != 0)
			continue;
		util_strcpy(be->watch[i].name, names[i],
		    sizeof(be->watch[i].name));
		be->watch[i].fd = mbox_watch(be->watch[i].mb);
		memset(&st, 0, sizeof(st));
		(void)mbox_get_status(be->watch[i].mb, &st);
		be->watch[i].unseen = st.unseen;
		be->watch[i].messages = st.messages;
		be->watch[i].modseq = st.highestmodseq;
	}
	be->watching = 1;
	resp_text(rs, 204, "");
}

/* ---- a form with files ---- */

struct upload_fields {
	struct web_request	*r;
	char			*owned[WEB_MAX_FILES + 16];
	size_t			 nowned;
};

static void
upload_field(const char *name, const char *value, void *arg)
{
	struct upload_fields *uf = arg;
	struct web_request *r = uf->r;
	size_t cap = sizeof(r->params) / sizeof(r->params[0]);
	char *n, *v;

	if (r->nparams == cap || uf->nowned + 2 > sizeof(uf->owned) /
	    sizeof(uf->owned[0]))
		return;
	n = util_strdup(name);
	v = util_strdup(value);
	uf->owned[uf->nowned++] = n;
	uf->owned[uf->nowned++] = v;
	r->params[r->nparams].name = n;
	r->params[r->nparams].value = v;
	r->nparams++;
}

/* The form the front passed as it came (a memfd): its fields into r,
 * its files into a new memfd (be->upload).  0 or -1. */
static int
upload_decode(struct backend *be, struct web_request *r,
    struct upload_fields *uf)
{
	const char *type = web_param(r, "upload");
	struct stat st;
	char *body;
	ssize_t n;
	int fd = -1, rc;

	if (type == NULL)
		return 0;
	if (be->upload == -1 || fstat(be->upload, &st) == -1 ||
	    st.st_size > be->conf->web.max_body)
		return -1;
	body = util_calloc(1, (size_t)st.st_size + 1);
	n = pread(be->upload, body, (size_t)st.st_size, 0);
	rc = n == st.st_size ? upload_parse(type, body, (size_t)n,
	    upload_field, uf, &fd) : -1;
	free(body);
	close(be->upload);
	be->upload = fd;
	return rc;
}

static void
upload_fields_free(struct upload_fields *uf)
{
	size_t i;

	for (i = 0; i < uf->nowned; i++)
		free(uf->owned[i]);
	uf->nowned = 0;
}

static void
route(struct backend *be, const struct web_request *r, struct resp *rs)
{
	int post = strcmp(r->method, "POST") == 0;

	if (post && strcmp(r->path, "/watch") == 0)
		watch_start(be, r, rs);
	else if (post && strcmp(r->path, "/unwatch") == 0) {
		watch_stop(be);
		resp_text(rs, 204, "");
	} else if (!post && strcmp(r->path, "/mail") == 0)
		view_mail(be, r, rs);
	else if (!post && strcmp(r->path, "/msg/body") == 0)
		view_body(be, r, rs);
	else if (!post && strcmp(r->path, "/msg/part") == 0)
		view_part(be, r, rs);
	else if (!post && strcmp(r->path, "/msg/raw") == 0)
		view_raw(be, r, rs);
	else if (!post && strcmp(r->path, "/compose") == 0)
		view_compose(be, r, rs);
	else if (post && strcmp(r->path, "/send") == 0)
		act_send(be, r, rs);
	else if (post && strcmp(r->path, "/act") == 0)
		act_messages(be, r, rs);
	else if (post && strcmp(r->path, "/folder") == 0)
		act_folder(be, r, rs);
	else
		resp_text(rs, 404, "Not found\n");
}

void
backend_serve(struct pool_ctx *ctx, int fd, const char *service,
    const char *client_ip, int client_port,
    const struct pool_session *post, void *arg)
{
	struct backend *be = util_calloc(1, sizeof(*be));
	struct upload_fields uf;
	struct web_request r;
	struct resp rs;
	const char *err;
	int n;

	(void)service;
	(void)client_port;
	(void)arg;
	be->fd = fd;
	be->conf = ctx->conf;
	be->pool = &ctx->pool;
	be->authc = ctx->authc;
	util_strcpy(be->client_ip, client_ip, sizeof(be->client_ip));
	be->watch[0].fd = be->watch[1].fd = be->upload = -1;
	util_strcpy(be->sid, post->sid, sizeof(be->sid));
	if (authc_redeem(ctx->authc, post->token, "web", be->user,
	    sizeof(be->user)) != 1) {
		log_err("sid=%s webmail: the session's token was refused",
		    be->sid);
		goto out;
	}
	if (maildir_user_path(ctx->conf->server.data_dir, be->user,
	    be->userdir, sizeof(be->userdir)) == -1 ||
	    maildir_create(be->userdir) == -1) {
		log_err("sid=%s user=%s no usable maildir", be->sid,
		    log_str(be->user));
		goto out;
	}
	/* Landlock over this Maildir and those of the owners who share
	 * folders with the user, as an IMAP session's (imapd/acl.c). */
	be->shares = shares_load(ctx->authc, ctx->conf->server.data_dir,
	    be->user, be->sid);
	shares_confine(be->shares, be->userdir);
	if (mstore_open(be->userdir, &be->st, &err) == -1) {
		log_err("sid=%s user=%s store: %s", be->sid,
		    log_str(be->user), err);
		goto out;
	}
	log_info("sid=%s user=%s client=[%s] webmail session process",
	    be->sid, log_str(be->user), client_ip);
	for (;;) {
		struct pollfd pfd[3];
		size_t np = 1, i;

		mstore_shrink(be->st);
		pfd[0] = (struct pollfd){ fd, POLLIN, 0 };
		for (i = 0; i < 2; i++)
			if (be->watch[i].fd != -1)
				pfd[np++] = (struct pollfd){ be->watch[i].fd,
				    POLLIN, 0 };
		n = poll(pfd, np, be->watching ? -1 :
		    (int)ctx->conf->web.backend_idle * 1000);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* idle */
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			/* A change: let a burst settle, then say it. */
			poll(NULL, 0, 50);
			if (watch_report(be) == -1)
				break;
			continue;
		}
		if ((n = ipc_recv(fd, &be->in, 0)) != 1)
			break;		/* closed, or garbage */
		be->upload = be->in.fd;	/* files of a form, if any */
		be->in.fd = -1;
		if (web_request_decode(&be->in, &r) == -1) {
			log_err("sid=%s webmail: a request that does not "
			    "decode", be->sid);
			break;
		}
		r.user = be->user;
		memset(&rs, 0, sizeof(rs));
		memset(&uf, 0, sizeof(uf));
		uf.r = &r;
		if (upload_decode(be, &r, &uf) == -1)
			resp_text(&rs, 400, "The form could not be read\n");
		else
			route(be, &r, &rs);
		upload_fields_free(&uf);
		if (rs.type[0] == '\0')
			resp_text(&rs, 500, "Internal error\n");
		if (be->upload != -1)
			close(be->upload);
		be->upload = -1;
		if (resp_send(be, &rs) == -1)
			break;
	}
	log_debug("sid=%s webmail session process ends", be->sid);
out:
	watch_stop(be);
	mbox_close(&be->mb);
	mstore_close(&be->st);
	shares_free(&be->shares);
	close(fd);
	free(be);
}
