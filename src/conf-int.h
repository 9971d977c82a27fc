/*
 * conf-int.h: what the two halves of the configuration share, private to
 * them.  conf.c reads (the file, the STRIPE_SYNC_* environment, the
 * <key>_file secrets) into a struct raw of unvalidated strings;
 * conf-check.c validates that into a struct conf.  conf.h is the public
 * interface.
 */
#ifndef CONF_INT_H
#define CONF_INT_H

#include <stddef.h>

#include "conf.h"

/* Indexes into conf_keys[]; keep both in the same order. */
enum ckey {
	K_DB_PATH,
	K_MASTER_KEY,
	K_MASTER_KEY_FILE,
	K_OLD_MASTER_KEYS,
	K_OLD_MASTER_KEYS_FILE,
	K_SESSION_SECRET,
	K_SESSION_SECRET_FILE,
	K_CALLBACK_SECRET,
	K_CALLBACK_SECRET_FILE,
	K_CLOUD_API_URL,
	K_STRIPE_API_URL,
	K_PORTAL_URL,
	K_SESSION_TTL,
	K_FRAME_ANCESTORS,
	K_CA_FILE,
	K_LOG_LEVEL,
	K_LOG_FILE,
	K_ALLOW_ROOT,
	K_CLOUD_CONNECT_TIMEOUT,
	K_CLOUD_TIMEOUT,
	K_STRIPE_CONNECT_TIMEOUT,
	K_STRIPE_TIMEOUT,
	K_STRIPE_RATE,
	K_SYNC_PATIENCE,
	K_SYNC_CONFIRM_TIMEOUT,
	K_SYNC_LEASE,
	K_WEBHOOK_DEBOUNCE,
	K_WEBHOOK_MAX_WAIT,
	K_SANDBOX,
	K__MAX
};

/*
 * Unvalidated values from one source (the file or the environment), all
 * owned and wiped on release.  line[] is the file line (0: not set).
 */
struct raw {
	char	*val[K__MAX];
	size_t	 line[K__MAX];
};

/* Is c blank for the purpose of trimming keys and values? (conf.c) */
int	 conf_is_blank(char c);

/*
 * Validate the merged values in r into cf (conf-check.c), taking the
 * strings it keeps out of r.  Returns 1 on success, 0 with err set (cf
 * then holds partial results for the caller to free).
 */
int	 conf_validate(struct conf *cf, struct raw *r, char *err,
	    size_t errsz);

#endif
