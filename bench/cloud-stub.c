/*
 * cloud-stub.c: the Cloud of bench/run's proxied read.  An HTTP/1.1
 * server on 127.0.0.1 that answers every GET /data/... at once with the
 * same page of two ledgers, over kept connections, and costs the machine
 * as little as it can: the application's workers share these CPUs with
 * it, where a real Cloud would cost them nothing.  (An nginx in its place
 * took about a third of a worker's CPU per request.)
 *
 *   cloud-stub PORT
 *
 * GET /_stub/status answers {"accepts":A,"requests":R}: the connections
 * accepted and requests answered so far, this one included.  bench/run
 * reads it before and after the proxied read: new connections there are
 * connections the workers failed to keep.  Anything but a GET, and any
 * other path, is a 404.  A request with a body (Content-Length) has the
 * body skipped; one that does not fit in 8 KiB ends its connection.
 * SIGTERM or SIGINT end the program.  No log.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ	8192
#define MAXFD	4096

#define PAGE \
    "{\"data\":[{\"ledger_id\":\"ldg_bench_0001\",\"name\":\"Stripe USD\"," \
    "\"created_at\":\"2026-11-01T00:00:00Z\",\"meta_data\":{}}," \
    "{\"ledger_id\":\"ldg_bench_0002\",\"name\":\"Stripe EUR\"," \
    "\"created_at\":\"2026-11-01T00:00:00Z\",\"meta_data\":{}}],\"total\":2}"

struct conn {
	char	 in[BUFSZ];
	size_t	 inlen;
	size_t	 skip;		/* body bytes still to drop */
	char	*out;		/* what a full socket left unsent */
	size_t	 outlen;
	int	 closing;	/* close once out is sent */
};

static struct conn		*conns[MAXFD];
static unsigned long		 accepts, requests;

static void
drop(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	if (conns[fd] != NULL)
		free(conns[fd]->out);
	free(conns[fd]);
	conns[fd] = NULL;
}

/* The Content-Length of the head h (NUL-terminated), 0 if none. */
static long
content_length(const char *h)
{
	const char	*p;

	for (p = strstr(h, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			return strtol(p + 17, NULL, 10);
	return 0;
}

/* Append one answer to buf (of room bytes); returns its length, 0 if it
 * does not fit. */
static size_t
answer(char *buf, size_t room, const char *head, int *keep)
{
	static char	 date[64];
	static time_t	 datet;
	char		 status[64];
	const char	*code = "404 Not Found", *body = "{\"error\":\"not found\"}";
	time_t		 now = time(NULL);
	int		 n;

	requests++;
	if (now != datet) {
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
		    gmtime(&now));
		datet = now;
	}
	if (strncmp(head, "GET /data/", 10) == 0) {
		code = "200 OK";
		body = PAGE;
	} else if (strncmp(head, "GET /_stub/status ", 18) == 0) {
		snprintf(status, sizeof(status), "{\"accepts\":%lu,"
		    "\"requests\":%lu}",
		    accepts, requests);
		code = "200 OK";
		body = status;
	}
	*keep = strstr(head, "\r\nConnection: close") == NULL;
	n = snprintf(buf, room, "HTTP/1.1 %s\r\nServer: cloud-stub\r\n"
	    "Date: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s", code, date,
	    strlen(body), *keep ? "keep-alive" : "close", body);
	return n > 0 && (size_t)n < room ? (size_t)n : 0;
}

/* Send what is pending; 0 if the connection is to go. */
static int
flush_out(int ep, int fd, struct conn *c)
{
	struct epoll_event	 ev;
	ssize_t			 n;

	while (c->outlen > 0) {
		if ((n = send(fd, c->out, c->outlen, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return 0;
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN | EPOLLOUT;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			return 1;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	if (c->closing)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	return 1;
}

/* Read what came and answer every whole request in it; 0 to drop. */
static int
serve(int ep, int fd, struct conn *c)
{
	char	 out[BUFSZ], *end, *p;
	size_t	 outlen = 0, n, taken;
	ssize_t	 r;
	int	 keep = 1;

	if ((r = read(fd, c->in + c->inlen, BUFSZ - 1 - c->inlen)) <= 0)
		return r == -1 && (errno == EAGAIN || errno == EINTR);
	c->inlen += (size_t)r;
	for (;;) {
		if (c->skip > 0) {
			n = c->skip < c->inlen ? c->skip : c->inlen;
			memmove(c->in, c->in + n, c->inlen - n);
			c->inlen -= n;
			c->skip -= n;
			if (c->skip > 0)
				break;
		}
		c->in[c->inlen] = '\0';
		if ((end = strstr(c->in, "\r\n\r\n")) == NULL) {
			if (c->inlen >= BUFSZ - 1)
				return 0;	/* a head too large */
			break;
		}
		end[2] = '\0';
		if ((n = answer(out + outlen, sizeof(out) - outlen, c->in,
		    &keep)) == 0)
			return 0;
		outlen += n;
		c->skip = (size_t)(content_length(c->in) > 0 ?
		    content_length(c->in) : 0);
		taken = (size_t)(end + 4 - c->in);
		memmove(c->in, c->in + taken, c->inlen - taken);
		c->inlen -= taken;
		if (!keep || sizeof(out) - outlen < 1024)
			break;
	}
	c->closing = !keep;
	if (outlen > 0) {
		if ((p = realloc(c->out, c->outlen + outlen)) == NULL)
			return 0;
		memcpy(p + c->outlen, out, outlen);
		c->out = p;
		c->outlen += outlen;
		return flush_out(ep, fd, c);
	}
	return keep;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sa;
	struct epoll_event	 ev, evs[64];
	int			 ls, ep, fd, i, n, one = 1;

	if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
		fprintf(stderr, "usage: cloud-stub PORT\n");
		return 2;
	}
	/* SIGTERM and SIGINT keep their default action: nothing to clean. */
	signal(SIGPIPE, SIG_IGN);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, 512) == -1 || (ep = epoll_create1(0)) == -1) {
		perror("cloud-stub");
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = ls;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);

	for (;;) {
		if ((n = epoll_wait(ep, evs, 64, -1)) == -1) {
			if (errno == EINTR)
				continue;
			perror("cloud-stub: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == ls) {
				while ((fd = accept4(ls, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					if (fd >= MAXFD || (conns[fd] =
					    calloc(1, sizeof(*conns[fd]))) ==
					    NULL) {
						close(fd);
						continue;
					}
					accepts++;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (conns[fd] == NULL)
				continue;
			if ((evs[i].events & EPOLLOUT) &&
			    !flush_out(ep, fd, conns[fd])) {
				drop(ep, fd);
				continue;
			}
			if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    !serve(ep, fd, conns[fd]))
				drop(ep, fd);
		}
	}
	return 0;
}
