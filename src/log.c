/*
 * log.c: one line per event, written with a single write(2).
 *
 * The log descriptor is opened O_APPEND, so lines written by several
 * processes (the FastCGI pool, the job runner, the admin tool) never
 * interleave.  Each line is built whole in one stack buffer first.  The
 * formatted message is escaped once more before it is written, so a stray
 * newline in a %s argument cannot forge a second line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

#define LOG_LINE_MAX	2048	/* whole line, trailing newline included */
#define LOG_ELLIPSIS	"..."

static const char *const level_names[LOG_LEVEL__MAX] = {
	"error",	/* LOG_LEVEL_ERROR */
	"warn",		/* LOG_LEVEL_WARN */
	"info",		/* LOG_LEVEL_INFO */
	"debug",	/* LOG_LEVEL_DEBUG */
};

static int		 log_fd = STDERR_FILENO;
static int		 log_owned;	/* log_fd is ours to close */
static enum log_level	 log_level = LOG_LEVEL_INFO;
static char		 log_prog[64] = "stripe-sync";

/*
 * What the start of a line costs once rather than per line: the process
 * id (getpid(2) is a system call; a fork makes it stale, so the child
 * forgets it through pthread_atfork) and the timestamp down to the second.
 */
static long		 log_pid;
static time_t		 log_sec = -1;
static char		 log_ts[32];

static void
log_forget_pid(void)
{
	log_pid = 0;
}

/*
 * Close the log file, if one is open, and go back to standard error.
 */
void
log_close(void)
{
	if (log_owned)
		close(log_fd);
	log_owned = 0;
	log_fd = STDERR_FILENO;
}

/*
 * Open path for appending (NULL: standard error) and remember the program
 * name and the lowest level still written.  Returns 1 on success, 0 if the
 * file cannot be opened: then lines go to standard error, and a warning
 * saying so is the first of them.
 */
int
log_init(const char *progname, const char *path, enum log_level lvl)
{
	int	 fd, saved;
	char	 epath[512];

	static int	 atfork;

	log_close();
	if (!atfork && pthread_atfork(NULL, NULL, log_forget_pid) == 0)
		atfork = 1;
	log_pid = 0;
	if (progname != NULL)
		snprintf(log_prog, sizeof(log_prog), "%s", progname);
	if ((int)lvl < 0 || lvl >= LOG_LEVEL__MAX)
		lvl = LOG_LEVEL_INFO;
	log_level = lvl;
	if (path == NULL)
		return 1;

	/* O_NOFOLLOW: a root-run tool must not append through a link. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd == -1) {
		saved = errno;
		log_escape(epath, sizeof(epath), path, strlen(path));
		log_warn("cannot open log_file \"%s\": %s; "
		    "logging to standard error", epath, strerror(saved));
		return 0;
	}
	log_fd = fd;
	log_owned = 1;
	return 1;
}

/*
 * The escape of one input byte for log_escape(): the byte itself if it is
 * printable ASCII other than '\\' and '"', else "\xHH".  Writes into tok
 * (at least 5 bytes, NUL terminated) and returns the length.
 */
static size_t
escape_byte(unsigned char c, char *tok)
{
	static const char	 hex[] = "0123456789abcdef";

	if (c >= 0x20 && c <= 0x7e && c != '\\' && c != '"') {
		tok[0] = (char)c;
		tok[1] = '\0';
		return 1;
	}
	tok[0] = '\\';
	tok[1] = 'x';
	tok[2] = hex[c >> 4];
	tok[3] = hex[c & 0xf];
	tok[4] = '\0';
	return 4;
}

/*
 * Escape src[0..srclen) into dst (size dstsz).  The result is always NUL
 * terminated when dstsz > 0; if it does not fit it ends in "..." and never
 * in part of an escape.  Returns dst.
 */
char *
log_escape(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	const unsigned char	*p = (const unsigned char *)src;
	char			 tok[5];
	size_t			 i, need, pos, n;

	if (dst == NULL || dstsz == 0)
		return dst;
	if (src == NULL)
		srclen = 0;

	for (need = 0, i = 0; i < srclen; i++)
		need += escape_byte(p[i], tok);

	pos = 0;
	if (need < dstsz) {
		for (i = 0; i < srclen; i++) {
			n = escape_byte(p[i], tok);
			memcpy(dst + pos, tok, n);
			pos += n;
		}
	} else {
		/* Leave room for the ellipsis and the NUL. */
		for (i = 0; i < srclen; i++) {
			n = escape_byte(p[i], tok);
			if (pos + n + strlen(LOG_ELLIPSIS) + 1 > dstsz)
				break;
			memcpy(dst + pos, tok, n);
			pos += n;
		}
		for (i = 0; LOG_ELLIPSIS[i] != '\0' && pos + 1 < dstsz; i++)
			dst[pos++] = LOG_ELLIPSIS[i];
	}
	dst[pos] = '\0';
	return dst;
}

/*
 * The escape of one byte of an already formatted message: newline and
 * carriage return become "\n" and "\r", other control bytes "\xHH", and
 * everything else (UTF-8 included) passes.  Writes into tok (at least 5
 * bytes) and returns the length.
 */
static size_t
msg_byte(unsigned char c, char *tok)
{
	static const char	 hex[] = "0123456789abcdef";

	if (c == '\n' || c == '\r') {
		tok[0] = '\\';
		tok[1] = c == '\n' ? 'n' : 'r';
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		tok[0] = '\\';
		tok[1] = 'x';
		tok[2] = hex[c >> 4];
		tok[3] = hex[c & 0xf];
		return 4;
	}
	tok[0] = (char)c;
	return 1;
}

/*
 * Write all of buf to the log descriptor, retrying on EINTR and after a
 * short write.  Failure is silent: there is nowhere left to report it.
 */
static void
write_all(const char *buf, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		w = write(log_fd, buf, len);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

/*
 * Build one line from the printf-style message and write it.  Lines below
 * the configured level are dropped.  errno is preserved, so a caller may
 * log and then still look at it.
 */
void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char		 line[LOG_LINE_MAX], msg[LOG_LINE_MAX], tok[4];
	struct timespec	 now = { 0, 0 };
	struct tm	 tm;
	va_list		 ap;
	size_t		 len, mlen, need, i, n;
	int		 rc, saved = errno;

	if ((int)lvl < 0 || lvl >= LOG_LEVEL__MAX)
		lvl = LOG_LEVEL_ERROR;
	if (lvl > log_level)
		return;

	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		now.tv_sec = 0;
	if (now.tv_sec != log_sec) {
		if (gmtime_r(&now.tv_sec, &tm) == NULL || strftime(log_ts,
		    sizeof(log_ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			snprintf(log_ts, sizeof(log_ts), "0000-00-00T00:00:00");
		log_sec = now.tv_sec;
	}
	if (log_pid == 0)
		log_pid = (long)getpid();
	rc = snprintf(line, sizeof(line), "%s.%03ldZ %s[%ld] %s: ", log_ts,
	    (long)(now.tv_nsec / 1000000), log_prog, log_pid,
	    level_names[lvl]);
	if (rc < 0 || (size_t)rc >= sizeof(line) / 2)
		goto out;	/* cannot happen: log_prog is short */
	len = (size_t)rc;

	va_start(ap, fmt);
	rc = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rc < 0)
		rc = snprintf(msg, sizeof(msg), "(unformattable log message)");
	/* A message cut by vsnprintf is longer than the line anyway. */
	mlen = (size_t)rc < sizeof(msg) ? (size_t)rc : sizeof(msg) - 1;

	/* Most messages need no escape at all: then one copy. */
	for (i = 0; i < mlen; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			break;
	if (i == mlen && len + mlen + 1 <= sizeof(line)) {
		memcpy(line + len, msg, mlen);
		len += mlen;
		goto end;
	}

	for (need = 0, i = 0; i < mlen; i++)
		need += msg_byte((unsigned char)msg[i], tok);

	if (len + need + 1 <= sizeof(line)) {
		for (i = 0; i < mlen; i++) {
			n = msg_byte((unsigned char)msg[i], tok);
			memcpy(line + len, tok, n);
			len += n;
		}
	} else {
		for (i = 0; i < mlen; i++) {
			n = msg_byte((unsigned char)msg[i], tok);
			if (len + n + strlen(LOG_ELLIPSIS) + 1 > sizeof(line))
				break;
			memcpy(line + len, tok, n);
			len += n;
		}
		memcpy(line + len, LOG_ELLIPSIS, strlen(LOG_ELLIPSIS));
		len += strlen(LOG_ELLIPSIS);
	}
end:
	line[len++] = '\n';
	write_all(line, len);
out:
	errno = saved;
}

/*
 * The access line of one request.  method and route are our own words but
 * are escaped all the same; install (may be NULL, then "-") is untrusted.
 */
void
log_request(const char *method, const char *route, int status, double ms,
    const char *install)
{
	char		 emethod[32], eroute[128], einst[256];
	long long	 us;

	log_escape(emethod, sizeof(emethod), method,
	    method == NULL ? 0 : strlen(method));
	log_escape(eroute, sizeof(eroute), route,
	    route == NULL ? 0 : strlen(route));
	if (install == NULL)
		snprintf(einst, sizeof(einst), "-");
	else
		log_escape(einst, sizeof(einst), install, strlen(install));
	/* Whole microseconds, printed as ms with three decimals: cheaper
	 * than %f on every request. */
	us = ms > 0 && ms < 1e12 ? (long long)(ms * 1000 + 0.5) : 0;
	log_info("request method=%s route=%s status=%d ms=%lld.%03lld "
	    "install=%s", emethod, eroute, status, us / 1000, us % 1000,
	    einst);
}
