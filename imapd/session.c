/*
 * One IMAP session: read a command (line by line, literal by literal),
 * check its state, run it, tell the client what changed in the selected
 * mailbox, send the tagged reply.
 *
 * Literals (RFC 3501 §4.3, RFC 7888): a synchronizing {n} gets "+" only
 * when the session will take n octets; the octets of a non-synchronizing
 * {n+} it refuses are on their way anyway, and are read and dropped
 * (never taken as commands).  APPEND's message goes straight into the target mailbox's
 * tmp/ as it arrives (up to imapd.append_limit); every other literal is
 * held in memory within imapd.max_command.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../global/layout.h"
#include "../global/pool.h"
#include "../global/service.h"
#include "../global/userdb.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/tls.h"
#include "session.h"

#define CMD_NO_EXPUNGE	0x100	/* sequence numbers must not shift */

static struct buf tagged;	/* the tagged reply of the running command */

/* ---- replies ---- */

void
imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	buf_puts(&s->conn.out, "* ");
	va_start(ap, fmt);
	buf_vprintf(&s->conn.out, fmt, ap);
	va_end(ap);
	buf_puts(&s->conn.out, "\r\n");
	imap_out_done(s);
}

/* Kept until the command's untagged updates are out (RFC 3501 §7). */
void
imap_tagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&tagged);
	buf_printf(&tagged, "%s ", s->tag != NULL ? s->tag : "*");
	va_start(ap, fmt);
	buf_vprintf(&tagged, fmt, ap);
	va_end(ap);
	buf_puts(&tagged, "\r\n");
}

void
imap_tagged_now(struct imap_session *s)
{
	buf_append(&s->conn.out, tagged.data, tagged.len);
	buf_reset(&tagged);
}

int
imap_no_args(struct imap_session *s, size_t nargs)
{
	if (nargs == 0)
		return 0;
	imap_tagged(s, "BAD Unexpected arguments");
	return -1;
}

void
imap_continue(struct imap_session *s, const char *text)
{
	conn_printf(&s->conn, "+ %s\r\n", text);
	conn_flush(&s->conn);
}

struct buf *
imap_out(struct imap_session *s)
{
	return &s->conn.out;
}

void
imap_out_done(struct imap_session *s)
{
	if (s->conn.out.len >= 65536 && conn_flush(&s->conn) == -1)
		s->broken = s->logout = 1;
}

int
imap_errno_no(struct imap_session *s, const char *what, int err,
    const char *why)
{
	const char *code;

	switch (err) {
	case EEXIST:
		code = "[ALREADYEXISTS] ";
		break;
	case ENOENT:
		code = "[NONEXISTENT] ";
		break;
	case EPERM:
	case EINVAL:
	case ENOTEMPTY:
		code = "[CANNOT] ";
		break;
	case ENOSPC:
		why = "Not enough disk space";
		code = "[OVERQUOTA] ";
		break;
	case EDQUOT:
		why = "Quota exceeded";
		code = "[OVERQUOTA] ";
		break;
	default:
		code = "[SERVERBUG] ";
		break;
	}
	/* What the client cannot act on, an administrator must see. */
	if (err != EEXIST && err != ENOENT && err != EPERM && err != EINVAL &&
	    err != ENOTEMPTY)
		log_err("sid=%s user=%s %s: %s", s->id, s->user, what,
		    err == ENOSPC || err == EDQUOT ? strerror(err) : why);
	imap_tagged(s, "NO %s%s", code, why);
	return 0;
}

int
imap_store_no(struct imap_session *s, const char *what)
{
	return imap_errno_no(s, what, mstore_errno(s->store),
	    mstore_error(s->store));
}

void
imap_penalty(unsigned int seconds)
{
	struct timespec ts = { (time_t)seconds, 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !daemon_term)
		;
}

/* ---- flags ---- */

static const struct {
	const char	*name;
	unsigned int	 flag;
} system_flags[] = {
	{ "\\Seen", MF_SEEN }, { "\\Answered", MF_ANSWERED },
	{ "\\Flagged", MF_FLAGGED }, { "\\Deleted", MF_DELETED },
	{ "\\Draft", MF_DRAFT },
};
#define NSYSFLAGS (sizeof(system_flags) / sizeof(system_flags[0]))

void
imap_put_flags(struct buf *b, unsigned int flags, const char *keywords,
    int recent)
{
	const char *sep = "";
	size_t i;

	buf_putc(b, '(');
	for (i = 0; i < NSYSFLAGS; i++)
		if (flags & system_flags[i].flag) {
			buf_printf(b, "%s%s", sep, system_flags[i].name);
			sep = " ";
		}
	if (recent) {
		buf_printf(b, "%s\\Recent", sep);
		sep = " ";
	}
	if (keywords != NULL && keywords[0] != '\0')
		buf_printf(b, "%s%s", sep, keywords);
	buf_putc(b, ')');
}

/* Is the keyword k (len octets) in the space-separated list?  Keywords
 * compare case-insensitively. */
int
keyword_in(const char *list, const char *k, size_t len)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n == len && strncasecmp(p, k, n) == 0)
			return 1;
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

/* Append to out each keyword of list not already there, nor in unless
 * (when given). */
static void
keywords_append(struct buf *out, const char *list, const char *unless)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0 && (unless == NULL || !keyword_in(unless, p, n)) &&
		    !keyword_in(out->data, p, n)) {
			if (out->len > 0)
				buf_putc(out, ' ');
			buf_append(out, p, n);
		}
		p += n;
		p += strspn(p, " ");
	}
}

char *
keyword_combine(const char *a, const char *b, char op)
{
	struct buf out;

	buf_init(&out, 0);
	buf_puts(&out, "");
	keywords_append(&out, op == '=' ? b : a, op == '-' ? b : NULL);
	if (op == '+')
		keywords_append(&out, b, NULL);
	return buf_take(&out);
}

static int
keyword_add(struct buf *kw, const char *k)
{
	/* Keep the first spelling. */
	if (keyword_in(kw->data, k, strlen(k)))
		return 0;
	if (kw->len > 0)
		buf_putc(kw, ' ');
	return buf_puts(kw, k);
}

static int
flag_one(const char *f, unsigned int *flags, struct buf *kw,
    const char **why)
{
	size_t i;

	if (f[0] == '\\') {
		for (i = 0; i < NSYSFLAGS; i++)
			if (strcasecmp(f, system_flags[i].name) == 0) {
				*flags |= system_flags[i].flag;
				return 0;
			}
		*why = "Unknown system flag";
		return -1;
	}
	if (!maildir_keyword_valid(f, strlen(f))) {
		*why = "Invalid keyword";
		return -1;
	}
	if (keyword_add(kw, f) == -1) {
		*why = "Too many keywords";
		return -1;
	}
	return 0;
}

int
imap_parse_flags(const struct imap_arg *a, unsigned int *flags,
    char **keywords, const char **why)
{
	struct buf kw;
	size_t i;

	*flags = 0;
	*keywords = NULL;
	buf_init(&kw, 4096);
	buf_puts(&kw, "");
	if (a->type == IMAP_ARG_LIST) {
		for (i = 0; i < a->nlist; i++)
			if (a->list[i].type != IMAP_ARG_ATOM ||
			    flag_one(a->list[i].str, flags, &kw, why) == -1) {
				if (a->list[i].type != IMAP_ARG_ATOM)
					*why = "Flags must be atoms";
				buf_release(&kw);
				return -1;
			}
	} else if (a->type != IMAP_ARG_ATOM ||
	    flag_one(a->str, flags, &kw, why) == -1) {
		if (a->type != IMAP_ARG_ATOM)
			*why = "Flags must be atoms";
		buf_release(&kw);
		return -1;
	}
	*keywords = buf_take(&kw);
	return 0;
}

/* ---- the view of the selected mailbox ---- */

void
imap_view_free(struct view *v)
{
	free(v->msgs);
	free(v->own);
	free(v->keywords);
	memset(v, 0, sizeof(*v));
}

uint32_t
view_seq(const struct view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v->msgs[mid].uid == uid)
			return (uint32_t)mid + 1;
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
view_own_change(struct view *v, uint32_t uid, uint64_t modseq)
{
	if (v->nown == v->capown) {
		v->capown = v->capown ? v->capown * 2 : 16;
		v->own = realloc(v->own, v->capown * sizeof(*v->own));
		if (v->own == NULL)
			fatal("realloc");
	}
	v->own[v->nown].uid = uid;
	v->own[v->nown].modseq = modseq;
	v->nown++;
}

static int
own_cmp(const void *a, const void *b)
{
	const struct own_change *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->modseq < y->modseq ? -1 : x->modseq > y->modseq;
}

static void
view_own_forget(struct view *v)
{
	free(v->own);
	v->own = NULL;
	v->nown = v->capown = 0;
}

static void
view_append(struct view *v, uint32_t uid, unsigned int flags)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->msgs = realloc(v->msgs, v->cap * sizeof(*v->msgs));
		if (v->msgs == NULL)
			fatal("realloc");
	}
	v->msgs[v->n].uid = uid;
	v->msgs[v->n].flags = flags;
	v->n++;
}

static void
view_remove(struct view *v, uint32_t seq)
{
	memmove(&v->msgs[seq - 1], &v->msgs[seq], (v->n - seq) *
	    sizeof(*v->msgs));
	v->n--;
}

struct load_arg {
	struct imap_session *s;
	uint32_t	 after;		/* only UIDs above this */
	int		 announce;	/* new keywords go out in FLAGS */
};

static int
load_cb(const struct mmsg *m, void *arg)
{
	struct load_arg *la = arg;

	if (m->uid <= la->after)
		return 0;
	view_append(&la->s->view, m->uid, m->flags);
	if (la->announce)
		imap_view_keywords(la->s, m->keywords);
	return 0;
}

/* Send FLAGS and PERMANENTFLAGS with these keywords (taken over). */
static void
view_flags_send(struct imap_session *s, char *kw)
{
	struct buf *b = imap_out(s);

	free(s->view.keywords);
	s->view.keywords = kw;
	buf_printf(b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft%s%s)\r\n", kw[0] ? " " : "", kw);
	if (s->readonly)
		buf_puts(b, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	else
		buf_printf(b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged "
		    "\\Deleted \\Seen \\Draft%s%s \\*)] Flags permitted\r\n",
		    kw[0] ? " " : "", kw);
}

/* FLAGS and PERMANENTFLAGS with every keyword the mailbox uses. */
static void
view_flags_reply(struct imap_session *s)
{
	char *kw = mbox_keywords(s->mb);

	view_flags_send(s, kw != NULL ? kw : util_strdup(""));
}

void
imap_view_keywords(struct imap_session *s, const char *added)
{
	const char *known = s->view.keywords ? s->view.keywords : "";
	char *kw;

	if (added == NULL || added[0] == '\0')
		return;
	kw = keyword_combine(known, added, '+');
	if (strcmp(kw, known) != 0)
		view_flags_send(s, kw);
	else
		free(kw);
}

/* Add UIDs first..last to the \Recent ones of the view, in order. */
static void
view_add_recent(struct view *v, uint32_t first, uint32_t last)
{
	struct seq_range *r;

	if (v->nrecent > 0) {
		r = &v->recent[v->nrecent - 1];
		/* A read-only view peeks again at what it saw before. */
		if (first <= r->hi + 1) {
			if (last > r->hi)
				r->hi = last;
			return;
		}
	}
	if (v->nrecent == sizeof(v->recent) / sizeof(v->recent[0])) {
		/* Forget the oldest: bounded memory beats perfect
		 * \Recent for a session that saw so many deliveries. */
		memmove(&v->recent[0], &v->recent[1], (v->nrecent - 1) *
		    sizeof(v->recent[0]));
		v->nrecent--;
	}
	v->recent[v->nrecent].lo = first;
	v->recent[v->nrecent].hi = last;
	v->nrecent++;
}

/*
 * Take the messages no session has seen yet as \Recent to this one.  A
 * read-only session sees them as \Recent too but leaves them to the next
 * SELECT: EXAMINE returns SELECT's untagged data and changes nothing, the
 * \Recent flags included (RFC 3501 §6.3.2).
 */
static void
view_claim_recent(struct imap_session *s)
{
	uint32_t first, end;

	if (s->readonly)
		first = mbox_peek_recent(s->mb, &end);
	else
		first = mbox_claim_recent(s->mb, &end);
	if (first < end)
		view_add_recent(&s->view, first, end - 1);
}

int
imap_view_load(struct imap_session *s)
{
	struct mbox_status st;
	struct load_arg la = { s, 0, 0 };

	imap_view_free(&s->view);
	if (mbox_get_status(s->mb, &st) == -1)
		return -1;
	s->view.uidvalidity = st.uidvalidity;
	s->view.uidnext = st.uidnext;
	s->view.modseq = s->view.expunge_modseq = st.highestmodseq;
	if (mbox_messages(s->mb, 1, UINT32_MAX, 0, 0, load_cb, &la) == -1)
		return -1;
	view_claim_recent(s);
	view_flags_reply(s);
	return 0;
}

int
view_is_recent(const struct view *v, uint32_t uid)
{
	size_t i;

	for (i = 0; i < v->nrecent; i++)
		if (uid >= v->recent[i].lo && uid <= v->recent[i].hi)
			return 1;
	return 0;
}

uint32_t
view_recent(const struct view *v)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < v->n; i++)
		n += view_is_recent(v, v->msgs[i].uid);
	return n;
}

static void
vanished_cb(uint32_t uid, void *arg)
{
	struct imap_session *s = arg;
	uint32_t seq = view_seq(&s->view, uid);

	if (seq == 0)
		return;
	view_remove(&s->view, seq);
	if (s->qresync)
		imap_untagged(s, "VANISHED %u", uid);
	else
		imap_untagged(s, "%u EXPUNGE", seq);
	s->nexpunge++;
}


void
imap_fetch_flags(struct imap_session *s, uint32_t seq, uint32_t uid,
    unsigned int flags, const char *keywords, uint64_t modseq,
    unsigned int how)
{
	struct buf *b = imap_out(s);
	int with_flags = (how & FETCH_WITH_FLAGS) != 0;
	const char *sep = "";

	buf_printf(b, "* %u FETCH (", seq);
	/* Unsolicited ones carry the UID once mod-sequences are in play
	 * (RFC 7162 §3.2.4); answers to UID commands always do. */
	if (s->uid_cmd || ((how & FETCH_UNSOLICITED) && s->condstore)) {
		buf_printf(b, "UID %u", uid);
		sep = " ";
	}
	if (with_flags) {
		buf_printf(b, "%sFLAGS ", sep);
		imap_put_flags(b, flags, keywords, view_is_recent(&s->view,
		    uid));
		sep = " ";
	}
	if (s->condstore)
		buf_printf(b, "%sMODSEQ (%llu)", sep,
		    (unsigned long long)modseq);
	buf_puts(b, ")\r\n");
	imap_out_done(s);
}

static int
changed_cb(const struct mmsg *m, void *arg)
{
	struct imap_session *s = arg;
	struct own_change key;
	uint32_t seq = view_seq(&s->view, m->uid);

	if (seq == 0)
		return 0;
	key.uid = m->uid;
	key.modseq = m->modseq;
	if (s->view.nown > 0 && bsearch(&key, s->view.own, s->view.nown,
	    sizeof(key), own_cmp) != NULL)
		return 0;	/* this session reported it already */
	s->view.msgs[seq - 1].flags = m->flags;
	/* New keywords are announced before a FETCH shows them (RFC 3501
	 * §7.2.6). */
	imap_view_keywords(s, m->keywords);
	imap_fetch_flags(s, seq, m->uid, m->flags, m->keywords, m->modseq,
	    FETCH_WITH_FLAGS | FETCH_UNSOLICITED);
	return 0;
}

int
imap_view_update(struct imap_session *s, int allow_expunge)
{
	uint64_t highestmodseq;
	uint32_t uidnext;
	struct load_arg la = { s, 0, 1 };
	uint32_t last_uid;
	size_t n_before;

	if (s->mb == NULL)
		return 0;
	if (mbox_sync(s->mb) == -1 || mbox_get_modseq(s->mb, &uidnext,
	    &highestmodseq) == -1)
		return -1;
	if (allow_expunge && highestmodseq > s->view.expunge_modseq) {
		if (mbox_vanished(s->mb, s->view.expunge_modseq, vanished_cb,
		    s) == -1)
			return -1;
		s->view.expunge_modseq = highestmodseq;
	}
	if (highestmodseq <= s->view.modseq && uidnext == s->view.uidnext)
		return 0;
	last_uid = s->view.n > 0 ? s->view.msgs[s->view.n - 1].uid : 0;
	if (s->view.nown > 1)
		qsort(s->view.own, s->view.nown, sizeof(*s->view.own),
		    own_cmp);
	if (s->view.n > 0 && mbox_messages(s->mb, 1, last_uid,
	    s->view.modseq, 0, changed_cb, s) == -1)
		return -1;
	n_before = s->view.n;
	la.after = last_uid;
	if (mbox_messages(s->mb, last_uid + 1, UINT32_MAX, 0, 0, load_cb,
	    &la) == -1)
		return -1;
	if (s->view.n != n_before) {
		view_claim_recent(s);
		imap_untagged(s, "%zu EXISTS", s->view.n);
		imap_untagged(s, "%u RECENT", view_recent(&s->view));
	}
	s->view.modseq = highestmodseq;
	s->view.uidnext = uidnext;
	view_own_forget(&s->view);
	return 0;
}

struct vanished_arg {
	const struct seqset *only;
	uint32_t	*uids;
	size_t		 n, cap;
};

static void
vanished_earlier_cb(uint32_t uid, void *arg)
{
	struct vanished_arg *va = arg;

	if (va->only != NULL && !seqset_contains(va->only, uid))
		return;
	if (va->n == va->cap) {
		va->cap = va->cap ? va->cap * 2 : 64;
		if ((va->uids = realloc(va->uids, va->cap * sizeof(*va->uids)))
		    == NULL)
			fatal("realloc");
	}
	va->uids[va->n++] = uid;
}

int
imap_vanished_earlier(struct imap_session *s, uint64_t since,
    const struct seqset *only)
{
	struct vanished_arg va = { only, NULL, 0, 0 };
	struct buf *b = imap_out(s);

	if (mbox_vanished(s->mb, since, vanished_earlier_cb, &va) == -1)
		return -1;
	if (va.n > 0) {
		buf_puts(b, "* VANISHED (EARLIER) ");
		seqset_format(b, va.uids, va.n);
		buf_puts(b, "\r\n");
		imap_out_done(s);
	}
	free(va.uids);
	return 0;
}

void
imap_mailbox_lost(struct imap_session *s)
{
	if (!mstore_exists(s->store, mbox_name(s->mb))) {
		/* Deleted or renamed by another session: RFC 2180 §3
		 * lets us end this one. */
		log_info("sid=%s user=%s mailbox %s gone, disconnecting", s->id,
		    s->user, log_str(mbox_name(s->mb)));
		imap_untagged(s, "BYE The selected mailbox was deleted or "
		    "renamed by another session");
	} else {
		log_err("sid=%s mailbox update: %s", s->id,
		    mstore_error(s->store));
		imap_untagged(s, "BYE [SERVERBUG] Cannot read the mailbox");
	}
	s->logout = 1;
}

void
imap_unselect(struct imap_session *s)
{
	if (s->mb != NULL)
		mbox_close(&s->mb);
	imap_view_free(&s->view);
	s->state = ST_AUTH;
}

int
imap_set_resolve(struct imap_session *s, const char *text, int uid,
    uint32_t **seqs_r, size_t *n_r)
{
	struct seqset set;
	struct view *v = &s->view;
	uint32_t *seqs, star, seq;
	size_t i, n = 0;

	star = uid ? (v->n > 0 ? v->msgs[v->n - 1].uid : 0) : (uint32_t)v->n;
	if (seqset_parse(text, star, &set) == -1) {
		imap_tagged(s, "BAD Invalid %s set", uid ? "UID" : "sequence");
		return -1;
	}
	seqs = util_calloc(v->n + 1, sizeof(*seqs));
	if (uid) {
		/* RFC 3501 §6.4.8: UIDs in the set that do not exist are
		 * ignored. */
		for (i = 0; i < v->n; i++)
			if (seqset_contains(&set, v->msgs[i].uid))
				seqs[n++] = (uint32_t)i + 1;
	} else {
		for (i = 0; i < set.n; i++) {
			if (set.r[i].hi > v->n) {
				seqset_free(&set);
				free(seqs);
				imap_tagged(s, "BAD Invalid message sequence "
				    "number");
				return -1;
			}
			for (seq = set.r[i].lo; seq <= set.r[i].hi; seq++)
				seqs[n++] = seq;
		}
	}
	seqset_free(&set);
	*seqs_r = seqs;
	*n_r = n;
	return 0;
}

/* ---- one session slot per user (imapd.max_sessions_per_user) ---- */

/* Lock one byte of <userdir>/imap-sessions.lock: a slot held for as long
 * as this process lives, released by the kernel however it ends. */
static int
session_slot(struct imap_session *s)
{
	char path[4200];
	struct flock fl;
	long i;
	int fd;

	if (layout_path(path, sizeof(path), s->userdir, LAYOUT_IMAP_LOCK) == -1 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	for (i = 0; i < s->conf->imapd.max_sessions_per_user; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = i;
		fl.l_len = 1;
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			s->userlock = fd;
			return 0;
		}
	}
	close(fd);
	errno = EUSERS;
	return -1;
}

void
imap_condstore_use(struct imap_session *s)
{
	if (s->condstore)
		return;
	s->condstore = 1;
	if (s->mb != NULL)
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
		    (unsigned long long)s->view.modseq);
}

int
imap_login(struct imap_session *s, const char *user)
{
	const char *err = "";

	if (maildir_user_path(s->conf->server.data_dir, user, s->userdir,
	    sizeof(s->userdir)) == -1 || maildir_create(s->userdir) == -1) {
		log_err("sid=%s user=%s no usable maildir", s->id, user);
		imap_tagged(s, "NO [UNAVAILABLE] Mailbox unavailable");
		return -1;
	}
	if (session_slot(s) == -1) {
		log_info("sid=%s user=%s login refused: %s", s->id, user,
		    errno == EUSERS ? "too many sessions" : strerror(errno));
		imap_tagged(s, "NO [LIMIT] Too many sessions for this user");
		return -1;
	}
	if (mstore_open(s->userdir, &s->store, &err) == -1) {
		log_err("sid=%s user=%s store: %s", s->id, user, err);
		imap_tagged(s, "NO [UNAVAILABLE] Mailbox unavailable");
		close(s->userlock);
		s->userlock = -1;
		return -1;
	}
	util_strcpy(s->user, user, sizeof(s->user));
	s->state = ST_AUTH;
	log_info("sid=%s client=[%s] login user=%s", s->id, s->client_ip,
	    s->user);
	return 0;
}

/* ---- commands ---- */

static const struct imap_cmd imap_cmds[] = {
	{ "CAPABILITY", ST_ANY, cmd_capability },
	{ "NOOP", ST_ANY, cmd_noop },
	{ "LOGOUT", ST_ANY, cmd_logout },
	{ "ID", ST_ANY, cmd_id },
	{ "STARTTLS", ST_NOTAUTH, cmd_starttls },
	{ "LOGIN", ST_NOTAUTH, cmd_login },
	{ "AUTHENTICATE", ST_NOTAUTH, cmd_authenticate },
	{ "ENABLE", ST_AUTH, cmd_enable },
	{ "NAMESPACE", ST_LOGGEDIN, cmd_namespace },
	{ "IDLE", ST_LOGGEDIN, cmd_idle },
	{ "SELECT", ST_LOGGEDIN, cmd_select },
	{ "EXAMINE", ST_LOGGEDIN, cmd_examine },
	{ "CREATE", ST_LOGGEDIN, cmd_create },
	{ "DELETE", ST_LOGGEDIN, cmd_delete },
	{ "RENAME", ST_LOGGEDIN, cmd_rename },
	{ "SUBSCRIBE", ST_LOGGEDIN, cmd_subscribe },
	{ "UNSUBSCRIBE", ST_LOGGEDIN, cmd_unsubscribe },
	{ "LIST", ST_LOGGEDIN, cmd_list },
	{ "LSUB", ST_LOGGEDIN, cmd_lsub },
	{ "STATUS", ST_LOGGEDIN, cmd_status },
	{ "APPEND", ST_LOGGEDIN, cmd_append },
	{ "CHECK", ST_SELECTED, cmd_check },
	{ "CLOSE", ST_SELECTED, cmd_close },
	{ "UNSELECT", ST_SELECTED, cmd_unselect },
	{ "EXPUNGE", ST_SELECTED, cmd_expunge },
	{ "SEARCH", ST_SELECTED | CMD_NO_EXPUNGE, cmd_search },
	{ "FETCH", ST_SELECTED | CMD_NO_EXPUNGE, cmd_fetch },
	{ "STORE", ST_SELECTED | CMD_NO_EXPUNGE, cmd_store },
	{ "COPY", ST_SELECTED | CMD_NO_EXPUNGE, cmd_copy },
	{ "MOVE", ST_SELECTED, cmd_move },
	{ "UID", ST_SELECTED, cmd_uid },
};

static const struct imap_cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++)
		if (strcasecmp(imap_cmds[i].name, name) == 0)
			return &imap_cmds[i];
	return NULL;
}

/* The command being parsed, as the table names it (for the log). */
static const char *
session_cmd_name(struct imap_session *s)
{
	const char *name = imap_parser_command(s->parser);
	const struct imap_cmd *cmd = name != NULL ? cmd_find(name) : NULL;

	return cmd != NULL ? cmd->name : "unknown";
}

static void
session_error(struct imap_session *s)
{
	if (++s->errors >= s->conf->imapd.max_errors) {
		log_info("sid=%s client=[%s] too many errors, disconnecting",
		    s->id, s->client_ip);
		imap_untagged(s, "BYE Too many errors");
		s->logout = 1;
	}
}

/*
 * A NO or BAD is logged, with the command's name and our reply (never
 * the command's arguments: LOGIN's are a password), and counted: a
 * client's trouble with us must leave a trace an administrator can read.
 */
static void
session_log_reply(struct imap_session *s)
{
	const char *reply = memchr(tagged.data, ' ', tagged.len);
	int no;

	if (reply == NULL)
		return;
	reply++;
	if (!(no = strncmp(reply, "NO ", 3) == 0) &&
	    strncmp(reply, "BAD ", 4) != 0)
		return;
	if (no)
		s->nno++;
	else
		s->nbad++;
	log_info("sid=%s command=%s reply=%.*s", s->id,
	    s->cmd_name != NULL ? s->cmd_name : "?",
	    (int)(tagged.data + tagged.len - 2 - reply), reply);
}

/* The tagged reply, after what changed meanwhile (RFC 3501 §7). */
static void
session_finish(struct imap_session *s, int allow_expunge)
{
	if (s->state == ST_SELECTED && !s->logout &&
	    imap_view_update(s, allow_expunge) == -1)
		imap_mailbox_lost(s);
	if (tagged.len > 0) {
		session_log_reply(s);
		buf_append(&s->conn.out, tagged.data, tagged.len);
	}
	buf_reset(&tagged);
	s->cmd_name = NULL;
}

static void
session_dispatch(struct imap_session *s)
{
	const struct imap_cmd *cmd;
	const struct imap_arg *args;
	const char *name = imap_parser_command(s->parser);
	size_t nargs;
	int r;

	s->tag = imap_parser_tag(s->parser);
	s->uid_cmd = 0;
	args = imap_parser_args(s->parser, &nargs);
	s->cmd_name = (cmd = cmd_find(name)) != NULL ? cmd->name : "unknown";
	if (cmd == NULL) {
		imap_tagged(s, "BAD Unknown command %s", log_str(name));
		r = -1;
	} else if ((cmd->states & s->state) == 0) {
		imap_tagged(s, "BAD %s not allowed %s", cmd->name,
		    s->state == ST_NOTAUTH ? "before login" :
		    s->state == ST_AUTH ? "without a selected mailbox" :
		    "now");
		r = -1;
	} else {
		log_debug("sid=%s command %s %s", s->id, s->tag, cmd->name);
		r = cmd->fn(s, args, nargs);
	}
	session_finish(s, cmd == NULL || (!(cmd->states & CMD_NO_EXPUNGE) &&
	    strcmp(cmd->name, "UID") != 0) || s->uid_cmd);
	if (r == -1)
		session_error(s);
}

/* Drop an APPEND file that no command took. */
static void
append_abandon(struct imap_session *s)
{
	if (s->append_tmp[0] != '\0')
		unlink(s->append_tmp);
	s->append_tmp[0] = '\0';
	s->append_errno = 0;
	if (s->append_mb != NULL)
		mbox_close(&s->append_mb);
}

/* Read exactly len octets into dst (memory), fd (file) or, when both
 * are unset, nowhere.  0; -2 all read but the file could not be
 * written; -1 the connection failed. */
static int
read_literal(struct imap_session *s, char *dst, int fd, size_t len)
{
	char chunk[65536];
	size_t got = 0, want;
	ssize_t n;
	int failed = 0;		/* errno of a failed write */

	while (got < len) {
		want = len - got;
		if (dst == NULL && want > sizeof(chunk))
			want = sizeof(chunk);
		n = conn_read(&s->conn, dst != NULL ? dst + got : chunk, want);
		if (n <= 0)
			return -1;
		/* After a failed write (disk full) the rest is still read:
		 * a literal's octets are never taken as commands. */
		if (dst == NULL && fd >= 0 && !failed &&
		    util_write_all(fd, chunk, (size_t)n) == -1)
			failed = errno;
		got += (size_t)n;
	}
	errno = failed;
	return failed ? -2 : 0;
}

/*
 * A non-synchronizing literal of a refused command: its octets are on
 * their way, so read and drop them (RFC 7888 §4) and skip the rest of
 * the command; 2.  One too large to wait for ends the session; -1.
 */
static int
literal_discard(struct imap_session *s, size_t len)
{
	if (len > (size_t)(s->conf->imapd.append_limit +
	    s->conf->imapd.max_command)) {
		imap_untagged(s, "BYE [TOOBIG] Literal too large");
		return -1;
	}
	return read_literal(s, NULL, -1, len) == -1 ? -1 : 2;
}

/*
 * APPEND's literal: into the target mailbox's tmp/.  The mailbox is the
 * first argument (RFC 3501 §6.3.11).  0 read; 1 refused (a NO was
 * given, nothing read, only for a synchronizing literal); 2 refused
 * and its octets dropped; -1 the connection is unusable.
 */
static int
literal_append(struct imap_session *s, size_t len, int sync)
{
	const struct imap_arg *args;
	size_t nargs;
	char name[MAILDIR_NAME_MAX + 1];
	const char *why = NULL;
	int fd, r;

	args = imap_parser_args(s->parser, &nargs);
	if (s->state == ST_NOTAUTH)
		why = "BAD APPEND not allowed before login";
	else if (nargs < 1 || !imap_arg_is_string(&args[0]))
		why = "BAD Missing mailbox name";
	else if ((off_t)len > s->conf->imapd.append_limit)
		why = "NO [TOOBIG] Message too large";
	else if (len == 0)
		why = "NO Empty message";
	s->cmd_name = "APPEND";
	if (why == NULL) {
		s->tag = imap_parser_tag(s->parser);
		if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
			why = "";
		else if (mbox_open(s->store, name, &s->append_mb) == -1)
			why = "NO [TRYCREATE] No such mailbox";
	}
	if (why != NULL) {
		if (why[0] != '\0')
			imap_tagged(s, "%s", why);
		session_finish(s, 0);
		return sync ? 1 : literal_discard(s, len);
	}
	if ((fd = mbox_append_begin(s->append_mb, s->append_tmp,
	    sizeof(s->append_tmp))) == -1) {
		mbox_close(&s->append_mb);
		imap_store_no(s, "append");
		session_finish(s, 0);
		return sync ? 1 : literal_discard(s, len);
	}
	if (sync)
		imap_continue(s, "Ready for literal data");
	r = read_literal(s, NULL, fd, len);
	if (r == -2)		/* disk full: the rest of the command comes */
		s->append_errno = errno;
	if (close(fd) == -1 && r == 0)
		s->append_errno = errno;	/* a write error told late */
	if (r == -1) {
		append_abandon(s);
		return -1;
	}
	imap_parser_literal_file(s->parser, s->append_tmp, len);
	return 0;
}

/* Any other literal: held in memory within imapd.max_command. */
static int
literal_memory(struct imap_session *s, size_t len, int sync)
{
	char *data;

	if (len > imap_parser_room(s->parser)) {
		s->tag = imap_parser_tag(s->parser);
		s->cmd_name = session_cmd_name(s);
		imap_tagged(s, "NO [TOOBIG] Literal too large");
		session_finish(s, 0);
		return sync ? 1 : literal_discard(s, len);
	}
	if (sync)
		imap_continue(s, "Ready for literal data");
	data = util_calloc(1, len + 1);
	if (read_literal(s, data, -1, len) == -1) {
		free(data);
		return -1;
	}
	imap_parser_literal(s->parser, data, len);
	free(data);
	return 0;
}

/*
 * About to wait for the client, maybe for minutes: give back what the
 * last command used (the index's page cache, freed heap), so an idle
 * session costs little more than its process.
 */
static void
session_shrink(struct imap_session *s)
{
	mstore_shrink(s->store);
	malloc_trim(0);
}

/* Does a line end with a non-synchronizing literal "{digits+}"? */
static int
announces_nonsync_literal(const char *line, size_t len)
{
	size_t i;

	if (len < 4 || line[len - 1] != '}' || line[len - 2] != '+')
		return 0;
	for (i = len - 2; i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9';
	    i--)
		;
	return i < len - 2 && i > 0 && line[i - 1] == '{';
}

/*
 * Read one command with its literals and run it.  0 go on, -1 the
 * connection ended (or must end).
 */
static int
session_command(struct imap_session *s)
{
	enum imap_parse_status ps;
	enum conn_status st;
	const char *why, *name;
	char *line;
	size_t len, litlen, nsofar;
	int sync, r, skipping = 0;

	imap_parser_reset(s->parser);
	if (conn_pending(&s->conn) == 0)
		session_shrink(s);
	for (;;) {
		st = conn_getline(&s->conn, &line, &len);
		if (st == CONN_TOOLONG) {
			/* Its tag and whether a {n+} literal follows are
			 * lost with it: what comes next cannot be told
			 * from commands, so the session ends. */
			imap_untagged(s, "BYE [TOOBIG] Command line too long");
			append_abandon(s);
			return -1;
		}
		if (st != CONN_LINE) {
			if (st == CONN_TIMEOUT && s->conn.deadline != 0)
				imap_untagged(s, "BYE Too long without logging "
				    "in");
			else if (st == CONN_TIMEOUT)
				imap_untagged(s, "BYE Autologout; idle for too "
				    "long");
			else if (st == CONN_ERROR && daemon_term)
				imap_untagged(s, "BYE Server shutting down");
			append_abandon(s);
			return -1;
		}
		ps = imap_parser_line(s->parser, line, len, &litlen, &sync,
		    &why);
		if (ps == IMAP_PARSE_DONE && !skipping)
			break;
		if (skipping && (ps != IMAP_PARSE_LITERAL || sync)) {
			append_abandon(s);	/* the command was refused */
			return 0;
		}
		if (ps == IMAP_PARSE_BAD) {
			s->tag = imap_parser_tag(s->parser);
			s->cmd_name = session_cmd_name(s);
			imap_tagged(s, "BAD %s", why);
			session_finish(s, 0);
			append_abandon(s);
			if (announces_nonsync_literal(line, len)) {
				/* Its octets are coming and must never be
				 * read as commands (RFC 7888 §4). */
				imap_untagged(s, "BYE Cannot take that "
				    "literal");
				return -1;
			}
			session_error(s);
			return 0;
		}
		/* APPEND's message follows its mailbox name. */
		name = imap_parser_command(s->parser);
		(void)imap_parser_args(s->parser, &nsofar);
		if (skipping)
			r = literal_discard(s, litlen);
		else if (name != NULL && strcasecmp(name, "APPEND") == 0 &&
		    nsofar >= 1 && s->append_tmp[0] == '\0')
			r = literal_append(s, litlen, sync);
		else
			r = literal_memory(s, litlen, sync);
		if (r == -1)
			return -1;
		if (r == 1) {
			append_abandon(s);
			return 0;
		}
		if (r == 2) {	/* go on parsing up to the command's end */
			skipping = 1;
			imap_parser_literal(s->parser, "", 0);
		}
	}
	session_dispatch(s);
	append_abandon(s);
	return s->logout ? -1 : 0;
}

/*
 * A post-login process: the user from the auth service (never from the
 * login process), this process confined to that user's Maildir, then the
 * store, and the LOGIN's tagged OK.  0, or -1 (answered: end).
 */
static int
session_post_login(struct imap_session *s, const struct pool_session *post)
{
	char user[320];
	struct buf caps;

	s->tag = post->tag;
	s->cmd_name = "LOGIN";
	if (login_redeem(&s->conn, s->authc, post, "imap", user,
	    sizeof(user)) == -1) {
		imap_tagged(s, "NO [UNAVAILABLE] Temporary authentication "
		    "failure");
		return -1;
	}
	if (maildir_user_path(s->conf->server.data_dir, user, s->userdir,
	    sizeof(s->userdir)) == -1 || maildir_create(s->userdir) == -1) {
		log_err("sid=%s user=%s no usable maildir", s->id, user);
		imap_tagged(s, "NO [UNAVAILABLE] Mailbox unavailable");
		return -1;
	}
	pool_confine_mail(s->userdir);
	if (imap_login(s, user) == -1)
		return -1;
	s->conn.deadline = 0;	/* logged in: only the idle timeout now */
	buf_init(&caps, 0);
	imap_capabilities(s, &caps);
	imap_tagged(s, "OK [%s] Logged in", caps.data);
	buf_release(&caps);
	return 0;
}

void
imap_session_run(struct pool_ctx *env, int fd, const char *service,
    const char *client_ip, int client_port, const struct pool_session *post,
    void *unused)
{
	struct imap_session sess, *s = &sess;
	double start = util_now();
	struct buf *b;

	(void)unused;
	memset(s, 0, sizeof(*s));
	s->userlock = -1;
	buf_init(&tagged, 0);
	s->env = env;
	s->conf = env->conf;
	s->authc = env->authc;
	s->service = service;
	s->client_port = client_port;
	s->state = ST_NOTAUTH;
	if (post != NULL)
		util_strcpy(s->id, post->sid, sizeof(s->id));
	else
		util_session_id(s->id);
	util_strcpy(s->client_ip, client_ip, sizeof(s->client_ip));
	conn_init(&s->conn, fd, (size_t)s->conf->imapd.max_line_length,
	    (int)s->conf->imapd.timeout);
	s->conn.stop = &daemon_term;
	s->parser = imap_parser_new((size_t)s->conf->imapd.max_command);

	if (post != NULL) {
		if (session_post_login(s, post) == -1) {
			imap_untagged(s, "BYE Cannot serve this session");
			s->logout = 1;
		}
		session_finish(s, 0);
		s->tag = NULL;
		while (!s->logout && session_command(s) == 0)
			;
	} else {
		/* A client has imapd.login_timeout to log in. */
		s->conn.deadline = util_now_usec() +
		    (int64_t)s->conf->imapd.login_timeout * 1000000;
		if (login_connect(&s->conn, env->tls, s->id, service,
		    client_ip, client_port) == -1) {
			s->broken = 1;
		} else {
			b = imap_out(s);
			buf_puts(b, "* OK [");
			imap_capabilities(s, b);
			buf_printf(b, "] %s IMAP4rev1 ready\r\n",
			    s->conf->server.hostname);
			while (!s->logout && session_command(s) == 0)
				;
		}
	}
	if (!s->broken)
		conn_flush(&s->conn);
	log_info("sid=%s %s client=[%s] user=%s fetch=%lu append=%lu "
	    "expunge=%lu no=%lu bad=%lu in=%llu out=%llu time=%.3fs", s->id,
	    s->handed_over ? "login done" : "disconnect", s->client_ip,
	    s->user[0] ? s->user : "-", s->nfetch, s->nappend, s->nexpunge,
	    s->nno, s->nbad, (unsigned long long)s->conn.bytes_in,
	    (unsigned long long)s->conn.bytes_out, util_now() - start);
	imap_unselect(s);
	mstore_close(&s->store);
	if (s->userlock != -1)
		close(s->userlock);
	imap_parser_free(&s->parser);
	conn_free(&s->conn);
	buf_release(&tagged);
	close(fd);
	explicit_bzero(s, sizeof(*s));	/* nothing for the next client */
}
