/*
 * doctor.h: what the two files of "stripe-syncctl doctor" share.
 * doctor.c holds the command, finding() and the local checks (the
 * configuration, its file modes and secrets, the database); doctor-net.c
 * the checks over the network (cloud_api_url and stripe_api_url, and with
 * --url the public site); doctor-keys.c the key ids of the sealed
 * secrets.
 */
#ifndef DOCTOR_H
#define DOCTOR_H

#include <sys/types.h>

#include <curl/curl.h>

#include "ctl.h"

enum sev {
	SEV_OK,
	SEV_WARN,
	SEV_FAIL,
};

#define DOCTOR_MAXGROUPS	64

struct doctor {
	struct ctl	*c;
	char		*ctl;		/* "stripe-syncctl [-c FILE]" for fixes */
	char		*ctl_as;	/* the same, run as the workers' user */
	const char	*user_opt;	/* --user, or NULL */
	int		 have_user;	/* the workers' user is known: */
	uid_t		 uid;
	gid_t		 gid;		/* its primary group */
	char		 user[64];
	char		 group[64];
	gid_t		 groups[DOCTOR_MAXGROUPS]; /* every group it is in */
	int		 ngroups;
	long		 timeout;	/* seconds, per request */
	int		 nfail;
	int		 nwarn;
};

/* Print one finding, "ok", "warn" or "FAIL" then the message, with the
 * secrets of the configuration redacted, and count it. */
void	 finding(struct doctor *d, enum sev sev, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* A formatted string, allocated (the caller frees), NULL on failure. */
char	*str_printf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* The key ids the stored secrets are sealed under: all must be the
 * current master_key (doctor-keys.c).  Prints one finding per problem, or
 * one ok. */
void	 doctor_keys(struct doctor *d);

/* Is the outbound base URL of "key" reachable?  Any HTTP status says so.
 * Prints one finding. */
void	 doctor_reach(struct doctor *d, const char *key, const char *url);

/* Parse the --url argument into a base for doctor_site(): https (http for
 * a loopback host), no user, password, query or fragment.  Returns the
 * handle (the caller curl_url_cleanup()s it) or NULL if not acceptable. */
CURLU	*doctor_base(const char *url);

/* The checks of the public site under base: the portal's headers,
 * /api/health, and the callback route without the secret. */
void	 doctor_site(struct doctor *d, CURLU *base);

#endif
