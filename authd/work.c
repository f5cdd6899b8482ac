/*
 * The SASL exchanges, run by a few threads.  A step that checks a
 * password hashes it (yescrypt: about 100 ms of one core), so it runs
 * beside the main loop, which goes on answering lookups and the steps of
 * other exchanges; with as many threads as cores, every core hashes.
 *
 * Everything but the hashing happens under authd_lock: the SASL library,
 * users.db and the cache are used by one thread at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "authd.h"

pthread_mutex_t authd_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t	 queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 queue_cond = PTHREAD_COND_INITIALIZER;
static struct work	*todo, *todo_tail, *done;
static int		 done_fd = -1;

/* authd_lock held. */
static void
work_run(struct work *w)
{
	struct client *c = w->client;
	const char *challenge = NULL, *err;

	/* Each exchange starts afresh; a step needs one under way. */
	if (w->op != WORK_STEP) {
		auth_session_free(&c->sasl);
		if ((c->sasl = auth_session_new(c->service, work_verify, w,
		    &err)) == NULL) {
			log_err("sasl: %s", err);
			w->result = AUTH_TEMPFAIL;
			return;
		}
	} else if (c->sasl == NULL) {
		w->result = AUTH_BADPROTO;
		return;
	}
	auth_session_set_arg(c->sasl, w);
	switch (w->op) {
	case WORK_START:
		w->result = auth_start(c->sasl, w->mech, w->input, &challenge);
		break;
	case WORK_STEP:
		w->result = auth_step(c->sasl, w->input, &challenge);
		break;
	case WORK_PASSWORD:
		w->result = auth_password(c->sasl, w->user, w->password);
		break;
	}
	if (w->result == AUTH_CONTINUE && challenge != NULL)
		w->challenge = util_strdup(challenge);
	else if (w->result == AUTH_OK)
		util_strcpy(w->authed, auth_user(c->sasl), sizeof(w->authed));
	util_strcpy(w->attempted, auth_attempted_user(c->sasl),
	    sizeof(w->attempted));
}

static void *
work_thread(void *arg)
{
	struct work *w;
	uint64_t one = 1;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&queue_lock);
		while (todo == NULL)
			pthread_cond_wait(&queue_cond, &queue_lock);
		w = todo;
		if ((todo = w->next) == NULL)
			todo_tail = NULL;
		pthread_mutex_unlock(&queue_lock);

		pthread_mutex_lock(&authd_lock);
		work_run(w);
		pthread_mutex_unlock(&authd_lock);

		pthread_mutex_lock(&queue_lock);
		w->next = done;
		done = w;
		pthread_mutex_unlock(&queue_lock);
		if (write(done_fd, &one, sizeof(one)) != sizeof(one))
			log_err("work: eventfd: %s", strerror(errno));
	}
	return NULL;
}

int
work_init(int nthreads, const char **err)
{
	pthread_t t;
	int i;

	if ((done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		*err = strerror(errno);
		return -1;
	}
	/* The threads inherit the blocked signals: only the main loop
	 * takes them (daemon_poll). */
	for (i = 0; i < nthreads; i++)
		if ((errno = pthread_create(&t, NULL, work_thread, NULL)) != 0) {
			*err = strerror(errno);
			return -1;
		}
	return 0;
}

void
work_submit(struct work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&queue_lock);
	if (todo_tail != NULL)
		todo_tail->next = w;
	else
		todo = w;
	todo_tail = w;
	pthread_cond_signal(&queue_cond);
	pthread_mutex_unlock(&queue_lock);
}

int
work_done_fd(void)
{
	return done_fd;
}

struct work *
work_done(void)
{
	struct work *list;
	uint64_t n;

	if (read(done_fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_err("work: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&queue_lock);
	list = done;
	done = NULL;
	pthread_mutex_unlock(&queue_lock);
	return list;
}

void
work_free(struct work *w)
{
	if (w == NULL)
		return;
	free(w->mech);
	free(w->input);
	free(w->user);
	if (w->password != NULL) {
		explicit_bzero(w->password, strlen(w->password));
		free(w->password);
	}
	free(w->challenge);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

/*
 * sasl.c's verify function; authd_lock is held.  The cache answers a
 * known good password; any other is hashed, with the lock let go meanwhile
 * (the hash and password are this thread's own copies).  An unknown user
 * costs the same hashing as a known one.
 */
int
work_verify(void *arg, const char *user, const char *password)
{
	struct work *w = arg;
	char hash[256];
	int known, r;

	w->checked = 1;
	if ((known = userdb_user_hash(authd_db, user, hash, sizeof(hash))) < 0) {
		log_err("users.db: %s", userdb_error(authd_db));
		return -1;
	}
	if (known && policy_cache_hit(user, password)) {
		w->cached = 1;
		return 1;
	}
	pthread_mutex_unlock(&authd_lock);
	r = userdb_verify_hash(password, hash);
	pthread_mutex_lock(&authd_lock);
	explicit_bzero(hash, sizeof(hash));
	if (!known)
		return 0;
	if (r == 1)
		policy_cache_put(user, password);
	return r;
}
