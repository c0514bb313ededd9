#!/usr/bin/env bash
# The guest suite under the debug kernel (KASAN, lockdep, atomic-sleep checks,
# kmemleak, KUnit): builds or reuses the kernel (the newest series built from
# source, scripts/kernels.sh env debug; --kernel picks another one built from
# the same fragment), builds the module against it (W=1, with its KUnit suites), makes an
# initramfs with the selftests and boots tests/guest/debug.sh. Prints KTAP
# (ending in "# Totals:"), exits non-zero on any failure: a failed test or
# KUnit case, a KASAN/lockdep/atomic-sleep/RCU report, a kmemleak suspect,
# lockdep switched off, a checker that is not live.
#
#   scripts/debug-run.sh [--kernel SERIES] [--timeout S] [--selftest PROG] [--log FILE] [--append ARGS]
#
#   --selftest  the kselftest binary (default: build/host's iopf_testbed_test,
#               built with CMake if missing); more programs: IOPF_DEBUG_BINS
#   --timeout   guest timeout in seconds (default 900)
#   --append    more kernel command line (e.g. iopf.quirks=0x1 for a teeth run)
#
# The first run builds the kernel (minutes); later runs reuse it. Progress
# and timings go to stderr, KTAP to stdout.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
die() { echo "debug-run.sh: $*" >&2; exit 2; }
note() { echo "debug-run.sh: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

series=debug timeout_s=900 selftest='' log='' append=''
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case $1 in
	--kernel) series=$2 ;;
	--timeout) timeout_s=$2 ;;
	--selftest) selftest=$2 ;;
	--log) log=$2 ;;
	--append) append=$2 ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done

t0=$(now)
env=$("$ROOT/scripts/kernels.sh" env "$series") || die "building the $series kernel failed"
eval "$env" # KREL VMLINUZ KDIR
note "kernel $KREL ($(since "$t0")s)"

t0=$(now)
module=$("$ROOT/scripts/build-module.sh" "$series") || die "building the module against $KREL failed"
grep -q kunit_test "$ROOT/build/kmod-$KREL/src/iopf_testbed.mod" 2>/dev/null ||
	die "the module for $KREL has no KUnit suites (is CONFIG_KUNIT set in $KDIR/.config?)"
note "module $module ($(since "$t0")s)"

if [ -z "$selftest" ]; then
	selftest=$(find build/host/tests/selftests -name iopf_testbed_test -type f -perm -u+x 2>/dev/null | head -n1)
	if [ -z "$selftest" ]; then
		note "no selftest binary: building it (cmake, build/host)"
		{ cmake -S . -B build/host && cmake --build build/host --target iopf_testbed_test -j"$(nproc)"; } >&2 ||
			die "cannot build iopf_testbed_test"
		selftest=$(find build/host/tests/selftests -name iopf_testbed_test -type f -perm -u+x | head -n1)
	fi
fi
[ -x "$selftest" ] || die "no selftest program at '$selftest'"
# shellcheck disable=SC2206 # a list of paths
bins=("$selftest" ${IOPF_DEBUG_BINS:-})

t0=$(now)
initramfs=$ROOT/build/initramfs-$KREL-debug.cpio.gz
"$ROOT/scripts/mkinitramfs.sh" -o "$initramfs" -m "$module" "${bins[@]}" >/dev/null ||
	die "making the initramfs failed"
note "initramfs $initramfs ($(since "$t0")s)"

# The kernel arguments this kernel needs (log_buf_len, kasan_multi_shot,
# clocksource=hpet) come from scripts/kernels.sh, through run-qemu.sh.
t0=$(now)
rc=0
"$ROOT/scripts/run-qemu.sh" "$series" "$initramfs" --run debug.sh --timeout "$timeout_s" \
	--log "${log:-$ROOT/build/logs/qemu-$KREL-debug.log}" ${append:+--append "$append"} || rc=$?
note "guest run: $(since "$t0")s, exit $rc"
exit $rc
