/*
 * ipc: framed messages between the processes of one system, over
 * SOCK_SEQPACKET UNIX sockets (a message is one packet: it arrives
 * whole or not at all, and never merges with the next), optionally
 * carrying one file descriptor (SCM_RIGHTS).
 *
 * A message is a 16-bit type and up to IPC_MAX_FIELDS fields, each a
 * length-prefixed string of octets that may hold anything; the decoder
 * NUL-terminates every field in place, so text fields can be used as C
 * strings once ipc_get_str() has checked they hold no NUL.
 *
 *	u16 type | u16 nfields | (u32 len | octets | NUL)...
 *
 * Nothing in a message is trusted: a receiver checks every length and
 * count, and a message that does not decode is refused (ipc_recv()
 * returns -1 with EBADMSG), never half-used.
 */
#ifndef IPC_H
#define IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define IPC_MAX		65536	/* octets of one message */
#define IPC_MAX_FIELDS	64

struct ipc_out {
	unsigned char	 buf[IPC_MAX];
	size_t		 len;
	uint16_t	 nfields;
	int		 overflow;	/* a field did not fit */
};

struct ipc_field {
	const char	*data;		/* NUL-terminated after len octets */
	size_t		 len;
};

struct ipc_in {
	unsigned char	 buf[IPC_MAX];
	uint16_t	 type;
	uint16_t	 nfields;
	struct ipc_field f[IPC_MAX_FIELDS];
	uint16_t	 next;		/* for ipc_get*() */
	int		 fd;		/* a passed descriptor, or -1 */
};

/* Build a message: begin, add fields, send. */
void	ipc_begin(struct ipc_out *o, uint16_t type);
void	ipc_put(struct ipc_out *o, const void *data, size_t len);
void	ipc_put_str(struct ipc_out *o, const char *s);
void	ipc_put_u64(struct ipc_out *o, uint64_t v);
/*
 * Send it in one packet, with fd (or -1) attached.  0, or -1 with errno
 * (EMSGSIZE when a field did not fit).  Never raises SIGPIPE.
 */
int	ipc_send(int sock, const struct ipc_out *o, int fd);

/*
 * The socket calls under them, for a stream that passes a descriptor
 * beside its octets too (global/login.c's relay): sendmsg(2) of iov with
 * fd (or -1) passed along, retried on EINTR, never raising SIGPIPE; and
 * recvmsg(2) into buf, the first descriptor passed in *fd (else -1),
 * any other closed and *extra set (so too when the kernel dropped some,
 * MSG_CTRUNC), *flags its msg_flags.  Both return what the call did.
 */
ssize_t	ipc_sendmsg(int sock, struct iovec *iov, int iovcnt, int fd);
ssize_t	ipc_recvmsg(int sock, void *buf, size_t len, int *fd, int *extra,
	    int *flags);

/*
 * Receive one message, waiting at most timeout_ms (-1: no limit).
 * 1 a message, 0 the peer closed, -1 with errno: EBADMSG (malformed or
 * truncated: the caller must not trust the peer further), ETIMEDOUT,
 * EINTR, or the system's.  A passed descriptor is in in->fd (close it
 * if unused); a descriptor on a message refused as malformed is closed.
 */
int	ipc_recv(int sock, struct ipc_in *in, int timeout_ms);

/*
 * The next field, in order: as octets (any content), as a string (NULL
 * if it holds a NUL or is missing), as a number (-1 when missing or
 * not a plain decimal).  ipc_left() tells how many remain.
 */
const struct ipc_field *ipc_get(struct ipc_in *in);
const char *ipc_get_str(struct ipc_in *in);
int	ipc_get_u64(struct ipc_in *in, uint64_t *v);
size_t	ipc_left(const struct ipc_in *in);

#endif
