/*
 * test-util.c: util.c (timestamps, UTF-8) and log.c (escaping, line
 * format, level filtering, one line per event).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "conf.h"
#include "log.h"
#include "util.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* --- util_is_rfc3339 ------------------------------------------------- */

static const struct {
	const char	*name;
	const char	*in;
	int		 want;
} rfc3339_rows[] = {
	{ "plain-utc", "2026-11-27T01:02:03Z", 1 },
	{ "leap-day-2024", "2024-02-29T00:00:00Z", 1 },
	{ "leap-day-2000-div400", "2000-02-29T12:00:00Z", 1 },
	{ "end-of-january", "2026-01-31T23:59:59Z", 1 },
	{ "leap-second", "2026-06-30T23:59:60Z", 1 },
	{ "fraction-1", "2026-11-27T01:02:03.4Z", 1 },
	{ "fraction-9", "2026-11-27T01:02:03.123456789Z", 1 },
	{ "offset-plus", "2026-11-27T01:02:03+05:30", 1 },
	{ "offset-minus-zero", "2026-11-27T01:02:03-00:00", 1 },
	{ "offset-max", "2026-11-27T01:02:03+23:59", 1 },
	{ "fraction-and-offset", "2026-11-27T01:02:03.5-08:00", 1 },
	{ "year-0001", "0001-01-01T00:00:00Z", 1 },
	{ "bad-not-leap-2026", "2026-02-29T00:00:00Z", 0 },
	{ "bad-not-leap-1900-century", "1900-02-29T00:00:00Z", 0 },
	{ "bad-feb-30-leap", "2024-02-30T00:00:00Z", 0 },
	{ "bad-april-31", "2026-04-31T00:00:00Z", 0 },
	{ "bad-month-00", "2026-00-10T00:00:00Z", 0 },
	{ "bad-month-13", "2026-13-10T00:00:00Z", 0 },
	{ "bad-day-00", "2026-01-00T00:00:00Z", 0 },
	{ "bad-day-32", "2026-01-32T00:00:00Z", 0 },
	{ "bad-lowercase-t", "2026-11-27t01:02:03Z", 0 },
	{ "bad-space-for-t", "2026-11-27 01:02:03Z", 0 },
	{ "bad-lowercase-z", "2026-11-27T01:02:03z", 0 },
	{ "bad-missing-zone", "2026-11-27T01:02:03", 0 },
	{ "bad-hour-24", "2026-11-27T24:00:00Z", 0 },
	{ "bad-minute-60", "2026-11-27T23:60:00Z", 0 },
	{ "bad-second-61", "2026-11-27T23:59:61Z", 0 },
	{ "bad-no-seconds", "2026-11-27T01:02Z", 0 },
	{ "bad-empty-fraction", "2026-11-27T01:02:03.Z", 0 },
	{ "bad-fraction-10", "2026-11-27T01:02:03.1234567890Z", 0 },
	{ "bad-comma-fraction", "2026-11-27T01:02:03,5Z", 0 },
	{ "bad-offset-hour-24", "2026-11-27T01:02:03+24:00", 0 },
	{ "bad-offset-minute-60", "2026-11-27T01:02:03+05:60", 0 },
	{ "bad-offset-no-colon", "2026-11-27T01:02:03+0530", 0 },
	{ "bad-offset-hours-only", "2026-11-27T01:02:03+05", 0 },
	{ "bad-offset-trailing", "2026-11-27T01:02:03+05:30x", 0 },
	{ "bad-trailing-space", "2026-11-27T01:02:03Z ", 0 },
	{ "bad-trailing-newline", "2026-11-27T01:02:03Z\n", 0 },
	{ "bad-z-and-offset", "2026-11-27T01:02:03Z+00:00", 0 },
	{ "bad-leading-space", " 2026-11-27T01:02:03Z", 0 },
	{ "bad-short-month", "2026-1-27T01:02:03Z", 0 },
	{ "bad-five-digit-year", "20260-11-27T01:02:03Z", 0 },
	{ "bad-signed-year", "+2026-11-27T01:02:03Z", 0 },
	{ "bad-date-only", "2026-11-27", 0 },
	{ "bad-truncated", "2026-11-27T01:0", 0 },
	{ "bad-empty", "", 0 },
	{ "bad-unix-seconds", "1764205323", 0 },
};

static void
test_rfc3339(void)
{
	size_t	 i;

	for (i = 0; i < NITEMS(rfc3339_rows); i++)
		is_int(util_is_rfc3339(rfc3339_rows[i].in),
		    rfc3339_rows[i].want, "rfc3339 %s", rfc3339_rows[i].name);
	is_int(util_is_rfc3339(NULL), 0, "rfc3339 bad-null");
}

/* --- util_utf8_valid --------------------------------------------------- */

static const struct {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 want;
} utf8_rows[] = {
	{ "empty", "", 0, 1 },
	{ "ascii", "hello", 5, 1 },
	{ "nul-is-utf8", "a\0b", 3, 1 },
	{ "two-byte-e-acute", "\xc3\xa9", 2, 1 },
	{ "two-byte-lowest-u0080", "\xc2\x80", 2, 1 },
	{ "three-byte-euro", "\xe2\x82\xac", 3, 1 },
	{ "three-byte-lowest-u0800", "\xe0\xa0\x80", 3, 1 },
	{ "three-byte-before-surrogates", "\xed\x9f\xbf", 3, 1 },
	{ "three-byte-after-surrogates", "\xee\x80\x80", 3, 1 },
	{ "three-byte-ufffd", "\xef\xbf\xbd", 3, 1 },
	{ "four-byte-emoji", "\xf0\x9f\x98\x80", 4, 1 },
	{ "four-byte-lowest-u10000", "\xf0\x90\x80\x80", 4, 1 },
	{ "four-byte-max-u10ffff", "\xf4\x8f\xbf\xbf", 4, 1 },
	{ "mixed", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 11, 1 },
	{ "bad-overlong-c0-80", "\xc0\x80", 2, 0 },
	{ "bad-overlong-c1-bf", "\xc1\xbf", 2, 0 },
	{ "bad-overlong-e0-80-80", "\xe0\x80\x80", 3, 0 },
	{ "bad-overlong-e0-9f-bf", "\xe0\x9f\xbf", 3, 0 },
	{ "bad-overlong-f0-80-80-80", "\xf0\x80\x80\x80", 4, 0 },
	{ "bad-overlong-f0-8f-bf-bf", "\xf0\x8f\xbf\xbf", 4, 0 },
	{ "bad-surrogate-ed-a0-80", "\xed\xa0\x80", 3, 0 },
	{ "bad-surrogate-ed-bf-bf", "\xed\xbf\xbf", 3, 0 },
	{ "bad-above-max-f4-90-80-80", "\xf4\x90\x80\x80", 4, 0 },
	{ "bad-lead-f5", "\xf5\x80\x80\x80", 4, 0 },
	{ "bad-lead-ff", "\xff", 1, 0 },
	{ "bad-lead-fe", "\xfe", 1, 0 },
	{ "bad-stray-continuation-80", "\x80", 1, 0 },
	{ "bad-stray-continuation-after-ascii", "a\xbf", 2, 0 },
	{ "bad-truncated-two", "\xc3", 1, 0 },
	{ "bad-truncated-three", "\xe2\x82", 2, 0 },
	{ "bad-truncated-four", "\xf0\x9f\x98", 3, 0 },
	{ "bad-truncated-by-len", "\xe2\x82\xac", 2, 0 },
	{ "bad-second-byte-ascii", "\xc3" "a", 2, 0 },
	{ "bad-third-byte-ascii", "\xe2\x82" "a", 3, 0 },
	{ "bad-fourth-byte-lead", "\xf0\x9f\x98\xc3", 4, 0 },
	{ "bad-extra-continuation", "\xc3\xa9\x80", 3, 0 },
};

static void
test_utf8(void)
{
	size_t	 i;

	for (i = 0; i < NITEMS(utf8_rows); i++)
		is_int(util_utf8_valid(utf8_rows[i].in, utf8_rows[i].len),
		    utf8_rows[i].want, "utf8 %s", utf8_rows[i].name);
	is_int(util_utf8_valid(NULL, 0), 1, "utf8 null-empty");
	is_int(util_utf8_valid(NULL, 1), 0, "utf8 bad-null-with-length");
}

/* --- clocks ---------------------------------------------------------------- */

static void
test_clocks(void)
{
	char		 buf[32], small[20];
	struct tm	 tm;
	int64_t		 now;
	time_t		 parsed;
	double		 a, b;

	memset(buf, 'x', sizeof(buf));
	ok(util_now_rfc3339(buf, sizeof(buf)) == buf,
	    "now-rfc3339 returns buf");
	is_int(strlen(buf), 20, "now-rfc3339 is 20 characters");
	ok(util_is_rfc3339(buf), "now-rfc3339 is strict RFC 3339: %s", buf);
	ok(buf[10] == 'T' && buf[19] == 'Z', "now-rfc3339 has T and Z");

	memset(&tm, 0, sizeof(tm));
	now = util_now();
	ok(strptime(buf, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL,
	    "now-rfc3339 parses back");
	parsed = timegm(&tm);
	ok(now - (int64_t)parsed >= 0 && now - (int64_t)parsed <= 2,
	    "now-rfc3339 is UTC and agrees with util_now");
	ok(now > 1700000000, "util_now is a plausible unix time");

	memset(small, 'x', sizeof(small));
	ok(util_now_rfc3339(small, sizeof(small)) == NULL,
	    "now-rfc3339 refuses a 20-byte buffer");
	is_int(small[0], '\0', "now-rfc3339 too-small buffer left empty");
	ok(util_now_rfc3339(buf, 21) == buf, "now-rfc3339 exact 21 bytes");

	a = util_monotonic_ms();
	b = util_monotonic_ms();
	ok(a > 0 && b >= a, "monotonic ms does not go backwards");
}

/* --- log_escape ------------------------------------------------------------- */

static const struct {
	const char	*name;
	const char	*in;
	size_t		 len;
	size_t		 dstsz;
	const char	*want;
} escape_rows[] = {
	{ "plain", "instapp_123", 11, 64, "instapp_123" },
	{ "space-and-tilde", "a b~", 4, 64, "a b~" },
	{ "double-quote", "a\"b", 3, 64, "a\\x22b" },
	{ "backslash", "a\\b", 3, 64, "a\\x5cb" },
	{ "newline", "a\nb", 3, 64, "a\\x0ab" },
	{ "carriage-return", "a\rb", 3, 64, "a\\x0db" },
	{ "tab", "a\tb", 3, 64, "a\\x09b" },
	{ "del", "\x7f", 1, 64, "\\x7f" },
	{ "byte-ff", "\xff", 1, 64, "\\xff" },
	{ "utf8-escaped-bytewise", "\xc3\xa9", 2, 64, "\\xc3\\xa9" },
	{ "nul-within-srclen", "a\0b", 3, 64, "a\\x00b" },
	{ "srclen-shorter-than-string", "abcdef", 3, 64, "abc" },
	{ "empty", "", 0, 64, "" },
	{ "exact-fit-plain", "abc", 3, 4, "abc" },
	{ "exact-fit-escape", "ab\ncd", 5, 9, "ab\\x0acd" },
	{ "one-over-plain", "abcd", 4, 4, "..." },
	{ "truncated-plain", "abcdefgh", 8, 8, "abcd..." },
	{ "truncation-not-splitting-escape", "ab\ncd", 5, 8, "ab..." },
	{ "truncation-keeps-whole-escape", "\n\n", 2, 8, "\\x0a..." },
	{ "truncation-after-escape", "a\"bcdef", 7, 10, "a\\x22b..." },
	{ "truncation-drops-escape-that-half-fits", "abc\"de", 6, 9,
	    "abc..." },
	{ "dst-3-only-dots", "abcdef", 6, 3, ".." },
	{ "dst-1-empty", "abcdef", 6, 1, "" },
};

static void
test_escape(void)
{
	char	 buf[80];
	size_t	 i;

	for (i = 0; i < NITEMS(escape_rows); i++) {
		memset(buf, '#', sizeof(buf));
		ok(log_escape(buf, escape_rows[i].dstsz, escape_rows[i].in,
		    escape_rows[i].len) == buf, "escape %s returns dst",
		    escape_rows[i].name);
		is_str(buf, escape_rows[i].want, "escape %s",
		    escape_rows[i].name);
		ok(buf[escape_rows[i].dstsz] == '#',
		    "escape %s writes nothing past dstsz",
		    escape_rows[i].name);
	}

	memset(buf, '#', sizeof(buf));
	log_escape(buf, sizeof(buf), NULL, 5);
	is_str(buf, "", "escape null-src is empty");
	buf[0] = '#';
	log_escape(buf, 0, "abc", 3);
	is_int(buf[0], '#', "escape dstsz-0 writes nothing");
}

/* --- log lines ------------------------------------------------------------- */

/*
 * Read the whole file into an allocated, NUL-terminated buffer the caller
 * frees.  Returns NULL on error.
 */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 sz;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (sz = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)sz + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[sz] = '\0';
	fclose(f);
	return buf;
}

static size_t
count_lines(const char *s)
{
	size_t	 n = 0;

	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/*
 * Does line (without its newline) have the form
 * "YYYY-MM-DDTHH:MM:SS.mmmZ prog[pid] level: msg"?
 * Returns the message part, or NULL (with a diagnostic) if not.
 */
static const char *
line_msg(const char *line, const char *prog, const char *level)
{
	char		 ts[25], prefix[128];
	size_t		 n;

	if (strlen(line) < 25 || line[24] != ' ') {
		diag("short line: %s", line);
		return NULL;
	}
	memcpy(ts, line, 24);
	ts[24] = '\0';
	if (!util_is_rfc3339(ts) || ts[19] != '.' || ts[23] != 'Z') {
		diag("bad timestamp: %s", ts);
		return NULL;
	}
	n = (size_t)snprintf(prefix, sizeof(prefix), "%s[%ld] %s: ",
	    prog, (long)getpid(), level);
	if (strncmp(line + 25, prefix, n) != 0) {
		diag("bad prefix: %s", line + 25);
		return NULL;
	}
	return line + 25 + n;
}

/*
 * Returns line number idx (0-based) of buf in an allocated string without
 * its newline, or NULL.
 */
static char *
nth_line(const char *buf, size_t idx)
{
	const char	*p = buf, *e;

	while (idx-- > 0) {
		if ((p = strchr(p, '\n')) == NULL)
			return NULL;
		p++;
	}
	if ((e = strchr(p, '\n')) == NULL)
		return NULL;
	return strndup(p, (size_t)(e - p));
}

/* Check line idx of buf: right prefix and level, message equal to want. */
static void
check_line(const char *buf, size_t idx, const char *level, const char *want,
    const char *name)
{
	char		*line = nth_line(buf, idx);
	const char	*m = NULL;

	if (line != NULL)
		m = line_msg(line, "test-util", level);
	ok(m != NULL, "%s: line %zu has timestamp, name, pid, level %s",
	    name, idx + 1, level);
	is_str(m, want, "%s: message", name);
	free(line);
}

static void
test_log_file(const char *dir)
{
	char		 path[512], *buf, *line, big[5000];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/test.log", dir);

	umask(022);
	is_int(log_init("test-util", path, LOG_LEVEL_INFO), 1,
	    "log_init opens a new file");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
	    "log file created with mode 0640");
	log_info("hello %s %d", "world", 42);
	log_info("first\nsecond\rthird");
	log_debug("debug-dropped-at-info");
	log_warn("a warning");
	log_error("an error");
	log_request("POST", "callback", 200, 1.2341, "instapp_x");
	log_request("POST", "portal", 404, 0.5, NULL);
	log_request("GET", "health", 200, 10.0, "inst\n\"x\\");
	errno = EACCES;
	log_info("errno survives");
	is_int(errno, EACCES, "log_msg preserves errno");
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	log_close();

	buf = slurp(path);
	ok(buf != NULL, "log file readable");
	is_int(count_lines(buf), 9, "nine lines: debug dropped, newline "
	    "in message did not split a line");
	ok(buf == NULL || strstr(buf, "debug-dropped") == NULL,
	    "debug line dropped at level info");
	check_line(buf, 0, "info", "hello world 42", "log-format");
	check_line(buf, 1, "info", "first\\nsecond\\rthird",
	    "newline-in-message-escaped");
	check_line(buf, 2, "warn", "a warning", "warn-passes-at-info");
	check_line(buf, 3, "error", "an error", "error-passes-at-info");
	check_line(buf, 4, "info", "request method=POST route=callback "
	    "status=200 ms=1.234 install=instapp_x", "log-request");
	check_line(buf, 5, "info", "request method=POST route=portal "
	    "status=404 ms=0.500 install=-", "log-request-null-install");
	check_line(buf, 6, "info", "request method=GET route=health "
	    "status=200 ms=10.000 install=inst\\x0a\\x22x\\x5c",
	    "log-request-install-escaped");
	check_line(buf, 7, "info", "errno survives", "errno-line");

	line = nth_line(buf, 8);
	is_int(line == NULL ? 0 : strlen(line) + 1, 2048,
	    "long message: line truncated to 2048 bytes with newline");
	ok(line != NULL && strlen(line) > 3 &&
	    strcmp(line + strlen(line) - 3, "...") == 0 &&
	    line[strlen(line) - 4] == 'y',
	    "long message: truncation marked with ...");
	free(line);
	free(buf);

	/* Append: a second init keeps what is there. */
	is_int(log_init("test-util", path, LOG_LEVEL_ERROR), 1,
	    "log_init reopens existing file");
	log_warn("warn-dropped-at-error");
	log_info("info-dropped-at-error");
	log_error("kept at error");
	log_close();
	buf = slurp(path);
	is_int(count_lines(buf), 10, "reopen appends one line");
	ok(buf == NULL || strstr(buf, "dropped-at-error") == NULL,
	    "warn and info dropped at level error");
	check_line(buf, 0, "info", "hello world 42", "append-kept-old-lines");
	check_line(buf, 9, "error", "kept at error", "error-at-error");
	free(buf);
	unlink(path);
}

/* Logging to an unopenable file falls back to stderr and says so. */
static void
test_log_fallback(const char *dir)
{
	char	 path[512], bad[512], *buf;
	int	 fd, saved;

	snprintf(path, sizeof(path), "%s/stderr.txt", dir);
	snprintf(bad, sizeof(bad), "%s/no-such-dir/x.log", dir);

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(saved != -1 && fd != -1 && dup2(fd, STDERR_FILENO) != -1,
	    "fallback setup: stderr to a file");
	if (fd != -1)
		close(fd);

	is_int(log_init("test-util", bad, LOG_LEVEL_INFO), 0,
	    "log_init returns 0 for an unopenable file");
	log_info("after fallback");
	log_close();
	log_init("test-util", NULL, LOG_LEVEL_WARN);
	log_info("info-dropped-on-stderr");
	log_warn("null path is stderr");
	log_close();

	if (saved != -1) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}

	buf = slurp(path);
	is_int(count_lines(buf), 3, "fallback: three lines on stderr");
	ok(buf != NULL && strstr(buf, "warn: cannot open log_file") != NULL,
	    "fallback: warning names the failure");
	ok(buf != NULL && strstr(buf, "no-such-dir/x.log") != NULL,
	    "fallback: warning names the path");
	if (buf != NULL)
		check_line(buf, 1, "info", "after fallback",
		    "fallback-line-on-stderr");
	if (buf != NULL)
		check_line(buf, 2, "warn", "null path is stderr",
		    "null-path-stderr");
	free(buf);
	unlink(path);
}

int
main(void)
{
	char	 dir[] = "/tmp/test-util.XXXXXX";

	test_rfc3339();
	test_utf8();
	test_clocks();
	test_escape();
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	test_log_file(dir);
	test_log_fallback(dir);
	rmdir(dir);
	return done_testing();
}
