/* Where engine code writes its progress messages: the job log on the
 * source (joblog.h), stderr on the target (where the source relays the
 * lines into its job log), or nowhere. The engine never prints directly. */
#ifndef VOLREP_ENGINE_ELOG_H
#define VOLREP_ENGINE_ELOG_H

struct elog {
	/* one message without trailing newline; NULL: messages are dropped */
	void (*fn)(void *data, const char *msg);
	void *data;
};
#define ELOG_NONE { .fn = NULL, .data = NULL }

void elog_printf(const struct elog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An elog writing "<msg>\n" to stderr (the target-side verbs). */
extern const struct elog elog_stderr;

#endif
