/* The HTTP API (compatible with Proxmox VE's replication API, below
 * /api2/json) and the web panel (/), served by the daemon on volrep.cfg's
 * api-listen, over TLS with api-cert and api-key, else plain HTTP on a
 * loopback address only. docs/api.md lists the endpoints.
 *
 * Every request but POST /access/ticket and the panel's files needs an
 * API token (Authorization: PVEAPIToken=...) or a ticket cookie
 * (PVEAuthCookie, with the CSRFPreventionToken header on writes); see
 * api/auth.h. Requests for another node's /nodes/{node}/... are refused
 * with 400 "node 'X' is not this node ('Y') - ask it directly". */
#ifndef VOLREP_API_API_H
#define VOLREP_API_API_H

#include "base/strbuf.h"
#include "config/context.h"

struct api_server;

/* Start serving; ctx must outlive the server (handlers read it on the
 * server's thread). cert/key: PEM file paths or "" for plain HTTP. */
int api_start(struct api_server **ret, const struct context *ctx, const char *listen, const char *cert,
	      const char *key, struct strbuf *err);
void api_stop(struct api_server *s); /* NULL-tolerant */

/* The static files of the panel (api/assets, generated from web/). */
struct api_asset {
	const char *path;
	const char *type;
	const unsigned char *data;
	size_t len;
};
extern const struct api_asset api_assets[];
extern const size_t api_assets_nr;

#endif
