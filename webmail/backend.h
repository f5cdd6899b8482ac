/*
 * The parts of a webmail session's process (backend.c, view.c, act.c):
 * internal to webmail/, as maildir/store_int.h is to the store.
 */
#ifndef WEBMAIL_BACKEND_H
#define WEBMAIL_BACKEND_H

#include <limits.h>

#include "../maildir/maildir.h"
#include "webmail.h"

struct authc;
struct mime_msg;
struct conf;
struct pool;
struct mstore;
struct mbox;

struct backend {
	int		 fd;		/* the front */
	const struct conf *conf;
	struct pool	*pool;		/* maild: spool files */
	struct authc	*authc;		/* the auth service */
	char		 client_ip[64];
	char		 sid[16];
	char		 user[320];
	char		 userdir[PATH_MAX];
	struct mstore	*st;
	struct shares	*shares;	/* owners sharing with the user */
	struct mbox	*mb;		/* the folder last opened */
	char		 mb_name[MAILDIR_NAME_MAX * 2 + 2];	/* as shown */
	unsigned int	 rights;	/* ACL_* on it (all: the user's) */
	/* live updates: INBOX and the folder a page shows */
	struct watched {
		struct mbox	*mb;
		char		 name[MAILDIR_NAME_MAX * 2 + 2];
		int		 fd;	/* mbox_watch() */
		uint32_t	 unseen, messages;
		uint64_t	 modseq;
	}		 watch[2];
	int		 watching;
	int		 upload;	/* the request's files (memfd), or -1 */
	struct ipc_in	 in;
	struct ipc_out	 out;
};

#define RESP_MAX_HEADERS 4

/* A response being made. */
struct resp {
	int		 status;
	char		 type[128];	/* "frame:" first: a mail's document */
	struct buf	 body;
	struct {
		char	*name, *value;
	}		 headers[RESP_MAX_HEADERS];
	size_t		 nheaders;
};

void	resp_init(struct resp *rs, int status, const char *type);
void	resp_header(struct resp *rs, const char *name, const char *value);
void	resp_redirect(struct resp *rs, const char *to);
void	resp_text(struct resp *rs, int status, const char *text);
/* The store's last failure (mstore_errclass()) as the reply: the one
 * place its classes become HTTP statuses; what names the operation in
 * the log. */
void	resp_store_fail(struct backend *be, struct resp *rs,
	    const char *what);

/* view.c: the mail page (GET) */

/* What the mail page shows, as its list is drawn and its reader next. */
struct list_arg {
	struct buf	*b;
	const char	*folder, *page, *sort, *order, *q, *csrf;
	const char	*back;		/* this page */
	const char	*threads;	/* "1": the conversation view */
	const char	*all;		/* "1": search every folder */
	const char	*in;		/* "head": search sender, subject */
	int		 images;	/* remote images asked for */
	int		 child;		/* the row is a reply in its thread */
	const char	*row_folder;	/* a hit of a search of all folders */
	uint32_t	 open_uid;
	uint32_t	 prev_uid, next_uid, last_uid;
	int		 open_seen;
	unsigned int	 open_flags;
	size_t		 rows;
};

/* An <input type=hidden>, and a URL (web_url()) in an attribute: both
 * escaped. */
void	html_hidden(struct buf *b, const char *name, const char *value);
void	html_url_attr(struct buf *b, const char *path, ...);
/*
 * The list as la shows it (folder, sort, order, search, conversations)
 * at page, with message uid open (each NULL: none) and one parameter
 * more (key NULL: none): into u, or escaped into an attribute of b.
 */
void	list_url(struct buf *u, const struct list_arg *la, const char *page,
	    const char *uid, const char *key, const char *value);
void	list_url_attr(struct buf *b, const struct list_arg *la,
	    const char *page, const char *uid, const char *key,
	    const char *value);
/* A UID parameter: > 0, or 0. */
uint32_t web_param_uid(const struct web_request *r, const char *name);

void	view_mail(struct backend *be, const struct web_request *r,
	    struct resp *rs);
/* pagecache.c: the list page kept under everything it is made from,
 * the store's stamp among them.  pagecache_get(): 1, rs is the page
 * kept; 0, make it, then pagecache_put() it; pagecache_done() always. */
struct pagecache_try {
	struct buf	 key, stamp;
	int64_t		 own, newest, start;
	int		 ok;
};
int	pagecache_get(struct backend *be, const struct web_request *r,
	    struct pagecache_try *t, struct resp *rs);
void	pagecache_put(struct backend *be, struct pagecache_try *t,
	    const struct resp *rs);
void	pagecache_done(struct pagecache_try *t);
/* The folder named by parameter "f" (INBOX when absent), open and
 * synced in be->mb; 0, or -1 (rs answered). */
int	view_folder(struct backend *be, const struct web_request *r,
	    struct resp *rs);

/* message.c: a message: the reader pane of the mail page, its own
 * document (the frame), an attachment, its source */
void	view_reader(struct backend *be, struct buf *b, struct list_arg *la);
/* Message uid of mb, parsed (within twice the message size limit), or
 * NULL (expunged, unreadable). */
struct mime_msg *web_msg_load(struct backend *be, struct mbox *mb,
	    uint32_t uid);
void	view_body(struct backend *be, const struct web_request *r,
	    struct resp *rs);
void	view_part(struct backend *be, const struct web_request *r,
	    struct resp *rs);
void	view_raw(struct backend *be, const struct web_request *r,
	    struct resp *rs);

/* The first folder with a special use (MFA_SENT ...) into name; 0 or
 * -1 when there is none. */
int	view_role_folder(struct backend *be, unsigned int role, char *name,
	    size_t size);

/* act.c: what changes (POST) */
void	act_messages(struct backend *be, const struct web_request *r,
	    struct resp *rs);
void	act_folder(struct backend *be, const struct web_request *r,
	    struct resp *rs);
/* Set flag (MF_*) on message uid of folder; best effort. */
void	act_mark(struct backend *be, const char *folder, uint32_t uid,
	    unsigned int flag);
/* Remove draft uid (0: none) from the Drafts folder: it was sent or
 * saved again. */
void	view_drop_draft(struct backend *be, uint32_t uid);

/* search.c: the UIDs of folder mb whose From, To, Cc, Subject or text
 * hold words (head: whose sender or subject does, from the index alone),
 * in the list's order (malloc'd); 0 or -1. */
int	web_search(struct backend *be, struct mbox *mb, const char *words,
	    int head, enum msort sort, int reverse, uint32_t **uids_r,
	    size_t *n_r);

/* threads.c: the folder's (be->mb) messages in conversations, as UIDs
 * in the order shown, child[i] set for a message under the one before
 * it in its thread (malloc'd); 0 or -1. */
int	web_threads(struct backend *be, uint32_t **uids_r,
	    unsigned char **child_r, size_t *n_r);

/* shared.c: folders other users share with this one (IMAP ACL) */
#define WEB_FOLDER_NONE		(-1)	/* not there, or not visible */
#define WEB_FOLDER_NOPERM	(-2)	/* there, a right of need missing */
/* Folder name (the user's own, or "Other Users/owner/folder") opened
 * into *mb_r if the user has the rights need (ACL_*) there: 0 with
 * *rights_r (may be NULL), or WEB_FOLDER_NONE, WEB_FOLDER_NOPERM. */
int	web_folder_open(struct backend *be, const char *name,
	    unsigned int need, struct mbox **mb_r, unsigned int *rights_r);
/* Is name in the other users' namespace? */
int	web_shared_name(const char *name);
/* Each folder shared with the user that it may see (ACL_L), by owner:
 * its name here, the owner's store, its name there, the rights. */
void	web_shared_each(struct backend *be, void (*cb)(const char *name,
	    struct mstore *st, const char *folder, unsigned int rights,
	    void *arg), void *arg);
/* The owners' stamps (mstore_stamp()) after out's, their own counts
 * added, the newest kept; 0 or -1. */
int	web_shared_stamp(struct backend *be, struct buf *out, int64_t *own,
	    int64_t *newest);
/* Folder names of a store (mstore_list()'s callback). */
struct web_names {
	char	**v;
	size_t	 n;
};
void	web_names_collect(const char *name, unsigned int attrs, void *arg);
void	web_names_free(struct web_names *l);

/* compose.c: writing mail */
void	view_compose(struct backend *be, const struct web_request *r,
	    struct resp *rs);
void	act_send(struct backend *be, const struct web_request *r,
	    struct resp *rs);

#endif
