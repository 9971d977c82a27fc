/*
 * crypto.c: sealing secrets at rest (AES-256-GCM), launch tokens
 * (HMAC-SHA256), key ids, HKDF and base64, all on top of OpenSSL 3.
 * Nothing here logs: callers decide what to say, and never say a secret.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "conf.h"
#include "crypto.h"

#define GCM_NONCELEN	12
#define GCM_TAGLEN	16
#define TOKEN_MAXLEN	1024	/* longest token token_verify() looks at */
#define TOKEN_NONCELEN	16	/* random bytes, 32 hex digits */
#define TOKEN_TAGLEN	32	/* HMAC-SHA256 */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char id_charset[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
static const char key_id_label[] = "stripe-sync key id v1";
static const char token_version[] = "v1";

/*
 * AES-256-GCM, fetched from the provider once per process: passing
 * EVP_aes_256_gcm() to an init fetches it again on every call.  NULL if
 * the provider has none (every init then fails).
 */
static const EVP_CIPHER *
gcm_cipher(void)
{
	static EVP_CIPHER	*c;

	if (c == NULL)
		c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	return c;
}

/*
 * Fill buf with len bytes from OpenSSL's CSPRNG, in pieces small enough
 * for RAND_bytes()'s int length.  Returns 1 on success, 0 on failure.
 */
int
crypto_random(void *buf, size_t len)
{
	unsigned char	*p = buf;
	size_t		 n;

	while (len > 0) {
		n = len > INT_MAX ? INT_MAX : len;
		if (RAND_bytes(p, (int)n) != 1)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

int
crypto_random_id(const char *prefix, char *buf, size_t bufsz)
{
	unsigned char	 r[12];
	size_t		 i, n = strlen(prefix);

	if (bufsz < n + 2 * sizeof(r) + 1 || !crypto_random(r, sizeof(r)))
		return 0;
	memcpy(buf, prefix, n);
	for (i = 0; i < sizeof(r); i++)
		snprintf(buf + n + 2 * i, 3, "%02x", r[i]);
	return 1;
}

/*
 * Returns 1 if a[0..alen) and b[0..blen) are equal, else 0.  The bytes
 * are compared in constant time; only the lengths are compared openly.
 */
int
crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{

	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

/* Zero p[0..len) with OPENSSL_cleanse(), which the compiler keeps. */
void
crypto_wipe(void *p, size_t len)
{

	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

/*
 * Standard padded base64 of in[0..len).  Returns an allocated NUL
 * terminated string the caller must free, or NULL on failure.
 */
char *
b64_encode(const void *in, size_t len)
{
	char	*out;
	size_t	 outlen;

	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	outlen = (len + 2) / 3 * 4;
	if ((out = malloc(outlen + 1)) == NULL)
		return NULL;
	if (len == 0) {
		out[0] = '\0';
		return out;
	}
	if (EVP_EncodeBlock((unsigned char *)out, in, (int)len) !=
	    (int)outlen) {
		free(out);
		return NULL;
	}
	out[outlen] = '\0';
	return out;
}

/*
 * Strictly decode canonical padded base64: no whitespace, length a
 * multiple of 4, '=' only as the last one or two characters, and the
 * unused bits of the last character zero (so every byte string has
 * exactly one encoding).  On success *out is allocated (caller frees),
 * NUL terminated for convenience, and *outlen excludes that NUL.
 * Returns 1 on success, 0 on failure (*out is then untouched).
 */
int
b64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	unsigned char	*buf;
	char		 last[5];
	size_t		 len, n, pad, i, declen, tail;
	int		 rc;

	if (in == NULL || out == NULL || outlen == NULL)
		return 0;
	len = strlen(in);
	if (len == 0 || len % 4 != 0 || len > INT_MAX)
		return 0;

	/* Alphabet first, then at most two '=' at the very end. */
	n = strspn(in, b64_alphabet);
	pad = len - n;
	if (pad > 2)
		return 0;
	for (i = n; i < len; i++)
		if (in[i] != '=')
			return 0;

	/*
	 * EVP_DecodeBlock() counts each '=' as a zero byte: the true
	 * length is three bytes per quantum less one per '='.
	 */
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return 0;
	rc = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (rc < 0 || (size_t)rc != len / 4 * 3) {
		free(buf);
		return 0;
	}
	declen = (size_t)rc - pad;

	/*
	 * Non-canonical trailing bits: re-encode the last quantum and
	 * require the very same four characters back.
	 */
	tail = declen % 3 == 0 ? 3 : declen % 3;
	if (EVP_EncodeBlock((unsigned char *)last, buf + declen - tail,
	    (int)tail) != 4 || memcmp(last, in + len - 4, 4) != 0) {
		crypto_wipe(buf, len / 4 * 3);
		free(buf);
		return 0;
	}

	buf[declen] = '\0';
	*out = buf;
	*outlen = declen;
	return 1;
}

/*
 * HKDF-SHA256 with no salt of ikm[0..ikmlen), with "info" (may be NULL)
 * as the context string, into out[0..32).  Returns 1 on success, 0 on
 * failure (out is then wiped).
 */
int
crypto_hkdf(const void *ikm, size_t ikmlen, const char *info,
    unsigned char out[32])
{
	EVP_KDF		*kdf;
	EVP_KDF_CTX	*kctx = NULL;
	OSSL_PARAM	 params[4], *p = params;
	int		 rc = 0;

	if (ikm == NULL || ikmlen == 0)
		return 0;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return 0;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return 0;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	if (info != NULL)
		*p++ = OSSL_PARAM_construct_octet_string(
		    OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();

	if (EVP_KDF_derive(kctx, out, 32, params) == 1)
		rc = 1;
	else
		crypto_wipe(out, 32);
	EVP_KDF_CTX_free(kctx);
	return rc;
}

/*
 * The id of a master key: the first four bytes of
 * SHA-256("stripe-sync key id v1" || key) as eight lower-case hex digits
 * in id (NUL terminated).  Should hashing fail, id is the empty string,
 * which matches no key.
 */
void
crypto_key_id(const unsigned char key[CONF_KEYLEN],
    char id[CONF_KIDLEN + 1])
{
	unsigned char	 buf[sizeof(key_id_label) - 1 + CONF_KEYLEN];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	size_t		 i;

	id[0] = '\0';
	memcpy(buf, key_id_label, sizeof(key_id_label) - 1);
	memcpy(buf + sizeof(key_id_label) - 1, key, CONF_KEYLEN);
	if (EVP_Digest(buf, sizeof(buf), md, &mdlen, EVP_sha256(), NULL)
	    != 1 || mdlen < CONF_KIDLEN / 2) {
		crypto_wipe(buf, sizeof(buf));
		return;
	}
	crypto_wipe(buf, sizeof(buf));
	for (i = 0; i < CONF_KIDLEN / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
	id[CONF_KIDLEN] = '\0';
}

/*
 * Seal pt[0..ptlen) under cf->keys[0] with AES-256-GCM, a fresh random
 * 96-bit nonce and the string aad as associated data.  On success *out
 * is allocated (caller frees) and holds nonce || ciphertext || tag,
 * *outlen its length, and kid the id of the key.  Returns 1 on success,
 * 0 on failure (nothing allocated).
 */
int
crypto_seal(const struct conf *cf, const char *aad,
    const void *pt, size_t ptlen,
    unsigned char **out, size_t *outlen, char kid[CONF_KIDLEN + 1])
{
	EVP_CIPHER_CTX	*ctx = NULL;
	unsigned char	*buf = NULL;
	size_t		 aadlen, len;
	int		 n, rc = 0;

	if (cf == NULL || cf->nkeys < 1 || aad == NULL ||
	    out == NULL || outlen == NULL || kid == NULL ||
	    (pt == NULL && ptlen > 0))
		return 0;
	aadlen = strlen(aad);
	if (ptlen > (size_t)INT_MAX - GCM_NONCELEN - GCM_TAGLEN ||
	    aadlen > INT_MAX)
		return 0;

	len = GCM_NONCELEN + ptlen + GCM_TAGLEN;
	if ((buf = malloc(len)) == NULL)
		return 0;
	if (!crypto_random(buf, GCM_NONCELEN))
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_EncryptInit_ex(ctx, gcm_cipher(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    GCM_NONCELEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, cf->keys[0].key, buf) != 1)
		goto out;
	if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &n,
	    (const unsigned char *)aad, (int)aadlen) != 1)
		goto out;
	if (ptlen > 0 && (EVP_EncryptUpdate(ctx, buf + GCM_NONCELEN, &n,
	    pt, (int)ptlen) != 1 || (size_t)n != ptlen))
		goto out;
	if (EVP_EncryptFinal_ex(ctx, buf + GCM_NONCELEN + ptlen, &n) != 1 ||
	    n != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAGLEN,
	    buf + GCM_NONCELEN + ptlen) != 1)
		goto out;

	memcpy(kid, cf->keys[0].id, CONF_KIDLEN + 1);
	kid[CONF_KIDLEN] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return rc;
}

/*
 * Open what crypto_seal() made, with the key named kid among
 * cf->keys[0..nkeys) and aad as associated data.  On success *pt is
 * allocated with a NUL after the *ptlen plaintext bytes; the caller must
 * crypto_wipe() and free it.  Returns 0 (nothing allocated) for an
 * unknown kid, short input, wrong aad or any tampering.
 */
int
crypto_open(const struct conf *cf, const char *kid, const char *aad,
    const unsigned char *in, size_t inlen,
    unsigned char **pt, size_t *ptlen)
{
	EVP_CIPHER_CTX		*ctx = NULL;
	const struct conf_key	*k = NULL;
	unsigned char		*buf = NULL;
	unsigned char		 tag[GCM_TAGLEN];
	size_t			 i, aadlen, len;
	int			 n, rc = 0;

	if (cf == NULL || kid == NULL || aad == NULL || in == NULL ||
	    pt == NULL || ptlen == NULL)
		return 0;
	if (inlen < GCM_NONCELEN + GCM_TAGLEN || inlen > INT_MAX)
		return 0;
	aadlen = strlen(aad);
	if (aadlen > INT_MAX)
		return 0;
	for (i = 0; i < cf->nkeys && i < CONF_MAXKEYS; i++)
		if (cf->keys[i].id[0] != '\0' &&
		    strcmp(cf->keys[i].id, kid) == 0) {
			k = &cf->keys[i];
			break;
		}
	if (k == NULL)
		return 0;

	len = inlen - GCM_NONCELEN - GCM_TAGLEN;
	memcpy(tag, in + inlen - GCM_TAGLEN, GCM_TAGLEN);
	if ((buf = malloc(len + 1)) == NULL)
		return 0;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_DecryptInit_ex(ctx, gcm_cipher(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    GCM_NONCELEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, in) != 1)
		goto out;
	if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &n,
	    (const unsigned char *)aad, (int)aadlen) != 1)
		goto out;
	if (len > 0 && (EVP_DecryptUpdate(ctx, buf, &n,
	    in + GCM_NONCELEN, (int)len) != 1 || (size_t)n != len))
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAGLEN,
	    tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, buf + len, &n) != 1 || n != 0)
		goto out;

	buf[len] = '\0';
	*pt = buf;
	*ptlen = len;
	buf = NULL;
	rc = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (buf != NULL) {
		crypto_wipe(buf, len + 1);
		free(buf);
	}
	return rc;
}

/*
 * base64url without padding of in[0..len).  Returns an allocated string
 * the caller must free, or NULL on failure.
 */
char *
b64url_encode(const void *in, size_t len)
{
	char	*s, *p;

	if ((s = b64_encode(in, len)) == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=') {
			*p = '\0';
			break;
		}
	}
	return s;
}

/* The value of one base64url character, or -1. */
static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strictly decode in[0..len) as unpadded base64url: only its alphabet,
 * no '=', a length that is not 1 more than a multiple of 4, and the
 * unused bits of the last character zero (so every byte string has
 * exactly one encoding).  len is at most TOKEN_MAXLEN.  On success *out
 * is allocated (caller frees), NUL terminated, and *outlen excludes the
 * NUL.  Returns 1 on success, 0 on failure.
 */
static int
b64url_decode(const char *in, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*buf;
	uint32_t	 acc = 0;
	size_t		 i, n = 0;
	int		 v, bits = 0;

	if (len == 0 || len > TOKEN_MAXLEN || len % 4 == 1)
		return 0;
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		return 0;
	for (i = 0; i < len; i++) {
		if ((v = b64url_value((unsigned char)in[i])) < 0)
			goto fail;
		acc = (acc << 6) | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	if (acc != 0)		/* non-canonical trailing bits */
		goto fail;
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 1;
fail:
	crypto_wipe(buf, len / 4 * 3 + 3);
	free(buf);
	return 0;
}

/* Returns 1 if s is 1..TOKEN_IDMAX characters of [A-Za-z0-9_.:-]. */
static int
token_id_valid(const char *s)
{
	size_t	 len;

	if (s == NULL)
		return 0;
	len = strnlen(s, TOKEN_IDMAX + 1);
	return len > 0 && len <= TOKEN_IDMAX && strspn(s, id_charset) == len;
}

/*
 * The token key's HMAC, made once per process: HMAC() looks the digest
 * up and schedules the key again on every call, which was a fifth of the
 * instructions of a portal request.  EVP_MAC_init() with no key starts
 * over from the key schedule kept in the context.  The key is compared
 * with the one the context was made for, so a configuration loaded again
 * (or a test's second key) gets a context of its own.
 */
static EVP_MAC_CTX	*tag_ctx;
static unsigned char	 tag_key[32];

static void
token_tag_reset(void)
{
	EVP_MAC_CTX_free(tag_ctx);
	tag_ctx = NULL;
	OPENSSL_cleanse(tag_key, sizeof(tag_key));
}

static EVP_MAC_CTX *
token_tag_ctx(const struct conf *cf)
{
	EVP_MAC		*mac;
	OSSL_PARAM	 params[2];
	static int	 registered;

	if (tag_ctx != NULL && CRYPTO_memcmp(tag_key, cf->token_key,
	    sizeof(tag_key)) == 0)
		return tag_ctx;
	token_tag_reset();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	tag_ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (tag_ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(tag_ctx, cf->token_key, sizeof(cf->token_key),
	    params) != 1) {
		token_tag_reset();
		return NULL;
	}
	memcpy(tag_key, cf->token_key, sizeof(tag_key));
	if (!registered) {
		registered = 1;
		(void)atexit(token_tag_reset);	/* no key left behind */
	}
	return tag_ctx;
}

/*
 * HMAC-SHA256 of msg[0..len) under cf->token_key into tag.
 * Returns 1 on success, 0 on failure.
 */
static int
token_tag(const struct conf *cf, const void *msg, size_t len,
    unsigned char tag[TOKEN_TAGLEN])
{
	EVP_MAC_CTX	*c;
	size_t		 taglen = 0;

	if ((c = token_tag_ctx(cf)) == NULL)
		return 0;
	/* A context that failed half way is made anew next time. */
	if (EVP_MAC_init(c, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(c, msg, len) != 1 ||
	    EVP_MAC_final(c, tag, &taglen, TOKEN_TAGLEN) != 1 ||
	    taglen != TOKEN_TAGLEN) {
		token_tag_reset();
		return 0;
	}
	return 1;
}

/*
 * Sign the launch token for t: see crypto.h for the format.  Refuses ids
 * that are empty, too long or outside [A-Za-z0-9_.:-], a generation below
 * 1 and a negative expiry.  Returns an allocated string the caller must
 * free, NULL on failure.
 */
char *
token_mint(const struct conf *cf, const struct token *t)
{
	unsigned char	 nonce[TOKEN_NONCELEN], tag[TOKEN_TAGLEN];
	char		 hex[2 * TOKEN_NONCELEN + 1];
	char		 payload[2 * TOKEN_IDMAX + 128];
	char		*p64 = NULL, *t64 = NULL, *tok = NULL;
	size_t		 i, toklen;
	int		 n;

	if (cf == NULL || t == NULL)
		return NULL;
	if (!token_id_valid(t->install_id) ||
	    !token_id_valid(t->instance_id) ||
	    t->generation < 1 || t->expires < 0)
		return NULL;

	if (!crypto_random(nonce, sizeof(nonce)))
		return NULL;
	for (i = 0; i < sizeof(nonce); i++) {
		hex[2 * i] = "0123456789abcdef"[nonce[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[nonce[i] & 0xf];
	}
	hex[2 * sizeof(nonce)] = '\0';
	n = snprintf(payload, sizeof(payload),
	    "%s|%s|%s|%" PRId64 "|%" PRId64 "|%s", token_version,
	    t->install_id, t->instance_id, t->generation, t->expires, hex);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return NULL;

	if (!token_tag(cf, payload, (size_t)n, tag))
		goto out;
	if ((p64 = b64url_encode(payload, (size_t)n)) == NULL ||
	    (t64 = b64url_encode(tag, sizeof(tag))) == NULL)
		goto out;
	toklen = strlen(p64) + 1 + strlen(t64);
	if ((tok = malloc(toklen + 1)) == NULL)
		goto out;
	snprintf(tok, toklen + 1, "%s.%s", p64, t64);
out:
	crypto_wipe(tag, sizeof(tag));
	free(p64);
	free(t64);
	return tok;
}

/*
 * Parse s[0..len) as a non-negative decimal integer: digits only, no
 * sign, no leading zero (bar "0" itself), no overflow.  Returns 1 and
 * sets *v on success, 0 otherwise.
 */
static int
token_parse_int(const char *s, size_t len, int64_t *v)
{
	char		 buf[24];
	char		*ep;
	long long	 ll;

	if (len == 0 || len >= sizeof(buf))
		return 0;
	if (strspn(s, "0123456789") < len || (len > 1 && s[0] == '0'))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	ll = strtoll(buf, &ep, 10);
	if (errno != 0 || *ep != '\0' || ll < 0)
		return 0;
	*v = (int64_t)ll;
	return 1;
}

/*
 * Parse a verified payload (len bytes, NUL terminated, no embedded NUL
 * checked here) into *t.  Returns 1 on success, 0 on any surprise.
 */
static int
token_parse(const char *pl, size_t len, struct token *t)
{
	const char	*f[6];
	size_t		 flen[6], nf = 0, i;
	const char	*p, *bar;

	if (strlen(pl) != len)
		return 0;
	for (p = pl; nf < 6; nf++) {
		f[nf] = p;
		bar = strchr(p, '|');
		if (bar == NULL) {
			flen[nf] = strlen(p);
			nf++;
			break;
		}
		flen[nf] = (size_t)(bar - p);
		p = bar + 1;
	}
	if (nf != 6 || f[5] + flen[5] != pl + len)
		return 0;

	if (flen[0] != strlen(token_version) ||
	    memcmp(f[0], token_version, flen[0]) != 0)
		return 0;
	for (i = 1; i <= 2; i++)
		if (flen[i] == 0 || flen[i] > TOKEN_IDMAX ||
		    strspn(f[i], id_charset) < flen[i])
			return 0;
	if (!token_parse_int(f[3], flen[3], &t->generation) ||
	    t->generation < 1)
		return 0;
	if (!token_parse_int(f[4], flen[4], &t->expires))
		return 0;
	if (flen[5] != 2 * TOKEN_NONCELEN ||
	    strspn(f[5], "0123456789abcdef") != flen[5])
		return 0;

	memcpy(t->install_id, f[1], flen[1]);
	t->install_id[flen[1]] = '\0';
	memcpy(t->instance_id, f[2], flen[2]);
	t->instance_id[flen[2]] = '\0';
	return 1;
}

/*
 * Check a launch token: shape, then signature (constant time), then the
 * payload, then expiry against now.  *t (may be NULL) is filled only for
 * TOKEN_OK and TOKEN_EXPIRED.  Allocates at most about the token's
 * length, all freed before returning.
 */
enum token_status
token_verify(const struct conf *cf, const char *tok, int64_t now,
    struct token *t)
{
	unsigned char		*pl = NULL, *sig = NULL;
	unsigned char		 tag[TOKEN_TAGLEN];
	size_t			 len, pllen, siglen;
	const char		*dot;
	struct token		 parsed;
	enum token_status	 st = TOKEN_MALFORMED;

	if (cf == NULL || tok == NULL)
		return TOKEN_MALFORMED;
	len = strnlen(tok, TOKEN_MAXLEN + 1);
	if (len == 0 || len > TOKEN_MAXLEN)
		return TOKEN_MALFORMED;
	if ((dot = memchr(tok, '.', len)) == NULL ||
	    memchr(dot + 1, '.', len - (size_t)(dot + 1 - tok)) != NULL)
		return TOKEN_MALFORMED;

	if (!b64url_decode(tok, (size_t)(dot - tok), &pl, &pllen) ||
	    !b64url_decode(dot + 1, len - (size_t)(dot + 1 - tok),
	    &sig, &siglen) || siglen != TOKEN_TAGLEN)
		goto out;

	if (!token_tag(cf, pl, pllen, tag))
		goto out;
	if (!crypto_equal(tag, sizeof(tag), sig, siglen)) {
		st = TOKEN_BAD_SIGNATURE;
		goto out;
	}

	memset(&parsed, 0, sizeof(parsed));
	if (!token_parse((const char *)pl, pllen, &parsed))
		goto out;
	st = parsed.expires <= now ? TOKEN_EXPIRED : TOKEN_OK;
	if (t != NULL)
		*t = parsed;
out:
	crypto_wipe(tag, sizeof(tag));
	free(pl);
	free(sig);
	return st;
}
