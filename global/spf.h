/*
 * spf: Sender Policy Framework checks (RFC 7208) with libspf2, its DNS
 * questions answered by lib/dns (so tests and administrators can point
 * them at any nameserver).  smtpd judges mail on port 25 with it, and
 * "mailctl spf check" shows an administrator the same verdict.
 */
#ifndef SPF_H
#define SPF_H

#include <stddef.h>

struct dns;
struct spf;

/* RFC 7208 §2.6 */
enum spf_verdict {
	SPFV_NONE,
	SPFV_NEUTRAL,
	SPFV_PASS,
	SPFV_FAIL,
	SPFV_SOFTFAIL,
	SPFV_TEMPERROR,
	SPFV_PERMERROR,
};

struct spf_result {
	enum spf_verdict verdict;
	/* For a fail: the domain's explanation (exp=, RFC 7208 §6.2) or
	 * ours; safe printable ASCII for an SMTP reply.  Else "". */
	char		 explanation[512];
	/* The value of a Received-SPF: header (RFC 7208 §9.1), one line. */
	char		 received_spf[1024];
	/* The method of an Authentication-Results: header (RFC 8601
	 * §2.7.2), e.g. "spf=pass smtp.mailfrom=example.org". */
	char		 auth_results[320];
	/* The domain that was checked (MAIL FROM's, or HELO's for <>). */
	char		 domain[256];
};

/*
 * A checker using dns for its lookups and receiver (this host's name)
 * in headers and the %{r} macro.  NULL with a message in err.
 */
struct spf *spf_new(struct dns *dns, const char *receiver, char *err,
	    size_t errsize);
void	spf_free(struct spf **s);

/*
 * Check client_ip (numeric v4 or v6) sending as mail_from (the reverse
 * path without <>, "" for the null sender, whose check uses the HELO
 * identity: RFC 7208 §2.4) after saying helo.  Always fills r; returns
 * the verdict.
 */
enum spf_verdict spf_check(struct spf *s, const char *client_ip,
	    const char *helo, const char *mail_from, struct spf_result *r);
const char *spf_verdict_str(enum spf_verdict v);

#endif
