/*
 * dns: every DNS lookup the server makes (MX and addresses for outbound
 * delivery; TXT, A, AAAA, MX and PTR for SPF) goes through one resolver,
 * c-ares, pointed at the nameserver of dns.resolver (the system's
 * /etc/resolv.conf when empty), with a timeout per try.
 *
 * The lookups are synchronous: each daemon process handles one session
 * or one delivery at a time, so a blocking call with a bounded wait keeps
 * its code linear.  c-ares does the transport (UDP, TCP when an answer is
 * truncated, retries); the answer is parsed with libresolv's ns_parserr(),
 * which handles every record type alike (SPF's TXT as well as MX).
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct dns;

enum dns_status {
	DNS_OK,			/* records of the type asked for */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* it exists, without records of that type */
	DNS_TEMPFAIL,		/* timeout, SERVFAIL, no server: try later */
	DNS_BADNAME,		/* not a name that can be asked (RFC 1035
				   §2.3.4: a label over 63 octets, ...) */
};

/* Record types, as on the wire (RFC 1035, 3596, 7208). */
#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_SPF	99

struct dns_rr {
	uint16_t	 type;
	uint32_t	 ttl;
	uint16_t	 pref;		/* MX preference */
	struct in_addr	 a;		/* A */
	struct in6_addr	 aaaa;		/* AAAA */
	/* MX exchange, PTR or CNAME target (a name without the final
	 * dot; "" for the root, as in a null MX); TXT and SPF: the
	 * character-strings joined (RFC 7208 §3.3), NUL-terminated. */
	char		*data;
	size_t		 datalen;
};

struct dns_result {
	enum dns_status	 status;
	struct dns_rr	*rr;
	size_t		 nrr;
	char		 why[128];	/* what went wrong, for logs */
};

/*
 * A resolver.  servers: "" for the system's, else "host:port" entries
 * separated by commas ("127.0.0.1:5353", "[::1]:53").  timeout_ms per
 * try, tries per server.  NULL with a message in err.
 */
struct dns *dns_open(const char *servers, long timeout_ms, int tries,
	    char *err, size_t errsize);
void	dns_close(struct dns **d);

/*
 * Ask for records of one type.  Never waits longer than the timeouts
 * allow; res is always filled in (free it with dns_result_free).
 */
enum dns_status dns_query(struct dns *d, const char *name, int type,
	    struct dns_result *res);
void	dns_result_free(struct dns_result *res);
const char *dns_status_str(enum dns_status st);
const char *dns_type_str(int type);

#endif
