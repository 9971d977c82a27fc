/*
 * http.c: responses and small HTTP vocabulary.  See http.h.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"

const char *const method_names[METHOD__MAX] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
};

enum method
http_method(const char *name)
{
	int	 i;

	if (name == NULL)
		return METHOD_OTHER;
	for (i = 0; i < METHOD_OTHER; i++)
		if (strcmp(name, method_names[i]) == 0)
			return (enum method)i;
	return METHOD_OTHER;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

void
resp_free(struct resp *resp)
{
	free(resp->body);
	resp->body = NULL;
}

void
resp_json(struct resp *resp, int status, struct json_object *obj)
{
	const char	*s;

	free(resp->body);
	resp->body = NULL;
	s = obj == NULL ? NULL :
	    json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL || (resp->body = strdup(s)) == NULL) {
		json_object_put(obj);
		/* A constant body we can always send. */
		resp->status = 500;
		resp->body = strdup("{\"error\":{\"code\":\"INTERNAL\","
		    "\"message\":\"out of memory\"}}");
		return;
	}
	json_object_put(obj);
	resp->status = status;
}

void
resp_error(struct resp *resp, int status, const char *code,
    const char *field, const char *message)
{
	struct json_object	*o, *err;

	o = json_object_new_object();
	err = json_object_new_object();
	if (o == NULL || err == NULL) {
		json_object_put(o);
		json_object_put(err);
		resp_json(resp, 500, NULL);
		return;
	}
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message",
	    json_object_new_string(message));
	if (field != NULL)
		json_object_object_add(err, "field",
		    json_object_new_string(field));
	json_object_object_add(o, "error", err);
	resp_json(resp, status, o);
}
