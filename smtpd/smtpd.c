/*
 * smtpd: an SMTP session process, one of maild's pool for one of the
 * SMTP services (port 25, 587, 465): it serves one client at a time, up
 * to smtpd.max_use in turn, then exits.
 *
 * SECURITY: every byte from the network is hostile.  Started by maild as
 * root, it loads the TLS key, connects to the auth service and sets up
 * its resolver (SPF), then chroots into an empty directory, becomes
 * server.login_user and closes itself under a seccomp filter (sockets it
 * holds, memory, time, DNS; no file is opened, no program run) before it
 * accepts anyone.  It cannot read users.db (it asks the auth service for
 * logins and for what an address means), nor the spool: maild makes each
 * message's spool file and passes it, and renames it into the queue
 * once written.  A hostile client can only ever affect its own session;
 * between clients nothing of one is kept (the session's state lives in
 * one structure, cleared; the TLS session is freed).  Lines are bounded
 * (smtpd.max_line_length), messages (smtpd.max_message_size),
 * recipients (smtpd.max_recipients), session and DATA time
 * (smtpd.max_session_time, smtpd.max_data_time), and addresses are
 * parsed strictly (global/addr.c) before they are looked up.
 */
#include "../global/conf.h"
#include "../global/pool.h"
#include "../global/spf.h"
#include "../lib/log.h"
#include "smtpd.h"

/* As root: SPF's resolver, whose configuration is a file. */
static void
smtp_setup(struct pool_ctx *ctx, void *arg)
{
	struct smtpd_env *env = arg;
	char err[256];

	env->conf = ctx->conf;
	env->tls = ctx->tls;
	env->pool = &ctx->pool;
	/* Each commit brings the next message's spool file along: under
	 * load, one round trip to maild a message instead of two. */
	env->pool->keep_spare = 1;
	env->authc = ctx->authc;
	if ((env->dns = conf_dns_open(ctx->conf, err, sizeof(err))) == NULL ||
	    (env->spf = spf_new(env->dns, ctx->conf->server.hostname, err,
	    sizeof(err))) == NULL)
		fatalx("resolver: %s", err);
}

static void
smtp_serve(struct pool_ctx *ctx, int fd, const char *service,
    const char *client_ip, int client_port, const struct pool_session *post,
    void *arg)
{
	(void)ctx;
	(void)post;
	smtp_session_run(fd, service, client_ip, client_port, arg);
}

int
main(int argc, char **argv)
{
	static const struct pool_program pp = {
		"smtpd",
		"421 4.7.0 Too many connections, try again later\r\n",
		"421 4.7.0 Too many connections from your address, try again "
		"later\r\n",
		smtp_setup, smtp_serve,
	};
	static struct pool_ctx ctx;
	static struct smtpd_env env;

	pool_main(argc, argv, &pp, &ctx, &env);
}
