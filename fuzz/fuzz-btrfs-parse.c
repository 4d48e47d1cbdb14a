/* Fuzz target: arbitrary bytes as the output of btrfs-progs, through the
 * parsers of src/backend/btrfs-parse.h (subvolume show, --version, the
 * time and uuid fields).
 * Invariants checked (abort on violation):
 *  - an accepted `subvolume show` has a valid UUID, and received / parent
 *    UUIDs that are either empty or valid, all NUL-terminated;
 *  - a parsed time formatted back in UTC parses to the same epoch;
 *  - btrfs_valid_uuid accepts exactly the 8-4-4-4-12 hex layout. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/btrfs-parse.h"
#include "base/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int uuid_ok(const char *u)
{
	return !*u || btrfs_valid_uuid(u);
}

static int my_valid_uuid(const char *s)
{
	if (strlen(s) != BTRFS_UUID_STRLEN)
		return 0;
	for (int i = 0; i < BTRFS_UUID_STRLEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static void check_time_roundtrip(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];
	int64_t t2;

	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d +0000", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (btrfs_parse_time(buf, &t2) != 0 || t2 != t)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf text = STRBUF_INIT;
	struct btrfs_subvol_info info;
	unsigned major, minor;
	int64_t t;

	strbuf_add(&text, data, size); /* the parsers take a C string */

	memset(&info, 0x5a, sizeof(info));
	if (btrfs_parse_subvolume_show(text.buf, &info) == 0) {
		if (memchr(info.uuid, 0, sizeof(info.uuid)) == NULL ||
		    memchr(info.received_uuid, 0, sizeof(info.received_uuid)) == NULL ||
		    memchr(info.parent_uuid, 0, sizeof(info.parent_uuid)) == NULL)
			abort();
		if (!uuid_ok(info.uuid) || !uuid_ok(info.received_uuid) || !uuid_ok(info.parent_uuid))
			abort();
		if (info.readonly != 0 && info.readonly != 1)
			abort();
		check_time_roundtrip(info.creation);
	}

	btrfs_parse_version(text.buf, &major, &minor);

	/* each line as a time and as a uuid */
	for (char *line = text.buf, *nl; line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (btrfs_parse_time(line, &t) == 0)
			check_time_roundtrip(t);
		if (!btrfs_valid_uuid(line) != !my_valid_uuid(line))
			abort();
	}

	strbuf_release(&text);
	return 0;
}
