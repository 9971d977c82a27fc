/*
 * cloud-call.c: make calls through the Cloud client (src/cloud.c) as a
 * worker would, for the black-box tests of the outbound path (t5000).
 *
 *   cloud-call -c CONF -i INSTALL -n INSTANCE [-a data|proxy|filter|alerts]
 *       [-m GET|POST|PUT|DELETE] [-b JSON] [-r REPEAT] [SEG ...] [KEY=VALUE ...]
 *
 * Arguments with '=' are query pairs, the others path segments.  Prints one
 * JSON line per call, {"ok":..,"status":..,"code":..,"field":..,"body":..},
 * then {"connects":N}.  Exits 0 if every call succeeded, 1 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "cloud.h"
#include "conf.h"
#include "db.h"
#include "log.h"

int
main(int argc, char *argv[])
{
	struct conf		 cf;
	struct db		*db;
	struct cloud		*c;
	struct cloud_call	 call;
	struct cloud_err	 e;
	struct json_object	*out, *line, *body = NULL;
	const char		*conf = NULL, *install = NULL, *instance = NULL;
	const char		*segs[16], *query[32];
	char			 err[512];
	int			 ch, i, nseg = 0, nq = 0, repeat = 1, failed = 0;

	memset(&call, 0, sizeof(call));
	call.api = CLOUD_DATA;
	call.method = HTTPC_GET;
	while ((ch = getopt(argc, argv, "c:i:n:a:m:b:r:")) != -1)
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'i': install = optarg; break;
		case 'n': instance = optarg; break;
		case 'a':
			call.api = strcmp(optarg, "proxy") == 0 ? CLOUD_PROXY :
			    strcmp(optarg, "filter") == 0 ? CLOUD_FILTER :
			    strcmp(optarg, "alerts") == 0 ? CLOUD_ALERTS :
			    CLOUD_DATA;
			break;
		case 'm':
			call.method = strcmp(optarg, "POST") == 0 ? HTTPC_POST :
			    strcmp(optarg, "PUT") == 0 ? HTTPC_PUT :
			    strcmp(optarg, "DELETE") == 0 ? HTTPC_DELETE :
			    HTTPC_GET;
			break;
		case 'b':
			if ((body = json_tokener_parse(optarg)) == NULL) {
				fprintf(stderr, "cloud-call: -b: not JSON\n");
				return 2;
			}
			break;
		case 'r': repeat = atoi(optarg); break;
		default:
			return 2;
		}
	if (conf == NULL || install == NULL)
		return 2;
	for (i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq != NULL && nq < 30) {
			*eq = '\0';
			query[nq++] = argv[i];
			query[nq++] = eq + 1;
		} else if (nseg < 15)
			segs[nseg++] = argv[i];
	}
	segs[nseg] = NULL;
	query[nq] = NULL;
	call.segs = segs;
	call.query = query;
	call.body = body;

	if (!conf_load(&cf, conf, 1, err, sizeof(err))) {
		fprintf(stderr, "cloud-call: %s\n", err);
		return 3;
	}
	log_init("cloud-call", cf.log_file, cf.log_level);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((db = db_open(cf.db_path, DB_SERVE, err, sizeof(err))) == NULL ||
	    (c = cloud_new(&cf)) == NULL) {
		fprintf(stderr, "cloud-call: %s\n", err);
		return 1;
	}
	for (i = 0; i < repeat; i++) {
		line = json_object_new_object();
		if (cloud_do(c, db, &cf, install, instance, &call, &out, &e)) {
			json_object_object_add(line, "ok",
			    json_object_new_boolean(1));
			json_object_object_add(line, "body", out);
		} else {
			failed = 1;
			json_object_object_add(line, "ok",
			    json_object_new_boolean(0));
			json_object_object_add(line, "status",
			    json_object_new_int(e.status));
			json_object_object_add(line, "code",
			    json_object_new_string(e.code));
			json_object_object_add(line, "field",
			    json_object_new_string(e.field));
			json_object_object_add(line, "message",
			    json_object_new_string(e.message));
			json_object_object_add(line, "upstream_status",
			    json_object_new_int64(e.upstream_status));
		}
		printf("%s\n", json_object_to_json_string_ext(line,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(line);
	}
	printf("{\"connects\":%ld}\n", cloud_connects(c));
	cloud_free(c);
	db_close(db);
	json_object_put(body);
	conf_free(&cf);
	curl_global_cleanup();
	log_close();
	return failed;
}
