/*
 * mailctl: the administrator's command line.
 *
 * SECURITY: run by an administrator.  Started as root, it drops to
 * server.user before it opens users.db or the spool, so that every file
 * it creates belongs to the user the daemons run as.  Passwords are read
 * from standard input, never from the command line (where ps(1) would
 * show them).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include "../global/conf.h"
#include "../global/authc.h"
#include "../global/layout.h"
#include "../global/prog.h"
#include "../global/spf.h"
#include "../global/spool.h"
#include "../global/userdb.h"
#include "../lib/daemon.h"
#include "../lib/dns.h"
#include "../lib/log.h"
#include "../lib/privsep.h"
#include "../lib/util.h"
#include "mailctl.h"

static struct conf *conf;

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: mailctl -c FILE [-o section.key=value]... COMMAND\n"
	    "\n"
	    "  domain add DOMAIN | del DOMAIN | list\n"
	    "  user add ADDRESS | del ADDRESS | passwd ADDRESS | list [DOMAIN]\n"
	    "       (add and passwd read the password from standard input)\n"
	    "  user quota ADDRESS [STORAGE-KIB [MESSAGES]] | quota list "
	    "[DOMAIN]\n"
	    "       (a limit 0 or none: no limit)\n"
	    "  user shares ADDRESS  (whom it shares IMAP folders with, and "
	    "who with it)\n"
	    "  acl list OWNER [FOLDER] | set OWNER FOLDER GRANTEE RIGHTS |\n"
	    "      del OWNER FOLDER GRANTEE\n"
	    "       (IMAP ACL rights, RFC 4314: lrswipkxtea, c, d; GRANTEE a\n"
	    "       user of OWNER's domain or anyone; RIGHTS +x adds, -x "
	    "removes)\n"
	    "  alias add ADDRESS TARGET... | del ADDRESS [TARGET] | list\n"
	    "       (ADDRESS may be @domain: a catch-all for the domain)\n"
	    "  queue list | flush | delete ID | bounce ID\n"
	    "  auth status        (the limits on logins and what is under "
	    "attack)\n"
	    "  config check | dump | describe\n"
	    "  spf check CLIENT-IP MAIL-FROM HELO\n"
	    "       (MAIL-FROM \"\" for the null sender)\n");
	exit(2);
}

static int
die_usage(const char *msg)
{
	fprintf(stderr, "mailctl: %s\n", msg);
	usage();
	return 2;
}

struct userdb *
mailctl_open_db(void)
{
	struct userdb *db;
	const char *err;

	prog_prepare_data_dir(conf);
	if ((db = userdb_open(conf->server.data_dir, 0, &err)) == NULL) {
		fprintf(stderr, "mailctl: %s\n", err);
		exit(1);
	}
	return db;
}

#define open_db mailctl_open_db

static int
db_result(struct userdb *db, int r, const char *done)
{
	if (r == -1) {
		fprintf(stderr, "mailctl: %s\n", userdb_error(db));
		return 1;
	}
	if (done != NULL)
		printf("%s\n", done);
	return 0;
}

static void
print_one(const char *s, void *arg)
{
	(void)arg;
	printf("%s\n", s);
}

static void
print_alias(const char *a, const char *t, void *arg)
{
	(void)arg;
	printf("%s -> %s\n", a, t);
}

/* One line from stdin (prompting twice on a terminal). */
static int
read_password(char *buf, size_t size)
{
	struct termios old, noecho;
	char again[1100];
	int tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
		fprintf(stderr, "Password: ");
	}
	if (fgets(buf, (int)size, stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		fprintf(stderr, "\nAgain: ");
		if (fgets(again, sizeof(again), stdin) == NULL)
			again[0] = '\0';
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
		if (strcmp(buf, again) != 0) {
			fprintf(stderr, "mailctl: passwords differ\n");
			return -1;
		}
	}
	n = strlen(buf);
	if (n == size - 1 && buf[n - 1] != '\n') {
		fprintf(stderr, "mailctl: password too long\n");
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "mailctl: no password given on standard "
		    "input\n");
		return -1;
	}
	return 0;
}

static int
cmd_domain(int argc, char **argv)
{
	struct userdb *db;
	int r;

	if (argc < 1)
		return die_usage("domain: add, del or list?");
	if (strcmp(argv[0], "list") == 0 && argc == 1) {
		db = open_db();
		r = db_result(db, userdb_domain_list(db, print_one, NULL), NULL);
	} else if (strcmp(argv[0], "add") == 0 && argc == 2) {
		db = open_db();
		r = db_result(db, userdb_domain_add(db, argv[1]), NULL);
	} else if (strcmp(argv[0], "del") == 0 && argc == 2) {
		db = open_db();
		r = db_result(db, userdb_domain_del(db, argv[1]), NULL);
	} else
		return die_usage("domain: add DOMAIN | del DOMAIN | list");
	userdb_close(&db);
	return r;
}

/*
 * The auth service must not let the old password in from its cache: tell
 * it at once (it is not running: nothing is cached).
 */
static void
auth_forget(const char *address)
{
	char norm[320];
	const char *err;
	struct authc *a;

	if (userdb_normalize(address, norm, sizeof(norm), &err) == -1 ||
	    (a = authc_connect_control(conf->server.data_dir, &err)) == NULL)
		return;
	if (authc_flush(a, norm) == -1)
		fprintf(stderr, "mailctl: the auth service did not confirm "
		    "forgetting the cached logins of %s\n", norm);
	authc_close(&a);
}

/* A limit: a decimal number, or "none" (0). */
static int
quota_arg(const char *s, uint64_t *v)
{
	unsigned long long n;
	char *end;

	if (strcmp(s, "none") == 0) {
		*v = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > (unsigned long long)
	    USERDB_QUOTA_MAX)
		return -1;
	*v = n;
	return 0;
}

static void
print_quota(const char *address, uint64_t kib, uint64_t msgs, void *arg)
{
	(void)arg;
	printf("%s", address);
	if (kib == 0 && msgs == 0)
		printf("  no quota");
	if (kib != 0)
		printf("  storage %llu KiB", (unsigned long long)kib);
	if (msgs != 0)
		printf("  messages %llu", (unsigned long long)msgs);
	printf("\n");
}

/*
 * user quota ADDRESS [STORAGE-KIB [MESSAGES]] | list [DOMAIN]: set (both
 * limits at once; MESSAGES left out is none), show, or list them.
 * Sessions and delivery ask the auth service for them at each use, so a
 * change applies at once.
 */
static int
cmd_user_quota(int argc, char **argv)
{
	uint64_t kib = 0, msgs = 0;
	struct userdb *db;
	char norm[320];
	const char *why;
	int r;

	if (argc >= 1 && argc <= 2 && strcmp(argv[0], "list") == 0) {
		db = open_db();
		r = db_result(db, userdb_quota_list(db, argc == 2 ? argv[1] :
		    NULL, print_quota, NULL), NULL);
		userdb_close(&db);
		return r;
	}
	if (argc < 1 || argc > 3 || (argc >= 2 &&
	    quota_arg(argv[1], &kib) == -1) || (argc == 3 &&
	    quota_arg(argv[2], &msgs) == -1))
		return die_usage("user quota ADDRESS [STORAGE-KIB [MESSAGES]] "
		    "| quota list [DOMAIN]  (limits: numbers, 0 or none)");
	db = open_db();
	if (argc >= 2 && userdb_user_quota_set(db, argv[0], kib, msgs) == -1)
		r = db_result(db, -1, NULL);
	else if ((r = userdb_user_quota(db, argv[0], &kib, &msgs)) == 1) {
		userdb_normalize(argv[0], norm, sizeof(norm), &why);
		print_quota(norm, kib, msgs, NULL);
		r = 0;
	} else {
		if (r == 0)
			fprintf(stderr, "mailctl: no such user: %s\n", argv[0]);
		else
			db_result(db, -1, NULL);
		r = 1;
	}
	userdb_close(&db);
	return r;
}

static void
print_share(const char *owner, const char *grantee, void *arg)
{
	(void)arg;
	printf("%s shares with %s\n", owner, grantee);
}

/*
 * user shares ADDRESS: the auth service's index of shared folders (IMAP
 * ACL, RFC 4314) for a user, as owner and as grantee ("anyone": every
 * user of the owner's domain).  Which folders and rights: the owner's
 * GETACL (they are in the owner's index).
 */
static int
cmd_user_shares(int argc, char **argv)
{
	struct userdb *db;
	int r;

	if (argc != 1)
		return die_usage("user shares ADDRESS");
	db = open_db();
	r = db_result(db, userdb_share_list(db, argv[0], print_share, NULL),
	    NULL);
	userdb_close(&db);
	return r;
}

static int
cmd_user(int argc, char **argv)
{
	char pw[1100];
	struct userdb *db;
	int r;

	if (argc < 1)
		return die_usage("user: add, del, passwd, quota or list?");
	if (strcmp(argv[0], "quota") == 0)
		return cmd_user_quota(argc - 1, argv + 1);
	if (strcmp(argv[0], "shares") == 0)
		return cmd_user_shares(argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0 && argc <= 2) {
		db = open_db();
		r = db_result(db, userdb_user_list(db, argc == 2 ? argv[1] :
		    NULL, print_one, NULL), NULL);
	} else if ((strcmp(argv[0], "add") == 0 ||
	    strcmp(argv[0], "passwd") == 0) && argc == 2) {
		if (read_password(pw, sizeof(pw)) == -1)
			return 1;
		db = open_db();
		r = db_result(db, argv[0][0] == 'a' ?
		    userdb_user_add(db, argv[1], pw) :
		    userdb_user_passwd(db, argv[1], pw), NULL);
		explicit_bzero(pw, sizeof(pw));
		if (r == 0 && argv[0][0] == 'p')
			auth_forget(argv[1]);
	} else if (strcmp(argv[0], "del") == 0 && argc == 2) {
		db = open_db();
		r = db_result(db, userdb_user_del(db, argv[1]), NULL);
		if (r == 0) {
			auth_forget(argv[1]);
			printf("user %s deleted; the mail store is kept in "
			    "%s/mail/\n", argv[1], conf->server.data_dir);
		}
	} else
		return die_usage("user: add ADDRESS | del ADDRESS | "
		    "passwd ADDRESS | list [DOMAIN] | quota ADDRESS ...");
	userdb_close(&db);
	return r;
}

static void
print_status(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}

static int
cmd_auth(int argc, char **argv)
{
	const char *err;
	struct authc *a;
	int r;

	if (argc != 1 || strcmp(argv[0], "status") != 0)
		return die_usage("auth: status");
	if ((a = authc_connect_control(conf->server.data_dir, &err)) == NULL) {
		fprintf(stderr, "mailctl: the auth service: %s\n", err);
		return 1;
	}
	r = authc_status(a, print_status, NULL);
	authc_close(&a);
	if (r == -1)
		fprintf(stderr, "mailctl: no answer from the auth service\n");
	return r == -1;
}

static int
cmd_alias(int argc, char **argv)
{
	struct userdb *db;
	int i, r = 0;

	if (argc < 1)
		return die_usage("alias: add, del or list?");
	if (strcmp(argv[0], "list") == 0 && argc == 1) {
		db = open_db();
		r = db_result(db, userdb_alias_list(db, print_alias, NULL),
		    NULL);
	} else if (strcmp(argv[0], "add") == 0 && argc >= 3) {
		db = open_db();
		for (i = 2; i < argc && r == 0; i++)
			r = db_result(db, userdb_alias_add(db, argv[1],
			    argv[i]), NULL);
	} else if (strcmp(argv[0], "del") == 0 && (argc == 2 || argc == 3)) {
		db = open_db();
		r = db_result(db, userdb_alias_del(db, argv[1],
		    argc == 3 ? argv[2] : NULL), NULL);
	} else
		return die_usage("alias: add ADDRESS TARGET... | "
		    "del ADDRESS [TARGET] | list");
	userdb_close(&db);
	return r;
}

static const char *
fmt_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0)
		return "-";
	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static const char *
state_name(char st)
{
	switch (st) {
	case RCPT_PENDING:	return "pending";
	case RCPT_DELIVERED:	return "delivered";
	case RCPT_FAILED:	return "failed";
	case RCPT_BOUNCED:	return "bounced";
	}
	return "?";
}

static int
cmd_queue_list(void)
{
	char msgdir[PATH_MAX], tmpdir[PATH_MAX], path[PATH_MAX], t1[32], t2[32];
	struct spool_env env;
	struct dirent *de;
	size_t i, n = 0;
	DIR *d;

	spool_dirs(conf->server.data_dir, msgdir, tmpdir, sizeof(msgdir));
	if ((d = opendir(msgdir)) == NULL) {
		fprintf(stderr, "mailctl: %s: %s\n", msgdir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!spool_id_valid(de->d_name))
			continue;
		/* Free slots and those being written hold no message. */
		if (spool_path(path, sizeof(path), conf->server.data_dir,
		    de->d_name) == -1 || spool_load(path, &env, NULL) == -1) {
			if (errno != ENOENT && errno != ENOMSG &&
			    errno != EBUSY)
				printf("queue file %s  (unreadable: %s)\n",
				    de->d_name, strerror(errno));
			continue;
		}
		printf("%s  %lld octets  %s  from <%s>\n", env.id,
		    (long long)env.body_len, fmt_time(env.arrival, t1,
		    sizeof(t1)), env.sender);
		for (i = 0; i < env.nrcpts; i++) {
			struct spool_rcpt *r = &env.rcpts[i];

			printf("    to <%s>", r->addr);
			if (strcmp(r->addr, r->orcpt) != 0)
				printf(" (for <%s>)", r->orcpt);
			printf(": %s", state_name(r->state));
			if (r->attempts > 0)
				printf(", %d attempt(s), last %s", r->attempts,
				    fmt_time(r->last_attempt, t1, sizeof(t1)));
			if (r->state == RCPT_PENDING && r->next_attempt > 0)
				printf(", next %s", fmt_time(r->next_attempt,
				    t2, sizeof(t2)));
			if (r->text != NULL)
				printf(": %s", r->text);
			printf("\n");
		}
		spool_env_free(&env);
		n++;
	}
	closedir(d);
	printf("%zu message(s) in the queue\n", n);
	return 0;
}

/* Does the slot queue/msg/<name> hold message id?  Its path in path. */
static int
queue_slot_holds(const char *name, const char *id, char *path, size_t size)
{
	struct spool_env env;
	int found;

	if (!spool_id_valid(name) || spool_path(path, size,
	    conf->server.data_dir, name) == -1 ||
	    spool_load(path, &env, NULL) == -1)
		return 0;
	found = strcmp(env.id, id) == 0;
	spool_env_free(&env);
	return found;
}

/* The slot of queue/msg/ that holds message id: its path and name; 0,
 * or -1 if no slot does.  A slot's name is the id of its first message,
 * so that one is looked at first. */
static int
queue_find(const char *id, char *path, size_t size, char *name)
{
	char msgdir[PATH_MAX], tmpdir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int found;

	if ((found = queue_slot_holds(id, id, path, size)))
		util_strcpy(name, id, SPOOL_ID_LEN + 1);
	else if (spool_dirs(conf->server.data_dir, msgdir, tmpdir,
	    sizeof(msgdir)) == 0 && (d = opendir(msgdir)) != NULL) {
		while (!found && (de = readdir(d)) != NULL)
			if ((found = queue_slot_holds(de->d_name, id, path,
			    size)))
				util_strcpy(name, de->d_name, SPOOL_ID_LEN + 1);
		closedir(d);
	}
	return found ? 0 : -1;
}

/* A command for the queue runner's control socket. */
static int
queue_control(const char *cmd)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	layout_path(sun.sun_path, sizeof(sun.sun_path), conf->server.data_dir,
	    LAYOUT_QUEUE_CONTROL);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    sendto(fd, cmd, strlen(cmd), 0, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		fprintf(stderr, "mailctl: cannot reach the queue runner at "
		    "%s: %s (is maild running?)\n", sun.sun_path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * queue delete|bounce ID: the runner does it (it knows which deliveries
 * are under way); we wait, bounded, to report what became of it.
 */
static int
cmd_queue_admin(const char *what, const char *id)
{
	char path[PATH_MAX], cmd[64], name[SPOOL_ID_LEN + 1];
	struct spool_env env;
	int i, done = 0;
	size_t r;

	if (!spool_id_valid(id)) {
		fprintf(stderr, "mailctl: %s: not a queue id\n", id);
		return 1;
	}
	if (queue_find(id, path, sizeof(path), name) == -1) {
		fprintf(stderr, "mailctl: %s: no such message in the queue\n",
		    id);
		return 1;
	}
	/* The runner knows messages by their file. */
	snprintf(cmd, sizeof(cmd), "%s %s", what, name);
	if (queue_control(cmd) == -1)
		return 1;
	for (i = 0; i < 100 && !done; i++) {		/* 10 seconds */
		if (spool_load(path, &env, NULL) == -1) {
			done = errno == ENOENT || errno == ENOMSG;
			break;
		}
		/* Done: no recipient pending, or the slot holds the next
		 * message already. */
		for (r = 0; r < env.nrcpts &&
		    env.rcpts[r].state != RCPT_PENDING; r++)
			;
		done = r == env.nrcpts || strcmp(env.id, id) != 0;
		spool_env_free(&env);
		if (!done)
			usleep(100000);
	}
	if (strcmp(what, "delete") == 0)
		printf(done ? "%s deleted\n" : "%s: deletion requested (a "
		    "delivery under way finishes first)\n", id);
	else
		printf(done ? "%s returned to its sender\n" : "%s: bounce "
		    "requested (a delivery under way finishes first)\n", id);
	return 0;
}

static int
cmd_queue(int argc, char **argv)
{
	const char *err;

	if (argc < 1)
		return die_usage("queue: list | flush | delete ID | bounce ID");
	if (privsep_drop(conf->server.user, &err) == -1) {
		fprintf(stderr, "mailctl: cannot drop privileges: %s\n", err);
		return 1;
	}
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return cmd_queue_list();
	if (strcmp(argv[0], "flush") == 0 && argc == 1) {
		if (queue_control("flush") == -1)
			return 1;
		printf("queue flush requested\n");
		return 0;
	}
	if ((strcmp(argv[0], "delete") == 0 ||
	    strcmp(argv[0], "bounce") == 0) && argc == 2)
		return cmd_queue_admin(argv[0], argv[1]);
	return die_usage("queue: list | flush | delete ID | bounce ID");
}

static int
cmd_config(int argc, char **argv)
{
	if (argc != 1)
		return die_usage("config: check | dump | describe");
	if (strcmp(argv[0], "check") == 0) {
		printf("configuration OK\n");
		return 0;
	}
	if (strcmp(argv[0], "dump") == 0) {
		conf_dump(conf, stdout);
		return 0;
	}
	if (strcmp(argv[0], "describe") == 0) {
		conf_describe(stdout);
		return 0;
	}
	return die_usage("config: check | dump | describe");
}

/* The verdict smtpd would reach, through the same code and resolver. */
static int
cmd_spf(int argc, char **argv)
{
	struct spf_result r;
	struct dns *dns;
	struct spf *spf;
	char err[256];

	struct in6_addr a6;
	struct in_addr a4;

	if (argc != 4 || strcmp(argv[0], "check") != 0)
		return die_usage("spf: check CLIENT-IP MAIL-FROM HELO");
	if (inet_pton(AF_INET, argv[1], &a4) != 1 &&
	    inet_pton(AF_INET6, argv[1], &a6) != 1) {
		fprintf(stderr, "mailctl: %s: not an IPv4 or IPv6 address\n",
		    argv[1]);
		return 1;
	}
	if ((dns = conf_dns_open(conf, err, sizeof(err))) == NULL ||
	    (spf = spf_new(dns, conf->server.hostname, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "mailctl: %s\n", err);
		dns_close(&dns);
		return 1;
	}
	spf_check(spf, argv[1], argv[3], argv[2], &r);
	printf("result: %s\n", spf_verdict_str(r.verdict));
	if (r.explanation[0] != '\0')
		printf("explanation: %s\n", r.explanation);
	printf("header: Received-SPF: %s\n", r.received_spf);
	printf("header: Authentication-Results: %s; %s\n",
	    conf->server.hostname, r.auth_results);
	spf_free(&spf);
	dns_close(&dns);
	return 0;
}

int
main(int argc, char **argv)
{
	struct prog_args args;
	int first;

	conf = prog_init(argc, argv, "mailctl", &args, &first);
	/* Administrative output goes to the terminal, not to a log. */
	log_set_level(LOG_LVL_WARN);
	if (args.nfds != 0 || first >= argc)
		usage();
	argc -= first;
	argv += first;
	if (strcmp(argv[0], "domain") == 0)
		return cmd_domain(argc - 1, argv + 1);
	if (strcmp(argv[0], "user") == 0)
		return cmd_user(argc - 1, argv + 1);
	if (strcmp(argv[0], "alias") == 0)
		return cmd_alias(argc - 1, argv + 1);
	if (strcmp(argv[0], "acl") == 0) {
		int r = mailctl_acl(conf, argc - 1, argv + 1);

		return r != -1 ? r : die_usage("acl list OWNER [FOLDER] | "
		    "set OWNER FOLDER GRANTEE RIGHTS | "
		    "del OWNER FOLDER GRANTEE");
	}
	if (strcmp(argv[0], "queue") == 0)
		return cmd_queue(argc - 1, argv + 1);
	if (strcmp(argv[0], "auth") == 0)
		return cmd_auth(argc - 1, argv + 1);
	if (strcmp(argv[0], "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(argv[0], "spf") == 0)
		return cmd_spf(argc - 1, argv + 1);
	usage();
	return 2;
}
