/*
 * health.c: GET /api/health, for load balancers and operators.
 *
 * 200 with the version and the schema version when this worker can serve:
 * the database answers, is at our schema, is still the file we opened,
 * and this process can write it and its directory.  503 with a code that
 * says which of those failed otherwise.  It writes nothing (a probe must
 * stay cheap: a stat, two access checks and two reads) and says nothing
 * about installs or secrets.
 */
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

static const struct {
	const char	*code;
	const char	*message;
} faults[DB_FAULT__MAX] = {
	[DB_FAULT_NONE] = { NULL, NULL },
	[DB_FAULT_MISSING] = { "DATABASE_UNAVAILABLE",
	    "the database does not exist" },
	[DB_FAULT_SCHEMA] = { "DATABASE_SCHEMA_MISMATCH",
	    "the database is not at the schema this version speaks: run "
	    "stripe-syncctl migrate" },
	[DB_FAULT_READONLY] = { "DATABASE_READONLY",
	    "the database or its directory cannot be written by the "
	    "workers: check owner and mode" },
	[DB_FAULT_MOVED] = { "DATABASE_MOVED",
	    "the database file was replaced or deleted under this worker; "
	    "it is being restarted" },
	[DB_FAULT_ERROR] = { "DATABASE_UNAVAILABLE",
	    "the database is not usable" },
};

void
health_handle(struct app *app, const struct req *req, struct resp *resp)
{
	struct json_object	*o;
	enum db_fault		 f;

	(void)req;
	if ((f = db_check(app->db)) != DB_FAULT_NONE) {
		log_error("health: database check failed (%s): %s",
		    db_fault_names[f], db_errmsg(app->db));
		resp_error(resp, 503, faults[f].code, NULL,
		    faults[f].message);
		return;
	}
	if ((o = json_object_new_object()) == NULL) {
		resp_json(resp, 500, NULL);
		return;
	}
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "database", json_object_new_string("ok"));
	json_object_object_add(o, "schema_version",
	    json_object_new_int(db_schema_latest()));
	resp_json(resp, 200, o);
}
