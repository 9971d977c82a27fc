/*
 * log.h: one line per event, to log_file or standard error.
 *
 * Lines look like
 *   2026-11-27T01:02:03.456Z stripe-sync.fcgi[1234] info: message
 * Every byte that came from a request must pass through log_escape() (or the
 * %s arguments must be known-safe words); log_request() does that itself.
 * Writes are single write(2) calls on an O_APPEND descriptor, so lines from
 * several processes never interleave.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#include "conf.h"

/* Open the log (path NULL: stderr).  Returns 0 if the file cannot be
 * opened (then logging goes to stderr). */
int	 log_init(const char *progname, const char *path, enum log_level lvl);
void	 log_close(void);

void	 log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * Escape up to srclen bytes of untrusted input into dst (size dstsz, always
 * NUL terminated, truncated with "..." if needed): printable ASCII other
 * than '\\' and '"' passes, everything else becomes \xHH.  Returns dst.
 */
char	*log_escape(char *dst, size_t dstsz, const char *src, size_t srclen);

/*
 * The access line: method and route are our own words (never the raw
 * path), install may be NULL or untrusted (it is escaped).
 */
void	 log_request(const char *method, const char *route, int status,
	    double ms, const char *install);

#endif
