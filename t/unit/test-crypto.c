/*
 * test-crypto.c: base64, key ids, HKDF, sealing and launch tokens.
 * Most checks are named after the failure they would catch.  The
 * configuration is built by hand (random keys), so conf.c is not needed.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "conf.h"
#include "crypto.h"
#include "tap.h"

#define NOW		INT64_C(1700000000)
#define FAR_FUTURE	INT64_C(4102444800)	/* 2100-01-01 */

/* Fill cf with random master keys keys[0..nkeys) and a random token key. */
static void
make_conf(struct conf *cf, size_t nkeys)
{
	size_t	 i;

	memset(cf, 0, sizeof(*cf));
	for (i = 0; i < nkeys; i++) {
		if (!crypto_random(cf->keys[i].key, CONF_KEYLEN))
			abort();
		crypto_key_id(cf->keys[i].key, cf->keys[i].id);
	}
	cf->nkeys = nkeys;
	if (!crypto_random(cf->token_key, sizeof(cf->token_key)))
		abort();
}

static void
make_token(struct token *t, const char *install, const char *instance,
    int64_t gen, int64_t expires)
{

	memset(t, 0, sizeof(*t));
	snprintf(t->install_id, sizeof(t->install_id), "%s", install);
	snprintf(t->instance_id, sizeof(t->instance_id), "%s", instance);
	t->generation = gen;
	t->expires = expires;
}

/*
 * Forge a token over an arbitrary payload[0..len) under key, the way a
 * careful attacker holding the key (or our own bug) would.  Returns an
 * allocated string the caller frees.
 */
static char *
forge(const unsigned char key[32], const char *payload, size_t len)
{
	unsigned char	 tag[32];
	unsigned int	 taglen;
	char		*p64, *t64, *tok, *c;
	size_t		 sz;

	if (HMAC(EVP_sha256(), key, 32, (const unsigned char *)payload, len,
	    tag, &taglen) == NULL)
		abort();
	if ((p64 = b64_encode(payload, len)) == NULL ||
	    (t64 = b64_encode(tag, taglen)) == NULL)
		abort();
	for (c = p64; *c != '\0'; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	for (c = t64; *c != '\0'; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	if ((c = strchr(p64, '=')) != NULL)
		*c = '\0';
	if ((c = strchr(t64, '=')) != NULL)
		*c = '\0';
	sz = strlen(p64) + strlen(t64) + 2;
	if ((tok = malloc(sz)) == NULL)
		abort();
	snprintf(tok, sz, "%s.%s", p64, t64);
	free(p64);
	free(t64);
	return tok;
}

static void
test_base64_roundtrip(void)
{
	static const struct {
		const char	*raw;
		const char	*enc;
	} vec[] = {	/* RFC 4648, section 10 */
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	unsigned char	 bin[70], *dec;
	char		*enc;
	size_t		 i, len, declen;

	enc = b64_encode("", 0);
	is_str(enc, "", "b64-encode-empty-gives-empty-string");
	free(enc);

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		enc = b64_encode(vec[i].raw, strlen(vec[i].raw));
		is_str(enc, vec[i].enc, "b64-encode-rfc4648-%s", vec[i].raw);
		free(enc);
		dec = NULL;
		ok(b64_decode(vec[i].enc, &dec, &declen) &&
		    declen == strlen(vec[i].raw) &&
		    memcmp(dec, vec[i].raw, declen) == 0 &&
		    dec[declen] == '\0',
		    "b64-decode-rfc4648-%s-length-from-padding", vec[i].enc);
		free(dec);
	}

	/* Binary with NULs and high bytes, every remainder mod 3. */
	for (len = 1; len <= sizeof(bin); len++) {
		for (i = 0; i < len; i++)
			bin[i] = (unsigned char)(i * 37 + len);
		bin[0] = 0;
		bin[len - 1] = 0xff;
		enc = b64_encode(bin, len);
		dec = NULL;
		if (!ok(enc != NULL && b64_decode(enc, &dec, &declen) &&
		    declen == len && memcmp(dec, bin, len) == 0,
		    "b64-roundtrip-binary-len-%zu", len))
			diag("enc %s", enc ? enc : "(null)");
		free(enc);
		free(dec);
	}
}

static void
test_base64_invalid(void)
{
	static const struct {
		const char	*in;
		const char	*why;
	} bad[] = {
		{ "", "empty" },
		{ "Z", "len-1" },
		{ "Zg", "len-2-unpadded" },
		{ "Zg=", "len-3" },
		{ "Zm9vY", "len-5" },
		{ "Zm9v=", "pad-after-full-quantum" },
		{ "Zm9v====", "quantum-of-padding" },
		{ "====", "only-padding" },
		{ "Z===", "three-pads" },
		{ "Zg=a", "pad-before-data" },
		{ "Z=g=", "pad-in-middle" },
		{ "=Zg=", "leading-pad" },
		{ "Zg==Zg==", "pad-then-more-data" },
		{ "Zh==", "noncanonical-bits-two-pads" },
		{ "Zm9=", "noncanonical-bits-one-pad" },
		{ "Zm-v", "url-minus" },
		{ "Zm_v", "url-underscore" },
		{ "Zm9v\n", "trailing-newline" },
		{ " Zm9v", "leading-space" },
		{ "Zm9v ", "trailing-space" },
		{ "Zm 9v", "inner-space" },
		{ "Zm9v\r\n", "crlf" },
		{ "Zm9!", "bang" },
		{ "Zm9\x80", "high-byte" },
		{ "Zm\t9v", "tab" },
	};
	unsigned char	*out;
	size_t		 i, outlen;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = NULL;
		outlen = 12345;
		ok(!b64_decode(bad[i].in, &out, &outlen) && out == NULL &&
		    outlen == 12345, "b64-decode-rejects-%s", bad[i].why);
		free(out);
	}
	ok(!b64_decode(NULL, &out, &outlen), "b64-decode-rejects-null");
}

static void
test_key_id(void)
{
	unsigned char	 k1[CONF_KEYLEN], k2[CONF_KEYLEN];
	char		 a[CONF_KIDLEN + 1], b[CONF_KIDLEN + 1];
	size_t		 i;

	for (i = 0; i < CONF_KEYLEN; i++)
		k1[i] = (unsigned char)i;
	memset(k2, 0xff, sizeof(k2));

	/* Pinned: any change to the derivation orphans every sealed row. */
	crypto_key_id(k1, a);
	is_str(a, "84c2bb32", "key-id-known-vector-0..31");
	crypto_key_id(k2, a);
	is_str(a, "6efdb92d", "key-id-known-vector-ff");

	crypto_key_id(k1, a);
	crypto_key_id(k1, b);
	is_str(a, b, "key-id-stable-across-calls");
	ok(strlen(a) == CONF_KIDLEN &&
	    strspn(a, "0123456789abcdef") == CONF_KIDLEN,
	    "key-id-is-8-lower-hex");

	k2[0] = k1[0] ^ 1;
	memcpy(k2 + 1, k1 + 1, CONF_KEYLEN - 1);
	crypto_key_id(k2, b);
	ok(strcmp(a, b) != 0, "key-id-differs-for-one-bit-change");
	k2[0] = k1[0];
	k2[CONF_KEYLEN - 1] ^= 0x80;
	crypto_key_id(k2, b);
	ok(strcmp(a, b) != 0, "key-id-covers-last-key-byte");
}

static void
test_hkdf(void)
{
	/* RFC 5869 test case 3: no salt, no info. */
	static const unsigned char okm3[32] = {
		0x8d, 0xa4, 0xe7, 0x75, 0xa5, 0x63, 0xc1, 0x8f,
		0x71, 0x5f, 0x80, 0x2a, 0x06, 0x3c, 0x5a, 0x31,
		0xb8, 0xa1, 0x1f, 0x5c, 0x5e, 0xe1, 0x87, 0x9e,
		0xc3, 0x45, 0x4e, 0x5f, 0x3c, 0x73, 0x8d, 0x2d,
	};
	unsigned char	 ikm[22], out[32], out2[32];

	memset(ikm, 0x0b, sizeof(ikm));
	ok(crypto_hkdf(ikm, sizeof(ikm), NULL, out) &&
	    memcmp(out, okm3, 32) == 0, "hkdf-rfc5869-case-3");
	ok(crypto_hkdf(ikm, sizeof(ikm), "", out2) &&
	    memcmp(out2, okm3, 32) == 0, "hkdf-empty-info-same-as-none");
	ok(crypto_hkdf(ikm, sizeof(ikm), "stripe-sync launch token v1",
	    out2) && memcmp(out, out2, 32) != 0, "hkdf-info-changes-output");
	ok(!crypto_hkdf(ikm, 0, "x", out), "hkdf-rejects-empty-ikm");
}

static void
test_seal_roundtrip(void)
{
	static const char *const pts[] = {
		"", "k", "sk_live_51Hxxxxxxxxxxxxxxxxxxxxxxxx",
		"0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	struct conf	 cf;
	unsigned char	*ct, *pt, big[1000];
	size_t		 ctlen, ptlen, i;
	char		 kid[CONF_KIDLEN + 1];

	make_conf(&cf, 1);
	for (i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		ct = pt = NULL;
		ok(crypto_seal(&cf, "installs:42:api_key", pts[i],
		    strlen(pts[i]), &ct, &ctlen, kid) &&
		    ctlen == strlen(pts[i]) + 28,
		    "seal-len-%zu-is-nonce-ct-tag", strlen(pts[i]));
		is_str(kid, cf.keys[0].id, "seal-len-%zu-reports-key-0",
		    strlen(pts[i]));
		ok(crypto_open(&cf, kid, "installs:42:api_key", ct, ctlen,
		    &pt, &ptlen) && ptlen == strlen(pts[i]) &&
		    memcmp(pt, pts[i], ptlen) == 0 && pt[ptlen] == '\0',
		    "open-len-%zu-roundtrip-nul-terminated", strlen(pts[i]));
		if (pt != NULL)
			crypto_wipe(pt, ptlen);
		free(pt);
		free(ct);
	}

	if (!crypto_random(big, sizeof(big)))
		abort();
	big[10] = 0;
	ct = pt = NULL;
	ok(crypto_seal(&cf, "", big, sizeof(big), &ct, &ctlen, kid) &&
	    crypto_open(&cf, kid, "", ct, ctlen, &pt, &ptlen) &&
	    ptlen == sizeof(big) && memcmp(pt, big, ptlen) == 0,
	    "seal-open-binary-with-nul-empty-aad");
	free(pt);
	free(ct);

	cf.nkeys = 0;
	ct = NULL;
	ok(!crypto_seal(&cf, "a", "x", 1, &ct, &ctlen, kid) && ct == NULL,
	    "seal-refuses-empty-keyring");
	cf.nkeys = 1;
	ok(!crypto_seal(&cf, NULL, "x", 1, &ct, &ctlen, kid),
	    "seal-refuses-null-aad");
	crypto_wipe(&cf, sizeof(cf));
	ok(cf.keys[0].key[0] == 0 && cf.token_key[31] == 0 && cf.nkeys == 0,
	    "wipe-zeroes-memory");
}

static void
test_open_failures(void)
{
	struct conf	 cf;
	unsigned char	*ct, *pt, *mod;
	size_t		 ctlen, ptlen, i;
	char		 kid[CONF_KIDLEN + 1];
	const char	*msg = "secret-value";
	int		 opened;
	static const struct {
		const char	*why;
		size_t		 pos;	/* from the start; SIZE_MAX = last */
	} flips[] = {
		{ "nonce-first-byte", 0 },
		{ "nonce-last-byte", 11 },
		{ "ciphertext-first-byte", 12 },
		{ "ciphertext-last-byte", 12 + 11 },
		{ "tag-first-byte", 12 + 12 },
		{ "tag-last-byte", SIZE_MAX },
	};

	make_conf(&cf, 2);
	ct = NULL;
	if (!crypto_seal(&cf, "installs:1:api_key", msg, strlen(msg), &ct,
	    &ctlen, kid))
		abort();

	pt = NULL;
	ok(!crypto_open(&cf, kid, "installs:2:api_key", ct, ctlen, &pt,
	    &ptlen) && pt == NULL, "open-fails-wrong-aad-other-row");
	ok(!crypto_open(&cf, kid, "installs:1:api_ke", ct, ctlen, &pt,
	    &ptlen), "open-fails-aad-truncated");
	ok(!crypto_open(&cf, kid, "", ct, ctlen, &pt, &ptlen),
	    "open-fails-aad-empty");

	for (i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		size_t pos = flips[i].pos == SIZE_MAX ?
		    ctlen - 1 : flips[i].pos;
		ct[pos] ^= 0x01;
		pt = NULL;
		ok(!crypto_open(&cf, kid, "installs:1:api_key", ct, ctlen,
		    &pt, &ptlen) && pt == NULL,
		    "open-fails-flipped-bit-%s", flips[i].why);
		ct[pos] ^= 0x01;
	}

	/* Every bit of every byte, not just the named ones. */
	opened = 0;
	for (i = 0; i < ctlen * 8; i++) {
		ct[i / 8] ^= (unsigned char)(1 << (i % 8));
		pt = NULL;
		if (crypto_open(&cf, kid, "installs:1:api_key", ct, ctlen,
		    &pt, &ptlen)) {
			opened++;
			diag("opened with bit %zu flipped", i);
			free(pt);
		}
		ct[i / 8] ^= (unsigned char)(1 << (i % 8));
	}
	is_int(opened, 0, "open-fails-any-single-bit-flip");

	ok(!crypto_open(&cf, kid, "installs:1:api_key", ct, ctlen - 1, &pt,
	    &ptlen), "open-fails-truncated-by-one");
	ok(!crypto_open(&cf, kid, "installs:1:api_key", ct, 28, &pt,
	    &ptlen), "open-fails-truncated-to-nonce-and-tag-length");
	ok(!crypto_open(&cf, kid, "installs:1:api_key", ct, 27, &pt,
	    &ptlen), "open-fails-shorter-than-28");
	ok(!crypto_open(&cf, kid, "installs:1:api_key", ct, 0, &pt,
	    &ptlen), "open-fails-empty-input");

	if ((mod = malloc(ctlen + 1)) == NULL)
		abort();
	memcpy(mod, ct, ctlen);
	mod[ctlen] = 0;
	ok(!crypto_open(&cf, kid, "installs:1:api_key", mod, ctlen + 1, &pt,
	    &ptlen), "open-fails-extra-trailing-byte");
	free(mod);

	ok(!crypto_open(&cf, "00000000", "installs:1:api_key", ct, ctlen,
	    &pt, &ptlen), "open-fails-unknown-kid");
	ok(!crypto_open(&cf, "", "installs:1:api_key", ct, ctlen, &pt,
	    &ptlen), "open-fails-empty-kid");
	ok(!crypto_open(&cf, cf.keys[1].id, "installs:1:api_key", ct, ctlen,
	    &pt, &ptlen), "open-fails-kid-of-other-key");

	/* A kid beyond nkeys is not part of the keyring. */
	cf.nkeys = 1;
	memcpy(cf.keys[1].key, cf.keys[0].key, CONF_KEYLEN);
	snprintf(cf.keys[1].id, sizeof(cf.keys[1].id), "%s", "abcdef01");
	snprintf(cf.keys[0].id, sizeof(cf.keys[0].id), "%s", "12345678");
	ok(!crypto_open(&cf, "abcdef01", "installs:1:api_key", ct, ctlen,
	    &pt, &ptlen), "open-ignores-keys-beyond-nkeys");
	free(ct);
}

static void
test_seal_random_nonce(void)
{
	struct conf	 cf;
	unsigned char	*a = NULL, *b = NULL;
	size_t		 alen, blen;
	char		 kid[CONF_KIDLEN + 1];

	make_conf(&cf, 1);
	if (!crypto_seal(&cf, "r", "same", 4, &a, &alen, kid) ||
	    !crypto_seal(&cf, "r", "same", 4, &b, &blen, kid))
		abort();
	ok(alen == blen && memcmp(a, b, 12) != 0,
	    "seal-twice-uses-different-nonces");
	ok(memcmp(a + 12, b + 12, alen - 12) != 0,
	    "seal-twice-gives-different-ciphertext");
	free(a);
	free(b);
}

static void
test_rotation(void)
{
	struct conf	 old, cur;
	unsigned char	*ct = NULL, *ct2 = NULL, *pt = NULL;
	size_t		 ctlen, ct2len, ptlen;
	char		 kid[CONF_KIDLEN + 1], kid2[CONF_KIDLEN + 1];

	make_conf(&old, 1);
	make_conf(&cur, 2);
	cur.keys[1] = old.keys[0];

	if (!crypto_seal(&old, "installs:9:stripe_key", "rk_live_1", 9, &ct,
	    &ctlen, kid))
		abort();
	ok(crypto_open(&cur, kid, "installs:9:stripe_key", ct, ctlen, &pt,
	    &ptlen) && ptlen == 9 && memcmp(pt, "rk_live_1", 9) == 0,
	    "open-with-old-key-in-keys-1-after-rotation");
	free(pt);
	pt = NULL;

	ok(crypto_seal(&cur, "installs:9:stripe_key", "rk_live_1", 9, &ct2,
	    &ct2len, kid2) && strcmp(kid2, cur.keys[0].id) == 0 &&
	    strcmp(kid2, kid) != 0, "reseal-after-rotation-uses-new-key");
	ok(!crypto_open(&old, kid2, "installs:9:stripe_key", ct2, ct2len,
	    &pt, &ptlen), "old-keyring-cannot-open-new-seal");

	/* Same kid string, wrong key material: the tag must catch it. */
	snprintf(old.keys[0].id, sizeof(old.keys[0].id), "%s", kid2);
	ok(!crypto_open(&old, kid2, "installs:9:stripe_key", ct2, ct2len,
	    &pt, &ptlen), "open-fails-right-kid-wrong-key");
	free(ct);
	free(ct2);
}

static void
test_token_roundtrip(void)
{
	struct conf	 cf;
	struct token	 t, got;
	char		*tok, *tok2;
	char		 longid[TOKEN_IDMAX + 1];

	make_conf(&cf, 1);
	make_token(&t, "inst_1", "host.example:8080", 3, NOW + 600);
	tok = token_mint(&cf, &t);
	ok(tok != NULL, "token-mint-succeeds");
	if (tok == NULL)
		return;
	ok(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.") == strlen(tok),
	    "token-only-url-safe-chars");
	memset(&got, 0xaa, sizeof(got));
	is_int(token_verify(&cf, tok, NOW, &got), TOKEN_OK,
	    "token-verify-roundtrip-ok");
	is_str(got.install_id, "inst_1", "token-verify-fills-install-id");
	is_str(got.instance_id, "host.example:8080",
	    "token-verify-fills-instance-id");
	is_int(got.generation, 3, "token-verify-fills-generation");
	is_int(got.expires, NOW + 600, "token-verify-fills-expires");
	is_int(token_verify(&cf, tok, NOW, NULL), TOKEN_OK,
	    "token-verify-null-out-ok");
	is_int(token_verify(&cf, tok, NOW + 599, NULL), TOKEN_OK,
	    "token-valid-one-second-before-expiry");

	tok2 = token_mint(&cf, &t);
	ok(tok2 != NULL && strcmp(tok, tok2) != 0,
	    "token-mint-twice-differs-by-nonce");
	free(tok2);
	free(tok);

	/* Largest ids: must still fit under the verify length limit. */
	memset(longid, 'x', TOKEN_IDMAX);
	longid[TOKEN_IDMAX] = '\0';
	make_token(&t, longid, longid, INT64_MAX, INT64_MAX);
	tok = token_mint(&cf, &t);
	ok(tok != NULL && strlen(tok) <= 1024, "token-max-ids-fits-1024");
	memset(&got, 0, sizeof(got));
	is_int(token_verify(&cf, tok, NOW, &got), TOKEN_OK,
	    "token-max-ids-verifies");
	ok(strcmp(got.install_id, longid) == 0 &&
	    got.generation == INT64_MAX && got.expires == INT64_MAX,
	    "token-max-values-roundtrip");
	free(tok);

	make_token(&t, "AZaz09_.:-", "-", 1, NOW + 1);
	tok = token_mint(&cf, &t);
	is_int(token_verify(&cf, tok, NOW, &got), TOKEN_OK,
	    "token-full-id-charset-roundtrip");
	free(tok);
}

/* A token made by an independent implementation (Python hmac/base64). */
static void
test_token_known_vector(void)
{
	struct conf	 cf;
	struct token	 got;
	size_t		 i;
	const char	*tok = "djF8aW5zdF8xfGhvc3QuZXhhbXBsZTo4MDgwfDN8NDEwMjQ0"
	    "NDgwMHwwMDExMjIzMzQ0NTU2Njc3ODg5OWFhYmJjY2RkZWVmZg."
	    "ARCTYLxHrseuD8ixmelW_NJpBDNCwm6hVYMvZTFuQuQ";

	memset(&cf, 0, sizeof(cf));
	for (i = 0; i < sizeof(cf.token_key); i++)
		cf.token_key[i] = (unsigned char)i;
	memset(&got, 0, sizeof(got));
	is_int(token_verify(&cf, tok, NOW, &got), TOKEN_OK,
	    "token-format-matches-independent-implementation");
	is_str(got.instance_id, "host.example:8080",
	    "token-known-vector-instance");
	is_int(got.expires, FAR_FUTURE, "token-known-vector-expires");
}

static void
test_token_tamper(void)
{
	static const char repl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.+/=| ";
	struct conf	 cf;
	struct token	 t;
	char		*tok, *mod;
	size_t		 len, i, j, bad;
	enum token_status st;

	make_conf(&cf, 1);
	make_token(&t, "i1", "inst-a", 1, NOW + 600);
	if ((tok = token_mint(&cf, &t)) == NULL)
		abort();
	len = strlen(tok);
	if ((mod = malloc(len + 1)) == NULL)
		abort();

	/* Substitute every position with every other character. */
	for (i = 0; i < len; i++) {
		bad = 0;
		for (j = 0; j < sizeof(repl) - 1; j++) {
			if (repl[j] == tok[i])
				continue;
			memcpy(mod, tok, len + 1);
			mod[i] = repl[j];
			if ((st = token_verify(&cf, mod, NOW, NULL)) ==
			    TOKEN_OK) {
				diag("accepted %c at %zu", repl[j], i);
				bad++;
			}
		}
		is_int(bad, 0, "token-rejects-any-change-at-position-%zu", i);
	}

	/* Deleting any one character. */
	bad = 0;
	for (i = 0; i < len; i++) {
		memcpy(mod, tok, i);
		memcpy(mod + i, tok + i + 1, len - i);
		if (token_verify(&cf, mod, NOW, NULL) == TOKEN_OK)
			bad++;
	}
	is_int(bad, 0, "token-rejects-any-deleted-character");

	free(mod);
	free(tok);
}

static void
test_token_other_key(void)
{
	struct conf	 a, b;
	struct token	 t, got;
	char		*tok;

	make_conf(&a, 1);
	make_conf(&b, 1);
	make_token(&t, "i1", "inst-a", 1, NOW + 600);
	tok = token_mint(&b, &t);
	memset(&got, 0, sizeof(got));
	is_int(token_verify(&a, tok, NOW, &got), TOKEN_BAD_SIGNATURE,
	    "token-from-other-token-key-bad-signature");
	is_str(got.install_id, "", "token-bad-signature-leaves-out-empty");
	/* Expired and badly signed: signature is checked first. */
	is_int(token_verify(&a, tok, NOW + 10000, NULL), TOKEN_BAD_SIGNATURE,
	    "token-bad-signature-wins-over-expiry");
	free(tok);
}

static void
test_token_expired(void)
{
	struct conf	 cf;
	struct token	 t, got;
	char		*tok;

	make_conf(&cf, 1);
	make_token(&t, "i9", "inst-z", 7, NOW);
	tok = token_mint(&cf, &t);
	memset(&got, 0, sizeof(got));
	is_int(token_verify(&cf, tok, NOW, &got), TOKEN_EXPIRED,
	    "token-expired-at-exact-expiry");
	is_str(got.install_id, "i9", "token-expired-fills-install-id");
	is_str(got.instance_id, "inst-z", "token-expired-fills-instance-id");
	is_int(got.generation, 7, "token-expired-fills-generation");
	is_int(got.expires, NOW, "token-expired-fills-expires");
	is_int(token_verify(&cf, tok, NOW - 1, NULL), TOKEN_OK,
	    "token-ok-one-second-before");
	is_int(token_verify(&cf, tok, INT64_MAX, NULL), TOKEN_EXPIRED,
	    "token-expired-far-future-now");
	free(tok);

	make_token(&t, "i9", "inst-z", 7, 0);
	tok = token_mint(&cf, &t);
	is_int(token_verify(&cf, tok, NOW, NULL), TOKEN_EXPIRED,
	    "token-expired-epoch-zero");
	free(tok);
}

static void
test_token_malformed_shape(void)
{
	struct conf	 cf;
	struct token	 t, got;
	char		*tok, *dot, buf[2100];
	size_t		 i, len;
	static const struct {
		const char	*tok;
		const char	*why;
	} bad[] = {
		{ "", "empty" },
		{ "abcdef", "no-dot" },
		{ "abcd.abcd.abcd", "two-dots" },
		{ ".", "only-dot" },
		{ ".abcd", "empty-payload" },
		{ "abcd.", "empty-tag" },
		{ "..", "only-dots" },
		{ "YQ.Y", "part-length-1-mod-4" },
		{ "YQ==.YQ", "padded-payload" },
		{ "ab+d.abcd", "plus-char" },
		{ "ab/d.abcd", "slash-char" },
		{ "ab d.abcd", "space-char" },
		{ "abcd.ab%2B", "percent-encoded" },
		{ "YWJj.YWJj", "tag-wrong-length" },
	};
	static const char *const swaps[] = { "+", "/", "=" };

	make_conf(&cf, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&got, 0, sizeof(got));
		is_int(token_verify(&cf, bad[i].tok, NOW, &got),
		    TOKEN_MALFORMED, "token-malformed-%s", bad[i].why);
	}
	is_int(token_verify(&cf, NULL, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-null");

	/* Take a real token and break its alphabet at a safe position. */
	make_token(&t, "i1", "inst-a", 1, NOW + 600);
	if ((tok = token_mint(&cf, &t)) == NULL)
		abort();
	len = strlen(tok);
	dot = strchr(tok, '.');
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "%s", tok);
		buf[1] = swaps[i][0];
		is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
		    "token-malformed-%s-in-payload", swaps[i]);
		snprintf(buf, sizeof(buf), "%s", tok);
		buf[len - 1] = swaps[i][0];
		is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
		    "token-malformed-%s-in-tag", swaps[i]);
	}
	snprintf(buf, sizeof(buf), "%s=", tok);
	is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-trailing-padding");
	snprintf(buf, sizeof(buf), "%s.", tok);
	is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-trailing-dot");
	snprintf(buf, sizeof(buf), "%.*s", (int)(dot - tok), tok);
	is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-payload-only");
	snprintf(buf, sizeof(buf), "%s", dot);
	is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-tag-only");
	snprintf(buf, sizeof(buf), "%s\n", tok);
	is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-trailing-newline");

	/* Over the length limit, even if the front is a real token. */
	memset(buf, 'A', 2000);
	buf[1000] = '.';
	buf[2000] = '\0';
	is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-2000-chars");
	memcpy(buf, tok, len);
	memset(buf + len, 'A', 1025 - len);
	buf[1025] = '\0';
	is_int(token_verify(&cf, buf, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-1025-chars-real-prefix");
	free(tok);

	/* No NUL within the limit: must stop at 1025 (ASan catches more). */
	if ((tok = malloc(1025)) == NULL)
		abort();
	memset(tok, 'A', 1025);
	tok[500] = '.';
	is_int(token_verify(&cf, tok, NOW, NULL), TOKEN_MALFORMED,
	    "token-malformed-unterminated-never-read-past-limit");
	free(tok);
}

/*
 * Payloads signed with the right key but not in our format: the
 * parser, not the signature, must refuse them.
 */
static void
test_token_malformed_payload(void)
{
	static const char nonce[] = "00112233445566778899aabbccddeeff";
	char	 id129[TOKEN_IDMAX + 2];
	char	 payload[600];
	struct conf	 cf;
	struct token	 got;
	char		*tok;
	size_t		 i;
	static const struct {
		const char	*fmt;	/* %s: nonce */
		const char	*why;
	} bad[] = {
		{ "v2|i1|inst|1|4102444800|%s", "version-v2" },
		{ "|i1|inst|1|4102444800|%s", "version-missing" },
		{ "v1|i1|inst|1|4102444800", "five-fields" },
		{ "v1|i1|inst|1|4102444800|%s|x", "seven-fields" },
		{ "v1|i1|inst|1|4102444800|%s|", "trailing-bar" },
		{ "v1||inst|1|4102444800|%s", "empty-install" },
		{ "v1|i1||1|4102444800|%s", "empty-instance" },
		{ "v1|i 1|inst|1|4102444800|%s", "space-in-install" },
		{ "v1|i1|in/st|1|4102444800|%s", "slash-in-instance" },
		{ "v1|i1|inst|0|4102444800|%s", "generation-zero" },
		{ "v1|i1|inst|-1|4102444800|%s", "generation-negative" },
		{ "v1|i1|inst|+1|4102444800|%s", "generation-plus" },
		{ "v1|i1|inst|01|4102444800|%s", "generation-leading-zero" },
		{ "v1|i1|inst|1a|4102444800|%s", "generation-junk" },
		{ "v1|i1|inst| 1|4102444800|%s", "generation-space" },
		{ "v1|i1|inst||4102444800|%s", "generation-empty" },
		{ "v1|i1|inst|9223372036854775808|4102444800|%s",
		    "generation-overflow" },
		{ "v1|i1|inst|1|99999999999999999999|%s",
		    "expires-overflow" },
		{ "v1|i1|inst|1|-4102444800|%s", "expires-negative" },
		{ "v1|i1|inst|1|0x10|%s", "expires-hex" },
		{ "v1|i1|inst|1||%s", "expires-empty" },
		{ "v1|i1|inst|1|4102444800|", "nonce-empty" },
		{ "v1|i1|inst|1|4102444800|0011223344556677", "nonce-short" },
		{ "v1|i1|inst|1|4102444800|%s0", "nonce-long" },
		{ "v1|i1|inst|1|4102444800|"
		    "00112233445566778899AABBCCDDEEFF", "nonce-upper-case" },
		{ "v1|i1|inst|1|4102444800|"
		    "0011223344556677889zaabbccddeeff", "nonce-not-hex" },
		{ "v1|i1|inst|1|4102444800|%s\n", "trailing-newline" },
	};

	make_conf(&cf, 1);

	/* Control: the forger makes tokens the verifier accepts. */
	snprintf(payload, sizeof(payload), "v1|i1|inst|1|4102444800|%s",
	    nonce);
	tok = forge(cf.token_key, payload, strlen(payload));
	is_int(token_verify(&cf, tok, NOW, NULL), TOKEN_OK,
	    "token-forged-control-is-ok");
	free(tok);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
		snprintf(payload, sizeof(payload), bad[i].fmt, nonce);
#pragma GCC diagnostic pop
		tok = forge(cf.token_key, payload, strlen(payload));
		memset(&got, 0, sizeof(got));
		is_int(token_verify(&cf, tok, NOW, &got), TOKEN_MALFORMED,
		    "token-signed-payload-%s", bad[i].why);
		is_str(got.install_id, "", "token-signed-payload-%s-no-fill",
		    bad[i].why);
		free(tok);
	}

	/* Embedded NUL inside a signed payload. */
	snprintf(payload, sizeof(payload), "v1|i1|inst|1|4102444800|%s",
	    nonce);
	payload[4] = '\0';
	tok = forge(cf.token_key, payload, strlen(payload + 5) + 5);
	is_int(token_verify(&cf, tok, NOW, NULL), TOKEN_MALFORMED,
	    "token-signed-payload-embedded-nul");
	free(tok);

	memset(id129, 'a', TOKEN_IDMAX + 1);
	id129[TOKEN_IDMAX + 1] = '\0';
	snprintf(payload, sizeof(payload), "v1|%s|inst|1|4102444800|%s",
	    id129, nonce);
	tok = forge(cf.token_key, payload, strlen(payload));
	is_int(token_verify(&cf, tok, NOW, NULL), TOKEN_MALFORMED,
	    "token-signed-payload-install-id-129-chars");
	free(tok);
}

static void
test_token_mint_refuses(void)
{
	struct conf	 cf;
	struct token	 t;
	char		*tok;
	char		 id129[TOKEN_IDMAX + 2], id128[TOKEN_IDMAX + 1];
	size_t		 i;
	static const struct {
		const char	*id;
		const char	*why;
	} bad[] = {
		{ "a|b", "bar" },
		{ "", "empty" },
		{ "a b", "space" },
		{ "a/b", "slash" },
		{ "a=b", "equals" },
		{ "a\nb", "newline" },
		{ "caf\xc3\xa9", "non-ascii" },
	};

	make_conf(&cf, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_token(&t, bad[i].id, "inst", 1, NOW + 600);
		tok = token_mint(&cf, &t);
		ok(tok == NULL, "mint-refuses-install-id-%s", bad[i].why);
		free(tok);
		make_token(&t, "inst", bad[i].id, 1, NOW + 600);
		tok = token_mint(&cf, &t);
		ok(tok == NULL, "mint-refuses-instance-id-%s", bad[i].why);
		free(tok);
	}

	/* 129 characters: the struct cannot hold it, so no NUL at all. */
	memset(id129, 'a', sizeof(id129));
	make_token(&t, "x", "inst", 1, NOW + 600);
	memcpy(t.install_id, id129, sizeof(t.install_id));
	tok = token_mint(&cf, &t);
	ok(tok == NULL, "mint-refuses-install-id-129-chars-unterminated");
	free(tok);
	make_token(&t, "inst", "x", 1, NOW + 600);
	memcpy(t.instance_id, id129, sizeof(t.instance_id));
	tok = token_mint(&cf, &t);
	ok(tok == NULL, "mint-refuses-instance-id-129-chars-unterminated");
	free(tok);

	memset(id128, 'a', TOKEN_IDMAX);
	id128[TOKEN_IDMAX] = '\0';
	make_token(&t, id128, "inst", 1, NOW + 600);
	tok = token_mint(&cf, &t);
	ok(tok != NULL, "mint-accepts-128-char-id");
	free(tok);

	make_token(&t, "i1", "inst", 0, NOW + 600);
	tok = token_mint(&cf, &t);
	ok(tok == NULL, "mint-refuses-generation-0");
	free(tok);
	make_token(&t, "i1", "inst", -5, NOW + 600);
	tok = token_mint(&cf, &t);
	ok(tok == NULL, "mint-refuses-generation-negative");
	free(tok);
	make_token(&t, "i1", "inst", 1, -1);
	tok = token_mint(&cf, &t);
	ok(tok == NULL, "mint-refuses-negative-expiry");
	free(tok);
	ok(token_mint(&cf, NULL) == NULL, "mint-refuses-null-token");
}

static void
test_equal(void)
{
	static const struct {
		const char	*a, *b;
		size_t		 alen, blen;
		int		 want;
		const char	*why;
	} vec[] = {
		{ "abc", "abc", 3, 3, 1, "equal" },
		{ "", "", 0, 0, 1, "both-empty" },
		{ "abc", "abd", 3, 3, 0, "last-byte-differs" },
		{ "xbc", "abc", 3, 3, 0, "first-byte-differs" },
		{ "abc", "abcd", 3, 4, 0, "prefix-shorter" },
		{ "abcd", "abc", 4, 3, 0, "prefix-longer" },
		{ "", "a", 0, 1, 0, "empty-vs-one" },
		{ "a\0b", "a\0c", 3, 3, 0, "after-nul-differs" },
		{ "a\0b", "a\0b", 3, 3, 1, "equal-with-nul" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++)
		is_int(crypto_equal(vec[i].a, vec[i].alen, vec[i].b,
		    vec[i].blen), vec[i].want, "crypto-equal-%s", vec[i].why);
}

static void
test_random(void)
{
	unsigned char	 a[32], b[32], z[32];

	memset(z, 0, sizeof(z));
	ok(crypto_random(a, sizeof(a)) && crypto_random(b, sizeof(b)),
	    "random-succeeds");
	ok(memcmp(a, b, sizeof(a)) != 0, "random-two-draws-differ");
	ok(memcmp(a, z, sizeof(a)) != 0, "random-not-all-zero");
	ok(crypto_random(a, 0), "random-zero-length-ok");
}

int
main(void)
{

	test_base64_roundtrip();
	test_base64_invalid();
	test_key_id();
	test_hkdf();
	test_seal_roundtrip();
	test_open_failures();
	test_seal_random_nonce();
	test_rotation();
	test_token_roundtrip();
	test_token_known_vector();
	test_token_tamper();
	test_token_other_key();
	test_token_expired();
	test_token_malformed_shape();
	test_token_malformed_payload();
	test_token_mint_refuses();
	test_equal();
	test_random();
	return done_testing();
}
