/* Webhook delivery: one HTTP(S) POST with a JSON body through libcurl
 * (loaded at the first post, base/dl-curl.h), bounded by a timeout, no
 * redirects followed, http and https only.
 *
 * Extra headers (a bearer token, Gotify's X-Gotify-Key) come from a
 * header file named in volrep.cfg, so that the secret is not in the
 * cluster-wide config: one "Name: value" per line, '#' comments and blank
 * lines ignored. The file must be a regular file (not a symlink) owned by
 * root or the running user and not readable by group or others; else the
 * webhook is not called (its secret may have leaked, and an admin must
 * know). */
#ifndef VOLREP_NOTIFY_WEBHOOK_H
#define VOLREP_NOTIFY_WEBHOOK_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"

/* Longest header file accepted. */
#define WEBHOOK_HEADER_FILE_MAX 8192

/* Parse header file text into "Name: value" strings (appended to out).
 * Names are [A-Za-z0-9-]+, values printable without control characters.
 * Returns 0 or -EINVAL with "<name>:<line>: ..." in err. */
int webhook_parse_headers(const char *text, size_t len, const char *name, struct strvec *out, struct strbuf *err);

/* Read and check a header file (see above) into out. Returns 0 or -errno
 * with the message in err. */
int webhook_load_headers(const char *path, struct strvec *out, struct strbuf *err);

/* POST body (JSON) to url with the headers; a 2xx answer is success.
 * Returns 0, or -EIO with the reason in err (< 0 as well when libcurl
 * cannot be loaded). */
int webhook_post(const char *url, const struct strvec *headers, const char *body, unsigned timeout_s,
		 struct strbuf *err);

#endif
