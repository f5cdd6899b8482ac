/*
 * The limits on password guessing, and the login cache.
 *
 * Failures are counted per account, per client address and per network
 * (the address's /24, or /64 for IPv6), each forgotten auth.failure_window
 * after its last failure.  A failure is answered after 1, 2, 4 ...
 * seconds (up to auth.failure_delay_max), by the largest count of the
 * three.  Once any of them is under attack (an account with 3 failures,
 * an address with 5, a network with 20), every answer about it, success
 * or failure alike, waits that long, and the answers take turns: one
 * per delay for each account, address and network, however many
 * sessions ask at once.  So parallel sessions gain an attacker nothing,
 * giving up early tells nothing, and a success of one account clears
 * only that account's count, never the address's or another account's.
 * A turn further off than POLICY_QUEUE_MAX is not waited for: the
 * attempt is answered "try later" at once, whatever its verdict.
 *
 * The cache remembers a good (user, password) for auth.cache_ttl as a
 * keyed hash (HMAC-SHA-256 under a key made at start and kept in memory
 * only), so a client that logs in every minute costs one yescrypt an
 * hour.  A password that does not match is always hashed: a wrong one
 * is never answered from the cache.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "authd.h"

#define POLICY_MAX_KEYS		65536	/* counters kept at once */
#define POLICY_MAX_CACHE	65536	/* cached logins */
#define POLICY_BUCKETS		4096

/* Under attack from this many failures (in the window). */
#define ATTACK_ACCOUNT		3
#define ATTACK_ADDRESS		5
#define ATTACK_NETWORK		20
#define NETWORK_SCALE		4	/* a network's count weighs a quarter */

struct counter {
	char		 key[96];	/* "account x@y", "address ...", ... */
	unsigned int	 fails;
	time_t		 last;		/* of the last failure (wall clock) */
	double		 next_free;	/* its next turn (monotonic) */
	struct counter	*next;
};

struct cached {
	char		 user[320];
	unsigned char	 mac[32];
	time_t		 expires;
	struct cached	*next;
};

static struct counter	*counters[POLICY_BUCKETS];
static size_t		 ncounters;
static struct cached	*cache[POLICY_BUCKETS];
static size_t		 ncached;
static unsigned char	 cache_key[32];

double
policy_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
policy_init(void)
{
	if (RAND_bytes(cache_key, sizeof(cache_key)) != 1)
		fatalx("policy: no random key for the login cache");
}

static unsigned int
policy_hash(const char *s)
{
	unsigned int h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % POLICY_BUCKETS;
}

/* Drop counters whose failures are all forgotten; 1 if any went. */
static int
policy_sweep(time_t now)
{
	struct counter **pp, *c;
	size_t b;
	int any = 0;

	for (b = 0; b < POLICY_BUCKETS; b++)
		for (pp = &counters[b]; (c = *pp) != NULL;)
			if (c->last < now - authd_conf->auth.failure_window &&
			    c->next_free < policy_now()) {
				*pp = c->next;
				free(c);
				ncounters--;
				any = 1;
			} else
				pp = &c->next;
	return any;
}

static struct counter *
policy_counter(const char *key, int create)
{
	struct counter *c;
	unsigned int b = policy_hash(key);
	time_t now = time(NULL);

	for (c = counters[b]; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	if (c != NULL && c->fails > 0 &&
	    c->last < now - authd_conf->auth.failure_window)
		c->fails = 0;		/* forgotten */
	if (c != NULL || !create)
		return c;
	if (ncounters >= POLICY_MAX_KEYS && !policy_sweep(now)) {
		log_warn("auth: %d failure counters in use: not counting %s",
		    POLICY_MAX_KEYS, key);
		return NULL;
	}
	c = util_calloc(1, sizeof(*c));
	util_strcpy(c->key, key, sizeof(c->key));
	c->next = counters[b];
	counters[b] = c;
	ncounters++;
	return c;
}

/* The three keys of an attempt; a NULL-terminated list. */
static void
policy_keys(const char *user, const char *ip, char keys[3][96],
    const char *kp[4])
{
	unsigned char a[16];
	size_t n = 0;

	if (user[0] != '\0') {
		snprintf(keys[n], 96, "account %s", user);
		kp[n] = keys[n];
		n++;
	}
	snprintf(keys[n], 96, "address %s", ip);
	kp[n] = keys[n];
	n++;
	if (inet_pton(AF_INET, ip, a) == 1)
		snprintf(keys[n], 96, "network %u.%u.%u.0/24", a[0], a[1],
		    a[2]);
	else if (inet_pton(AF_INET6, ip, a) == 1)
		snprintf(keys[n], 96, "network %x:%x:%x:%x::/64",
		    a[0] << 8 | a[1], a[2] << 8 | a[3], a[4] << 8 | a[5],
		    a[6] << 8 | a[7]);
	else
		snprintf(keys[n], 96, "network ?");
	kp[n] = keys[n];
	kp[++n] = NULL;
}

static unsigned int
policy_fails(const char *key)
{
	struct counter *c = policy_counter(key, 0);

	return c != NULL ? c->fails : 0;
}

double
policy_turn(const char *user, const char *ip, int ok, unsigned int *delay_r)
{
	char keys[3][96];
	const char *kp[4];
	struct counter *c;
	unsigned int n, level = 0, d;
	double now = policy_now(), start = now, at;
	double max_queue = 4.0 * (double)authd_conf->auth.failure_delay_max;
	int attack = 0;
	size_t i;

	policy_keys(user, ip, keys, kp);
	for (i = 0; kp[i] != NULL; i++) {
		n = policy_fails(kp[i]);
		if (strncmp(kp[i], "account ", 8) == 0)
			attack |= n >= ATTACK_ACCOUNT;
		else if (strncmp(kp[i], "address ", 8) == 0)
			attack |= n >= ATTACK_ADDRESS;
		else {
			attack |= n >= ATTACK_NETWORK;
			n /= NETWORK_SCALE;
		}
		if (n > level)
			level = n;
	}
	d = level > 16 ? UINT32_MAX : 1u << level;
	if (d > (unsigned int)authd_conf->auth.failure_delay_max)
		d = (unsigned int)authd_conf->auth.failure_delay_max;
	if (!attack) {
		*delay_r = ok ? 0 : d;
		return now + *delay_r;
	}
	/* Under attack: the same delay for every verdict, by turns. */
	for (i = 0; kp[i] != NULL; i++)
		if ((c = policy_counter(kp[i], 1)) != NULL &&
		    c->next_free > start)
			start = c->next_free;
	at = start + d;
	if (at - now > (max_queue < 10 ? 10 : max_queue))
		return -1;
	for (i = 0; kp[i] != NULL; i++)
		if ((c = policy_counter(kp[i], 1)) != NULL)
			c->next_free = at;
	*delay_r = (unsigned int)(at - now + 0.5);
	return at;
}

void
policy_count(const char *user, const char *ip, int ok)
{
	char keys[3][96];
	const char *kp[4];
	struct counter *c;
	size_t i;

	policy_keys(user, ip, keys, kp);
	if (ok) {
		if (user[0] != '\0' && (c = policy_counter(kp[0], 0)) != NULL)
			c->fails = 0;
		return;
	}
	for (i = 0; kp[i] != NULL; i++)
		if ((c = policy_counter(kp[i], 1)) != NULL) {
			c->fails++;
			c->last = time(NULL);
		}
}

/* ---- the login cache ---- */

static void
policy_mac(const char *user, const char *password, unsigned char mac[32])
{
	unsigned char in[320 + 1 + 1025];
	unsigned int len = 32;
	size_t u = strlen(user), p = strlen(password);

	/* user NUL password: no two pairs give the same input */
	if (u >= 320 || p > 1024 ||
	    (memcpy(in, user, u + 1), memcpy(in + u + 1, password, p),
	    HMAC(EVP_sha256(), cache_key, sizeof(cache_key), in, u + 1 + p,
	    mac, &len) == NULL))
		memset(mac, 0, 32);	/* matches nothing: a put made none */
	explicit_bzero(in, sizeof(in));
}

static struct cached **
policy_cache_find(const char *user)
{
	struct cached **pp;

	for (pp = &cache[policy_hash(user)]; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->user, user) == 0)
			break;
	return pp;
}

int
policy_cache_hit(const char *user, const char *password)
{
	struct cached *e = *policy_cache_find(user);
	unsigned char mac[32];
	static const unsigned char none[32];

	if (e == NULL || e->expires < time(NULL))
		return 0;
	policy_mac(user, password, mac);
	return CRYPTO_memcmp(mac, e->mac, 32) == 0 &&
	    CRYPTO_memcmp(mac, none, 32) != 0;
}

void
policy_cache_put(const char *user, const char *password)
{
	struct cached **pp, *e;
	size_t b;
	time_t now = time(NULL);

	if (authd_conf->auth.cache_ttl <= 0)
		return;
	if ((e = *policy_cache_find(user)) == NULL) {
		if (ncached >= POLICY_MAX_CACHE) {	/* drop what expired */
			for (b = 0; b < POLICY_BUCKETS; b++) {
				for (pp = &cache[b]; (e = *pp) != NULL;) {
					if (e->expires < now) {
						*pp = e->next;
						free(e);
						ncached--;
					} else
						pp = &e->next;
				}
			}
		}
		if (ncached >= POLICY_MAX_CACHE)
			return;
		e = util_calloc(1, sizeof(*e));
		util_strcpy(e->user, user, sizeof(e->user));
		pp = &cache[policy_hash(user)];
		e->next = *pp;
		*pp = e;
		ncached++;
	}
	policy_mac(user, password, e->mac);
	e->expires = now + (time_t)authd_conf->auth.cache_ttl;
}

void
policy_cache_drop(const char *user)
{
	struct cached **pp = policy_cache_find(user), *e;

	if ((e = *pp) == NULL)
		return;
	*pp = e->next;
	explicit_bzero(e, sizeof(*e));
	free(e);
	ncached--;
}

void
policy_status(struct ipc_out *o)
{
	char line[256];
	struct counter *c;
	time_t now = time(NULL);
	double mono = policy_now();
	size_t b;
	int shown = 0;

	snprintf(line, sizeof(line), "limits: failures answered after 1, 2, "
	    "4 ... up to %llds; under attack from %d failures of an account, "
	    "%d of an address, %d of a network (/24, /64) within %llds; "
	    "cache %llds", (long long)authd_conf->auth.failure_delay_max,
	    ATTACK_ACCOUNT, ATTACK_ADDRESS, ATTACK_NETWORK,
	    (long long)authd_conf->auth.failure_window,
	    (long long)authd_conf->auth.cache_ttl);
	ipc_put_str(o, line);
	snprintf(line, sizeof(line), "cached logins: %zu", ncached);
	ipc_put_str(o, line);
	for (b = 0; b < POLICY_BUCKETS; b++)
		for (c = counters[b]; c != NULL; c = c->next) {
			if (c->fails == 0 ||
			    c->last < now - authd_conf->auth.failure_window)
				continue;
			if (o->nfields >= IPC_MAX_FIELDS - 1) {
				shown = -1;	/* one message holds no more */
				continue;
			}
			snprintf(line, sizeof(line), "%s failures=%u last=%llds "
			    "ago%s", c->key, c->fails, (long long)(now - c->last),
			    c->next_free > mono ? " (answers by turns)" : "");
			ipc_put_str(o, line);
		}
	if (shown == -1)
		ipc_put_str(o, "(more counters than one answer holds)");
}
