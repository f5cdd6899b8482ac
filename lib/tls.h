/*
 * tls: OpenSSL 3 for every daemon: TLS 1.2 and 1.3 only, forward-secret
 * AEAD ciphers only, no compression, no renegotiation.
 *
 * The server context (certificate chain and key) is loaded before
 * privileges are dropped; the handshake happens on a struct conn, whose
 * reads and writes then go through TLS.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <sys/types.h>

struct conn;
struct tls_ctx;
struct tls_conn;

/* Server context from PEM files; NULL with a message in err. */
struct tls_ctx *tls_server_ctx(const char *cert_file, const char *key_file,
	    char *err, size_t errsize);
/*
 * Client context: verify against ca_file (or the system store if NULL);
 * verification results are reported, and enforced only if asked.
 */
struct tls_ctx *tls_client_ctx(const char *ca_file, char *err, size_t errsize);
void	tls_ctx_free(struct tls_ctx **ctx);
/* Its OpenSSL SSL_CTX, for a library that drives TLS itself (libevent's
 * bufferevent_openssl). */
void	*tls_ctx_ssl(struct tls_ctx *ctx);

/* Handshake as server / client on c; 0, or -1 with a reason in *err. */
int	tls_accept(struct conn *c, struct tls_ctx *ctx, const char **err);
int	tls_connect(struct conn *c, struct tls_ctx *ctx, const char *sni,
	    const char **err);
/*
 * STARTTLS on the server side (SMTP RFC 3207, POP3 and IMAP RFC 2595),
 * after the protocol's "go ahead" reply is queued: send it, throw away
 * whatever the client pipelined in the clear behind the command (it must
 * never be taken as coming over TLS: CVE-2011-0411), and handshake.
 * *discarded tells how many octets were dropped (for the log).
 * 0, or -1 with *err: the connection is then unusable.
 */
int	tls_starttls(struct conn *c, struct tls_ctx *ctx, size_t *discarded,
	    const char **err);
/* After tls_connect: did the peer's certificate verify for sni? */
int	tls_peer_verified(const struct conn *c, const char **why);

/* Used by conn: as recv/send with the conn's timeout; -2 on timeout. */
ssize_t	tls_read(struct tls_conn *t, struct conn *c, void *buf, size_t len);
ssize_t	tls_write(struct tls_conn *t, struct conn *c, const void *buf,
	    size_t len);
void	tls_conn_free(struct tls_conn **t);
/* Octets decrypted and waiting inside OpenSSL (poll(2) cannot see them). */
size_t	tls_pending(const struct tls_conn *t);

/* "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256; for logs and Received:. */
const char *tls_version(const struct conn *c);
const char *tls_cipher(const struct conn *c);
int	tls_cipher_bits(const struct conn *c);

#endif
