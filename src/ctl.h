/*
 * ctl.h: what the files of stripe-syncctl share.  ctl.c holds main(), the
 * command table, check-config and the helpers every command uses (options,
 * ctl_load(), the text buffer, disp()); each other group of commands has a
 * file of its own: ctl-init.c, ctl-db.c, ctl-installs.c, and doctor.c with
 * doctor-net.c.  A helper used by one file stays static in it.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"

struct db;
struct option;

#define PROGNAME	"stripe-syncctl"

/* The exit status of all three binaries. */
enum ctl_exit {
	CTL_OK = 0,		/* success */
	CTL_FAIL = 1,		/* runtime failure: database, I/O */
	CTL_USAGE = 2,		/* bad command line */
	CTL_CONFIG = 3,		/* configuration invalid */
	CTL_NOTFOUND = 4,	/* the named object does not exist */
	CTL_SCHEMA = 5,		/* database schema version mismatch */
};

/* State shared by the commands. */
struct ctl {
	const char	*conf_arg;	/* -c/--config, or NULL */
	const char	*conf_file;	/* resolved path (conf_path()) */
	int		 conf_explicit;	/* path from -c or STRIPE_SYNC_CONF */
	struct conf	 cf;
	int		 cf_loaded;
};

struct cmd {
	const char	*name;
	int		(*fn)(struct ctl *, const struct cmd *, int, char **);
	const char	*synopsis;	/* arguments after the name */
	const char	*summary;	/* one line for the global usage */
	const char	*help;		/* the body of "command --help" */
};

/*
 * A growable text buffer, zeroed before first use.  It may hold secrets
 * (init writes the configuration through it), so growth copies into fresh
 * memory and wipes the old block, and buf_free() wipes everything.  p is
 * NULL until something is appended, else NUL terminated.
 */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

/* Append formatted text; on allocation failure set b->failed and append
 * nothing more. */
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Wipe and free the buffer's memory and zero it (ready for reuse). */
void	 buf_free(struct buf *b);

/* A printable copy of an untrusted string, escaped by log_escape(), "-"
 * for NULL or empty.  Returns an allocated string the caller frees, NULL
 * on memory failure. */
char	*disp(const char *s);

/* Print the usage of command c to f, its full help if "full". */
void	 cmd_usage(FILE *f, const struct cmd *c, int full);

/* getopt_long() for a command's options; argv[0] is the command name and
 * *first must be 1 on the first call (it restarts getopt).  Returns the
 * option character, -1 at the end, '?' on error (getopt printed why). */
int	 cmd_getopt(int argc, char **argv, const char *optstr,
	    const struct option *lopts, int *first);

/* The common outcomes of an option loop: 'h' prints the help to stdout
 * and returns CTL_OK, '?' or ':' prints the usage to stderr and returns
 * CTL_USAGE.  Returns -1 for any other option. */
int	 cmd_common_opt(const struct cmd *c, int ch);

/* A command that takes only -h: parse it.  Returns -1 to go on, else the
 * exit status. */
int	 cmd_noargs(const struct cmd *me, int argc, char **argv);

/* The same for a command that takes exactly n arguments, left at
 * argv[optind...]. */
int	 cmd_nargs(const struct cmd *me, int argc, char **argv, int n);

/* Load and validate the configuration into c->cf (once), then point the
 * log at its log_file.  Returns CTL_OK or CTL_CONFIG (message printed). */
int	 ctl_load(struct ctl *c);

/* Open the database for normal use (ctl-db.c).  Returns CTL_OK with *dbp
 * set (the caller must db_close() it), or an exit status (message printed,
 * CTL_SCHEMA with the next step when the schema version is the reason). */
int	 ctl_open(struct ctl *c, struct db **dbp);

/*
 * The commands of the table in ctl.c, each returning the exit status.
 * argv[0] is the command name.  Each loads the configuration into c->cf
 * itself (c->cf_loaded says so; main() frees it).
 */

/* init: write a configuration skeleton with fresh secrets (ctl-init.c). */
int	 cmd_init(struct ctl *c, const struct cmd *me, int argc, char **argv);

/* migrate: create or upgrade the schema (ctl-db.c). */
int	 cmd_migrate(struct ctl *c, const struct cmd *me, int argc,
	    char **argv);

/* What key id kid is to the configuration cf: "current" (master_key),
 * "old" (in old_master_keys) or NULL (not held at all). */
const char *ctl_kid_role(const struct conf *cf, const char *kid);

/* backup FILE, restore FILE: the online backup API (ctl-db.c). */
int	 cmd_backup(struct ctl *c, const struct cmd *me, int argc,
	    char **argv);
int	 cmd_restore(struct ctl *c, const struct cmd *me, int argc,
	    char **argv);

/* rotate-keys: re-seal every stored secret under master_key (ctl-db.c). */
int	 cmd_rotate_keys(struct ctl *c, const struct cmd *me, int argc,
	    char **argv);

/* installs: list every install (ctl-installs.c). */
int	 cmd_installs(struct ctl *c, const struct cmd *me, int argc,
	    char **argv);

/* install ID: show one install (ctl-installs.c). */
int	 cmd_install(struct ctl *c, const struct cmd *me, int argc,
	    char **argv);

/* doctor: check the deployment (doctor.c).  Loads the configuration into
 * c->cf itself (c->cf_loaded says so; main() frees it).  Returns CTL_OK
 * (warnings allowed), CTL_FAIL if any check failed, CTL_CONFIG or
 * CTL_USAGE. */
int	 cmd_doctor(struct ctl *c, const struct cmd *me, int argc,
	    char **argv);

#endif
