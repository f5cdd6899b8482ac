/*
 * Remote delivery: the recipients of one message at one domain, over one
 * SMTP connection (RFC 5321 §5.1: the MX hosts in order of preference,
 * each of their addresses in turn, until one server gives an answer).
 *
 * A server that cannot be reached, or fails before the transaction
 * (greeting, EHLO, STARTTLS, a 4xx to MAIL), sends us on to the next
 * address; once a server has answered for the recipients, its answers
 * are what happened: 2xx delivered, 4xx retried later, 5xx returned to
 * the sender.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "queue.h"

#define REMOTE_MAX_SESSIONS	10	/* connections tried per job */
#define REMOTE_MAX_ADDRS	10	/* addresses tried per MX host */

enum try_result {
	TRY_DONE,	/* the server answered for the recipients */
	TRY_NEXT,	/* host trouble: the next address may do better */
};

struct remote_job {
	struct worker_ctx	*ctx;
	const struct job	*job;
	const struct spool_env	*env;
	int			 fd;
	struct rcpt_result	*res;
	char			 relay[320];	/* for the log lines */
};

/* Set every recipient still open (state 0 or pending) to state/text. */
static void
remote_set_all(struct remote_job *rj, const int *open, char state,
    const char *text)
{
	size_t i;

	for (i = 0; i < rj->job->nidx; i++)
		if (open[i]) {
			rj->res[i].state = state;
			util_strcpy(rj->res[i].text, text,
			    sizeof(rj->res[i].text));
		}
}

static char
remote_state_of(int code)
{
	return code / 100 == 2 ? RCPT_DELIVERED : code / 100 == 5 ?
	    RCPT_FAILED : RCPT_PENDING;
}

/* Is TLS as the policy wants it?  -1 with why if not. */
static int
remote_tls_ok(const struct smtpc *c, const char *policy, char *why,
    size_t whysize)
{
	if (strcmp(policy, "encrypt") != 0 && strcmp(policy, "verify") != 0)
		return 0;
	if (c->tls_info[0] == '\0') {
		snprintf(why, whysize, "4.7.5 TLS is required (queue.tls = "
		    "%s) and %s does not offer STARTTLS", policy, c->relay);
		return -1;
	}
	if (strcmp(policy, "verify") == 0 && !c->verified) {
		snprintf(why, whysize, "4.7.5 the certificate of %s is not "
		    "valid for %s: %s", c->relay, c->host, c->tls_info);
		return -1;
	}
	return 0;
}

/*
 * The transaction: MAIL, RCPT for each open recipient, DATA, the
 * message.  Pipelined (RFC 2920) when the server offers it: the
 * commands go in one write and the replies are read in order.
 */
static enum try_result
remote_transaction(struct remote_job *rj, struct smtpc *c, int *open)
{
	const struct spool_env *env = rj->env;
	const struct job *job = rj->job;
	struct smtpc_reply r;
	char text[1024], size_param[40] = "";
	int pipelining = (c->ext & SMTPC_PIPELINING) != 0;
	int *sent, *accepted, naccepted = 0, mail_code;
	enum try_result tr = TRY_DONE;
	size_t i;

	if ((c->ext & SMTPC_SIZE) && c->size_max > 0 &&
	    env->body_len > c->size_max) {
		snprintf(text, sizeof(text), "5.3.4 message of %lld octets "
		    "is larger than %s accepts (SIZE %lld)",
		    (long long)env->body_len, c->relay, c->size_max);
		remote_set_all(rj, open, RCPT_FAILED, text);
		return TRY_DONE;
	}
	if (c->ext & SMTPC_SIZE)
		snprintf(size_param, sizeof(size_param), " SIZE=%lld",
		    (long long)env->body_len);
	sent = util_calloc(job->nidx, sizeof(*sent));
	accepted = util_calloc(job->nidx, sizeof(*accepted));
	memcpy(sent, open, job->nidx * sizeof(*sent));

	/* MAIL, and when pipelining every RCPT and DATA too. */
	buf_printf(&c->conn.out, "MAIL FROM:<%s>%s%s\r\n", env->sender,
	    size_param, (c->ext & SMTPC_8BITMIME) && env->body != NULL &&
	    strcmp(env->body, "8bitmime") == 0 ? " BODY=8BITMIME" : "");
	if (pipelining) {
		for (i = 0; i < job->nidx; i++)
			if (sent[i])
				buf_printf(&c->conn.out, "RCPT TO:<%s>\r\n",
				    env->rcpts[job->idx[i]].addr);
		buf_puts(&c->conn.out, "DATA\r\n");
	}
	if (conn_flush(&c->conn) == -1 || smtpc_reply(c, &r) == -1)
		goto lost;
	if ((mail_code = r.code) / 100 != 2) {
		smtpc_describe(c, &r, "MAIL FROM", text, sizeof(text));
		remote_set_all(rj, open, remote_state_of(r.code), text);
		/* A 4xx to MAIL is this server's trouble: the next one may
		 * take the message (§5.1).  A 5xx settles it. */
		tr = mail_code / 100 == 4 ? TRY_NEXT : TRY_DONE;
		if (tr == TRY_DONE)
			memset(open, 0, job->nidx * sizeof(*open));
		if (!pipelining)
			goto out;
	}
	for (i = 0; i < job->nidx; i++) {
		if (!sent[i])
			continue;
		if (pipelining ? smtpc_reply(c, &r) == -1 :
		    smtpc_command(c, &r, "RCPT TO:<%s>",
		    env->rcpts[job->idx[i]].addr) == -1)
			goto lost;
		if (mail_code / 100 != 2)
			continue;	/* settled by MAIL's reply */
		if (r.code / 100 == 2) {
			accepted[i] = 1;
			naccepted++;
			continue;
		}
		smtpc_describe(c, &r, "RCPT TO", rj->res[i].text,
		    sizeof(rj->res[i].text));
		rj->res[i].state = remote_state_of(r.code);
		open[i] = 0;
	}
	if (pipelining ? smtpc_reply(c, &r) == -1 :
	    naccepted > 0 && smtpc_command(c, &r, "DATA") == -1)
		goto lost;
	if (mail_code / 100 != 2 || naccepted == 0) {
		/* Nothing to send.  A server that said 354 to a pipelined
		 * DATA anyway (RFC 2920 §3.1 says it must not) gets an
		 * empty message, which it cannot deliver to anyone. */
		if (pipelining && r.code == 354)
			smtpc_command(c, &r, ".");
		goto out;
	}
	if (r.code != 354) {
		smtpc_describe(c, &r, "DATA", text, sizeof(text));
		remote_set_all(rj, accepted, remote_state_of(r.code), text);
		goto settled;
	}
	/* RFC 5321 §4.5.3.2.6: the end of data may take 10 minutes. */
	c->conn.timeout_ms *= 2;
	if (smtpc_send_message(c, rj->fd, env) == -1 ||
	    smtpc_reply(c, &r) == -1) {
		/* Sent, but no answer: the server may have it.  Retrying
		 * risks a duplicate, losing it is worse (§6.1). */
		snprintf(text, sizeof(text), "4.4.2 %s: %s after the message "
		    "was sent; it may arrive twice", c->relay, r.text[0] ?
		    r.text : "connection lost");
		remote_set_all(rj, accepted, RCPT_PENDING, text);
		goto settled;
	}
	smtpc_describe(c, &r, "end of DATA", text, sizeof(text));
	if (r.code / 100 == 2 && c->tls_info[0] != '\0') {
		size_t n = strlen(text);

		snprintf(text + n, sizeof(text) - n, " TLS %s", c->tls_info);
	}
	remote_set_all(rj, accepted, remote_state_of(r.code), text);
settled:
	for (i = 0; i < job->nidx; i++)
		if (accepted[i])
			open[i] = 0;
out:
	free(sent);
	free(accepted);
	return tr;
lost:
	snprintf(text, sizeof(text), "4.4.2 %s: %s during the transaction",
	    c->relay, r.text);
	/* Recipients the server already refused keep its answer. */
	remote_set_all(rj, open, RCPT_PENDING, text);
	tr = TRY_NEXT;
	goto out;
}

/* One SMTP session with one address of one MX host. */
static enum try_result
remote_try(struct remote_job *rj, const char *host, const char *addr,
    int *open)
{
	const char *policy = rj->ctx->conf->queue.tls;
	struct smtpc c;
	char why[1024];
	enum try_result tr;
	int r;

	r = smtpc_open(&c, rj->ctx->conf, rj->ctx->tls, host, addr,
	    strcmp(policy, "none") != 0, why, sizeof(why));
	if (r == -1 && c.tls_failed && strcmp(policy, "may") == 0) {
		/* Opportunistic TLS that fails falls back to clear text
		 * with the same server (RFC 7435 §4). */
		log_info("qid=%s %s; trying again without TLS", rj->env->id,
		    log_str(why));
		smtpc_close(&c, 0);
		r = smtpc_open(&c, rj->ctx->conf, rj->ctx->tls, host, addr,
		    0, why, sizeof(why));
	}
	snprintf(rj->relay, sizeof(rj->relay), "%s", c.relay);
	if (r == 0 && remote_tls_ok(&c, policy, why, sizeof(why)) == -1)
		r = -1;
	if (r == -1) {
		remote_set_all(rj, open, RCPT_PENDING, why);
		log_info("qid=%s relay=%s: %s", rj->env->id, log_str(c.relay),
		    log_str(why));
		smtpc_close(&c, 0);
		return TRY_NEXT;
	}
	if (c.tls_info[0] != '\0')
		log_info("qid=%s relay=%s tls=%s", rj->env->id,
		    log_str(c.relay), log_str(c.tls_info));
	tr = remote_transaction(rj, &c, open);
	smtpc_close(&c, tr == TRY_DONE);
	return tr;
}

/* Mail for a domain whose MX is this host would come straight back. */
static int
remote_loops(const struct conf *conf, const char *host)
{
	return strcasecmp(host, conf->server.hostname) == 0;
}

static void
remote_route(struct remote_job *rj, const char *domain, int *open)
{
	struct mx_host hosts[MX_MAX_HOSTS];
	char addrs[REMOTE_MAX_ADDRS][INET6_ADDRSTRLEN], why[1024];
	size_t nhosts, naddrs, h, a;
	int sessions = 0, any_address = 0, temp_dns = 0;
	enum dns_status st;

	switch (mx_lookup(rj->ctx->dns, domain, hosts, MX_MAX_HOSTS, &nhosts,
	    why, sizeof(why))) {
	case MX_OK:
		break;
	case MX_TEMP:
		remote_set_all(rj, open, RCPT_PENDING, why);
		return;
	default:
		remote_set_all(rj, open, RCPT_FAILED, why);
		return;
	}
	for (h = 0; h < nhosts && sessions < REMOTE_MAX_SESSIONS; h++) {
		if (remote_loops(rj->ctx->conf, hosts[h].name)) {
			snprintf(why, sizeof(why), "5.4.6 mail for %s loops "
			    "back to myself (MX %s)", domain, hosts[h].name);
			remote_set_all(rj, open, RCPT_FAILED, why);
			return;
		}
		st = mx_addresses(rj->ctx->dns, hosts[h].name, addrs,
		    REMOTE_MAX_ADDRS, &naddrs, why, sizeof(why));
		if (st != DNS_OK) {
			temp_dns |= st == DNS_TEMPFAIL;
			log_info("qid=%s MX %s of %s: no address: %s",
			    rj->env->id, log_str(hosts[h].name), domain,
			    log_str(why));
			continue;
		}
		any_address = 1;
		for (a = 0; a < naddrs && sessions < REMOTE_MAX_SESSIONS;
		    a++, sessions++)
			if (remote_try(rj, hosts[h].name, addrs[a], open) ==
			    TRY_DONE)
				return;
	}
	if (any_address)
		return;		/* each recipient has the last host's error */
	/* No host has an address: for an implicit MX whose name does not
	 * resolve the domain cannot take mail; otherwise try later. */
	snprintf(why, sizeof(why), "%s no address for %s of %s: %s",
	    temp_dns || !hosts[0].implicit ? "4.4.3" : "5.1.2",
	    hosts[0].implicit ? "the host" : "any MX host", domain,
	    temp_dns ? "DNS lookup failed" : "no A or AAAA record");
	remote_set_all(rj, open, temp_dns || !hosts[0].implicit ?
	    RCPT_PENDING : RCPT_FAILED, why);
}

void
remote_deliver_job(struct worker_ctx *ctx, const struct job *job, int fd,
    const struct spool_env *env, struct rcpt_result *res)
{
	struct remote_job rj;
	char domain[256] = "";
	const char *at;
	int *open;
	size_t i;

	memset(&rj, 0, sizeof(rj));
	rj.ctx = ctx;
	rj.job = job;
	rj.env = env;
	rj.fd = fd;
	rj.res = res;
	open = util_calloc(job->nidx, sizeof(*open));
	snprintf(rj.relay, sizeof(rj.relay), "none");
	for (i = 0; i < job->nidx; i++) {
		size_t idx = job->idx[i];

		if (idx >= env->nrcpts ||
		    env->rcpts[idx].state != RCPT_PENDING ||
		    (at = strrchr(env->rcpts[idx].addr, '@')) == NULL)
			continue;
		/* The runner gives one domain per job; anything else is
		 * left for another job. */
		if (domain[0] == '\0')
			util_strcpy(domain, at + 1, sizeof(domain));
		else if (strcasecmp(domain, at + 1) != 0)
			continue;
		open[i] = 1;
	}
	if (domain[0] != '\0')
		remote_route(&rj, domain, open);
	for (i = 0; i < job->nidx; i++)
		if (res[i].state != 0)
			job_result(ctx, env, job->idx[i], rj.relay, &res[i]);
	free(open);
}
