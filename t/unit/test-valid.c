/*
 * test-valid.c: the request body and field checks, table-driven.  Each row
 * is named after the hostile or broken input it stands for.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "valid.h"

static const struct {
	const char	*name;
	enum ftype	 type;
	const char	*s;
	int		 ok;
} strings[] = {
	{ "plain id", FT_ID, "instapp_01HZX", 1 },
	{ "id with dot colon dash", FT_ID, "a.b:c-d_e", 1 },
	{ "empty id", FT_ID, "", 0 },
	{ "id with space", FT_ID, "inst 1", 0 },
	{ "id with slash (path games)", FT_ID, "../etc", 0 },
	{ "id with pipe (token separator)", FT_ID, "a|b", 0 },
	{ "id with quote (log injection)", FT_ID, "a\"b", 0 },
	{ "id with newline (log injection)", FT_ID, "a\nb", 0 },
	{ "id with utf-8", FT_ID, "inst\xc3\xa9", 0 },
	{ "id at 128", FT_ID, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1 },
	{ "id at 129", FT_ID, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0 },
	{ "api key", FT_APIKEY, "blnk_AbC/+=.~!", 1 },
	{ "api key too short", FT_APIKEY, "blnk_12", 0 },
	{ "api key with space", FT_APIKEY, "blnk_abc def", 0 },
	{ "api key with tab", FT_APIKEY, "blnk_abc\tdef", 0 },
	{ "api key with DEL", FT_APIKEY, "blnk_abc\x7f" "def", 0 },
	{ "prefix", FT_PREFIX, "blnk_abc", 1 },
	{ "prefix with colon", FT_PREFIX, "blnk:abc", 0 },
	{ "idempotency key", FT_IDEMKEY, "install:instapp_1", 1 },
	{ "idempotency key with space", FT_IDEMKEY, "install: x", 0 },
	{ "timestamp", FT_TIME, "2026-04-21T12:00:00Z", 1 },
	{ "timestamp with offset", FT_TIME, "2026-04-21T12:00:00+02:00", 1 },
	{ "timestamp as words", FT_TIME, "yesterday at noon", 0 },
	{ "timestamp 30 February", FT_TIME, "2026-02-30T12:00:00Z", 0 },
	{ "scope", FT_SCOPES, "data:read", 1 },
	{ "scope upper case", FT_SCOPES, "DATA:READ", 0 },
	{ "scope with space", FT_SCOPES, "data read", 0 },
};

static const struct {
	const char	*name;
	const char	*ctype;
	const char	*body;
	size_t		 len;		/* 0: strlen(body) */
	int		 too_large;
	int		 status;	/* 0: accepted */
	const char	*code;
	const char	*field;
} bodies[] = {
	{ "good object", "application/json", "{\"a\":1}", 0, 0, 0, NULL, NULL },
	{ "charset parameter", "application/json; charset=utf-8", "{}", 0, 0, 0, NULL, NULL },
	{ "upper-case type", "Application/JSON", "{}", 0, 0, 0, NULL, NULL },
	{ "trailing newline", "application/json", "{}\r\n", 0, 0, 0, NULL, NULL },
	{ "too large", "application/json", "{}", 0, 1, 413, "BODY_TOO_LARGE", "body" },
	{ "no content type", NULL, "{}", 0, 0, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type" },
	{ "form content type", "application/x-www-form-urlencoded", "{}", 0, 0, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type" },
	{ "json-ish type", "application/jsonp", "{}", 0, 0, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type" },
	{ "empty body", "application/json", "", 0, 0, 400, "INVALID_JSON", "body" },
	{ "raw NUL", "application/json", "{\"a\":\0\"b\"}", 10, 0, 400, "INVALID_BODY", "body" },
	{ "invalid UTF-8", "application/json", "{\"a\":\"\xff\"}", 0, 0, 400, "INVALID_UTF8", "body" },
	{ "overlong UTF-8", "application/json", "{\"a\":\"\xc0\xaf\"}", 0, 0, 400, "INVALID_UTF8", "body" },
	{ "UTF-16 surrogate in UTF-8", "application/json", "{\"a\":\"\xed\xa0\x80\"}", 0, 0, 400, "INVALID_UTF8", "body" },
	{ "not JSON", "application/json", "a=b", 0, 0, 400, "INVALID_JSON", "body" },
	{ "truncated", "application/json", "{\"a\":", 0, 0, 400, "INVALID_JSON", "body" },
	{ "two objects", "application/json", "{}{}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "array", "application/json", "[]", 0, 0, 400, "INVALID_JSON", "body" },
	{ "bare string", "application/json", "\"x\"", 0, 0, 400, "INVALID_JSON", "body" },
	{ "single quotes (strict)", "application/json", "{'a':1}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "trailing comma (strict)", "application/json", "{\"a\":1,}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "escaped NUL cutting a key short", "application/json", "{\"installed_app_id\\u0000zz\":\"b\"}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "escaped NUL in a value", "application/json", "{\"a\":\"x\\u0000\"}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "escaped backslash then u0000 is text", "application/json", "{\"a\":\"x\\\\u0000\"}", 0, 0, 0, NULL, NULL },
	{ "repeated name at the top", "application/json", "{\"installed_app_id\":\"a\",\"x\":1,\"installed_app_id\":\"b\"}", 0, 0, 400, "DUPLICATE_NAME", "installed_app_id" },
	{ "repeated name, same value", "application/json", "{\"api_key\":\"k\",\"api_key\":\"k\"}", 0, 0, 400, "DUPLICATE_NAME", "api_key" },
	{ "repeated name spelt with an escape", "application/json", "{\"instance_id\":\"a\",\"instance\\u005fid\":\"b\"}", 0, 0, 400, "DUPLICATE_NAME", "instance_id" },
	{ "repeated name one level down", "application/json", "{\"a\":{\"b\":1,\"b\":2}}", 0, 0, 400, "DUPLICATE_NAME", "b" },
	{ "repeated name in an object in an array", "application/json", "{\"a\":[1,{\"c\":1,\"d\":[],\"c\":{}}]}", 0, 0, 400, "DUPLICATE_NAME", "c" },
	{ "repeated name deep down", "application/json", "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":1,\"f\":1}}}}}}", 0, 0, 400, "DUPLICATE_NAME", "f" },
	{ "repeated odd name is named as body", "application/json", "{\"a b\":1,\"a b\":2}", 0, 0, 400, "DUPLICATE_NAME", "body" },
	{ "repeated empty name", "application/json", "{\"\":1,\"\":2}", 0, 0, 400, "DUPLICATE_NAME", "body" },
	{ "same name in sibling objects is fine", "application/json", "{\"a\":{\"x\":1},\"b\":{\"x\":2},\"c\":[{\"x\":3},{\"x\":4}]}", 0, 0, 0, NULL, NULL },
	{ "same name at two depths is fine", "application/json", "{\"x\":{\"x\":{\"x\":1}}}", 0, 0, 0, NULL, NULL },
	{ "a name as a string value is not a name", "application/json", "{\"a\":\"a\",\"b\":[\"a\",\"b\"]}", 0, 0, 0, NULL, NULL },
	{ "names differing only by an escaped quote", "application/json", "{\"a\\\"\":1,\"a\":2}", 0, 0, 0, NULL, NULL },
	{ "colon inside a string is not a name", "application/json", "{\"a\":\"b:\",\"c\":\"d\\\":\"}", 0, 0, 0, NULL, NULL },
	{ "raw tab inside a string", "application/json", "{\"a\":\"x\ty\"}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "raw newline inside a string", "application/json", "{\"a\":\"x\ny\"}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "NaN", "application/json", "{\"a\":NaN}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "Infinity", "application/json", "{\"a\":[1,{\"b\":-Infinity}]}", 0, 0, 400, "INVALID_JSON", "body" },
	{ "too deep", "application/json", "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", 0, 0, 400, "INVALID_JSON", "body" },
};

static const struct field tab[] = {
	{ "id", FT_ID, 1 },
	{ "key", FT_APIKEY, 1 },
	{ "scopes", FT_SCOPES, 1 },
	{ "org", FT_ID, 0 },
};

static const struct {
	const char	*name;
	const char	*json;
	int		 ok;
	const char	*code;
	const char	*field;
} objects[] = {
	{ "all fields", "{\"id\":\"i1\",\"key\":\"blnk_12345\",\"scopes\":[\"data:read\"]}", 1, NULL, NULL },
	{ "optional present", "{\"id\":\"i1\",\"key\":\"blnk_12345\",\"scopes\":[],\"org\":\"o\"}", 1, NULL, NULL },
	{ "unknown fields ignored", "{\"id\":\"i1\",\"key\":\"blnk_12345\",\"scopes\":[],\"zz\":{\"q\":[1]}}", 1, NULL, NULL },
	{ "missing id", "{\"key\":\"blnk_12345\",\"scopes\":[]}", 0, "MISSING_FIELD", "id" },
	{ "null id is missing", "{\"id\":null,\"key\":\"blnk_12345\",\"scopes\":[]}", 0, "MISSING_FIELD", "id" },
	{ "numeric id", "{\"id\":5,\"key\":\"blnk_12345\",\"scopes\":[]}", 0, "INVALID_FIELD", "id" },
	{ "object id", "{\"id\":{},\"key\":\"blnk_12345\",\"scopes\":[]}", 0, "INVALID_FIELD", "id" },
	{ "escaped NUL in id", "{\"id\":\"a\\u0000b\",\"key\":\"blnk_12345\",\"scopes\":[]}", 0, "INVALID_FIELD", "id" },
	{ "bad optional", "{\"id\":\"i\",\"key\":\"blnk_12345\",\"scopes\":[],\"org\":\"o o\"}", 0, "INVALID_FIELD", "org" },
	{ "scopes a string", "{\"id\":\"i\",\"key\":\"blnk_12345\",\"scopes\":\"data:read\"}", 0, "INVALID_FIELD", "scopes" },
	{ "scope a number", "{\"id\":\"i\",\"key\":\"blnk_12345\",\"scopes\":[1]}", 0, "INVALID_FIELD", "scopes" },
	{ "scope with NUL", "{\"id\":\"i\",\"key\":\"blnk_12345\",\"scopes\":[\"data\\u0000:read\"]}", 0, "INVALID_FIELD", "scopes" },
	{ "33 scopes", "{\"id\":\"i\",\"key\":\"blnk_12345\",\"scopes\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}", 0, "INVALID_FIELD", "scopes" },
};

int
main(void)
{
	struct json_object	*o;
	struct fieldval		 v[4];
	struct verr		 e;
	size_t			 i, len;
	char			*big;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		is_int(valid_string(strings[i].type, strings[i].s,
		    strlen(strings[i].s)), strings[i].ok, "string: %s",
		    strings[i].name);

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		memset(&e, 0, sizeof(e));
		len = bodies[i].len ? bodies[i].len : strlen(bodies[i].body);
		o = valid_body(bodies[i].ctype, bodies[i].body, len,
		    bodies[i].too_large, &e);
		if (bodies[i].status == 0) {
			ok(o != NULL, "body accepted: %s", bodies[i].name);
		} else {
			ok(o == NULL && e.status == bodies[i].status &&
			    strcmp(e.code, bodies[i].code) == 0 &&
			    strcmp(e.field, bodies[i].field) == 0,
			    "body refused %d %s: %s", bodies[i].status,
			    bodies[i].code, bodies[i].name);
		}
		json_object_put(o);
	}

	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		memset(&e, 0, sizeof(e));
		o = json_tokener_parse(objects[i].json);
		ok(o != NULL, "fixture parses: %s", objects[i].name);
		if (objects[i].ok)
			ok(valid_fields(o, tab, 4, v, &e) == 1 &&
			    v[0].present && v[1].present && v[2].present,
			    "fields accepted: %s", objects[i].name);
		else
			ok(valid_fields(o, tab, 4, v, &e) == 0 &&
			    strcmp(e.code, objects[i].code) == 0 &&
			    strcmp(e.field, objects[i].field) == 0 &&
			    e.status == 400,
			    "fields refused %s %s: %s", objects[i].code,
			    objects[i].field, objects[i].name);
		json_object_put(o);
	}

	/* The value of a rejected field never shows in the message. */
	o = json_tokener_parse("{\"id\":\"i\",\"key\":\"blnk_se cret\","
	    "\"scopes\":[]}");
	ok(valid_fields(o, tab, 4, v, &e) == 0 &&
	    strstr(e.message, "se cret") == NULL &&
	    strcmp(e.field, "key") == 0, "error message holds no value");
	json_object_put(o);

	/* Integers: exact JSON integers only; what json-c would clamp to
	 * an int64's ends is out of range. */
	{
		static const struct field itab[] = { { "n", FT_INT, 1 },
		    { "b", FT_BOOL, 0 } };
		static const struct {
			const char	*body;
			int		 ok;
			long long	 want;
		} ints[] = {
			{ "{\"n\":5}", 1, 5 },
			{ "{\"n\":-7,\"b\":true}", 1, -7 },
			{ "{\"n\":9223372036854775806}", 1, 9223372036854775806LL },
			{ "{\"n\":9223372036854775807}", 0, 0 },
			{ "{\"n\":99999999999999999999}", 0, 0 },
			{ "{\"n\":-99999999999999999999}", 0, 0 },
			{ "{\"n\":5.0}", 0, 0 },
			{ "{\"n\":\"5\"}", 0, 0 },
			{ "{\"n\":5,\"b\":1}", 0, 0 },
		};
		struct fieldval	 iv[2];
		size_t		 k;

		for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
			o = valid_body("application/json", ints[k].body,
			    strlen(ints[k].body), 0, &e);
			ok(o != NULL && valid_fields(o, itab, 2, iv, &e) ==
			    ints[k].ok && (!ints[k].ok || iv[0].i ==
			    ints[k].want), "FT_INT %s", ints[k].body);
			json_object_put(o);
		}
	}

	/* A big but legal body parses. */
	len = BODY_MAX;
	big = malloc(len + 1);
	memset(big, ' ', len);
	memcpy(big, "{\"a\":\"", 6);
	memset(big + 6, 'x', len - 20);
	memcpy(big + len - 14, "\"}", 2);
	big[len] = '\0';
	o = valid_body("application/json", big, len, 0, &e);
	ok(o != NULL, "a 64 KiB body parses");
	json_object_put(o);
	free(big);

	/* A timestamp is judged on its len bytes, not up to a NUL after. */
	ok(valid_string(FT_TIME, "2026-04-21T12:00:00Z+garbage", 20) == 1 &&
	    valid_string(FT_TIME, "2026-04-21T12:00:00+00:00", 20) == 0,
	    "timestamps are checked on exactly len bytes");

	ok(valid_known_scope("data:read") && valid_known_scope("alerts:write")
	    && !valid_known_scope("data:admin") && !valid_known_scope(""),
	    "known scopes are exactly Cloud's four");
	return done_testing();
}
