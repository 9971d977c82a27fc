/*
 * sandbox.c: the sandbox each worker, the supervisor and stripe-syncd
 * enter once start-up is over (sandbox.h).
 *
 * Three layers, each what the kernel offers for one thing:
 *
 *   no-new-privileges  always, even with sandbox = off and in sanitizer
 *                      builds: nothing this process executes can gain a
 *                      privilege (setuid, file capabilities).
 *   Landlock           files (workers and stripe-syncd; kernel 5.13+, else
 *                      one log line says it is unavailable).  seccomp sees
 *                      only pointers, so paths are Landlock's job.
 *                      Writing, creating, truncating and removing files is
 *                      allowed only in the database directory (SQLite's
 *                      -journal, -wal and -shm files and its temporary
 *                      files, pointed there), and for stripe-syncd in the
 *                      log file's directory (it reopens the log on
 *                      SIGHUP).  Reading only in /etc (resolver, NSS,
 *                      OpenSSL; the secrets there are ones the process
 *                      already holds), /usr, /lib*, the ca_file,
 *                      /dev/null and /dev/urandom, the database
 *                      directory, and for stripe-syncd the configuration's
 *                      directory and $CREDENTIALS_DIRECTORY (a reload
 *                      reads them).  Executing a file is allowed nowhere.
 *                      Files opened before (the log, the database, the
 *                      socket) are unaffected.  The supervisor has no
 *                      ruleset: its workers would inherit it, and a reload
 *                      may name another database.
 *   seccomp            system calls (libseccomp).  An allow-list per role:
 *                      file and socket I/O, memory without PROT_EXEC,
 *                      threads (clone only with CLONE_THREAD: libcurl's
 *                      threaded resolver; clone3 answers ENOSYS so that
 *                      glibc falls back to clone), sockets only AF_INET
 *                      and AF_INET6 (AF_UNIX and AF_NETLINK answer
 *                      EAFNOSUPPORT: glibc's nscd and address-sorting
 *                      probes then fall back), a few ioctls, signals only
 *                      to itself.  Not allowed: execve, fork, bind,
 *                      listen, ptrace, mount, and everything else not
 *                      listed.  The supervisor's list is the workers'
 *                      plus fork, wait, kill and the calls that install
 *                      the workers' own sandbox; each worker stacks its
 *                      stricter filter on the one it inherits.
 *
 * A call outside the list is trapped (SIGSYS) before it runs.  Our
 * handler writes one log line naming it (names resolved before the
 * filter, the line built without malloc or locks), then:
 *   on   the process dies of SIGSYS (the supervisor replaces a worker);
 *   log  the call fails with EPERM and the process goes on: a diagnostic
 *        mode whose lines an operator (and a test) can read in the app's
 *        log, unlike SCMP_ACT_LOG's, which go to the kernel's audit log.
 * The handler can be replaced by code that already runs in the process;
 * the call still does not run, so nothing is lost but the death.
 *
 * Not enforced: which hosts and ports a process connects to (AF_INET and
 * AF_INET6 connect(2) is allowed; Cloud and Stripe may be anywhere),
 * what it does with the descriptors it already holds (the database, the
 * log), and the metadata of any path (stat(2) and access(2) are not
 * Landlock's).  Sanitizer builds keep only
 * no-new-privileges: ASan and LSan need system calls and files no list
 * should allow (ptrace, /proc, the symbolizer's execve).  A build without
 * libseccomp keeps no-new-privileges and Landlock, says so at start, and
 * refuses an explicit sandbox = on or log (conf-check.c).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <sqlite3.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "conf.h"
#include "log.h"
#include "sandbox.h"
#include "util.h"

#if defined(HAVE_SECCOMP) && !defined(STRIPE_SYNC_SANITIZERS)
#define USE_SECCOMP	1
#endif

/* Landlock rights newer than the oldest header we build with. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif

#define LL_READ		(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE	(LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_TRUNCATE)
#define LL_CREATE	(LANDLOCK_ACCESS_FS_MAKE_REG | \
			 LANDLOCK_ACCESS_FS_REMOVE_FILE)
/* The rights that apply to a file rather than a directory. */
#define LL_FILE		(LANDLOCK_ACCESS_FS_EXECUTE | \
			 LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_TRUNCATE)

static const char *const role_names[SANDBOX_ROLE__MAX] = {
	"worker",	/* SANDBOX_WORKER */
	"runner",	/* SANDBOX_RUNNER */
	"supervisor",	/* SANDBOX_SUPERVISOR */
};

/* ---- Landlock ---------------------------------------------------------- */

/*
 * The directory of path (made absolute) into buf.  1, or 0 (errno).  A
 * file that does not exist (a database deleted under the workers, which
 * then wait for it to come back) has the directory its name says.
 */
static int
dir_of(const char *path, char *buf, size_t bufsz)
{
	char		 real[PATH_MAX], name[PATH_MAX];
	char		*slash;

	if (realpath(path, real) == NULL) {
		if (errno != ENOENT || (size_t)snprintf(name, sizeof(name),
		    "%s", path) >= sizeof(name))
			return 0;
		if ((slash = strrchr(name, '/')) == NULL)
			snprintf(name, sizeof(name), ".");
		else if (slash == name)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (realpath(name, real) == NULL)
			return 0;
		if ((size_t)snprintf(buf, bufsz, "%s", real) >= bufsz) {
			errno = ENAMETOOLONG;
			return 0;
		}
		return 1;
	}
	if ((slash = strrchr(real, '/')) == real)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((size_t)snprintf(buf, bufsz, "%s", real) >= bufsz) {
		errno = ENAMETOOLONG;
		return 0;
	}
	return 1;
}

int
sandbox_landlock_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	long	 v;

	v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return v > 0 && v < INT_MAX ? (int)v : 0;
#else
	return 0;
#endif
}

#ifdef SYS_landlock_create_ruleset
/*
 * Allow access (masked by handled, and to the file rights if path is not
 * a directory) beneath path.  A path that does not exist is skipped
 * unless required.  Returns 1, or 0 with err set.
 */
static int
ll_allow(int rfd, uint64_t handled, const char *path, uint64_t access,
    int required, char *err, size_t errsz)
{
	struct landlock_path_beneath_attr pb;
	struct stat	 st;
	int		 fd, e;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (!required)
			return 1;
		util_errf(err, errsz, "sandbox: %s: %s", path,
		    strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		util_errf(err, errsz, "sandbox: %s: %s", path, strerror(e));
		return 0;
	}
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = access & handled;
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= LL_FILE;
	if (pb.allowed_access != 0 && syscall(SYS_landlock_add_rule, rfd,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1) {
		e = errno;
		close(fd);
		util_errf(err, errsz, "sandbox: landlock rule for %s: %s",
		    path, strerror(e));
		return 0;
	}
	close(fd);
	return 1;
}

#endif

/*
 * Restrict this process's file access (see the top of the file).
 * Returns 1 with what is in force described in desc, 0 if the kernel
 * has no Landlock (desc says so), -1 with err set.
 */
static int
landlock_enter(const struct conf *cf, enum sandbox_role role, char *desc,
    size_t descsz, char *err, size_t errsz)
{
#ifdef SYS_landlock_create_ruleset
	static const char *const readable[] = { "/etc", "/usr", "/lib",
	    "/lib64", "/dev/urandom", "/dev/random" };
	struct landlock_ruleset_attr	 attr;
	char		 dbdir[PATH_MAX], dir[PATH_MAX];
	const char	*creds;
	uint64_t	 handled;
	size_t		 i;
	int		 abi, rfd, ok = 0;

	if ((abi = sandbox_landlock_abi()) == 0) {
		snprintf(desc, descsz, "landlock unavailable (%s): file "
		    "access not restricted", errno == EOPNOTSUPP ?
		    "disabled in this kernel" : "kernel older than 5.13");
		return 0;
	}
	if (!dir_of(cf->db_path, dbdir, sizeof(dbdir))) {
		util_errf(err, errsz, "sandbox: the directory of db_path: %s",
		    strerror(errno));
		return -1;
	}
	handled = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled;
	if ((rfd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1) {
		util_errf(err, errsz, "sandbox: landlock_create_ruleset: %s",
		    strerror(errno));
		return -1;
	}

	for (i = 0; i < sizeof(readable) / sizeof(readable[0]); i++)
		if (!ll_allow(rfd, handled, readable[i], LL_READ, 0, err,
		    errsz))
			goto out;
	if (!ll_allow(rfd, handled, "/dev/null", LL_READ |
	    LANDLOCK_ACCESS_FS_WRITE_FILE, 0, err, errsz))
		goto out;
	if (cf->ca_file != NULL && !ll_allow(rfd, handled, cf->ca_file,
	    LL_READ, 1, err, errsz))
		goto out;
	if (!ll_allow(rfd, handled, dbdir, LL_READ | LL_WRITE | LL_CREATE, 1,
	    err, errsz))
		goto out;
	if (role == SANDBOX_RUNNER) {
		if (cf->log_file != NULL && dir_of(cf->log_file, dir,
		    sizeof(dir)) && !ll_allow(rfd, handled, dir, LL_WRITE |
		    LANDLOCK_ACCESS_FS_MAKE_REG, 0, err, errsz))
			goto out;
		if (cf->path != NULL && dir_of(cf->path, dir, sizeof(dir)) &&
		    !ll_allow(rfd, handled, dir, LL_READ, 0, err, errsz))
			goto out;
		if ((creds = getenv("CREDENTIALS_DIRECTORY")) != NULL &&
		    *creds == '/' && !ll_allow(rfd, handled, creds, LL_READ, 0,
		    err, errsz))
			goto out;
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1) {
		util_errf(err, errsz, "sandbox: landlock_restrict_self: %s",
		    strerror(errno));
		goto out;
	}
	snprintf(desc, descsz, "landlock ABI %d: files written only in %s%s",
	    abi, dbdir, role == SANDBOX_RUNNER && cf->log_file != NULL ?
	    " and the log's directory" : "");
	ok = 1;
out:
	close(rfd);
	return ok ? 1 : -1;
#else
	(void)cf;
	(void)role;
	(void)err;
	(void)errsz;
	snprintf(desc, descsz, "landlock unavailable (built without it): "
	    "file access not restricted");
	return 0;
#endif
}

/* ---- seccomp ----------------------------------------------------------- */

int
sandbox_has_seccomp(void)
{
#ifdef USE_SECCOMP
	return 1;
#else
	return 0;
#endif
}

#ifdef USE_SECCOMP

#define W	(1 << SANDBOX_WORKER)
#define R	(1 << SANDBOX_RUNNER)
#define S	(1 << SANDBOX_SUPERVISOR)
#define ALL	(W | R | S)

/*
 * The calls allowed whatever their arguments, and by whom.  Every call a
 * worker may make is the supervisor's too: a worker runs under both
 * filters.  Names this architecture lacks (open on arm64) are skipped.
 */
static const struct {
	const char	*name;
	int		 roles;
} allowed[] = {
	/* Descriptors: the database, the log, sockets, pipes. */
	{ "read", ALL }, { "write", ALL }, { "readv", ALL },
	{ "writev", ALL }, { "pread64", ALL }, { "pwrite64", ALL },
	{ "lseek", ALL }, { "close", ALL }, { "dup", ALL }, { "dup2", ALL },
	{ "dup3", ALL }, { "fcntl", ALL },	/* F_OFD_SETLK(W), O_NONBLOCK */
	{ "pipe2", ALL }, { "eventfd2", ALL },
	/* Files: which ones is Landlock's to say. */
	{ "open", ALL }, { "openat", ALL }, { "fstat", ALL },
	{ "stat", ALL }, { "lstat", ALL }, { "newfstatat", ALL },
	{ "statx", ALL }, { "access", ALL }, { "faccessat", ALL },
	{ "faccessat2", ALL }, { "readlink", ALL }, { "readlinkat", ALL },
	{ "getcwd", ALL }, { "fstatfs", ALL }, { "getdents64", ALL },
	{ "unlink", ALL }, { "unlinkat", ALL },	/* the journal */
	{ "ftruncate", ALL }, { "fsync", ALL }, { "fdatasync", ALL },
	{ "fchmod", ALL }, { "fchown", ALL },	/* SQLite, as root */
	/* Memory (mmap and mprotect: below, without PROT_EXEC). */
	{ "munmap", ALL }, { "mremap", ALL }, { "brk", ALL },
	{ "madvise", ALL },
	/* Sockets (socket: below): libcurl, the resolver, libfcgi. */
	{ "connect", ALL }, { "accept", ALL }, { "accept4", ALL },
	{ "getsockopt", ALL }, { "setsockopt", ALL },
	{ "getsockname", ALL }, { "getpeername", ALL },
	{ "sendto", ALL }, { "recvfrom", ALL }, { "sendmsg", ALL },
	{ "recvmsg", ALL }, { "sendmmsg", ALL }, { "recvmmsg", ALL },
	{ "shutdown", ALL },
	{ "poll", ALL }, { "ppoll", ALL }, { "select", ALL },
	{ "pselect6", ALL }, { "epoll_create1", ALL }, { "epoll_ctl", ALL },
	{ "epoll_wait", ALL }, { "epoll_pwait", ALL },
	/* Signals, timers, time. */
	{ "rt_sigaction", ALL }, { "rt_sigprocmask", ALL },
	{ "rt_sigreturn", ALL }, { "rt_sigtimedwait", ALL },
	{ "rt_sigpending", ALL }, { "restart_syscall", ALL },
	{ "setitimer", ALL }, { "getitimer", ALL },	/* db.c's queue */
	{ "nanosleep", ALL }, { "clock_nanosleep", ALL },
	{ "clock_gettime", ALL }, { "clock_getres", ALL },
	{ "gettimeofday", ALL }, { "time", ALL },
	/* Threads: libcurl's resolver (clone: below). */
	{ "futex", ALL }, { "set_robust_list", ALL }, { "get_robust_list", ALL },
	{ "rseq", ALL }, { "set_tid_address", ALL }, { "sched_yield", ALL },
	{ "sched_getaffinity", ALL }, { "gettid", ALL },
	{ "exit", ALL }, { "exit_group", ALL },
	/* Identity and the rest of libc and OpenSSL. */
	{ "getpid", ALL }, { "getppid", ALL }, { "getuid", ALL },
	{ "geteuid", ALL }, { "getgid", ALL }, { "getegid", ALL },
	{ "getrandom", ALL }, { "uname", ALL }, { "sysinfo", ALL },
	{ "getrusage", ALL },
	/* The supervisor: its workers, and their own sandbox (which can
	 * only take away). */
	{ "wait4", S }, { "waitid", S }, { "signalfd4", S }, { "kill", S },
	{ "tgkill", S }, { "seccomp", S }, { "landlock_create_ruleset", S },
	{ "landlock_add_rule", S }, { "landlock_restrict_self", S },
};

/* The ioctls allowed (isatty, non-blocking and pending-bytes queries). */
static const unsigned long ioctls[] = {
	TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX,
};

/* prctl options allowed, and to whom: (option, arg2 or -1: any). */
static const struct {
	int		 opt;
	long		 arg2;
	int		 roles;
} prctls[] = {
	{ PR_SET_DUMPABLE, 0, ALL },	/* proc_lockdown() at a reload */
	{ PR_GET_DUMPABLE, -1, ALL },
	{ PR_SET_NAME, -1, ALL }, { PR_GET_NAME, -1, ALL },
	{ PR_SET_PDEATHSIG, SIGTERM, S },	/* a new worker */
	{ PR_SET_NO_NEW_PRIVS, 1, S }, { PR_GET_NO_NEW_PRIVS, -1, S },
	{ PR_GET_SECCOMP, -1, S }, { PR_SET_SECCOMP, -1, S },
};

/* Syscall names by number, for the SIGSYS handler (resolved before). */
#define NAMES_MAX	512
static char		*sys_names[NAMES_MAX];
static int		 trap_fd = -1;	/* where the handler writes */
static int		 trap_log;	/* 1: sandbox = log */
static char		 trap_prog[64];

/* Append s to the line at *p (bounded by end). */
static void
put_str(char **p, char *end, const char *s)
{
	while (*s != '\0' && *p < end)
		*(*p)++ = *s++;
}

/* Append n in decimal, at least width digits. */
static void
put_num(char **p, char *end, long long n, int width)
{
	char	 d[24];
	int	 i = 0;

	if (n < 0) {
		put_str(p, end, "-");
		n = -n;
	}
	do {
		d[i++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && i < (int)sizeof(d));
	while (i < width && i < (int)sizeof(d))
		d[i++] = '0';
	while (i > 0 && *p < end)
		*(*p)++ = d[--i];
}

/*
 * The SIGSYS of a call outside the list: one log line in log.c's format,
 * made with nothing but write(2) and clock_gettime(2) (no malloc, no
 * locks: the call may have come from anywhere), then death (on) or EPERM
 * (log).
 */
static void
on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	struct timespec	 ts;
	struct sigaction sa;
	char		 line[256], *p = line, *end = line + sizeof(line) - 1;
	long long	 days, secs, y, m, d, era, doe, yoe, doy, mp;
	int		 nr = si->si_syscall, saved = errno;

	(void)sig;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Days to a civil date (H. Hinnant's algorithm). */
	days = (long long)ts.tv_sec / 86400 + 719468;
	secs = (long long)ts.tv_sec % 86400;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	put_num(&p, end, y, 4); put_str(&p, end, "-");
	put_num(&p, end, m, 2); put_str(&p, end, "-");
	put_num(&p, end, d, 2); put_str(&p, end, "T");
	put_num(&p, end, secs / 3600, 2); put_str(&p, end, ":");
	put_num(&p, end, secs / 60 % 60, 2); put_str(&p, end, ":");
	put_num(&p, end, secs % 60, 2); put_str(&p, end, ".");
	put_num(&p, end, ts.tv_nsec / 1000000, 3); put_str(&p, end, "Z ");
	put_str(&p, end, trap_prog); put_str(&p, end, "[");
	put_num(&p, end, getpid(), 1);
	put_str(&p, end, trap_log ? "] warn: " : "] error: ");
	put_str(&p, end, "sandbox: forbidden system call ");
	put_num(&p, end, nr, 1);
	put_str(&p, end, " (");
	put_str(&p, end, nr >= 0 && nr < NAMES_MAX && sys_names[nr] != NULL ?
	    sys_names[nr] : "unknown");
	put_str(&p, end, trap_log ? "): refused with EPERM (sandbox = log)" :
	    "): killing the process (sandbox = on)");
	*p++ = '\n';
	(void)!write(trap_fd, line, (size_t)(p - line));

	if (trap_log) {
#if defined(__x86_64__)
		((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
		((ucontext_t *)ctx)->uc_mcontext.regs[0] = (unsigned long)-EPERM;
#else
		(void)ctx;	/* the kernel's -ENOSYS stays */
#endif
		errno = saved;
		return;
	}
	(void)ctx;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	raise(SIGSYS);
	_exit(128 + SIGSYS);
}

/*
 * What the SIGSYS handler needs, made ready before Landlock (the log may
 * lie outside the directories left writable) and the filter: the names of
 * the calls, and a descriptor of its own on the log (log.c's is private
 * to it; standard error if there is no log file).
 */
static void
trap_prepare(const struct conf *cf, const char *prog)
{
	int	 nr;

	for (nr = 0; nr < NAMES_MAX; nr++)
		if (sys_names[nr] == NULL)
			sys_names[nr] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);
	snprintf(trap_prog, sizeof(trap_prog), "%s", prog);
	trap_log = cf->sandbox == CONF_SANDBOX_LOG;
	if (trap_fd != -1 && trap_fd != STDERR_FILENO)
		close(trap_fd);
	trap_fd = STDERR_FILENO;
	if (cf->log_file != NULL && (trap_fd = open(cf->log_file,
	    O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)) == -1)
		trap_fd = STDERR_FILENO;
}

/* Add one rule; counts the calls allowed in *n.  1, or 0 with err. */
static int
rule(scmp_filter_ctx f, uint32_t act, const char *name, int *n,
    unsigned cnt, const struct scmp_arg_cmp *cmp, char *err, size_t errsz)
{
	int	 nr, rc;

	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR ||
	    nr < 0)
		return 1;	/* not on this architecture */
	if ((rc = seccomp_rule_add_array(f, act, nr, cnt, cmp)) < 0) {
		util_errf(err, errsz, "sandbox: seccomp rule for %s: %s",
		    name, strerror(-rc));
		return 0;
	}
	if (act == SCMP_ACT_ALLOW && n != NULL)
		(*n)++;
	return 1;
}

/*
 * Build and load the filter of role.  *nallowed is how many calls it
 * allows (some only with certain arguments).  1, or 0 with err set.
 */
static int
seccomp_enter(enum sandbox_role role, int *nallowed, char *err, size_t errsz)
{
	struct scmp_arg_cmp	 c[2];
	struct sigaction	 sa;
	scmp_filter_ctx		 f;
	const int		 bit = 1 << role;
	const pid_t		 self = getpid();
	size_t			 i;
	int			 nr, n = 0, one, ok = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1) {
		util_errf(err, errsz, "sandbox: sigaction(SIGSYS): %s",
		    strerror(errno));
		return 0;
	}

	if ((f = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		util_errf(err, errsz, "sandbox: seccomp_init failed");
		return 0;
	}
	/* We set no-new-privileges ourselves, and keep the filter on every
	 * thread (libcurl's resolver threads start later and inherit it). */
	if (seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0) != 0 ||
	    seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
		goto out;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((allowed[i].roles & bit) != 0 && !rule(f, SCMP_ACT_ALLOW,
		    allowed[i].name, &n, 0, NULL, err, errsz))
			goto out;

	/* Memory, never executable once start-up is over. */
	c[0] = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	if (!rule(f, SCMP_ACT_ALLOW, "mmap", &n, 1, c, err, errsz) ||
	    !rule(f, SCMP_ACT_ALLOW, "mprotect", &n, 1, c, err, errsz))
		goto out;

	/* Threads, and for the supervisor processes. */
	if (role == SANDBOX_SUPERVISOR) {
		if (!rule(f, SCMP_ACT_ALLOW, "clone", &n, 0, NULL, err, errsz))
			goto out;
	} else {
		c[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
		if (!rule(f, SCMP_ACT_ALLOW, "clone", &n, 1, c, err, errsz))
			goto out;
	}
	if (!rule(f, SCMP_ACT_ERRNO(ENOSYS), "clone3", NULL, 0, NULL, err,
	    errsz))
		goto out;

	/* Sockets: TCP and UDP over IP; the probes of glibc fall back. */
	c[0] = SCMP_A0(SCMP_CMP_EQ, AF_INET);
	one = rule(f, SCMP_ACT_ALLOW, "socket", &n, 1, c, err, errsz);
	c[0] = SCMP_A0(SCMP_CMP_EQ, AF_INET6);
	if (!one || !rule(f, SCMP_ACT_ALLOW, "socket", NULL, 1, c, err,
	    errsz))
		goto out;
	c[0] = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
	if (!rule(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", NULL, 1, c, err,
	    errsz))
		goto out;
	c[0] = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);
	if (!rule(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", NULL, 1, c, err,
	    errsz))
		goto out;
	c[0] = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
	if (!rule(f, SCMP_ACT_ALLOW, "socketpair", &n, 1, c, err, errsz))
		goto out;

	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		c[0] = SCMP_A1(SCMP_CMP_EQ, ioctls[i]);
		if (!rule(f, SCMP_ACT_ALLOW, "ioctl", i == 0 ? &n : NULL, 1, c,
		    err, errsz))
			goto out;
	}

	one = 0;
	for (i = 0; i < sizeof(prctls) / sizeof(prctls[0]); i++) {
		if ((prctls[i].roles & bit) == 0)
			continue;
		c[0] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctls[i].opt);
		c[1] = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)prctls[i].arg2);
		if (!rule(f, SCMP_ACT_ALLOW, "prctl", one++ == 0 ? &n : NULL,
		    prctls[i].arg2 == -1 ? 1 : 2, c, err, errsz))
			goto out;
	}

	/* Limits: read any; set only the core size (proc_lockdown()). */
	c[0] = SCMP_A2(SCMP_CMP_EQ, 0);
	one = rule(f, SCMP_ACT_ALLOW, "prlimit64", &n, 1, c, err, errsz);
	c[0] = SCMP_A1(SCMP_CMP_EQ, RLIMIT_CORE);
	if (!one || !rule(f, SCMP_ACT_ALLOW, "prlimit64", NULL, 1, c, err,
	    errsz))
		goto out;
	if (!rule(f, SCMP_ACT_ALLOW, "getrlimit", &n, 0, NULL, err, errsz))
		goto out;

	/* Signals to itself only (abort(), raise()); the supervisor's kill
	 * and tgkill are in the table. */
	if (role != SANDBOX_SUPERVISOR) {
		c[0] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self);
		if (!rule(f, SCMP_ACT_ALLOW, "kill", &n, 1, c, err, errsz) ||
		    !rule(f, SCMP_ACT_ALLOW, "tgkill", &n, 1, c, err, errsz))
			goto out;
	}

	if ((nr = seccomp_load(f)) != 0) {
		util_errf(err, errsz, "sandbox: loading the seccomp filter: "
		    "%s", strerror(-nr));
		goto out;
	}
	*nallowed = n;
	ok = 1;
out:
	if (!ok && err[0] == '\0')
		util_errf(err, errsz, "sandbox: building the seccomp filter "
		    "failed");
	seccomp_release(f);
	return ok;
}
#endif /* USE_SECCOMP */

int
sandbox_enter(const struct conf *cf, const char *prog,
    enum sandbox_role role, char *err, size_t errsz)
{
	char		 dir[PATH_MAX], ll[PATH_MAX + 128], sc[128];
	const char	*mode;
	int		 n = 0;

	if (errsz > 0)
		err[0] = '\0';
	if ((int)role < 0 || role >= SANDBOX_ROLE__MAX) {
		util_errf(err, errsz, "sandbox: no such role");
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		util_errf(err, errsz, "sandbox: prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return 0;
	}
	if (cf->sandbox == CONF_SANDBOX_OFF) {
		log_info("sandbox: off (sandbox = off): no-new-privileges "
		    "only");
		return 1;
	}
#ifdef STRIPE_SYNC_SANITIZERS
	log_info("sandbox: off in this sanitizer build: no-new-privileges "
	    "only");
	return 1;
#endif
	mode = cf->sandbox == CONF_SANDBOX_LOG ? "log" : "on";
#ifdef USE_SECCOMP
	trap_prepare(cf, prog);
#else
	(void)prog;
#endif

	/* SQLite's temporary files (large sorts, statement journals that
	 * spill) go where this process may still create files. */
	if (role == SANDBOX_SUPERVISOR)
		snprintf(ll, sizeof(ll), "no landlock for the supervisor");
	else {
		if (sqlite3_temp_directory == NULL && dir_of(cf->db_path, dir,
		    sizeof(dir)))
			sqlite3_temp_directory = sqlite3_mprintf("%s", dir);
		if (landlock_enter(cf, role, ll, sizeof(ll), err, errsz) == -1)
			return 0;
	}

#ifdef USE_SECCOMP
	if (!seccomp_enter(role, &n, err, errsz))
		return 0;
	snprintf(sc, sizeof(sc), "seccomp, %d system calls allowed to the %s",
	    n, role_names[role]);
	log_info("sandbox: %s (%s; %s)", mode, sc, ll);
#else
	(void)n;
	snprintf(sc, sizeof(sc), "seccomp unavailable: built without "
	    "libseccomp, so every system call is allowed to the %s",
	    role_names[role]);
	log_warn("sandbox: %s (%s; %s)", mode, sc, ll);
#endif
	return 1;
}
