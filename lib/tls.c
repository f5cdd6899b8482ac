#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "util.h"

/* Mozilla's "intermediate" TLS 1.2 list: ECDHE, AEAD only. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tls_ctx {
	SSL_CTX	*ctx;
};

struct tls_conn {
	SSL	*ssl;
};

static void
tls_errstr(char *err, size_t errsize, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errsize, "%s: %s", what, e ? buf : strerror(errno));
	ERR_clear_error();
}

static SSL_CTX *
tls_ctx_common(const SSL_METHOD *method, char *err, size_t errsize)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		tls_errstr(err, errsize, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		tls_errstr(err, errsize, "cipher list");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

struct tls_ctx *
tls_server_ctx(const char *cert_file, const char *key_file, char *err,
    size_t errsize)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;

	if ((ctx = tls_ctx_common(TLS_server_method(), err, errsize)) == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		tls_errstr(err, errsize, cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		tls_errstr(err, errsize, key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_errstr(err, errsize, "key does not match certificate");
		goto fail;
	}
	/* Each session is its own process: a session cache cannot be shared
	 * without more machinery, and tickets do the job statelessly. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	t = util_calloc(1, sizeof(*t));
	t->ctx = ctx;
	return t;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls_ctx *
tls_client_ctx(const char *ca_file, char *err, size_t errsize)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;

	if ((ctx = tls_ctx_common(TLS_client_method(), err, errsize)) == NULL)
		return NULL;
	if ((ca_file != NULL && SSL_CTX_load_verify_locations(ctx, ca_file,
	    NULL) != 1) || (ca_file == NULL &&
	    SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		tls_errstr(err, errsize, ca_file ? ca_file : "CA store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Verify, but let the caller decide what a failure means. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	t = util_calloc(1, sizeof(*t));
	t->ctx = ctx;
	return t;
}

void *
tls_ctx_ssl(struct tls_ctx *ctx)
{
	return ctx->ctx;
}

void
tls_ctx_free(struct tls_ctx **t)
{
	if (*t == NULL)
		return;
	SSL_CTX_free((*t)->ctx);
	free(*t);
	*t = NULL;
}

void
tls_conn_free(struct tls_conn **t)
{
	if (*t == NULL)
		return;
	/* close_notify, once, without waiting for the peer's (RFC 8446
	 * §6.1 lets the closing side go); the socket is non-blocking. */
	if (SSL_is_init_finished((*t)->ssl))
		SSL_shutdown((*t)->ssl);
	ERR_clear_error();
	SSL_free((*t)->ssl);
	free(*t);
	*t = NULL;
}

/* Wait as OpenSSL asks; 0 to retry, -1 error, -2 timeout. */
static int
tls_wait(SSL *ssl, struct conn *c, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return conn_wait(c, POLLIN);
	case SSL_ERROR_WANT_WRITE:
		return conn_wait(c, POLLOUT);
	default:
		return -1;
	}
}

static int
tls_handshake(struct conn *c, struct tls_ctx *ctx, const char *sni,
    const char **err)
{
	static char msg[256];
	struct tls_conn *t;
	int r, w;

	t = util_calloc(1, sizeof(*t));
	if ((t->ssl = SSL_new(ctx->ctx)) == NULL ||
	    SSL_set_fd(t->ssl, c->fd) != 1) {
		tls_errstr(msg, sizeof(msg), "SSL_new");
		*err = msg;
		tls_conn_free(&t);
		return -1;
	}
	if (sni != NULL) {
		SSL_set_tlsext_host_name(t->ssl, sni);
		SSL_set1_host(t->ssl, sni);
	}
	net_set_nonblock(c->fd, 1);
	for (;;) {
		ERR_clear_error();
		r = sni != NULL ? SSL_connect(t->ssl) : SSL_accept(t->ssl);
		if (r == 1)
			break;
		if ((w = tls_wait(t->ssl, c, r)) != 0) {
			if (w == -2)
				snprintf(msg, sizeof(msg), "handshake timed out");
			else
				tls_errstr(msg, sizeof(msg), "handshake");
			*err = msg;
			tls_conn_free(&t);
			return -1;
		}
	}
	c->tls = t;
	return 0;
}

int
tls_accept(struct conn *c, struct tls_ctx *ctx, const char **err)
{
	return tls_handshake(c, ctx, NULL, err);
}

int
tls_connect(struct conn *c, struct tls_ctx *ctx, const char *sni,
    const char **err)
{
	return tls_handshake(c, ctx, sni != NULL ? sni : "", err);
}

int
tls_starttls(struct conn *c, struct tls_ctx *ctx, size_t *discarded,
    const char **err)
{
	if (conn_flush(c) == -1) {
		*err = "cannot send the reply";
		return -1;
	}
	if ((*discarded = conn_pending(c)) > 0)
		lr_discard(&c->lr);
	return tls_accept(c, ctx, err);
}

int
tls_peer_verified(const struct conn *c, const char **why)
{
	const struct tls_conn *t = c->tls;
	X509 *peer;
	long r;

	if (t == NULL) {
		*why = "no TLS";
		return 0;
	}
	if ((peer = SSL_get1_peer_certificate(t->ssl)) == NULL) {
		*why = "no certificate";
		return 0;
	}
	X509_free(peer);
	if ((r = SSL_get_verify_result(t->ssl)) != X509_V_OK) {
		*why = X509_verify_cert_error_string(r);
		return 0;
	}
	*why = "verified";
	return 1;
}

ssize_t
tls_read(struct tls_conn *t, struct conn *c, void *buf, size_t len)
{
	int r, w;

	if (len > INT32_MAX)
		len = INT32_MAX;
	for (;;) {
		ERR_clear_error();
		r = SSL_read(t->ssl, buf, (int)len);
		if (r > 0)
			return r;
		if (SSL_get_error(t->ssl, r) == SSL_ERROR_ZERO_RETURN)
			return 0;
		if ((w = tls_wait(t->ssl, c, r)) != 0) {
			/* A peer that just closes the socket is an EOF too. */
			if (w == -1 && SSL_get_error(t->ssl, r) ==
			    SSL_ERROR_SYSCALL && errno == 0)
				return 0;
			return w;
		}
	}
}

size_t
tls_pending(const struct tls_conn *t)
{
	int n = SSL_pending(t->ssl);

	return n > 0 ? (size_t)n : 0;
}

ssize_t
tls_write(struct tls_conn *t, struct conn *c, const void *buf, size_t len)
{
	int r;

	if (len > INT32_MAX)
		len = INT32_MAX;
	for (;;) {
		ERR_clear_error();
		r = SSL_write(t->ssl, buf, (int)len);
		if (r > 0)
			return r;
		if (tls_wait(t->ssl, c, r) != 0)
			return -1;
	}
}

const char *
tls_version(const struct conn *c)
{
	return c->tls ? SSL_get_version(((struct tls_conn *)c->tls)->ssl) : "";
}

const char *
tls_cipher(const struct conn *c)
{
	return c->tls ? SSL_get_cipher_name(((struct tls_conn *)c->tls)->ssl) :
	    "";
}

int
tls_cipher_bits(const struct conn *c)
{
	return c->tls ? SSL_get_cipher_bits(((struct tls_conn *)c->tls)->ssl,
	    NULL) : 0;
}
