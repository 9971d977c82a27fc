/*
 * fuzz-body.c: a request body through everything valid.c does to it:
 * the raw checks, the strict JSON parse, and a field table with one field
 * of every type.  The first byte picks the content type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "valid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct field tab[] = {
	{ "installed_app_id", FT_ID, 1 },
	{ "idempotency_key", FT_IDEMKEY, 0 },
	{ "api_key", FT_APIKEY, 0 },
	{ "api_key_prefix", FT_PREFIX, 0 },
	{ "uninstalled_at", FT_TIME, 0 },
	{ "type", FT_WORD, 0 },
	{ "granted_permissions", FT_SCOPES, 0 },
};

static const char *const ctypes[] = {
	"application/json", "application/json; charset=utf-8", "text/plain",
	NULL,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*o;
	struct fieldval		 v[sizeof(tab) / sizeof(tab[0])];
	struct verr		 e;
	const char		*ct;

	if (size == 0)
		return 0;
	ct = ctypes[data[0] % 4];
	memset(&e, 0, sizeof(e));
	o = valid_body(ct, (const char *)data + 1, size - 1, 0, &e);
	if (o != NULL) {
		valid_fields(o, tab, sizeof(tab) / sizeof(tab[0]), v, &e);
		json_object_put(o);
	}
	return 0;
}
