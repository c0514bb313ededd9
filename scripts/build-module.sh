#!/usr/bin/env bash
# Build iopf_testbed.ko for one kernel series: build/kmod-<release>/iopf_testbed.ko
#
#   scripts/build-module.sh 6.12
#   scripts/build-module.sh 7.2      (built from source, scripts/source-kernel.sh; `debug` too)
#
# Kbuild writes its objects next to the sources, so Kbuild and kmod/ are copied
# into build/kmod-<release>/src and built there: the source tree stays clean and
# the two kernels never share objects. W=1, and any warning fails the build.
# IOPF_MODULE_SRC=<dir with Kbuild and kmod/> builds another tree (tests of this script).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 SERIES" >&2; exit 2; }
src=${IOPF_MODULE_SRC:-$ROOT}

eval "$("$ROOT/scripts/kernels.sh" env "$1")"
out=$ROOT/build/kmod-$KREL
[ -f "$src/Kbuild" ] && [ -d "$src/kmod" ] || { echo "build-module.sh: no Kbuild or kmod/ in $src" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/src"
cp -a "$src/Kbuild" "$src/kmod" "$out/src/"
# The version, for MODULE_VERSION (Kbuild reads it)
[ ! -f "$src/dkms.conf" ] || cp -a "$src/dkms.conf" "$out/src/"
# The case table kmod/kunit_test.c shares with the host and guest tests
# (compiled in only on kernels with CONFIG_KUNIT).
if [ -f "$src/tests/common/fault_cases.h" ]; then
	mkdir -p "$out/src/tests/common"
	cp -a "$src/tests/common/fault_cases.h" "$out/src/tests/common/"
fi

log=$out/build.log
# Cross builds (arm64 series): kernels.sh names ARCH and CROSS_COMPILE.
cross=()
[ "${ARCH:-x86_64}" = x86_64 ] || cross=(ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE")
# A test build: with the benchmark's ceiling (Kbuild), which `make` and DKMS
# leave out of the module users load.
if ! make -C "$KDIR" M="$out/src" W=1 "${cross[@]}" CONFIG_IOPF_TESTBED_BENCH=y modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module.sh: FAIL: module build for $KREL failed (log: $log)" >&2
	exit 1
fi
# Catches compiler warnings and modpost's "WARNING:" lines alike.
if grep -qi 'warning:' "$log"; then
	grep -i -B2 -A3 'warning:' "$log" >&2
	echo "build-module.sh: FAIL: warnings building for $KREL (log: $log)" >&2
	exit 1
fi
cp "$out/src/iopf_testbed.ko" "$out/iopf_testbed.ko"
echo "$out/iopf_testbed.ko"
