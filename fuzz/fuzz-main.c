/* Plain main for the fuzz targets: replays files (or every file of the
 * directories) given on the command line through LLVMFuzzerTestOneInput,
 * so that make check runs each corpus under ASan+UBSan with gcc. With
 * clang, link the target with -fsanitize=fuzzer instead of this file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path, 1 << 20) < 0) {
		fprintf(stderr, "fuzz-main: cannot read '%s'\n", path);
		strbuf_release(&sb);
		return -1;
	}
	/* a private copy of exactly size bytes, so ASan sees overreads */
	uint8_t *copy = malloc(sb.len ? sb.len : 1);
	memcpy(copy, sb.buf, sb.len);
	LLVMFuzzerTestOneInput(copy, sb.len);
	free(copy);
	strbuf_release(&sb);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 0, bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz-main: no such file '%s'\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			n++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			struct strbuf p = STRBUF_INIT;
			strbuf_addf(&p, "%s/%s", argv[i], de->d_name);
			bad |= run_file(p.buf);
			strbuf_release(&p);
			n++;
		}
		if (d)
			closedir(d);
	}
	printf("replayed %d input(s)\n", n);
	return bad ? 1 : 0;
}
