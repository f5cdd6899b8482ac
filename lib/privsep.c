#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "privsep.h"

int
privsep_lookup(const char *user, uid_t *uid, gid_t *gid, const char **err)
{
	static char msg[256];
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown user '%s'%s%s", user,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		*err = msg;
		return -1;
	}
	if (pw->pw_uid == 0) {
		*err = "refusing to run services as root (server.user)";
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
privsep_drop(const char *user, const char **err)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (privsep_lookup(user, &uid, &gid, err) == -1)
		return -1;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		*err = strerror(errno);
		return -1;
	}
	if (setuid(0) != -1 || getuid() == 0 || geteuid() == 0) {
		*err = "could regain root after dropping privileges";
		return -1;
	}
	return 0;
}

/* Call after privsep_drop(): a credential change clears the setting. */
void
privsep_die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)	/* the parent died before prctl */
		raise(SIGTERM);
}
