/* util.h: small helpers with no better home. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Current time as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
char	*util_now_rfc3339(char *buf, size_t bufsz);
int64_t	 util_now(void);		/* unix seconds */
double	 util_monotonic_ms(void);	/* for durations */

/* Unix seconds of an RFC 3339 UTC text ("2026-11-03T10:00:00Z", any
 * fraction ignored), or 0 if it does not start like one. */
int64_t	 util_parse_utc(const char *s);

/* Strict RFC 3339 UTC or offset timestamp check (no value returned). */
int	 util_is_rfc3339(const char *s);

/* Does s[0..len) form valid UTF-8 (no overlongs, no surrogates)? */
int	 util_utf8_valid(const char *s, size_t len);

/* Format a one-line error message into err (size errsz); either may be
 * NULL/0, then nothing is written. */
void	 util_errf(char *err, size_t errsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
