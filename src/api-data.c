/*
 * api-data.c: the portal's browsers of ledgers, balances, transactions and
 * identities (data:read), over Cloud's Data API.
 *
 *   GET /api/v1/<resource>?page=&page_size=&<field>_<op>=<value>...
 *   GET /api/v1/<resource>/<id>
 *
 * The browser never names an upstream path or a raw filter: each filter
 * parameter must be a field Cloud documents as filterable for that
 * resource (blnk-docs cloud/proxy/data-api.mdx, "Filterable fields by
 * resource") with an operator that makes sense for its type, and its value
 * must be of that type.  Only then is it passed on, escaped, as Cloud's
 * own "<field>_<op>=<value>" parameter.  Anything else is a 400 naming the
 * parameter, and nothing is called.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cloud.h"
#include "conf.h"
#include "http.h"
#include "query.h"
#include "util.h"
#include "valid.h"

#define PAGE_MAX	100000
#define PAGE_SIZE_MAX	100
#define LIST_MAX	50	/* values in one _in filter */
#define TEXT_MAX	128

enum vtype {
	V_ID,		/* bln_..., txn_..., a reference */
	V_PARTY,	/* a balance id or an @indicator */
	V_TEXT,		/* words: names, references, patterns */
	V_CURRENCY,	/* USD, JPY, BTC ... */
	V_STATUS,	/* a transaction status */
	V_TIME,		/* RFC 3339 */
	V_NUMBER,	/* a decimal amount */
	V_INT,		/* a whole number (precision) */
};

enum op {
	OP_EQ, OP_NE, OP_GT, OP_GTE, OP_LT, OP_LTE, OP_IN, OP_BETWEEN,
	OP_LIKE, OP_ILIKE, OP__MAX
};

static const char *const op_names[OP__MAX] = {
	"eq", "ne", "gt", "gte", "lt", "lte", "in", "between", "like", "ilike"
};

#define B(o)	(1u << (o))
#define OPS_ID	(B(OP_EQ) | B(OP_NE) | B(OP_IN))
#define OPS_TXT	(B(OP_EQ) | B(OP_NE) | B(OP_IN) | B(OP_LIKE) | B(OP_ILIKE))
#define OPS_ORD	(B(OP_EQ) | B(OP_NE) | B(OP_GT) | B(OP_GTE) | B(OP_LT) | \
		 B(OP_LTE) | B(OP_BETWEEN))
#define OPS_TIM	(B(OP_GT) | B(OP_GTE) | B(OP_LT) | B(OP_LTE) | B(OP_BETWEEN))

struct ffield {
	const char	*name;
	enum vtype	 type;
	unsigned	 ops;
};

static const struct ffield ledger_fields[] = {
	{ "ledger_id", V_ID, OPS_ID },
	{ "name", V_TEXT, OPS_TXT },
	{ "created_at", V_TIME, OPS_TIM },
	{ NULL, 0, 0 }
};

static const struct ffield balance_fields[] = {
	{ "balance_id", V_ID, OPS_ID },
	{ "ledger_id", V_ID, OPS_ID },
	{ "identity_id", V_ID, OPS_ID },
	{ "indicator", V_TEXT, OPS_TXT },
	{ "currency", V_CURRENCY, OPS_ID },
	{ "balance", V_NUMBER, OPS_ORD },
	{ "credit_balance", V_NUMBER, OPS_ORD },
	{ "debit_balance", V_NUMBER, OPS_ORD },
	{ "inflight_balance", V_NUMBER, OPS_ORD },
	{ "inflight_credit_balance", V_NUMBER, OPS_ORD },
	{ "inflight_debit_balance", V_NUMBER, OPS_ORD },
	{ "created_at", V_TIME, OPS_TIM },
	{ NULL, 0, 0 }
};

static const struct ffield transaction_fields[] = {
	{ "transaction_id", V_ID, OPS_ID },
	{ "parent_transaction", V_ID, OPS_ID },
	{ "amount", V_NUMBER, OPS_ORD },
	{ "currency", V_CURRENCY, OPS_ID },
	{ "source", V_PARTY, OPS_ID },
	{ "destination", V_PARTY, OPS_ID },
	{ "balance_id", V_ID, OPS_ID },
	{ "reference", V_TEXT, OPS_TXT },
	{ "status", V_STATUS, OPS_ID },
	{ "created_at", V_TIME, OPS_TIM },
	{ "effective_date", V_TIME, OPS_TIM },
	{ "precision", V_INT, OPS_ID },
	{ NULL, 0, 0 }
};

static const struct ffield identity_fields[] = {
	{ "identity_id", V_ID, OPS_ID },
	{ "first_name", V_TEXT, OPS_TXT },
	{ "last_name", V_TEXT, OPS_TXT },
	{ "other_names", V_TEXT, OPS_TXT },
	{ "gender", V_TEXT, OPS_TXT },
	{ "dob", V_TEXT, OPS_TXT },
	{ "email_address", V_TEXT, OPS_TXT },
	{ "phone_number", V_TEXT, OPS_TXT },
	{ "nationality", V_TEXT, OPS_TXT },
	{ "street", V_TEXT, OPS_TXT },
	{ "country", V_TEXT, OPS_TXT },
	{ "state", V_TEXT, OPS_TXT },
	{ "organization_name", V_TEXT, OPS_TXT },
	{ "category", V_TEXT, OPS_TXT },
	{ "identity_type", V_TEXT, OPS_TXT },
	{ "post_code", V_TEXT, OPS_TXT },
	{ "city", V_TEXT, OPS_TXT },
	{ "created_at", V_TIME, OPS_TIM },
	{ NULL, 0, 0 }
};

static const struct resource {
	const char		*name;
	const struct ffield	*fields;
	int			 page_size;	/* Cloud's default */
} resources[] = {
	{ "ledgers", ledger_fields, 30 },
	{ "balances", balance_fields, 20 },
	{ "transactions", transaction_fields, 20 },
	{ "identities", identity_fields, 20 },
};

static const char *const statuses[] = {
	"QUEUED", "APPLIED", "REJECTED", "INFLIGHT", "VOID", "COMMIT",
	"SCHEDULED", NULL
};

static const struct resource *
resource(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
		if (strcmp(resources[i].name, name) == 0)
			return &resources[i];
	return NULL;
}

/* Is s of [0-9]{1,max}? */
static int
digits(const char *s, size_t max)
{
	size_t	 n = strspn(s, "0123456789");

	return n > 0 && n <= max && s[n] == '\0';
}

/* Is s[0..len) one value of type t?  (s is NUL-terminated at len.) */
static int
value_ok(enum vtype t, const char *s, size_t len)
{
	const char	*dot;
	char		 buf[TEXT_MAX + 1];
	size_t		 i;

	if (len == 0 || len > TEXT_MAX)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	switch (t) {
	case V_ID:
		return valid_string(FT_REF, buf, len);
	case V_PARTY:
		return buf[0] == '@' ? valid_string(FT_REF, buf + 1, len - 1) :
		    valid_string(FT_REF, buf, len);
	case V_TEXT:
		return 1;	/* clean UTF-8 already (query_parse) */
	case V_CURRENCY:
		for (i = 0; i < len; i++)
			if (!((buf[i] >= 'A' && buf[i] <= 'Z') ||
			    (buf[i] >= '0' && buf[i] <= '9') || buf[i] == '_'))
				return 0;
		return len <= 16;
	case V_STATUS:
		for (i = 0; statuses[i] != NULL; i++)
			if (strcmp(buf, statuses[i]) == 0)
				return 1;
		return 0;
	case V_TIME:
		return util_is_rfc3339(buf);
	case V_NUMBER:
		s = buf[0] == '-' ? buf + 1 : buf;
		if ((dot = strchr(s, '.')) == NULL)
			return digits(s, 30);
		return dot > s && (size_t)(dot - s) <= 30 &&
		    strspn(s, "0123456789") == (size_t)(dot - s) &&
		    digits(dot + 1, 30);
	case V_INT:
		return digits(buf, 19);
	}
	return 0;
}

/* Is val a good value for op on a field of type t? */
static int
filter_value_ok(enum vtype t, enum op op, const char *val)
{
	const char	*p, *sep;
	size_t		 n = 0;

	if (op == OP_BETWEEN) {
		if ((sep = strchr(val, '|')) == NULL || strchr(sep + 1, '|'))
			return 0;
		return value_ok(t, val, (size_t)(sep - val)) &&
		    value_ok(t, sep + 1, strlen(sep + 1));
	}
	if (op == OP_IN) {
		for (p = val; ; p = sep + 1) {
			sep = strchr(p, ',');
			if (++n > LIST_MAX || !value_ok(t, p, sep != NULL ?
			    (size_t)(sep - p) : strlen(p)))
				return 0;
			if (sep == NULL)
				return 1;
		}
	}
	return value_ok(t, val, strlen(val));
}

/*
 * Is p[0..end) a meta_data path: one to three keys of [A-Za-z0-9_-],
 * joined by dots?
 */
static int
meta_path_ok(const char *p, const char *end)
{
	size_t	 keylen = 0, keys = 1;

	for (; p < end; p++) {
		if (*p == '.') {
			if (keylen == 0 || ++keys > 3)
				return 0;
			keylen = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
			keylen++;
		else
			return 0;
	}
	return keylen > 0;
}

/*
 * Check one filter parameter "<field>_<op>" = val against the resource's
 * table.  meta_data.<a>[.<b>[.<c>]] fields take text with OPS_TXT.
 * Returns 1 if acceptable.
 */
static int
filter_ok(const struct resource *r, const char *key, const char *val)
{
	const struct ffield	*f;
	const char		*us;
	size_t			 flen;
	int			 op;

	if ((us = strrchr(key, '_')) == NULL)
		return 0;
	for (op = 0; op < OP__MAX; op++)
		if (strcmp(us + 1, op_names[op]) == 0)
			break;
	if (op == OP__MAX)
		return 0;
	flen = (size_t)(us - key);
	if (strncmp(key, "meta_data.", sizeof("meta_data.") - 1) == 0)
		return meta_path_ok(key + sizeof("meta_data.") - 1, us) &&
		    (OPS_TXT & B(op)) && filter_value_ok(V_TEXT, op, val);
	for (f = r->fields; f->name != NULL; f++)
		if (strlen(f->name) == flen &&
		    strncmp(f->name, key, flen) == 0)
			return (f->ops & B(op)) &&
			    filter_value_ok(f->type, op, val);
	return 0;
}

void
resp_cloud_error(struct resp *resp, const struct cloud_err *e)
{
	resp_error(resp, e->status, e->code, e->field[0] != '\0' ?
	    e->field : NULL, e->message);
}

/* GET /api/v1/<resource>: one page of the list, filtered. */
void
api_list(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	const struct resource	*r = resource(c->arg);
	struct cloud_call	 call;
	struct query		 q;
	struct verr		 e;
	struct json_object	*out, *o, *v;
	const char		*segs[2], *fwd[2 * QUERY_MAX + 5];
	char			 pbuf[16], sbuf[16], msg[160];
	long			 page = 1, size;
	size_t			 i, n = 0;
	int			 rc;

	memset(&e, 0, sizeof(e));
	if (r == NULL) {
		resp_error(resp, 500, "INTERNAL", NULL, "unknown resource");
		return;
	}
	if (!query_parse(req->query, &q, &e)) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	size = r->page_size;
	if (!query_page(query_get(&q, "page"), PAGE_MAX, &page)) {
		query_free(&q);
		snprintf(msg, sizeof(msg), "must be a whole number from 1 to "
		    "%d", PAGE_MAX);
		resp_error(resp, 400, "INVALID_QUERY", "page", msg);
		return;
	}
	if (!query_page(query_get(&q, "page_size"), PAGE_SIZE_MAX, &size)) {
		query_free(&q);
		snprintf(msg, sizeof(msg), "must be a whole number from 1 to "
		    "%d", PAGE_SIZE_MAX);
		resp_error(resp, 400, "INVALID_QUERY", "page_size", msg);
		return;
	}
	snprintf(pbuf, sizeof(pbuf), "%ld", page);
	snprintf(sbuf, sizeof(sbuf), "%ld", size);
	fwd[n++] = "page";
	fwd[n++] = pbuf;
	fwd[n++] = "pageSize";
	fwd[n++] = sbuf;
	for (i = 0; i < q.n; i++) {
		if (strcmp(q.p[i].key, "page") == 0 ||
		    strcmp(q.p[i].key, "page_size") == 0)
			continue;
		if (!filter_ok(r, q.p[i].key, q.p[i].val)) {
			snprintf(msg, sizeof(msg), "is not a filter this list "
			    "takes, or its value does not fit (see GET "
			    "/api/v1/%s in the README)", r->name);
			snprintf(e.fieldbuf, sizeof(e.fieldbuf), "%s",
			    valid_string(FT_WORD, q.p[i].key,
			    strlen(q.p[i].key)) ? q.p[i].key : "query");
			query_free(&q);
			resp_error(resp, 400, "INVALID_FILTER", e.fieldbuf,
			    msg);
			return;
		}
		fwd[n++] = q.p[i].key;
		fwd[n++] = q.p[i].val;
	}
	fwd[n] = NULL;

	segs[0] = r->name;
	segs[1] = NULL;
	memset(&call, 0, sizeof(call));
	call.api = CLOUD_DATA;
	call.method = HTTPC_GET;
	call.segs = segs;
	call.query = fwd;
	rc = api_cloud(app, c, resp, &call, &out);
	query_free(&q);
	if (!rc)
		return;
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(out);
		resp_json(resp, 500, NULL);
		return;
	}
	if (json_object_object_get_ex(out, "data", &v) &&
	    json_object_is_type(v, json_type_array))
		json_object_object_add(o, "data", json_object_get(v));
	else
		json_object_object_add(o, "data", json_object_new_array());
	json_object_object_add(o, "total",
	    json_object_object_get_ex(out, "total", &v) &&
	    json_object_is_type(v, json_type_int) ? json_object_get(v) :
	    json_object_new_int64(-1));
	json_object_object_add(o, "page", json_object_new_int64(page));
	json_object_object_add(o, "page_size", json_object_new_int64(size));
	json_object_put(out);
	resp_json(resp, 200, o);
}

/* GET /api/v1/<resource>/<id>: one record. */
void
api_detail(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct cloud_call	 call;
	struct json_object	*out, *v;
	const char		*segs[3];

	(void)req;
	segs[0] = c->arg;
	segs[1] = c->id;
	segs[2] = NULL;
	memset(&call, 0, sizeof(call));
	call.api = CLOUD_DATA;
	call.method = HTTPC_GET;
	call.segs = segs;
	if (!api_cloud(app, c, resp, &call, &out))
		return;
	/* Cloud does not document the detail route's envelope: take the
	 * record itself, or the object under "data". */
	if (json_object_object_get_ex(out, "data", &v) &&
	    json_object_is_type(v, json_type_object)) {
		v = json_object_get(v);
		json_object_put(out);
		out = v;
	}
	resp_json(resp, 200, out);
}
