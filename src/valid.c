/*
 * valid.c: checking untrusted request bodies.  See valid.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "crypto.h"
#include "util.h"
#include "valid.h"

/* Length and character rules per field type. */
static const struct {
	size_t		 min;
	size_t		 max;
	const char	*extra;		/* allowed besides [A-Za-z0-9] */
	int		 lower_only;	/* letters must be lower case */
	int		 printable;	/* any of 0x21..0x7e instead */
} rules[FT__MAX] = {
	[FT_ID] =	{ 1, ID_MAX, "_.:-", 0, 0 },
	[FT_IDEMKEY] =	{ 1, 256, "_.:-", 0, 0 },
	[FT_APIKEY] =	{ 8, 512, NULL, 0, 1 },
	[FT_PREFIX] =	{ 1, 64, "_.-", 0, 0 },
	[FT_TIME] =	{ 20, 64, NULL, 0, 1 },
	[FT_WORD] =	{ 1, 64, "_.:-", 0, 0 },
	[FT_REF] =	{ 1, 256, "_.:-", 0, 0 },
	[FT_PARTY] =	{ 1, 257, "_.:-", 0, 0 },
	[FT_CURRENCY] =	{ 1, 16, "_", 0, 0 },
	[FT_TEXT] =	{ 1, 1000, NULL, 0, 0 },
	[FT_TITLE] =	{ 1, 200, NULL, 0, 0 },
	[FT_SCOPES] =	{ 1, 64, "_.:-", 1, 0 },
};

static const char *const known_scopes[] = {
	"data:read", "data:write", "alerts:read", "alerts:write", NULL
};

int
valid_known_scope(const char *s)
{
	size_t	 i;

	for (i = 0; known_scopes[i] != NULL; i++)
		if (strcmp(s, known_scopes[i]) == 0)
			return 1;
	return 0;
}

int
valid_string(enum ftype t, const char *s, size_t len)
{
	size_t		 i;
	unsigned char	 c;

	if (t >= FT__MAX || t == FT_INT || t == FT_BOOL || len < rules[t].min ||
	    len > rules[t].max)
		return 0;
	if (t == FT_PARTY)
		return s[0] == '@' ? valid_string(FT_REF, s + 1, len - 1) :
		    valid_string(FT_REF, s, len);
	if (t == FT_TEXT || t == FT_TITLE) {
		/* Free text: any UTF-8 but control characters. */
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return 0;
		return util_utf8_valid(s, len);
	}
	if (t == FT_CURRENCY) {
		for (i = 0; i < len; i++)
			if (!isupper((unsigned char)s[i]) &&
			    !isdigit((unsigned char)s[i]) && s[i] != '_')
				return 0;
		return 1;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (rules[t].printable) {
			if (c < 0x21 || c > 0x7e)
				return 0;
			continue;
		}
		if (isdigit(c) || islower(c))
			continue;
		if (isupper(c) && !rules[t].lower_only)
			continue;
		if (c != '\0' && strchr(rules[t].extra, c) != NULL)
			continue;
		return 0;
	}
	if (t == FT_TIME) {
		/* util_is_rfc3339 wants a string: s[0..len) may not be one. */
		char	 buf[64 + 1];

		memcpy(buf, s, len);
		buf[len] = '\0';
		return util_is_rfc3339(buf);
	}
	return 1;
}

static int
fail(struct verr *e, int status, const char *code, const char *field,
    const char *msg)
{
	e->status = status;
	e->code = code;
	e->field = field;
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return 0;
}

/*
 * Is the media type application/json, ignoring case, surrounding
 * blanks and any parameters (";charset=utf-8")?
 */
static int
is_json_type(const char *ct)
{
	size_t	 n = sizeof("application/json") - 1;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * What json-c's strict mode (0.16) lets through and JSON does not, checked
 * on the raw text: a single-quoted string, a raw control character inside
 * a string, and "\u0000", which json-c would turn into a NUL that cuts an
 * object key short ("installed_app_id\u0000x" would count as
 * "installed_app_id").  Returns 0 if any of them occurs.
 */
static int
raw_json_ok(const char *s, size_t len)
{
	size_t	 i;
	int	 in = 0;

	for (i = 0; i < len; i++) {
		if (!in) {
			if (s[i] == '"')
				in = 1;
			else if (s[i] == '\'')
				return 0;
			continue;
		}
		if ((unsigned char)s[i] < 0x20)
			return 0;
		if (s[i] == '"')
			in = 0;
		else if (s[i] == '\\' && i + 1 < len) {
			if (len - i >= 6 && strncmp(s + i + 1, "u0000", 5) == 0)
				return 0;
			i++;
		}
	}
	return 1;
}

/*
 * Free the tokener after wiping its string buffer, which still holds the
 * last string it parsed (an api_key, say).  json-c declares the fields of
 * struct json_tokener private but public; pb is there in every release
 * since 0.10, and json_tokener_free() would free it unwiped.
 */
static void
tokener_free(struct json_tokener *tok)
{
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		crypto_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
}

/*
 * json-c also parses NaN and Infinity as numbers.  Returns 0 if any number
 * in the tree is not finite (the depth is bounded by the tokener).
 */
static int
finite_numbers(struct json_object *o)
{
	struct json_object_iterator	 it, end;
	size_t				 i, n;

	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (!finite_numbers(json_object_array_get_idx(o, i)))
				return 0;
		return 1;
	case json_type_object:
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			if (!finite_numbers(json_object_iter_peek_value(&it)))
				return 0;
		return 1;
	default:
		return 1;
	}
}

#define NAMES_DEPTH	64	/* deeper than the tokener lets a body go */

/* One member name of the object being scanned: its raw text, quotes
 * excluded, and its decoded form once the object closes. */
struct name {
	const char	*raw;
	size_t		 rawlen;
	char		*dec;
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name *)a)->dec,
	    ((const struct name *)b)->dec);
}

/*
 * Decode the JSON string whose text (without quotes) is raw[0..len) with
 * json-c, which already accepted it.  Returns an allocated string or NULL.
 * Without a backslash the text is the string itself (json-c accepted no
 * control byte in it): the common case needs no second parse, which for
 * json-c means a locale made and freed.
 */
static char *
name_decode(const char *raw, size_t len)
{
	struct json_object	*o;
	char			*text, *dec = NULL;

	if (memchr(raw, '\\', len) == NULL)
		return strndup(raw, len);
	if ((text = malloc(len + 3)) == NULL)
		return NULL;
	text[0] = '"';
	memcpy(text + 1, raw, len);
	text[len + 1] = '"';
	text[len + 2] = '\0';
	if ((o = json_tokener_parse(text)) != NULL &&
	    json_object_is_type(o, json_type_string))
		dec = strdup(json_object_get_string(o));
	json_object_put(o);
	free(text);
	return dec;
}

/*
 * Check the names of one object, names[0..n): decode them, sort, and look
 * for two alike.  Returns 1 if all differ; 0 with the repeated name (or
 * "" if it is not a plain word) in dup[DUPMAX]; -1 out of memory.
 */
#define DUPMAX	65
static int
names_unique(struct name *names, size_t n, char dup[DUPMAX])
{
	size_t	 i;
	int	 ok = 1;

	dup[0] = '\0';
	if (n < 2)
		return 1;
	for (i = 0; i < n; i++)
		if ((names[i].dec = name_decode(names[i].raw,
		    names[i].rawlen)) == NULL)
			ok = -1;
	if (ok == 1) {
		qsort(names, n, sizeof(*names), name_cmp);
		for (i = 1; i < n && ok; i++)
			if (strcmp(names[i - 1].dec, names[i].dec) == 0) {
				ok = 0;
				if (valid_string(FT_WORD, names[i].dec,
				    strlen(names[i].dec)))
					snprintf(dup, DUPMAX, "%s",
					    names[i].dec);
			}
	}
	for (i = 0; i < n; i++) {
		free(names[i].dec);
		names[i].dec = NULL;
	}
	return ok;
}

/*
 * I-JSON (RFC 7493) forbids an object with two members of one name, and
 * json-c keeps the last one silently, so two readers of a body could
 * disagree on what it says.  Walk the text json-c accepted as strict JSON
 * (so its structure is sound), collect the names of each object, and
 * compare them, decoded, when the object closes.  Returns 1 if no object
 * repeats a name, 0 with the name in dup (see names_unique()), -1 out of
 * memory or nested deeper than NAMES_DEPTH (the tokener stops far
 * earlier).
 */
static int
unique_names(const char *s, size_t len, char dup[DUPMAX])
{
	struct name	*names = NULL, *p;
	size_t		 first[NAMES_DEPTH], n = 0, cap = 0, i, j, start = 0;
	int		 depth = 0, isobj[NAMES_DEPTH], ok = 1;

	dup[0] = '\0';
	for (i = 0; i < len && ok == 1; i++) {
		switch (s[i]) {
		case '"':
			start = ++i;
			for (; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			/* A string followed by ':' is a member name. */
			for (j = i + 1; j < len && strchr(" \t\r\n", s[j]) !=
			    NULL && s[j] != '\0'; j++)
				continue;
			if (j >= len || s[j] != ':' || depth == 0 ||
			    !isobj[depth - 1])
				break;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				if ((p = reallocarray(names, cap,
				    sizeof(*names))) == NULL) {
					ok = -1;
					break;
				}
				names = p;
			}
			names[n].raw = s + start;
			names[n].rawlen = i - start;
			names[n].dec = NULL;
			n++;
			break;
		case '{':
		case '[':
			if (depth == NAMES_DEPTH) {
				ok = -1;
				break;
			}
			isobj[depth] = s[i] == '{';
			first[depth++] = n;
			break;
		case '}':
		case ']':
			if (depth == 0) {
				ok = -1;
				break;
			}
			depth--;
			/* (With fewer than two names there is nothing to
			 * compare, and names may still be NULL.) */
			if (isobj[depth] && n - first[depth] >= 2)
				ok = names_unique(names + first[depth],
				    n - first[depth], dup);
			n = first[depth];
			break;
		default:
			break;
		}
	}
	free(names);
	return ok;
}

struct json_object *
valid_body(const char *content_type, const char *body, size_t len,
    int too_large, struct verr *e)
{
	struct json_tokener	*tok;
	struct json_object	*obj;
	size_t			 end;
	char			 dup[DUPMAX];

	if (too_large) {
		fail(e, 413, "BODY_TOO_LARGE", "body",
		    "request body is larger than 64 KiB");
		return NULL;
	}
	if (!is_json_type(content_type)) {
		fail(e, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
		    "Content-Type must be application/json");
		return NULL;
	}
	if (len == 0) {
		fail(e, 400, "INVALID_JSON", "body", "request body is empty");
		return NULL;
	}
	if (memchr(body, '\0', len) != NULL) {
		fail(e, 400, "INVALID_BODY", "body",
		    "request body contains a NUL byte");
		return NULL;
	}
	if (!util_utf8_valid(body, len)) {
		fail(e, 400, "INVALID_UTF8", "body",
		    "request body is not valid UTF-8");
		return NULL;
	}

	if (!raw_json_ok(body, len)) {
		fail(e, 400, "INVALID_JSON", "body",
		    "request body is not valid JSON");
		return NULL;
	}
	if ((tok = json_tokener_new_ex(16)) == NULL) {
		fail(e, 500, "INTERNAL", "body", "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		tokener_free(tok);
		fail(e, 400, "INVALID_JSON", "body",
		    "request body is not valid JSON");
		return NULL;
	}
	tokener_free(tok);

	/* Only blanks may follow the value. */
	for (; end < len; end++)
		if (strchr(" \t\r\n", body[end]) == NULL) {
			json_object_put(obj);
			fail(e, 400, "INVALID_JSON", "body",
			    "request body has data after the JSON value");
			return NULL;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		fail(e, 400, "INVALID_JSON", "body",
		    "request body must be a JSON object");
		return NULL;
	}
	if (!finite_numbers(obj)) {
		json_object_put(obj);
		fail(e, 400, "INVALID_JSON", "body",
		    "request body is not valid JSON (NaN or Infinity)");
		return NULL;
	}
	switch (unique_names(body, len, dup)) {
	case 1:
		break;
	case 0:
		json_object_put(obj);
		snprintf(e->fieldbuf, sizeof(e->fieldbuf), "%s",
		    dup[0] != '\0' ? dup : "body");
		fail(e, 400, "DUPLICATE_NAME", e->fieldbuf,
		    "an object in the body names the same member twice");
		return NULL;
	default:
		json_object_put(obj);
		fail(e, 500, "INTERNAL", "body", "out of memory");
		return NULL;
	}
	return obj;
}

/* Check one scopes array; 1 if good, else 0 with *e filled. */
static int
check_scopes(struct json_object *arr, const char *name, struct verr *e)
{
	struct json_object	*it;
	size_t			 i, n;

	if (!json_object_is_type(arr, json_type_array))
		return fail(e, 400, "INVALID_FIELD", name,
		    "must be an array of permission strings");
	if ((n = json_object_array_length(arr)) > SCOPES_MAX)
		return fail(e, 400, "INVALID_FIELD", name,
		    "has too many entries");
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(it, json_type_string) ||
		    !valid_string(FT_SCOPES, json_object_get_string(it),
		    (size_t)json_object_get_string_len(it)) ||
		    strlen(json_object_get_string(it)) !=
		    (size_t)json_object_get_string_len(it))
			return fail(e, 400, "INVALID_FIELD", name,
			    "entries must be permission names such as "
			    "data:read");
	}
	return 1;
}

int
valid_fields(struct json_object *obj, const struct field *tab, size_t n,
    struct fieldval *val, struct verr *e)
{
	struct json_object	*v;
	const char		*s;
	size_t			 i, len;
	char			 msg[128];

	memset(val, 0, n * sizeof(*val));
	for (i = 0; i < n; i++) {
		if (!json_object_object_get_ex(obj, tab[i].name, &v) ||
		    v == NULL) {
			if (tab[i].required)
				return fail(e, 400, "MISSING_FIELD",
				    tab[i].name, "is required");
			continue;
		}
		if (tab[i].type == FT_SCOPES) {
			if (!check_scopes(v, tab[i].name, e))
				return 0;
			val[i].present = 1;
			val[i].scopes = v;
			continue;
		}
		if (tab[i].type == FT_INT) {
			/* An integer, never a float or a numeric string:
			 * money is exact or it is refused. */
			if (!json_object_is_type(v, json_type_int))
				return fail(e, 400, "INVALID_FIELD",
				    tab[i].name, "must be a whole number");
			/* json-c clamps what does not fit an int64 to its
			 * ends when it parses: those are refused. */
			val[i].i = json_object_get_int64(v);
			if (val[i].i == INT64_MAX || val[i].i == INT64_MIN)
				return fail(e, 400, "INVALID_FIELD",
				    tab[i].name, "is out of range");
			val[i].present = 1;
			continue;
		}
		if (tab[i].type == FT_BOOL) {
			if (!json_object_is_type(v, json_type_boolean))
				return fail(e, 400, "INVALID_FIELD",
				    tab[i].name, "must be true or false");
			val[i].b = json_object_get_boolean(v);
			val[i].present = 1;
			continue;
		}
		if (!json_object_is_type(v, json_type_string))
			return fail(e, 400, "INVALID_FIELD", tab[i].name,
			    "must be a string");
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (strlen(s) != len)
			return fail(e, 400, "INVALID_FIELD", tab[i].name,
			    "contains a NUL character");
		if (!valid_string(tab[i].type, s, len)) {
			snprintf(msg, sizeof(msg), "%s",
			    tab[i].type == FT_TIME ?
			    "must be an RFC 3339 timestamp" :
			    "has a bad length or characters that are not "
			    "allowed");
			return fail(e, 400, "INVALID_FIELD", tab[i].name, msg);
		}
		val[i].present = 1;
		val[i].s = s;
		val[i].len = len;
	}
	return 1;
}

void
valid_wipe_string(struct json_object *obj, const char *name)
{
	struct json_object	*v;
	int			 len;

	if (obj == NULL || !json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	/* json-c hands out its own storage as const; it is heap memory the
	 * object owns, and about to be freed. */
	if ((len = json_object_get_string_len(v)) > 0)
		crypto_wipe((char *)json_object_get_string(v), (size_t)len);
}

int
valid_known_fields(struct json_object *obj, const struct field *tab,
    size_t n, struct verr *e)
{
	struct json_object_iterator	 it, end;
	const char			*k;
	size_t				 i;

	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		for (i = 0; i < n; i++)
			if (strcmp(k, tab[i].name) == 0)
				break;
		if (i == n) {
			/* Named only when it is a plain word: a name cut
			 * short could end inside a UTF-8 sequence (an
			 * answer that is not UTF-8), and what a client
			 * wrote is not echoed back. */
			e->status = 400;
			e->code = "UNKNOWN_FIELD";
			snprintf(e->fieldbuf, sizeof(e->fieldbuf), "%s",
			    valid_string(FT_WORD, k, strlen(k)) ? k : "body");
			e->field = e->fieldbuf;
			snprintf(e->message, sizeof(e->message), "is not a field "
			    "of this request");
			return 0;
		}
	}
	return 1;
}
