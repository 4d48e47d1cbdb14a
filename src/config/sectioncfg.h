/* Proxmox "section config" files: replication.cfg, storage.cfg, nodes.cfg.
 *
 *     <type>: <id>
 *     \t<key> <value>
 *     \t<flag>                  (a boolean without value means 1)
 *     <blank line ends the section>
 *
 * Lines whose first non-blank character is '#' are comments. The parser is
 * as lenient as Proxmox's SectionConfig: a bad line is dropped with a
 * warning naming file, line and section ("file replication.cfg line 3
 * (section '100-0') - ignore config line: ..."), the rest is kept. Only the
 * structure is parsed here; the typed layers (jobs.c, storage.c, nodes.c)
 * check values. Every size is bounded: the input is untrusted (the config
 * dir may be a replicated file system written by any node). */
#ifndef VOLREP_CONFIG_SECTIONCFG_H
#define VOLREP_CONFIG_SECTIONCFG_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"

/* pmxcfs refuses files above 1 MiB; so do we. */
#define SECTIONCFG_MAX_FILE (1024 * 1024)
/* a 4096 character comment percent-encodes to at most 12288 bytes */
#define SECTIONCFG_MAX_LINE 16384
#define SECTIONCFG_MAX_KEY 64
#define SECTIONCFG_MAX_TYPE 64
#define SECTIONCFG_MAX_ID 128
/* per section: far more than any schema has */
#define SECTIONCFG_MAX_PROPS 256

struct sc_prop {
	char *key;
	char *value; /* "1" for a bare boolean key */
	unsigned line;
};

struct sc_section {
	char *type;
	char *id;
	unsigned line; /* of the header */
	struct sc_prop *props;
	size_t nr, alloc;
};

struct sectioncfg {
	struct sc_section *sections; /* in file order */
	size_t nr, alloc;
};

#define SECTIONCFG_INIT { 0 }

/* Parse len bytes of text. filename (e.g. "replication.cfg") is used in
 * the warnings appended to *warnings (may be NULL). Duplicate keys in a
 * section keep the first value and warn "duplicate attribute"; a header
 * that repeats an id keeps both (the typed layer decides). Returns 0, or
 * -EFBIG when len exceeds SECTIONCFG_MAX_FILE (then cfg is unchanged).
 * cfg must be initialised (SECTIONCFG_INIT) and is appended to. */
int sectioncfg_parse(struct sectioncfg *cfg, const char *filename, const char *text, size_t len,
		     struct strvec *warnings);

/* How one section type is written (Proxmox's write_config order):
 * "comment" first (only if non-empty), then each boolean key of booleans
 * that is true as a bare word (a false one is not written), then the
 * required keys sorted, then every other key sorted. */
struct sc_layout {
	const char *type;
	const char *const *required; /* NULL-terminated, may be NULL */
	const char *const *booleans; /* NULL-terminated, may be NULL */
};

/* Append the canonical text of cfg to out. layouts is terminated by an
 * entry with type NULL; sections of other types use an empty layout.
 * Returns 0, or -EINVAL if a type, id, key or value contains '\n' or '\r'
 * (out is then unspecified) - the message goes to *err when non-NULL
 * ("property 'comment' contains a line feed"). */
int sectioncfg_write(const struct sectioncfg *cfg, const struct sc_layout *layouts,
		     struct strbuf *out, struct strbuf *err);

/* Section helpers. */
struct sc_section *sectioncfg_add(struct sectioncfg *cfg, const char *type, const char *id);
struct sc_section *sectioncfg_find(const struct sectioncfg *cfg, const char *id);
/* Value of key in s, or NULL. */
const char *sc_section_get(const struct sc_section *s, const char *key);
/* Set (replace or append) key. */
void sc_section_set(struct sc_section *s, const char *key, const char *value);
/* Remove key; returns 1 if it was there. */
int sc_section_del(struct sc_section *s, const char *key);
/* Remove section number i, keeping the order of the others. */
void sectioncfg_remove(struct sectioncfg *cfg, size_t i);

void sectioncfg_release(struct sectioncfg *cfg);

/* Warn about each key of s not in known (NULL-terminated): "file
 * <filename> line N (section '<id>') - unknown key '<key>' (ignored;
 * known keys: a, b, c)" - a misspelt "adress" must not pass silently. */
void warn_unknown_keys(struct strvec *warnings, const char *filename, const struct sc_section *s,
		       const char *const *known);

/* Read <dir>/<name> into out (replacing its content), at most
 * SECTIONCFG_MAX_FILE bytes. A missing file reads as empty. Returns 0 or
 * -errno (-EFBIG when the file is too large). */
int config_read_file(const char *dir, const char *name, struct strbuf *out);
/* "<dir>/<name>" (new string) when that file does not exist, else NULL:
 * for messages that must tell a missing file from an empty one. */
char *config_missing_path(const char *dir, const char *name);

#endif
