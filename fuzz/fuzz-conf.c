/*
 * fuzz-conf.c: conf_load on an arbitrary configuration file.  Whatever
 * the file, conf_load either fails with a one-line message or succeeds
 * with a configuration that passed every check, and frees everything.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[64];
	struct conf	 cf;
	char		 err[512];
	FILE		*f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz-conf.%d", (int)getpid());
	if ((f = fopen(path, "wb")) == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (conf_load(&cf, path, 1, err, sizeof(err))) {
		if (cf.nkeys < 1 || cf.session_ttl < 300 ||
		    cf.session_ttl > 900 || cf.callback_secret == NULL)
			abort();
		conf_free(&cf);
	} else if (strchr(err, '\n') != NULL)
		abort();
	unlink(path);
	return 0;
}
