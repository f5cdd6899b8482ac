#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ipc.h"

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
ipc_begin(struct ipc_out *o, uint16_t type)
{
	put16(o->buf, type);
	o->len = 4;
	o->nfields = 0;
	o->overflow = 0;
}

void
ipc_put(struct ipc_out *o, const void *data, size_t len)
{
	if (o->overflow || o->nfields == IPC_MAX_FIELDS ||
	    len > IPC_MAX - o->len - 5) {
		o->overflow = 1;
		return;
	}
	put32(o->buf + o->len, (uint32_t)len);
	if (len > 0)
		memcpy(o->buf + o->len + 4, data, len);
	o->buf[o->len + 4 + len] = '\0';
	o->len += 5 + len;
	o->nfields++;
}

void
ipc_put_str(struct ipc_out *o, const char *s)
{
	ipc_put(o, s, strlen(s));
}

void
ipc_put_u64(struct ipc_out *o, uint64_t v)
{
	char n[24];

	ipc_put(o, n, (size_t)snprintf(n, sizeof(n), "%llu",
	    (unsigned long long)v));
}

ssize_t
ipc_sendmsg(int sock, struct iovec *iov, int iovcnt, int fd)
{
	union {
		struct cmsghdr	cm;
		char		buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)iovcnt;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		ctl.cm.cmsg_level = SOL_SOCKET;
		ctl.cm.cmsg_type = SCM_RIGHTS;
		ctl.cm.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n;
}

ssize_t
ipc_recvmsg(int sock, void *buf, size_t len, int *fd, int *extra,
    int *flags)
{
	union {
		struct cmsghdr	cm;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct cmsghdr *cm;
	struct iovec iov = { buf, len };
	struct msghdr mh;
	size_t i, nfd;
	ssize_t n;
	int fds[4];

	*fd = -1;
	*extra = 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	if ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) <= 0)
		return n;
	*flags = mh.msg_flags;
	if (mh.msg_flags & MSG_CTRUNC)	/* the kernel closed the rest */
		*extra = 1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > 4)
			nfd = 4;
		memcpy(fds, CMSG_DATA(cm), nfd * sizeof(int));
		for (i = 0; i < nfd; i++) {
			if (*fd == -1 && !*extra)
				*fd = fds[i];
			else {
				close(fds[i]);
				*extra = 1;
			}
		}
	}
	return n;
}

int
ipc_send(int sock, const struct ipc_out *o, int fd)
{
	unsigned char head[4];
	struct iovec iov[2];
	ssize_t n;

	if (o->overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	put16(head, get16(o->buf));
	put16(head + 2, o->nfields);
	iov[0].iov_base = head;
	iov[0].iov_len = 4;
	iov[1].iov_base = (void *)(o->buf + 4);
	iov[1].iov_len = o->len - 4;
	if ((n = ipc_sendmsg(sock, iov, 2, fd)) == -1)
		return -1;
	if ((size_t)n != o->len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Split the packet into fields; 0, or -1 if it is not well formed. */
static int
ipc_decode(struct ipc_in *in, size_t len)
{
	size_t pos = 4, i;
	uint32_t flen;

	if (len < 4)
		return -1;
	in->type = get16(in->buf);
	in->nfields = get16(in->buf + 2);
	if (in->nfields > IPC_MAX_FIELDS)
		return -1;
	for (i = 0; i < in->nfields; i++) {
		if (len - pos < 5)
			return -1;
		flen = get32(in->buf + pos);
		if (flen > len - pos - 5 || in->buf[pos + 4 + flen] != '\0')
			return -1;
		in->f[i].data = (const char *)in->buf + pos + 4;
		in->f[i].len = flen;
		pos += 5 + flen;
	}
	return pos == len ? 0 : -1;
}

int
ipc_recv(int sock, struct ipc_in *in, int timeout_ms)
{
	struct pollfd pfd = { sock, POLLIN, 0 };
	ssize_t n;
	int r, extra, flags = 0;

	in->fd = -1;
	in->next = 0;
	if (timeout_ms >= 0) {
		if ((r = poll(&pfd, 1, timeout_ms)) == -1)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	if ((n = ipc_recvmsg(sock, in->buf, sizeof(in->buf), &in->fd, &extra,
	    &flags)) == -1)
		return -1;
	if (n == 0)
		return 0;
	/* At most one descriptor; more than one is a bad message. */
	if (extra || (flags & MSG_TRUNC) || ipc_decode(in, (size_t)n) == -1) {
		if (in->fd != -1)
			close(in->fd);
		in->fd = -1;
		errno = EBADMSG;
		return -1;
	}
	return 1;
}

const struct ipc_field *
ipc_get(struct ipc_in *in)
{
	if (in->next >= in->nfields)
		return NULL;
	return &in->f[in->next++];
}

const char *
ipc_get_str(struct ipc_in *in)
{
	const struct ipc_field *f = ipc_get(in);

	if (f == NULL || memchr(f->data, '\0', f->len) != NULL)
		return NULL;
	return f->data;
}

int
ipc_get_u64(struct ipc_in *in, uint64_t *v)
{
	const char *s = ipc_get_str(in);
	uint64_t n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' ||
		    n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return 0;
}

size_t
ipc_left(const struct ipc_in *in)
{
	return (size_t)(in->nfields - in->next);
}
