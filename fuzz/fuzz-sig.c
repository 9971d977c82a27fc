/*
 * fuzz-sig.c: Stripe's webhook deliveries.  With the first byte even,
 * the rest is a Stripe-Signature header, a newline and a raw body for
 * webhook_verify(): it may accept only a header that carries, after t=,
 * the HMAC-SHA256 we compute ourselves (OpenSSL's, not webhook.c's) of
 * "<t>.<body>" within the tolerance; the header we write for the body
 * must verify, and must not once a byte of the body changes.  With the
 * first byte odd, the rest is an event body, signed as Stripe would sign
 * it, for POST /api/stripe/webhook/<install> and its handler: never a
 * refused signature, an answer fuzz_check_resp() accepts.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "webhook.h"
#include "app.h"

#define NOW	1800000000

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* "t=<t>,v1=<hex of the HMAC of <t>.<body>>" into hdr (160 bytes). */
static void
sign(int64_t t, const void *body, size_t len, char *hdr, char *hex)
{
	unsigned char	 mac[32], *msg;
	char		 ts[32];
	size_t		 n, i, tl;

	tl = (size_t)snprintf(ts, sizeof(ts), "%" PRId64, t);
	if ((msg = malloc(tl + 1 + len)) == NULL)
		abort();
	memcpy(msg, ts, tl);
	msg[tl] = '.';
	if (len > 0)
		memcpy(msg + tl + 1, body, len);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, FUZZ_WHSEC,
	    strlen(FUZZ_WHSEC), msg, tl + 1 + len, mac, sizeof(mac), &n) ==
	    NULL || n != sizeof(mac))
		abort();
	free(msg);
	for (i = 0; i < sizeof(mac); i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	snprintf(hdr, 160, "t=%s,v1=%s", ts, hex);
}

static void
verify_only(const char *hdr, const uint8_t *body, size_t len)
{
	enum wh_status	 st;
	int64_t		 t;
	char		 good[160], hex[65], *low, *p;
	uint8_t		*flip;

	st = webhook_verify(hdr, FUZZ_WHSEC, strlen(FUZZ_WHSEC), body, len,
	    NOW, &t);
	if (st >= WH__MAX)
		abort();
	if (st == WH_OK) {
		if (t < NOW - WH_TOLERANCE || t > NOW + WH_TOLERANCE)
			abort();
		sign(t, body, len, good, hex);
		/* Our v1, in any case, as one whole item. */
		low = fuzz_strndup(hdr, strlen(hdr));
		for (p = low; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		for (p = low; (p = strstr(p, hex)) != NULL; p++)
			if (p >= low + 3 && strncmp(p - 3, "v1=", 3) == 0 &&
			    (p - 3 == low || p[-4] == ',') &&
			    (p[64] == '\0' || p[64] == ','))
				break;
		if (p == NULL)
			abort();
		free(low);
	}
	(void)webhook_secret_valid(hdr, strlen(hdr));
	sign(NOW - 1, body, len, good, hex);
	if (webhook_verify(good, FUZZ_WHSEC, strlen(FUZZ_WHSEC), body, len,
	    NOW, &t) != WH_OK || t != NOW - 1)
		abort();
	if (len > 0) {
		flip = (uint8_t *)fuzz_strndup(body, len);
		flip[len / 2] ^= 0x20;
		if (webhook_verify(good, FUZZ_WHSEC, strlen(FUZZ_WHSEC), flip,
		    len, NOW, &t) != WH_NO_MATCH)
			abort();
		free(flip);
	}
}

static void
deliver(const uint8_t *body, size_t len)
{
	struct req	 req;
	struct resp	 r;
	char		 hdr[160], hex[65];

	fuzz_app_init();
	fuzz_input(body, len);
	fuzz_answers(NULL, 0);
	sign(fuzz_now, body, len, hdr, hex);
	memset(&req, 0, sizeof(req));
	req.method = METHOD_POST;
	req.path = WEBHOOK_PATH FUZZ_INSTALL;
	req.content_type = "application/json";
	req.stripe_signature = hdr;
	req.body = (const char *)body;
	req.bodylen = len;
	req.now = fuzz_now;
	http_handle(&fuzz_app, &req, &r);
	fuzz_check_resp(&r);
	if (strstr(r.body, "SIGNATURE_") != NULL)
		abort();
	resp_free(&r);
	fuzz_app_reset();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nl;
	char		*hdr;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		deliver(data + 1, size - 1);
		return 0;
	}
	data++;
	size--;
	if ((nl = memchr(data, '\n', size)) == NULL)
		nl = data + size;
	hdr = fuzz_strndup(data, (size_t)(nl - data));
	verify_only(hdr, nl < data + size ? nl + 1 : nl,
	    nl < data + size ? size - (size_t)(nl + 1 - data) : 0);
	(void)webhook_action(hdr);
	free(hdr);
	return 0;
}
