/*
 * The parts of the webmail's front (front.c: connections, responses,
 * logins and routing; relay.c: sessions, their processes, live
 * updates): internal to webmail/, as maildir/store_int.h is to the
 * store.
 */
#ifndef WEBMAIL_FRONT_H
#define WEBMAIL_FRONT_H

#include <time.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "../global/authproto.h"
#include "../global/conf.h"
#include "../global/pool.h"
#include "../global/prog.h"
#include "../lib/net.h"
#include "webmail.h"

#define LOGIN_CONNS	8	/* passwords checked at once */
#define LOGIN_QUEUE	256	/* waiting for a connection beyond those */
#define SESSION_RECHECK	30	/* seconds a checked session is trusted */
#define MAX_CACHED	4096	/* sessions known at once */
#define MAX_QUEUED	32	/* requests of one session waiting */
#define MAX_PAGE	(4 * 1024 * 1024)	/* a page the front makes */
#define MAX_STREAMS	8	/* live-update connections of a session */
#define STREAM_PING	15	/* seconds between keep-alive comments */

struct wsess;

/* A request waiting for its session's process. */
struct breq {
	struct evhttp_request	*req;
	struct ipc_out		*msg;
	int			 fd;	/* uploaded files (memfd), or -1 */
	struct breq		*next;
};

/* A page's live updates (Server-Sent Events), held open. */
struct stream {
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct wsess		*s;
	struct stream		*next;
};

/* A logged-in session the front knows. */
struct wsess {
	char		 id[WEB_ID_LEN + 1];
	char		 user[320];
	char		 csrf[WEB_ID_LEN + 1];
	time_t		 checked, used;
	int		 fd;		/* its process, or -1 */
	struct event	*ev;
	struct breq	*head, *tail;
	size_t		 nqueued;
	int		 sent;		/* head went to the process */
	int		 streaming;	/* head's reply started */
	struct stream	*streams;
	size_t		 nstreams;
	char		 watched[1024];	/* the folder its process watches */
	struct wsess	*next;
};

/* A login waiting for the auth service's verdict. */
struct plogin {
	struct evhttp_request	*req;
	char		 ip[NET_ADDRSTRLEN];
	char		*user, *password;
	int		 conn;		/* login connection, or -1 */
	struct plogin	*next;
};

struct ipcount {
	char	 ip[NET_ADDRSTRLEN];
	long	 n;
};

struct front {
	struct conf	*conf;
	struct prog_args args;
	struct pool	 pool;
	struct tls_ctx	*tls;
	SSL_CTX		*ssl;
	int		 ssl_idx;
	struct event_base *base;
	struct evhttp	*http;
	struct authc	*lookup;
	struct authc	*login[LOGIN_CONNS];
	struct plogin	*login_busy[LOGIN_CONNS];
	struct event	*login_ev[LOGIN_CONNS];
	struct plogin	*waiting, **waiting_tail;
	size_t		 nwaiting;
	struct wsess	*sessions;
	size_t		 nsessions;
	struct ipcount	*ips;
	long		 nconns;
	unsigned long	 nhandoffs;
	struct ipc_in	 in;
};
extern struct front F;

/* front.c */
enum kind { K_APP, K_FRAME, K_FILE };
/* The security headers of every response, and its type. */
void	headers(struct evhttp_request *req, enum kind kind, const char *type);
void	reply_text(struct evhttp_request *req, int status, const char *text);
const char *client_ip(struct evhttp_request *req);

/* relay.c */
/* The live session the request's cookie names, or NULL. */
struct wsess *sess_get(struct evhttp_request *req);
void	sess_free(struct wsess *s);
/* Pass a request (and its uploaded files, fd, or -1) to the session's
 * process, started if need be. */
void	to_backend(struct evhttp_request *req, struct wsess *s,
	    const char *path, const struct evkeyvalq *q, int fd);
/* GET /events: the page's EventSource. */
void	stream_open(struct evhttp_request *req, struct wsess *s,
	    struct evkeyvalq *q);
/* Every second: forget idle sessions, ping the live updates. */
void	sessions_tick(time_t now);

#endif
