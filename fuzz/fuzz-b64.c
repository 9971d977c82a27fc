/*
 * fuzz-b64.c: b64_decode must accept exactly the canonical encodings:
 * whatever it decodes encodes back to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*out = NULL;
	size_t		 n = 0;
	char		*s, *back;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (b64_decode(s, &out, &n)) {
		if ((back = b64_encode(out, n)) == NULL ||
		    strcmp(back, s) != 0)
			abort();
		free(back);
		free(out);
	}
	free(s);
	return 0;
}
