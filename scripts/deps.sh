#!/usr/bin/env bash
# deps.sh: make sure the Debian packages ocitap builds and tests with are
# installed. As root, installs what is missing (apt-get); otherwise names the
# packages and the command, and fails.
#
#   scripts/deps.sh build   compilers and libraries
#   scripts/deps.sh check   build + what `make check` runs against (runc, crun, ...)
#   scripts/deps.sh bench   check + benchmark tools
set -euo pipefail

build_pkgs=(gcc make pkg-config clang llvm bpftool libjson-c-dev libcmocka-dev libseccomp-dev libcurl4-openssl-dev
            libmicrohttpd-dev libsqlite3-dev libbpf-dev libelf-dev zlib1g-dev libpcre2-dev scdoc musl-tools)
check_pkgs=(runc crun podman strace busybox-static jq curl valgrind libclang-rt-14-dev util-linux clang-format socat sqlite3
            prometheus python3 python3-yaml openssl uidmap docker.io containerd runsc chromium)
bench_pkgs=(hyperfine wrk)

want=("${build_pkgs[@]}")
case "${1:-check}" in
build) ;;
check) want+=("${check_pkgs[@]}") ;;
bench) want+=("${check_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "usage: $0 build|check|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "ocitap: missing Debian packages: ${missing[*]}" >&2
	echo "ocitap: install them with: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "ocitap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# docker.io and containerd must not start their services on the host: tests
# start private daemons of their own. policy-rc.d answering 101 ("action
# forbidden") keeps invoke-rc.d from starting anything during the install.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ocitap: packages installed" >&2
