/*
 * money.c: exact conversion between Stripe's minor units and Blnk's
 * precision, integers only.  See money.h for the rules.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "currencies.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

const char *const money_err_names[MONEY__MAX] = {
	"ok",				/* MONEY_OK */
	"unknown_currency",		/* MONEY_UNKNOWN_CURRENCY */
	"bad_currency",			/* MONEY_BAD_CURRENCY */
	"inexact",			/* MONEY_INEXACT */
	"overflow",			/* MONEY_OVERFLOW */
	"stripe_currency",		/* MONEY_STRIPE_CURRENCY */
	"bad_precision",		/* MONEY_BAD_PRECISION */
};

/* Each holds at most one %s, the currency code ("?" when there is none),
 * and no other conversion: money_message() relies on it. */
const char *const money_err_msgs[MONEY__MAX] = {
	/* MONEY_OK */
	"converted exactly (%s)",
	/* MONEY_UNKNOWN_CURRENCY */
	"neither Blnk nor Stripe knows currency %s",
	/* MONEY_BAD_CURRENCY */
	"the currency is not a three-letter code",
	/* MONEY_INEXACT */
	"the amount cannot be converted without losing a digit: "
	    "Blnk's precision and Stripe's unit for %s differ",
	/* MONEY_OVERFLOW */
	"the amount is too large to convert exactly (%s)",
	/* MONEY_STRIPE_CURRENCY */
	"Stripe's currency rules known to this version do not cover "
	    "currency %s",
	/* MONEY_BAD_PRECISION */
	"the precision given for %s is not a power of ten from 1 to 10^18",
};

static int
fail(enum money_err *err, enum money_err e)
{
	if (err != NULL)
		*err = e;
	return 0;
}

/* 1 if p is 10^n for some n >= 0 (n <= 18 follows from the type), with n
 * in *n when n is not NULL. */
static int
pow10_of(int64_t p, int *n)
{
	int	 k = 0;

	if (p <= 0)
		return 0;
	while (p % 10 == 0) {
		p /= 10;
		k++;
	}
	if (p != 1)
		return 0;
	if (n != NULL)
		*n = k;
	return 1;
}

static int64_t
pow10_int(int n)
{
	int64_t	 p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

static int
cmp_code(const void *key, const void *elem)
{
	return strcmp(key, ((const struct currency *)elem)->code);
}

const char *
money_upper(const char *cur, char out[4])
{
	size_t	 i;
	char	 ch;

	if (cur == NULL)
		return NULL;
	for (i = 0; i < 3; i++) {
		ch = cur[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (!(ch >= 'A' && ch <= 'Z'))
			return NULL;	/* includes a NUL before three */
		out[i] = ch;
	}
	if (cur[3] != '\0')
		return NULL;
	out[3] = '\0';
	return out;
}

const struct currency *
money_currency(const char *cur)
{
	char	 up[4];

	if (money_upper(cur, up) == NULL)
		return NULL;
	return bsearch(up, currencies, NITEMS(currencies),
	    sizeof(currencies[0]), cmp_code);
}

const struct currency *
money_currencies(size_t *n)
{
	*n = NITEMS(currencies);
	return currencies;
}

int
money_rescale(int64_t amount, int64_t from, int64_t to, int64_t *out,
    enum money_err *err)
{
	int64_t	 r;

	if (!pow10_of(from, NULL) || !pow10_of(to, NULL))
		return fail(err, MONEY_BAD_PRECISION);
	if (from <= to) {
		/* Both powers of ten, so to / from is exact. */
		if (__builtin_mul_overflow(amount, to / from, &r))
			return fail(err, MONEY_OVERFLOW);
	} else {
		/* The divisor is at least 10: INT64_MIN / it cannot trap. */
		if (amount % (from / to) != 0)
			return fail(err, MONEY_INEXACT);
		r = amount / (from / to);
	}
	*out = r;
	if (err != NULL)
		*err = MONEY_OK;
	return 1;
}

int
money_to_blnk(const char *stripe_currency, int64_t stripe_amount,
    int64_t *precise_amount, int64_t *precision, enum money_err *err)
{
	const struct currency	*c;
	char			 up[4];
	int64_t			 r, p;

	if (money_upper(stripe_currency, up) == NULL)
		return fail(err, MONEY_BAD_CURRENCY);
	c = bsearch(up, currencies, NITEMS(currencies),
	    sizeof(currencies[0]), cmp_code);
	if (c == NULL)
		return fail(err, MONEY_UNKNOWN_CURRENCY);
	if (!(c->flags & CUR_STRIPE))
		return fail(err, MONEY_STRIPE_CURRENCY);
	/*
	 * A currency Blnk's list leaves out (GBP, ...) is kept at Stripe's
	 * own minor unit: exact, and what Blnk would be told for it anyway.
	 * Stripe's step rules (KWD ending in 0, ISK in 00) bind what is
	 * sent to Stripe, not what Stripe recorded: a fee it computed, a
	 * fractional krona charged before 2023, converts exactly all the
	 * same, so it is imported rather than refused.
	 */
	p = (c->flags & CUR_BLNK) ? c->blnk_precision :
	    pow10_int(c->stripe_exponent);
	if (!money_rescale(stripe_amount, pow10_int(c->stripe_exponent), p,
	    &r, err))
		return 0;
	*precise_amount = r;
	*precision = p;
	return 1;
}

int
money_from_blnk(const char *currency, int64_t precise_amount,
    int64_t precision, int64_t *stripe_amount, enum money_err *err)
{
	const struct currency	*c;
	char			 up[4];
	int64_t			 r;

	if (money_upper(currency, up) == NULL)
		return fail(err, MONEY_BAD_CURRENCY);
	c = bsearch(up, currencies, NITEMS(currencies),
	    sizeof(currencies[0]), cmp_code);
	if (c == NULL || !(c->flags & CUR_STRIPE))
		return fail(err, MONEY_STRIPE_CURRENCY);
	if (!money_rescale(precise_amount, precision,
	    pow10_int(c->stripe_exponent), &r, err))
		return 0;
	*stripe_amount = r;
	return 1;
}

int
money_format(int64_t precise_amount, int64_t precision, char *buf,
    size_t bufsz)
{
	uint64_t	 mag, p;
	int		 digits, n;

	if (bufsz > 0)
		buf[0] = '\0';
	if (!pow10_of(precision, &digits))
		return 0;
	/* The magnitude as unsigned, so INT64_MIN has one too. */
	mag = precise_amount < 0 ? (uint64_t)0 - (uint64_t)precise_amount :
	    (uint64_t)precise_amount;
	p = (uint64_t)precision;
	if (digits == 0)
		n = snprintf(buf, bufsz, "%s%" PRIu64,
		    precise_amount < 0 ? "-" : "", mag);
	else
		n = snprintf(buf, bufsz, "%s%" PRIu64 ".%0*" PRIu64,
		    precise_amount < 0 ? "-" : "", mag / p, digits, mag % p);
	if (n < 0 || (size_t)n >= bufsz) {
		if (bufsz > 0)
			buf[0] = '\0';
		return 0;
	}
	return 1;
}

int
money_message(enum money_err err, const char *currency, char *buf,
    size_t bufsz)
{
	char		 up[4];
	const char	*shown;
	int		 n;

	if ((unsigned int)err >= MONEY__MAX)
		n = snprintf(buf, bufsz, "unknown error %d", (int)err);
	else {
		shown = money_upper(currency, up);
		n = snprintf(buf, bufsz, money_err_msgs[err],
		    shown != NULL ? shown : "?");
	}
	return n >= 0 && (size_t)n < bufsz;
}
