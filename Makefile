# drydock — build with `make`, test with `make check`.
#   make check SANITIZE=1   same tests under AddressSanitizer + UBSan
#   make CC=clang           any C11 compiler; -Werror is on
#   make install [PREFIX=/usr/local] [DESTDIR=...]   and make uninstall
CC ?= cc
PKG_CONFIG ?= pkg-config
LIBS_PC := libarchive sqlite3 libcrypto zlib libisal libzstd libdeflate jansson yaml-0.1 gpgme

ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build/default
SAN :=
endif

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -Isrc \
	$(shell $(PKG_CONFIG) --cflags $(LIBS_PC))
ALL_LDFLAGS := $(LDFLAGS) $(SAN)
LDLIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PC)) -lpthread

LIB_SRC := $(wildcard src/core/*.c src/apk/*.c src/trust/*.c src/store/*.c src/bundle/*.c src/solve/*.c src/job/*.c src/evidence/*.c src/image/*.c src/batch/*.c src/advisory/*.c)
CLI_SRC := $(wildcard src/cli/*.c) src/main.c
UNIT_SRC := $(wildcard tests/unit/*.c)

# The system's configuration file is $(SYSCONFDIR)/drydock/drydock.conf
# (docs/man/drydock-config.1.scd); DRYDOCK_SYSCONFDIR overrides it at run time.
SYSCONFDIR ?= /etc
$(BUILD)/src/cli/config.o: ALL_CFLAGS += -DDD_SYSCONFDIR='"$(SYSCONFDIR)"'

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)

all: drydock

drydock: $(BUILD)/drydock
	@if [ "$(BUILD)" = build/default ]; then ln -sf $(BUILD)/drydock drydock; fi

$(BUILD)/drydock: $(LIB_OBJ) $(CLI_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit: $(LIB_OBJ) $(UNIT_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Itests/unit -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

check: $(BUILD)/drydock $(BUILD)/unit
	@DRYDOCK=$(CURDIR)/$(BUILD)/drydock UNIT=$(CURDIR)/$(BUILD)/unit sh tests/run

# Coverage-guided fuzzing of the parsers of untrusted input (clang's libFuzzer).
FUZZ_SECONDS ?= 60
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p build/fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
		$(shell $(PKG_CONFIG) --cflags $(LIBS_PC)) -o $@ $< $(LIB_SRC) $(LDLIBS)

fuzz: build/fuzz/fuzz_apk build/fuzz/fuzz_text
	@mkdir -p build/fuzz/corpus-apk build/fuzz/corpus-text
	build/fuzz/fuzz_apk -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 build/fuzz/corpus-apk
	build/fuzz/fuzz_text -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 build/fuzz/corpus-text

# Benchmarks print our figure next to a floor measured in the same run.
$(BUILD)/bench-floor: $(LIB_OBJ) $(BUILD)/tests/bench/floor.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-verify-floor: $(BUILD)/tests/bench/verify_floor.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-yaml-floor: $(BUILD)/tests/bench/yaml_floor.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

bench-floor: $(BUILD)/bench-floor $(BUILD)/bench-verify-floor $(BUILD)/bench-yaml-floor

bench: drydock bench-floor
	scripts/bench-resolve
	scripts/bench-import
	scripts/bench-build
	scripts/bench-batch
	scripts/bench-job

# Installing: the binary, man pages (from docs/man/*.scd, with scdoc), bash
# completion, the systemd unit and timer of the nightly batch, the docs, and
# an example of the site configuration (every key, commented) for a site to
# copy to $(SYSCONFDIR)/drydock/drydock.conf.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/drydock
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
SCDOC ?= scdoc
MAN_SRC := $(wildcard docs/man/*.scd)
MAN_OUT := $(MAN_SRC:docs/man/%.scd=$(BUILD)/man/%)
DOCS := README.md INSTALL $(wildcard docs/*.md)

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

man: $(MAN_OUT)

install: $(BUILD)/drydock man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/drydock $(DESTDIR)$(BINDIR)/drydock
	for m in $(MAN_OUT); do \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; done
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 644 scripts/drydock.conf.example $(DESTDIR)$(DOCDIR)/examples/
	install -m 644 scripts/completion/drydock.bash $(DESTDIR)$(COMPLETIONDIR)/drydock
	for u in scripts/systemd/drydock-batch.service scripts/systemd/drydock-batch.timer; do \
		sed 's|/usr/local/bin/drydock|$(BINDIR)/drydock|; s|/usr/share/doc/drydock|$(DOCDIR)|' \
			$$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/drydock $(DESTDIR)$(COMPLETIONDIR)/drydock \
		$(DESTDIR)$(UNITDIR)/drydock-batch.service $(DESTDIR)$(UNITDIR)/drydock-batch.timer
	for m in $(MAN_OUT); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build drydock

clean-clang:
	rm -rf build/clang

.PHONY: all drydock check bench bench-floor fuzz man install uninstall clean clean-clang

-include $(shell find build -name '*.d' 2>/dev/null)
