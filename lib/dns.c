/*
 * The resolver: c-ares for the transport, ns_parserr() for the answer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include <ares.h>

#include "dns.h"
#include "util.h"

#define DNS_MAX_RRS	256	/* records kept from one answer */

struct dns {
	ares_channel	 chan;
	long		 max_wait_ms;	/* bound on one query, all tries */
};

/* What a query's callback hands back. */
struct dns_pending {
	int		 done;
	int		 status;	/* ARES_* */
	unsigned char	*abuf;
	int		 alen;
};

struct dns *
dns_open(const char *servers, long timeout_ms, int tries, char *err,
    size_t errsize)
{
	static int initialised;
	struct ares_options opts;
	struct dns *d;
	int r, nservers = 1;
	const char *p;

	if (!initialised) {
		if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
			snprintf(err, errsize, "c-ares: %s", ares_strerror(r));
			return NULL;
		}
		initialised = 1;
	}
	d = util_calloc(1, sizeof(*d));
	memset(&opts, 0, sizeof(opts));
	opts.timeout = (int)timeout_ms;
	opts.tries = tries;
	/* Names are always fully qualified here: no search list, no
	 * HOSTALIASES file read on behalf of hostile input. */
	opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	r = ares_init_options(&d->chan, &opts, ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_FLAGS);
	if (r != ARES_SUCCESS) {
		snprintf(err, errsize, "c-ares: %s", ares_strerror(r));
		free(d);
		return NULL;
	}
	if (servers != NULL && servers[0] != '\0') {
		r = ares_set_servers_ports_csv(d->chan, servers);
		if (r != ARES_SUCCESS) {
			snprintf(err, errsize, "nameservers \"%s\": %s",
			    servers, ares_strerror(r));
			ares_destroy(d->chan);
			free(d);
			return NULL;
		}
		for (p = servers; (p = strchr(p, ',')) != NULL; p++)
			nservers++;
	} else
		nservers = 3;		/* resolv.conf's MAXNS */
	/* c-ares bounds each try, doubling the timeout at each round of
	 * tries (timeout * (2^tries - 1) per server); this bounds the whole
	 * query in case a server keeps a TCP connection open without
	 * answering. */
	d->max_wait_ms = timeout_ms * ((1L << (tries < 10 ? tries : 10)) - 1) *
	    nservers + 1000;
	return d;
}

void
dns_close(struct dns **dp)
{
	if (*dp == NULL)
		return;
	ares_destroy((*dp)->chan);
	free(*dp);
	*dp = NULL;
}

static void
dns_callback(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_pending *p = arg;

	(void)timeouts;
	p->done = 1;
	p->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
		p->abuf = malloc((size_t)alen);
		if (p->abuf == NULL) {
			p->status = ARES_ENOMEM;
			return;
		}
		memcpy(p->abuf, abuf, (size_t)alen);
		p->alen = alen;
	}
}

/* Drive c-ares until the query is answered or max_wait_ms pass. */
static void
dns_wait(struct dns *d, struct dns_pending *p)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	struct timeval tv, *tvp;
	int64_t deadline = util_now_usec() + d->max_wait_ms * 1000;
	unsigned int bits;
	int i, n, wait_ms, ready;

	while (!p->done) {
		int64_t left = (deadline - util_now_usec()) / 1000;

		if (left <= 0) {
			ares_cancel(d->chan);	/* calls back: ECANCELLED */
			break;
		}
		/* c-ares's ARES_GETSOCK_WRITABLE() shifts a signed 1 into
		 * the sign bit for the last socket: test the bits here. */
		bits = (unsigned int)ares_getsock(d->chan, socks,
		    ARES_GETSOCK_MAXNUM);
		for (i = n = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			unsigned int rd = bits & (1u << i);
			unsigned int wr = bits & (1u << (i +
			    ARES_GETSOCK_MAXNUM));

			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (short)((rd ? POLLIN : 0) |
			    (wr ? POLLOUT : 0));
			pfd[n].revents = 0;
			n++;
		}
		tvp = ares_timeout(d->chan, NULL, &tv);
		wait_ms = tvp == NULL ? 1000 :
		    (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000);
		if (wait_ms > left)
			wait_ms = (int)left;
		ready = poll(pfd, (nfds_t)n, wait_ms);
		if (ready < 0 && errno != EINTR)
			break;
		if (ready <= 0) {
			/* Let c-ares notice its timeouts. */
			ares_process_fd(d->chan, ARES_SOCKET_BAD,
			    ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				ares_process_fd(d->chan,
				    (pfd[i].revents & (POLLIN | POLLERR |
				    POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD,
				    (pfd[i].revents & POLLOUT) ? pfd[i].fd :
				    ARES_SOCKET_BAD);
	}
	if (!p->done) {
		p->done = 1;
		p->status = ARES_ETIMEOUT;
	}
}

/* One record of the asked type from the answer section, into rr. */
static int
dns_parse_rr(ns_msg *msg, ns_rr *nrr, struct dns_rr *rr)
{
	const unsigned char *rd = ns_rr_rdata(*nrr);
	size_t rdlen = ns_rr_rdlen(*nrr), i, o;
	char name[NS_MAXDNAME];

	rr->type = ns_rr_type(*nrr);
	rr->ttl = ns_rr_ttl(*nrr);
	switch (rr->type) {
	case DNS_T_A:
		if (rdlen != sizeof(rr->a))
			return -1;
		memcpy(&rr->a, rd, sizeof(rr->a));
		return 0;
	case DNS_T_AAAA:
		if (rdlen != sizeof(rr->aaaa))
			return -1;
		memcpy(&rr->aaaa, rd, sizeof(rr->aaaa));
		return 0;
	case DNS_T_MX:
		if (rdlen < 3)
			return -1;
		rr->pref = ns_get16(rd);
		rd += 2;
		/* FALLTHROUGH */
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), rd,
		    name, sizeof(name)) < 0)
			return -1;
		if (strcmp(name, ".") == 0)
			name[0] = '\0';
		rr->data = util_strdup(name);
		rr->datalen = strlen(name);
		return 0;
	case DNS_T_TXT:
	case DNS_T_SPF:
		/* <length><octets>..., joined without separator. */
		rr->data = util_calloc(rdlen + 1, 1);
		for (i = o = 0; i < rdlen; ) {
			size_t len = rd[i++];

			if (len > rdlen - i)
				len = rdlen - i;
			memcpy(rr->data + o, rd + i, len);
			o += len;
			i += len;
		}
		rr->datalen = o;
		return 0;
	}
	return -1;
}

static void
dns_parse(const unsigned char *abuf, int alen, int type,
    struct dns_result *res)
{
	ns_msg msg;
	ns_rr nrr;
	int i, count;

	if (ns_initparse(abuf, alen, &msg) < 0) {
		res->status = DNS_TEMPFAIL;
		snprintf(res->why, sizeof(res->why), "malformed answer");
		return;
	}
	count = ns_msg_count(msg, ns_s_an);
	res->rr = util_calloc(count > 0 ? (size_t)count : 1,
	    sizeof(*res->rr));
	for (i = 0; i < count && res->nrr < DNS_MAX_RRS; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &nrr) < 0)
			break;
		/* A CNAME chain comes with the answer: keep what was
		 * asked for, wherever the chain led. */
		if ((int)ns_rr_type(nrr) != type || ns_rr_class(nrr) != ns_c_in)
			continue;
		if (dns_parse_rr(&msg, &nrr, &res->rr[res->nrr]) == 0)
			res->nrr++;
	}
	res->status = res->nrr > 0 ? DNS_OK : DNS_NODATA;
}

enum dns_status
dns_query(struct dns *d, const char *name, int type, struct dns_result *res)
{
	struct dns_pending p;
	char qname[NS_MAXDNAME];
	size_t len;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	/* "example.com." and "example.com" are the same question. */
	len = strlen(name);
	if (len == 0 || len >= sizeof(qname)) {
		res->status = DNS_BADNAME;
		snprintf(res->why, sizeof(res->why), "bad name");
		return res->status;
	}
	memcpy(qname, name, len + 1);
	if (len > 1 && qname[len - 1] == '.')
		qname[len - 1] = '\0';
	ares_query(d->chan, qname, ns_c_in, type, dns_callback, &p);
	dns_wait(d, &p);
	switch (p.status) {
	case ARES_SUCCESS:
		dns_parse(p.abuf, p.alen, type, res);
		break;
	case ARES_ENODATA:
		res->status = DNS_NODATA;
		break;
	case ARES_ENOTFOUND:
		res->status = DNS_NXDOMAIN;
		break;
	case ARES_EBADNAME:
		res->status = DNS_BADNAME;
		break;
	default:
		res->status = DNS_TEMPFAIL;
		break;
	}
	if (res->status != DNS_OK && res->why[0] == '\0')
		snprintf(res->why, sizeof(res->why), "%s",
		    p.status == ARES_SUCCESS ? "no records" :
		    ares_strerror(p.status));
	free(p.abuf);
	return res->status;
}

void
dns_result_free(struct dns_result *res)
{
	size_t i;

	for (i = 0; i < res->nrr; i++)
		free(res->rr[i].data);
	free(res->rr);
	res->rr = NULL;
	res->nrr = 0;
}

const char *
dns_status_str(enum dns_status st)
{
	switch (st) {
	case DNS_OK:		return "ok";
	case DNS_NXDOMAIN:	return "no such domain";
	case DNS_NODATA:	return "no records";
	case DNS_TEMPFAIL:	return "temporary failure";
	case DNS_BADNAME:	return "malformed name";
	}
	return "?";
}

const char *
dns_type_str(int type)
{
	switch (type) {
	case DNS_T_A:		return "A";
	case DNS_T_CNAME:	return "CNAME";
	case DNS_T_PTR:		return "PTR";
	case DNS_T_MX:		return "MX";
	case DNS_T_TXT:		return "TXT";
	case DNS_T_AAAA:	return "AAAA";
	case DNS_T_SPF:		return "SPF";
	}
	return "?";
}
