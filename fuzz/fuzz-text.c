/*
 * fuzz-text.c: the small text checks every request byte meets: UTF-8
 * validation, RFC 3339 timestamps and log escaping (whose output must be
 * one line of printable ASCII, whatever came in).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 esc[256], *s;
	size_t	 i;

	(void)util_utf8_valid((const char *)data, size);
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)util_is_rfc3339(s);
	log_escape(esc, sizeof(esc), (const char *)data, size);
	for (i = 0; esc[i] != '\0'; i++)
		if ((unsigned char)esc[i] < 0x20 || (unsigned char)esc[i] > 0x7e)
			abort();
	free(s);
	return 0;
}
