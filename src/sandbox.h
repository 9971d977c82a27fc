/*
 * sandbox.h: what a long-running process gives up once it has opened
 * everything it opens at start: no-new-privileges, a Landlock ruleset
 * (files) and a seccomp allow-list (system calls).  See sandbox.c for
 * what is enforced and what is not.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>

struct conf;

/* Who enters: each gets its own allow-list. */
enum sandbox_role {
	SANDBOX_WORKER,		/* stripe-sync.fcgi serving requests */
	SANDBOX_RUNNER,		/* stripe-syncd */
	SANDBOX_SUPERVISOR,	/* stripe-sync.fcgi --workers N: forks the
				   workers, which inherit its filter */
	SANDBOX_ROLE__MAX
};

/*
 * Enter the sandbox as cf->sandbox says (on, log or off), once, after the
 * database, the log and the listening socket are open and before the
 * first request or job.  Logs one line saying what is in force.  Returns
 * 1, or 0 with a message for the operator in err: the caller must not
 * serve then.
 */
int	 sandbox_enter(const struct conf *cf, const char *prog,
	    enum sandbox_role role, char *err, size_t errsz);

/* 1 if this build has the seccomp allow-list (libseccomp, and no
 * sanitizers). */
int	 sandbox_has_seccomp(void);

/* The Landlock ABI version the running kernel offers, 0 if none. */
int	 sandbox_landlock_abi(void);

#endif
