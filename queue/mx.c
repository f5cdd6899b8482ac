/*
 * Where a domain's mail goes (RFC 5321 §5.1): its MX hosts by preference,
 * in random order among equal preferences (so load spreads); the domain
 * itself as an implicit MX when it has none; nowhere for a null MX
 * (RFC 7505), or for a domain that does not exist.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"
#include "queue.h"

static int
mx_cmp(const void *a, const void *b)
{
	const struct mx_host *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->shuffle < y->shuffle ? -1 : x->shuffle > y->shuffle;
}

enum mx_status
mx_lookup(struct dns *dns, const char *domain, struct mx_host *hosts,
    size_t max, size_t *n_r, char *why, size_t whysize)
{
	struct dns_result res;
	size_t i, n = 0;

	*n_r = 0;
	switch (dns_query(dns, domain, DNS_T_MX, &res)) {
	case DNS_OK:
		break;
	case DNS_NODATA:
		/* No MX: the domain's own address records (§5.1). */
		dns_result_free(&res);
		util_strcpy(hosts[0].name, domain, sizeof(hosts[0].name));
		hosts[0].pref = 0;
		hosts[0].implicit = 1;
		*n_r = 1;
		return MX_OK;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		snprintf(why, whysize, "5.1.2 domain %s does not exist (%s)",
		    domain, res.why);
		dns_result_free(&res);
		return MX_NODOMAIN;
	default:
		snprintf(why, whysize, "4.4.3 MX lookup for %s failed: %s",
		    domain, res.why);
		dns_result_free(&res);
		return MX_TEMP;
	}
	for (i = 0; i < res.nrr; i++) {
		/* RFC 7505 §3: "0 ." says the domain takes no mail. */
		if (res.rr[i].data[0] == '\0') {
			snprintf(why, whysize, "5.1.10 domain %s accepts no "
			    "mail (null MX, RFC 7505)", domain);
			dns_result_free(&res);
			return MX_NULL;
		}
		if (n == max)
			continue;
		if (util_strcpy(hosts[n].name, res.rr[i].data,
		    sizeof(hosts[n].name)) == -1)
			continue;
		hosts[n].pref = res.rr[i].pref;
		hosts[n].shuffle = util_random();
		hosts[n].implicit = 0;
		n++;
	}
	dns_result_free(&res);
	qsort(hosts, n, sizeof(*hosts), mx_cmp);
	*n_r = n;
	if (n == 0) {
		snprintf(why, whysize, "4.4.3 no usable MX host for %s",
		    domain);
		return MX_TEMP;
	}
	return MX_OK;
}

enum dns_status
mx_addresses(struct dns *dns, const char *host,
    char addrs[][INET6_ADDRSTRLEN], size_t max, size_t *n_r, char *why,
    size_t whysize)
{
	static const int types[] = { DNS_T_A, DNS_T_AAAA };
	struct dns_result res;
	enum dns_status st, worst = DNS_NXDOMAIN;
	size_t i, t, n = 0;

	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		st = dns_query(dns, host, types[t], &res);
		for (i = 0; i < res.nrr && n < max; i++)
			inet_ntop(types[t] == DNS_T_A ? AF_INET : AF_INET6,
			    types[t] == DNS_T_A ? (const void *)&res.rr[i].a :
			    (const void *)&res.rr[i].aaaa, addrs[n++],
			    INET6_ADDRSTRLEN);
		/* The most hopeful answer decides: a name with an AAAA
		 * record and no A exists. */
		if (st == DNS_OK || (st == DNS_TEMPFAIL && worst != DNS_OK) ||
		    (st == DNS_NODATA && worst == DNS_NXDOMAIN))
			worst = st;
		if (st != DNS_OK)
			snprintf(why, whysize, "%s %s: %s", dns_type_str(
			    types[t]), host, res.why);
		dns_result_free(&res);
	}
	*n_r = n;
	return n > 0 ? DNS_OK : worst;
}
