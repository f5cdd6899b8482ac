/*
 * The runner's index of the spool: a hash table by queue id (so a
 * notification or a rescan never adds a message twice) and a binary
 * min-heap by next attempt time (so the next due message is found in
 * O(log n) with 100,000 messages queued).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "queue.h"

static struct qentry	**buckets;
static size_t		  nbuckets, nentries;
/* One heap per transport: a message due for local delivery is never
 * held up by one waiting for a free remote worker, and the reverse. */
static struct heap {
	struct qentry	**e;
	size_t		  len, cap;
} heaps[T_NTRANSPORTS];

static size_t
hash_id(const char *id)
{
	size_t h = 2166136261u;		/* FNV-1a */

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static void
hash_grow(void)
{
	struct qentry **old = buckets, *e, *next;
	size_t oldn = nbuckets, i;

	nbuckets = nbuckets ? nbuckets * 2 : 1024;
	buckets = util_calloc(nbuckets, sizeof(*buckets));
	for (i = 0; i < oldn; i++)
		for (e = old[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = buckets[hash_id(e->id) & (nbuckets - 1)];
			buckets[hash_id(e->id) & (nbuckets - 1)] = e;
		}
	free(old);
}

struct qentry *
sched_find(const char *id)
{
	struct qentry *e;

	if (nbuckets == 0)
		return NULL;
	for (e = buckets[hash_id(id) & (nbuckets - 1)]; e != NULL; e = e->hnext)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static int
heap_less(struct heap *h, enum transport t, size_t a, size_t b)
{
	return h->e[a]->next[t] < h->e[b]->next[t];
}

static void
heap_swap(struct heap *h, enum transport t, size_t a, size_t b)
{
	struct qentry *x = h->e[a];

	h->e[a] = h->e[b];
	h->e[b] = x;
	h->e[a]->heap_idx[t] = a;
	h->e[b]->heap_idx[t] = b;
}

static void
heap_up(enum transport t, size_t i)
{
	struct heap *h = &heaps[t];

	while (i > 0 && heap_less(h, t, i, (i - 1) / 2)) {
		heap_swap(h, t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(enum transport t, size_t i)
{
	struct heap *h = &heaps[t];
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < h->len && heap_less(h, t, l, m))
			m = l;
		if (r < h->len && heap_less(h, t, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(h, t, i, m);
		i = m;
	}
}

static void
heap_remove(enum transport t, struct qentry *e)
{
	struct heap *h = &heaps[t];
	size_t i = e->heap_idx[t];

	if (i == SIZE_MAX)
		return;
	h->len--;
	if (i != h->len) {
		h->e[i] = h->e[h->len];
		h->e[i]->heap_idx[t] = i;
		heap_up(t, i);
		heap_down(t, h->e[i]->heap_idx[t]);
	}
	e->heap_idx[t] = SIZE_MAX;
}

static void
heap_insert(enum transport t, struct qentry *e)
{
	struct heap *h = &heaps[t];

	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		if ((h->e = realloc(h->e, h->cap * sizeof(*h->e))) == NULL)
			fatal("realloc");
	}
	h->e[h->len] = e;
	e->heap_idx[t] = h->len;
	heap_up(t, h->len++);
}

struct qentry *
sched_add(const char *id, int recovered)
{
	struct qentry *e;
	size_t b;

	if (nentries >= nbuckets)
		hash_grow();
	e = util_calloc(1, sizeof(*e));
	memcpy(e->id, id, SPOOL_ID_LEN + 1);
	e->recovered = recovered;
	e->heap_idx[T_LOCAL] = e->heap_idx[T_REMOTE] = SIZE_MAX;
	b = hash_id(id) & (nbuckets - 1);
	e->hnext = buckets[b];
	buckets[b] = e;
	nentries++;
	return e;
}

void
sched_remove(struct qentry *e)
{
	struct qentry **pp;

	heap_remove(T_LOCAL, e);
	heap_remove(T_REMOTE, e);
	for (pp = &buckets[hash_id(e->id) & (nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	nentries--;
	spool_env_free(&e->env);
	free(e->is_local);
	free(e->busy);
	free(e);
}

/*
 * Is domain one of ours?  Answers are remembered for a second: under a
 * burst every new message would otherwise cost a round trip to authd
 * for the domain of the message before.  A domain added or removed
 * with mailctl is seen a second later at most.
 */
#define DOMAIN_CACHE	8

static int
sched_domain_is_local(struct authc *authc, const char *domain)
{
	static struct {
		char	name[256];
		time_t	at;
		int	local;
	} cache[DOMAIN_CACHE];
	static size_t next;
	time_t now = time(NULL);
	size_t i;
	int r;

	for (i = 0; i < DOMAIN_CACHE; i++)
		if (cache[i].at == now && strcasecmp(cache[i].name,
		    domain) == 0)
			return cache[i].local;
	/* On a database error, assume local: a local attempt fails
	 * softly and is retried. */
	if (authc == NULL || (r = authc_domain_is_local(authc, domain)) < 0)
		return 1;
	if (util_strcpy(cache[next].name, domain,
	    sizeof(cache[next].name)) == 0) {
		cache[next].at = now;
		cache[next].local = r;
		next = (next + 1) % DOMAIN_CACHE;
	}
	return r;
}

int
sched_load(struct qentry *e, struct authc *authc)
{
	struct spool_env env;
	char path[PATH_MAX];
	size_t i;

	if (spool_path(path, sizeof(path), queue_data_dir, e->id) == -1 ||
	    spool_load(path, &env, NULL) == -1)
		return -1;
	if (e->is_local == NULL || e->env.nrcpts != env.nrcpts) {
		free(e->is_local);
		free(e->busy);
		e->is_local = util_calloc(env.nrcpts, 1);
		e->busy = util_calloc(env.nrcpts, 1);
		for (i = 0; i < env.nrcpts; i++) {
			const char *at = strrchr(env.rcpts[i].addr, '@');

			e->is_local[i] = at == NULL ||
			    sched_domain_is_local(authc, at + 1);
		}
	}
	spool_env_free(&e->env);
	e->env = env;
	return 0;
}

void
sched_update(struct qentry *e)
{
	time_t next[T_NTRANSPORTS] = { 0, 0 };
	enum transport t;
	size_t i;

	for (i = 0; i < e->env.nrcpts; i++) {
		const struct spool_rcpt *r = &e->env.rcpts[i];

		if (r->state != RCPT_PENDING || e->busy[i] || e->gone)
			continue;
		t = e->is_local[i] ? T_LOCAL : T_REMOTE;
		if (next[t] == 0 || r->next_attempt < next[t])
			next[t] = r->next_attempt > 0 ? r->next_attempt : 1;
	}
	for (t = T_LOCAL; t < T_NTRANSPORTS; t++) {
		e->next[t] = next[t];
		heap_remove(t, e);
		if (next[t] != 0)
			heap_insert(t, e);
	}
}

struct qentry *
sched_due(enum transport t, time_t now)
{
	struct heap *h = &heaps[t];

	if (h->len == 0 || h->e[0]->next[t] > now)
		return NULL;
	return h->e[0];
}

long
sched_wait(enum transport t, time_t now)
{
	struct heap *h = &heaps[t];

	if (h->len == 0)
		return -1;
	return h->e[0]->next[t] <= now ? 0 : (long)(h->e[0]->next[t] - now);
}

size_t
sched_count(void)
{
	return nentries;
}

void
sched_flush(void)
{
	struct qentry *e;
	size_t i, r;

	for (i = 0; i < nbuckets; i++)
		for (e = buckets[i]; e != NULL; e = e->hnext) {
			for (r = 0; r < e->env.nrcpts; r++)
				if (e->env.rcpts[r].state == RCPT_PENDING)
					e->env.rcpts[r].next_attempt = 0;
			sched_update(e);
		}
}

void
sched_foreach(void (*fn)(struct qentry *e, void *arg), void *arg)
{
	struct qentry *e, *next;
	size_t i;

	for (i = 0; i < nbuckets; i++)
		for (e = buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			fn(e, arg);
		}
}

time_t
queue_backoff(const struct conf *conf, int attempts)
{
	long long d = conf->queue.retry_min;
	int i;

	for (i = 1; i < attempts && d < conf->queue.retry_max; i++)
		d *= 2;
	return (time_t)(d < conf->queue.retry_max ? d : conf->queue.retry_max);
}

char
queue_defer(const struct conf *conf, const struct spool_env *env, size_t idx,
    time_t now, time_t *next_r, char *text, size_t textsize)
{
	time_t deadline = env->arrival + (time_t)conf->queue.max_lifetime;
	char last[1024];

	if (now >= deadline) {
		util_strcpy(last, text, sizeof(last));
		/* RFC 3463: 4.4.7, delivery time expired. */
		snprintf(text, textsize, "4.4.7 gave up after %lld "
		    "attempt(s) in %llds; last error: %s",
		    (long long)env->rcpts[idx].attempts + 1,
		    (long long)(now - env->arrival), last);
		return RCPT_FAILED;
	}
	*next_r = now + queue_backoff(conf, env->rcpts[idx].attempts + 1);
	if (*next_r > deadline)
		*next_r = deadline;
	return RCPT_PENDING;
}
