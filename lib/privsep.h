/*
 * privsep: giving up root.  A daemon started as root binds its sockets and
 * reads its keys, then calls privsep_drop() before it reads a single byte
 * from the network.  Started as another user, there is nothing to drop.
 */
#ifndef PRIVSEP_H
#define PRIVSEP_H

#include <sys/types.h>

/* uid/gid of a user; 0 or -1 with *err. */
int	privsep_lookup(const char *user, uid_t *uid, gid_t *gid,
	    const char **err);
/*
 * If root: setgroups, setresgid, setresuid to user, and verify that root
 * cannot be regained.  0, or -1 with *err.
 */
int	privsep_drop(const char *user, const char **err);
/*
 * Ask for SIGTERM when the parent dies (maild killed: services stop).
 * parent: the parent's pid as seen at the start (a parent that died
 * before this call is noticed too).
 */
void	privsep_die_with_parent(pid_t parent);

#endif
