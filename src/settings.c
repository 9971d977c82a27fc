/*
 * settings.c: an install's sync settings.  See settings.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "settings.h"
#include "valid.h"

const char *const payin_mode_names[PAYIN__MAX] = {
	"customer",		/* PAYIN_CUSTOMER */
	"customer_metadata",	/* PAYIN_METADATA */
	"fixed",		/* PAYIN_FIXED */
};

const char *const role_names[ROLE__MAX] = {
	"stripe_balance",	/* ROLE_STRIPE */
	"fees",			/* ROLE_FEES */
	"payouts",		/* ROLE_PAYOUTS */
	"world",		/* ROLE_WORLD */
	"payins",		/* ROLE_PAYINS */
};

#define SCHEDULE_MIN	5
#define SCHEDULE_MAX	1440

/* The field names as errors name them, by role. */
static const char *const mapping_fields[ROLE_PAYINS] = {
	"mapping.stripe_balance", "mapping.fees", "mapping.payouts",
	"mapping.world",
};
static const char *const overdraft_fields[ROLE__MAX] = {
	"overdraft.stripe_balance", "overdraft.fees", "overdraft.payouts",
	"overdraft.world", "overdraft.payins",
};

void
settings_default(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->import_payins = s->import_fees = s->import_payouts =
	    s->import_other = 1;
	s->payins = PAYIN_CUSTOMER;
	snprintf(s->customer_prefix, sizeof(s->customer_prefix), "@");
	snprintf(s->metadata_key, sizeof(s->metadata_key), "blnk_balance");
	snprintf(s->payin_balance, PARTY_MAX, "@stripe-payins");
	snprintf(s->guest_balance, PARTY_MAX, "@stripe-guests");
	snprintf(s->balance[ROLE_STRIPE], PARTY_MAX, "@stripe");
	snprintf(s->balance[ROLE_FEES], PARTY_MAX, "@stripe-fees");
	snprintf(s->balance[ROLE_PAYOUTS], PARTY_MAX, "@stripe-payouts");
	snprintf(s->balance[ROLE_WORLD], PARTY_MAX, "@world");
	/* Every balance standing for money outside the ledger pays out
	 * of nothing (Blnk refuses an @indicator source without it); a
	 * customer's balance does not go below zero unless asked. */
	s->overdraft[ROLE_STRIPE] = s->overdraft[ROLE_FEES] =
	    s->overdraft[ROLE_PAYOUTS] = s->overdraft[ROLE_WORLD] = 1;
	s->overdraft[ROLE_PAYINS] = 0;
}

static int
fail(struct verr *e, const char *field, const char *msg)
{
	e->status = 400;
	e->code = "INVALID_FIELD";
	e->field = field;
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return 0;
}

/* Does obj hold only the members named in names (NULL-terminated)? */
static int
only_known(struct json_object *obj, const char *const *names,
    const char *group, struct verr *e)
{
	struct json_object_iterator	 it, end;
	const char			*k;
	size_t				 i;

	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] == NULL) {
			/* Named only when it is a plain word: a name cut
			 * short could end inside a UTF-8 sequence (an
			 * answer that is not UTF-8), and what a client
			 * wrote is not echoed back. */
			e->status = 400;
			e->code = "UNKNOWN_FIELD";
			if (strlen(k) <= 40 &&
			    valid_string(FT_WORD, k, strlen(k)))
				snprintf(e->fieldbuf, sizeof(e->fieldbuf),
				    "%s%s%s", group != NULL ? group : "",
				    group != NULL ? "." : "", k);
			else
				snprintf(e->fieldbuf, sizeof(e->fieldbuf), "%s",
				    group != NULL ? group : "body");
			e->field = e->fieldbuf;
			snprintf(e->message, sizeof(e->message), "is not a "
			    "setting");
			return 0;
		}
	}
	return 1;
}

/* Member key of obj as a boolean into *dst, if present. */
static int
get_bool(struct json_object *obj, const char *key, const char *field,
    int *dst, struct verr *e)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 1;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(e, field, "must be true or false");
	*dst = json_object_get_boolean(v);
	return 1;
}

/* Member key of obj as a string of type t (at most max - 1 bytes), if
 * present. */
static int
get_str(struct json_object *obj, const char *key, const char *field,
    enum ftype t, char *dst, size_t max, struct verr *e)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;

	if (!json_object_object_get_ex(obj, key, &v))
		return 1;
	if (!json_object_is_type(v, json_type_string))
		return fail(e, field, "must be a string");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len || len >= max || !valid_string(t, s, len))
		return fail(e, field, t == FT_PARTY ? "must be a Blnk balance "
		    "id or an @indicator (letters, digits and _ . : -)" :
		    "has a bad length or characters that are not allowed");
	memcpy(dst, s, len + 1);
	return 1;
}

/* mapping.customer_prefix: "@" and up to 64 of [A-Za-z0-9_.:-] ("@"
 * alone is fine: the indicator is then @cus_...). */
static int
get_prefix(struct json_object *o, struct settings *s, struct verr *e)
{
	struct json_object	*v;
	const char		*p;
	size_t			 len;

	if (!json_object_object_get_ex(o, "customer_prefix", &v))
		return 1;
	if (!json_object_is_type(v, json_type_string) ||
	    (p = json_object_get_string(v))[0] != '@' ||
	    (len = (size_t)json_object_get_string_len(v)) >
	    sizeof(s->customer_prefix) - 1 || strlen(p) != len ||
	    (len > 1 && !valid_string(FT_REF, p + 1, len - 1)))
		return fail(e, "mapping.customer_prefix", "must be @ and up "
		    "to 64 letters, digits and _ . : -: each customer gets "
		    "the @indicator prefix + customer id");
	memcpy(s->customer_prefix, p, len + 1);
	return 1;
}

/* Member key of obj as an object, or NULL if absent; 0 if not one. */
static int
get_obj(struct json_object *obj, const char *key, struct json_object **out,
    struct verr *e)
{
	*out = NULL;
	if (!json_object_object_get_ex(obj, key, out) || *out == NULL)
		return 1;
	if (!json_object_is_type(*out, json_type_object))
		return fail(e, key, "must be an object");
	return 1;
}

/* "YYYY-MM-DD", a real date from 2010 (before Stripe's balance
 * transactions) to 2100, into its unix time at UTC midnight. */
static int
parse_date(const char *s, int64_t *at)
{
	struct tm	 tm;
	const char	*end;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 10 || (end = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    *end != '\0' || tm.tm_year < 110 || tm.tm_year > 200)
		return 0;
	{
		struct tm	 back;
		int		 y = tm.tm_year, m = tm.tm_mon, d = tm.tm_mday;

		if ((t = timegm(&tm)) == (time_t)-1)
			return 0;
		/* 2026-02-30 would roll over to March: refuse it. */
		gmtime_r(&t, &back);
		if (back.tm_year != y || back.tm_mon != m || back.tm_mday != d)
			return 0;
	}
	*at = (int64_t)t;
	return 1;
}

int
settings_parse(struct json_object *obj, struct settings *s, struct verr *e)
{
	static const char *const top[] = { "import", "start_date",
	    "schedule_minutes", "mapping", "overdraft", NULL };
	static const char *const imports[] = { "payins", "fees", "payouts",
	    "other", NULL };
	static const char *const maps[] = { "payins", "customer_prefix",
	    "metadata_key", "payin_balance", "guest_balance",
	    "stripe_balance", "fees", "payouts", "world", NULL };
	static const char *const overdrafts[] = { "stripe_balance", "fees",
	    "payouts", "world", "payins", NULL };
	struct json_object	*o, *v;
	char			 word[32];
	size_t			 i;
	int			 r;

	memset(e, 0, sizeof(*e));
	if (!json_object_is_type(obj, json_type_object))
		return fail(e, "body", "must be a JSON object");
	if (!only_known(obj, top, NULL, e))
		return 0;

	if (!get_obj(obj, "import", &o, e))
		return 0;
	if (o != NULL && (!only_known(o, imports, "import", e) ||
	    !get_bool(o, "payins", "import.payins", &s->import_payins, e) ||
	    !get_bool(o, "fees", "import.fees", &s->import_fees, e) ||
	    !get_bool(o, "payouts", "import.payouts", &s->import_payouts, e) ||
	    !get_bool(o, "other", "import.other", &s->import_other, e)))
		return 0;

	if (json_object_object_get_ex(obj, "start_date", &v)) {
		if (v == NULL) {
			s->start_date[0] = '\0';
			s->start_at = 0;
		} else if (!json_object_is_type(v, json_type_string) ||
		    !parse_date(json_object_get_string(v), &s->start_at))
			return fail(e, "start_date", "must be a date "
			    "YYYY-MM-DD from 2010 to 2100, or null");
		else
			snprintf(s->start_date, sizeof(s->start_date), "%s",
			    json_object_get_string(v));
	}

	if (json_object_object_get_ex(obj, "schedule_minutes", &v)) {
		int64_t	 m;

		if (!json_object_is_type(v, json_type_int) ||
		    ((m = json_object_get_int64(v)) != 0 &&
		    (m < SCHEDULE_MIN || m > SCHEDULE_MAX)))
			return fail(e, "schedule_minutes", "must be 0 (no "
			    "schedule) or a whole number of minutes from 5 "
			    "to 1440");
		s->schedule_minutes = (long)m;
	}

	if (!get_obj(obj, "mapping", &o, e))
		return 0;
	if (o != NULL) {
		if (!only_known(o, maps, "mapping", e))
			return 0;
		word[0] = '\0';
		if (!get_str(o, "payins", "mapping.payins", FT_WORD, word,
		    sizeof(word), e))
			return 0;
		if (word[0] != '\0') {
			for (i = 0; i < PAYIN__MAX; i++)
				if (strcmp(word, payin_mode_names[i]) == 0)
					break;
			if (i == PAYIN__MAX)
				return fail(e, "mapping.payins", "must be "
				    "customer, customer_metadata or fixed");
			s->payins = (enum payin_mode)i;
		}
		r = get_prefix(o, s, e) &&
		    get_str(o, "metadata_key", "mapping.metadata_key", FT_WORD,
		    s->metadata_key, sizeof(s->metadata_key), e) &&
		    get_str(o, "payin_balance", "mapping.payin_balance",
		    FT_PARTY, s->payin_balance, PARTY_MAX, e) &&
		    get_str(o, "guest_balance", "mapping.guest_balance",
		    FT_PARTY, s->guest_balance, PARTY_MAX, e);
		for (i = 0; r && i < ROLE_PAYINS; i++)
			r = get_str(o, role_names[i], mapping_fields[i],
			    FT_PARTY, s->balance[i], PARTY_MAX, e);
		if (!r)
			return 0;
	}
	if (!get_obj(obj, "overdraft", &o, e))
		return 0;
	if (o != NULL) {
		if (!only_known(o, overdrafts, "overdraft", e))
			return 0;
		for (i = 0; i < ROLE__MAX; i++)
			if (!get_bool(o, role_names[i], overdraft_fields[i],
			    &s->overdraft[i], e))
				return 0;
	}

	/* A posting's two sides must differ: the Stripe balance is on one
	 * side of every posting, so it may be none of the others. */
	for (i = ROLE_FEES; i < ROLE_PAYINS; i++)
		if (strcmp(s->balance[ROLE_STRIPE], s->balance[i]) == 0)
			return fail(e, mapping_fields[i], "must differ from "
			    "mapping.stripe_balance");
	if (strcmp(s->balance[ROLE_STRIPE], s->payin_balance) == 0)
		return fail(e, "mapping.payin_balance", "must differ from "
		    "mapping.stripe_balance");
	if (strcmp(s->balance[ROLE_STRIPE], s->guest_balance) == 0)
		return fail(e, "mapping.guest_balance", "must differ from "
		    "mapping.stripe_balance");
	return 1;
}

struct json_object *
settings_json(const struct settings *s)
{
	struct json_object	*o, *imp, *map, *od;
	size_t			 i;

	o = json_object_new_object();
	imp = json_object_new_object();
	map = json_object_new_object();
	od = json_object_new_object();
	if (o == NULL || imp == NULL || map == NULL || od == NULL) {
		json_object_put(o);
		json_object_put(imp);
		json_object_put(map);
		json_object_put(od);
		return NULL;
	}
	json_object_object_add(imp, "payins",
	    json_object_new_boolean(s->import_payins));
	json_object_object_add(imp, "fees",
	    json_object_new_boolean(s->import_fees));
	json_object_object_add(imp, "payouts",
	    json_object_new_boolean(s->import_payouts));
	json_object_object_add(imp, "other",
	    json_object_new_boolean(s->import_other));
	json_object_object_add(o, "import", imp);
	json_object_object_add(o, "start_date", s->start_date[0] == '\0' ?
	    NULL : json_object_new_string(s->start_date));
	json_object_object_add(o, "schedule_minutes",
	    json_object_new_int64(s->schedule_minutes));
	json_object_object_add(map, "payins",
	    json_object_new_string(payin_mode_names[s->payins]));
	json_object_object_add(map, "customer_prefix",
	    json_object_new_string(s->customer_prefix));
	json_object_object_add(map, "metadata_key",
	    json_object_new_string(s->metadata_key));
	json_object_object_add(map, "payin_balance",
	    json_object_new_string(s->payin_balance));
	json_object_object_add(map, "guest_balance",
	    json_object_new_string(s->guest_balance));
	for (i = 0; i < ROLE_PAYINS; i++)
		json_object_object_add(map, role_names[i],
		    json_object_new_string(s->balance[i]));
	json_object_object_add(o, "mapping", map);
	for (i = 0; i < ROLE__MAX; i++)
		json_object_object_add(od, role_names[i],
		    json_object_new_boolean(s->overdraft[i]));
	json_object_object_add(o, "overdraft", od);
	return o;
}
