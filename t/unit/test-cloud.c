/*
 * test-cloud.c: how the Cloud client builds its URLs (cloud_url()), one
 * row per case, named after what it guards against; and httpc_json(),
 * which reads every answer of Cloud and Stripe with one tokener per
 * process.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "cloud.h"
#include "tap.h"

static const struct {
	const char	*name;
	const char	*base;
	enum cloud_api	 api;
	const char	*segs[4];
	const char	*query[5];
	const char	*instance;
	const char	*want;		/* NULL: refused */
} rows[] = {
	{ "data detail", "https://api.cloud.blnkfinance.com", CLOUD_DATA,
	  { "transactions", "txn_1", NULL }, { NULL }, "inst_1",
	  "https://api.cloud.blnkfinance.com/data/transactions/txn_1"
	  "?instance_id=inst_1" },
	{ "base path kept, trailing slashes dropped", "https://h.example/c//",
	  CLOUD_PROXY, { "transactions", NULL }, { NULL }, "i",
	  "https://h.example/c/proxy/transactions?instance_id=i" },
	{ "filter at the root, paging in the query", "https://h.example",
	  CLOUD_FILTER, { "ledger", "filter", NULL },
	  { "page", "2", "pageSize", "30", NULL }, "i",
	  "https://h.example/ledger/filter?instance_id=i&page=2&pageSize=30" },
	{ "alerts carry no instance_id", "https://h.example", CLOUD_ALERTS,
	  { "flag", "ano_1", NULL }, { NULL }, "i",
	  "https://h.example/alerts/flag/ano_1" },
	{ "a slash in an id stays inside its segment", "https://h.example",
	  CLOUD_DATA, { "balances", "../../admin", NULL }, { NULL }, "i",
	  "https://h.example/data/balances/..%2f..%2fadmin?instance_id=i" },
	{ "a query in an id stays inside its segment", "https://h.example",
	  CLOUD_DATA, { "balances", "b?instance_id=other", NULL }, { NULL },
	  "i", "https://h.example/data/balances/b%3finstance_id%3dother"
	  "?instance_id=i" },
	{ "a value cannot add a pair", "https://h.example", CLOUD_DATA,
	  { "transactions", NULL }, { "status_eq", "APPLIED&instance_id=x",
	  NULL }, "i", "https://h.example/data/transactions?instance_id=i"
	  "&status_eq=APPLIED%26instance_id%3dx" },
	{ "the instance id is escaped too", "https://h.example", CLOUD_DATA,
	  { "ledgers", NULL }, { NULL }, "a&b",
	  "https://h.example/data/ledgers?instance_id=a%26b" },
	{ "the base's own query is dropped", "https://h.example/?k=v",
	  CLOUD_DATA, { "ledgers", NULL }, { NULL }, "i",
	  "https://h.example/data/ledgers?instance_id=i" },
	{ "the base's fragment is dropped too", "https://h.example/c#f",
	  CLOUD_DATA, { "ledgers", NULL }, { NULL }, "i",
	  "https://h.example/c/data/ledgers?instance_id=i" },
	{ "the same base again (kept parsed): the same URL",
	  "https://h.example/c#f", CLOUD_DATA, { "ledgers", NULL }, { NULL },
	  "i", "https://h.example/c/data/ledgers?instance_id=i" },
	{ "a port kept; a space in a value is a plus, UTF-8 escaped",
	  "http://127.0.0.1:8080/", CLOUD_DATA, { "transactions", NULL },
	  { "meta_note_eq", "caf\xc3\xa9 au lait", NULL }, "i",
	  "http://127.0.0.1:8080/data/transactions?instance_id=i"
	  "&meta_note_eq=caf%c3%a9+au+lait" },
	{ "dot-dot segment refused", "https://h.example", CLOUD_DATA,
	  { "..", NULL }, { NULL }, "i", NULL },
	{ "dot segment refused", "https://h.example", CLOUD_DATA,
	  { "ledgers", ".", NULL }, { NULL }, "i", NULL },
	{ "empty segment refused", "https://h.example", CLOUD_DATA,
	  { "ledgers", "", NULL }, { NULL }, "i", NULL },
	{ "no instance for a data call refused", "https://h.example",
	  CLOUD_DATA, { "ledgers", NULL }, { NULL }, NULL, NULL },
	{ "not a URL refused", "not a url", CLOUD_DATA, { "ledgers", NULL },
	  { NULL }, "i", NULL },
};

/* The string member n of the JSON text s, parsed by httpc_json(). */
static void
json_n(const char *s, const char *want, const char *name)
{
	struct json_object	*o, *v;

	o = httpc_json(s, strlen(s));
	if (want == NULL) {
		ok(o == NULL, "%s", name);
	} else {
		is_str(o != NULL && json_object_object_get_ex(o, "n", &v) ?
		    json_object_get_string(v) : "(refused)", want, "%s", name);
	}
	json_object_put(o);
}

static void
json_checks(void)
{
	json_n("{\"n\":\"caf\\u00e9\"}", "caf\xc3\xa9", "a \\u escape");
	json_n("{\"n\":\"a\"} \r\n", "a", "blanks after the value");
	json_n("{\"n\":\"a\"} x", NULL, "anything else after it is refused");
	json_n("{\"n\":\"a\"", NULL, "a truncated body is refused");
	/* A failed parse must leave nothing for the next one. */
	json_n("{\"n\":\"\\ud83d", NULL, "a body cut after a high surrogate");
	json_n("{\"n\":\"caf\\u00e9\"}", "caf\xc3\xa9",
	    "the next body's escapes are its own");
	json_n("{\"n\":\"\\ud83d\\u12zz\"}", NULL, "a bad escape after one");
	json_n("{\"n\":\"\\ud83d\\ude00\"}", "\xf0\x9f\x98\x80",
	    "a surrogate pair after it");
	json_n("{\"n\":\"x\"}", "x", "and a plain one");
}

int
main(void)
{
	struct cloud_call	 c;
	char			*u;
	size_t			 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.api = rows[i].api;
		c.method = HTTPC_GET;
		c.segs = rows[i].segs;
		c.query = rows[i].query;
		u = cloud_url(rows[i].base, &c, rows[i].instance);
		if (rows[i].want == NULL)
			ok(u == NULL, "%s", rows[i].name);
		else
			is_str(u != NULL ? u : "(refused)", rows[i].want, "%s",
			    rows[i].name);
		free(u);
	}
	json_checks();
	return done_testing();
}
