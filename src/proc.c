/*
 * proc.c: a process's own start-up hardening.  See proc.h.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "proc.h"
#include "util.h"

int
proc_lockdown(const struct conf *cf, const char *prog, char *err,
    size_t errsz)
{
	struct rlimit	 rl;

	if (geteuid() == 0 || getuid() == 0) {
		if (!cf->allow_root) {
			util_errf(err, errsz, "refusing to run as root: start "
			    "%s as its own user (spawn-fcgi -u USER -g GROUP, "
			    "or User= in its systemd unit); in a container "
			    "that has no other user, set allow_root = yes",
			    prog);
			return 0;
		}
		log_warn("running as root because allow_root = yes: use "
		    "this only in a container with no other user");
	}

	/* No core file, whatever the service manager's limit says. */
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1) {
		util_errf(err, errsz, "setrlimit(RLIMIT_CORE): %s",
		    strerror(errno));
		return 0;
	}
#ifndef STRIPE_SYNC_SANITIZERS
	/* Not dumpable: no core even where a limit is raised again, and no
	 * ptrace or /proc/PID/mem by processes of the same user.  (Left out
	 * of sanitizer builds: LeakSanitizer stops the world with ptrace
	 * and fails in an undumpable process.) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		util_errf(err, errsz, "prctl(PR_SET_DUMPABLE): %s",
		    strerror(errno));
		return 0;
	}
#endif
	return 1;
}
