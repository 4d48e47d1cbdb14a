#include "backend/listmemo.h"
#include "backend/backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/strbuf.h"
#include "base/time-util.h"

#define LISTMEMO_SLOTS 16
#define LISTMEMO_KEY 512
#define LISTMEMO_TEXT 16384

struct memo_slot {
	int used;
	enum listmemo_tag tag;
	unsigned long seq;
	int64_t at_ms;
	char key[LISTMEMO_KEY];
	size_t len;
	char text[LISTMEMO_TEXT]; /* "name\tid\tcreation\n" lines */
};

struct memo {
	unsigned long seq;
	struct memo_slot slot[LISTMEMO_SLOTS];
};

/* the commands of a session run one after the other: one writer at a
 * time, no locking needed */
static struct memo *memo;

int listmemo_share(void)
{
	void *m;

	if (memo)
		return 0;
	m = mmap(NULL, sizeof(*memo), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	memo = m;
	return 0;
}

static struct memo_slot *find(const char *key)
{
	if (!memo || strlen(key) >= LISTMEMO_KEY)
		return NULL;
	for (size_t i = 0; i < LISTMEMO_SLOTS; i++)
		if (memo->slot[i].used && !strcmp(memo->slot[i].key, key))
			return &memo->slot[i];
	return NULL;
}

void listmemo_drop(const char *key)
{
	struct memo_slot *s = find(key);

	if (s)
		s->used = 0;
}

unsigned long listmemo_seq(const char *key)
{
	struct memo_slot *s = find(key);

	return s ? s->seq : 0;
}

/* A free slot, else the oldest one */
static struct memo_slot *take_slot(void)
{
	struct memo_slot *best = &memo->slot[0];

	for (size_t i = 0; i < LISTMEMO_SLOTS; i++) {
		if (!memo->slot[i].used)
			return &memo->slot[i];
		if (memo->slot[i].at_ms < best->at_ms)
			best = &memo->slot[i];
	}
	return best;
}

void listmemo_put(const char *key, enum listmemo_tag tag, const struct backend_snapshot_list *l)
{
	struct strbuf t = STRBUF_INIT;
	struct memo_slot *s;

	if (!memo || strlen(key) >= LISTMEMO_KEY)
		return;
	listmemo_drop(key);
	for (size_t i = 0; i < l->nr; i++)
		strbuf_addf(&t, "%s\t%s\t%" PRId64 "\n", l->v[i].name, l->v[i].id ? l->v[i].id : "", l->v[i].creation);
	if (t.len < LISTMEMO_TEXT) {
		s = take_slot();
		memcpy(s->key, key, strlen(key) + 1);
		memcpy(s->text, t.buf, t.len + 1);
		s->len = t.len;
		s->at_ms = mono_ms();
		s->seq = ++memo->seq;
		s->tag = tag;
		s->used = 1;
	}
	strbuf_release(&t);
}

int listmemo_get(const char *key, enum listmemo_tag tag, struct backend_snapshot_list *out)
{
	struct backend_snapshot_list tmp = BACKEND_SNAPSHOT_LIST_INIT;
	struct memo_slot *s = find(key);

	if (!s || s->tag != tag || mono_ms() - s->at_ms > LISTMEMO_MAX_AGE_MS)
		return 0;
	for (char *line = s->text; *line;) {
		char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		char *nl = tab2 ? strchr(tab2 + 1, '\n') : NULL;

		/* only ever our own text; a damaged one is not used */
		if (!nl) {
			backend_snapshot_list_clear(&tmp);
			return 0;
		}
		*tab1 = *tab2 = '\0';
		backend_snapshot_list_add(&tmp, line, tab1 + 1, strtoll(tab2 + 1, NULL, 10));
		*tab1 = *tab2 = '\t';
		line = nl + 1;
	}
	for (size_t i = 0; i < tmp.nr; i++)
		backend_snapshot_list_add(out, tmp.v[i].name, tmp.v[i].id, tmp.v[i].creation);
	backend_snapshot_list_clear(&tmp);
	return 1;
}
