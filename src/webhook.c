/*
 * webhook.c: the check of a Stripe-Signature header over a raw body, and
 * what an event's type asks for.  Pure: no I/O, no database, no clock (the
 * caller passes now).  See webhook.h.
 *
 * The header is read strictly, as Stripe writes it: comma-separated
 * key=value items without blanks, exactly one t (decimal, no leading
 * zero, as Stripe's libraries print the time they sign), v1 values of 64
 * hex digits.  Anything else is WH_MALFORMED rather than a guess.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "webhook.h"

#define SIGLEN	32	/* HMAC-SHA256 */
#define TMAXLEN	12	/* digits of t: up to the year 33658 */

const char *const wh_codes[WH__MAX] = {
	"OK",				/* WH_OK */
	"SIGNATURE_MISSING",		/* WH_NO_HEADER */
	"SIGNATURE_MALFORMED",		/* WH_MALFORMED */
	"SIGNATURE_NO_V1",		/* WH_NO_V1 */
	"SIGNATURE_MISMATCH",		/* WH_NO_MATCH */
	"SIGNATURE_TIMESTAMP_STALE",	/* WH_STALE */
	"SIGNATURE_TIMESTAMP_FUTURE",	/* WH_FUTURE */
};

const char *const wh_messages[WH__MAX] = {
	"the signature is good",
	"no Stripe-Signature header: this route takes Stripe's signed "
	    "webhook deliveries only",
	"the Stripe-Signature header is not t=<unix time>,v1=<hex "
	    "signature> as Stripe writes it",
	"the Stripe-Signature header carries no v1 signature",
	"no v1 signature matches the body under this endpoint's signing "
	    "secret: check the secret set in the portal against the "
	    "endpoint's in Stripe's dashboard",
	"the signature is more than 300 seconds old (a replay, or a clock "
	    "that is wrong)",
	"the signature is more than 300 seconds in the future (a clock "
	    "that is wrong)",
};

const char *const wh_action_names[WA__MAX] = {
	"none",		/* WA_NONE */
	"sync",		/* WA_SYNC */
	"reconcile",	/* WA_RECONCILE */
};

/* The value of one hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode 2 * SIGLEN hex digits of s into out.  1, or 0 if not hex. */
static int
hex_sig(const char *s, size_t len, unsigned char out[SIGLEN])
{
	size_t	 i;
	int	 hi, lo;

	if (len != 2 * SIGLEN)
		return 0;
	for (i = 0; i < SIGLEN; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0)
			return 0;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 1;
}

/* The parsed header: t as written, and the v1 signatures. */
struct sighdr {
	const char	*t;
	size_t		 tlen;
	int64_t		 tval;
	unsigned char	 v1[WH_SIGS_MAX][SIGLEN];
	size_t		 nv1;
};

/* Parse header into *h.  Returns WH_OK, WH_MALFORMED or WH_NO_V1. */
static enum wh_status
parse_header(const char *header, struct sighdr *h)
{
	const char	*p = header, *item, *eq, *end, *v;
	size_t		 klen, vlen, i;

	memset(h, 0, sizeof(*h));
	for (;;) {
		item = p;
		end = item + strcspn(item, ",");
		if ((eq = memchr(item, '=', (size_t)(end - item))) == NULL)
			return WH_MALFORMED;
		klen = (size_t)(eq - item);
		v = eq + 1;
		vlen = (size_t)(end - v);
		if (klen == 0 || klen > 16 || vlen == 0)
			return WH_MALFORMED;
		for (i = 0; i < klen; i++)
			if (!((item[i] >= 'a' && item[i] <= 'z') ||
			    (item[i] >= '0' && item[i] <= '9')))
				return WH_MALFORMED;
		/* No blanks, no second '=', nothing unprintable. */
		for (i = 0; i < vlen; i++)
			if (v[i] <= ' ' || v[i] > '~' || v[i] == '=')
				return WH_MALFORMED;
		if (klen == 1 && item[0] == 't') {
			if (h->t != NULL || vlen > TMAXLEN ||
			    (vlen > 1 && v[0] == '0'))
				return WH_MALFORMED;
			for (i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9')
					return WH_MALFORMED;
				h->tval = h->tval * 10 + (v[i] - '0');
			}
			h->t = v;
			h->tlen = vlen;
		} else if (klen == 2 && item[0] == 'v' && item[1] == '1') {
			if (h->nv1 == WH_SIGS_MAX ||
			    !hex_sig(v, vlen, h->v1[h->nv1]))
				return WH_MALFORMED;
			h->nv1++;
		}
		/* v0 (Stripe's test scheme) and any other: ignored. */
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (h->t == NULL)
		return WH_MALFORMED;
	return h->nv1 == 0 ? WH_NO_V1 : WH_OK;
}

/* HMAC-SHA256 under key of "<t>.<body>" into out.  1 on success. */
static int
sign(const void *key, size_t keylen, const char *t, size_t tlen,
    const void *body, size_t bodylen, unsigned char out[SIGLEN])
{
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	size_t		 outlen = 0;
	int		 ok = 0;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return 0;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)t, tlen) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
	    (bodylen == 0 || EVP_MAC_update(ctx, body, bodylen) == 1) &&
	    EVP_MAC_final(ctx, out, &outlen, SIGLEN) == 1 &&
	    outlen == SIGLEN)
		ok = 1;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

enum wh_status
webhook_verify(const char *header, const void *secret, size_t secretlen,
    const void *body, size_t bodylen, int64_t now, int64_t *t)
{
	struct sighdr	 h;
	unsigned char	 want[SIGLEN];
	enum wh_status	 st;
	size_t		 i;
	int		 match = 0;

	*t = 0;
	if (header == NULL || *header == '\0')
		return WH_NO_HEADER;
	if (strlen(header) > WH_HEADER_MAX)
		return WH_MALFORMED;
	if ((st = parse_header(header, &h)) != WH_OK) {
		if (st == WH_NO_V1)
			*t = h.tval;
		return st;
	}
	*t = h.tval;
	/* An empty key would be a signature anyone can make. */
	if (secretlen == 0 ||
	    !sign(secret, secretlen, h.t, h.tlen, body, bodylen, want))
		return WH_NO_MATCH;
	/* Every signature is compared, in constant time each, so the time
	 * taken says nothing about which (if any) matched. */
	for (i = 0; i < h.nv1; i++)
		match |= CRYPTO_memcmp(want, h.v1[i], SIGLEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (!match)
		return WH_NO_MATCH;
	if (now - h.tval > WH_TOLERANCE)
		return WH_STALE;
	if (h.tval - now > WH_TOLERANCE)
		return WH_FUTURE;
	return WH_OK;
}

enum wh_action
webhook_action(const char *type)
{
	static const char *const sync[] = {
		"balance.available", "charge.succeeded", "charge.refunded",
		"payout.paid", "payout.failed", NULL,
	};
	static const char dispute[] = "charge.dispute.";
	size_t	 i;

	if (type == NULL)
		return WA_NONE;
	for (i = 0; sync[i] != NULL; i++)
		if (strcmp(type, sync[i]) == 0)
			return WA_SYNC;
	/* Every dispute event (created, updated, closed, funds_withdrawn,
	 * funds_reinstated): each may come with a balance transaction. */
	if (strncmp(type, dispute, sizeof(dispute) - 1) == 0 &&
	    type[sizeof(dispute) - 1] != '\0')
		return WA_SYNC;
	if (strcmp(type, "payout.reconciliation_completed") == 0)
		return WA_RECONCILE;
	return WA_NONE;
}

int
webhook_secret_valid(const char *s, size_t len)
{
	static const char prefix[] = "whsec_";
	size_t	 i, n = sizeof(prefix) - 1, pad = 0;
	char	 c;

	if (len > WH_SECRET_MAX || len < n + WH_SECRET_MIN ||
	    memcmp(s, prefix, n) != 0)
		return 0;
	for (i = n; i < len; i++) {
		c = s[i];
		if (c == '=') {
			if (++pad > 2)
				return 0;
			continue;
		}
		/* Padding only at the end. */
		if (pad > 0)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		    c == '_' || c == '-'))
			return 0;
	}
	return len - n - pad >= WH_SECRET_MIN;
}
