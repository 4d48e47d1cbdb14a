# volrep build. Plain make: no generator, every rule visible here.
#   make            build/volrep
#   make check      install missing deps, build, run every test (unit tests
#                   also under ASan+UBSan, fuzz corpora replayed, integration)
#   make unit       build and run the unit tests (plain and ASan): no root,
#                   nothing installed (tests needing zfs-fuse or root skip)
#   make check-stress  make check 3 times on a fresh clone, then once under
#                   CPU load (scripts/check-stress.sh; not part of check)
#   make demo       a two-node replication on loop-file storage, explained
#   make bench      benchmarks, printed as figures
#   make install    /usr/local (PREFIX, DESTDIR): binary, man page, systemd
#                   unit, docs, bash completion (BASH_COMPLETION_DIR)
#   make V=1        show the compiler commands (default: "  CC file")

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

# libcurl: webhook notifications (src/notify/webhook.c) and the etcd store;
# libmicrohttpd: the HTTP server of /metrics and of the API
# (src/http/server.c, src/api), whose TLS is libmicrohttpd's GnuTLS;
# libzstd, liblz4: compression on the wire (src/exec/wire.c).
# libcurl and libmicrohttpd are not linked: they and their ~28 libraries
# (gnutls, krb5, ldap, ...) cost every process start ~8 ms in the dynamic
# linker, and most runs use neither, so src/base/dl-curl.c and dl-mhd.c
# dlopen them on first use (glibc has dlopen in libc); only their headers
# are needed here.
PKG_CFLAGS := $(shell pkg-config --cflags jansson nettle libcurl libmicrohttpd libzstd liblz4 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs jansson nettle libzstd liblz4 2>/dev/null || \
		echo -ljansson -lnettle -lzstd -llz4)

WARN    := -Wall -Wextra -Werror -Wshadow -Wvla -Wwrite-strings -Wmissing-prototypes \
           -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
# every file starts with src/base/common.h (the banned functions, src/base/banned.h)
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE -DVOLREP_VERSION='"$(VERSION)"' $(WARN) -Isrc -include src/base/common.h \
	      $(PKG_CFLAGS) $(CFLAGS)
# dependency tracking: each compile writes a .d file next to its output
# listing the headers it read (-MP: a deleted header is no error), and the
# includes at the end of this file make a change to one header rebuild
# only what includes it. Everything compiled also depends on this
# Makefile: new flags rebuild it all.
DEPFLAGS := -MMD -MP
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LIBS    := $(PKG_LIBS) -lm -pthread

# the web panel (web/*) is embedded by a generated source (scripts/embed-assets.c)
WEB_FILES := $(sort $(wildcard web/*.html web/*.js web/*.css))
GEN_SRCS  := build/gen/api-assets.c
LIB_SRCS  := $(sort $(filter-out src/cli/main.c,$(wildcard src/*/*.c))) $(GEN_SRCS)
UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
FUZZ_SRCS := $(sort $(filter-out fuzz/fuzz-main.c,$(wildcard fuzz/fuzz-*.c)))
BENCH_SRCS := $(sort $(wildcard bench/*.c))

OBJS      := $(LIB_SRCS:%.c=build/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=build/asan/obj/%.o)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=build/tests/%)
ASAN_UNITS := $(UNIT_SRCS:tests/unit/%.c=build/asan/tests/%)
FUZZERS   := $(FUZZ_SRCS:fuzz/%.c=build/asan/fuzz/%)
BENCHES   := $(BENCH_SRCS:bench/%.c=build/bench/%)

# Quiet build: "CC file" per object; V=1 shows the full commands, SILENT=1
# nothing at all (make demo: its first screen is the demo, not the build).
ifeq ($(V),1)
Q :=
QCC :=
QAR :=
QLD :=
else
Q := @
QCC = @printf '  CC      %s\n' $<;
QAR = @printf '  AR      %s\n' $@;
QLD = @printf '  LD      %s\n' $@;
endif
ifeq ($(SILENT),1)
QCC := @
QAR := @
QLD := @
endif

.PHONY: all check unit check-stress demo bench install uninstall clean deps test-bins
all: build/volrep

build/embed-assets: scripts/embed-assets.c Makefile
	@mkdir -p $(@D)
	$(QLD)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $<

build/gen/api-assets.c: build/embed-assets $(WEB_FILES)
	@mkdir -p $(@D)
	$(Q)build/embed-assets $@ $(WEB_FILES)

build/obj/build/gen/%.o: build/gen/%.c Makefile
	@mkdir -p $(@D)
	$(QCC)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

build/asan/obj/build/gen/%.o: build/gen/%.c Makefile
	@mkdir -p $(@D)
	$(QCC)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(SAN) -c -o $@ $<

build/obj/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(QCC)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

build/asan/obj/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(QCC)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(SAN) -c -o $@ $<

build/libvolrep.a: $(OBJS)
	@rm -f $@
	$(QAR)ar rcs $@ $^

build/asan/libvolrep.a: $(ASAN_OBJS)
	@rm -f $@
	$(QAR)ar rcs $@ $^

build/volrep: build/obj/src/cli/main.o build/libvolrep.a
	$(QLD)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

build/asan/volrep: build/asan/obj/src/cli/main.o build/asan/libvolrep.a
	$(QLD)$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(LIBS)

build/tests/%: tests/unit/%.c build/libvolrep.a Makefile
	@mkdir -p $(@D)
	$(QLD)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $< build/libvolrep.a $(LIBS) -lcmocka

build/asan/tests/%: tests/unit/%.c build/asan/libvolrep.a Makefile
	@mkdir -p $(@D)
	$(QLD)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(SAN) -o $@ $< build/asan/libvolrep.a $(LIBS) -lcmocka

# Fuzz targets: built with gcc+ASan around a plain main that replays the
# corpus (fuzz/fuzz-main.c); build with clang -fsanitize=fuzzer for real
# fuzzing (see fuzz/README.md).
build/asan/fuzz/%: fuzz/%.c fuzz/fuzz-main.c build/asan/libvolrep.a Makefile
	@mkdir -p $(@D)
	$(QLD)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(SAN) -o $@ $< fuzz/fuzz-main.c build/asan/libvolrep.a $(LIBS)

build/bench/%: bench/%.c build/libvolrep.a Makefile
	@mkdir -p $(@D)
	$(QLD)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -O2 -o $@ $< build/libvolrep.a $(LIBS)

test-bins: build/volrep build/asan/volrep $(UNITS) $(ASAN_UNITS) $(FUZZERS)

deps:
	@scripts/install-deps --if-missing

check: deps
	@$(MAKE) --no-print-directory test-bins
	@tests/run-all.sh

unit: $(UNITS) $(ASAN_UNITS)
	@tests/run-all.sh --unit

check-stress:
	@scripts/check-stress.sh

demo: deps
	@echo "building build/volrep (quietly; 'make V=1 build/volrep' shows the commands)"
	@$(MAKE) --no-print-directory SILENT=1 build/volrep
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory build/volrep $(BENCHES)
	@bench/run.sh

# The unit goes where the admin's own units live (/etc/systemd/system):
# a /usr/local install is not the distribution's, so not /lib/systemd.
# Override with SYSTEMD_UNIT_DIR. ExecStart is rewritten for PREFIX.
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
# bash-completion loads completions/<command> on demand from here
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions

install: build/volrep
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(PREFIX)/share/doc/volrep \
		$(DESTDIR)$(BASH_COMPLETION_DIR)
	install -m 0755 build/volrep $(DESTDIR)$(PREFIX)/sbin/volrep
	install -m 0644 man/volrep.8 $(DESTDIR)$(PREFIX)/share/man/man8/volrep.8
	sed -e 's|/usr/local/|$(PREFIX)/|g' systemd/volrep.service >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/volrep.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/volrep.service
	install -m 0644 docs/daemon.md $(DESTDIR)$(PREFIX)/share/doc/volrep/daemon.md
	install -m 0644 docs/monitoring.md $(DESTDIR)$(PREFIX)/share/doc/volrep/monitoring.md
	install -m 0644 docs/api.md $(DESTDIR)$(PREFIX)/share/doc/volrep/api.md
	install -m 0644 docs/quickstart.md $(DESTDIR)$(PREFIX)/share/doc/volrep/quickstart.md
	install -m 0644 completion/volrep.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/volrep

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/volrep $(DESTDIR)$(PREFIX)/share/man/man8/volrep.8 \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/volrep.service $(DESTDIR)$(PREFIX)/share/doc/volrep/daemon.md \
		$(DESTDIR)$(PREFIX)/share/doc/volrep/monitoring.md $(DESTDIR)$(PREFIX)/share/doc/volrep/api.md \
		$(DESTDIR)$(PREFIX)/share/doc/volrep/quickstart.md $(DESTDIR)$(BASH_COMPLETION_DIR)/volrep

clean:
	rm -rf build

# the headers each object, test and tool read (DEPFLAGS); absent before
# the first build, when everything is built anyway
-include $(shell find build -name '*.d' 2>/dev/null)
