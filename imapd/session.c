/*
 * One IMAP session: read a command (line by line, literal by literal),
 * check its state, run it, tell the client what changed in the selected
 * mailbox, send the tagged reply.
 *
 * Literals (RFC 3501 §4.3, RFC 7888): a synchronizing {n} gets "+" only
 * when the session will take n octets; the octets of a non-synchronizing
 * {n+} it refuses are on their way anyway, and are read and dropped
 * (never taken as commands).  APPEND's message goes straight into the target mailbox's
 * tmp/ as it arrives (up to imapd.append_limit); every other literal is
 * held in memory within imapd.max_command.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../global/pool.h"
#include "../global/service.h"
#include "../global/userdb.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/tls.h"
#include "binary.h"
#include "context.h"
#include "notify.h"
#include "session.h"
#include "sort.h"
#include "acl.h"

/* ---- commands ---- */

static const struct imap_cmd imap_cmds[] = {
	{ "CAPABILITY",		ST_ANY,		0,	cmd_capability },
	{ "NOOP",		ST_ANY,		0,	cmd_noop },
	{ "LOGOUT",		ST_ANY,		0,	cmd_logout },
	{ "ID",			ST_ANY,		0,	cmd_id },
	{ "STARTTLS",		ST_NOTAUTH,	0,	cmd_starttls },
	{ "LOGIN",		ST_NOTAUTH,	0,	cmd_login },
	{ "AUTHENTICATE",	ST_NOTAUTH,	0,	cmd_authenticate },
	{ "ENABLE",		ST_AUTH,	0,	cmd_enable },
	{ "NAMESPACE",		ST_LOGGEDIN,	0,	cmd_namespace },
	/* RFC 8437 (cmd_any.c) */
	{ "UNAUTHENTICATE",	ST_LOGGEDIN,	0,	cmd_unauthenticate },
	{ "IDLE",		ST_LOGGEDIN,	0,	cmd_idle },
	{ "COMPRESS",		ST_LOGGEDIN,	0,	cmd_compress },
	{ "SELECT",		ST_LOGGEDIN,	0,	cmd_select },
	{ "EXAMINE",		ST_LOGGEDIN,	0,	cmd_examine },
	{ "CREATE",		ST_LOGGEDIN,	0,	cmd_create },
	{ "DELETE",		ST_LOGGEDIN,	0,	cmd_delete },
	{ "RENAME",		ST_LOGGEDIN,	0,	cmd_rename },
	{ "SUBSCRIBE",		ST_LOGGEDIN,	0,	cmd_subscribe },
	{ "UNSUBSCRIBE",	ST_LOGGEDIN,	0,	cmd_unsubscribe },
	{ "LIST",		ST_LOGGEDIN,	0,	cmd_list },
	{ "LSUB",		ST_LOGGEDIN,	0,	cmd_lsub },
	{ "STATUS",		ST_LOGGEDIN,	0,	cmd_status },
	{ "APPEND",		ST_LOGGEDIN,	0,	cmd_append },
	/* RFC 9208 (cmd_quota.c) */
	{ "GETQUOTA",		ST_LOGGEDIN,	0,	cmd_getquota },
	{ "GETQUOTAROOT",	ST_LOGGEDIN,	0,	cmd_getquotaroot },
	{ "SETQUOTA",		ST_LOGGEDIN,	0,	cmd_setquota },
	/* RFC 5464 (cmd_metadata.c) */
	{ "GETMETADATA",	ST_LOGGEDIN,	0,	cmd_getmetadata },
	{ "SETMETADATA",	ST_LOGGEDIN,	0,	cmd_setmetadata },
	/* RFC 4467, 5524 (urlauth.c) */
	{ "GENURLAUTH",		ST_LOGGEDIN,	0,	cmd_genurlauth },
	{ "RESETKEY",		ST_LOGGEDIN,	0,	cmd_resetkey },
	{ "URLFETCH",		ST_LOGGEDIN,	0,	cmd_urlfetch },
	/* RFC 4314 (cmd_acl.c) */
	{ "SETACL",		ST_LOGGEDIN,	0,	cmd_setacl },
	{ "DELETEACL",		ST_LOGGEDIN,	0,	cmd_deleteacl },
	{ "GETACL",		ST_LOGGEDIN,	0,	cmd_getacl },
	{ "LISTRIGHTS",		ST_LOGGEDIN,	0,	cmd_listrights },
	{ "MYRIGHTS",		ST_LOGGEDIN,	0,	cmd_myrights },
	{ "CHECK",		ST_SELECTED,	0,	cmd_check },
	{ "CLOSE",		ST_SELECTED,	0,	cmd_close },
	{ "UNSELECT",		ST_SELECTED,	0,	cmd_unselect },
	{ "EXPUNGE",		ST_SELECTED,	0,	cmd_expunge },
	{ "SEARCH",		ST_SELECTED,	CMD_NO_EXPUNGE | CMD_SYNC_FIRST,
	    cmd_search },
	{ "FETCH",		ST_SELECTED,	CMD_NO_EXPUNGE,	cmd_fetch },
	{ "STORE",		ST_SELECTED,	CMD_NO_EXPUNGE,	cmd_store },
	{ "COPY",		ST_SELECTED,	CMD_NO_EXPUNGE,	cmd_copy },
	{ "MOVE",		ST_SELECTED,	0,	cmd_move },
	/* UID alone or with an unknown word: only a BAD (and no EXPUNGE). */
	{ "UID",		ST_SELECTED,	CMD_SUBCOMMAND | CMD_NO_EXPUNGE,
	    cmd_uid },
	{ "UID FETCH",		ST_SELECTED,	CMD_UID,	cmd_fetch },
	{ "UID STORE",		ST_SELECTED,	CMD_UID,	cmd_store },
	{ "UID SEARCH",		ST_SELECTED,	CMD_UID | CMD_SYNC_FIRST,
	    cmd_search },
	{ "UID COPY",		ST_SELECTED,	CMD_UID,	cmd_copy },
	{ "UID MOVE",		ST_SELECTED,	CMD_UID,	cmd_move },
	{ "UID EXPUNGE",	ST_SELECTED,	CMD_UID,	cmd_expunge },
	/* RFC 5256, 5957, 5267 (sort.h) */
	{ "SORT",		ST_SELECTED,	CMD_NO_EXPUNGE | CMD_SYNC_FIRST,
	    cmd_sort },
	{ "THREAD",		ST_SELECTED,	CMD_NO_EXPUNGE | CMD_SYNC_FIRST,
	    cmd_thread },
	{ "UID SORT",		ST_SELECTED,	CMD_UID | CMD_SYNC_FIRST,
	    cmd_sort },
	{ "UID THREAD",		ST_SELECTED,	CMD_UID | CMD_SYNC_FIRST,
	    cmd_thread },
	{ "COMPARATOR",		ST_LOGGEDIN,	0,	cmd_comparator }, /* 5255 */
	{ "CANCELUPDATE",	ST_SELECTED,	0,	cmd_cancelupdate }, /* 5267 */
	{ "NOTIFY",		ST_LOGGEDIN,	0,	cmd_notify }, /* 5465 */
};

static const struct imap_cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++)
		if (strcasecmp(imap_cmds[i].name, name) == 0)
			return &imap_cmds[i];
	return NULL;
}

/*
 * The row for a command that names its subcommand in its first argument
 * (UID FETCH, RFC 3501 §6.4.8), any case, with the arguments after it;
 * cmd itself when there is none such.
 */
static const struct imap_cmd *
cmd_find_sub(const struct imap_cmd *cmd, const struct imap_arg **args,
    size_t *nargs)
{
	const struct imap_cmd *sub;
	char name[64];		/* more than any row's name */
	int n;

	if (!(cmd->flags & CMD_SUBCOMMAND) || *nargs < 1 ||
	    (*args)[0].type != IMAP_ARG_ATOM)
		return cmd;
	n = snprintf(name, sizeof(name), "%s %s", cmd->name, (*args)[0].str);
	if (n < 0 || (size_t)n >= sizeof(name) || (sub = cmd_find(name)) ==
	    NULL)
		return cmd;
	(*args)++;
	(*nargs)--;
	return sub;
}

static const char *
state_name(enum imap_state st)
{
	switch (st) {
	case ST_NOTAUTH:	return "not-authenticated";
	case ST_AUTH:		return "authenticated";
	case ST_SELECTED:	return "selected";
	case ST_LOGOUT:		return "logout";
	}
	return "?";
}

void
imap_set_state(struct imap_session *s, enum imap_state to)
{
	if (s->state == ST_LOGOUT || s->state == to)
		return;
	log_debug("sid=%s state %s -> %s", s->id, state_name(s->state),
	    state_name(to));
	s->state = to;
}

/* The command being parsed, as the table names it (for the log). */
static const char *
session_cmd_name(struct imap_session *s)
{
	const char *name = imap_parser_command(s->parser);
	const struct imap_cmd *cmd = name != NULL ? cmd_find(name) : NULL;

	return cmd != NULL ? cmd->name : "unknown";
}

static void
session_error(struct imap_session *s)
{
	if (++s->errors >= s->conf->imapd.max_errors) {
		log_info("sid=%s client=[%s] too many errors, disconnecting",
		    s->id, s->client_ip);
		imap_untagged(s, "BYE Too many errors");
		imap_set_state(s, ST_LOGOUT);
	}
}

/* The tagged reply, after what changed meanwhile (RFC 3501 §7). */
static void
session_finish(struct imap_session *s, int allow_expunge)
{
	if (s->state == ST_SELECTED &&
	    imap_view_notify(s, allow_expunge) == -1)
		imap_mailbox_lost(s);
	imap_tagged_send(s);
	s->cmd_name = NULL;
}

static void
session_dispatch(struct imap_session *s)
{
	const struct imap_cmd *cmd;
	const struct imap_arg *args;
	const char *name = imap_parser_command(s->parser);
	size_t nargs;
	int r;

	s->tag = imap_parser_tag(s->parser);
	s->uid_cmd = 0;
	args = imap_parser_args(s->parser, &nargs);
	/* Logged and refused by its first word: "UID" for UID FETCH. */
	s->cmd_name = (cmd = cmd_find(name)) != NULL ? cmd->name : "unknown";
	if (cmd != NULL)
		cmd = cmd_find_sub(cmd, &args, &nargs);
	if (cmd == NULL) {
		imap_tagged(s, "BAD Unknown command %s", log_str(name));
		r = -1;
	} else if (s->submit && cmd->fn != cmd_urlfetch &&
	    cmd->fn != cmd_logout) {
		imap_tagged(s, "BAD Only URLFETCH for the submission server");
		r = -1;
	} else if ((cmd->states & s->state) == 0) {
		imap_tagged(s, "BAD %s not allowed %s", s->cmd_name,
		    s->state == ST_NOTAUTH ? "before login" :
		    s->state == ST_AUTH ? "without a selected mailbox" :
		    "now");
		r = -1;
	} else {
		log_debug("sid=%s command %s %s", s->id, s->tag, cmd->name);
		s->uid_cmd = (cmd->flags & CMD_UID) != 0;
		/*
		 * A search of a view that misses what another session
		 * appended (announced only after it) leaves the client
		 * knowing of messages the search never looked at: the new
		 * EXISTS first (and, where allowed, the EXPUNGEs), as
		 * Dovecot does.  RFC 3501 §7.4.1 still holds: no EXPUNGE
		 * before a SEARCH without UID.
		 */
		r = 0;
		if ((cmd->flags & CMD_SYNC_FIRST) &&
		    imap_view_notify(s, !(cmd->flags & CMD_NO_EXPUNGE)) == -1)
			imap_mailbox_lost(s);	/* ends the session */
		else
			r = cmd->fn(s, args, nargs);
		if (s->notify != NULL)
			notify_own(s, cmd->name, args, nargs);
	}
	session_finish(s, cmd == NULL || !(cmd->flags & CMD_NO_EXPUNGE));
	if (r == -1)
		session_error(s);
}

/* Drop the APPEND files no command took (all of a MULTIAPPEND's when
 * one of its literals was refused: RFC 3502 §3, all or nothing). */
static void
append_abandon(struct imap_session *s)
{
	if (s->append_tmp[0] != '\0')
		unlink(s->append_tmp);
	s->append_tmp[0] = '\0';
	imap_append_unlink(s);
	s->append_err = MSTORE_OK;
	if (s->append_mb != NULL)
		mbox_close(&s->append_mb);
}

/* Read exactly len octets into dst (memory), fd (APPEND's file) or,
 * when both are unset, nowhere.  0; -2 all read but the file could not
 * be written (the store says why); -1 the connection failed. */
static int
read_literal(struct imap_session *s, char *dst, int fd, size_t len)
{
	char chunk[65536];
	size_t got = 0, want;
	ssize_t n;
	int failed = 0;

	while (got < len) {
		want = len - got;
		if (dst == NULL && want > sizeof(chunk))
			want = sizeof(chunk);
		n = conn_read(&s->conn, dst != NULL ? dst + got : chunk, want);
		if (n <= 0)
			return -1;
		/* After a failed write (disk full) the rest is still read:
		 * a literal's octets are never taken as commands. */
		if (dst == NULL && fd >= 0 && !failed &&
		    mbox_append_write(s->append_mb, fd, chunk, (size_t)n) == -1)
			failed = 1;
		got += (size_t)n;
	}
	return failed ? -2 : 0;
}

/*
 * A non-synchronizing literal of a refused command: its octets are on
 * their way, so read and drop them (RFC 7888 §4) and skip the rest of
 * the command; 2.  One too large to wait for ends the session; -1.
 */
static int
literal_discard(struct imap_session *s, size_t len)
{
	if (len > (size_t)(s->conf->imapd.append_limit +
	    s->conf->imapd.max_command)) {
		imap_untagged(s, "BYE [TOOBIG] Literal too large");
		return -1;
	}
	return read_literal(s, NULL, -1, len) == -1 ? -1 : 2;
}

/*
 * APPEND's literal: into the target mailbox's tmp/.  The mailbox is the
 * first argument (RFC 3501 §6.3.11); a MULTIAPPEND (RFC 3502) has one
 * literal per message, a CATENATE (RFC 4469) one per TEXT part, each a
 * file of its own (cmd_append.c says which literals and how many).  0
 * read; 1 refused (a NO was given, nothing read, only for a
 * synchronizing literal); 2 refused and its octets dropped; -1 the
 * connection is unusable.
 */
static int
literal_append(struct imap_session *s, size_t len, int sync)
{
	const struct imap_arg *args;
	size_t nargs;
	char name[MAILDIR_NAME_MAX + 1];
	const char *why = NULL;
	int fd, r;

	args = imap_parser_args(s->parser, &nargs);
	s->tag = imap_parser_tag(s->parser);	/* for any reply here */
	if (s->state == ST_NOTAUTH)
		why = "BAD APPEND not allowed before login";
	else if (nargs < 1 || !imap_arg_is_string(&args[0]))
		why = "BAD Missing mailbox name";
	else
		why = imap_append_check(s, len);
	s->cmd_name = "APPEND";
	if (why == NULL && s->append_mb == NULL) {
		if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
			why = "";
		else	/* RFC 4314 §4: "i" (acl.c) */
			(void)imap_acl_open(s, name, ACL_I, 1, &s->append_mb,
			    NULL, &why);
	}
	if (why == NULL)	/* the target's quota root (cmd_quota.c) */
		why = imap_append_quota_check(s, len);
	if (why != NULL) {
		if (why[0] != '\0')
			imap_tagged(s, "%s", why);
		session_finish(s, 0);
		return sync ? 1 : literal_discard(s, len);
	}
	if ((fd = mbox_append_begin(s->append_mb, s->append_tmp,
	    sizeof(s->append_tmp))) == -1) {
		/* the mailbox's store: maybe another user's (acl.c) */
		imap_acl_store_no(s, mbox_store(s->append_mb), "append");
		mbox_close(&s->append_mb);
		session_finish(s, 0);
		return sync ? 1 : literal_discard(s, len);
	}
	if (sync)
		imap_continue(s, "Ready for literal data");
	r = read_literal(s, NULL, fd, len);
	if (r == -2)		/* disk full: the rest of the command comes */
		s->append_err = mstore_errclass(mbox_store(s->append_mb));
	if (mbox_append_close(s->append_mb, fd) == -1 && r == 0)
		s->append_err =		/* a write error told late */
		    mstore_errclass(mbox_store(s->append_mb));
	if (r == -1) {
		append_abandon(s);
		return -1;
	}
	imap_parser_literal_file(s->parser, s->append_tmp, len);
	s->append_tmp[0] = '\0';	/* the parser's argument names it */
	return 0;
}

/* Any other literal: held in memory within imapd.max_command. */
static int
literal_memory(struct imap_session *s, size_t len, int sync)
{
	char *data;

	if (len > imap_parser_room(s->parser)) {
		s->tag = imap_parser_tag(s->parser);
		s->cmd_name = session_cmd_name(s);
		imap_tagged(s, "NO [TOOBIG] Literal too large");
		session_finish(s, 0);
		return sync ? 1 : literal_discard(s, len);
	}
	if (sync)
		imap_continue(s, "Ready for literal data");
	data = util_calloc(1, len + 1);
	if (read_literal(s, data, -1, len) == -1) {
		free(data);
		return -1;
	}
	imap_parser_literal(s->parser, data, len);
	free(data);
	return 0;
}

/*
 * About to wait for the client, maybe for minutes: give back what the
 * last command used (the index's page cache, freed heap), so an idle
 * session costs little more than its process.  Not between the
 * commands of a burst, though (a client's next command within
 * SHRINK_AFTER_MS): each would read the index's pages again, and a
 * second THREAD of 10,000 messages cost as much as the first.
 */
#define SHRINK_AFTER_MS	300

static void
session_shrink(struct imap_session *s)
{
	struct pollfd pfd = { s->conn.fd, POLLIN, 0 };

	/* (Not before login: the login deadline is checked while the
	 * session waits for input, which this wait would do instead.) */
	if (s->conn.deadline == 0 && conn_flush(&s->conn) == 0 &&
	    poll(&pfd, 1, SHRINK_AFTER_MS) > 0)
		return;		/* more is coming: keep what it may use */
	mstore_shrink(s->store);
	malloc_trim(0);
}

/* Does a line end with a non-synchronizing literal "{digits+}"? */
static int
announces_nonsync_literal(const char *line, size_t len)
{
	size_t i;

	if (len < 4 || line[len - 1] != '}' || line[len - 2] != '+')
		return 0;
	for (i = len - 2; i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9';
	    i--)
		;
	return i < len - 2 && i > 0 && line[i - 1] == '{';
}

/*
 * Read one command with its literals and run it.  0 go on, -1 the
 * connection ended (or must end).
 */
static int
session_command(struct imap_session *s)
{
	enum imap_parse_status ps;
	enum conn_status st;
	const char *why, *name;
	char *line;
	size_t len, litlen, nsofar;
	int sync, r, skipping = 0;

	imap_parser_reset(s->parser);
	/* RFC 5465 §5: what happens while no command runs */
	if (s->notify != NULL && notify_wait(s, 0) == -1)
		return -1;
	if (conn_pending(&s->conn) == 0)
		session_shrink(s);
	if (s->notify != NULL && notify_wait(s, 1) == -1)
		return -1;
	for (;;) {
		st = conn_getline(&s->conn, &line, &len);
		if (st == CONN_TOOLONG) {
			/* Its tag and whether a {n+} literal follows are
			 * lost with it: what comes next cannot be told
			 * from commands, so the session ends. */
			imap_untagged(s, "BYE [TOOBIG] Command line too long");
			append_abandon(s);
			return -1;
		}
		if (st != CONN_LINE) {
			if (st == CONN_TIMEOUT && s->conn.deadline != 0)
				imap_untagged(s, "BYE Too long without logging "
				    "in");
			else if (st == CONN_TIMEOUT)
				imap_untagged(s, "BYE Autologout; idle for too "
				    "long");
			else if (st == CONN_ERROR && daemon_term)
				imap_untagged(s, "BYE Server shutting down");
			append_abandon(s);
			return -1;
		}
		ps = imap_parser_line(s->parser, line, len, &litlen, &sync,
		    &why);
		if (ps == IMAP_PARSE_DONE && !skipping)
			break;
		if (skipping && (ps != IMAP_PARSE_LITERAL || sync)) {
			append_abandon(s);	/* the command was refused */
			return 0;
		}
		if (ps == IMAP_PARSE_BAD) {
			s->tag = imap_parser_tag(s->parser);
			s->cmd_name = session_cmd_name(s);
			imap_tagged(s, "BAD %s", why);
			session_finish(s, 0);
			append_abandon(s);
			if (announces_nonsync_literal(line, len)) {
				/* Its octets are coming and must never be
				 * read as commands (RFC 7888 §4). */
				imap_untagged(s, "BYE Cannot take that "
				    "literal");
				return -1;
			}
			session_error(s);
			return 0;
		}
		/* APPEND's message follows its mailbox name. */
		name = imap_parser_command(s->parser);
		(void)imap_parser_args(s->parser, &nsofar);
		if (skipping)
			r = literal_discard(s, litlen);
		else if (name != NULL && strcasecmp(name, "APPEND") == 0 &&
		    nsofar >= 1 && imap_append_to_file(s))
			r = literal_append(s, litlen, sync);
		else
			r = literal_memory(s, litlen, sync);
		if (r == -1)
			return -1;
		if (r == 1) {
			append_abandon(s);
			return 0;
		}
		if (r == 2) {	/* go on parsing up to the command's end */
			skipping = 1;
			imap_parser_literal(s->parser, "", 0);
		}
	}
	session_dispatch(s);
	append_abandon(s);
	return s->state == ST_LOGOUT ? -1 : 0;
}

/*
 * A post-login process: the user from the auth service (never from the
 * login process), this process confined to that user's Maildir, then the
 * store, and the LOGIN's tagged OK.  0, or -1 (answered: end).
 */
static int
session_post_login(struct imap_session *s, const struct pool_session *post)
{
	char user[320];
	struct buf caps;

	s->tag = post->tag;
	s->cmd_name = "LOGIN";
	s->relayed = post->relayed;
	/* smtpd's BURL (RFC 4468, smtpd/burl.c): a "submit" token */
	s->submit = strcmp(post->service, "submission") == 0 ||
	    strcmp(post->service, "submissions") == 0;
	if (login_redeem(&s->conn, s->authc, post, s->submit ? "submit" :
	    "imap", user, sizeof(user)) == -1) {
		imap_tagged(s, "NO [UNAVAILABLE] Temporary authentication "
		    "failure");
		return -1;
	}
	if (maildir_user_path(s->conf->server.data_dir, user, s->userdir,
	    sizeof(s->userdir)) == -1 || maildir_create(s->userdir) == -1) {
		log_err("sid=%s user=%s no usable maildir", s->id, user);
		imap_tagged(s, "NO [UNAVAILABLE] Mailbox unavailable");
		return -1;
	}
	util_strcpy(s->user, user, sizeof(s->user));
	/* Landlock over this Maildir and those of the owners who share
	 * folders with the user (acl.c). */
	imap_acl_confine(s);
	if (imap_login(s, user) == -1)
		return -1;
	s->conn.deadline = 0;	/* logged in: only the idle timeout now */
	buf_init(&caps, 0);
	imap_capabilities(s, &caps);
	imap_tagged(s, "OK [%s] Logged in", caps.data);
	buf_release(&caps);
	return 0;
}

void
imap_session_run(struct pool_ctx *env, int fd, const char *service,
    const char *client_ip, int client_port, const struct pool_session *post,
    void *unused)
{
	struct imap_session sess, *s = &sess;
	double start = util_now();
	struct buf *b;

	(void)unused;
	memset(s, 0, sizeof(*s));
	s->userlock = -1;
	imap_reply_init();
	s->env = env;
	s->conf = env->conf;
	s->authc = env->authc;
	s->service = service;
	s->client_port = client_port;
	s->state = ST_NOTAUTH;		/* where it begins: no change */
	if (post != NULL)
		util_strcpy(s->id, post->sid, sizeof(s->id));
	else
		util_session_id(s->id);
	util_strcpy(s->client_ip, client_ip, sizeof(s->client_ip));
	conn_init(&s->conn, fd, (size_t)s->conf->imapd.max_line_length,
	    (int)s->conf->imapd.timeout);
	s->conn.stop = &daemon_term;
	s->parser = imap_parser_new((size_t)s->conf->imapd.max_command);

	if (post != NULL) {
		if (session_post_login(s, post) == -1) {
			imap_untagged(s, "BYE Cannot serve this session");
			imap_set_state(s, ST_LOGOUT);
		}
		session_finish(s, 0);
		s->tag = NULL;
		while (s->state != ST_LOGOUT && session_command(s) == 0)
			;
	} else {
		/* A client has imapd.login_timeout to log in. */
		s->conn.deadline = util_now_usec() +
		    (int64_t)s->conf->imapd.login_timeout * 1000000;
		if (login_connect(&s->conn, env->tls, s->id, service,
		    client_ip, client_port) == -1) {
			s->broken = 1;
		} else {
			b = imap_out(s);
			buf_puts(b, "* OK [");
			imap_capabilities(s, b);
			buf_printf(b, "] %s IMAP4rev1 ready\r\n",
			    s->conf->server.hostname);
			while (s->state != ST_LOGOUT && session_command(s) == 0)
				;
		}
	}
	/* However it ended: LOGOUT, a BYE or the connection (RFC 3501
	 * §3.4). */
	imap_set_state(s, ST_LOGOUT);
	if (!s->broken)
		conn_flush(&s->conn);
	log_info("sid=%s %s client=[%s] user=%s fetch=%lu append=%lu "
	    "expunge=%lu no=%lu bad=%lu in=%llu out=%llu time=%.3fs", s->id,
	    s->handed_over ? "login done" : s->handed_back ?
	    "unauthenticated" : "disconnect", s->client_ip,
	    s->user[0] ? s->user : "-", s->nfetch, s->nappend, s->nexpunge,
	    s->nno, s->nbad, (unsigned long long)s->conn.bytes_in,
	    (unsigned long long)s->conn.bytes_out, util_now() - start);
	imap_unselect(s);
	notify_free(s);
	imap_acl_free(s);		/* shared stores */
	mstore_close(&s->store);
	if (s->userlock != -1)
		close(s->userlock);
	imap_parser_free(&s->parser);
	conn_free(&s->conn);
	imap_reply_free();
	imap_binary_forget();
	close(fd);
	explicit_bzero(s, sizeof(*s));	/* nothing for the next client */
}

