/*
 * fuzz-token.c: token_verify on arbitrary strings, under a fixed key; and
 * every token it accepts must re-mint to one that verifies too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "crypto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 cf;
	struct token	 t;
	char		*s, *again;

	memset(&cf, 0, sizeof(cf));
	memset(cf.token_key, 0x5a, sizeof(cf.token_key));
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (token_verify(&cf, s, 1800000000, &t) == TOKEN_OK &&
	    (again = token_mint(&cf, &t)) != NULL) {
		if (token_verify(&cf, again, 1800000000, &t) != TOKEN_OK)
			abort();
		free(again);
	}
	free(s);
	return 0;
}
