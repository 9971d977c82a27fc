/*
 * portal.c: POST /api/portal/<secret>, Cloud's launch request.
 *
 * We check that the install exists, is active and that app_id and
 * instance_id match the record, then answer a fresh portal_url carrying a
 * short-lived launch token.  The token holds no secret: only ids, the
 * install's generation, an expiry and a nonce, under an HMAC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "valid.h"

enum { LF_ID, LF_APP, LF_INSTANCE, LF_ORG, LF_USER, LF__MAX };
static const struct field launch_fields[LF__MAX] = {
	[LF_ID] = { "installed_app_id", FT_ID, 1 },
	[LF_APP] = { "app_id", FT_ID, 1 },
	[LF_INSTANCE] = { "instance_id", FT_ID, 1 },
	[LF_ORG] = { "organization_id", FT_ID, 0 },
	[LF_USER] = { "user_id", FT_ID, 0 },
};

/*
 * portal_url with "token=<tok>" added to its query, built with libcurl's
 * URL API.  Returns an allocated string (free()) or NULL.
 */
static char *
portal_link_curl(const char *base, const char *tok)
{
	CURLU	*u;
	char	*q = NULL, *url = NULL, *copy = NULL;
	size_t	 n;

	if ((u = curl_url()) == NULL)
		return NULL;
	n = strlen(tok) + sizeof("token=");
	if ((q = malloc(n)) == NULL)
		goto out;
	snprintf(q, n, "token=%s", tok);
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		url = NULL;
	if (url != NULL) {
		copy = strdup(url);
		crypto_wipe(url, strlen(url));
		curl_free(url);
	}
out:
	if (q != NULL) {
		crypto_wipe(q, n);
		free(q);
	}
	curl_url_cleanup(u);
	return copy;
}

/*
 * The same, from what libcurl made of portal_url once per process: it
 * builds the link for a placeholder token, and every launch puts its own
 * token in the placeholder's place.  A token is only [A-Za-z0-9_.-]
 * (crypto.h), which the URL API passes through as it is, so the two ways
 * give the same string; parsing portal_url anew was a quarter of a
 * launch's instructions.
 */
#define TOKEN_PLACEHOLDER	"TOKENPLACEHOLDER"

static char *
portal_link(const char *base, const char *tok)
{
	static char	*cbase, *head, *tail;
	char		*url, *at;
	size_t		 hl, tl, n;

	if (cbase == NULL || strcmp(cbase, base) != 0) {
		free(cbase);
		free(head);
		free(tail);
		cbase = head = tail = NULL;
		if ((url = portal_link_curl(base, TOKEN_PLACEHOLDER)) == NULL)
			return NULL;
		at = strstr(url, TOKEN_PLACEHOLDER);
		if (at == NULL || strstr(at + 1, TOKEN_PLACEHOLDER) != NULL ||
		    (cbase = strdup(base)) == NULL ||
		    (head = strndup(url, (size_t)(at - url))) == NULL ||
		    (tail = strdup(at + strlen(TOKEN_PLACEHOLDER))) == NULL) {
			free(cbase);
			free(head);
			cbase = head = NULL;
			free(url);
			return portal_link_curl(base, tok);
		}
		free(url);
	}
	hl = strlen(head);
	tl = strlen(tail);
	n = hl + strlen(tok) + tl + 1;
	if ((url = malloc(n)) == NULL)
		return NULL;
	memcpy(url, head, hl);
	memcpy(url + hl, tok, strlen(tok));
	memcpy(url + hl + strlen(tok), tail, tl + 1);
	return url;
}

void
portal_handle(struct app *app, const struct req *req, struct resp *resp)
{
	struct json_object	*o, *out;
	struct fieldval		 v[LF__MAX];
	struct install		 in;
	struct token		 t;
	char			*tok = NULL, *url = NULL;
	int			 rc;

	if ((o = api_body(req, resp, launch_fields, LF__MAX, v)) == NULL)
		return;
	snprintf(resp->install, sizeof(resp->install), "%s", v[LF_ID].s);

	if ((rc = db_install_get(app->db, v[LF_ID].s, &in)) < 0) {
		log_error("portal: reading the install: %s",
		    db_errmsg(app->db));
		resp_error(resp, 503, "DATABASE_UNAVAILABLE", NULL,
		    "the install could not be read; retry later");
		json_object_put(o);
		return;
	} else if (rc == 0) {
		resp_error(resp, 404, "INSTALL_NOT_FOUND", "installed_app_id",
		    "no such install");
		json_object_put(o);
		return;
	}

	if (in.status != INSTALL_ACTIVE)
		resp_error(resp, 403, "APP_UNINSTALLED", "installed_app_id",
		    "the app is not installed on this instance any more");
	else if (strcmp(in.app_id, v[LF_APP].s) != 0)
		resp_error(resp, 403, "INSTALL_MISMATCH", "app_id",
		    "does not match the install");
	else if (strcmp(in.instance_id, v[LF_INSTANCE].s) != 0)
		resp_error(resp, 403, "INSTALL_MISMATCH", "instance_id",
		    "does not match the install");
	else if (in.organization_id != NULL && v[LF_ORG].present &&
	    strcmp(in.organization_id, v[LF_ORG].s) != 0)
		/* Older Cloud revisions send it on install and launch: when
		 * both sides have one, they must agree. */
		resp_error(resp, 403, "INSTALL_MISMATCH", "organization_id",
		    "does not match the install");
	else {
		memset(&t, 0, sizeof(t));
		snprintf(t.install_id, sizeof(t.install_id), "%s",
		    in.installed_app_id);
		snprintf(t.instance_id, sizeof(t.instance_id), "%s",
		    in.instance_id);
		t.generation = in.generation;
		t.expires = req->now + app->cf->session_ttl;
		if ((tok = token_mint(app->cf, &t)) == NULL ||
		    (url = portal_link(app->cf->portal_url, tok)) == NULL ||
		    (out = json_object_new_object()) == NULL) {
			resp_error(resp, 500, "INTERNAL", NULL,
			    "could not create the portal link");
		} else {
			json_object_object_add(out, "portal_url",
			    json_object_new_string(url));
			resp_json(resp, 200, out);
		}
	}

	if (tok != NULL) {
		crypto_wipe(tok, strlen(tok));
		free(tok);
	}
	if (url != NULL) {
		crypto_wipe(url, strlen(url));
		free(url);
	}
	install_free(&in);
	json_object_put(o);
}
