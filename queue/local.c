/*
 * Local delivery: a queued message into the Maildirs of local users,
 * with Return-Path: (RFC 5321 §4.4) and Delivered-To: (RFC 9228) on top.
 *
 * Each delivery is named "<arrival>.M<usec>Q<queue-id>R<index>.<host>",
 * so that a delivery repeated after a crash (the journal line saying
 * "delivered" did not reach the disk) finds the file instead of adding a
 * second one, and so that names sort in arrival order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "queue.h"

struct producer_arg {
	int			 spool_fd;
	const struct spool_env	*env;
	const char		*rcpt;
	int			 out_fd;
	off_t			 lines;
	char			 buf[65536];
	size_t			 len;
};

static int
producer_flush(struct producer_arg *p)
{
	if (util_write_all(p->out_fd, p->buf, p->len) == -1)
		return -1;
	p->len = 0;
	return 0;
}

static int
producer_put(const char *data, size_t len, void *arg)
{
	struct producer_arg *p = arg;
	const char *nl = data;

	/* Count line ends: the size with CRLF is what IMAP reports. */
	while ((nl = memchr(nl, '\n', len - (nl - data))) != NULL) {
		p->lines++;
		nl++;
	}
	if (len > sizeof(p->buf) - p->len && producer_flush(p) == -1)
		return -1;
	if (len > sizeof(p->buf))
		return util_write_all(p->out_fd, data, len);
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	return 0;
}

static int
produce_message(int fd, void *arg, off_t *vsize)
{
	struct producer_arg *p = arg;
	char head[1024];
	int n;

	p->out_fd = fd;
	p->lines = 0;
	p->len = 0;
	n = snprintf(head, sizeof(head), "Return-Path: <%s>\nDelivered-To: %s\n",
	    p->env->sender, p->rcpt);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		errno = EINVAL;
		return -1;
	}
	if (producer_put(head, (size_t)n, p) == -1 ||
	    spool_read_body(p->spool_fd, p->env, producer_put, p) == -1 ||
	    producer_flush(p) == -1)
		return -1;
	*vsize = (off_t)n + p->env->body_len + p->lines;
	return 0;
}

/* The host name as a safe part of a Maildir file name (maildir(5)). */
static void
maildir_host(const char *host, char *out, size_t size)
{
	size_t o = 0;

	for (; *host != '\0' && o + 5 < size; host++) {
		if (*host == '/' || *host == ':' || *host == ',' ||
		    (unsigned char)*host < 33 || (unsigned char)*host > 126)
			o += (size_t)snprintf(out + o, size - o, "\\%03o",
			    (unsigned char)*host);
		else
			out[o++] = *host;
	}
	out[o] = '\0';
}

/* 1 + the index of dir among the batch's Maildirs, or 0. */
static size_t
local_batch_find(const struct worker_ctx *ctx, const char *dir)
{
	size_t i;

	for (i = 0; i < ctx->nbatch; i++)
		if (strcmp(ctx->batch[i].dir, dir) == 0)
			return i + 1;
	return 0;
}

/* Remember a Maildir whose user exists with these limits: 1 + its
 * index. */
static size_t
local_batch_add(struct worker_ctx *ctx, const char *dir, uint64_t kib,
    uint64_t messages)
{
	struct batch_maildir *b;

	if (ctx->nbatch == ctx->batch_cap) {
		ctx->batch_cap = ctx->batch_cap ? 2 * ctx->batch_cap : 8;
		ctx->batch = util_reallocarray(ctx->batch, ctx->batch_cap,
		    sizeof(*ctx->batch));
	}
	b = &ctx->batch[ctx->nbatch];
	memset(b, 0, sizeof(*b));
	util_strcpy(b->dir, dir, sizeof(b->dir));
	b->quota_kib = kib;
	b->quota_messages = messages;
	return ++ctx->nbatch;
}

/* The size a delivery counts against a quota: the message's with the
 * two header lines delivery adds, line ends as LF (RFC822.SIZE less one
 * octet a line). */
static uint64_t
local_size(const struct spool_env *env, const char *rcpt)
{
	return (uint64_t)env->body_len + strlen(env->sender) + strlen(rcpt) +
	    32;
}

/*
 * Would this message put the user over its limits (RFC 9208 §5; the
 * usage from the Maildir's index)?  1 with text filled in (4.2.2 to try
 * again; 5.2.2 once the message has waited queue.over_quota_lifetime,
 * or its whole lifetime), else 0: also when the usage cannot be read
 * just now (logged), as a delivery delayed for that would wait a whole
 * retry.
 */
static int
local_over_quota(struct worker_ctx *ctx, const struct spool_env *env,
    const char *rcpt, struct batch_maildir *b, char *text, size_t textsize,
    int *final)
{
	uint64_t kib = b->quota_kib, max_msgs = b->quota_messages;
	uint64_t octets, msgs, size = local_size(env, rcpt);
	time_t waited = time(NULL) - env->arrival, grace;

	*final = 0;
	if (kib == 0 && max_msgs == 0)
		return 0;
	/* Read once a batch (it counts the files of new/), then kept. */
	if (!b->usage_read) {
		if (maildir_usage(b->dir, &b->octets, &b->messages) == -1) {
			log_warn("%s: quota usage unknown: %s", log_str(rcpt),
			    strerror(errno));
			return 0;
		}
		b->usage_read = 1;
	}
	octets = b->octets;
	msgs = b->messages;
	if ((kib == 0 || octets + size <= kib * 1024) &&
	    (max_msgs == 0 || msgs + 1 <= max_msgs))
		return 0;
	grace = (time_t)ctx->conf->queue.over_quota_lifetime;
	if (grace == 0 || grace > (time_t)ctx->conf->queue.max_lifetime)
		grace = (time_t)ctx->conf->queue.max_lifetime;
	/* RFC 3463: X.2.2, mailbox full. */
	*final = waited >= grace;
	snprintf(text, textsize, "%c.2.2 <%s>: mailbox full (quota: %llu of "
	    "%llu KiB, %llu of %llu messages)%s", *final ? '5' : '4', rcpt,
	    (unsigned long long)(octets / 1024), (unsigned long long)kib,
	    (unsigned long long)msgs, (unsigned long long)max_msgs,
	    *final ? "; gave up waiting for room" : "");
	return 1;
}

/*
 * Deliver one recipient; returns the new state and fills text.
 * RCPT_PENDING means: try again later.
 */
static char
local_deliver_one(struct worker_ctx *ctx, int spool_fd,
    const struct spool_env *env, size_t idx, int recovered, size_t *sync,
    char *text, size_t textsize)
{
	const char *rcpt = env->rcpts[idx].addr;
	char dir[PATH_MAX], base[512], host[256], path[PATH_MAX];
	struct producer_arg p;
	enum maildir_result r;
	struct batch_maildir *b;
	uint64_t kib = 0, max_msgs = 0;
	size_t known;
	int exists, tries, final;

	if (maildir_user_path(ctx->conf->server.data_dir, rcpt, dir,
	    sizeof(dir)) == -1) {
		snprintf(text, textsize, "5.1.3 <%s>: unusable mailbox name",
		    rcpt);
		return RCPT_FAILED;
	}
	/* Does the user exist, with what limits: one question (AP_QUOTA
	 * answers "no" for no such user), asked once a batch.  Once more
	 * on a fresh connection if authd was restarting. */
	exists = (known = local_batch_find(ctx, dir)) != 0 ? 1 : -1;
	for (tries = 0; tries < 2 && exists < 0; tries++)
		if (authc_ensure(&ctx->authc, ctx->conf->server.data_dir) !=
		    NULL &&
		    (exists = authc_quota(ctx->authc, rcpt, &kib,
		    &max_msgs)) == 1)
			known = local_batch_add(ctx, dir, kib, max_msgs);
	if (exists != 1) {
		if (exists < 0) {
			snprintf(text, textsize, "4.3.0 user lookup failed "
			    "(the auth service)");
			return RCPT_PENDING;
		}
		snprintf(text, textsize, "5.1.1 <%s>: no such mailbox here",
		    rcpt);
		return RCPT_FAILED;
	}
	maildir_host(ctx->conf->server.hostname, host, sizeof(host));
	/* Within a second, names sort in the order messages began to
	 * arrive (the queue id is given out ahead, and a spare file can be
	 * older than the message after it); a message queued by a writer
	 * that kept no microseconds keeps the name it had. */
	if (env->arrival_usec >= 0)
		snprintf(base, sizeof(base), "%lld.M%06ldQ%sR%zu.%s",
		    (long long)env->arrival, env->arrival_usec, env->id, idx,
		    host);
	else
		snprintf(base, sizeof(base), "%lld.Q%sR%zu.%s",
		    (long long)env->arrival, env->id, idx, host);
	/* Over quota, unless delivered before a crash (then it is done). */
	b = &ctx->batch[known - 1];
	if (local_over_quota(ctx, env, rcpt, b, text, textsize, &final) &&
	    (!recovered || !maildir_has_delivery(dir, base)))
		return final ? RCPT_FAILED : RCPT_PENDING;
	/* Not memset: p.buf is 64 KiB (produce_message() sets the rest). */
	p.spool_fd = spool_fd;
	p.env = env;
	p.rcpt = rcpt;
	r = maildir_deliver(dir, base, produce_message, &p, recovered, 0,
	    path, sizeof(path));
	if (r != MAILDIR_ERROR) {
		b->delivered = 1;
		*sync = known;
	}
	switch (r) {
	case MAILDIR_DELIVERED:
		b->octets += local_size(env, rcpt);
		b->messages++;
		snprintf(text, textsize, "2.0.0 delivered to maildir as %s",
		    strrchr(path, '/') + 1);
		return RCPT_DELIVERED;
	case MAILDIR_DUPLICATE:
		snprintf(text, textsize, "2.0.0 already in maildir (delivered "
		    "before a restart)");
		return RCPT_DELIVERED;
	case MAILDIR_ERROR:
		break;
	}
	snprintf(text, textsize, "4.2.0 maildir delivery failed: %s",
	    strerror(errno));
	return RCPT_PENDING;
}

void
local_deliver_job(struct worker_ctx *ctx, const struct job *job, int fd,
    const struct spool_env *env, struct rcpt_result *res)
{
	size_t i;

	for (i = 0; i < job->nidx; i++) {
		size_t idx = job->idx[i];

		if (idx >= env->nrcpts || env->rcpts[idx].state != RCPT_PENDING)
			continue;		/* nothing to do */
		res[i].state = local_deliver_one(ctx, fd, env, idx,
		    job->recovered, &res[i].sync, res[i].text,
		    sizeof(res[i].text));
	}
}

void
local_sync(struct worker_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nbatch; i++)
		if (ctx->batch[i].delivered &&
		    maildir_sync_new(ctx->batch[i].dir) == -1)
			ctx->batch[i].sync_failed = errno ? errno : EIO;
}

void
local_results(struct worker_ctx *ctx, const struct job *job,
    const struct spool_env *env, struct rcpt_result *res)
{
	size_t i;
	int err;

	for (i = 0; i < job->nidx; i++) {
		if (res[i].state == 0)
			continue;
		if (res[i].sync != 0 &&
		    (err = ctx->batch[res[i].sync - 1].sync_failed) != 0) {
			res[i].state = RCPT_PENDING;
			snprintf(res[i].text, sizeof(res[i].text), "4.2.0 "
			    "maildir delivery failed: fsync new/: %s",
			    strerror(err));
		}
		job_result(ctx, env, job->idx[i], "local", &res[i]);
	}
}
