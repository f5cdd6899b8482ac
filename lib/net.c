#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "net.h"

int
net_listen(const char *host, const char *port, char *err, size_t errsize)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, on = 1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (strcmp(host, "*") == 0)
		host = NULL;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsize, "%s:%s: %s", host ? host : "*", port,
		    gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0 && net_set_nonblock(fd, 1) == 0)
			break;
		snprintf(err, errsize, "%s:%s: %s", host ? host : "*", port,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

void
net_addr_str(const struct sockaddr *sa, char *buf, size_t size, int *port_r)
{
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, buf, size);
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, buf, size);
		port = ntohs(s6->sin6_port);
		/* An IPv4 client on a dual-stack socket. */
		if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf, '.'))
			memmove(buf, buf + 7, strlen(buf + 7) + 1);
	} else
		snprintf(buf, size, "unix");
	if (port_r != NULL)
		*port_r = port;
}

void
net_local_addr(int fd, char *buf, size_t size, int *port_r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(buf, size, "unknown");
		if (port_r != NULL)
			*port_r = 0;
		return;
	}
	net_addr_str((struct sockaddr *)&ss, buf, size, port_r);
}

int
net_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/* A numeric address as a socket address; 0 or -1. */
static int
net_numeric(const char *addr, const char *port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(addr, port, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
net_connect(const char *addr, const char *port, const char *source,
    int timeout_ms)
{
	struct sockaddr_storage ss, src;
	socklen_t len, srclen, errlen;
	struct pollfd pfd;
	int fd, soerr = 0, one = 1, r;

	if (net_numeric(addr, port, &ss, &len) == -1 ||
	    (source != NULL && source[0] != '\0' &&
	    (net_numeric(source, "0", &src, &srclen) == -1 ||
	    src.ss_family != ss.ss_family))) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (source != NULL && source[0] != '\0' &&
	    bind(fd, (struct sockaddr *)&src, srclen) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			r = poll(&pfd, 1, timeout_ms);
		while (r == -1 && errno == EINTR);
		errlen = sizeof(soerr);
		if (r != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &errlen) == -1 || soerr != 0) {
			errno = r == 0 ? ETIMEDOUT : soerr ? soerr : errno;
			goto fail;
		}
	}
	net_set_nonblock(fd, 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}
