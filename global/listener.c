#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../lib/conn.h"
#include "../lib/log.h"
#include "../lib/net.h"
#include "../lib/privsep.h"
#include "../lib/tls.h"
#include "../lib/util.h"
#include "conf.h"
#include "listener.h"
#include "prog.h"
#include "service.h"

struct session_slot {
	pid_t	pid;
	char	ip[NET_ADDRSTRLEN];
};

static struct session_slot	*slots;
static long			 nslots, nactive;
static pid_t			 refusing[LISTENER_MAX_REFUSING];

static void
listener_reap(void)
{
	pid_t pid;
	int status;
	long i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < LISTENER_MAX_REFUSING; i++)
			if (refusing[i] == pid)
				refusing[i] = 0;
		for (i = 0; i < nslots; i++)
			if (slots[i].pid == pid) {
				slots[i].pid = 0;
				nactive--;
				break;
			}
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warn("session process %ld killed by signal %d",
			    (long)pid, WTERMSIG(status));
	}
}

static long
listener_count_ip(const char *ip)
{
	long i, n = 0;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0 && strcmp(slots[i].ip, ip) == 0)
			n++;
	return n;
}

/* In a child of the listener: the refusal inside TLS, then exit. */
static void
listener_refuse_tls(struct listener *l, int fd, const char *reply)
{
	struct conn c;
	const char *err;
	size_t j;

	for (j = 0; j < l->nfds; j++)
		close(l->fds[j].fd);
	net_set_nonblock(fd, 0);
	conn_init(&c, fd, 512, LISTENER_REFUSE_TIMEOUT);
	if (tls_accept(&c, l->tls, &err) == 0) {
		conn_write(&c, reply, strlen(reply));
		conn_flush(&c);
	}
	conn_free(&c);		/* close_notify */
	_exit(0);
}

static void
listener_refuse(struct listener *l, const struct prog_fd *lfd, int fd,
    const char *reply)
{
	ssize_t n;
	size_t i;
	pid_t pid = -1, listener_pid = getpid();

	if (reply != NULL && l->tls != NULL &&
	    service_find(lfd->service)->implicit_tls) {
		for (i = 0; i < LISTENER_MAX_REFUSING && refusing[i] != 0; i++)
			;
		if (i < LISTENER_MAX_REFUSING && (pid = fork()) == 0) {
			daemon_signals_reset();
			privsep_die_with_parent(listener_pid);
			listener_refuse_tls(l, fd, reply);
		}
		if (i < LISTENER_MAX_REFUSING && pid > 0)
			refusing[i] = pid;
		close(fd);	/* no room, or no fork: closed without a word */
		return;
	}
	/* Best effort, never blocking: the socket is non-blocking. */
	if (reply != NULL)
		n = write(fd, reply, strlen(reply));
	(void)n;
	close(fd);
}

static void
listener_accept(struct listener *l, struct prog_fd *lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char ip[NET_ADDRSTRLEN];
	int fd, port, one = 1;
	long i;
	pid_t pid, listener_pid;

	for (;;) {
		/* Signals wait for ppoll(): reap here, so the limits count
		 * only sessions still alive, however long this batch is. */
		listener_reap();
		sslen = sizeof(ss);
		fd = accept4(lfd->fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept on %s: %s", lfd->service,
				    strerror(errno));
			return;
		}
		net_addr_str((struct sockaddr *)&ss, ip, sizeof(ip), &port);
		if (nactive >= l->max_sessions) {
			log_warn("service=%s client=[%s] refused: %ld sessions "
			    "(max_sessions)", lfd->service, ip, nactive);
			listener_refuse(l, lfd, fd, l->busy_reply);
			continue;
		}
		if (listener_count_ip(ip) >= l->max_per_ip) {
			log_warn("service=%s client=[%s] refused: too many "
			    "sessions from this address (max_sessions_per_ip)",
			    lfd->service, ip);
			listener_refuse(l, lfd, fd, l->busy_reply_ip);
			continue;
		}
		for (i = 0; i < nslots && slots[i].pid != 0; i++)
			;
		listener_pid = getpid();
		if ((pid = fork()) == -1) {
			log_err("fork: %s", strerror(errno));
			listener_refuse(l, lfd, fd, l->busy_reply);
			continue;
		}
		if (pid == 0) {
			size_t j;

			daemon_signals_reset();
			privsep_die_with_parent(listener_pid);
			for (j = 0; j < l->nfds; j++)
				close(l->fds[j].fd);
			net_set_nonblock(fd, 0);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			l->session(fd, lfd->service, ip, port, l->arg);
			_exit(0);
		}
		close(fd);
		slots[i].pid = pid;
		util_strcpy(slots[i].ip, ip, sizeof(slots[i].ip));
		nactive++;
	}
}

static void
listener_signal_all(int sig)
{
	long i;

	for (i = 0; i < nslots; i++)
		if (slots[i].pid != 0)
			kill(slots[i].pid, sig);
}

void
listener_run(struct listener *l)
{
	struct pollfd *pfds;
	size_t i;
	int draining = 0;
	time_t deadline = 0;

	daemon_signals_block();
	nslots = l->max_sessions;
	slots = util_calloc((size_t)nslots, sizeof(*slots));
	pfds = util_calloc(l->nfds, sizeof(*pfds));
	for (i = 0; i < l->nfds; i++) {
		pfds[i].fd = l->fds[i].fd;
		pfds[i].events = POLLIN;
	}
	for (;;) {
		if (daemon_chld) {
			daemon_chld = 0;
			listener_reap();
		}
		if (daemon_term && deadline == 0) {
			log_info("stopping: %ld session(s) told to end",
			    nactive);
			listener_signal_all(SIGTERM);
			deadline = time(NULL) + 5;
			draining = 1;
		}
		if (daemon_usr1 && !draining) {
			log_info("reload: no longer accepting, %ld session(s) "
			    "left to finish", nactive);
			draining = 1;
		}
		if (draining) {
			for (i = 0; i < l->nfds; i++)
				if (pfds[i].fd != -1) {
					close(pfds[i].fd);
					pfds[i].fd = -1;
				}
			if (nactive == 0)
				break;
			if (deadline != 0 && time(NULL) >= deadline) {
				listener_signal_all(SIGKILL);
				deadline = time(NULL) + 60;
			}
			/* Sleep until a child exits (SIGCHLD) or a second. */
			daemon_poll(NULL, 0, 1000);
			continue;
		}
		if (daemon_poll(pfds, l->nfds, -1) == -1) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		for (i = 0; i < l->nfds; i++)
			if (pfds[i].revents & POLLIN)
				listener_accept(l, &l->fds[i]);
	}
	free(pfds);
	free(slots);
}

void
listener_prepare(const struct prog_args *args, const struct conf *conf,
    const char *program, struct tls_ctx **tls_r)
{
	char tlserr[512];
	const char *err;
	size_t i;

	*tls_r = NULL;
	if (args->nfds == 0)
		fatalx("no listening sockets given (-L service:fd)");
	for (i = 0; i < args->nfds; i++)
		if (!service_of_program(args->fds[i].service, program))
			fatalx("%s does not serve %s", program,
			    args->fds[i].service);
	/* Keys and plugins are read while we may still be root. */
	if (conf->tls.cert[0] != '\0' &&
	    (*tls_r = tls_server_ctx(conf->tls.cert, conf->tls.key, tlserr,
	    sizeof(tlserr))) == NULL)
		fatalx("tls: %s", tlserr);
	for (i = 0; i < args->nfds; i++)
		if (service_find(args->fds[i].service)->implicit_tls &&
		    *tls_r == NULL)
			fatalx("%s (implicit TLS) needs tls.cert and tls.key",
			    args->fds[i].service);
	if (privsep_drop(conf->server.user, &err) == -1)
		fatalx("cannot drop privileges: %s", err);
	privsep_die_with_parent(prog_parent);
	daemon_signals();
}
