#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ipc.h"
#include "../t/tap.h"

static struct ipc_out o;
static struct ipc_in in;

/* Send raw octets as one packet, as a hostile peer would. */
static int
recv_raw(int sv[2], const void *data, size_t len)
{
	if (send(sv[0], data, len, 0) != (ssize_t)len)
		return -2;
	return ipc_recv(sv[1], &in, 1000);
}

int
main(void)
{
	const struct ipc_field *f;
	uint64_t v;
	char big[IPC_MAX];
	int sv[2], p[2], r;

	ok(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair");

	ipc_begin(&o, 7);
	ipc_put_str(&o, "hello");
	ipc_put(&o, "a\0b", 3);
	ipc_put_u64(&o, 18446744073709551615ULL);
	ipc_put(&o, "", 0);
	ipc_put_str(&o, "18446744073709551616");
	ok(ipc_send(sv[0], &o, -1) == 0, "send five fields");
	ok(ipc_recv(sv[1], &in, 1000) == 1 && in.type == 7 &&
	    in.nfields == 5 && in.fd == -1, "one message, its type and count");
	ok(ipc_left(&in) == 5 && strcmp(ipc_get_str(&in), "hello") == 0,
	    "a text field");
	ok(ipc_get_str(&in) == NULL, "a field holding NUL is not a string");
	in.next--;
	f = ipc_get(&in);
	ok(f != NULL && f->len == 3 && memcmp(f->data, "a\0b", 3) == 0,
	    "but its octets are all there");
	ok(ipc_get_u64(&in, &v) == 0 && v == 18446744073709551615ULL,
	    "a number");
	f = ipc_get(&in);
	ok(f != NULL && f->len == 0 && f->data[0] == '\0', "an empty field");
	ok(ipc_get_u64(&in, &v) == -1, "a number over 64 bits: refused");
	ok(ipc_get(&in) == NULL && ipc_get_str(&in) == NULL &&
	    ipc_get_u64(&in, &v) == -1, "past the last field: nothing");

	/* a descriptor travels with the message */
	ok(pipe(p) == 0, "pipe");
	ipc_begin(&o, 1);
	ok(ipc_send(sv[0], &o, p[1]) == 0, "send a descriptor");
	close(p[1]);
	ok(ipc_recv(sv[1], &in, 1000) == 1 && in.fd >= 0 &&
	    write(in.fd, "x", 1) == 1 && read(p[0], big, 1) == 1 &&
	    big[0] == 'x', "it arrives, working");
	ok((fcntl(in.fd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec");
	close(in.fd);
	close(p[0]);

	/* limits */
	ipc_begin(&o, 2);
	memset(big, 'x', sizeof(big));
	ipc_put(&o, big, sizeof(big));
	ok(ipc_send(sv[0], &o, -1) == -1 && errno == EMSGSIZE,
	    "a field over the message size: refused before sending");
	ipc_begin(&o, 2);
	for (r = 0; r <= IPC_MAX_FIELDS; r++)
		ipc_put_str(&o, "f");
	ok(ipc_send(sv[0], &o, -1) == -1 && errno == EMSGSIZE,
	    "more than IPC_MAX_FIELDS fields: refused");

	/* hostile packets */
	ok(recv_raw(sv, "\0\1", 2) == -1 && errno == EBADMSG,
	    "shorter than a header: EBADMSG");
	ok(recv_raw(sv, "\0\1\0\1\0\0\0\5ab\0", 11) == -1 && errno == EBADMSG,
	    "a field longer than the packet: EBADMSG");
	ok(recv_raw(sv, "\0\1\0\1\0\0\0\2abX", 11) == -1 && errno == EBADMSG,
	    "a field without its NUL: EBADMSG");
	ok(recv_raw(sv, "\0\1\0\2\0\0\0\2ab\0", 11) == -1 && errno == EBADMSG,
	    "fewer fields than announced: EBADMSG");
	ok(recv_raw(sv, "\0\1\0\1\0\0\0\2ab\0zz", 13) == -1 &&
	    errno == EBADMSG, "octets after the last field: EBADMSG");
	ok(recv_raw(sv, "\0\1\xff\xff", 4) == -1 && errno == EBADMSG,
	    "too many fields announced: EBADMSG");
	ok(recv_raw(sv, "\0\1\0\1\0\0\0\2ab\0", 11) == 1 &&
	    strcmp(ipc_get_str(&in), "ab") == 0,
	    "and a good one after them is read");

	ok(ipc_recv(sv[1], &in, 50) == -1 && errno == ETIMEDOUT,
	    "nothing to read: a timeout");
	close(sv[0]);
	ok(ipc_recv(sv[1], &in, 1000) == 0, "the peer closed: 0");
	close(sv[1]);
	done_testing();
}
