/*
 * conf.h: the configuration shared by every binary.
 *
 * The file is "key = value" lines, '#' starts a comment line.  Every key can
 * be overridden from the environment as STRIPE_SYNC_<KEY> (upper case), and
 * every secret key can instead be given as <key>_file naming a file whose
 * contents (trailing newline stripped) are the value.  conf_load() reads the
 * file, applies the environment, then validates the whole result; a binary
 * that gets 0 from it must refuse to start.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_KEYLEN	32	/* master keys are exactly 32 bytes */
#define CONF_KIDLEN	8	/* key ids are 8 lower-case hex digits */
#define CONF_MAXKEYS	8	/* current key plus up to 7 old ones */
#define CONF_SECRET_MIN	32	/* minimum length of session/callback secret */

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL__MAX
};

/* The sandbox key (sandbox.c): on (the default), log, off. */
enum conf_sandbox {
	CONF_SANDBOX_ON,	/* forbidden calls kill the process */
	CONF_SANDBOX_LOG,	/* forbidden calls are logged and fail */
	CONF_SANDBOX_OFF,	/* no-new-privileges only */
	CONF_SANDBOX__MAX
};

/* One AES-256-GCM master key and its id (derived from the key). */
struct conf_key {
	char		 id[CONF_KIDLEN + 1];
	unsigned char	 key[CONF_KEYLEN];
};

struct conf {
	char		*path;		/* file read, or NULL if none */
	char		*db_path;
	struct conf_key	 keys[CONF_MAXKEYS]; /* keys[0] is master_key */
	size_t		 nkeys;
	char		*session_secret;
	size_t		 session_secret_len;
	unsigned char	 token_key[32];	/* HKDF of session_secret, set by
					   conf_load() via crypto_hkdf() */
	char		*callback_secret;
	char		*cloud_api_url;
	char		*stripe_api_url;
	char		*portal_url;
	long		 session_ttl;	/* seconds, 300..900 */
	char		*frame_ancestors;
	char		*ca_file;	/* NULL: system default */
	enum log_level	 log_level;
	char		*log_file;	/* NULL: standard error */
	int		 allow_root;	/* serve as root (containers only) */
	long		 cloud_connect_timeout;	/* seconds, per attempt */
	long		 cloud_timeout;	/* seconds, a whole call */
	long		 stripe_connect_timeout; /* seconds, per attempt */
	long		 stripe_timeout; /* seconds, a whole call */
	long		 stripe_rate;	/* calls per second; 0: 20 test,
					   50 live */
	long		 sync_patience;	/* seconds a run waits out a Cloud or
					   Stripe outage before it fails */
	long		 sync_confirm_timeout; /* seconds a run waits for
					   Blnk to apply what it posted */
	long		 sync_lease;	/* seconds a runner holds a run
					   without a sign of life */
	long		 webhook_debounce; /* seconds of quiet after a
					   Stripe event before its job */
	long		 webhook_max_wait; /* seconds a job waits at most
					   after its first event */
	enum conf_sandbox sandbox;	/* after start-up (sandbox.c) */
};

/*
 * Resolve the configuration path: argv's --config (already extracted by the
 * caller and passed as "path", may be NULL), else $STRIPE_SYNC_CONF, else
 * the compiled-in default.  Returns a static or caller-owned string; never
 * NULL.
 */
const char	*conf_path(const char *path);

/* How conf_load()'s message starts when there is no configuration at all. */
#define CONF_ERR_NONE	"no configuration: "

/*
 * Load and validate.  On failure returns 0 and writes one message naming
 * the offending key into err (size errsz); "cf" is then zeroed and holds
 * nothing to free.  On success returns 1 and the caller must conf_free().
 * If "path" does not exist and "must_exist" is 0, the environment alone is
 * used (for containers that pass everything as STRIPE_SYNC_*) when it
 * holds any STRIPE_SYNC_* variable.  A file that does not exist otherwise
 * is an error of its own, starting with CONF_ERR_NONE and naming the
 * paths searched.
 */
int		 conf_load(struct conf *cf, const char *path, int must_exist,
		    char *err, size_t errsz);

/* Wipe secrets and free everything conf_load() allocated. */
void		 conf_free(struct conf *cf);

/* The names of the config keys, NULL-terminated; for tools and tests. */
extern const char *const conf_keys[];

/* Is the host of this URL a loopback host (localhost, 127.0.0.0/8, ::1)? */
int		 conf_url_is_loopback(const char *url);

#endif
