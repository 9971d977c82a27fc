/*
 * fcgi-supervise.h: the supervisor of stripe-sync.fcgi --workers N.
 *
 * It forks the workers on the FastCGI socket of standard input, replaces
 * any that dies, reloads the configuration on SIGHUP by replacing the
 * workers one at a time, grows and shrinks the pool on SIGTTIN and SIGTTOU,
 * and stops them all on SIGTERM, SIGINT or SIGQUIT.  See
 * stripe-sync.fcgi(8), SIGNALS.
 */
#ifndef FCGI_SUPERVISE_H
#define FCGI_SUPERVISE_H

#define WORKERS_MAX	256

struct conf;

/*
 * The body of one worker, run in the child after fork: serve requests
 * with cf until told to stop and return the exit status.  If ready_fd is
 * not -1, the worker writes one byte to it (and closes it) once it has
 * opened the database and is about to accept its first connection.
 */
typedef int	(*worker_fn)(const struct conf *cf, int ready_fd);

/*
 * Supervise n (1 to WORKERS_MAX) workers running fn.  cf is the loaded
 * configuration; on SIGHUP the file path is read again (must_exist as for
 * conf_load()) and, once valid, replaces *cf: the caller still frees *cf
 * with conf_free() afterwards.  Returns the exit status (0).
 */
int	 supervise(struct conf *cf, const char *path, int must_exist, int n,
	    worker_fn fn);

#endif
