/*
 * spool: the queue file, the single source of truth for a message.
 *
 * <data_dir>/queue/msg/<name>: a slot (spool_slot.c) that holds one
 * message at a time, whose queue id is its "id" line; its name is the id
 * of the first message written into it.  smtpd writes a message into a
 * slot maild hands it (locked while written); the queue writes bounces
 * through queue/tmp/ and renames them in, new slots.  Layout:
 *
 *	MAILD-SPOOL 1			header: text, one item per line
 *	id 18b3a0c4e5f6a1b2c3
 *	arrival 1795425600
 *	arrival_usec 250341		(since stop 20: orders one second's)
 *	sender alice@example.org	(empty for the null sender <>)
 *	client 192.0.2.7
 *	helo mx.example.org
 *	protocol ESMTPS
 *	body 8bitmime
 *	auth alice@example.org		(only for authenticated submission)
 *	rcpt<TAB>final<TAB>original	one per recipient, index 0, 1, ...
 *	length 0000000004242		message octets, fixed width
 *	check 5d1a3f07			CRC-32 (since stop 22), see below
 *	<empty line>
 *	<message, LF line ends>		exactly "length" octets, no CR, no NUL
 *	status 0 D 1 0 1795425601 delivered to maildir	journal, appended
 *	warned 1795440000		a "delayed" DSN went to the sender
 *
 * The header and message never change once committed.  What happens to
 * each recipient is appended as "status <index> <state> <attempts>
 * <next-attempt> <time> <text>" lines, each with one write(2) and
 * fdatasync(2); the last line for an index wins.  An append interrupted
 * by a crash leaves a line without its LF, which the loader ignores and
 * cuts off.  Recipients without a status line are pending, never tried.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>


#define SPOOL_MAGIC		"MAILD-SPOOL 1"
/* A slot whose message is gone (spool_slot.c): the same length. */
#define SPOOL_FREE_MAGIC	"MAILD-FREED 1"
#define SPOOL_ID_LEN		18	/* 13 hex digits of µs time + 5 random */
#define SPOOL_MAX_LINE		4096
#define SPOOL_MAX_RCPTS		100000

enum spool_state {
	RCPT_PENDING = 'P',	/* to be tried (again) at next_attempt */
	RCPT_DELIVERED = 'D',	/* done */
	RCPT_FAILED = 'F',	/* permanent failure: a bounce is owed */
	RCPT_BOUNCED = 'B',	/* failed, and the bounce is queued (or
				   none was due: null sender) */
};

struct spool_rcpt {
	char		*addr;		/* final recipient */
	char		*orcpt;		/* as given in RCPT TO: */
	char		 state;
	int		 attempts;
	time_t		 next_attempt;
	time_t		 last_attempt;
	char		*text;		/* last result, for logs and bounces */
};

struct spool_env {
	char		 id[SPOOL_ID_LEN + 1];
	time_t		 arrival;
	long		 arrival_usec;	/* within it; -1: not recorded (older
					   writers) */
	char		*sender;	/* "" for <> */
	char		*client;
	char		*helo;
	char		*protocol;
	char		*body;		/* "7bit" or "8bitmime" */
	char		*auth;		/* NULL unless authenticated */
	struct spool_rcpt *rcpts;
	size_t		 nrcpts;
	time_t		 warned;	/* delay DSN sent at (0: not yet) */
	off_t		 body_off;	/* where the message starts */
	off_t		 body_len;
	off_t		 length_at;	/* offset of length's digits */
	off_t		 check_at;	/* of check's digits; 0: none (a file
					   written before checks) */
	uint32_t	 check;
};

void	spool_env_free(struct spool_env *env);
/* Add a recipient to an envelope being built. */
void	spool_env_add_rcpt(struct spool_env *env, const char *addr,
	    const char *orcpt);

/* env's arrival: now, to the microsecond. */
void	spool_env_arrive(struct spool_env *env);
/* A queue id: sortable by arrival time, unique (random tail). */
void	spool_id_new(char buf[SPOOL_ID_LEN + 1]);
/* Is s a well-formed queue id (so it is safe in a path)? */
int	spool_id_valid(const char *s);
/*
 * The committed spool file of a queue id: <data_dir>/queue/msg/<id>.
 * 0, or -1 (EINVAL: not a queue id; ENAMETOOLONG).
 */
int	spool_path(char *buf, size_t size, const char *data_dir,
	    const char *id);
/* Paths of the spool directories under data_dir. */
int	spool_dirs(const char *data_dir, char *msgdir, char *tmpdir,
	    size_t size);

struct spool_writer {
	int		 fd;
	off_t		 length_off;	/* where "length" is patched */
	off_t		 body_off;
	uint32_t	 crc;		/* of the octets before buf + crc_len */
	size_t		 crc_len;	/* of buf already in crc */
	off_t		 written;	/* message octets so far */
	int		 cr;		/* the last octet given was a CR */
	size_t		 buflen;
	off_t		 flushed;	/* octets written before buf */
	int		 error;		/* errno of the first failure */
	/* Not cleared for each message (80 KB): */
	char		 tmppath[4096];
	char		 path[4096];
	char		 msgdir[4096];
	char		 buf[65536];
};

/*
 * Start a spool file for env (env->id is filled in here) in tmp/.
 * 0, or -1 with errno.
 */
int	spool_create(struct spool_writer *w, const char *data_dir,
	    struct spool_env *env);
/*
 * The same in a file made by someone else (maild, for a session process
 * that cannot open the spool): fd is a slot of queue/msg/, locked, for
 * the message id.  Finish with pool_spool_commit().
 */
int	spool_start(struct spool_writer *w, int fd, const char *id,
	    struct spool_env *env);
/*
 * Append message octets (buffered). 0 or -1.  Lines end in LF, and only
 * there: CR LF and a CR alone become LF, NUL octets are dropped.  RFC
 * 5322 §2.3 allows CR and LF only together, and RFC 6152 no NUL; a
 * receiver that ends lines at a bare CR, or drops NUL, would otherwise
 * read a smuggled "CR LF . CR LF" in what every output path (SMTP
 * client, bounce, Maildir, POP3, IMAP) writes with CRLF and stuffed dots.
 */
int	spool_write(struct spool_writer *w, const void *data, size_t len);
/*
 * Flush, record the length, fsync the file, rename it into msg/ and fsync
 * the directory: when this returns 0 the message survives a crash, and
 * "250" may be said (RFC 5321 §6.1).  -1 with errno otherwise (the
 * temporary file is removed).
 */
int	spool_commit(struct spool_writer *w);
/* Flush, record the length, fsync and close: all of spool_commit() but
 * the rename.  0, or -1 with errno. */
int	spool_finish(struct spool_writer *w);
/* spool_finish() in two steps (pool_spool_commit()): everything written
 * out and the length recorded (0, or -1 with errno and the writer
 * aborted); then fsync and close (0, or -1 with errno; closed either
 * way). */
int	spool_seal(struct spool_writer *w);
int	spool_sync_close(struct spool_writer *w);
/* Give up on a message being written; removes the temporary file. */
void	spool_abort(struct spool_writer *w);
/*
 * Slots (spool_slot.c): a spool file keeps its name in queue/msg/ for
 * many messages in turn; a free one also has a name in queue/free/.
 *
 * What the open file fd (readable) holds: a message, nothing yet (being
 * written, or abandoned unsealed), nothing any more; -1 with errno.
 */
enum { SLOT_MESSAGE = 1, SLOT_EMPTY, SLOT_FREE };
/* A slot's two names: msg/<name> and free/<name>.  0, or -1 (EINVAL,
 * ENAMETOOLONG). */
int	spool_slot_paths(const char *data_dir, const char *name, char *msg,
	    char *freep, size_t size);
int	spool_slot_holds(int fd);
/* Write SPOOL_FREE_MAGIC over the first line of fd (writable).  0/-1. */
int	spool_slot_mark_free(int fd);
/*
 * Free the slot msg/<name>: mark it (unless it is already) and name it
 * in free/, or remove it if it is too big to keep.  retire: its message
 * is done (a slot somebody still holds is then removed, never reused);
 * else only a slot that holds no message is freed (-1 EBUSY if somebody
 * holds it: try later).  0, or -1 with errno.
 */
int	spool_slot_free(const char *data_dir, const char *name, int retire);
/* A delivery process's end of a done message (fd, the slot msg/<name>,
 * writable): marked free, or removed if too big to keep.  0/-1. */
int	spool_slot_done(int fd, const char *data_dir, const char *name);
/* Name msg/<name> in free/ (after spool_slot_done(); a removed slot is
 * not an error).  0/-1. */
int	spool_slot_link_free(const char *data_dir, const char *name);
/* Remove a free slot, both names (too many kept); a name in free/ whose
 * slot holds a message (a crash undid its take) goes alone.  0, or -1
 * (EBUSY: held). */
int	spool_slot_discard(const char *data_dir, const char *name);
/*
 * A committed spool file whose check failed (spool_verify()) goes into
 * queue/corrupt/, out of the queue, for the administrator to look at.
 * 0, or -1 with errno.
 */
int	spool_quarantine(const char *data_dir, const char *id);
/*
 * Remove what writers that died left in queue/tmp/ (a session killed
 * during DATA): a file being written is locked (flock) by its writer
 * until commit or abort, so a file at least min_age seconds old that
 * nobody holds is junk.  removed(path) is told of each.  Returns how
 * many, or -1.
 */
int	spool_tmp_clean(const char *data_dir, time_t min_age,
	    void (*removed)(const char *path));

/*
 * Read a spool file's header and journal (not the message).  Returns 0
 * and the open file (O_RDWR, for appending and reading the message) in
 * *fd_r if fd_r is not NULL; -1 with errno (ENOENT: gone; EINVAL: not a
 * valid spool file; ENOMSG: a slot that holds no message; EBUSY: a
 * writer holds it).
 */
int	spool_load(const char *path, struct spool_env *env, int *fd_r);
/*
 * Append a journal line for recipient idx and apply it to env.
 * sync: fdatasync afterwards (always, unless a later append will).
 */
int	spool_journal(int fd, struct spool_env *env, size_t idx, char state,
	    time_t next_attempt, const char *text, int sync);
/* Record that the sender was told of a delay (a "warned" line). */
int	spool_journal_warned(int fd, struct spool_env *env, time_t when);
/* Is every recipient in a final state (delivered or bounced)? */
int	spool_all_final(const struct spool_env *env);
/*
 * Does the file hold what its writer wrote (see "check" above)?  1 yes
 * (also for a file without a check), 0 no, -1 with errno when it cannot
 * be read.
 */
int	spool_verify(int fd, const struct spool_env *env);
/* Read the message into a caller-supplied function, in chunks. */
int	spool_read_body(int fd, const struct spool_env *env,
	    int (*cb)(const char *data, size_t len, void *arg), void *arg);

#endif
