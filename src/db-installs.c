/*
 * db-installs.c: the installs table and the events table (the
 * idempotency keys of the install and uninstall events delivered).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "db-int.h"

/* The columns db_install_get() and db_install_list() read, in the order
 * install_fill() expects. */
#define INSTALL_COLS \
	"installed_app_id, app_id, instance_id, organization_id, " \
	"api_key_prefix, granted_permissions, status, generation, " \
	"install_event, installed_at, uninstalled_at, updated_at, " \
	"api_key_sealed IS NOT NULL, api_key_kid"

enum stmt {
	STMT_INSTALL_GET,
	STMT_INSTALL_LIST,
	STMT_INSTALL_ACTIVATE,
	STMT_INSTALL_DEACTIVATE,
	STMT_INSTALL_FORGET_STRIPE,
	STMT_EVENT_CLAIM,
	STMT_EVENT_GET,
	STMT_EVENT_COUNT,
	STMT_INSTALL_SEALED,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_INSTALL_GET */
	"SELECT " INSTALL_COLS " FROM installs WHERE installed_app_id = ?1",
	/* STMT_INSTALL_LIST */
	"SELECT " INSTALL_COLS " FROM installs "
	"ORDER BY installed_at, installed_app_id",
	/* STMT_INSTALL_ACTIVATE */
	"INSERT INTO installs (installed_app_id, app_id, instance_id, "
	"organization_id, api_key_prefix, api_key_sealed, api_key_kid, "
	"granted_permissions, status, generation, install_event, "
	"installed_at, uninstalled_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', 1, ?9, "
	"?10, NULL, ?10) "
	"ON CONFLICT (installed_app_id) DO UPDATE SET "
	"app_id = excluded.app_id, "
	"instance_id = excluded.instance_id, "
	"organization_id = excluded.organization_id, "
	"api_key_prefix = excluded.api_key_prefix, "
	"api_key_sealed = excluded.api_key_sealed, "
	"api_key_kid = excluded.api_key_kid, "
	"granted_permissions = excluded.granted_permissions, "
	"status = 'active', "
	"generation = installs.generation + 1, "
	"install_event = excluded.install_event, "
	"installed_at = excluded.installed_at, "
	"uninstalled_at = NULL, "
	"updated_at = excluded.updated_at",
	/* STMT_INSTALL_DEACTIVATE */
	"UPDATE installs SET status = 'inactive', api_key_sealed = NULL, "
	"api_key_kid = NULL, uninstalled_at = ?2, updated_at = ?3 "
	"WHERE installed_app_id = ?1",
	/* STMT_INSTALL_FORGET_STRIPE: the Stripe key goes with the install */
	"DELETE FROM stripe_connections WHERE installed_app_id = ?1",
	/* STMT_EVENT_CLAIM */
	"INSERT INTO events (idempotency_key, kind, installed_app_id, "
	"outcome, received_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	"ON CONFLICT (idempotency_key) DO NOTHING",
	/* STMT_EVENT_GET */
	"SELECT kind, installed_app_id FROM events WHERE idempotency_key = ?1",
	/* STMT_EVENT_COUNT */
	"SELECT count(*) FROM events",
	/* STMT_INSTALL_SEALED: for the cache, the sealed key as it is */
	"SELECT api_key_sealed, api_key_kid FROM installs "
	"WHERE installed_app_id = ?1 AND api_key_sealed IS NOT NULL",
};

const char *const install_status_names[INSTALL__MAX] = {
	"active",	/* INSTALL_ACTIVE */
	"inactive",	/* INSTALL_INACTIVE */
};

#define ST(db, s)	db_stmt((db), DBF_INSTALLS, stmts, (s))

/* Free the strings of an install and zero it.  Safe with NULL. */
void
install_free(struct install *in)
{
	if (in == NULL)
		return;
	free(in->installed_app_id);
	free(in->app_id);
	free(in->instance_id);
	free(in->organization_id);
	free(in->api_key_prefix);
	free(in->granted_permissions);
	free(in->install_event);
	free(in->installed_at);
	free(in->uninstalled_at);
	free(in->updated_at);
	free(in->api_key_kid);
	memset(in, 0, sizeof(*in));
}

/*
 * Fill *in from the current row of a statement selecting INSTALL_COLS.
 * Returns 1 on success; on failure *in holds nothing to free.
 */
static int
install_fill(sqlite3_stmt *st, struct install *in)
{
	const char	*status;
	size_t		 i;

	memset(in, 0, sizeof(*in));
	if (!db_col_dup(st, 0, 0, &in->installed_app_id) ||
	    !db_col_dup(st, 1, 0, &in->app_id) ||
	    !db_col_dup(st, 2, 0, &in->instance_id) ||
	    !db_col_dup(st, 3, 1, &in->organization_id) ||
	    !db_col_dup(st, 4, 0, &in->api_key_prefix) ||
	    !db_col_dup(st, 5, 0, &in->granted_permissions) ||
	    !db_col_dup(st, 8, 0, &in->install_event) ||
	    !db_col_dup(st, 9, 0, &in->installed_at) ||
	    !db_col_dup(st, 10, 1, &in->uninstalled_at) ||
	    !db_col_dup(st, 11, 0, &in->updated_at) ||
	    !db_col_dup(st, 13, 1, &in->api_key_kid))
		goto fail;

	if ((status = (const char *)sqlite3_column_text(st, 6)) == NULL)
		goto fail;
	for (i = 0; i < INSTALL__MAX; i++)
		if (strcmp(status, install_status_names[i]) == 0)
			break;
	if (i == INSTALL__MAX)
		goto fail;
	in->status = (enum install_status)i;
	in->generation = sqlite3_column_int64(st, 7);
	in->has_key = sqlite3_column_int(st, 12) != 0;
	return 1;
fail:
	install_free(in);
	return 0;
}

/* Copy *src into *dst (fresh strings).  1 on success. */
static int
install_copy(struct install *dst, const struct install *src)
{
	char	**d[] = { &dst->installed_app_id, &dst->app_id,
	    &dst->instance_id, &dst->organization_id, &dst->api_key_prefix,
	    &dst->granted_permissions, &dst->install_event,
	    &dst->installed_at, &dst->uninstalled_at, &dst->updated_at,
	    &dst->api_key_kid };
	char	*const s[] = { src->installed_app_id, src->app_id,
	    src->instance_id, src->organization_id, src->api_key_prefix,
	    src->granted_permissions, src->install_event,
	    src->installed_at, src->uninstalled_at, src->updated_at,
	    src->api_key_kid };
	size_t	 i;

	*dst = *src;
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		*d[i] = NULL;
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (s[i] != NULL && (*d[i] = strdup(s[i])) == NULL) {
			install_free(dst);
			return 0;
		}
	return 1;
}

/*
 * The installs this process read lately.  Every portal request and every
 * launch reads its install, and a read costs SQLite's shared lock: four
 * fcntl(2)s, two stat(2)s for journals and a read of the header.  A row
 * kept here is served while the database file's change counter is the
 * one read with it, inside the same read transaction: any commit since,
 * by any process, changes the counter and empties the cache.  The
 * counter says nothing in WAL mode (and inside our own open transaction
 * the file is not yet what we see), so the cache is used in neither.
 * With the row goes its sealed api key as stored (ciphertext: opened on
 * each use, never kept open), for the proxied calls.
 */
#define ICACHE_MAX	16

struct icached {
	struct install	 in;
	unsigned char	*sealed;	/* NULL: no key */
	size_t		 sealedlen;
	char		 kid[CONF_KIDLEN + 1];
	unsigned long	 used;
};

static struct {
	struct db	*db;		/* the connection it was read on */
	uint32_t	 counter;
	size_t		 n;
	struct icached	 e[ICACHE_MAX];
	unsigned long	 clock;
} icache;

static void
icached_free(struct icached *e)
{
	install_free(&e->in);
	free(e->sealed);
	memset(e, 0, sizeof(*e));
}

static void
icache_clear(void)
{
	size_t	 i;

	for (i = 0; i < icache.n; i++)
		icached_free(&icache.e[i]);
	icache.n = 0;
}

/* The cached entry of id while the cache still holds, else NULL. */
static struct icached *
icache_find(struct db *db, const char *id, int *usable)
{
	uint32_t	 c;
	size_t		 i;

	*usable = strcmp(db_journal_mode(), "wal") != 0 &&
	    sqlite3_get_autocommit(db->h);
	if (!*usable || icache.db != db || !db_file_counter(db, &c) ||
	    c != icache.counter)
		return NULL;
	for (i = 0; i < icache.n; i++)
		if (strcmp(icache.e[i].in.installed_app_id, id) == 0) {
			icache.e[i].used = ++icache.clock;
			return &icache.e[i];
		}
	return NULL;
}

/* The sealed key of id as stored, into e (inside the read transaction). */
static int
icache_sealed(struct db *db, const char *id, struct icached *e)
{
	sqlite3_stmt	*st;
	const void	*blob;
	const char	*kid;
	int		 n, rc, ok = 0;

	if ((st = ST(db, STMT_INSTALL_SEALED)) == NULL)
		return 0;
	if (db_bind_text(st, 1, id)) {
		if ((rc = sqlite3_step(st)) == SQLITE_DONE)
			ok = 1;
		else if (rc == SQLITE_ROW &&
		    (blob = sqlite3_column_blob(st, 0)) != NULL &&
		    (n = sqlite3_column_bytes(st, 0)) > 0 &&
		    (kid = (const char *)sqlite3_column_text(st, 1)) != NULL &&
		    strlen(kid) <= CONF_KIDLEN &&
		    (e->sealed = malloc((size_t)n)) != NULL) {
			memcpy(e->sealed, blob, (size_t)n);
			e->sealedlen = (size_t)n;
			snprintf(e->kid, sizeof(e->kid), "%s", kid);
			ok = 1;
		}
	}
	db_stmt_done(st);
	return ok;
}

/* Keep a copy of *in and its sealed key, read under counter c. */
static void
icache_put(struct db *db, uint32_t c, const struct install *in)
{
	struct icached	*e;
	size_t		 i, lru = 0;

	if (icache.db != db || icache.counter != c) {
		icache_clear();
		icache.db = db;
		icache.counter = c;
	}
	if (icache.n < ICACHE_MAX)
		lru = icache.n++;
	else {
		for (i = 1; i < icache.n; i++)
			if (icache.e[i].used < icache.e[lru].used)
				lru = i;
		icached_free(&icache.e[lru]);
	}
	e = &icache.e[lru];
	memset(e, 0, sizeof(*e));
	if (!install_copy(&e->in, in) || (in->has_key &&
	    !icache_sealed(db, in->installed_app_id, e))) {
		icached_free(e);
		icache.e[lru] = icache.e[--icache.n];
		return;
	}
	e->used = ++icache.clock;
}

/* See db.h. */
void
db_install_cache_drop(struct db *db)
{
	if (icache.db == db) {
		icache_clear();
		icache.db = NULL;
	}
}

/* The query itself.  -1 error, 0 not found, 1 found. */
static int
install_read(struct db *db, const char *id, struct install *in)
{
	sqlite3_stmt	*st;
	int		 rc, ret = -1;

	memset(in, 0, sizeof(*in));
	if ((st = ST(db, STMT_INSTALL_GET)) == NULL)
		return -1;
	if (db_bind_text(st, 1, id)) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			ret = 0;
		else if (rc == SQLITE_ROW && install_fill(st, in))
			ret = 1;
	}
	db_stmt_done(st);
	return ret;
}

/* -1 error, 0 not found, 1 found (caller must install_free(in)). */
int
db_install_get(struct db *db, const char *id, struct install *in)
{
	struct icached	*e;
	uint32_t	 c;
	int		 usable, ret;

	if ((e = icache_find(db, id, &usable)) != NULL)
		return install_copy(in, &e->in) ? 1 : -1;
	if (!usable)
		return install_read(db, id, in);
	/* The row and the counter under one shared lock. */
	if (!db_read_begin(db))
		return -1;
	ret = install_read(db, id, in);
	if (ret == 1 && db_file_counter(db, &c))
		icache_put(db, c, in);
	if (!db_commit(db)) {
		install_free(in);
		return -1;
	}
	return ret;
}

/*
 * See db.h.  The install passed to cb is freed when cb returns.  cb may
 * run other db_* calls but not db_install_list() itself.
 */
int
db_install_list(struct db *db, int (*cb)(const struct install *, void *),
    void *arg)
{
	sqlite3_stmt	*st;
	struct install	 in;
	int		 rc, ret = 0;

	if ((st = ST(db, STMT_INSTALL_LIST)) == NULL)
		return 0;
	for (;;) {
		if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
			ret = 1;
			break;
		}
		if (rc != SQLITE_ROW || !install_fill(st, &in))
			break;
		rc = cb(&in, arg);
		install_free(&in);
		if (rc == 0) {
			ret = 1;
			break;
		}
	}
	db_stmt_done(st);
	return ret;
}

/* See db.h.  Returns 1 on success, 0 on failure. */
int
db_install_activate(struct db *db, const struct install *in,
    const unsigned char *sealed, size_t sealedlen, const char *kid,
    const char *now)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	if (!db_in_txn(db))
		return 0;
	if ((st = ST(db, STMT_INSTALL_ACTIVATE)) == NULL)
		return 0;
	if (db_bind_text(st, 1, in->installed_app_id) &&
	    db_bind_text(st, 2, in->app_id) &&
	    db_bind_text(st, 3, in->instance_id) &&
	    db_bind_text(st, 4, in->organization_id) &&
	    db_bind_text(st, 5, in->api_key_prefix) &&
	    db_bind_blob(st, 6, sealed, sealedlen) &&
	    db_bind_text(st, 7, kid) &&
	    db_bind_text(st, 8, in->granted_permissions) &&
	    db_bind_text(st, 9, in->install_event) &&
	    db_bind_text(st, 10, now))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	return rc == SQLITE_DONE;
}

/* See db.h: -1 error, 0 no such install, 1 done. */
int
db_install_deactivate(struct db *db, const char *id,
    const char *uninstalled_at, const char *now)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR, n;

	if (!db_in_txn(db))
		return -1;
	if ((st = ST(db, STMT_INSTALL_DEACTIVATE)) == NULL)
		return -1;
	if (db_bind_text(st, 1, id) &&
	    db_bind_text(st, 2, uninstalled_at) &&
	    db_bind_text(st, 3, now))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	if ((n = sqlite3_changes(db->h)) == 0)
		return 0;
	if ((st = ST(db, STMT_INSTALL_FORGET_STRIPE)) == NULL)
		return -1;
	rc = db_bind_text(st, 1, id) ? sqlite3_step(st) : SQLITE_ERROR;
	db_stmt_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	/* The webhook signing secret, the events seen and the jobs they
	 * asked for go too: a reinstall starts with none of them.  So do
	 * the problems noted for alerts (none is flagged for an install
	 * without a key). */
	return db_webhook_forget(db, id) && db_alerts_delete(db, id) ? 1 : -1;
}

/*
 * See db.h.  The key is the primary key of events, so of several claims
 * racing on different connections exactly one inserts; the others see its
 * row once they hold the write lock, and compare what it recorded.
 */
enum claim
db_event_claim(struct db *db, const char *key, const char *kind,
    const char *install_id, const char *outcome, const char *now)
{
	sqlite3_stmt	*st;
	const char	*k, *id;
	enum claim	 ret = CLAIM_ERROR;
	int		 rc = SQLITE_ERROR;

	if (!db_in_txn(db))
		return CLAIM_ERROR;
	if ((st = ST(db, STMT_EVENT_CLAIM)) == NULL)
		return CLAIM_ERROR;
	if (db_bind_text(st, 1, key) &&
	    db_bind_text(st, 2, kind) &&
	    db_bind_text(st, 3, install_id) &&
	    db_bind_text(st, 4, outcome) &&
	    db_bind_text(st, 5, now))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc != SQLITE_DONE)
		return CLAIM_ERROR;
	if (sqlite3_changes(db->h) == 1)
		return CLAIM_NEW;

	if ((st = ST(db, STMT_EVENT_GET)) == NULL)
		return CLAIM_ERROR;
	if (db_bind_text(st, 1, key) && sqlite3_step(st) == SQLITE_ROW &&
	    (k = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    (id = (const char *)sqlite3_column_text(st, 1)) != NULL)
		ret = strcmp(k, kind) != 0 ? CLAIM_OTHER_KIND :
		    strcmp(id, install_id) != 0 ? CLAIM_OTHER_INSTALL :
		    CLAIM_DUPLICATE;
	db_stmt_done(st);
	return ret;
}

/* Returns the number of events, -1 on error. */
int64_t
db_event_count(struct db *db)
{
	int64_t	 n;

	return db_stmt_int(db, DBF_INSTALLS, stmts, STMT_EVENT_COUNT, &n) ? n : -1;
}

/* Writes "stripe-sync:v1:installs.api_key:<id>" into buf. */
void
db_install_key_aad(const char *id, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "stripe-sync:v1:installs.api_key:%s", id);
}


/* See db.h. */
int
db_install_key(struct db *db, const struct conf *cf, const char *id,
    char **key)
{
	struct icached	*e;
	int		 usable;

	/* From the cache (see db_install_get()) when it holds the row. */
	if ((e = icache_find(db, id, &usable)) != NULL) {
		*key = NULL;
		if (e->sealed == NULL)
			return 0;
		return db_sealed_string_stored(cf, SEALED_INSTALL_API_KEY, id,
		    e->kid, e->sealed, e->sealedlen, key);
	}
	return db_sealed_string(db, cf, SEALED_INSTALL_API_KEY, id, key);
}
