/*
 * api-alerts.c: Blnk Cloud alerts from the portal, in Cloud's own shapes
 * (blnk-docs cloud/home/alerts-api.mdx, the cloud/reference alert pages).
 *
 *   GET  /api/v1/alerts			alerts:read
 *   GET  /api/v1/alerts/<anomaly_id>		alerts:read
 *   GET  /api/v1/alert-statuses		alerts:read
 *   POST /api/v1/alerts {target_id, description, title?}
 *						alerts:write: flag a balance,
 *						transaction or identity
 *   PUT  /api/v1/alerts/<anomaly_id> {status?, description?, title?}
 *						alerts:write
 *
 * The target of a flag is named by its id alone, as Cloud's
 * POST /alerts/flag/{id} does; its prefix (bln_, txn_, idt_) says what it
 * is, and only those three are accepted.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cloud.h"
#include "http.h"
#include "log.h"
#include "valid.h"

enum { FF_TARGET, FF_DESCRIPTION, FF_TITLE, FF__MAX };
static const struct field flag_fields[FF__MAX] = {
	[FF_TARGET] = { "target_id", FT_REF, 1 },
	[FF_DESCRIPTION] = { "description", FT_TEXT, 1 },
	[FF_TITLE] = { "title", FT_TITLE, 0 },
};

enum { UF_STATUS, UF_DESCRIPTION, UF_TITLE, UF__MAX };
static const struct field update_fields[UF__MAX] = {
	[UF_STATUS] = { "status", FT_WORD, 0 },
	[UF_DESCRIPTION] = { "description", FT_TEXT, 0 },
	[UF_TITLE] = { "title", FT_TITLE, 0 },
};

/* Make the call and answer with Cloud's object (status on success). */
static void
relay(struct app *app, struct resp *resp, const struct call *c,
    enum httpc_method m, const char *const *segs, struct json_object *body,
    int status)
{
	struct cloud_call	 call;
	struct json_object	*out, *o;

	memset(&call, 0, sizeof(call));
	call.api = CLOUD_ALERTS;
	call.method = m;
	call.segs = segs;
	call.body = body;
	if (!api_cloud(app, c, resp, &call, &out))
		return;
	/* A bare array (the list of alerts) goes out as {"data": [...]}. */
	if (json_object_is_type(out, json_type_array)) {
		o = json_object_new_object();
		json_object_object_add(o, "data", out);
		out = o;
	}
	resp_json(resp, status, out);
}

void
api_alerts_list(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	(void)req;
	relay(app, resp, c, HTTPC_GET, NULL, NULL, 200);
}

void
api_alert_get(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	const char	*segs[] = { c->id, NULL };

	(void)req;
	relay(app, resp, c, HTTPC_GET, segs, NULL, 200);
}

void
api_alert_statuses(struct app *app, const struct req *req,
    struct resp *resp, const struct call *c)
{
	const char	*segs[] = { "statuses", NULL };

	(void)req;
	relay(app, resp, c, HTTPC_GET, segs, NULL, 200);
}

void
api_alert_flag(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct fieldval		 f[FF__MAX];
	struct json_object	*in, *body;
	const char		*segs[] = { "flag", NULL, NULL };

	if ((in = api_body(req, resp, flag_fields, FF__MAX, f)) == NULL)
		return;
	if (strncmp(f[FF_TARGET].s, "bln_", 4) != 0 &&
	    strncmp(f[FF_TARGET].s, "txn_", 4) != 0 &&
	    strncmp(f[FF_TARGET].s, "idt_", 4) != 0) {
		json_object_put(in);
		resp_error(resp, 400, "INVALID_FIELD", "target_id", "must be "
		    "a balance (bln_), transaction (txn_) or identity (idt_) "
		    "id");
		return;
	}
	segs[1] = f[FF_TARGET].s;
	body = json_object_new_object();
	json_object_object_add(body, "description",
	    json_object_new_string(f[FF_DESCRIPTION].s));
	if (f[FF_TITLE].present)
		json_object_object_add(body, "title",
		    json_object_new_string(f[FF_TITLE].s));
	relay(app, resp, c, HTTPC_POST, segs, body, 201);
	if (resp->status == 201)
		log_info("portal: flagged %.4s... for review", segs[1]);
	json_object_put(body);
	json_object_put(in);
}

void
api_alert_update(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct fieldval		 f[UF__MAX];
	struct json_object	*in, *body;
	const char		*segs[] = { "flag", c->id, NULL };
	size_t			 i;

	if ((in = api_body(req, resp, update_fields, UF__MAX, f)) == NULL)
		return;
	body = json_object_new_object();
	for (i = 0; i < UF__MAX; i++)
		if (f[i].present)
			json_object_object_add(body, update_fields[i].name,
			    json_object_new_string(f[i].s));
	if (json_object_object_length(body) == 0) {
		json_object_put(body);
		json_object_put(in);
		resp_error(resp, 400, "MISSING_FIELD", "status", "give a "
		    "status, a description or a title to change");
		return;
	}
	relay(app, resp, c, HTTPC_PUT, segs, body, 200);
	json_object_put(body);
	json_object_put(in);
}
