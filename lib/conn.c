#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "conn.h"
#include "daemon.h"
#include "log.h"
#include "tls.h"
#include "util.h"
#include "zstream.h"

/* The output buffer is flushed when it grows past this. */
#define CONN_OUT_FLUSH	65536

void
conn_init(struct conn *c, int fd, size_t maxline, int timeout_sec)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	lr_init(&c->lr, maxline);
	buf_init(&c->out, 0);
	c->timeout_ms = timeout_sec * 1000;
}

void
conn_free(struct conn *c)
{
	if (c->tls != NULL)
		tls_conn_free((struct tls_conn **)&c->tls);
	zstream_free(&c->z);
	lr_free(&c->lr);
	buf_release(&c->out);
	buf_release(&c->zout);
}

int
conn_wait(struct conn *c, short events)
{
	struct pollfd pfd = { c->fd, events, 0 };
	int64_t left;
	int r, ms;

	for (;;) {
		ms = c->timeout_ms;
		if (c->deadline != 0) {	/* the session's own limit */
			if ((left = (c->deadline - util_now_usec()) / 1000) <= 0)
				return -2;
			if (ms < 0 || left < ms)
				ms = (int)left;
		}
		/* With a stop flag, a signal just before the wait still
		 * ends it (else a SIGTERM could wait for the timeout). */
		r = c->stop != NULL ? daemon_poll_unless(c->stop, &pfd, 1,
		    ms) : poll(&pfd, 1, ms);
		if (r == 1)
			return 0;
		if (r == 0)
			return -2;
		if (errno != EINTR || (c->stop != NULL && *c->stop))
			return -1;
	}
}

static ssize_t
conn_send(struct conn *c, const void *data, size_t len)
{
	ssize_t n;

	if (c->tls != NULL)
		return tls_write(c->tls, c, data, len);
	for (;;) {
		n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EAGAIN) {
			if (conn_wait(c, POLLOUT) != 0)
				return -1;
			continue;
		}
		if (errno != EINTR)
			return -1;
	}
}

/*
 * Compressed, every flush is a sync flush (RFC 4978 §4): the peer can
 * read all of it at once, and a reply is never held back in the
 * deflater while we wait.  The dictionary is kept, so a flush costs a
 * few octets and little of the ratio.
 */
int
conn_flush(struct conn *c)
{
	struct buf *b = &c->out;
	size_t off = 0;
	ssize_t n;

	if (c->z != NULL) {
		if (c->out.len > 0 && zstream_deflate(c->z, c->out.data,
		    c->out.len, 1, &c->zout) == -1)
			return -1;
		buf_reset(&c->out);
		b = &c->zout;
	}
	while (off < b->len) {
		if ((n = conn_send(c, b->data + off, b->len - off)) <= 0)
			return -1;
		off += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	buf_reset(b);
	return 0;
}

void
conn_write(struct conn *c, const void *data, size_t len)
{
	buf_append(&c->out, data, len);
	if (c->out.len >= CONN_OUT_FLUSH)
		conn_flush(c);
}

void
conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (c->out.len >= CONN_OUT_FLUSH)
		conn_flush(c);
}

size_t
conn_pending(const struct conn *c)
{
	return lr_pending(&c->lr) + (c->tls != NULL ? tls_pending(c->tls) :
	    0) + (c->z != NULL ? (size_t)zstream_pending(c->z) : 0);
}

static ssize_t conn_read_wire(struct conn *, void *, size_t);

/* Octets inflated into buf: as conn_read_wire(), never 0 before EOF. */
static ssize_t
conn_read_inflate(struct conn *c, void *buf, size_t len)
{
	char *p;
	size_t room;
	ssize_t n;

	for (;;) {
		if ((n = zstream_inflate(c->z, buf, len)) != 0)
			return n;
		zstream_in_space(c->z, &p, &room);
		if ((n = conn_read_wire(c, p, room)) <= 0)
			return n;
		zstream_in_filled(c->z, (size_t)n);
		c->bytes_in += (uint64_t)n;
	}
}

/* What a read gives the caller: inflated when compressed; the wire
 * octets are counted by the time it returns. */
ssize_t
conn_read_raw(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->z != NULL)
		return conn_read_inflate(c, buf, len);
	if ((n = conn_read_wire(c, buf, len)) > 0)
		c->bytes_in += (uint64_t)n;
	return n;
}

static ssize_t
conn_read_wire(struct conn *c, void *buf, size_t len)
{
	ssize_t n;
	int w;

	if (c->tls != NULL)
		return tls_read(c->tls, c, buf, len);
	for (;;) {
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EINTR) {
			if (c->stop != NULL && *c->stop)
				return -1;
			continue;
		}
		if (errno != EAGAIN)
			return -1;
		if ((w = conn_wait(c, POLLIN)) != 0)
			return w;
	}
}

ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	if (lr_pending(&c->lr) > 0)
		return (ssize_t)lr_take(&c->lr, buf, len);
	if (c->out.len > 0 && conn_flush(c) == -1)
		return -1;
	return conn_read_raw(c, buf, len);
}

enum conn_status
conn_getline(struct conn *c, char **line, size_t *len)
{
	enum lr_status st;
	char *p;
	size_t room;
	ssize_t n;

	for (;;) {
		st = lr_getline(&c->lr, line, len);
		if (st == LR_LINE)
			return CONN_LINE;
		if (st == LR_TOOLONG)
			return CONN_TOOLONG;
		/* About to wait: every reply so far must be on its way. */
		if (c->out.len > 0 && conn_flush(c) == -1)
			return CONN_ERROR;
		lr_space(&c->lr, &p, &room);
		n = conn_read_raw(c, p, room);
		if (n == -2)
			return CONN_TIMEOUT;
		if (n < 0)
			return CONN_ERROR;
		if (n == 0)
			return CONN_EOF;
		lr_filled(&c->lr, (size_t)n);
	}
}

enum conn_status
conn_getcmd(struct conn *c, char **line, size_t *len)
{
	enum conn_status st = conn_getline(c, line, len);

	if (st == CONN_LINE && memchr(*line, '\0', *len) != NULL)
		return CONN_NUL;
	return st;
}

int
conn_feed(struct conn *c, const void *data, size_t len)
{
	char *p;
	size_t room;

	if (len == 0)
		return 0;
	lr_space(&c->lr, &p, &room);
	if (len > room)
		return -1;
	memcpy(p, data, len);
	lr_filled(&c->lr, len);
	return 0;
}

int
conn_compress(struct conn *c)
{
	char buf[4096];
	size_t n;

	if (c->z != NULL || (c->z = zstream_new()) == NULL)
		return -1;
	buf_init(&c->zout, 0);
	/* Read ahead behind the command: the first compressed octets. */
	while ((n = lr_take(&c->lr, buf, sizeof(buf))) > 0)
		if (zstream_in_feed(c->z, buf, n) == -1)
			return -1;
	return 0;
}
