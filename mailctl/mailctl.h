/*
 * What mailctl's commands in files of their own (acl.c) share with
 * mailctl.c.  Not for use outside mailctl/.
 */
#ifndef MAILCTL_H
#define MAILCTL_H

struct conf;
struct userdb;

/* users.db, the data directory prepared; exits on failure. */
struct userdb *mailctl_open_db(void);
/* acl list|set|del ...: the exit status, or -1 for the usage. */
int	mailctl_acl(const struct conf *conf, int argc, char **argv);

#endif
