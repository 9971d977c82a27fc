/*
 * app.h: what the fuzz targets that go through the handlers share: one
 * application (configuration, a migrated SQLite file under a scratch
 * directory, one active install with a Stripe key and a webhook secret, a
 * valid portal session), reset to that state before each input, and a
 * stand-in for the one outbound call, httpc_do(), linked over the real one
 * with -Wl,--wrap=httpc_do: every call to Cloud or Stripe gets the next
 * answer of the input, and nothing goes to the network.
 *
 * Answers are written one after the other, separated by a line "%%":
 *
 *	200
 *	{"data": [...]}
 *	%%
 *	503
 *	%%
 *	U
 *
 * A first line of digits is the HTTP status (the rest of the input up to
 * the next separator is the body); "T", "S", "L" or anything else is a
 * timeout, a TLS failure, an answer over the cap or an unreachable host.
 * Once the answers run out every call is unreachable and the job runner
 * is asked to stop.
 */
#ifndef FUZZ_APP_H
#define FUZZ_APP_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define FUZZ_SECRET	"Fz9_callback-secret-0123456789abcdefghij"
#define FUZZ_INSTALL	"inst_fuzz"
#define FUZZ_APP	"app_fuzz"
#define FUZZ_INSTANCE	"ins_fuzz"
#define FUZZ_ORG	"org_fuzz"
#define FUZZ_CLOUD_KEY	"blnk_fuzz_key_0123456789abcdef"
#define FUZZ_STRIPE_KEY	"sk_test_fuzz0123456789abcdef"
#define FUZZ_WHSEC	"whsec_fuzz0123456789abcdefABCDEF"

extern struct app	 fuzz_app;
extern int64_t		 fuzz_now;	/* every request's time */
extern char		 fuzz_bearer[];	/* "Bearer <valid session>" */

/* Set everything up, once; aborts if it cannot. */
void	 fuzz_app_init(void);

/* Put the database back as fuzz_app_init() left it. */
void	 fuzz_app_reset(void);

/* The whole input of this run: fuzz_check_resp() and the stand-in do not
 * count a secret the input carried itself as a leak. */
void	 fuzz_input(const void *p, size_t len);

/* The answers the next outbound calls get (borrowed until the next
 * call of this function). */
void	 fuzz_answers(const char *p, size_t len);

/* Outbound calls made since fuzz_answers(); have the answers run out? */
extern int	 fuzz_calls;
extern int	 fuzz_exhausted;

/*
 * What every answer of ours must be, whatever came in: a status from 200
 * to 599 other than 500 (a handler that gives up), a body, JSON unless it
 * is a download, and none of the secrets the application holds (unless
 * the input carried it: fuzz_input()).  Aborts
 * otherwise.
 */
void	 fuzz_check_resp(const struct resp *r);

/* A NUL-terminated copy of p[0..len) (aborts on out of memory). */
char	*fuzz_strndup(const void *p, size_t len);

#endif
