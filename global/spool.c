#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "layout.h"
#include "spool.h"

#define LENGTH_DIGITS	13
#define CHECK_DIGITS	8

void
spool_env_free(struct spool_env *env)
{
	size_t i;

	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].orcpt);
		free(env->rcpts[i].text);
	}
	free(env->rcpts);
	free(env->sender);
	free(env->client);
	free(env->helo);
	free(env->protocol);
	free(env->body);
	free(env->auth);
	memset(env, 0, sizeof(*env));
}

void
spool_env_add_rcpt(struct spool_env *env, const char *addr, const char *orcpt)
{
	struct spool_rcpt *r;

	if ((env->rcpts = realloc(env->rcpts, (env->nrcpts + 1) *
	    sizeof(*env->rcpts))) == NULL)
		fatal("realloc");
	r = &env->rcpts[env->nrcpts++];
	memset(r, 0, sizeof(*r));
	r->addr = util_strdup(addr);
	r->orcpt = util_strdup(orcpt != NULL ? orcpt : addr);
	r->state = RCPT_PENDING;
}

void
spool_id_new(char buf[SPOOL_ID_LEN + 1])
{
	snprintf(buf, SPOOL_ID_LEN + 1, "%013llx%05x",
	    (unsigned long long)util_now_usec(), util_random() & 0xfffff);
}

int
spool_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == SPOOL_ID_LEN;
}

int
spool_path(char *buf, size_t size, const char *data_dir, const char *id)
{
	char dir[4096];

	if (!spool_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (layout_path(dir, sizeof(dir), data_dir, LAYOUT_QUEUE_MSG) == -1)
		return -1;
	return layout_path(buf, size, dir, id);
}

int
spool_dirs(const char *data_dir, char *msgdir, char *tmpdir, size_t size)
{
	if (layout_path(msgdir, size, data_dir, LAYOUT_QUEUE_MSG) == -1 ||
	    layout_path(tmpdir, size, data_dir, LAYOUT_QUEUE_TMP) == -1)
		return -1;
	return 0;
}

/* The buffer's octets not yet in the check. */
static void
spool_crc_buf(struct spool_writer *w)
{
	w->crc = (uint32_t)crc32(w->crc, (const Bytef *)w->buf + w->crc_len,
	    (uInt)(w->buflen - w->crc_len));
	w->crc_len = w->buflen;
}

static int
spool_flush(struct spool_writer *w)
{
	if (w->error)
		return -1;
	spool_crc_buf(w);
	w->crc_len = 0;
	if (w->buflen > 0 && util_write_all(w->fd, w->buf, w->buflen) == -1) {
		w->error = errno;
		return -1;
	}
	w->flushed += (off_t)w->buflen;
	w->buflen = 0;
	return 0;
}

static int
spool_put(struct spool_writer *w, const void *data, size_t len)
{
	if (w->error)
		return -1;
	if (len > sizeof(w->buf) - w->buflen) {
		if (spool_flush(w) == -1)
			return -1;
		if (len > sizeof(w->buf)) {
			w->crc = (uint32_t)crc32(w->crc, data, (uInt)len);
			if (util_write_all(w->fd, data, len) == -1) {
				w->error = errno;
				return -1;
			}
			w->flushed += (off_t)len;
			return 0;
		}
	}
	memcpy(w->buf + w->buflen, data, len);
	w->buflen += len;
	return 0;
}

/* Header values must stay on their line: anything odd is escaped. */
static int
spool_put_item(struct spool_writer *w, const char *key, const char *value)
{
	char esc[1100], line[1200];
	int n;

	log_escape(esc, sizeof(esc), value, strlen(value));
	n = snprintf(line, sizeof(line), "%s %s\n", key, esc);
	return spool_put(w, line, (size_t)n);
}

static int	spool_header(struct spool_writer *, struct spool_env *);

/* Everything before the paths and the buffer: clearing those, 80 KB, for
 * each message was a twentieth of an SMTP session's CPU. */
static void
spool_writer_init(struct spool_writer *w, int fd)
{
	memset(w, 0, offsetof(struct spool_writer, tmppath));
	w->fd = fd;
	w->tmppath[0] = w->path[0] = w->msgdir[0] = '\0';
}

int
spool_create(struct spool_writer *w, const char *data_dir,
    struct spool_env *env)
{
	char tmpdir[4096];
	int tries;

	spool_writer_init(w, -1);
	if (spool_dirs(data_dir, w->msgdir, tmpdir, sizeof(tmpdir)) == -1)
		return -1;
	for (tries = 0; tries < 10; tries++) {
		spool_id_new(env->id);
		if (layout_path(w->tmppath, sizeof(w->tmppath), tmpdir,
		    env->id) == -1 || spool_path(w->path, sizeof(w->path),
		    data_dir, env->id) == -1) {
			w->tmppath[0] = '\0';
			errno = ENAMETOOLONG;
			return -1;
		}
		/* The id must be new in msg/ as well as in tmp/. */
		if (access(w->path, F_OK) == 0)
			continue;
		w->fd = open(w->tmppath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (w->fd != -1 || errno != EEXIST)
			break;
	}
	if (w->fd == -1)
		return -1;
	/* Held until commit or abort: see spool_tmp_clean(). */
	if (flock(w->fd, LOCK_EX | LOCK_NB) == -1) {
		w->error = errno;
		spool_abort(w);
		errno = w->error;
		return -1;
	}
	return spool_header(w, env);
}

int
spool_start(struct spool_writer *w, int fd, const char *id,
    struct spool_env *env)
{
	spool_writer_init(w, fd);
	if (util_strcpy(env->id, id, sizeof(env->id)) == -1 ||
	    !spool_id_valid(id)) {
		close(fd);
		w->fd = -1;
		errno = EINVAL;
		return -1;
	}
	return spool_header(w, env);
}

/* The envelope, up to where the message begins. */
static int
spool_header(struct spool_writer *w, struct spool_env *env)
{
	char line[SPOOL_MAX_LINE];
	size_t i;
	int n;

	n = snprintf(line, sizeof(line), "%s\nid %s\narrival %lld\n",
	    SPOOL_MAGIC, env->id, (long long)env->arrival);
	spool_put(w, line, (size_t)n);
	if (env->arrival_usec >= 0) {
		n = snprintf(line, sizeof(line), "arrival_usec %06ld\n",
		    env->arrival_usec);
		spool_put(w, line, (size_t)n);
	}
	spool_put_item(w, "sender", env->sender ? env->sender : "");
	spool_put_item(w, "client", env->client ? env->client : "");
	spool_put_item(w, "helo", env->helo ? env->helo : "");
	spool_put_item(w, "protocol", env->protocol ? env->protocol : "SMTP");
	spool_put_item(w, "body", env->body ? env->body : "7bit");
	if (env->auth != NULL)
		spool_put_item(w, "auth", env->auth);
	for (i = 0; i < env->nrcpts; i++) {
		/* Addresses never hold TAB or LF (RFC 5321 §4.1.2). */
		n = snprintf(line, sizeof(line), "rcpt\t%s\t%s\n",
		    env->rcpts[i].addr, env->rcpts[i].orcpt);
		if (n < 0 || (size_t)n >= sizeof(line) ||
		    strpbrk(env->rcpts[i].addr, "\t\n") != NULL ||
		    strpbrk(env->rcpts[i].orcpt, "\t\n") != NULL) {
			w->error = EINVAL;
			break;
		}
		spool_put(w, line, (size_t)n);
	}
	/* Where "length" goes; patched in the buffer when the message
	 * fits in it (one write a message), else in the file. */
	w->length_off = w->flushed + (off_t)w->buflen;
	n = snprintf(line, sizeof(line), "length %0*d\ncheck %0*d\n\n",
	    LENGTH_DIGITS, 0, CHECK_DIGITS, 0);
	spool_put(w, line, (size_t)n);
	w->body_off = w->length_off + n;
	if (w->error) {
		errno = w->error;
		spool_abort(w);
		return -1;
	}
	return 0;
}

int
spool_write(struct spool_writer *w, const void *data, size_t len)
{
	const char *p = data, *end = p + len;
	size_t n;

	while (p < end) {
		if (w->cr) {		/* the CR before this octet ended a line */
			w->cr = 0;
			if (spool_put(w, "\n", 1) == -1)
				return -1;
			w->written++;
			if (*p == '\n') {
				p++;
				continue;
			}
		}
		for (n = 0; p + n < end && p[n] != '\r' && p[n] != '\0'; n++)
			;
		if (n > 0 && spool_put(w, p, n) == -1)
			return -1;
		w->written += (off_t)n;
		p += n;
		if (p < end) {
			w->cr = *p == '\r';
			p++;
		}
	}
	return 0;
}

int
spool_seal(struct spool_writer *w)
{
	char line[64];
	struct stat st;
	off_t end;
	int n;

	if (w->cr) {			/* the message ended in a CR */
		w->cr = 0;
		w->written++;
		if (spool_put(w, "\n", 1) == -1)
			goto fail;
	}
	spool_crc_buf(w);	/* the check covers the zeros */
	n = snprintf(line, sizeof(line), "length %0*lld\ncheck %0*x",
	    LENGTH_DIGITS, (long long)w->written, CHECK_DIGITS,
	    (unsigned int)w->crc);
	if (w->length_off >= w->flushed) {
		memcpy(w->buf + (w->length_off - w->flushed), line, (size_t)n);
		if (spool_flush(w) == -1)
			goto fail;
	} else if (spool_flush(w) == -1 ||
	    pwrite(w->fd, line, (size_t)n, w->length_off) != n) {
		w->error = w->error ? w->error : errno;
		goto fail;
	}
	/* A reused file (spool_start()) may hold more than this message. */
	end = w->body_off + w->written;
	if (fstat(w->fd, &st) == -1 ||
	    (st.st_size > end && ftruncate(w->fd, end) == -1)) {
		w->error = errno;
		goto fail;
	}
	return 0;
fail:
	n = w->error;
	spool_abort(w);
	errno = n;
	return -1;
}

int
spool_sync_close(struct spool_writer *w)
{
	int e = 0;

	if (fsync(w->fd) == -1)
		e = errno;
	/* Unlocked before the close: the close is the queue runner's
	 * event (spool_slot.c), and the kernel tells it before it drops
	 * the lock of a file closed locked. */
	(void)flock(w->fd, LOCK_UN);
	if (close(w->fd) == -1 && e == 0)
		e = errno;
	w->fd = -1;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

int
spool_finish(struct spool_writer *w)
{
	int e;

	if (spool_seal(w) == -1)
		return -1;
	if (spool_sync_close(w) == -1) {
		e = errno;
		spool_abort(w);
		errno = e;
		return -1;
	}
	return 0;
}

int
spool_commit(struct spool_writer *w)
{
	int e;

	if (spool_finish(w) == -1)
		return -1;
	if (rename(w->tmppath, w->path) == -1 ||
	    util_fsync_dir(w->msgdir) == -1) {
		e = errno;
		spool_abort(w);
		errno = e;
		return -1;
	}
	return 0;
}

void
spool_abort(struct spool_writer *w)
{
	if (w->fd != -1) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->tmppath[0] != '\0')
		unlink(w->tmppath);
	w->tmppath[0] = '\0';
}

/* Apply one journal line ("status ..." without the LF). */
static int
spool_apply(struct spool_env *env, char *line)
{
	unsigned long idx;
	long long next, when;
	int attempts, off = 0;
	char state;

	if (sscanf(line, "warned %lld%n", &when, &off) == 1 &&
	    line[off] == '\0' && when > 0) {
		env->warned = (time_t)when;
		return 0;
	}
	off = 0;
	if (sscanf(line, "status %lu %c %d %lld %lld %n", &idx, &state,
	    &attempts, &next, &when, &off) < 5 || off == 0 ||
	    idx >= env->nrcpts || strchr("PDFB", state) == NULL)
		return -1;
	env->rcpts[idx].state = state;
	env->rcpts[idx].attempts = attempts;
	env->rcpts[idx].next_attempt = (time_t)next;
	env->rcpts[idx].last_attempt = (time_t)when;
	free(env->rcpts[idx].text);
	env->rcpts[idx].text = util_strdup(line + off);
	return 0;
}

/* A header item; a repeated one replaces the first (found by fuzzing). */
static void
spool_set(char **field, const char *value)
{
	free(*field);
	*field = util_strdup(value);
}

void
spool_env_arrive(struct spool_env *env)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	env->arrival = ts.tv_sec;
	env->arrival_usec = ts.tv_nsec / 1000;
}

/* Cut the file at pos: through fd if it is writable, else through a
 * descriptor of its own. */
static int
spool_cut(const char *path, int fd, int writable, off_t pos)
{
	int wfd, r;

	if (writable)
		return ftruncate(fd, pos);
	if ((wfd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	r = ftruncate(wfd, pos);
	close(wfd);
	return r;
}

int
spool_load(const char *path, struct spool_env *env, int *fd_r)
{
	char *line = NULL, *v;
	size_t cap = 0;
	ssize_t n;
	off_t pos = 0, end;
	FILE *fp = NULL;
	int fd, saved, header = 1;
	long long num;

	memset(env, 0, sizeof(*env));
	env->arrival_usec = -1;		/* unless the file says */
	/* Read-only unless the caller writes (a delivery's journal): the
	 * close of a file opened to write is the queue runner's event. */
	if ((fd = open(path, (fd_r != NULL ? O_RDWR : O_RDONLY) |
	    O_CLOEXEC)) == -1)
		return -1;
	/* A slot being written is its writer's (spool_slot.c). */
	if (flock(fd, LOCK_SH | LOCK_NB) == -1) {
		saved = errno == EWOULDBLOCK ? EBUSY : errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if ((fp = fdopen(dup(fd), "r")) == NULL)
		goto fail;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (n > SPOOL_MAX_LINE || line[n - 1] != '\n')
			goto bad;
		line[n - 1] = '\0';
		pos += n;
		if (pos == n) {
			if (strcmp(line, SPOOL_FREE_MAGIC) == 0)
				goto nomsg;
			if (strcmp(line, SPOOL_MAGIC) != 0)
				goto bad;
			continue;
		}
		if (line[0] == '\0') {		/* end of header */
			if (env->body_off == 0)
				goto bad;
			header = 0;
			break;
		}
		if (strncmp(line, "rcpt\t", 5) == 0) {
			char *orcpt = strchr(line + 5, '\t');

			if (orcpt == NULL || env->nrcpts >= SPOOL_MAX_RCPTS)
				goto bad;
			*orcpt++ = '\0';
			spool_env_add_rcpt(env, line + 5, orcpt);
			continue;
		}
		if ((v = strchr(line, ' ')) == NULL)
			goto bad;
		*v++ = '\0';
		if (strcmp(line, "id") == 0) {
			if (!spool_id_valid(v))
				goto bad;
			memcpy(env->id, v, SPOOL_ID_LEN + 1);
		} else if (strcmp(line, "arrival") == 0)
			env->arrival = (time_t)atoll(v);
		else if (strcmp(line, "arrival_usec") == 0) {
			num = strtoll(v, NULL, 10);
			env->arrival_usec = num >= 0 && num < 1000000 ?
			    (long)num : -1;
		}
		else if (strcmp(line, "sender") == 0)
			spool_set(&env->sender, v);
		else if (strcmp(line, "client") == 0)
			spool_set(&env->client, v);
		else if (strcmp(line, "helo") == 0)
			spool_set(&env->helo, v);
		else if (strcmp(line, "protocol") == 0)
			spool_set(&env->protocol, v);
		else if (strcmp(line, "body") == 0)
			spool_set(&env->body, v);
		else if (strcmp(line, "auth") == 0)
			spool_set(&env->auth, v);
		else if (strcmp(line, "length") == 0) {
			/* Exactly as written: LENGTH_DIGITS digits. */
			if (strlen(v) != LENGTH_DIGITS ||
			    strspn(v, "0123456789") != LENGTH_DIGITS)
				goto bad;
			num = strtoll(v, NULL, 10);
			env->body_len = (off_t)num;
			env->length_at = pos - n + (off_t)strlen("length ");
			env->body_off = pos + 1;	/* after the empty line */
		} else if (strcmp(line, "check") == 0) {
			/* Right after "length", exactly as written. */
			if (env->body_off != pos - n + 1 ||
			    strlen(v) != CHECK_DIGITS ||
			    strspn(v, "0123456789abcdef") != CHECK_DIGITS)
				goto bad;
			env->check = (uint32_t)strtoul(v, NULL, 16);
			env->check_at = pos - n + (off_t)strlen("check ");
			env->body_off = pos + 1;
		}
		/* Unknown items are ignored: newer writers may add some. */
	}
	if (pos == 0)
		goto nomsg;		/* a slot just made */
	/* Never sealed: every message has at least its Received: line. */
	if (!header && env->body_off != 0 && env->body_len == 0)
		goto nomsg;
	if (header || env->id[0] == '\0' || env->sender == NULL ||
	    env->nrcpts == 0)
		goto bad;

	/* The journal follows the message (compare without overflow). */
	if ((end = lseek(fd, 0, SEEK_END)) == -1 || env->body_off > end ||
	    env->body_len > end - env->body_off)
		goto bad;
	pos = env->body_off + env->body_len;
	if (fseeko(fp, pos, SEEK_SET) == -1)
		goto fail;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] != '\n')
			break;			/* torn by a crash */
		line[n - 1] = '\0';
		if (spool_apply(env, line) == -1)
			log_warn("%s: bad journal line ignored", path);
		pos += n;
	}
	if (pos != end && spool_cut(path, fd, fd_r != NULL, pos) == -1)
		log_warn("%s: cannot cut a torn journal line: %s", path,
		    strerror(errno));
	free(line);
	fclose(fp);
	if (fd_r != NULL)
		*fd_r = fd;
	else
		close(fd);
	return 0;
nomsg:
	errno = ENOMSG;
	goto fail;
bad:
	errno = EINVAL;
fail:
	saved = errno;
	free(line);
	if (fp != NULL)
		fclose(fp);
	close(fd);
	spool_env_free(env);
	errno = saved;
	return -1;
}

int
spool_journal(int fd, struct spool_env *env, size_t idx, char state,
    time_t next_attempt, const char *text, int sync)
{
	struct spool_rcpt *r = &env->rcpts[idx];
	char line[SPOOL_MAX_LINE], esc[1024];
	time_t now = time(NULL);
	int n, attempts = r->attempts + 1;

	log_escape(esc, sizeof(esc), text, strlen(text));
	n = snprintf(line, sizeof(line), "status %zu %c %d %lld %lld %s\n",
	    idx, state, attempts, (long long)next_attempt, (long long)now, esc);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		errno = EINVAL;
		return -1;
	}
	/* One write at the end: appends of concurrent writers never mix. */
	if (lseek(fd, 0, SEEK_END) == -1 ||
	    util_write_all(fd, line, (size_t)n) == -1)
		return -1;
	if (sync && fdatasync(fd) == -1)
		return -1;
	r->state = state;
	r->attempts = attempts;
	r->next_attempt = next_attempt;
	r->last_attempt = now;
	free(r->text);
	r->text = util_strdup(esc);
	return 0;
}

int
spool_journal_warned(int fd, struct spool_env *env, time_t when)
{
	char line[64];
	int n;

	n = snprintf(line, sizeof(line), "warned %lld\n", (long long)when);
	if (lseek(fd, 0, SEEK_END) == -1 ||
	    util_write_all(fd, line, (size_t)n) == -1 || fdatasync(fd) == -1)
		return -1;
	env->warned = when;
	return 0;
}

int
spool_all_final(const struct spool_env *env)
{
	size_t i;

	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state != RCPT_DELIVERED &&
		    env->rcpts[i].state != RCPT_BOUNCED)
			return 0;
	return 1;
}

/* Put zeros where [at, at + len) meets the chunk buf at off. */
static void
spool_zero_digits(char *buf, off_t off, size_t n, off_t at, size_t len)
{
	off_t from = at > off ? at : off;
	off_t to = at + (off_t)len < off + (off_t)n ? at + (off_t)len :
	    off + (off_t)n;

	if (from < to)
		memset(buf + (from - off), '0', (size_t)(to - from));
}

int
spool_verify(int fd, const struct spool_env *env)
{
	char buf[65536];
	off_t off = 0, end = env->body_off + env->body_len;
	uint32_t crc = 0;
	ssize_t n;

	if (env->check_at == 0)
		return 1;
	while (off < end) {
		n = pread(fd, buf, end - off < (off_t)sizeof(buf) ?
		    (size_t)(end - off) : sizeof(buf), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		spool_zero_digits(buf, off, (size_t)n, env->length_at,
		    LENGTH_DIGITS);
		spool_zero_digits(buf, off, (size_t)n, env->check_at,
		    CHECK_DIGITS);
		crc = (uint32_t)crc32(crc, (const Bytef *)buf, (uInt)n);
		off += n;
	}
	return crc == env->check;
}

int
spool_read_body(int fd, const struct spool_env *env,
    int (*cb)(const char *, size_t, void *), void *arg)
{
	char buf[65536];
	off_t pos = env->body_off, end = env->body_off + env->body_len;
	ssize_t n;

	while (pos < end) {
		size_t want = (size_t)(end - pos) < sizeof(buf) ?
		    (size_t)(end - pos) : sizeof(buf);

		if ((n = pread(fd, buf, want, pos)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EINVAL;		/* truncated */
			return -1;
		}
		if (cb(buf, (size_t)n, arg) == -1)
			return -1;
		pos += n;
	}
	return 0;
}

int
spool_quarantine(const char *data_dir, const char *id)
{
	char path[4096], dir[4096], to[4200];

	if (spool_path(path, sizeof(path), data_dir, id) == -1 ||
	    layout_path(dir, sizeof(dir), data_dir, LAYOUT_QUEUE_CORRUPT) == -1 ||
	    layout_path(to, sizeof(to), dir, id) == -1)
		return -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	return rename(path, to);
}

int
spool_tmp_clean(const char *data_dir, time_t min_age,
    void (*removed)(const char *path))
{
	char msgdir[4096], tmpdir[4096], path[4200];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int fd, n = 0;

	if (spool_dirs(data_dir, msgdir, tmpdir, sizeof(tmpdir)) == -1 ||
	    (d = opendir(tmpdir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!spool_id_valid(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			continue;
		/*
		 * A writer holds its lock until it commits or gives up; a
		 * lock we can take is one nobody holds: the writer died.
		 * (min_age covers the instant between its open and flock.)
		 */
		if (fstat(fd, &st) == 0 && st.st_mtime <= now - min_age &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(path) == 0) {
			n++;
			if (removed != NULL)
				removed(path);
		}
		close(fd);
	}
	closedir(d);
	return n;
}
