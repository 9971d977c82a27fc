/*
 * db-secrets.c: every sealed column of the schema, opening a sealed value,
 * and re-sealing them all under the current master key (rotate-keys).
 *
 * A new secret is one more entry in sealed_cols[]
 * plus its three statements: "ids" lists the ids of rows holding a value,
 * "get" selects (blob, kid) by id, "put" sets (blob, kid) by id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "db-int.h"
#include "util.h"

enum stmt {
	STMT_INSTALL_KEY_KIDS,
	STMT_INSTALL_KEY_IDS,
	STMT_INSTALL_KEY,
	STMT_INSTALL_KEY_PUT,
	STMT_STRIPE_KEY_KIDS,
	STMT_STRIPE_KEY_IDS,
	STMT_STRIPE_KEY,
	STMT_STRIPE_KEY_PUT,
	STMT_WEBHOOK_SECRET_KIDS,
	STMT_WEBHOOK_SECRET_IDS,
	STMT_WEBHOOK_SECRET,
	STMT_WEBHOOK_SECRET_PUT,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_INSTALL_KEY_KIDS */
	"SELECT api_key_kid, count(*) FROM installs "
	"WHERE api_key_sealed IS NOT NULL GROUP BY api_key_kid",
	/* STMT_INSTALL_KEY_IDS */
	"SELECT installed_app_id FROM installs "
	"WHERE api_key_sealed IS NOT NULL ORDER BY installed_app_id",
	/* STMT_INSTALL_KEY */
	"SELECT api_key_sealed, api_key_kid FROM installs "
	"WHERE installed_app_id = ?1",
	/* STMT_INSTALL_KEY_PUT */
	"UPDATE installs SET api_key_sealed = ?2, api_key_kid = ?3 "
	"WHERE installed_app_id = ?1",
	/* STMT_STRIPE_KEY_KIDS */
	"SELECT key_kid, count(*) FROM stripe_connections GROUP BY key_kid",
	/* STMT_STRIPE_KEY_IDS */
	"SELECT installed_app_id FROM stripe_connections "
	"ORDER BY installed_app_id",
	/* STMT_STRIPE_KEY */
	"SELECT key_sealed, key_kid FROM stripe_connections "
	"WHERE installed_app_id = ?1",
	/* STMT_STRIPE_KEY_PUT */
	"UPDATE stripe_connections SET key_sealed = ?2, key_kid = ?3 "
	"WHERE installed_app_id = ?1",
	/* STMT_WEBHOOK_SECRET_KIDS */
	"SELECT key_kid, count(*) FROM webhook_secrets GROUP BY key_kid",
	/* STMT_WEBHOOK_SECRET_IDS */
	"SELECT installed_app_id FROM webhook_secrets "
	"ORDER BY installed_app_id",
	/* STMT_WEBHOOK_SECRET */
	"SELECT secret_sealed, key_kid FROM webhook_secrets "
	"WHERE installed_app_id = ?1",
	/* STMT_WEBHOOK_SECRET_PUT */
	"UPDATE webhook_secrets SET secret_sealed = ?2, key_kid = ?3 "
	"WHERE installed_app_id = ?1",
};

#define ST(db, s)	db_stmt((db), DBF_SECRETS, stmts, (s))

struct sealed_col {
	const char	*name;		/* table.column, for messages */
	int		 kids;		/* (kid, count) of the values held */
	int		 ids;
	int		 get;
	int		 put;
	void		(*aad)(const char *, char *, size_t);
};

static const struct sealed_col sealed_cols[SEALED__MAX] = {
	[SEALED_INSTALL_API_KEY] = { "installs.api_key",
	    STMT_INSTALL_KEY_KIDS, STMT_INSTALL_KEY_IDS, STMT_INSTALL_KEY, STMT_INSTALL_KEY_PUT,
	    db_install_key_aad },
	[SEALED_STRIPE_KEY] = { "stripe_connections.key",
	    STMT_STRIPE_KEY_KIDS, STMT_STRIPE_KEY_IDS, STMT_STRIPE_KEY,
	    STMT_STRIPE_KEY_PUT, db_stripe_key_aad },
	[SEALED_WEBHOOK_SECRET] = { "webhook_secrets.secret",
	    STMT_WEBHOOK_SECRET_KIDS, STMT_WEBHOOK_SECRET_IDS,
	    STMT_WEBHOOK_SECRET, STMT_WEBHOOK_SECRET_PUT,
	    db_webhook_secret_aad },
};

/*
 * The aad of row id of sealed column c into buf[DB_AADMAX].  Returns 0 if
 * it does not fit (a truncated aad could be shared by two rows).
 */
static int
sealed_aad(const struct sealed_col *c, const char *id, char *buf)
{
	c->aad(id, buf, DB_AADMAX);
	return strlen(buf) < DB_AADMAX - 1;
}

/*
 * Open the value of sealed column c in row id into *pt (allocated with a
 * trailing NUL; caller must crypto_wipe() and free).  Returns -1 on a
 * database error, -2 if the value does not open, 0 if the row or value is
 * missing, 1 on success.  *kid receives the stored key id (or "").
 */
static int
sealed_open(struct db *db, const struct conf *cf,
    const struct sealed_col *c, const char *id,
    unsigned char **pt, size_t *ptlen, char kid[CONF_KIDLEN + 1])
{
	sqlite3_stmt		*st;
	const unsigned char	*blob, *k;
	char			 aad[DB_AADMAX];
	int			 rc, ret = -1, n;

	*pt = NULL;
	*ptlen = 0;
	kid[0] = '\0';
	if (!sealed_aad(c, id, aad))
		return -2;
	if ((st = ST(db, c->get)) == NULL)
		return -1;
	if (!db_bind_text(st, 1, id))
		goto out;
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		ret = 0;
		goto out;
	}
	ret = -2;
	blob = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if ((k = sqlite3_column_text(st, 1)) == NULL ||
	    strlen((const char *)k) > CONF_KIDLEN)
		goto out;
	snprintf(kid, CONF_KIDLEN + 1, "%s", (const char *)k);
	if (blob == NULL || n <= 0 ||
	    !crypto_open(cf, kid, aad, blob, (size_t)n, pt, ptlen))
		goto out;
	ret = 1;
out:
	db_stmt_done(st);
	return ret;
}

/*
 * Re-seal row id of column c under keys[0].  Returns 1 on success, 0 with
 * a message naming the row (never the value) in err.
 */
static int
rotate_one(struct db *db, const struct conf *cf,
    const struct sealed_col *c, const char *id, char *err, size_t errsz)
{
	sqlite3_stmt	*st;
	unsigned char	*pt = NULL, *out = NULL;
	size_t		 ptlen = 0, outlen = 0;
	char		 aad[DB_AADMAX], kid[CONF_KIDLEN + 1],
			 newkid[CONF_KIDLEN + 1];
	int		 rc, ret = 0;

	rc = sealed_open(db, cf, c, id, &pt, &ptlen, kid);
	if (rc == -1) {
		util_errf(err, errsz, "%s of %s: %s", c->name, id,
		    db_errmsg(db));
		goto out;
	} else if (rc == -2) {
		util_errf(err, errsz, "%s of %s: cannot open the value "
		    "sealed under key id \"%s\" (key not configured, or "
		    "value damaged)", c->name, id, kid);
		goto out;
	} else if (rc == 0) {
		/* Gone since we listed it: inside our own transaction,
		 * that cannot happen; nothing to re-seal. */
		ret = 1;
		goto out;
	}

	if (!sealed_aad(c, id, aad) ||
	    !crypto_seal(cf, aad, pt, ptlen, &out, &outlen, newkid)) {
		util_errf(err, errsz, "%s of %s: cannot seal under the "
		    "current key", c->name, id);
		goto out;
	}

	if ((st = ST(db, c->put)) == NULL) {
		util_errf(err, errsz, "%s of %s: %s", c->name, id,
		    db_errmsg(db));
		goto out;
	}
	rc = SQLITE_ERROR;
	if (db_bind_text(st, 1, id) &&
	    db_bind_blob(st, 2, out, outlen) &&
	    db_bind_text(st, 3, newkid))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != 1) {
		util_errf(err, errsz, "%s of %s: %s", c->name, id,
		    db_errmsg(db));
		goto out;
	}
	ret = 1;
out:
	if (pt != NULL) {
		crypto_wipe(pt, ptlen);
		free(pt);
	}
	free(out);
	return ret;
}

/*
 * The ids of every row of c holding a value, into *ids (allocated array
 * of allocated strings; caller frees with free_ids()).  Collected before
 * any update so that no row is changed under a running SELECT.  Returns
 * 1 on success.
 */
static int
sealed_ids(struct db *db, const struct sealed_col *c, char ***ids,
    size_t *nids)
{
	sqlite3_stmt	*st;
	char		**p;
	const char	*s;
	int		 rc;

	*ids = NULL;
	*nids = 0;
	if ((st = ST(db, c->ids)) == NULL)
		return 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((s = (const char *)sqlite3_column_text(st, 0)) == NULL)
			break;
		p = reallocarray(*ids, *nids + 1, sizeof(**ids));
		if (p == NULL)
			break;
		*ids = p;
		if (((*ids)[*nids] = strdup(s)) == NULL)
			break;
		(*nids)++;
	}
	db_stmt_done(st);
	return rc == SQLITE_DONE;
}

static void
free_ids(char **ids, size_t nids)
{
	size_t	 i;

	for (i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
}

/* See db.h.  Returns 1 on success, 0 (nothing changed) with err set. */
int
db_rotate_keys(struct db *db, const struct conf *cf, size_t *n, char *err,
    size_t errsz)
{
	const struct sealed_col	*c;
	char			**ids = NULL;
	size_t			 nids = 0, i, j;

	*n = 0;
	if (cf->nkeys == 0) {
		util_errf(err, errsz, "no master key configured");
		return 0;
	}
	if (!db_begin(db)) {
		util_errf(err, errsz, "database %s: %s", db->path,
		    db_errmsg(db));
		return 0;
	}
	for (i = 0; i < SEALED__MAX; i++) {
		c = &sealed_cols[i];
		if (!sealed_ids(db, c, &ids, &nids)) {
			util_errf(err, errsz, "%s: %s", c->name,
			    db_errmsg(db));
			goto fail;
		}
		for (j = 0; j < nids; j++) {
			if (!rotate_one(db, cf, c, ids[j], err, errsz))
				goto fail;
			(*n)++;
		}
		free_ids(ids, nids);
		ids = NULL;
		nids = 0;
	}
	if (!db_commit(db)) {
		util_errf(err, errsz, "database %s: commit: %s", db->path,
		    db_errmsg(db));
		*n = 0;
		return 0;
	}
	return 1;
fail:
	free_ids(ids, nids);
	db_rollback(db);
	*n = 0;
	return 0;
}

int
db_sealed_open(struct db *db, const struct conf *cf, enum sealed_id which,
    const char *id, unsigned char **pt, size_t *ptlen,
    char *kid)
{
	int	 rc;

	rc = sealed_open(db, cf, &sealed_cols[which], id, pt, ptlen, kid);
	return rc == -2 ? -1 : rc;
}

static int
kid_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kid_count *)a)->kid,
	    ((const struct kid_count *)b)->kid);
}

/* See db.h.  The counts of every column are added up per key id. */
int
db_sealed_counts(struct db *db, struct kid_count *out, size_t max,
    size_t *n)
{
	sqlite3_stmt	*st;
	const char	*kid;
	size_t		 i, j;
	int		 rc = SQLITE_DONE;

	*n = 0;
	for (i = 0; i < SEALED__MAX && rc == SQLITE_DONE; i++) {
		if ((st = ST(db, sealed_cols[i].kids)) == NULL)
			return 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if ((kid = (const char *)sqlite3_column_text(st, 0))
			    == NULL)
				kid = "";
			for (j = 0; j < *n && strcmp(out[j].kid, kid) != 0; j++)
				continue;
			if (j == *n) {
				if (*n == max) {
					rc = SQLITE_FULL;
					break;
				}
				snprintf(out[j].kid, sizeof(out[j].kid), "%s",
				    kid);
				out[j].n = 0;
				(*n)++;
			}
			out[j].n += sqlite3_column_int64(st, 1);
		}
		db_stmt_done(st);
	}
	if (rc != SQLITE_DONE)
		return 0;
	qsort(out, *n, sizeof(*out), kid_cmp);
	return 1;
}

/* The opened value pt as a string in *out: it must hold no NUL byte.
 * 1, or -1 (pt wiped and freed). */
static int
sealed_as_string(unsigned char *pt, size_t ptlen, char **out)
{
	if (memchr(pt, '\0', ptlen) != NULL) {
		crypto_wipe(pt, ptlen);
		free(pt);
		return -1;
	}
	*out = (char *)pt;
	return 1;
}

/* See db-int.h. */
int
db_sealed_string(struct db *db, const struct conf *cf, enum sealed_id which,
    const char *id, char **out)
{
	unsigned char	*pt;
	size_t		 ptlen;
	char		 kid[CONF_KIDLEN + 1];
	int		 rc;

	*out = NULL;
	rc = db_sealed_open(db, cf, which, id, &pt, &ptlen, kid);
	if (rc <= 0)
		return rc < 0 ? -1 : 0;
	return sealed_as_string(pt, ptlen, out);
}

/* See db-int.h. */
int
db_sealed_string_stored(const struct conf *cf, enum sealed_id which,
    const char *id, const char *kid, const unsigned char *blob, size_t n,
    char **out)
{
	unsigned char	*pt;
	size_t		 ptlen;
	char		 aad[DB_AADMAX];

	*out = NULL;
	if (!sealed_aad(&sealed_cols[which], id, aad) ||
	    !crypto_open(cf, kid, aad, blob, n, &pt, &ptlen))
		return -1;
	return sealed_as_string(pt, ptlen, out);
}
