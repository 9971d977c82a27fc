/*
 * crypto.h: sealing secrets at rest, launch tokens, and the small pieces of
 * cryptography around them.  Everything here is OpenSSL 3 (EVP for
 * AES-256-GCM, EVP_KDF for HKDF, EVP_MAC or HMAC() for HMAC-SHA256,
 * RAND_bytes for randomness, EVP_EncodeBlock/DecodeBlock for base64).
 * Functions return 1 on success and 0 on failure unless said otherwise.
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Fill buf with len bytes from OpenSSL's CSPRNG. */
int	 crypto_random(void *buf, size_t len);

/* A fresh id: prefix then 24 hex digits of randomness (96 bits), into
 * buf.  Returns 1, or 0 if it does not fit or there is no randomness. */
int	 crypto_random_id(const char *prefix, char *buf, size_t bufsz);

/* Constant-time equality of two byte strings (lengths compared first;
 * a length mismatch returns 0 without leaking where the bytes differ). */
int	 crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Zero memory in a way the compiler cannot elide (OPENSSL_cleanse). */
void	 crypto_wipe(void *p, size_t len);

/*
 * Standard base64 (with padding).  b64_encode returns an allocated NUL
 * terminated string the caller must free.  b64_decode allocates *out
 * (caller frees) and rejects anything that is not canonical base64 of
 * whole bytes (whitespace, bad padding, junk).
 */
char	*b64_encode(const void *in, size_t len);
int	 b64_decode(const char *in, unsigned char **out, size_t *outlen);

/* URL-safe base64 ('-' and '_'), without padding; allocated, caller
 * frees.  Used for tokens and for secrets that go into URL paths. */
char	*b64url_encode(const void *in, size_t len);

/* HKDF-SHA256 (no salt) of ikm with the given info string into out. */
int	 crypto_hkdf(const void *ikm, size_t ikmlen, const char *info,
	    unsigned char out[32]);

/* Derive the 8-hex-digit key id of a 32-byte master key into id[9]. */
void	 crypto_key_id(const unsigned char key[CONF_KEYLEN],
	    char id[CONF_KIDLEN + 1]);

/*
 * Seal plaintext under keys[0] with AES-256-GCM, random 96-bit nonce, and
 * "aad" (a NUL terminated string naming the row) as associated data.
 * *out is allocated (caller frees) and holds nonce || ciphertext || tag;
 * kid (9 bytes) receives the id of the key used.
 */
int	 crypto_seal(const struct conf *cf, const char *aad,
	    const void *pt, size_t ptlen,
	    unsigned char **out, size_t *outlen, char kid[CONF_KIDLEN + 1]);

/*
 * Open a sealed value with the key named "kid" from the keyring.  Fails
 * (returns 0) for an unknown kid, wrong aad, or any tampering.  *pt is
 * allocated with one extra NUL byte (so text can be used as a string);
 * the caller must crypto_wipe() and free it.
 */
int	 crypto_open(const struct conf *cf, const char *kid, const char *aad,
	    const unsigned char *in, size_t inlen,
	    unsigned char **pt, size_t *ptlen);

/*
 * Launch tokens.  A token is base64url(payload) "." base64url(tag), where
 * payload = "v1|<install id>|<instance id>|<generation>|<expiry>|<nonce>"
 * and tag = HMAC-SHA256 under cf->token_key, which conf_load() derives as
 * HKDF-SHA256(session_secret, info "stripe-sync launch token v1").  Ids are restricted to
 * [A-Za-z0-9_.:-] by the callers, so '|' cannot appear in them.
 */
#define TOKEN_IDMAX	128

struct token {
	char	 install_id[TOKEN_IDMAX + 1];
	char	 instance_id[TOKEN_IDMAX + 1];
	int64_t	 generation;
	int64_t	 expires;	/* unix seconds */
};

enum token_status {
	TOKEN_OK,
	TOKEN_MALFORMED,	/* not our format at all */
	TOKEN_BAD_SIGNATURE,	/* well-formed but tag does not verify */
	TOKEN_EXPIRED,		/* valid signature, expiry passed */
	TOKEN__MAX
};

/* Returns an allocated token string (caller frees), NULL on failure. */
char	*token_mint(const struct conf *cf, const struct token *t);

/*
 * Verify signature first, then expiry against "now".  On TOKEN_OK and
 * TOKEN_EXPIRED, *t is filled in.  Never reads past a NUL and never
 * allocates more than the token's length.
 */
enum token_status
	 token_verify(const struct conf *cf, const char *tok, int64_t now,
	    struct token *t);

#endif
