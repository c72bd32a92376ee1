# ocitap: one non-recursive GNU make for the library, the programs, the tests
# and the benchmarks. Everything builds into $(BUILD)/.
#
#   make                 libocitap.a, libocitap.so, build/bin/ocitap
#   make check           install missing packages (as root), build, run every test
#   make check-sanitize  the unit tests under ASan/UBSan and valgrind (part of check)
#   make fuzz            each libFuzzer target for FUZZ_SECONDS (corpus: build/fuzz/corpus/)
#   make fuzz-seeds      the committed seeds (tests/fuzz/corpus/) merged again from it
#   make bench           benchmarks, printed as ratios against a baseline
#   make soak            1,000 container lifecycles, thousands more with a kill a minute, 30 min of each fuzz target
#   make demo            a real runc container, end to end
#   make install         PREFIX=/usr/local DESTDIR= (make uninstall removes exactly that)
#
# Knobs: V=1 (full command lines), SANITIZE=address,undefined, WERROR=0.

VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
# ocitapd reads /etc/ocitap/ocitapd.conf whatever PREFIX is
SYSCONFDIR  ?= /etc
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# bash-completion's own directory (its .pc says where), whatever PREFIX is
BASHCOMPDIR ?= $(or $(shell $(PKG_CONFIG) --variable=completionsdir bash-completion 2>/dev/null),/usr/share/bash-completion/completions)
DESTDIR     ?=
BUILD       ?= build

CC          ?= cc
CLANG       ?= clang
PKG_CONFIG  ?= pkg-config
SCDOC       ?= scdoc
WERROR      ?= 1
SANITIZE    ?=
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wvla -Wpointer-arith
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

# $(call pkg,OPTION,PACKAGE): `pkg-config OPTION PACKAGE`, run once per make
# run, when first needed, and remembered (an $(eval) of a := variable).
# Not at parse time: `make check` on a fresh machine installs the packages
# first (scripts/deps.sh) and builds in a sub-make, which then finds them.
pkg = $(if $(filter undefined,$(origin _pkg$(1)_$(2))),$(eval _pkg$(1)_$(2) := $$(shell $(PKG_CONFIG) $(1) $(2) 2>/dev/null)))$(_pkg$(1)_$(2))
DEP_CFLAGS  = $(call pkg,--cflags,json-c) $(call pkg,--cflags,libpcre2-8)
JSONC_LIBS  = $(or $(call pkg,--libs,json-c),-ljson-c)
SDK_LIBS    = $(JSONC_LIBS)
DEP_LIBS    = $(JSONC_LIBS) $(EXTRA_LIBS)
EXTRA_LIBS = $(or $(call pkg,--libs,libseccomp),-lseccomp) \
               $(or $(call pkg,--libs,sqlite3),-lsqlite3) \
               $(or $(call pkg,--libs,libpcre2-8),-lpcre2-8)
CURL_LIBS   = $(or $(call pkg,--libs,libcurl),-lcurl)
BPF_LIBS    = $(or $(call pkg,--libs,libbpf),-lbpf -lelf -lz)
DAEMON_LIBS = $(or $(call pkg,--libs,libmicrohttpd),-lmicrohttpd) $(CURL_LIBS) -lm $(BPF_LIBS)
CMOCKA_LIBS = $(or $(call pkg,--libs,cmocka),-lcmocka)

CFLAGS   ?= -O2 -g
# override: a CFLAGS given on the command line (the ASan build's) adds to these
override CFLAGS += -std=gnu11 -fPIC -fvisibility=hidden $(WARNINGS) -MMD -MP
CPPFLAGS += -D_GNU_SOURCE -DOCITAP_VERSION='"$(VERSION)"' -Ilib -Ibpf $(DEP_CFLAGS)
ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRCS := lib/error.c lib/clock.c lib/number.c lib/io.c lib/json-util.c lib/state.c lib/scm.c lib/bundle.c lib/lifecycle.c lib/policy.c lib/store.c lib/store-schema.c lib/store-meta.c lib/report.c lib/proc.c lib/spool.c lib/stage.c lib/hooksd.c lib/procinfo.c lib/runtime.c lib/runtime-exec.c lib/runtime-wrap.c lib/runtime-wrap-splice.c lib/json-scan.c lib/keeper.c lib/profile.c lib/profile-path.c lib/query.c lib/event-json.c lib/goregex.c lib/goregex-class.c lib/nsid.c lib/names.c lib/conf.c lib/http-addr.c
# The installed SDK (docs/design/sdk.md): these headers, and libocitap.so and
# the installed libocitap.a built from LIB_SDK_SRCS only (the public modules
# and the private helpers they use, hidden). Everything else in lib/ is for
# the programs of this tree: never installed, never exported.
LIB_PUBLIC_HDRS  := lib/ocitap.h lib/error.h lib/defaults.h lib/io.h lib/state.h lib/scm.h lib/bundle.h lib/report.h
LIB_PRIVATE_HDRS := $(filter-out $(LIB_PUBLIC_HDRS),$(wildcard lib/*.h))
LIB_SDK_SRCS     := lib/error.c lib/clock.c lib/io.c lib/json-util.c lib/state.c lib/scm.c lib/bundle.c lib/report.c
LIB_SDK_OBJS     := $(LIB_SDK_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)

CLI_SRCS := $(addprefix inspect/ocitap/,ocitap.c cli.c records.c inspect-process.c exit-text.c cmd_validate.c cmd_events.c cmd_hooks.c cmd_ps.c \
              cmd_inspect.c cmd_profile.c cmd_version.c cmd_completion.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)


UNIT_TESTS := error defaults clock number json_util io state scm bundle lifecycle policy store report proc spool stage metrics hooksd procinfo runtime keeper profile query \
              writer journal options nsid http_routes http_cache push runtime_wrap runtime_wrap_splice json_scan names exit_text conf http_addr
UNIT_BINS  := $(UNIT_TESTS:%=$(BUILD)/tests/test_%)

TOOL_BINS := $(BUILD)/tests/ocitap-test-receiver $(BUILD)/tests/keeper-test $(BUILD)/tests/bench-parse $(BUILD)/tests/min-agent \
             $(BUILD)/tests/scale-client $(BUILD)/tests/http-wait $(BUILD)/tests/notify-loop $(BUILD)/tests/spawn-bench \
             $(BUILD)/tests/return0 $(BUILD)/tests/return0-static $(BUILD)/tests/return0-musl $(BUILD)/tests/ocitap-hook-glibc \
             $(BUILD)/tests/bpf-prog $(BUILD)/tests/perfbuf-tracer $(BUILD)/tests/claim-id $(BUILD)/tests/peer-tool

FUZZ_TARGETS := state process_state config policy report hooksd runtime profile query wrap wrap_splice names daemon_conf http_addr
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
ASAN_BUILD   := $(BUILD)/asan

DAEMON_SRCS := $(addprefix inspect/ocitapd/,main.c options.c log.c loop.c container.c tracking.c notify.c exit.c peers.c replay.c ledger.c journal.c \
                 handover.c upgrade.c writer.c tracer.c keeper-client.c metrics.c http.c http-routes.c http-api.c http-answers.c http-cache.c \
                 http-stream.c http-page.c push.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)

HOOK_STAGES := prestart createRuntime createContainer startContainer poststart poststop

all: $(BUILD)/libocitap.a $(BUILD)/libocitap.so $(BUILD)/sdk/libocitap.a $(BUILD)/bin/ocitap $(BUILD)/bin/ocitapd $(BUILD)/bin/ocitap-hook \
     $(BUILD)/bin/ocitap-fdkeeper \
     $(BUILD)/bin/ocitap-hook-static $(BUILD)/bin/ocitap-runtime \
     $(HOOK_STAGES:%=$(BUILD)/bin/ocitap-%) $(BUILD)/ocitap.pc
.PHONY: all

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# ---- BPF (bpf/): CO-RE objects and their skeletons ----
# vmlinux.h is generated at build time from the build machine's kernel BTF
# (VMLINUX_BTF), never kept in the tree: CO-RE relocates the field offsets
# at load time, so the objects run on any kernel with BTF, not only this one.
BPFTOOL     ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' \
                 -e 's/riscv64/riscv/' -e 's/s390x/s390/')
BPF_PROGS   := lifecycle syscalls
BPF_SKELS   := $(BPF_PROGS:%=$(BUILD)/bpf/%.skel.h)

$(BUILD)/bpf/vmlinux.h:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)test -r $(VMLINUX_BTF) || { echo "ocitap: no kernel BTF at $(VMLINUX_BTF) to build the BPF programs against;" \
		"set VMLINUX_BTF=FILE (any kernel's vmlinux with BTF: the programs are CO-RE)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/ocitap-bpf.h $(BUILD)/bpf/vmlinux.h
	@$(if $(Q),echo "  BPF     $<")
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD)/bpf -Ibpf -Wall -Werror \
		-c -o $@ $<

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# the design syscalls.bpf.c is benchmarked against (tests/bench/perfbuf.bpf.c)
$(BUILD)/tests/bench/%.bpf.o: tests/bench/%.bpf.c $(BUILD)/bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD)/bpf -Wall -Werror -c -o $@ $<
$(BUILD)/tests/bench/%.skel.h: $(BUILD)/tests/bench/%.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@
$(BUILD)/tests/bench/perfbuf-tracer.o: $(BUILD)/tests/bench/perfbuf.skel.h
$(BUILD)/tests/bench/perfbuf-tracer.o: CPPFLAGS += -I$(BUILD)/tests/bench
$(BUILD)/tests/perfbuf-tracer: $(BUILD)/tests/bench/perfbuf-tracer.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BPF_LIBS)

# the live page (GET /): inspect/ocitapd/page/index.html as bytes, and its
# Content-Security-Policy with the hashes of its inline style and script
$(BUILD)/gen/page.h: inspect/ocitapd/page/index.html scripts/embed-page.sh
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)scripts/embed-page.sh $< $@
$(BUILD)/inspect/ocitapd/http-page.o: $(BUILD)/gen/page.h
$(BUILD)/inspect/ocitapd/http-page.o: CPPFLAGS += -I$(BUILD)/gen

$(BUILD)/inspect/ocitapd/tracer.o: $(BPF_SKELS)
$(BUILD)/inspect/ocitapd/tracer.o: CPPFLAGS += -I$(BUILD)/bpf

$(BUILD)/libocitap.a: $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# the SDK: what a hook or seccomp agent links (json-c is its only dependency)
$(BUILD)/libocitap.so: $(LIB_SDK_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libocitap.so.0 -Wl,--no-undefined $(LDFLAGS) -o $@ $^ $(SDK_LIBS)

$(BUILD)/sdk/libocitap.a: $(LIB_SDK_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/bin/ocitap: $(CLI_OBJS) $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libocitap.a $(DEP_LIBS) $(CURL_LIBS)

# the commit `ocitap version` names: rewritten only when it changes, so that
# only cmd_version.o is rebuilt then ("" outside git)
$(BUILD)/gen/commit.h: FORCE
	@mkdir -p $(dir $@)
	$(Q)c=$$(git describe --always --dirty 2>/dev/null); \
		printf '#define OCITAP_COMMIT "%s"\n' "$$c" > $@.$$$$; \
		if cmp -s $@.$$$$ $@; then rm -f $@.$$$$; else mv $@.$$$$ $@; fi
$(BUILD)/inspect/ocitap/cmd_version.o: $(BUILD)/gen/commit.h
$(BUILD)/inspect/ocitap/cmd_version.o: CPPFLAGS += -I$(BUILD)/gen
FORCE:
.PHONY: FORCE

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	     -e 's|@VERSION@|$(VERSION)|'

$(BUILD)/bin/ocitapd: $(DAEMON_OBJS) $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $(DAEMON_OBJS) $(BUILD)/libocitap.a $(DEP_LIBS) $(DAEMON_LIBS)

# the hook runs on every container start, up to six times: static, so that
# nothing is loaded or resolved at start (a dynamic build cost ~400 us more
# per run here: make bench BENCH=hook). Built against musl where musl-gcc is
# (musl-tools; scripts/deps.sh installs it): glibc's static start probes the
# CPU with cpuid for its string functions and cache sizes, and in a VM each
# probe traps to the host, which made a static glibc `return 0` cost twice a
# musl one here (make bench BENCH=hook prints both). Else the glibc build.
# HOOK_LIB_SRCS are the modules the hook links; one it starts to need is an
# undefined symbol at this link, not a silent fallback.
MUSL_CC       ?= $(shell command -v musl-gcc 2>/dev/null)
MUSL_BUILD    := $(BUILD)/musl
HOOK_LIB_SRCS := lib/bundle.c lib/clock.c lib/error.c lib/io.c lib/json-util.c lib/number.c lib/report.c lib/spool.c \
                 lib/stage.c lib/state.c
MUSL_HOOK_OBJS := $(addprefix $(MUSL_BUILD)/,hooks/ocitap-hook.o hooks/musl-compat.o $(HOOK_LIB_SRCS:.c=.o))
# musl's headers, then the kernel's and json-c's (nothing else of glibc's)
MUSL_SYSINC   ?= /usr/include
MUSL_INC      := $(MUSL_BUILD)/include

$(MUSL_INC)/.done:
	@mkdir -p $(dir $@)
	$(Q)for d in linux asm-generic json-c; do ln -sfn $(MUSL_SYSINC)/$$d $(dir $@)$$d; done
	$(Q)ln -sfn $(MUSL_SYSINC)/$$($(CC) -print-multiarch)/asm $(dir $@)asm
	$(Q)touch $@

$(MUSL_BUILD)/%.o: %.c | $(MUSL_INC)/.done
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  MUSLCC  $<")
	$(Q)$(MUSL_CC) -O2 -g -std=gnu11 -fvisibility=hidden $(WARNINGS) -MMD -MP -D_GNU_SOURCE \
		-DOCITAP_VERSION='"$(VERSION)"' -Ilib -Ibpf -isystem $(MUSL_INC) -c -o $@ $<

ifneq ($(MUSL_CC),)
$(BUILD)/bin/ocitap-hook $(BUILD)/bin/ocitap-hook-static: $(MUSL_HOOK_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@ (musl)")
	$(Q)$(MUSL_CC) -static -o $@ $^ $$($(CC) -print-file-name=libjson-c.a)
else
# the same static build under the name startContainer hooks and bind mounts use
$(BUILD)/bin/ocitap-hook $(BUILD)/bin/ocitap-hook-static: $(BUILD)/hooks/ocitap-hook.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -static -o $@ $< $(BUILD)/libocitap.a -ljson-c
endif

# the glibc static build whatever MUSL_CC is: tests/integration/hook-libc.sh
# holds the two builds' reports to each other
$(BUILD)/tests/ocitap-hook-glibc: $(BUILD)/hooks/ocitap-hook.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) -static -o $@ $< $(BUILD)/libocitap.a -ljson-c

# the runtime wrapper runs before every runtime command Docker or containerd
# makes: static, so nothing is resolved at start (ocitap-runtime(8))
$(BUILD)/bin/ocitap-runtime: $(BUILD)/hooks/ocitap-runtime.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -static -o $@ $< $(BUILD)/libocitap.a -ljson-c

# holds notify fds across ocitapd restarts: libocitap only, no JSON in its path
$(BUILD)/bin/ocitap-fdkeeper: $(BUILD)/inspect/fdkeeper/ocitap-fdkeeper.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libocitap.a $(DEP_LIBS)

# one symlink per stage name, and only those: a new ocitap-* program is
# never taken for a stage
$(HOOK_STAGES:%=$(BUILD)/bin/ocitap-%): $(BUILD)/bin/ocitap-%: $(BUILD)/bin/ocitap-hook
	$(Q)ln -sf ocitap-hook $@

$(BUILD)/ocitap.pc: ocitap.pc.in Makefile
	@mkdir -p $(dir $@)
	$(Q)$(PC_SED) $< > $@

# ---- tests -----------------------------------------------------------------

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libocitap.a $(DEP_LIBS) $(CMOCKA_LIBS)

# the daemon's metrics table, tested on its own
$(BUILD)/tests/test_metrics: $(BUILD)/tests/unit/test_metrics.o $(BUILD)/inspect/ocitapd/metrics.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(DEP_LIBS) $(CMOCKA_LIBS) -lm

# the store thread, with the store's commit wrapped so that a test can make it fail
$(BUILD)/tests/test_writer: $(BUILD)/tests/unit/test_writer.o $(BUILD)/inspect/ocitapd/writer.o \
		$(BUILD)/inspect/ocitapd/journal.o $(BUILD)/inspect/ocitapd/log.o $(BUILD)/inspect/ocitapd/metrics.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -pthread -Wl,--wrap=ocitap_store_commit -o $@ $^ $(DEP_LIBS) $(CMOCKA_LIBS) -lm

# the hook reports' journal (a shared mapping; no store)
$(BUILD)/tests/test_journal: $(BUILD)/tests/unit/test_journal.o $(BUILD)/inspect/ocitapd/journal.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS) $(CMOCKA_LIBS)

# the HTTP export's route table (pure: no libmicrohttpd)
$(BUILD)/tests/test_http_routes: $(BUILD)/tests/unit/test_http_routes.o $(BUILD)/inspect/ocitapd/http-routes.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

# the HTTP export's kept answers (pure: no libmicrohttpd)
$(BUILD)/tests/test_http_cache: $(BUILD)/tests/unit/test_http_cache.o $(BUILD)/inspect/ocitapd/http-cache.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(CMOCKA_LIBS)

# the push thread against a receiver inside the test, with a real store and store thread
$(BUILD)/tests/test_push: $(BUILD)/tests/unit/test_push.o $(BUILD)/inspect/ocitapd/push.o \
		$(BUILD)/inspect/ocitapd/writer.o $(BUILD)/inspect/ocitapd/journal.o $(BUILD)/inspect/ocitapd/log.o $(BUILD)/inspect/ocitapd/metrics.o \
		$(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(DEP_LIBS) $(CURL_LIBS) $(CMOCKA_LIBS) -lm

# the CLI's words for exits and events (pure: json-c only)
$(BUILD)/tests/test_exit_text: $(BUILD)/tests/unit/test_exit_text.o $(BUILD)/inspect/ocitap/exit-text.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(JSONC_LIBS) $(CMOCKA_LIBS)

# the daemon's command line and environment
$(BUILD)/tests/test_options: $(BUILD)/tests/unit/test_options.o $(BUILD)/inspect/ocitapd/options.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/ocitap-test-receiver: $(BUILD)/tests/integration/test-receiver.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libocitap.a $(DEP_LIBS) $(EXTRA_LIBS)

$(BUILD)/tests/keeper-test: $(BUILD)/tests/integration/keeper-test.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libocitap.a $(DEP_LIBS)

$(BUILD)/tests/bench-parse: $(BUILD)/tests/bench/bench-parse.o $(BUILD)/libocitap.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libocitap.a $(DEP_LIBS)

$(BUILD)/tests/min-agent: $(BUILD)/tests/bench/min-agent.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $<

$(BUILD)/tests/spawn-bench: $(BUILD)/tests/bench/spawn-bench.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $<

# ocitapd's start timed to /healthz answering (make bench BENCH=scale10k)
$(BUILD)/tests/http-wait: $(BUILD)/tests/bench/http-wait.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $<

# a root peer that claims another container's id (tests/integration/policy-per-fd.sh)
$(BUILD)/tests/claim-id: $(BUILD)/tests/integration/claim-id.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $<

# a peer inside a container (tests/integration/container-peers.sh): static, a busybox rootfs has no socat
$(BUILD)/tests/peer-tool: $(BUILD)/tests/integration/peer-tool.o
	$(Q)$(CC) $(LDFLAGS) -static -o $@ $<

# a container's only program (tests/integration/bpf.sh): static
$(BUILD)/tests/bpf-prog: $(BUILD)/tests/integration/bpf-prog.o
	$(Q)$(CC) $(LDFLAGS) -static -o $@ $<

# linked like ocitap-hook: libocitap.a, json-c loaded
$(BUILD)/tests/return0: $(BUILD)/tests/bench/return0.o $(BUILD)/libocitap.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libocitap.a -ljson-c

# the same, static as ocitap-hook is: the container-start benchmark's null hook
$(BUILD)/tests/return0-static: $(BUILD)/tests/bench/return0.o $(BUILD)/libocitap.a
	$(Q)$(CC) -static -o $@ $< $(BUILD)/libocitap.a -ljson-c

# the same again, built as the hook is where MUSL_CC is (musl, static): the
# benchmarks' like-for-like null hook beside the issue's glibc baselines
$(BUILD)/tests/return0-musl: $(if $(MUSL_CC),$(MUSL_BUILD)/tests/bench/return0.o,$(BUILD)/tests/bench/return0.o $(BUILD)/libocitap.a)
	$(Q)$(if $(MUSL_CC),$(MUSL_CC) -static -o $@ $< $$($(CC) -print-file-name=libjson-c.a),$(CC) -static -o $@ $< $(BUILD)/libocitap.a -ljson-c)

$(BUILD)/tests/scale-client: $(BUILD)/tests/bench/scale-client.o $(BUILD)/libocitap.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libocitap.a $(DEP_LIBS)

# runs inside a busybox container: static
$(BUILD)/tests/notify-loop: tests/bench/notify-loop.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -static -o $@ $<

tests: all $(UNIT_BINS) $(TOOL_BINS)
.PHONY: tests

# The library and the unit tests again, under ASan/UBSan, in their own tree.
check-sanitize-build:
	$(Q)$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) SANITIZE=address,undefined \
		CFLAGS="-O1 -g -fno-sanitize-recover=all" $(UNIT_TESTS:%=$(ASAN_BUILD)/tests/test_%)
.PHONY: check-sanitize-build

# libFuzzer targets: the library compiled with clang and the fuzzer's instrumentation.
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(CLANG) $(CPPFLAGS) -std=gnu11 $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(DEP_LIBS)

# ocitapd.conf(5): the daemon's option parser with the library
$(FUZZ_BUILD)/fuzz_daemon_conf: $(FUZZ_BUILD)/obj/inspect/ocitapd/options.o

fuzz-build: $(FUZZ_BINS)
.PHONY: fuzz-build

# Every suite `make check` runs, each NAME[@SECONDS]=COMMAND; see
# tests/run-suites.sh for the counting (TAP, under TAP::Parser) and the time
# limit: SECONDS for that suite, else SUITE_TIMEOUT.
SUITE_TIMEOUT ?= 300
export SUITE_TIMEOUT
UNIT_SUITES      = $(foreach t,$(UNIT_TESTS),'unit:$(t)=$(BUILD)/tests/test_$(t)')
ASAN_SUITES      = $(foreach t,$(UNIT_TESTS),'asan:$(t)=$(ASAN_BUILD)/tests/test_$(t)')
# valgrind 3.19 (Debian 12) does not emulate pidfd_open (syscall 434): test_proc
# runs natively and under ASan/UBSan only.
VALGRIND_TESTS   = $(filter-out proc,$(UNIT_TESTS))
VALGRIND_SUITES  = $(foreach t,$(VALGRIND_TESTS),'valgrind:$(t)=tests/valgrind.sh $(BUILD)/tests/test_$(t)')
FUZZ_SUITES      = $(foreach t,$(FUZZ_TARGETS),'fuzz-corpus:$(t)=tests/fuzz/replay.sh $(FUZZ_BUILD)/fuzz_$(t) tests/fuzz/corpus/$(t) tests/fuzz/regressions/$(t)')
INTEGRATION_SUITES = 'harness@60=tests/harness-selftest.sh' 'lint=tests/lint.sh' \
                   $(foreach t,$(sort $(wildcard tests/integration/*.sh)),'integration:$(basename $(notdir $(t)))=$(t)') \
                   $(foreach t,$(sort $(wildcard tests/integration/faults/*.sh)),'faults:$(basename $(notdir $(t)))=$(t)')

check:
	$(Q)scripts/deps.sh check
	$(Q)$(MAKE) --no-print-directory tests check-sanitize-build fuzz-build
	$(Q)BUILD=$(BUILD) tests/run-suites.sh $(UNIT_SUITES) $(ASAN_SUITES) $(VALGRIND_SUITES) $(FUZZ_SUITES) \
		$(INTEGRATION_SUITES)
.PHONY: check

# Only the sanitizer and valgrind runs of the unit tests.
check-sanitize:
	$(Q)scripts/deps.sh check
	$(Q)$(MAKE) --no-print-directory tests check-sanitize-build
	$(Q)BUILD=$(BUILD) tests/run-suites.sh $(ASAN_SUITES) $(VALGRIND_SUITES)
.PHONY: check-sanitize

# Each fuzz target for FUZZ_SECONDS. The corpus it grows is outside the tree,
# $(FUZZ_CORPUS)/<target>, kept across runs and read with the committed seeds
# (tests/fuzz/corpus/<target>) and the inputs that once crashed it
# (tests/fuzz/regressions/<target>); nothing under tests/ is written. A crash,
# leak or OOM stops it: the input is $(FUZZ_BUILD)/<target>-crash-* (or
# leak-*, oom-*); once fixed, it goes into tests/fuzz/regressions/<target>/.
FUZZ_CORPUS := $(FUZZ_BUILD)/corpus
fuzz:
	$(Q)scripts/deps.sh check
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		mkdir -p $(FUZZ_CORPUS)/$$t; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -max_len=65536 \
			-dict=tests/fuzz/json.dict -artifact_prefix=$(FUZZ_BUILD)/$$t- \
			$(FUZZ_CORPUS)/$$t tests/fuzz/corpus/$$t $$(ls -d tests/fuzz/regressions/$$t 2>/dev/null) \
			>$(FUZZ_BUILD)/fuzz_$$t.log 2>&1; \
		rc=$$?; \
		grep -E '^(stat::|#[0-9]+ +DONE|==[0-9]+==ERROR|SUMMARY)' $(FUZZ_BUILD)/fuzz_$$t.log; \
		if [ $$rc -ne 0 ]; then \
			echo "fuzz_$$t: failed (exit $$rc); the input is $(FUZZ_BUILD)/$$t-crash-* (or leak-*, oom-*)," \
				"the report in $(FUZZ_BUILD)/fuzz_$$t.log" >&2; \
			exit 1; \
		fi; \
	done
.PHONY: fuzz

# The committed seeds again, by hand, after a campaign: for each target a
# small set of inputs with every edge the seeds and $(FUZZ_CORPUS) reach
# (libFuzzer's -merge=1 into an empty directory, on edges: -use_counters=0;
# with hit counts nearly every grown input stays). Review, then commit
# tests/fuzz/corpus/.
fuzz-seeds: fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ_BUILD)/seeds-$$t && mkdir -p $(FUZZ_BUILD)/seeds-$$t $(FUZZ_CORPUS)/$$t && \
		$(FUZZ_BUILD)/fuzz_$$t -merge=1 -use_counters=0 -max_len=65536 $(FUZZ_BUILD)/seeds-$$t tests/fuzz/corpus/$$t $(FUZZ_CORPUS)/$$t \
			>$(FUZZ_BUILD)/seeds-$$t.log 2>&1 || { echo "fuzz_$$t: merge failed, see $(FUZZ_BUILD)/seeds-$$t.log" >&2; exit 1; }; \
		rm -rf tests/fuzz/corpus/$$t && mv $(FUZZ_BUILD)/seeds-$$t tests/fuzz/corpus/$$t; \
		echo "fuzz_$$t: $$(ls tests/fuzz/corpus/$$t | wc -l) seeds"; \
	done
.PHONY: fuzz-seeds

# The long runs: SOAK_N container lifecycles (default 1000) one after
# another; then faults/load.sh at scale: SOAK_LOAD_N lifecycles (default
# 4800, in six parallel loops; 0 skips) while ocitapd is killed with SIGKILL
# every SOAK_KILL_EVERY seconds (default 60), every other kill right after
# one of its keeper, and upgraded once; then every fuzz target for
# SOAK_FUZZ_SECONDS (default 1800; 0 skips). Results: docs/reliability.md,
# docs/fuzzing.md.
SOAK_FUZZ_SECONDS ?= 1800
SOAK_LOAD_N ?= 4800
SOAK_KILL_EVERY ?= 60
soak: all $(TOOL_BINS)
	$(Q)scripts/deps.sh check
	$(Q)BUILD=$(BUILD) tests/soak/soak.sh
	$(Q)if [ "$(SOAK_LOAD_N)" != 0 ]; then BUILD=$(BUILD) LOAD_NAME=soak-load LOAD_LOOPS=6 \
		LOAD_PER=$$(( ($(SOAK_LOAD_N) + 5) / 6 )) LOAD_KILLS=100000 LOAD_KILL_EVERY=$(SOAK_KILL_EVERY) \
		LOAD_KEEPER=alternate tests/integration/faults/load.sh; fi
	$(Q)if [ "$(SOAK_FUZZ_SECONDS)" != 0 ]; then $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(SOAK_FUZZ_SECONDS); fi
.PHONY: soak

bench: all $(TOOL_BINS)
	$(Q)scripts/deps.sh bench
	$(Q)BUILD=$(BUILD) tests/bench/run.sh $(BENCH)
.PHONY: bench

demo:
	$(Q)scripts/deps.sh check
	$(Q)$(MAKE) --no-print-directory all $(TOOL_BINS)
	$(Q)BUILD=$(BUILD) scripts/demo.sh
.PHONY: demo

MANPAGES := $(BUILD)/man/ocitap.1 $(BUILD)/man/ocitap-hook.1 $(BUILD)/man/ocitapd.8 $(BUILD)/man/ocitap-fdkeeper.8 $(BUILD)/man/ocitapd-policy.5 \
            $(BUILD)/man/ocitapd.conf.5 $(BUILD)/man/ocitap-bpf.7 $(BUILD)/man/ocitap-runtime.8
$(BUILD)/man/%: docs/%.scd
	@mkdir -p $(dir $@)
	$(Q)$(SCDOC) < $< > $@
man: $(MANPAGES)
.PHONY: man

# the bash completion, made by ocitap from its own command table
$(BUILD)/completion/ocitap: $(BUILD)/bin/ocitap
	@mkdir -p $(dir $@)
	$(Q)$< completion bash > $@.$$$$ && mv $@.$$$$ $@

# the oci-hooks(5) files (ocitap-hook(1)): the default stages, always; the
# rest and startContainer for containers that ask by annotation
SHIPPED_HOOKS_D := ocitap.json ocitap-poststop.json ocitap-every-stage.json ocitap-startcontainer.json

install: all man $(BUILD)/completion/ocitap
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 $(BUILD)/completion/ocitap $(DESTDIR)$(BASHCOMPDIR)/ocitap
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/ocitap $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(BUILD)/bin/ocitap $(DESTDIR)$(BINDIR)/ocitap
	install -m 0755 $(BUILD)/bin/ocitapd $(DESTDIR)$(BINDIR)/ocitapd
	install -m 0755 $(BUILD)/bin/ocitap-fdkeeper $(DESTDIR)$(BINDIR)/ocitap-fdkeeper
	install -m 0755 $(BUILD)/bin/ocitap-hook $(DESTDIR)$(BINDIR)/ocitap-hook
	install -m 0755 $(BUILD)/bin/ocitap-hook-static $(DESTDIR)$(BINDIR)/ocitap-hook-static
	install -m 0755 $(BUILD)/bin/ocitap-runtime $(DESTDIR)$(BINDIR)/ocitap-runtime
	for s in $(HOOK_STAGES); do ln -sf ocitap-hook $(DESTDIR)$(BINDIR)/ocitap-$$s; done
	install -d $(DESTDIR)$(DATADIR)/containers/oci/hooks.d
	for f in $(SHIPPED_HOOKS_D); do \
		sed 's|/usr/local/bin|$(BINDIR)|' hooks/hooks.d/$$f > $(DESTDIR)$(DATADIR)/containers/oci/hooks.d/$$f; done
	install -m 0644 $(BUILD)/sdk/libocitap.a $(DESTDIR)$(LIBDIR)/libocitap.a
	install -m 0755 $(BUILD)/libocitap.so $(DESTDIR)$(LIBDIR)/libocitap.so.$(VERSION)
	ln -sf libocitap.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libocitap.so.0
	ln -sf libocitap.so.0 $(DESTDIR)$(LIBDIR)/libocitap.so
	install -m 0644 $(LIB_PUBLIC_HDRS) $(DESTDIR)$(INCLUDEDIR)/ocitap/
	$(PC_SED) ocitap.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ocitap.pc
	install -m 0644 $(BUILD)/man/ocitap.1 $(BUILD)/man/ocitap-hook.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/man/ocitapd-policy.5 $(BUILD)/man/ocitapd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	@# the operator's own config and policy are never overwritten
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/ocitap
	for f in ocitapd.conf policy.json; do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/ocitap/$$f ] || install -m 0644 etc/$$f $(DESTDIR)$(SYSCONFDIR)/ocitap/$$f; done
	install -m 0644 $(BUILD)/man/ocitap-bpf.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(BUILD)/man/ocitapd.8 $(BUILD)/man/ocitap-fdkeeper.8 $(BUILD)/man/ocitap-runtime.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|/usr/local/bin|$(BINDIR)|' inspect/ocitapd/ocitapd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/ocitapd.service
	sed 's|/usr/local/bin|$(BINDIR)|' inspect/fdkeeper/ocitap-fdkeeper.service > \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/ocitap-fdkeeper.service
.PHONY: install

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ocitap-hook $(DESTDIR)$(BINDIR)/ocitap-hook-static $(DESTDIR)$(BINDIR)/ocitap-runtime $(HOOK_STAGES:%=$(DESTDIR)$(BINDIR)/ocitap-%) \
		$(SHIPPED_HOOKS_D:%=$(DESTDIR)$(DATADIR)/containers/oci/hooks.d/%)
	rm -f $(DESTDIR)$(BINDIR)/ocitap-fdkeeper $(DESTDIR)$(MANDIR)/man8/ocitap-fdkeeper.8 $(DESTDIR)$(MANDIR)/man8/ocitap-runtime.8
	rm -f $(DESTDIR)$(BINDIR)/ocitap $(DESTDIR)$(BINDIR)/ocitapd $(DESTDIR)$(LIBDIR)/libocitap.a $(DESTDIR)$(LIBDIR)/libocitap.so* \
		$(DESTDIR)$(PKGCONFIGDIR)/ocitap.pc $(DESTDIR)$(MANDIR)/man1/ocitap.1 $(DESTDIR)$(MANDIR)/man1/ocitap-hook.1 \
		$(DESTDIR)$(MANDIR)/man5/ocitapd-policy.5 $(DESTDIR)$(MANDIR)/man5/ocitapd.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/ocitapd.8 $(DESTDIR)$(MANDIR)/man7/ocitap-bpf.7 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/ocitapd.service \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/ocitap-fdkeeper.service
	rm -f $(DESTDIR)$(BASHCOMPDIR)/ocitap
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ocitap
	@# the config and policy install put there, unless the operator changed them
	for f in ocitapd.conf policy.json; do \
		! cmp -s etc/$$f $(DESTDIR)$(SYSCONFDIR)/ocitap/$$f || rm -f $(DESTDIR)$(SYSCONFDIR)/ocitap/$$f; done
	rmdir $(DESTDIR)$(SYSCONFDIR)/ocitap 2>/dev/null || true
.PHONY: uninstall

format:
	clang-format -i $(wildcard lib/*.[ch] inspect/*/*.[ch] hooks/*.[ch])
.PHONY: format

clean:
	rm -rf $(BUILD)
.PHONY: clean

# -MMD -MP dependency files, one per object this make builds (the ASan
# build's are its sub-make's, under its own BUILD)
HOOK_OBJS := $(BUILD)/hooks/ocitap-hook.o $(BUILD)/hooks/ocitap-runtime.o $(BUILD)/inspect/fdkeeper/ocitap-fdkeeper.o
UNIT_OBJS := $(UNIT_TESTS:%=$(BUILD)/tests/unit/test_%.o)
TOOL_OBJS := $(addprefix $(BUILD)/tests/,integration/test-receiver.o integration/keeper-test.o integration/bpf-prog.o \
               bench/bench-parse.o bench/min-agent.o bench/spawn-bench.o bench/return0.o bench/scale-client.o bench/http-wait.o \
               bench/perfbuf-tracer.o integration/claim-id.o)
MUSL_OBJS := $(MUSL_HOOK_OBJS) $(MUSL_BUILD)/tests/bench/return0.o
FUZZ_OBJS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o) $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
ALL_OBJS  := $(LIB_OBJS) $(CLI_OBJS) $(DAEMON_OBJS) $(HOOK_OBJS) $(UNIT_OBJS) $(TOOL_OBJS) $(FUZZ_OBJS) $(MUSL_OBJS)
-include $(ALL_OBJS:.o=.d)

$(BUILD)/tests/unit/%.o: CPPFLAGS += -DTEST_DATA_DIR='"$(CURDIR)/tests/data"' -Itests/unit
$(BUILD)/tests/unit/%.o: CFLAGS += -Wno-missing-prototypes

# keep intermediate objects (no rebuilds, no surprise deletions)
.SECONDARY:
# a recipe that fails leaves no half-written target behind
.DELETE_ON_ERROR:
