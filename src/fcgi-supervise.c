/*
 * fcgi-supervise.c: the supervisor of stripe-sync.fcgi --workers N.
 *
 * It forks N workers that share the FastCGI socket on standard input and
 * never opens the database itself, so no connection crosses a fork.  Every
 * signal it cares about stays blocked and is read from a signalfd, polled
 * together with the readiness pipe of a worker being started by a reload,
 * so none is lost while it forks, logs or waits.
 *
 *   TERM, INT, QUIT  pass SIGTERM on to every worker, wait for them all
 *   HUP              reload: read and validate the configuration; if it is
 *                    good, replace the workers one slot at a time
 *   TTIN, TTOU       one worker more, one fewer
 *   CHLD             refill the slot of a worker that died
 *   USR1, USR2       logged and ignored
 *
 * A reload (a "roll") never leaves the socket without workers: for each
 * slot it forks a worker with the new configuration, waits until that one
 * has opened the database and is about to accept (it writes one byte to a
 * pipe), and only then sends SIGTERM to the slot's old worker, which
 * finishes the request in hand and exits.  A new worker that exits or is
 * not ready within READY_TIMEOUT_MS stops the roll: the slots not yet
 * replaced keep their old workers, and the supervisor goes back to the old
 * configuration for the workers it starts from then on.
 *
 * A slot whose worker died within a second of its start, or whose fork
 * failed, is filled again only after a wait that starts at a second and
 * doubles with each such death up to RETRY_MAX_MS, so an unwritable
 * database or a full process table does not become a fork loop.
 */
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fcgi-supervise.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#define PROGNAME		"stripe-sync.fcgi"
#define RETRY_MIN_MS		1000.0	/* first wait before refilling a slot */
#define RETRY_MAX_MS		8000.0	/* the wait doubles up to this */
#define READY_TIMEOUT_MS	10000.0	/* for a new worker of a reload */

/* One place in the pool. */
struct slot {
	pid_t		 pid;	/* its worker, 0 while empty */
	unsigned	 gen;	/* configuration generation it started with */
	double		 born;	/* when it was forked (monotonic ms) */
	double		 due;	/* when an empty slot is filled again */
	double		 pause;	/* the current refill back-off, 0 if none */
};

struct super {
	struct conf	*cf;		/* what new workers are started with */
	struct conf	 prev;		/* the one before an unfinished reload */
	int		 have_prev;
	unsigned	 gen;		/* generation of *cf */
	unsigned	 prevgen;
	unsigned	 gens;		/* generations handed out */
	const char	*path;		/* the file a reload reads */
	int		 must_exist;
	worker_fn	 fn;
	sigset_t	 childmask;	/* the mask a worker starts with */
	int		 sfd;		/* signalfd of the signals below */
	struct slot	 slots[WORKERS_MAX];
	int		 n;		/* slots in use */
	int		 stopping;
	/* The roll of a reload. */
	int		 rolling;
	int		 next;		/* the slot it looks at next */
	int		 replaced;	/* workers replaced so far */
	pid_t		 pend;		/* new worker not yet ready, or 0 */
	int		 pend_fd;	/* its readiness pipe, -1 at EOF */
	int		 pend_slot;
	double		 pend_deadline;
};

/* The signals the supervisor takes from its signalfd. */
static void
super_signals(sigset_t *set)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP,
	    SIGCHLD, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2 };
	size_t			 i;

	sigemptyset(set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
}

/*
 * Fork one worker with cf.  If readyfd is not NULL, the worker gets the
 * write end of a pipe and *readyfd its read end (the caller closes it).
 * Returns the pid, or -1 (logged).
 *
 * The worker asks the kernel for SIGTERM when the supervisor dies, so that
 * none is ever left serving an old configuration without a supervisor;
 * if the supervisor died before that request took hold, it leaves at once.
 * Its stop signals stay blocked until serve() has installed its handlers
 * and lets them in around accept.
 */
static pid_t
spawn(struct super *s, int *readyfd)
{
	sigset_t	 mask;
	pid_t		 pid, parent = getpid();
	int		 p[2] = { -1, -1 };

	if (readyfd != NULL && pipe2(p, O_CLOEXEC) == -1) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		if (p[0] != -1) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(0);
		close(s->sfd);
		if (s->pend != 0 && s->pend_fd != -1)
			close(s->pend_fd);
		if (p[0] != -1)
			close(p[0]);
		mask = s->childmask;
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGQUIT);
		sigaddset(&mask, SIGHUP);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		_exit(s->fn(s->cf, p[1]));
	}
	if (p[1] != -1)
		close(p[1]);
	if (readyfd != NULL)
		*readyfd = p[0];
	return pid;
}

/* Forget the new worker of the roll (it exited or was told to). */
static void
pend_clear(struct super *s)
{
	if (s->pend_fd != -1)
		close(s->pend_fd);
	s->pend = 0;
	s->pend_fd = -1;
}

/*
 * The roll failed because of the new worker pid (-1: none was forked):
 * log why, stop the roll, and go back to the configuration it started
 * from.  The slots not yet replaced keep their old workers.
 */
static void
roll_fail(struct super *s, pid_t pid, const char *why)
{
	log_error("reload failed: new worker %d %s; %d of %d workers "
	    "replaced, the others keep the old configuration", (int)pid, why,
	    s->replaced, s->n);
	if (s->pend == pid)
		pend_clear(s);
	s->rolling = 0;
	if (!s->have_prev)
		return;
	conf_free(s->cf);
	*s->cf = s->prev;
	s->gen = s->prevgen;
	s->have_prev = 0;
	log_init(PROGNAME, s->cf->log_file, s->cf->log_level);
	log_warn("reload: back on the old configuration; fix the problem "
	    "and reload again");
}

/* The new worker of the roll is ready: it takes its slot's place. */
static void
roll_promote(struct super *s)
{
	struct slot	*sl = &s->slots[s->pend_slot];
	pid_t		 old = sl->pid;

	sl->pid = s->pend;
	sl->gen = s->gen;
	sl->born = util_monotonic_ms();
	sl->pause = 0;
	if (old > 0)
		kill(old, SIGTERM);
	log_info("reload: worker %d replaces worker %d", (int)s->pend,
	    (int)old);
	s->replaced++;
	s->next = s->pend_slot + 1;
	pend_clear(s);
}

/*
 * Start the next step of the roll: a new worker for the next slot that
 * still runs an old one (an empty slot is refilled with the new
 * configuration anyway), or the end of the roll.
 */
static void
roll_step(struct super *s)
{
	int	 fd;
	pid_t	 pid;

	while (s->next < s->n && (s->slots[s->next].pid == 0 ||
	    s->slots[s->next].gen == s->gen))
		s->next++;
	if (s->next >= s->n) {
		s->rolling = 0;
		if (s->have_prev) {
			conf_free(&s->prev);
			s->have_prev = 0;
		}
		log_info("reload done: %d workers on the new configuration",
		    s->n);
		return;
	}
	if ((pid = spawn(s, &fd)) == -1) {
		roll_fail(s, -1, "could not be started");
		return;
	}
	s->pend = pid;
	s->pend_fd = fd;
	s->pend_slot = s->next;
	s->pend_deadline = util_monotonic_ms() + READY_TIMEOUT_MS;
}

/*
 * SIGHUP: read the configuration again.  A file that does not validate
 * (or that would have us run as root unasked) changes nothing.  A good
 * one becomes the configuration of every worker started from now on, the
 * log follows it, and a roll replaces the running workers.  A reload
 * during a roll restarts the roll with the newest file.
 */
static void
reload(struct super *s)
{
	struct conf	 ncf;
	char		 err[512];

	if (!conf_load(&ncf, s->path, s->must_exist, err, sizeof(err))) {
		log_error("reload: configuration %s refused, nothing changed: "
		    "%s", s->path, err);
		return;
	}
	if (!proc_lockdown(&ncf, PROGNAME, err, sizeof(err))) {
		log_error("reload: configuration %s refused, nothing changed: "
		    "%s", s->path, err);
		conf_free(&ncf);
		return;
	}
	if (s->pend != 0) {
		kill(s->pend, SIGTERM);
		pend_clear(s);
	}
	if (!s->have_prev) {
		s->prev = *s->cf;
		s->prevgen = s->gen;
		s->have_prev = 1;
	} else
		conf_free(s->cf);
	*s->cf = ncf;
	s->gen = ++s->gens;
	log_init(PROGNAME, s->cf->log_file, s->cf->log_level);
	log_info("reload: configuration %s loaded; replacing %d workers",
	    s->path, s->n);
	s->rolling = 1;
	s->next = 0;
	s->replaced = 0;
}

/* SIGTTIN: one slot more, filled at once. */
static void
grow(struct super *s)
{
	struct slot	*sl;

	if (s->n == WORKERS_MAX) {
		log_warn("SIGTTIN: already %d workers, the most there can be",
		    s->n);
		return;
	}
	sl = &s->slots[s->n++];
	memset(sl, 0, sizeof(*sl));
	sl->gen = s->gen;
	sl->due = util_monotonic_ms();
	log_info("SIGTTIN: %d workers", s->n);
}

/* SIGTTOU: one slot fewer; its worker finishes its request and exits. */
static void
shrink(struct super *s)
{
	struct slot	*sl;

	if (s->n == 1) {
		log_warn("SIGTTOU: keeping the last worker");
		return;
	}
	sl = &s->slots[--s->n];
	if (s->pend != 0 && s->pend_slot == s->n) {
		kill(s->pend, SIGTERM);
		pend_clear(s);
	}
	if (sl->pid > 0)
		kill(sl->pid, SIGTERM);
	log_info("SIGTTOU: %d workers (worker %d stops after its request)",
	    s->n, (int)sl->pid);
	sl->pid = 0;
}

/*
 * Reap every dead child: a worker of a slot is replaced (after a pause if
 * it died young), a retired one (replaced by a reload, or of a slot that
 * SIGTTOU removed) is not.  Returns 1 while any child is left.
 */
static int
reap(struct super *s)
{
	struct slot	*sl;
	char		 why[64];
	double		 now;
	pid_t		 pid;
	int		 i, status;

	for (;;) {
		if ((pid = waitpid(-1, &status, WNOHANG)) == 0)
			return 1;
		if (pid == -1)
			return errno != ECHILD;
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "killed by signal %d",
			    WTERMSIG(status));
		else
			snprintf(why, sizeof(why), "exited with status %d",
			    WEXITSTATUS(status));
		if (pid == s->pend) {
			roll_fail(s, pid, why);
			continue;
		}
		for (i = 0; i < s->n && s->slots[i].pid != pid; i++)
			continue;
		if (i == s->n) {
			log_debug("retired worker %d %s", (int)pid, why);
			continue;
		}
		sl = &s->slots[i];
		sl->pid = 0;
		if (s->stopping)
			continue;
		log_warn("worker %d %s; replacing it", (int)pid, why);
		now = util_monotonic_ms();
		if (now - sl->born < RETRY_MIN_MS) {
			sl->pause = sl->pause == 0 ? RETRY_MIN_MS :
			    sl->pause * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
			    sl->pause * 2;
			sl->due = now + sl->pause;
		} else {
			sl->pause = 0;
			sl->due = now;
		}
	}
}

/* Fill every empty slot that is due (not the one a roll is filling). */
static void
fill(struct super *s)
{
	struct slot	*sl;
	double		 now = util_monotonic_ms();
	int		 i;

	for (i = 0; i < s->n; i++) {
		sl = &s->slots[i];
		if (sl->pid > 0 || sl->due > now ||
		    (s->pend != 0 && s->pend_slot == i))
			continue;
		sl->born = now;
		sl->gen = s->gen;
		if ((sl->pid = spawn(s, NULL)) == -1) {
			sl->pid = 0;
			sl->due = now + RETRY_MIN_MS;
		}
	}
}

/* Act on one signal read from the signalfd. */
static void
on_signal(struct super *s, int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		s->stopping = 1;
		break;
	case SIGHUP:
		if (!s->stopping)
			reload(s);
		break;
	case SIGTTIN:
		if (!s->stopping)
			grow(s);
		break;
	case SIGTTOU:
		if (!s->stopping)
			shrink(s);
		break;
	case SIGUSR1:
	case SIGUSR2:
		log_info("SIG%s ignored (SIGHUP reloads the configuration "
		    "and reopens the log)", sig == SIGUSR1 ? "USR1" : "USR2");
		break;
	default:	/* SIGCHLD: the loop reaps */
		break;
	}
}

/*
 * How long to sleep, in ms: until the next empty slot falls due or the
 * new worker of a roll runs out of time, at most a second.
 */
static int
sleep_ms(const struct super *s)
{
	double	 now = util_monotonic_ms(), ms = 1000.0;
	int	 i;

	for (i = 0; i < s->n; i++)
		if (s->slots[i].pid == 0 && s->slots[i].due - now < ms &&
		    (s->pend == 0 || s->pend_slot != i))
			ms = s->slots[i].due - now;
	if (s->pend != 0 && s->pend_deadline - now < ms)
		ms = s->pend_deadline - now;
	return ms < 1.0 ? 1 : (int)ms + 1;
}

int
supervise(struct conf *cf, const char *path, int must_exist, int n,
    worker_fn fn)
{
	static struct super	 s;
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2];
	sigset_t		 set;
	char			 c;
	ssize_t			 got;
	size_t			 i;
	int			 nfd, forwarded = 0;

	memset(&s, 0, sizeof(s));
	s.cf = cf;
	s.path = path;
	s.must_exist = must_exist;
	s.fn = fn;
	s.n = n;
	s.pend_fd = -1;

	/* Dispositions inherited from whoever exec'd us (an ignored
	 * SIGCHLD would reap dead workers behind our back) go back to the
	 * defaults: the workers start with those. */
	super_signals(&set);
	for (i = 1; i < NSIG; i++)
		if (sigismember(&set, (int)i) == 1)
			signal((int)i, SIG_DFL);
	sigprocmask(SIG_BLOCK, &set, &s.childmask);
	for (i = 1; i < NSIG; i++)
		if (sigismember(&set, (int)i) == 1)
			sigdelset(&s.childmask, (int)i);
	if ((s.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_error("signalfd: %s", strerror(errno));
		return 1;
	}
	log_info("supervising %d workers", n);

	for (;;) {
		if (!reap(&s) && s.stopping)
			break;
		if (s.stopping) {
			if (!forwarded) {
				for (i = 0; i < (size_t)s.n; i++)
					if (s.slots[i].pid > 0)
						kill(s.slots[i].pid, SIGTERM);
				if (s.pend != 0)
					kill(s.pend, SIGTERM);
				forwarded = 1;
			}
		} else {
			fill(&s);
			if (s.pend != 0 &&
			    util_monotonic_ms() >= s.pend_deadline) {
				kill(s.pend, SIGTERM);
				roll_fail(&s, s.pend, "was not ready within "
				    "10 s");
			}
			if (s.rolling && s.pend == 0)
				roll_step(&s);
		}

		pfd[0].fd = s.sfd;
		pfd[0].events = POLLIN;
		nfd = 1;
		if (s.pend != 0 && s.pend_fd != -1 && !s.stopping) {
			pfd[1].fd = s.pend_fd;
			pfd[1].events = POLLIN;
			nfd = 2;
		}
		if (poll(pfd, nfd, sleep_ms(&s)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (nfd == 2 && pfd[1].revents != 0) {
			/* A byte: ready.  EOF: it is exiting, and the
			 * reaper will say how. */
			if ((got = read(s.pend_fd, &c, 1)) == 1)
				roll_promote(&s);
			else if (got == 0 || errno != EINTR) {
				close(s.pend_fd);
				s.pend_fd = -1;
			}
		}
		while (read(s.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			on_signal(&s, (int)si.ssi_signo);
	}
	close(s.sfd);
	if (s.have_prev)
		conf_free(&s.prev);
	log_info("supervisor stopping");
	return 0;
}
