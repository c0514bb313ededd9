#!/usr/bin/env bash
# dkms.conf, tested: `dkms add`, `dkms build` and `dkms remove` of the module
# for one installed Debian header set (no install, no loading: the host cannot
# load modules). Everything happens in a private DKMS tree (--sourcetree,
# --dkmstree, and the signing key dkms generates), removed afterwards: the
# host's /usr/src, /var/lib/dkms and /lib/modules are untouched.
#
#   scripts/dkms-test.sh SERIES|RELEASE     e.g. 6.12, or 6.1.0-57-amd64
#
# Passes when dkms builds iopf_testbed.ko for that release, modinfo agrees on
# the release and the version in dkms.conf, and the build log is warning-free.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "dkms-test.sh: FAIL: $*" >&2; exit 1; }
[ $# -eq 1 ] || { echo "usage: $0 SERIES|RELEASE" >&2; exit 2; }
command -v dkms >/dev/null || die "no dkms (scripts/install-deps.sh installs it)"
[ "$(id -u)" -eq 0 ] || die "dkms needs root"

case $1 in
*.*.*) krel=$1 ;;
*) krel=$("$ROOT/scripts/kernels.sh" release "$1") ;;
esac
[ -e "/lib/modules/$krel/build/Makefile" ] ||
	die "no headers for $krel at /lib/modules/$krel/build (install linux-headers-$krel)"

conf() { sed -n "s/^$1=\"\(.*\)\"\$/\1/p" "$ROOT/dkms.conf"; }
name=$(conf PACKAGE_NAME)
version=$(conf PACKAGE_VERSION)
if [ -z "$name" ] || [ -z "$version" ]; then die "no PACKAGE_NAME/PACKAGE_VERSION in dkms.conf"; fi

tmp=$(mktemp -d)
trees=(--sourcetree "$tmp/src" --dkmstree "$tmp/dkms" --installtree "$tmp/modules")
cleanup() {
	dkms remove "$name/$version" --all "${trees[@]}" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/src" "$tmp/dkms" "$tmp/modules"
# dkms signs what it builds, making a key first if there is none.
export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub

# What a user's `dkms add <clone>` copies, minus build output: the files the
# module build needs.
stage=$tmp/stage
mkdir -p "$stage/tests/common"
cp -a "$ROOT/dkms.conf" "$ROOT/Makefile" "$ROOT/Kbuild" "$ROOT/kmod" "$stage/"
cp -a "$ROOT/tests/common/fault_cases.h" "$stage/tests/common/"

dkms add "$stage" "${trees[@]}" || die "dkms add"
if ! dkms build "$name/$version" -k "$krel" "${trees[@]}"; then
	tail -n 40 "$tmp/dkms/$name/$version/build/make.log" >&2 2>/dev/null || true
	die "dkms build for $krel"
fi
ko=$(find "$tmp/dkms/$name/$version/$krel" -name "$name.ko*" | head -n1)
[ -n "$ko" ] || die "dkms reports success but built no $name.ko for $krel"
log=$tmp/dkms/$name/$version/$krel/$(uname -m)/log/make.log
[ -s "$log" ] || die "no build log at $log: cannot check for warnings"
if grep -qi 'warning:' "$log"; then
	grep -i -B2 -A3 'warning:' "$log" >&2
	die "warnings building for $krel"
fi
# The shipped module has no test-only path (Kbuild: CONFIG_IOPF_TESTBED_BENCH)
case $ko in
*.xz) unpack=(xz -dc) ;;
*.zst) unpack=(zstd -dc) ;;
*.gz) unpack=(gzip -dc) ;;
*) unpack=(cat) ;;
esac
if "${unpack[@]}" "$ko" | grep -qa bench_ceiling; then
	die "$ko carries the benchmark's bench_ceiling: a test-only path in the shipped build"
fi
vermagic=$(modinfo -F vermagic "$ko")
[[ $vermagic == "$krel "* ]] || die "$ko has vermagic '$vermagic', not $krel"
modver=$(modinfo -F version "$ko")
[ "$modver" = "$version" ] || die "$ko has version '$modver', dkms.conf says $version"
dkms status "$name/$version" "${trees[@]}"
echo "dkms-test.sh: ok: $name $version built by dkms for $krel"
