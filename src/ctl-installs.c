/*
 * ctl-installs.c: "stripe-syncctl installs" and "install ID", which show
 * the installs: as an aligned table, as "field: value" lines, or as JSON
 * with --json.  See ctl.h.
 *
 * Every string shown came from Cloud, so the text forms print it escaped
 * by disp(); keys are never shown, only whether one is stored.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"
#include "db.h"

/*
 * The granted scopes (a JSON array of strings) as "a,b,c" for display.
 * Anything else is shown escaped as stored.  Returns an allocated string
 * the caller frees, NULL on memory failure.
 */
static char *
disp_scopes(const char *json)
{
	struct json_object	*arr, *v;
	struct buf		 b;
	size_t			 i, n;
	char			*s, *e;

	if (json == NULL || (arr = json_tokener_parse(json)) == NULL)
		return disp(json);
	if (!json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		return disp(json);
	}
	memset(&b, 0, sizeof(b));
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if ((e = disp(json_object_get_string(v))) == NULL) {
			b.failed = 1;
			break;
		}
		buf_printf(&b, "%s%s", i > 0 ? "," : "", e);
		free(e);
	}
	json_object_put(arr);
	if (b.failed || b.p == NULL) {
		buf_free(&b);
		return b.failed ? NULL : strdup("-");
	}
	s = strdup(b.p);
	buf_free(&b);
	return s;
}

/* The name of a status, guarded against a value out of range. */
static const char *
status_name(enum install_status st)
{

	if ((int)st < 0 || st >= INSTALL__MAX)
		return "unknown";
	return install_status_names[st];
}

/*
 * An install as a JSON object (json-c escapes every string).  Returns a
 * new reference the caller must json_object_put(), NULL on failure.
 */
static struct json_object *
install_json(const struct install *in)
{
	struct json_object	*o, *scopes = NULL;

#define JSTR(s)	((s) != NULL ? json_object_new_string(s) : NULL)
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (in->granted_permissions != NULL &&
	    (scopes = json_tokener_parse(in->granted_permissions)) != NULL &&
	    !json_object_is_type(scopes, json_type_array)) {
		json_object_put(scopes);
		scopes = NULL;
	}
	if (scopes == NULL)
		scopes = json_object_new_array();
	json_object_object_add(o, "installed_app_id",
	    JSTR(in->installed_app_id));
	json_object_object_add(o, "app_id", JSTR(in->app_id));
	json_object_object_add(o, "instance_id", JSTR(in->instance_id));
	json_object_object_add(o, "organization_id",
	    JSTR(in->organization_id));
	json_object_object_add(o, "status",
	    json_object_new_string(status_name(in->status)));
	json_object_object_add(o, "api_key_prefix", JSTR(in->api_key_prefix));
	json_object_object_add(o, "granted_permissions", scopes);
	json_object_object_add(o, "generation",
	    json_object_new_int64(in->generation));
	json_object_object_add(o, "has_key",
	    json_object_new_boolean(in->has_key));
	/* Which master key seals it: what a rotation must move. */
	json_object_object_add(o, "api_key_kid", JSTR(in->api_key_kid));
	json_object_object_add(o, "installed_at", JSTR(in->installed_at));
	json_object_object_add(o, "uninstalled_at",
	    JSTR(in->uninstalled_at));
	json_object_object_add(o, "updated_at", JSTR(in->updated_at));
#undef JSTR
	return o;
}

/* Columns of the installs table. */
enum col {
	COL_ID,
	COL_INSTANCE,
	COL_STATUS,
	COL_PREFIX,
	COL_SCOPES,
	COL_INSTALLED,
	COL_UNINSTALLED,
	COL__MAX
};

static const char *const col_names[COL__MAX] = {
	"INSTALLED_APP_ID",
	"INSTANCE_ID",
	"STATUS",
	"KEY_PREFIX",
	"SCOPES",
	"INSTALLED_AT",
	"UNINSTALLED_AT",
};

/* Rows collected for the table (all strings owned, already escaped). */
struct table {
	char	*(*rows)[COL__MAX];
	size_t	 nrows;
	size_t	 cap;
	struct json_object *json;	/* non-NULL in --json mode */
	int	 failed;
};

/*
 * db_install_list() callback: add one install to the table or the JSON
 * array.  Returns 0 (stop) on memory failure.
 */
static int
installs_cb(const struct install *in, void *arg)
{
	struct table		 *t = arg;
	struct json_object	 *o;
	char			*(*nr)[COL__MAX], **r;
	size_t			  i;

	if (t->json != NULL) {
		if ((o = install_json(in)) == NULL ||
		    json_object_array_add(t->json, o) != 0) {
			json_object_put(o);
			t->failed = 1;
			return 0;
		}
		return 1;
	}
	if (t->nrows == t->cap) {
		i = t->cap == 0 ? 16 : t->cap * 2;
		if ((nr = reallocarray(t->rows, i, sizeof(*nr))) == NULL) {
			t->failed = 1;
			return 0;
		}
		t->rows = nr;
		t->cap = i;
	}
	r = t->rows[t->nrows++];
	r[COL_ID] = disp(in->installed_app_id);
	r[COL_INSTANCE] = disp(in->instance_id);
	r[COL_STATUS] = disp(status_name(in->status));
	r[COL_PREFIX] = disp(in->api_key_prefix);
	r[COL_SCOPES] = disp_scopes(in->granted_permissions);
	r[COL_INSTALLED] = disp(in->installed_at);
	r[COL_UNINSTALLED] = disp(in->uninstalled_at);
	for (i = 0; i < COL__MAX; i++)
		if (r[i] == NULL) {
			t->failed = 1;
			return 0;
		}
	return 1;
}

/* Free the table's rows and JSON array. */
static void
table_free(struct table *t)
{
	size_t	 i, j;

	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < COL__MAX; j++)
			free(t->rows[i][j]);
	free(t->rows);
	json_object_put(t->json);
	memset(t, 0, sizeof(*t));
}

/* Print one line of the table, padded to the widths w. */
static void
table_line(const size_t w[COL__MAX], const char *const f[COL__MAX])
{
	size_t	 j;

	for (j = 0; j + 1 < COL__MAX; j++)
		printf("%-*s  ", (int)w[j], f[j]);
	printf("%s\n", f[COL__MAX - 1]);
}

/*
 * Print the table with columns aligned: two spaces between columns, no
 * trailing blanks.
 */
static void
table_print(const struct table *t)
{
	size_t	 w[COL__MAX], i, j, l;

	for (j = 0; j < COL__MAX; j++)
		w[j] = strlen(col_names[j]);
	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < COL__MAX; j++)
			if ((l = strlen(t->rows[i][j])) > w[j])
				w[j] = l;
	table_line(w, col_names);
	for (i = 0; i < t->nrows; i++)
		table_line(w, (const char *const *)t->rows[i]);
}

/*
 * Parse [--json] plus "nargs" positional arguments.  Returns -1 to go on
 * (with *json set), else the exit status.
 */
static int
cmd_jsonopt(const struct cmd *me, int argc, char **argv, int nargs,
    int *json)
{
	static const struct option lopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int	 ch, first = 1;

	*json = 0;
	while ((ch = cmd_getopt(argc, argv, "jh", lopts, &first)) != -1) {
		if (ch == 'j')
			*json = 1;
		else
			return cmd_common_opt(me, ch == 'h' ? 'h' : '?');
	}
	if (argc - optind != nargs) {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}
	return -1;
}

/* Print a JSON value and a newline. */
static void
json_print(struct json_object *o)
{

	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* installs: list every install. */
int
cmd_installs(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	struct table	 t;
	struct db	*db;
	int		 rc, json;

	if ((rc = cmd_jsonopt(me, argc, argv, 0, &json)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK || (rc = ctl_open(c, &db)) != CTL_OK)
		return rc;
	memset(&t, 0, sizeof(t));
	if (json && (t.json = json_object_new_array()) == NULL) {
		db_close(db);
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		return CTL_FAIL;
	}
	if (!db_install_list(db, installs_cb, &t) && !t.failed) {
		fprintf(stderr, "%s: database %s: %s\n", PROGNAME,
		    c->cf.db_path, db_errmsg(db));
		rc = CTL_FAIL;
	} else if (t.failed) {
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		rc = CTL_FAIL;
	} else if (json)
		json_print(t.json);
	else
		table_print(&t);
	table_free(&t);
	db_close(db);
	return rc;
}

/* install ID: show one install. */
int
cmd_install(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	struct install		 in;
	struct json_object	*o;
	struct db		*db;
	const char		*id;
	char			*f[13];
	size_t			 i;
	int			 rc, json, found;

	if ((rc = cmd_jsonopt(me, argc, argv, 1, &json)) != -1)
		return rc;
	id = argv[optind];
	if ((rc = ctl_load(c)) != CTL_OK || (rc = ctl_open(c, &db)) != CTL_OK)
		return rc;
	memset(&in, 0, sizeof(in));
	found = db_install_get(db, id, &in);
	if (found == -1) {
		fprintf(stderr, "%s: database %s: %s\n", PROGNAME,
		    c->cf.db_path, db_errmsg(db));
		db_close(db);
		return CTL_FAIL;
	}
	db_close(db);
	if (found == 0) {
		if ((f[0] = disp(id)) != NULL)
			fprintf(stderr, "%s: no install %s\n", PROGNAME, f[0]);
		free(f[0]);
		return CTL_NOTFOUND;
	}

	rc = CTL_OK;
	if (json) {
		if ((o = install_json(&in)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", PROGNAME);
			rc = CTL_FAIL;
		} else
			json_print(o);
		json_object_put(o);
		install_free(&in);
		return rc;
	}

	memset(f, 0, sizeof(f));
	f[0] = disp(in.installed_app_id);
	f[1] = disp(in.app_id);
	f[2] = disp(in.instance_id);
	f[3] = disp(in.organization_id);
	f[4] = disp(status_name(in.status));
	f[5] = disp(in.api_key_prefix);
	f[6] = disp(in.has_key ? "yes" : "no");
	f[7] = disp_scopes(in.granted_permissions);
	f[8] = disp(in.install_event);
	f[9] = disp(in.installed_at);
	f[10] = disp(in.uninstalled_at);
	f[11] = disp(in.updated_at);
	for (i = 0; i < 12; i++)
		if (f[i] == NULL)
			rc = CTL_FAIL;
	if (rc != CTL_OK)
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
	else
		printf("installed_app_id: %s\n"
		    "app_id: %s\n"
		    "instance_id: %s\n"
		    "organization_id: %s\n"
		    "status: %s\n"
		    "generation: %lld\n"
		    "api_key_prefix: %s\n"
		    "has_key: %s\n"
		    "granted_permissions: %s\n"
		    "install_event: %s\n"
		    "installed_at: %s\n"
		    "uninstalled_at: %s\n"
		    "updated_at: %s\n",
		    f[0], f[1], f[2], f[3], f[4], (long long)in.generation,
		    f[5], f[6], f[7], f[8], f[9], f[10], f[11]);
	for (i = 0; i < 12; i++)
		free(f[i]);
	install_free(&in);
	return rc;
}
