/*
 * doctor-keys.c: doctor's check of the keys the stored secrets are sealed
 * under.  See doctor.h.
 *
 * rotate-keys re-seals every secret under master_key, but a worker or job
 * runner still running the previous configuration goes on sealing new
 * secrets under the key that was current for it.  Drop that key from
 * old_master_keys and those secrets are lost without a word.  So every
 * secret must be under the current key before an old one is dropped, and
 * one under a key the configuration does not hold at all is already lost
 * unless the key is put back.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "db.h"
#include "doctor.h"

#define KIDS_MAX	64

void
doctor_keys(struct doctor *d)
{
	const struct conf	*cf = &d->c->cf;
	struct kid_count	 k[KIDS_MAX];
	struct db		*db;
	const char		*role;
	char			 err[512];
	size_t			 i, n;
	long long		 current = 0;
	int			 bad = 0;

	err[0] = '\0';
	/* doctor_db() has said why, if the database does not open. */
	if ((db = db_open(cf->db_path, DB_SERVE, err, sizeof(err))) == NULL)
		return;
	if (!db_sealed_counts(db, k, KIDS_MAX, &n)) {
		finding(d, SEV_FAIL, "sealed secrets: %s", db_errmsg(db));
		db_close(db);
		return;
	}
	db_close(db);

	for (i = 0; i < n; i++) {
		role = ctl_kid_role(cf, k[i].kid);
		if (role != NULL && strcmp(role, "current") == 0) {
			current = k[i].n;
			continue;
		}
		bad = 1;
		if (role != NULL)
			finding(d, SEV_FAIL, "sealed secrets: %lld under key "
			    "%s, an old key (old_master_keys), not the current "
			    "master_key %s; fix: reload every worker and "
			    "stripe-syncd so that all run this configuration, "
			    "run \"%s rotate-keys\", then this check again; "
			    "drop the old key only when it passes",
			    (long long)k[i].n, k[i].kid, cf->keys[0].id,
			    d->ctl);
		else
			finding(d, SEV_FAIL, "sealed secrets: %lld under key "
			    "%s, which this configuration does not hold at "
			    "all: they cannot be opened; fix: put that key "
			    "back into old_master_keys (from your records or "
			    "a backup of the configuration), reload, and run "
			    "\"%s rotate-keys\"", (long long)k[i].n, k[i].kid,
			    d->ctl);
	}
	if (n == 0)
		finding(d, SEV_OK, "sealed secrets: none stored yet");
	else if (!bad)
		finding(d, SEV_OK, "sealed secrets: all %lld under the current "
		    "master_key %s%s", current, cf->keys[0].id, cf->nkeys > 1 ?
		    "; old_master_keys may be dropped" : "");
}
