/*
 * health.c: GET /api/health, for load balancers and operators.
 * 200 with the version and the schema version when the database answers,
 * 503 when it does not.  It says nothing about installs or secrets.
 */
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

void
health_handle(struct app *app, const struct req *req, struct resp *resp)
{
	struct json_object	*o;

	(void)req;
	if (!db_ping(app->db)) {
		log_error("health: database check failed: %s",
		    db_errmsg(app->db));
		resp_error(resp, 503, "DATABASE_UNAVAILABLE", NULL,
		    "the database is not usable");
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
