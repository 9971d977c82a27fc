/*
 * proc.h: what a long-running process (a worker, the supervisor, the job
 * runner) does to itself at start-up, before it touches the database or
 * the network.
 */
#ifndef PROC_H
#define PROC_H

#include <stddef.h>

struct conf;

/*
 * Refuse to run as root unless cf->allow_root (a container with no other
 * user): a worker parses what the Internet sends and holds every install's
 * key.  Then make the process undumpable (no core file, no ptrace by its
 * own user: a core of a worker would hold keys it has just unsealed).
 * Returns 1, or 0 with a message for the operator in err.
 */
int	 proc_lockdown(const struct conf *cf, const char *prog, char *err,
	    size_t errsz);

#endif
