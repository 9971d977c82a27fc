/*
 * util.c: clocks, timestamp checks and UTF-8 validation.
 *
 * Nothing here allocates; every function works in the caller's buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

/*
 * Write the current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf.
 * Returns buf, or NULL if buf is smaller than 21 bytes or the clock cannot
 * be read (buf then holds the empty string when bufsz > 0).
 */
char *
util_now_rfc3339(char *buf, size_t bufsz)
{
	time_t		 t;
	struct tm	 tm;

	if (buf == NULL || bufsz == 0)
		return NULL;
	buf[0] = '\0';
	if (bufsz < 21)
		return NULL;
	t = time(NULL);
	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		return NULL;
	if (strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20) {
		buf[0] = '\0';
		return NULL;
	}
	return buf;
}

/*
 * Returns the current time in unix seconds.
 */
int64_t
util_now(void)
{
	return (int64_t)time(NULL);
}

/*
 * Returns milliseconds on the monotonic clock, for measuring durations
 * only (the origin is arbitrary).  Returns 0 if the clock cannot be read.
 */
double
util_monotonic_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0.0;
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/*
 * Parse exactly n ASCII digits at s into *val.
 * Returns 1 on success, 0 if any of the n bytes is not a digit.
 */
static int
digits(const char *s, size_t n, int *val)
{
	size_t	 i;
	int	 v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*val = v;
	return 1;
}

/*
 * Returns the number of days in month mon (1-12) of year y, Gregorian.
 */
static int
days_in_month(int y, int mon)
{
	static const int days[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (mon == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[mon - 1];
}

/*
 * Strict RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)
 * with an upper-case 'T' and 'Z', real calendar dates (leap years
 * included), hour < 24, minute < 60, second <= 60 (leap second).
 * Returns 1 if s is such a timestamp, 0 otherwise (also for NULL).
 */
int
util_is_rfc3339(const char *s)
{
	int	 y, mon, d, h, mi, sec, oh, om;
	size_t	 i, nfrac;

	if (s == NULL)
		return 0;
	/* The fixed part: 19 bytes; strlen-free so we never overrun. */
	if (!digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mon) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || s[10] != 'T' ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return 0;
	if (mon < 1 || mon > 12 || d < 1 || d > days_in_month(y, mon))
		return 0;
	if (h > 23 || mi > 59 || sec > 60)
		return 0;

	i = 19;
	if (s[i] == '.') {
		i++;
		for (nfrac = 0; s[i] >= '0' && s[i] <= '9'; i++)
			nfrac++;
		if (nfrac < 1 || nfrac > 9)
			return 0;
	}

	if (s[i] == 'Z')
		return s[i + 1] == '\0';
	if (s[i] != '+' && s[i] != '-')
		return 0;
	i++;
	if (!digits(s + i, 2, &oh) || s[i + 2] != ':' ||
	    !digits(s + i + 3, 2, &om) || s[i + 5] != '\0')
		return 0;
	return oh <= 23 && om <= 59;
}

/*
 * Strict UTF-8 (RFC 3629): shortest form only, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence and no
 * stray continuation byte.  NUL bytes are valid UTF-8; callers that must
 * refuse them check separately.
 * Returns 1 if s[0..len) is valid, 0 otherwise.
 */
int
util_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	unsigned char		 lo, hi;

	if (p == NULL)
		return len == 0;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		/*
		 * The lead byte fixes the length and the allowed range of
		 * the second byte, which is what rules out overlongs,
		 * surrogates and values above U+10FFFF.
		 */
		lo = 0x80;
		hi = 0xbf;
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 3;
			if (p[i] == 0xe0)
				lo = 0xa0;	/* overlong below U+0800 */
			else if (p[i] == 0xed)
				hi = 0x9f;	/* surrogates */
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 4;
			if (p[i] == 0xf0)
				lo = 0x90;	/* overlong below U+10000 */
			else if (p[i] == 0xf4)
				hi = 0x8f;	/* above U+10FFFF */
		} else
			return 0;	/* 80-C1 stray/overlong, F5-FF */

		if (len - i < n)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k < n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
		i += n;
	}
	return 1;
}

void
util_errf(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int64_t
util_parse_utc(const char *s)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}
