/*
 * fuzz-money.c: the conversions between Stripe's amounts and Blnk's, with
 * what must hold of them: an amount converted to Blnk converts back to
 * itself; a rescale succeeds exactly when it is exact and in range, and
 * undoes; money_format() writes the amount's own digits with the
 * precision's number of decimals; a currency is found in any case; a
 * message never echoes a currency that is not three letters.
 *
 * The input: three bytes of currency, eight of amount (little-endian),
 * one each for the two precisions (a power of ten below 19, or the next
 * eight bytes taken as a raw precision), then text for the lookups.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int64_t
get64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static int64_t
pow10i(int n)
{
	int64_t	 p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* A precision from byte b: 10^(b % 19), or a raw value past 19*k. */
static int64_t
precision(uint8_t b, const uint8_t **p, const uint8_t *end, int *exp)
{
	int64_t	 v;

	if (b < 0xe0 || end - *p < 8) {
		*exp = b % 19;
		return pow10i(*exp);
	}
	v = get64(*p);
	*p += 8;
	for (*exp = 0; *exp <= 18; (*exp)++)
		if (pow10i(*exp) == v)
			return v;
	*exp = -1;
	return v;
}

static int
is_pow10(int64_t v)
{
	int	 n;

	for (n = 0; n <= 18; n++)
		if (pow10i(n) == v)
			return 1;
	return 0;
}

static void
check_format(int64_t a, int64_t prec, int exp)
{
	char		 buf[MONEY_FMTLEN];
	const char	*s = buf;
	uint64_t	 mag = 0, want;
	int		 dec = -1;

	if (!money_format(a, prec, buf, sizeof(buf)))
		abort();
	if (*s == '-') {
		if (a >= 0)
			abort();
		s++;
	} else if (a < 0)
		abort();
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (dec >= 0)
				abort();
			dec = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			abort();
		mag = mag * 10 + (uint64_t)(*s - '0');
		if (dec >= 0)
			dec++;
	}
	want = a < 0 ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
	if (mag != want || (exp == 0 ? dec != -1 : dec != exp))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct currency	*c, *c2;
	const uint8_t		*p, *end = data + size;
	enum money_err		 e;
	int64_t			 a, pa, prec, back, fp, tp, out;
	char			 cur[4], up[4], low[4], msg[256], *text;
	int			 fe, te, i, letters;

	if (size < 13)
		return 0;
	memcpy(cur, data, 3);
	cur[3] = '\0';
	a = get64(data + 3);
	p = data + 13;
	fp = precision(data[11], &p, end, &fe);
	tp = precision(data[12], &p, end, &te);
	if ((text = strndup((const char *)p, (size_t)(end - p))) == NULL)
		return 0;

	/* Stripe to Blnk and back. */
	e = MONEY_OK;
	if (money_to_blnk(cur, a, &pa, &prec, &e)) {
		if (!is_pow10(prec) || e != MONEY_OK)
			abort();
		if (!money_from_blnk(cur, pa, prec, &back, &e) || back != a)
			abort();
	} else if (e == MONEY_OK || e >= MONEY__MAX)
		abort();

	/* The exact core. */
	e = MONEY_OK;
	if (money_rescale(a, fp, tp, &out, &e)) {
		if (fe < 0 || te < 0)
			abort();
		if (!money_rescale(out, tp, fp, &back, &e) || back != a)
			abort();
		if (te >= fe ? out / pow10i(te - fe) != a : a % (fp / tp) != 0)
			abort();
	} else {
		if (fe >= 0 && te >= 0) {
			/* Only a lost digit or an overflow may refuse. */
			if (te < fe ? e != MONEY_INEXACT ||
			    a % (fp / tp) == 0 : e != MONEY_OVERFLOW ||
			    !__builtin_mul_overflow(a, tp / fp, &out))
				abort();
		} else if (is_pow10(fp) && is_pow10(tp))
			abort();
	}
	if (fe >= 0)
		check_format(a, fp, fe);
	else if (!is_pow10(fp) && money_format(a, fp, msg, sizeof(msg)))
		abort();

	/* Look-ups in any case. */
	letters = 1;
	for (i = 0; i < 3; i++)
		if (!isalpha((unsigned char)cur[i]) || (cur[i] & 0x80))
			letters = 0;
	if ((money_upper(cur, up) != NULL) != letters)
		abort();
	if (letters) {
		for (i = 0; i < 3; i++) {
			if (up[i] != toupper((unsigned char)cur[i]))
				abort();
			low[i] = (char)tolower((unsigned char)cur[i]);
		}
		low[3] = '\0';
		c = money_currency(cur);
		c2 = money_currency(low);
		if (c != c2 || (c != NULL && strcmp(c->code, up) != 0))
			abort();
	}
	(void)money_currency(text);
	for (e = 0; e <= MONEY__MAX; e++) {
		(void)money_message(e, text, msg, sizeof(msg));
		if (strlen(text) > 3 && strstr(msg, text) != NULL &&
		    strpbrk(text, "<>\"{}\\\n\t") != NULL)
			abort();
	}
	free(text);
	return 0;
}
