/* The API's request router and parameter parser: pure functions over
 * hostile input (the path and the form/query/JSON text of a request), kept
 * apart from the HTTP server so that a fuzz target (fuzz/fuzz-api-router.c)
 * can drive them.
 *
 * Paths are those below /api2/json; a segment may only hold
 * [A-Za-z0-9._-] (at most API_SEGMENT_MAX bytes), anything else does not
 * match. Parameters: at most API_PARAMS_MAX, names [a-z][a-z0-9_-]*
 * (at most 32), values at most API_VALUE_MAX bytes without NUL; a name
 * given twice is refused. Booleans are normalised by api_bool. */
#ifndef VOLREP_API_ROUTER_H
#define VOLREP_API_ROUTER_H

#include <stddef.h>

#include "base/strbuf.h"

#define API_PARAMS_MAX 32
#define API_VALUE_MAX 8192
#define API_SEGMENT_MAX 64

struct api_params {
	size_t nr;
	char *key[API_PARAMS_MAX];
	char *value[API_PARAMS_MAX];
};

/* Add one (decoded) parameter. -EINVAL with a message on a bad name,
 * an over-long value, a duplicate or too many. */
int api_params_add(struct api_params *p, const char *key, const char *value, struct strbuf *err);
/* application/x-www-form-urlencoded: k=v&k2=v2, '+' is a blank, %XX a
 * byte. -EINVAL on a bad escape or a bad parameter. */
int api_form_parse(struct api_params *p, const char *s, size_t len, struct strbuf *err);
/* A JSON object of strings, numbers and booleans (what some clients send
 * instead of a form). -EINVAL otherwise. */
int api_json_parse(struct api_params *p, const char *s, size_t len, struct strbuf *err);
const char *api_params_get(const struct api_params *p, const char *key);
void api_params_release(struct api_params *p);

/* PVE's boolean: 1/0, yes/no, true/false, on/off (any case) -> "1"/"0";
 * NULL for anything else. */
const char *api_bool(const char *v);

enum api_route {
	API_NONE = 0,
	API_VERSION,       /* /version */
	API_NODES,         /* /nodes */
	API_CLUSTER_STATUS, /* /cluster/status */
	API_TICKET,        /* /access/ticket */
	API_REPL,          /* /cluster/replication */
	API_REPL_ID,       /* /cluster/replication/{id} */
	API_NODE,          /* /nodes/{node} */
	API_NODE_REPL,     /* /nodes/{node}/replication */
	API_NODE_REPL_ID,  /* /nodes/{node}/replication/{id} */
	API_NODE_REPL_STATUS,
	API_NODE_REPL_LOG,
	API_NODE_REPL_SCHED, /* .../schedule_now */
};

struct api_match {
	enum api_route route;
	char node[API_SEGMENT_MAX + 1];
	char id[API_SEGMENT_MAX + 1];
};

/* Match a path below /api2/json ("/cluster/replication/100-0"; one
 * trailing '/' is ignored). Returns 0, or -ENOENT (m->route API_NONE). */
int api_route_match(const char *path, struct api_match *m);
/* The methods route allows, e.g. "GET POST" (space separated). */
const char *api_route_methods(enum api_route r);
/* Is method one of api_route_methods(r)? */
int api_route_allows(enum api_route r, const char *method);

#endif
