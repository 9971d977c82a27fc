/*
 * valid.h: turning an untrusted request body into typed, checked values.
 *
 * Every input field is declared in a table (struct field) with the type that
 * says which characters, lengths and JSON types it accepts.  valid_body()
 * checks the raw bytes (size, NUL, UTF-8), parses the JSON strictly, and
 * valid_fields() fills a parallel array of values.  Handlers read only those
 * values; a missing or bad value is a 400 that names the field.
 */
#ifndef VALID_H
#define VALID_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define BODY_MAX	(64 * 1024)	/* largest request body we read */
#define ID_MAX		128		/* ids from Cloud */
#define SCOPES_MAX	32		/* entries in granted_permissions */

enum ftype {
	FT_ID,		/* 1..128 of [A-Za-z0-9_.:-] */
	FT_IDEMKEY,	/* 1..256 of [A-Za-z0-9_.:-] */
	FT_APIKEY,	/* 8..512 printable ASCII, no space */
	FT_PREFIX,	/* 1..64 of [A-Za-z0-9_.-] */
	FT_TIME,	/* RFC 3339 timestamp */
	FT_WORD,	/* 1..64 of [A-Za-z0-9_.:-], e.g. an event type */
	FT_REF,		/* 1..256 of [A-Za-z0-9_.:-]: a Blnk id or reference */
	FT_PARTY,	/* an FT_REF, or '@' then an FT_REF (an indicator) */
	FT_CURRENCY,	/* 1..16 of [A-Z0-9_] */
	FT_TEXT,	/* 1..1000 bytes of UTF-8 without control characters */
	FT_TITLE,	/* the same, 1..200 bytes */
	FT_INT,		/* a JSON integer (int64) */
	FT_BOOL,	/* a JSON true or false */
	FT_SCOPES,	/* array of 0..32 scope words [a-z0-9_.:-] */
	FT__MAX
};

struct field {
	const char	*name;
	enum ftype	 type;
	int		 required;
};

/* One validated value.  For FT_SCOPES, "scopes" is the array (borrowed
 * from the parsed object, which the caller keeps alive). */
struct fieldval {
	int			 present;
	const char		*s;
	size_t			 len;
	int64_t			 i;		/* FT_INT */
	int			 b;		/* FT_BOOL */
	struct json_object	*scopes;
};

/* What was wrong and with which field; the message never holds a value. */
struct verr {
	const char	*code;		/* e.g. "INVALID_FIELD" */
	const char	*field;		/* e.g. "installed_app_id", "body" */
	char		 fieldbuf[65];	/* field, when it names a body's own
					   member (DUPLICATE_NAME) */
	char		 message[160];
	int		 status;	/* 400, 413 or 415 */
};

/*
 * Check a request body: content type application/json (parameters
 * allowed), size, no NUL bytes (raw or as \u0000), valid UTF-8, one
 * strict JSON object (no single quotes, no raw control characters in
 * strings, no NaN or Infinity) and nothing after it, in which no object,
 * at any depth, names a member twice (I-JSON, RFC 7493: 400
 * DUPLICATE_NAME naming it, since json-c would keep the last silently and
 * two readers of the body could disagree).  Returns the parsed object
 * (caller json_object_put()s) or NULL with *e filled.  "too_large" is set by the caller when the body
 * was longer than BODY_MAX and therefore not read.
 */
struct json_object *valid_body(const char *content_type, const char *body,
		    size_t len, int too_large, struct verr *e);

/*
 * Check every field of tab[0..n) in obj into val[0..n).  Fields not in the
 * table are ignored.  A JSON null counts as absent.  Returns 1, or 0 with
 * *e naming the first bad field.
 */
int		 valid_fields(struct json_object *obj, const struct field *tab,
		    size_t n, struct fieldval *val, struct verr *e);

/* Does obj name only members of tab[0..n)?  1, or 0 with *e: 400
 * UNKNOWN_FIELD naming the first other one (a misspelt optional field
 * would otherwise be ignored without a word). */
int		 valid_known_fields(struct json_object *obj,
		    const struct field *tab, size_t n, struct verr *e);

/* Wipe the value of field "name" of obj, if it is a string: json-c frees
 * its strings unwiped, and a secret (an api_key) must not outlive its use
 * in the heap. */
void		 valid_wipe_string(struct json_object *obj, const char *name);

/* Is s[0..len) a well-formed value of type t (FT_SCOPES: one scope)? */
int		 valid_string(enum ftype t, const char *s, size_t len);

/* The scopes Cloud documents; others are stored but never honoured. */
int		 valid_known_scope(const char *s);

#endif
