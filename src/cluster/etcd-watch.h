/* An etcd watch kept open by a thread of its own (POST /v3/watch on the
 * JSON gateway: one request, answered by a stream of newline-delimited
 * JSON objects, parsed by etcd_watch_parse).
 *
 * The thread picks an endpoint, checks with a linearizable read that the
 * member has a quorum behind it, opens the watch on [prefix, prefix end)
 * and reads it; it checks the quorum again every few seconds (a member cut
 * off from the majority keeps the stream open but sees no changes). When
 * the stream breaks it moves to the next endpoint, with a backoff that
 * grows from 0.1 s to 5 s while no endpoint works. Every new watch is
 * reported as a resync: events between the old and the new watch are not
 * replayed, so the reader reads everything again.
 *
 *     struct etcd_watch *w;
 *     etcd_watch_start(&w, "h1:2379,h2:2379", 0, "/volrep/", &err);
 *     poll on etcd_watch_fd(w) ...; etcd_watch_drain(w, &news);
 *     etcd_watch_stop(w);
 */
#ifndef VOLREP_CLUSTER_ETCD_WATCH_H
#define VOLREP_CLUSTER_ETCD_WATCH_H

#include "base/strbuf.h"
#include "cluster/store.h"

struct etcd_watch;

/* Watch every key under prefix; keys under prefix + "." are internal (a
 * delete of "<prefix>.members/<node>" is reported in news.gone), the
 * others are files. Returns 0 or -errno with *err set. */
int etcd_watch_start(struct etcd_watch **out, const char *hosts, int tls, const char *prefix, struct strbuf *err);
int etcd_watch_fd(const struct etcd_watch *w);
void etcd_watch_drain(struct etcd_watch *w, struct store_watch_news *news);
void etcd_watch_stop(struct etcd_watch *w);

#endif
