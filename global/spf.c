/*
 * SPF with libspf2.  libspf2 asks its questions through a "DNS layer";
 * ours answers them with lib/dns, so every lookup goes to dns.resolver.
 *
 * We run the evaluation steps of SPF_request_query_mailfrom() ourselves
 * (get the record, interpret it) because that function gives every
 * loopback client a "pass" without looking: whether loopback clients are
 * checked is the caller's policy (smtpd: spf.skip_loopback), and an
 * administrator asking "mailctl spf check 127.0.0.1 ..." wants the answer.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#include "../lib/dns.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "spf.h"

/* Our explanation for a fail when the domain gives none (RFC 7208 §6.2
 * leaves it to the receiver); macros expanded by libspf2. */
#define SPF_OUR_EXPLANATION \
	"%{o}%_does%_not%_designate%_%{i}%_as%_a%_permitted%_sender"

struct spf {
	SPF_server_t	*server;
	char		 receiver[256];
	SPF_dns_server_t *layer;	/* freed by SPF_server_free */
};

static void spf_copy_safe(char *dst, size_t size, const char *src);

/* ---- libspf2's messages go to our log ---- */

static void spf_log_error(const char *, int, const char *)
    __attribute__((noreturn));

static void
spf_log_error(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	/* libspf2 calls this only for broken invariants. */
	fatalx("libspf2: %s", msg);
}

static void
spf_log_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_debug("libspf2: %s", log_str(msg));
}

static void
spf_log_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

/* ---- the DNS layer ---- */

/*
 * A TXT record as libspf2 should see it; its parser has two defects we
 * work around here, where the whole record is still at hand:
 *
 * - It compiles an explanation (RFC 7208 §6.2: the TXT record exp=
 *   names, where spaces are plain text) with its macro-string parser,
 *   which takes a literal space for a '%' escape and garbles the rest
 *   ("%{i} is bad" came out "1.2.3.4%is%bad").  So in a TXT record that
 *   is not an SPF record a space is written as the macro "%_".
 * - It keeps records as C strings, so an SPF record with a NUL in it
 *   would be silently cut there.  A NUL becomes "%{", a macro that
 *   cannot compile: the record is a permerror, as malformed records
 *   are (RFC 7208 §4.6).
 *
 * SPF records (§4.5: "v=spf1" then a space or the end) are told apart
 * by their start.  dst has room for 2 * len + 1 octets.
 */
static int
spf_is_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (txt[6] == ' ' || txt[6] == '\0');
}

static void
spf_txt_for_libspf2(char *dst, const char *src, size_t len)
{
	int record = spf_is_record(src);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (!record && src[i] == ' ') {
			dst[o++] = '%';
			dst[o++] = '_';
		} else if (record && src[i] == '\0') {
			dst[o++] = '%';
			dst[o++] = '{';
		} else
			dst[o++] = src[i];
	}
	dst[o] = '\0';
}

static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
    int should_cache)
{
	struct dns *dns = layer->hook;
	struct dns_result res;
	SPF_dns_rr_t *rr;
	SPF_dns_stat_t herrno;
	size_t i;
	int n = 0;

	(void)should_cache;
	/* RFC 7208 §3.1, §14.1: records of type SPF (99) are obsolete and
	 * never consulted; libspf2 asks for them first, so say there are
	 * none and it goes on to TXT without a round trip. */
	if (type == ns_t_spf)
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	/* RFC 7208 §7.3: an expanded name over 253 octets loses labels
	 * from the left until it fits. */
	while (strlen(domain) > 253 && strchr(domain, '.') != NULL)
		domain = strchr(domain, '.') + 1;
	switch (dns_query(dns, domain, (int)type, &res)) {
	case DNS_OK:
		herrno = NETDB_SUCCESS;
		break;
	case DNS_NODATA:
		herrno = NO_DATA;
		break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		/* A name that cannot exist does not exist (RFC 7208
		 * §4.3: such a domain gives "none"). */
		herrno = HOST_NOT_FOUND;
		break;
	default:
		herrno = TRY_AGAIN;
		break;
	}
	log_debug("spf dns %s %s: %s", dns_type_str((int)type),
	    log_str(domain), res.status == DNS_OK ? "ok" :
	    log_str(res.why));
	rr = SPF_dns_rr_new_init(layer, domain, type,
	    res.nrr > 0 ? (int)res.rr[0].ttl : 0, herrno);
	if (rr == NULL) {
		dns_result_free(&res);
		return NULL;
	}
	for (i = 0; i < res.nrr; i++) {
		const struct dns_rr *r = &res.rr[i];
		size_t size;

		size = r->type == DNS_T_A ? sizeof(r->a) :
		    r->type == DNS_T_AAAA ? sizeof(r->aaaa) :
		    r->type == DNS_T_TXT ? 2 * r->datalen + 1 : r->datalen + 1;
		if (SPF_dns_rr_buf_realloc(rr, n, size) != SPF_E_SUCCESS)
			break;
		if (r->type == DNS_T_A)
			rr->rr[n]->a = r->a;
		else if (r->type == DNS_T_AAAA)
			rr->rr[n]->aaaa = r->aaaa;
		else if (r->type == DNS_T_TXT)
			spf_txt_for_libspf2(rr->rr[n]->txt, r->data,
			    r->datalen);
		else
			memcpy(rr->rr[n]->txt, r->data, r->datalen + 1);
		n++;
	}
	rr->num_rr = n;
	dns_result_free(&res);
	return rr;
}

static void
spf_dns_destroy(SPF_dns_server_t *layer)
{
	free(layer);
}

struct spf *
spf_new(struct dns *dns, const char *receiver, char *err, size_t errsize)
{
	SPF_response_t *resp = NULL;
	struct spf *s;

	SPF_error_handler = spf_log_error;
	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_quiet;
	SPF_debug_handler = spf_log_quiet;

	s = util_calloc(1, sizeof(*s));
	s->layer = util_calloc(1, sizeof(*s->layer));
	s->layer->destroy = spf_dns_destroy;
	s->layer->lookup = spf_dns_lookup;
	s->layer->name = "maild";
	s->layer->hook = dns;
	spf_copy_safe(s->receiver, sizeof(s->receiver), receiver);
	if ((s->server = SPF_server_new_dns(s->layer, 0)) == NULL) {
		snprintf(err, errsize, "libspf2: cannot create a server");
		free(s->layer);
		free(s);
		return NULL;
	}
	if (SPF_server_set_rec_dom(s->server, receiver) != SPF_E_SUCCESS ||
	    SPF_server_set_explanation(s->server, SPF_OUR_EXPLANATION,
	    &resp) != SPF_E_SUCCESS) {
		snprintf(err, errsize, "libspf2: cannot set the receiver "
		    "name \"%s\"", receiver);
		if (resp != NULL)
			SPF_response_free(resp);
		spf_free(&s);
		return NULL;
	}
	if (resp != NULL)
		SPF_response_free(resp);
	return s;
}

void
spf_free(struct spf **sp)
{
	if (*sp == NULL)
		return;
	SPF_server_free((*sp)->server);	/* and the layer */
	free(*sp);
	*sp = NULL;
}

static enum spf_verdict
spf_verdict_of(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return SPFV_PASS;
	case SPF_RESULT_FAIL:		return SPFV_FAIL;
	case SPF_RESULT_SOFTFAIL:	return SPFV_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return SPFV_NEUTRAL;
	case SPF_RESULT_NONE:		return SPFV_NONE;
	case SPF_RESULT_TEMPERROR:	return SPFV_TEMPERROR;
	case SPF_RESULT_PERMERROR:	return SPFV_PERMERROR;
	default:			return SPFV_PERMERROR;
	}
}

/* Untrusted text (a domain's exp= record, names from DNS) made safe for
 * an SMTP reply or a header: printable ASCII only, one line. */
static void
spf_copy_safe(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	if (src != NULL)
		for (; *src != '\0' && o + 1 < size; src++)
			dst[o++] = isprint((unsigned char)*src) ? *src : '?';
	dst[o] = '\0';
}

/*
 * The verdict when no record was interpreted: SPF_server_get_record()
 * reports "none" and DNS failures through its error code, and a record
 * that does not compile as an error in the response.
 */
static enum spf_verdict
spf_verdict_without_record(SPF_response_t *resp, SPF_errcode_t err,
    const char **problem)
{
	int i;

	if (err == SPF_E_DNS_ERROR)
		return SPFV_TEMPERROR;
	if (SPF_response_result(resp) == SPF_RESULT_PERMERROR) {
		*problem = SPF_strerror(resp->err);
		return SPFV_PERMERROR;		/* several records */
	}
	for (i = 0; i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e) && SPF_error_code(e) != SPF_E_NOT_SPF) {
			*problem = SPF_error_message(e);
			return SPFV_PERMERROR;	/* a record that is wrong */
		}
	}
	return SPFV_NONE;
}

/* Append key="value" (RFC 7208 §9.1: a quoted-string) to buf. */
static void
spf_append_pair(char *buf, size_t size, const char *key, const char *value)
{
	size_t o = strlen(buf);

	o += (size_t)snprintf(buf + o, o < size ? size - o : 0, " %s=\"", key);
	for (; *value != '\0' && o + 4 < size; value++) {
		unsigned char c = (unsigned char)*value;

		if (c == '"' || c == '\\')
			buf[o++] = '\\';
		buf[o++] = isprint(c) ? (char)c : '?';
	}
	if (o + 3 < size) {
		buf[o++] = '"';
		buf[o++] = ';';
	}
	buf[o < size ? o : size - 1] = '\0';
}

/* The Received-SPF: value (RFC 7208 §9.1) and the method part of an
 * Authentication-Results: header (RFC 8601 §2.7.2). */
static void
spf_headers(struct spf_result *r, const char *receiver, const char *ip,
    const char *helo, const char *env_from, const char *problem)
{
	/* The comment of RFC 7208 §9.1's example, per verdict. */
	static const struct {
		const char	*what, *tail;
		int		 with_ip;
	} comments[] = {
		[SPFV_NONE] = { "does not publish SPF", "", 0 },
		[SPFV_NEUTRAL] = { "neither permits nor denies", "", 1 },
		[SPFV_PASS] = { "designates", " as permitted sender", 1 },
		[SPFV_FAIL] = { "does not designate", " as permitted sender",
		    1 },
		[SPFV_SOFTFAIL] = { "discourages use of", " as permitted sender",
		    1 },
		[SPFV_TEMPERROR] = { "could not be checked (temporary DNS "
		    "error)", "", 0 },
		[SPFV_PERMERROR] = { "has an SPF record in error", "", 0 },
	};
	const char *v = spf_verdict_str(r->verdict);
	char comment[512];

	snprintf(comment, sizeof(comment), "domain of %s %s%s%s%s", r->domain,
	    comments[r->verdict].what, comments[r->verdict].with_ip ? " " : "",
	    comments[r->verdict].with_ip ? ip : "", comments[r->verdict].tail);
	snprintf(r->received_spf, sizeof(r->received_spf), "%s (%s: %s) "
	    "client-ip=%s;", v, receiver, comment, ip);
	spf_append_pair(r->received_spf, sizeof(r->received_spf),
	    "envelope-from", env_from);
	spf_append_pair(r->received_spf, sizeof(r->received_spf), "helo",
	    helo);
	if (problem != NULL)
		spf_append_pair(r->received_spf, sizeof(r->received_spf),
		    "problem", problem);
	spf_append_pair(r->received_spf, sizeof(r->received_spf), "receiver",
	    receiver);
	snprintf(r->received_spf + strlen(r->received_spf),
	    sizeof(r->received_spf) - strlen(r->received_spf),
	    " identity=mailfrom;");
	snprintf(r->auth_results, sizeof(r->auth_results),
	    "spf=%s smtp.mailfrom=%s", v, r->domain);
}

/*
 * The client address; an IPv4-mapped IPv6 address (a dual-stack socket's
 * view of an IPv4 client) is the IPv4 client it stands for, and ip6
 * mechanisms do not match it (RFC 7208 §5.6; the RFC 7208 test suite's
 * "ip4mapped" cases).
 */
static int
spf_set_client(SPF_request_t *req, const char *client_ip, char *ip,
    size_t ipsize)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, client_ip, &a4) == 1)
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
	if (inet_pton(AF_INET6, client_ip, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		inet_ntop(AF_INET, &a4, ip, (socklen_t)ipsize);
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
	}
	return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1;
}

enum spf_verdict
spf_check(struct spf *s, const char *client_ip, const char *helo,
    const char *mail_from, struct spf_result *r)
{
	SPF_request_t *req;
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;
	const char *problem = NULL;
	char ip[64], safe_helo[256], env_from[600];

	memset(r, 0, sizeof(*r));
	spf_copy_safe(ip, sizeof(ip), client_ip);
	spf_copy_safe(safe_helo, sizeof(safe_helo), helo != NULL ? helo : "");
	if ((req = SPF_request_new(s->server)) == NULL)
		fatalx("libspf2: out of memory");
	if (spf_set_client(req, client_ip, ip, sizeof(ip)) == -1) {
		SPF_request_free(req);
		r->verdict = SPFV_PERMERROR;
		spf_copy_safe(r->domain, sizeof(r->domain), mail_from);
		spf_headers(r, s->receiver, ip, safe_helo, "",
		    "not an IP address");
		return r->verdict;
	}
	/* The HELO name first: for the null sender libspf2 then checks
	 * postmaster@<HELO> (RFC 7208 §2.4). */
	if (helo != NULL && helo[0] != '\0')
		SPF_request_set_helo_dom(req, helo);
	SPF_request_set_env_from(req, mail_from != NULL ? mail_from : "");
	spf_copy_safe(r->domain, sizeof(r->domain),
	    req->env_from_dp != NULL ? req->env_from_dp : "");
	spf_copy_safe(env_from, sizeof(env_from),
	    req->env_from != NULL ? req->env_from : "");

	/* SPF_request_query_mailfrom() without its loopback shortcut. */
	if ((resp = SPF_response_new(req)) == NULL)
		fatalx("libspf2: out of memory");
	req->use_helo = 0;
	req->cur_dom = req->env_from_dp;
	err = req->cur_dom == NULL ? SPF_E_NOT_SPF :
	    SPF_server_get_record(s->server, req, resp, &rec);
	if (err == SPF_E_SUCCESS && rec != NULL) {
		resp->spf_record_exp = rec;
		SPF_record_interpret(rec, req, resp, 0);
		r->verdict = spf_verdict_of(SPF_response_result(resp));
		if (r->verdict == SPFV_PERMERROR)
			problem = SPF_strerror(resp->err);
	} else
		r->verdict = spf_verdict_without_record(resp, err, &problem);
	if (rec != NULL)
		SPF_record_free(rec);
	resp->spf_record_exp = NULL;

	if (r->verdict == SPFV_FAIL)
		spf_copy_safe(r->explanation, sizeof(r->explanation),
		    SPF_response_get_explanation(resp));
	spf_headers(r, s->receiver, ip, safe_helo, env_from, problem);
	SPF_response_free(resp);
	SPF_request_free(req);
	return r->verdict;
}

const char *
spf_verdict_str(enum spf_verdict v)
{
	switch (v) {
	case SPFV_NONE:		return "none";
	case SPFV_NEUTRAL:	return "neutral";
	case SPFV_PASS:		return "pass";
	case SPFV_FAIL:		return "fail";
	case SPFV_SOFTFAIL:	return "softfail";
	case SPFV_TEMPERROR:	return "temperror";
	case SPFV_PERMERROR:	return "permerror";
	}
	return "?";
}
