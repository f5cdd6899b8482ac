#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "spool.h"
#include "../t/tap.h"

static char dir[64], path[256];

static int
collect(const char *d, size_t n, void *arg)
{
	strncat(arg, d, n);
	return 0;
}

static int
load_text(const char *text, struct spool_env *env)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	return spool_load(path, env, NULL);
}

/* Change one octet at off (twice: as it was). */
static int
flip(int fd, off_t off)
{
	char c;

	if (pread(fd, &c, 1, off) != 1)
		return -1;
	c ^= 0x20;
	return (int)pwrite(fd, &c, 1, off);
}

int
main(void)
{
	struct spool_writer w;
	struct spool_env env, got;
	char body[256] = "", msgpath[512];
	struct stat st;
	int fd;

	log_init("test-spool", LOG_LVL_ERR, 0);
	snprintf(dir, sizeof(dir), "/tmp/test-spool.%ld", (long)getpid());
	snprintf(path, sizeof(path), "%s/x", dir);
	mkdir(dir, 0700);
	util_mkdir_p(strcat(strcpy(msgpath, dir), "/queue/msg"), 0700);
	util_mkdir_p(strcat(strcpy(msgpath, dir), "/queue/tmp"), 0700);

	memset(&env, 0, sizeof(env));
	env.arrival = 1700000000;
	env.arrival_usec = 250341;
	env.sender = util_strdup("alice@example.org");
	env.client = util_strdup("192.0.2.1");
	env.helo = util_strdup("mx\r\nforged: header");	/* must stay on its line */
	spool_env_add_rcpt(&env, "bob@example.test", "Bob@Example.test");
	spool_env_add_rcpt(&env, "carol@remote.test", NULL);
	ok(spool_create(&w, dir, &env) == 0, "create in tmp/");
	spool_write(&w, "Subject: x\n\n", 12);
	spool_write(&w, "hello\n", 6);
	ok(spool_commit(&w) == 0, "commit: fsync, rename into msg/");
	snprintf(msgpath, sizeof(msgpath), "%s/queue/msg/%s", dir, env.id);
	ok(stat(msgpath, &st) == 0, "file is in msg/ under its queue id");

	ok(spool_load(msgpath, &got, &fd) == 0, "load");
	ok(strcmp(got.id, env.id) == 0 && got.arrival == 1700000000 &&
	    got.arrival_usec == 250341 &&
	    strcmp(got.sender, "alice@example.org") == 0 && got.nrcpts == 2 &&
	    strcmp(got.rcpts[0].orcpt, "Bob@Example.test") == 0 &&
	    strcmp(got.rcpts[1].orcpt, "carol@remote.test") == 0 &&
	    got.body_len == 18, "envelope round trip");
	ok(strchr(got.helo, '\n') == NULL && strstr(got.helo, "\\x0d\\x0a"),
	    "CR LF in a header value are escaped: %s", got.helo);
	ok(spool_read_body(fd, &got, collect, body) == 0 &&
	    strcmp(body, "Subject: x\n\nhello\n") == 0, "message bytes");
	ok(got.check_at != 0 && spool_verify(fd, &got) == 1,
	    "its check holds");
	ok(flip(fd, got.body_off) == 1 && spool_verify(fd, &got) == 0 &&
	    flip(fd, got.body_off) == 1 && spool_verify(fd, &got) == 1,
	    "one octet of the message changed: it fails");
	ok(flip(fd, 20) == 1 && spool_verify(fd, &got) == 0 &&
	    flip(fd, 20) == 1, "one of the header: it fails too");
	ok(got.rcpts[0].state == RCPT_PENDING && !spool_all_final(&got),
	    "recipients start pending");
	ok(spool_journal(fd, &got, 0, RCPT_DELIVERED, 0, "2.0.0 done", 1) == 0,
	    "journal: recipient 0 delivered");
	ok(spool_journal(fd, &got, 1, RCPT_PENDING, 1700000600,
	    "4.4.1 no answer\nfrom host", 1) == 0, "journal: recipient 1 deferred");
	close(fd);
	spool_env_free(&got);

	/* bare CR and NUL, given in chunks that split CR from LF */
	{
		static const struct { const char *p; size_t n; } chunks[] = {
			{ "a\r", 2 }, { "\nb\r", 3 }, { ".\r", 2 },
			{ "\r\n\0", 3 }, { ".\0\n", 3 }, { "c\r", 2 } };
		struct spool_env env2;
		char path2[512], got2[256] = "";
		size_t i;
		int fd2;

		memset(&env2, 0, sizeof(env2));
		env2.sender = util_strdup("");
		spool_env_add_rcpt(&env2, "bob@example.test", NULL);
		ok(spool_create(&w, dir, &env2) == 0, "create (CR, NUL)");
		for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
			spool_write(&w, chunks[i].p, chunks[i].n);
		ok(spool_commit(&w) == 0, "commit (CR, NUL)");
		snprintf(path2, sizeof(path2), "%s/queue/msg/%s", dir,
		    env2.id);
		spool_env_free(&env2);
		ok(spool_load(path2, &env2, &fd2) == 0 &&
		    spool_read_body(fd2, &env2, collect, got2) == 0 &&
		    strcmp(got2, "a\nb\n.\n\n.\nc\n") == 0 &&
		    env2.body_len == (off_t)strlen(got2),
		    "CR LF and a lone CR are stored as LF, NUL dropped, across "
		    "chunks: \"%s\"", got2);
		close(fd2);
		spool_env_free(&env2);
	}

	/* a crash tore the last journal line */
	fd = open(msgpath, O_WRONLY | O_APPEND);
	ok(write(fd, "status 1 D 2 0 17000", 20) == 20, "append a torn line");
	close(fd);
	ok(spool_load(msgpath, &got, &fd) == 0, "load after the tear");
	ok(got.rcpts[0].state == RCPT_DELIVERED &&
	    got.rcpts[1].state == RCPT_PENDING && got.rcpts[1].attempts == 1 &&
	    got.rcpts[1].next_attempt == 1700000600,
	    "last complete line per recipient wins; the torn one is ignored");
	ok(strchr(got.rcpts[1].text, '\n') == NULL, "journal text escaped");
	ok(spool_journal(fd, &got, 1, RCPT_DELIVERED, 0, "2.0.0 ok", 1) == 0 &&
	    spool_all_final(&got), "after the tear, appends continue cleanly");
	close(fd);
	spool_env_free(&got);
	ok(spool_load(msgpath, &got, &fd) == 0 &&
	    got.rcpts[1].state == RCPT_DELIVERED && got.rcpts[1].attempts == 2,
	    "the torn line was cut off, the new one read");
	ok(got.warned == 0, "no delay warning yet");
	ok(spool_journal_warned(fd, &got, 1700003600) == 0 &&
	    got.warned == 1700003600, "journal: a delay warning");
	close(fd);
	spool_env_free(&got);
	ok(spool_load(msgpath, &got, NULL) == 0 && got.warned == 1700003600 &&
	    got.rcpts[1].state == RCPT_DELIVERED,
	    "the warning is read back, the recipients are untouched");
	spool_env_free(&got);
	fd = open(msgpath, O_WRONLY | O_APPEND);
	ok(write(fd, "warned -5\nwarned x\n", 20) == 20,
	    "append malformed warning lines");
	close(fd);
	ok(spool_load(msgpath, &got, NULL) == 0 && got.warned == 1700003600,
	    "malformed warning lines are ignored");
	spool_env_free(&got);

	/* hostile or broken files (two of these were found by fuzzing) */
	ok(load_text("MAILD-SPOOL 1\nid 0123456789abc01234\narrival 1\n"
	    "sender a@b\nsender c@d\nrcpt\ta@b.c\ta@b.c\n"
	    "length 0000000000002\n\nx\n", &got) == 0 &&
	    strcmp(got.sender, "c@d") == 0, "a repeated item replaces (no leak)");
	spool_env_free(&got);

	/* slots that hold no message (spool_slot.c) */
	ok(load_text("", &got) == -1 && errno == ENOMSG,
	    "an empty file (a slot just made) holds no message");
	ok(load_text(SPOOL_FREE_MAGIC "\nid 0123456789abc01234\narrival 1\n"
	    "sender a@b\nrcpt\ta@b.c\ta@b.c\nlength 0000000000002\n\nx\n",
	    &got) == -1 && errno == ENOMSG,
	    "a slot marked free holds no message, whatever follows");
	ok(load_text("MAILD-SPOOL 1\nid 0123456789abc01234\narrival 1\n"
	    "sender a@b\nrcpt\ta@b.c\ta@b.c\nlength 0000000000000\n"
	    "check 00000000\n\nhalf of it", &got) == -1 && errno == ENOMSG,
	    "one never sealed (length all zeros) holds no message");
	fd = open(path, O_RDWR);
	ok(fd != -1 && flock(fd, LOCK_EX) == 0 &&
	    spool_load(path, &got, NULL) == -1 && errno == EBUSY,
	    "one its writer holds (locked) is left alone: EBUSY");
	close(fd);
	fd = open(path, O_RDWR);
	ok(fd != -1 && spool_slot_holds(fd) == SLOT_EMPTY &&
	    spool_slot_mark_free(fd) == 0 && spool_slot_holds(fd) == SLOT_FREE,
	    "spool_slot_holds(): unsealed, then marked free");
	close(fd);
	load_text("MAILD-SPOOL 1\nid 0123456789abc01234\narrival 1\n"
	    "sender a@b\nrcpt\ta@b.c\ta@b.c\nlength 0000000000002\n\nx\n",
	    &got);
	fd = open(path, O_RDONLY);
	ok(fd != -1 && spool_slot_holds(fd) == SLOT_MESSAGE,
	    "spool_slot_holds(): a sealed message");
	close(fd);
	spool_env_free(&got);
	errno = 0;
	ok(load_text("MAILD-SPOOL 1\nid 0123456789abc01234\nsender a@b\n"
	    "rcpt\ta@b.c\ta@b.c\nlength 9223372036854775807\n\n", &got) == -1 &&
	    errno == EINVAL, "a length that is not 13 digits is refused");
	ok(load_text("MAILD-SPOOL 1\nid 0123456789abc01234\nsender a@b\n"
	    "rcpt\ta@b.c\ta@b.c\nlength 9999999999999\n\nshort", &got) == -1,
	    "a length past the end of the file is refused");
	ok(load_text("MAILD-SPOOL 1\nid ../../etc/passwd\nsender a@b\n"
	    "rcpt\ta@b.c\ta@b.c\nlength 0000000000000\n\n", &got) == -1,
	    "a malformed queue id is refused");
	ok(load_text("MAILD-SPOOL 2\n", &got) == -1, "unknown format version");
	ok(load_text("MAILD-SPOOL 1\nid 0123456789abc01234\nsender a@b\n"
	    "length 0000000000000\n\n", &got) == -1, "no recipients");

	spool_env_free(&env);
	tap_remove_tree(dir);
	return done_testing();
}
