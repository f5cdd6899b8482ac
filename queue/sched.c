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

#include "../lib/log.h"
#include "../lib/util.h"
#include "queue.h"

static struct qentry	**buckets;
static size_t		  nbuckets, nentries;
static struct qentry	**heap;
static size_t		  heap_len, heap_cap;

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
heap_less(size_t a, size_t b)
{
	return heap[a]->next < heap[b]->next;
}

static void
heap_swap(size_t a, size_t b)
{
	struct qentry *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = a;
	heap[b]->heap_idx = b;
}

static void
heap_up(size_t i)
{
	while (i > 0 && heap_less(i, (i - 1) / 2)) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(size_t i)
{
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < heap_len && heap_less(l, m))
			m = l;
		if (r < heap_len && heap_less(r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static void
heap_remove(struct qentry *e)
{
	size_t i = e->heap_idx;

	if (i == SIZE_MAX)
		return;
	heap_len--;
	if (i != heap_len) {
		heap[i] = heap[heap_len];
		heap[i]->heap_idx = i;
		heap_up(i);
		heap_down(heap[i]->heap_idx);
	}
	e->heap_idx = SIZE_MAX;
}

static void
heap_insert(struct qentry *e)
{
	if (heap_len == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 1024;
		if ((heap = realloc(heap, heap_cap * sizeof(*heap))) == NULL)
			fatal("realloc");
	}
	heap[heap_len] = e;
	e->heap_idx = heap_len;
	heap_up(heap_len++);
}

struct qentry *
sched_add(const char *id, int recovered)
{
	struct qentry *e;
	size_t b;

	if (nentries >= nbuckets)
		hash_grow();
	e = util_calloc(1, sizeof(*e));
	memcpy(e->id, id, QUEUE_ID_LEN + 1);
	e->recovered = recovered;
	e->heap_idx = SIZE_MAX;
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

	heap_remove(e);
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

int
sched_load(struct qentry *e, struct userdb *db)
{
	struct spool_env env;
	char path[PATH_MAX];
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", queue_msgdir, e->id);
	if (spool_load(path, &env, NULL) == -1)
		return -1;
	if (e->is_local == NULL || e->env.nrcpts != env.nrcpts) {
		free(e->is_local);
		free(e->busy);
		e->is_local = util_calloc(env.nrcpts, 1);
		e->busy = util_calloc(env.nrcpts, 1);
		for (i = 0; i < env.nrcpts; i++) {
			const char *at = strrchr(env.rcpts[i].addr, '@');

			/* On a database error, assume local: a local
			 * attempt fails softly and is retried. */
			e->is_local[i] = at == NULL ||
			    userdb_domain_is_local(db, at + 1) != 0;
		}
	}
	spool_env_free(&e->env);
	e->env = env;
	return 0;
}

void
sched_update(struct qentry *e)
{
	time_t next = 0;
	size_t i;

	for (i = 0; i < e->env.nrcpts; i++) {
		const struct spool_rcpt *r = &e->env.rcpts[i];

		if (r->state != RCPT_PENDING || e->busy[i])
			continue;
		/* Remote delivery is not part of this runner yet. */
		if (!e->is_local[i])
			continue;
		if (next == 0 || r->next_attempt < next)
			next = r->next_attempt > 0 ? r->next_attempt : 1;
	}
	e->next = next;
	heap_remove(e);
	if (next != 0)
		heap_insert(e);
}

struct qentry *
sched_due(time_t now)
{
	if (heap_len == 0 || heap[0]->next > now)
		return NULL;
	return heap[0];
}

long
sched_wait(time_t now)
{
	if (heap_len == 0)
		return -1;
	return heap[0]->next <= now ? 0 : (long)(heap[0]->next - now);
}

size_t
sched_count(void)
{
	return nentries;
}

void
sched_flush(void)
{
	size_t i;

	for (i = 0; i < heap_len; i++)
		heap[i]->next = 1;
	for (i = 0; i < nbuckets; i++)
		for (struct qentry *e = buckets[i]; e != NULL; e = e->hnext)
			for (size_t r = 0; r < e->env.nrcpts; r++)
				if (e->env.rcpts[r].state == RCPT_PENDING)
					e->env.rcpts[r].next_attempt = 0;
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
