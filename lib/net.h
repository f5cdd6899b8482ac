/*
 * net: listening sockets and socket addresses.
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDRSTRLEN	64

/* Bind and listen (backlog SOMAXCONN) on host:port; fd or -1 with *err. */
int	net_listen(const char *host, const char *port, char *err,
	    size_t errsize);
/* The numeric address of sa ("192.0.2.1", "2001:db8::1"), and its port. */
void	net_addr_str(const struct sockaddr *sa, char *buf, size_t size,
	    int *port_r);
/* The local address a socket is bound to, numeric. */
void	net_local_addr(int fd, char *buf, size_t size, int *port_r);
int	net_set_nonblock(int fd, int on);
/*
 * Connect to a numeric address and port, from the numeric address source
 * (NULL or "": any), within timeout_ms.  Names are never resolved here:
 * that is lib/dns's job.  fd (blocking, TCP_NODELAY) or -1 with errno.
 */
int	net_connect(const char *addr, const char *port, const char *source,
	    int timeout_ms);

#endif
