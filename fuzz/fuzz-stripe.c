/*
 * fuzz-stripe.c: Stripe's objects as the sync maps them.  The input is
 * parsed as an answer from Stripe (httpc_json()); a list's "data" items,
 * or the object itself, go through syncmap_item() and syncmap_legs()
 * under the default settings.  What must hold: an item read is a txn_
 * with a lower-case three-letter currency, net = amount - fee, a ctx that
 * is a JSON object; its postings are at most two, each with its own
 * reference "stripe.<txn>.<leg>" in its body, source and destination
 * different, and an amount that converts back to exactly the Stripe
 * amount it stands for.  An error's message, scrubbed, is printable and
 * shows no key.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "httpc.h"
#include "money.h"
#include "settings.h"
#include "stripe.h"
#include "sync-map.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *
str(struct json_object *o, const char *k)
{
	struct json_object	*v;

	return json_object_object_get_ex(o, k, &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int64_t
num(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, k, &v))
		abort();
	return json_object_get_int64(v);
}

static void
check_leg(const struct sync_item *it, const struct leg *l, int64_t want)
{
	char		 ref[REF_MAX];
	int64_t		 back;
	const char	*src, *dst, *r;

	if (!syncmap_reference(it->txn_id, l->leg, ref) ||
	    strcmp(ref, l->reference) != 0 ||
	    (r = str(l->body, "reference")) == NULL || strcmp(r, ref) != 0 ||
	    (src = str(l->body, "source")) == NULL ||
	    (dst = str(l->body, "destination")) == NULL ||
	    strcmp(src, dst) == 0 || num(l->body, "precise_amount") <= 0)
		abort();
	if (!money_from_blnk(it->currency, num(l->body, "precise_amount"),
	    num(l->body, "precision"), &back, NULL) || back != want)
		abort();
}

static void
map_one(struct json_object *txn, const struct settings *s)
{
	struct json_object	*c;
	struct sync_item	 it;
	struct leg		 legs[2];
	const char		*code;
	char			*ctx, why[WHY_MAX];
	int			 n, i, k;

	if (!syncmap_item(txn, "test", &it, &ctx, why, sizeof(why))) {
		if (ctx != NULL || why[0] == '\0')
			abort();
		return;
	}
	if (strncmp(it.txn_id, "txn_", 4) != 0 || strlen(it.currency) != 3 ||
	    it.amount - it.fee != it.net)
		abort();
	for (i = 0; i < 3; i++)
		if (!islower((unsigned char)it.currency[i]))
			abort();
	if ((c = json_tokener_parse(ctx)) == NULL ||
	    !json_object_is_type(c, json_type_object))
		abort();
	it.ctx = ctx;
	if (syncmap_legs(&it, c, s, "@cus_fuzz", "run_fuzz", "batch_fuzz",
	    legs, &n, &code, why, sizeof(why))) {
		if (n < 0 || n > 2 || (n == 2 &&
		    strcmp(legs[0].reference, legs[1].reference) == 0))
			abort();
		for (k = 0; k < n; k++) {
			check_leg(&it, &legs[k], strcmp(legs[k].leg, "fee") ==
			    0 ? (it.fee > 0 ? it.fee : -it.fee) :
			    (it.amount > 0 ? it.amount : -it.amount));
			json_object_put(legs[k].body);
		}
	} else if (n != 0 || code == NULL)
		abort();
	json_object_put(c);
	free(ctx);
}

static void
scrub(const char *msg)
{
	char		 buf[256];
	const char	*p;
	size_t		 i;
	static const char *const keys[] = { "sk_test_", "sk_live_",
	    "rk_test_", "rk_live_", "whsec_", NULL };

	if (msg == NULL)
		return;
	stripe_scrub(buf, sizeof(buf), msg);
	for (p = buf; *p != '\0'; p++) {
		if (!isprint((unsigned char)*p))
			abort();
		if (p > buf && isalnum((unsigned char)p[-1]))
			continue;
		for (i = 0; keys[i] != NULL; i++)
			if (strncmp(p, keys[i], strlen(keys[i])) == 0 &&
			    p[strlen(keys[i])] != '*' &&
			    p[strlen(keys[i])] != '\0')
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*o, *d, *e;
	struct settings		 s;
	enum stripe_mode	 mode;
	enum stripe_keytype	 type;
	char			*text;
	size_t			 i, n;

	settings_default(&s);
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	scrub(text);
	if (stripe_key_parse(text, &mode, &type) &&
	    (strncmp(text + 1, "k_", 2) != 0 || mode >= STRIPE__MODE_MAX ||
	    type >= STRIPE__KEYTYPE_MAX))
		abort();
	o = httpc_json(text, size);
	free(text);
	if (o == NULL)
		return 0;
	if (json_object_object_get_ex(o, "data", &d) &&
	    json_object_is_type(d, json_type_array)) {
		n = json_object_array_length(d);
		for (i = 0; i < n; i++)
			map_one(json_object_array_get_idx(d, i), &s);
	} else
		map_one(o, &s);
	if (json_object_object_get_ex(o, "error", &e))
		scrub(str(e, "message"));
	(void)syncmap_kind(str(o, "type") != NULL ? str(o, "type") : "",
	    str(o, "object"));
	json_object_put(o);
	return 0;
}
