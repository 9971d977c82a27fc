/*
 * t/sandbox-probe.c: t3810's test program.  It starts as a worker does
 * (configuration, log, database, curl_global_init), enters the real
 * sandbox of sandbox.c in the role given, then makes the calls named on
 * the command line, one line each on standard output:
 *
 *   NAME: ok ...             the call did what it asked
 *   NAME: refused: REASON    the call failed (the sandbox said no)
 *
 * A call the seccomp filter traps with sandbox = on kills the probe with
 * SIGSYS before it can print anything.  Nothing here is in the shipped
 * binaries.
 *
 *   sandbox-probe --features             seccomp yes|no, landlock ABI,
 *                                        sanitizers yes|no
 *   sandbox-probe -c CONF [-r worker|runner|supervisor] CALL...
 *
 * CALLs: exec, fork, listen, bind, mmap-exec, ptrace, unix, write-outside
 * FILE, read-outside FILE, write-dbdir, db, fetch URL (curl GET with the
 * configuration's ca_file; prints the status), resolve HOST.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "sandbox.h"

static int
refused(const char *name, int e)
{
	printf("%s: refused: %s\n", name, strerror(e));
	return 0;
}

static size_t
sink(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

/* One CALL; argv[*i] is its name, its argument follows.  Returns 0 once
 * it has printed its line, -1 on a usage error. */
static int
probe(const struct conf *cf, struct db *db, char **argv, int argc, int *i)
{
	const char	*c = argv[*i], *arg = NULL;
	char		 path[4096];
	char		*const av[] = { "/bin/true", NULL };
	struct sockaddr_in sin;
	struct addrinfo	 hints, *res;
	CURL		*h;
	long		 status = 0;
	void		*p;
	pid_t		 pid;
	int		 fd, rc, st;

	if (strcmp(c, "write-outside") == 0 || strcmp(c, "read-outside") == 0 ||
	    strcmp(c, "fetch") == 0 || strcmp(c, "resolve") == 0) {
		if (*i + 1 >= argc)
			return -1;
		arg = argv[++*i];
	}
	fflush(stdout);
	if (strcmp(c, "exec") == 0) {
		execve(av[0], av, NULL);
		return refused(c, errno);
	} else if (strcmp(c, "fork") == 0) {
		if ((pid = fork()) == -1)
			return refused(c, errno);
		if (pid == 0)
			_exit(0);
		waitpid(pid, &st, 0);
		printf("fork: ok\n");
	} else if (strcmp(c, "listen") == 0 || strcmp(c, "bind") == 0) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return refused(c, errno);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = c[0] == 'b' ? bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) : listen(fd, 1);
		if (rc == -1) {
			rc = errno;
			close(fd);
			return refused(c, rc);
		}
		close(fd);
		printf("%s: ok\n", c);
	} else if (strcmp(c, "unix") == 0) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			return refused(c, errno);
		close(fd);
		printf("unix: ok\n");
	} else if (strcmp(c, "mmap-exec") == 0) {
		if ((p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
			return refused(c, errno);
		munmap(p, 4096);
		printf("mmap-exec: ok\n");
	} else if (strcmp(c, "ptrace") == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1)
			return refused(c, errno);
		printf("ptrace: ok\n");
	} else if (strcmp(c, "write-outside") == 0 ||
	    strcmp(c, "read-outside") == 0) {
		if ((fd = open(arg, c[0] == 'w' ? O_WRONLY | O_CREAT | O_TRUNC :
		    O_RDONLY, 0600)) == -1)
			return refused(c, errno);
		close(fd);
		printf("%s: ok\n", c);
	} else if (strcmp(c, "write-dbdir") == 0) {
		snprintf(path, sizeof(path), "%s.probe", cf->db_path);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
			return refused(c, errno);
		close(fd);
		if (unlink(path) == -1)
			return refused(c, errno);
		printf("write-dbdir: ok\n");
	} else if (strcmp(c, "db") == 0) {
		/* A write transaction: the queue's lock, BEGIN IMMEDIATE,
		 * the journal created and removed. */
		if (!db_begin(db) || !db_commit(db) || db_check(db) !=
		    DB_FAULT_NONE) {
			printf("db: refused: %s\n", db_errmsg(db));
			return 0;
		}
		printf("db: ok\n");
	} else if (strcmp(c, "resolve") == 0) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((rc = getaddrinfo(arg, "80", &hints, &res)) != 0) {
			printf("resolve: refused: %s\n", gai_strerror(rc));
			return 0;
		}
		freeaddrinfo(res);
		printf("resolve: ok\n");
	} else if (strcmp(c, "fetch") == 0) {
		if ((h = curl_easy_init()) == NULL)
			return refused(c, ENOMEM);
		curl_easy_setopt(h, CURLOPT_URL, arg);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
		if (cf->ca_file != NULL)
			curl_easy_setopt(h, CURLOPT_CAINFO, cf->ca_file);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
		if (rc != CURLE_OK) {
			printf("fetch: refused: %s\n",
			    curl_easy_strerror((CURLcode)rc));
			return 0;
		}
		printf("fetch: ok %ld\n", status);
	} else
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct conf	 cf;
	struct db	*db;
	enum sandbox_role role = SANDBOX_WORKER;
	enum db_fault	 fault;
	const char	*cfpath = NULL;
	char		 err[512];
	int		 i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "--features") == 0) {
		printf("seccomp %s\nlandlock %d\nsanitizers %s\n",
		    sandbox_has_seccomp() ? "yes" : "no",
		    sandbox_landlock_abi(),
#ifdef STRIPE_SYNC_SANITIZERS
		    "yes"
#else
		    "no"
#endif
		    );
		return 0;
	}
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2)
		if (strcmp(argv[i], "-c") == 0)
			cfpath = argv[i + 1];
		else if (strcmp(argv[i], "-r") == 0)
			role = strcmp(argv[i + 1], "runner") == 0 ?
			    SANDBOX_RUNNER : strcmp(argv[i + 1],
			    "supervisor") == 0 ? SANDBOX_SUPERVISOR :
			    SANDBOX_WORKER;
		else
			break;
	if (cfpath == NULL || i >= argc) {
		fprintf(stderr, "usage: sandbox-probe --features | -c conf "
		    "[-r role] call...\n");
		return 2;
	}
	if (!conf_load(&cf, cfpath, 1, err, sizeof(err))) {
		fprintf(stderr, "sandbox-probe: %s\n", err);
		return 3;
	}
	log_init("sandbox-probe", cf.log_file, cf.log_level);
	if ((db = db_connect(cf.db_path, DB_SERVE, &fault, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "sandbox-probe: %s\n", err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!sandbox_enter(&cf, "sandbox-probe", role, err, sizeof(err))) {
		fprintf(stderr, "sandbox-probe: %s\n", err);
		return 1;
	}
	for (; i < argc; i++)
		if (probe(&cf, db, argv, argc, &i) == -1) {
			fprintf(stderr, "sandbox-probe: bad call %s\n",
			    argv[i]);
			return 2;
		}
	db_close(db);
	curl_global_cleanup();
	conf_free(&cf);
	log_close();
	return 0;
}
