/*
 * db-stripe.c: an install's Stripe connection (the sealed key) and its
 * sync settings.  See db.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "db-int.h"

enum stmt {
	STMT_GET,
	STMT_PUT,
	STMT_DELETE,
	STMT_LAST_MODE,
	STMT_SETTINGS_GET,
	STMT_SETTINGS_PUT,
	STMT_CURSOR_START,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_GET */
	"SELECT mode, key_type, last4, connected_at, updated_at "
	"FROM stripe_connections WHERE installed_app_id = ?1",
	/* STMT_PUT: a new key keeps the first connected_at only if the
	 * mode is the same: a switch is a new connection. */
	"INSERT INTO stripe_connections (installed_app_id, mode, key_type, "
	"last4, key_sealed, key_kid, connected_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
	"ON CONFLICT (installed_app_id) DO UPDATE SET "
	"connected_at = CASE WHEN mode = excluded.mode THEN connected_at "
	"ELSE excluded.connected_at END, "
	"mode = excluded.mode, key_type = excluded.key_type, "
	"last4 = excluded.last4, key_sealed = excluded.key_sealed, "
	"key_kid = excluded.key_kid, updated_at = excluded.updated_at",
	/* STMT_DELETE */
	"DELETE FROM stripe_connections WHERE installed_app_id = ?1",
	/* STMT_LAST_MODE */
	"SELECT mode FROM sync_cursors WHERE installed_app_id = ?1 "
	"ORDER BY updated_at DESC LIMIT 1",
	/* STMT_SETTINGS_GET */
	"SELECT settings FROM sync_settings WHERE installed_app_id = ?1",
	/* STMT_SETTINGS_PUT */
	"INSERT INTO sync_settings (installed_app_id, settings, updated_at) "
	"VALUES (?1, ?2, ?3) ON CONFLICT (installed_app_id) DO UPDATE SET "
	"settings = excluded.settings, updated_at = excluded.updated_at",
	/* STMT_CURSOR_START: the start date of the first listing, once it
	 * completed (the cursor) or began (a run started in the mode: its
	 * window is the date it lists from). */
	"SELECT start_at FROM sync_cursors WHERE installed_app_id = ?1 "
	"AND mode = ?2 UNION ALL "
	"SELECT max(window_gte, 0) FROM (SELECT window_gte FROM sync_runs "
	"WHERE installed_app_id = ?1 AND mode = ?2 AND window_gte IS NOT NULL "
	"ORDER BY created_at LIMIT 1) LIMIT 1",
};

#define ST(db, s)	db_stmt((db), DBF_STRIPE, stmts, (s))

void
db_stripe_key_aad(const char *id, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "stripe-sync:v1:stripe_connections.key:%s", id);
}

int
db_stripe_get(struct db *db, const char *id, struct stripe_conn *c)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(c, 0, sizeof(*c));
	if ((st = ST(db, STMT_GET)) == NULL || !db_bind_text(st, 1, id)) {
		db_stmt_done(st);
		return -1;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_col_copy(st, 0, c->mode, sizeof(c->mode));
		db_col_copy(st, 1, c->key_type, sizeof(c->key_type));
		db_col_copy(st, 2, c->last4, sizeof(c->last4));
		db_col_copy(st, 3, c->connected_at, sizeof(c->connected_at));
		db_col_copy(st, 4, c->updated_at, sizeof(c->updated_at));
	}
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_stripe_put(struct db *db, const struct conf *cf, const char *id,
    const char *key, const char *mode, const char *key_type,
    const char *now)
{
	sqlite3_stmt	*st;
	unsigned char	*sealed = NULL;
	size_t		 sealedlen = 0, n = strlen(key);
	char		 aad[DB_AADMAX], kid[CONF_KIDLEN + 1];
	int		 rc = SQLITE_ERROR;

	if (!db_in_txn(db) || n < 4)
		return 0;
	db_stripe_key_aad(id, aad, sizeof(aad));
	if (!crypto_seal(cf, aad, key, n, &sealed, &sealedlen, kid))
		return 0;
	if ((st = ST(db, STMT_PUT)) != NULL &&
	    db_bind_text(st, 1, id) && db_bind_text(st, 2, mode) &&
	    db_bind_text(st, 3, key_type) &&
	    sqlite3_bind_text(st, 4, key + n - 4, 4, SQLITE_TRANSIENT) ==
	    SQLITE_OK &&
	    db_bind_blob(st, 5, sealed, sealedlen) &&
	    db_bind_text(st, 6, kid) && db_bind_text(st, 7, now))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	free(sealed);
	return rc == SQLITE_DONE;
}

int
db_stripe_delete(struct db *db, const char *id)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	if (!db_in_txn(db) || (st = ST(db, STMT_DELETE)) == NULL)
		return -1;
	if (db_bind_text(st, 1, id))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db->h) > 0;
}

int
db_stripe_key(struct db *db, const struct conf *cf, const char *id,
    char **key)
{
	return db_sealed_string(db, cf, SEALED_STRIPE_KEY, id, key);
}

int
db_stripe_last_mode(struct db *db, const char *id, char *mode)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	mode[0] = '\0';
	if ((st = ST(db, STMT_LAST_MODE)) == NULL)
		return 0;
	if (db_bind_text(st, 1, id) &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW)
		db_col_copy(st, 0, mode, 8);
	db_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

int
db_settings_get(struct db *db, const char *id, char **json)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR, ret = -1;

	*json = NULL;
	if ((st = ST(db, STMT_SETTINGS_GET)) == NULL)
		return -1;
	if (db_bind_text(st, 1, id))
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		ret = 0;
	else if (rc == SQLITE_ROW)
		ret = db_col_dup(st, 0, 0, json) ? 1 : -1;
	db_stmt_done(st);
	return ret;
}

int
db_settings_put(struct db *db, const char *id, const char *json,
    const char *now)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	if (!db_in_txn(db) || (st = ST(db, STMT_SETTINGS_PUT)) == NULL)
		return 0;
	if (db_bind_text(st, 1, id) && db_bind_text(st, 2, json) &&
	    db_bind_text(st, 3, now))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	return rc == SQLITE_DONE;
}

int
db_cursor_start(struct db *db, const char *id, const char *mode,
    int64_t *start_at)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	if ((st = ST(db, STMT_CURSOR_START)) == NULL)
		return -1;
	if (db_bind_text(st, 1, id) && db_bind_text(st, 2, mode) &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW)
		*start_at = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
