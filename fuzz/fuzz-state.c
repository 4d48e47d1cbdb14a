/* Fuzz target: arbitrary bytes as a state file, through state_parse (the
 * code path of state_load), then every operation on what was accepted.
 * Invariants checked (abort on violation):
 *  - what we format, we parse again, and formatting is then stable;
 *  - after record_* / purge / extract / set-state the state still formats
 *    to something the loader accepts;
 *  - the same bytes given to set-state never crash it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct state *reparse_or_die(const struct state *st)
{
	char *s = state_format(st);
	struct state *again = NULL;
	char *s2;

	if (state_parse(s, strlen(s), "fuzz-reparse", &again, NULL) < 0)
		abort();
	s2 = state_format(again);
	if (strcmp(s, s2))
		abort();
	free(s);
	free(s2);
	return again;
}

struct walk {
	struct state *st;
	int n;
};

/* Visits every entry (keeping all), and exercises the accessors on it. */
static bool visit(uint32_t vmid, const char *target, void *data)
{
	struct walk *w = data;
	struct job_state js = JOB_STATE_INIT;
	char *j = NULL;

	if (state_get_job(w->st, vmid, target, &js) != 1)
		abort();
	job_state_release(&js);
	if (state_extract_guest(w->st, vmid, target, "fuzznode", &j) < 0)
		abort();
	/* what the source side extracts, the target side must accept */
	struct state *other = NULL;
	if (state_parse("{}", 2, "fuzz-other", &other, NULL) < 0 ||
	    state_set_guest_json(other, vmid, j, NULL) < 0)
		abort();
	state_free(other);
	free(j);
	w->n++;
	return true;
}

static bool drop_odd(uint32_t vmid, const char *target, void *data)
{
	(void)target;
	(void)data;
	return vmid % 2 == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT, copy = STRBUF_INIT;
	struct state *st = NULL, *again;

	if (state_parse(data, size, "fuzz", &st, &err) == 0) {
		struct walk w = { .st = st };

		again = reparse_or_die(st);
		state_free(again);
		if (state_purge(st, visit, &w) != 0)
			abort();
		state_record_job_end(st, 100, "pve2", 10, 1.5, "fuzz\xff error\n", false);
		state_record_sync_end(st, 101, "pve2", 11);
		state_record_job_end(st, 101, "pve2", 11, 0, NULL, true);
		state_schedule_now(st, 100, "pve2");
		state_purge(st, drop_odd, NULL);
		again = reparse_or_die(st);
		state_free(again);
		state_free(st);
	} else if (!err.len) {
		abort(); /* every failure must explain itself */
	}

	/* the same bytes as the argument of set-state (a C string) */
	strbuf_add(&copy, data, size);
	if (state_parse("{}", 2, "fuzz-set", &st, NULL) < 0)
		abort();
	if (state_set_guest_json(st, 100, copy.buf, NULL) == 0) {
		again = reparse_or_die(st);
		state_free(again);
	}
	state_free(st);
	strbuf_release(&copy);
	strbuf_release(&err);
	return 0;
}
