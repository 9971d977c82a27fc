/*
 * mint-token.c: a test helper (installed nowhere) that forges launch
 * tokens for the shell tests, using the same configuration and code as
 * the real binaries:
 *
 *   mint-token --config FILE --install ID --instance ID
 *       [--generation N] [--expires UNIX | --ttl SECONDS]
 *
 * Prints the token and a newline and exits 0; on any error prints a
 * message to standard error and exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "crypto.h"

static void
usage(void)
{

	fprintf(stderr, "usage: mint-token --config FILE --install ID "
	    "--instance ID [--generation N] "
	    "[--expires UNIX | --ttl SECONDS]\n");
}

/*
 * Parse s as a whole decimal int64 (sign allowed).  Returns 1 and sets
 * *v on success, 0 on junk, emptiness or overflow.
 */
static int
parse_int64(const char *s, int64_t *v)
{
	char		*ep;
	long long	 ll;

	if (*s == '\0')
		return 0;
	errno = 0;
	ll = strtoll(s, &ep, 10);
	if (errno != 0 || *ep != '\0')
		return 0;
	*v = (int64_t)ll;
	return 1;
}

/* Copy an id into dst (TOKEN_IDMAX + 1 bytes); 0 if it does not fit. */
static int
copy_id(char *dst, const char *src)
{

	if (strlen(src) > TOKEN_IDMAX)
		return 0;
	memcpy(dst, src, strlen(src) + 1);
	return 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "install", required_argument, NULL, 'i' },
		{ "instance", required_argument, NULL, 'n' },
		{ "generation", required_argument, NULL, 'g' },
		{ "expires", required_argument, NULL, 'e' },
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf	 cf;
	struct token	 t;
	const char	*path = NULL, *install = NULL, *instance = NULL;
	char		 err[512];
	char		*tok;
	int64_t		 ttl = 600, expires = 0, now;
	int		 c, have_expires = 0, have_ttl = 0;

	memset(&t, 0, sizeof(t));
	t.generation = 1;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'i':
			install = optarg;
			break;
		case 'n':
			instance = optarg;
			break;
		case 'g':
			if (!parse_int64(optarg, &t.generation)) {
				fprintf(stderr, "mint-token: bad --generation\n");
				return 1;
			}
			break;
		case 'e':
			if (!parse_int64(optarg, &expires)) {
				fprintf(stderr, "mint-token: bad --expires\n");
				return 1;
			}
			have_expires = 1;
			break;
		case 't':
			if (!parse_int64(optarg, &ttl)) {
				fprintf(stderr, "mint-token: bad --ttl\n");
				return 1;
			}
			have_ttl = 1;
			break;
		default:
			usage();
			return 1;
		}
	}
	if (optind != argc || path == NULL || install == NULL ||
	    instance == NULL) {
		usage();
		return 1;
	}
	if (have_expires && have_ttl) {
		fprintf(stderr, "mint-token: --expires and --ttl "
		    "are exclusive\n");
		return 1;
	}
	if (!copy_id(t.install_id, install) ||
	    !copy_id(t.instance_id, instance)) {
		fprintf(stderr, "mint-token: id longer than %d\n",
		    TOKEN_IDMAX);
		return 1;
	}

	if (have_expires)
		t.expires = expires;
	else {
		now = (int64_t)time(NULL);
		if ((ttl > 0 && now > INT64_MAX - ttl) ||
		    (ttl < 0 && now < INT64_MIN - ttl)) {
			fprintf(stderr, "mint-token: --ttl out of range\n");
			return 1;
		}
		t.expires = now + ttl;
	}

	memset(&cf, 0, sizeof(cf));
	err[0] = '\0';
	if (!conf_load(&cf, path, 1, err, sizeof(err))) {
		fprintf(stderr, "mint-token: %s\n", err);
		return 1;
	}
	if ((tok = token_mint(&cf, &t)) == NULL) {
		fprintf(stderr, "mint-token: cannot mint token "
		    "(bad id, generation or expiry?)\n");
		conf_free(&cf);
		return 1;
	}
	conf_free(&cf);
	if (printf("%s\n", tok) < 0 || fflush(stdout) != 0) {
		free(tok);
		return 1;
	}
	free(tok);
	return 0;
}
