/* The etcd implementation of the store (store.h); only store.c calls
 * these. */
#ifndef VOLREP_CLUSTER_STORE_ETCD_H
#define VOLREP_CLUSTER_STORE_ETCD_H

#include "cluster/store.h"

/* hosts "H:P[,H:P...]", prefix "/volrep/" (leading and trailing '/'). */
int etcd_store_open(const char *hosts, int tls, const char *prefix, const char *state_dir, struct store **out,
		    struct strbuf *err);
int etcd_store_heartbeat(struct store *st, const char *node, int ttl, struct strbuf *err);
void etcd_store_heartbeat_stop(struct store *st, const char *node);
int etcd_store_members(struct store *st, const struct strvec *nodes, int fresh, struct store_member **out,
		       struct strbuf *err);
int etcd_store_note_offline(struct store *st, const char *node, int64_t rev, struct strbuf *err);
int etcd_store_watch_start(struct store *st, int *fd, struct strbuf *err);
void etcd_store_watch_news(struct store *st, struct store_watch_news *news);
void etcd_store_watch_stop(struct store *st);
int etcd_store_revision(struct store *st, int64_t *rev, struct strbuf *err);
size_t etcd_store_health(struct store *st, struct strvec *out);
int etcd_store_dump(struct store *st, struct strvec *names, struct strvec *datas, struct strbuf *err);

#endif
