#!/usr/bin/env bash
# lint.sh: checks on the build itself, as TAP: the shared library exports
# only ocitap_* symbols, the pkg-config file is valid, the programs answer
# --help and --version, lib/ never prints or exits, no sprintf anywhere.
set -uo pipefail
source "$(dirname "$0")/integration/common.bash"
cd "$TOP"

so="$BUILD/libocitap.so"
leaked=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^ocitap_' || true)
if [[ -z $leaked ]]; then ok "libocitap.so exports only ocitap_* symbols ($(nm -D --defined-only "$so" | wc -l))"
else not_ok "libocitap.so exports non-ocitap symbols: $leaked"; fi

# the static library too: hidden visibility does not keep a name out of a .a
a="$BUILD/libocitap.a"
leaked=$(nm -g --defined-only "$a" | awk 'NF == 3 {print $3}' | grep -v '^ocitap_' | sort -u || true)
if [[ -z $leaked ]]; then ok "libocitap.a defines only ocitap_* global symbols"
else not_ok "libocitap.a defines non-ocitap global symbols: $(echo $leaked)"; fi

check "ocitap.pc is valid" pkg-config --validate "$BUILD/ocitap.pc"
# the asan:* suites mean something only if the objects are instrumented
check "the ASan/UBSan build is instrumented" bash -c 'nm "$1/asan/lib/state.o" | grep -q __asan_report' _ "$BUILD"
check "the fuzz build tracks header changes" test -s "$BUILD/fuzz/obj/lib/report.d"

# the library never prints, logs or exits: its callers report once
if grep -nE '\b(printf|fprintf|puts|perror|exit|abort|syslog)\s*\(' lib/*.c | grep -v 'snprintf\|vsnprintf'; then
	not_ok "lib/ does not print or exit"
else ok "lib/ does not print or exit"; fi
if grep -nE '\bv?sprintf\s*\(' lib/*.c inspect/*/*.c hooks/*.c 2>/dev/null; then
	not_ok "no sprintf in lib/, inspect/, hooks/"
else ok "no sprintf in lib/, inspect/, hooks/"; fi

# formatting: .clang-format over the C of lib/, inspect/, hooks/ (make format fixes it)
srcs=$(ls lib/*.[ch] inspect/*/*.[ch] hooks/*.[ch] 2>/dev/null)
if out=$(clang-format --dry-run -Werror $srcs 2>&1); then ok "sources match .clang-format"
else echo "$out" | head -20; not_ok "sources match .clang-format (run make format)"; fi

check "ocitap --version" bash -c "\"$OCITAP\" --version | grep -q '^ocitap [0-9]'"
check "ocitap --help lists validate" bash -c "\"$OCITAP\" --help | grep -q validate"
check "ocitap validate --help" bash -c "\"$OCITAP\" validate --help | grep -q 'exit status'"

# a program built against the installed library and header, via pkg-config
tmp=$(mktemp -d)
make --no-print-directory -s install DESTDIR="$tmp" PREFIX=/usr >/dev/null 2>&1
cat >"$tmp/t.c" <<'C'
#include <ocitap.h>
#include <string.h>
int main(void)
{
	struct ocitap_state st;
	const char *j = "{\"id\":\"a\",\"status\":\"running\",\"pid\":1}";
	if (ocitap_state_parse(j, strlen(j), 0, NULL, &st, NULL) < 0)
		return 1;
	ocitap_state_release(&st);
	return 0;
}
C
if PKG_CONFIG_SYSROOT_DIR="$tmp" PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig" \
	cc -o "$tmp/t" "$tmp/t.c" $(PKG_CONFIG_SYSROOT_DIR="$tmp" PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig" pkg-config --cflags ocitap) \
	"$tmp/usr/lib/libocitap.a" -ljson-c -lseccomp -lsqlite3 && "$tmp/t"; then
	ok "make install gives a usable header, static library and ocitap.pc"
else
	not_ok "make install gives a usable header, static library and ocitap.pc"
fi
# the same with what ocitap.pc says a static link needs (Requires.private: libpcre2-8 for hooks.d patterns)
cat >"$tmp/r.c" <<'C'
#include <ocitap.h>
int main(void)
{
	struct ocitap_regex re;
	int r;
	if (ocitap_regex_compile("^\\pL+$", &re, NULL) < 0)
		return 1;
	r = ocitap_regex_search(&re, "ok");
	ocitap_regex_release(&re);
	return r == 1 ? 0 : 1;
}
C
pc() { PKG_CONFIG_SYSROOT_DIR="$tmp" PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig" pkg-config "$@"; }
if libs=$(pc --static --libs-only-l ocitap) &&
	cc -o "$tmp/r" "$tmp/r.c" $(pc --cflags ocitap) "$tmp/usr/lib/libocitap.a" ${libs//-locitap/}; then
	check "a static link with pkg-config --static ocitap's libraries runs a hooks.d pattern" "$tmp/r"
else
	not_ok "a static link with pkg-config --static ocitap's libraries runs a hooks.d pattern"
fi
check "make install puts the man page in place" test -s "$tmp/usr/share/man/man1/ocitap.1"
rm -rf "$tmp"
done_testing
