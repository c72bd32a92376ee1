#!/usr/bin/env bash
# lint.sh: checks on the build itself, as TAP: the shared library exports
# only ocitap_* symbols, the pkg-config file is valid, the programs answer
# --help and --version, lib/ never prints or exits, no sprintf anywhere; and
# the installed SDK (docs/design/sdk.md): only its headers, exactly its
# functions exported, programs (docs/design/sdk.md's agent too) built against it.
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

# programs built against the installed SDK only (headers, libraries, ocitap.pc)
tmp=$(mktemp -d)
make --no-print-directory -s install DESTDIR="$tmp" PREFIX=/usr >/dev/null 2>&1
pc() { PKG_CONFIG_SYSROOT_DIR="$tmp" PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig" pkg-config "$@"; }

# exactly the headers ocitap.h reaches are installed: no private one
reach=$(cd lib && { echo ocitap.h; grep -ho '#include "[a-z-]*\.h"' ocitap.h $(grep -o '"[a-z-]*\.h"' ocitap.h | tr -d '"') |
	grep -o '[a-z-]*\.h'; } | sort -u | tr '\n' ' ')
installed=$(ls "$tmp/usr/include/ocitap" | sort -u | tr '\n' ' ')
if [[ $reach == "$installed" ]]; then ok "installed headers are the SDK's only ($installed)"
else not_ok "installed headers are the SDK's only: installed '$installed', ocitap.h reaches '$reach'"; fi
private=$(for h in lib/*.h; do [[ -e "$tmp/usr/include/ocitap/${h#lib/}" ]] || echo "${h#lib/}"; done | tr '\n' ' ')
if grep -q '^OCITAP_EXPORT' $(for h in $private; do echo "lib/$h"; done); then
	not_ok "private headers export nothing: $(grep -l '^OCITAP_EXPORT' $(for h in $private; do echo "lib/$h"; done))"
else ok "private headers export nothing ($(echo $private | wc -w) headers)"; fi

# libocitap.so exports what the installed headers declare, and nothing else
declared=$(cat "$tmp"/usr/include/ocitap/*.h | tr '\n' ' ' | grep -oE 'OCITAP_EXPORT [^;(]*\(' |
	grep -oE 'ocitap_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$tmp/usr/lib/libocitap.so" | awk '{print $3}' | sort -u)
if [[ $declared == "$exported" ]]; then ok "libocitap.so exports exactly the $(echo "$exported" | wc -l) functions the installed headers declare"
else not_ok "libocitap.so exports exactly what the installed headers declare: $(diff <(echo "$declared") <(echo "$exported") | grep '^[<>]' | tr '\n' ' ')"; fi
# (into variables: grep -q under pipefail can fail on the writer's SIGPIPE)
static_libs=$(pc --static --libs ocitap) requires=$(pc --print-requires-private ocitap)
if [[ $static_libs == *json-c* && -z $(grep -v '^json-c' <<<"$requires") ]]; then
	ok "ocitap.pc: json-c, the SDK's only dependency, for static links"
else not_ok "ocitap.pc: json-c, the SDK's only dependency, for static links"; fi

cat >"$tmp/t.c" <<'C'
#include <ocitap.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
	const char *j = "{\"id\":\"a\",\"status\":\"running\",\"pid\":1,\"bundle\":\"/b\"}";
	struct ocitap_hook_report rep = { .version = OCITAP_REPORT_VERSION, .stage = OCITAP_STAGE_POSTSTART,
					  .hook_pid = 7, .mono_ns = 1, .wall_ns = 2 }, back;
	struct ocitap_error err = { 0 };
	int sv[2], p[2], got[2];
	size_t n_fds;
	char buf[16], *json;

	if (strcmp(OCITAP_DEFAULT_SOCKET, "/run/ocitap/ocitap.sock") != 0)
		return 1;
	if (ocitap_state_parse(j, strlen(j), 0, NULL, &rep.state, &err) < 0)
		return 2;
	/* a hook report, to JSON and back */
	if (ocitap_hook_report_to_json(&rep, &json, &err) < 0 || ocitap_hook_report_parse(json, strlen(json), NULL, &back, &err) < 0 ||
	    back.stage != OCITAP_STAGE_POSTSTART || strcmp(back.state.id, "a") != 0)
		return 3;
	free(json);
	ocitap_hook_report_release(&back);
	ocitap_state_release(&rep.state);
	/* one message with an fd over SCM_RIGHTS */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(p) < 0)
		return 4;
	if (ocitap_scm_send_msg(sv[0], "KEEP", 4, &p[0], 1, &err) < 0 ||
	    ocitap_scm_recv_msg(sv[1], buf, sizeof(buf), got, 2, &n_fds, 0, &err) != 4 || n_fds != 1 ||
	    !(fcntl(got[0], F_GETFD) & FD_CLOEXEC))
		return 5;
	close(got[0]);
	return 0;
}
C
if cc -o "$tmp/t" "$tmp/t.c" $(pc --cflags ocitap) "$tmp/usr/lib/libocitap.a" $(pc --static --libs-only-l ocitap | sed 's/-locitap//') &&
	"$tmp/t"; then
	ok "make install: a program using State, SCM_RIGHTS and hook reports builds with the static library and ocitap.pc"
else
	not_ok "make install: a program using State, SCM_RIGHTS and hook reports builds with the static library and ocitap.pc"
fi
if cc -o "$tmp/t-so" "$tmp/t.c" $(pc --cflags --libs ocitap) && LD_LIBRARY_PATH="$tmp/usr/lib" "$tmp/t-so"; then
	ok "... and with the shared library"
else not_ok "... and with the shared library"; fi
# docs/design/sdk.md's seccomp agent, as printed there
awk '/<!-- sdk-example: agent.c -->/ {f = 1; next} f && /^```c/ {g = 1; next} g && /^```/ {exit} g' docs/design/sdk.md >"$tmp/agent.c"
if [[ -s $tmp/agent.c ]] && cc -Wall -Wextra -Werror -o "$tmp/agent" "$tmp/agent.c" $(pc --cflags --libs ocitap) \
	$(pkg-config --libs libseccomp) && [[ $(LD_LIBRARY_PATH="$tmp/usr/lib" ldd "$tmp/agent") == *libocitap* ]]; then
	ok "the seccomp agent of docs/design/sdk.md builds against the installed SDK alone"
else not_ok "the seccomp agent of docs/design/sdk.md builds against the installed SDK alone"; fi
check "make install puts the man page in place" test -s "$tmp/usr/share/man/man1/ocitap.1"
rm -rf "$tmp"
done_testing
