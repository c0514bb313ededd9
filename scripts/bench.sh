#!/usr/bin/env bash
# Benchmarks in a QEMU guest: builds the module and a Release iopf_bench and
# iopfd, boots the kernel and runs tests/guest/bench.sh, which prints the
# table and JSON summary of Documentation/performance.md (figures, not a
# timed test), ending with "bench: iopfd/ceiling R, lost L of N, p99 P ms".
#
#   scripts/bench.sh [--kernel 6.1|6.12] [--reps N] [--faults N] [--quick] [--idle-poll]
#
# --quick: only a ceiling and two end-to-end runs (raw lines, no table).
# --reps: runs per rate figure (median; default 3); --faults: faults per
# end-to-end rate run (default 262144); the big run is always 1,000,000.
# --idle-poll: the guest's idle vCPUs poll instead of halting (idle=poll):
# a halted vCPU's wake-up leaves the latency figures (the counting
# listener's paced p99: ~3 ms -> ~0.4 ms), but polling vCPUs contend with
# QEMU's own threads on the host and the ceiling drops by a third.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "bench.sh: $*" >&2; exit 2; }

series=6.12 reps=3 faults=262144 quick= idle=
while [ $# -gt 0 ]; do
	if [ "$1" = --quick ]; then
		quick=" iopf.bench_quick=1"
		shift
		continue
	fi
	if [ "$1" = --idle-poll ]; then
		idle="idle=poll "
		shift
		continue
	fi
	[ $# -ge 2 ] || die "$1 needs a value"
	case $1 in
	--kernel) series=$2 ;;
	--reps) reps=$2 ;;
	--faults) faults=$2 ;;
	*) die "unknown option $1 (usage: $0 [--kernel 6.1|6.12] [--reps N] [--faults N] [--quick] [--idle-poll])" ;;
	esac
	shift 2
done

eval "$("$ROOT/scripts/kernels.sh" env "$series")"
out=$ROOT/build/bench
mkdir -p "$out"

ko=$("$ROOT/scripts/build-module.sh" "$series" | tail -n 1)
# Our own copy: another build of the same kernel may replace build/kmod-*.
cp "$ko" "$out/iopf_testbed-$KREL.ko"

# Release, as users build it (the normal build, warnings as errors, nothing
# downgraded): the daemon's and the listener's cost are what is measured.
if [ ! -f "$out/CMakeCache.txt" ] || grep -q 'Wno-error' "$out/CMakeCache.txt"; then
	cmake -S "$ROOT" -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS= -DIOPF_WERROR=ON \
		>"$out/cmake.log" 2>&1 || { cat "$out/cmake.log" >&2; die "cmake failed"; }
fi
nice -n 10 cmake --build "$out" -j2 --target iopf_bench iopfd >"$out/build.log" 2>&1 ||
	{ grep -A5 'error' "$out/build.log" >&2; die "building iopf_bench/iopfd failed (log: $out/build.log)"; }

img=$out/bench-$KREL.cpio.gz
"$ROOT/scripts/mkinitramfs.sh" -o "$img" -m "$out/iopf_testbed-$KREL.ko" \
	"$out/userspace/bench/iopf_bench" "$out/userspace/iopfd/iopfd" >/dev/null
echo "bench.sh: $KREL, 2 vCPUs (TCG), $reps runs per figure; host load average: $(cut -d" " -f1-3 /proc/loadavg) (other work on the host slows TCG)" >&2
# Guest RAM backed up front (-mem-prealloc): otherwise every first touch of
# 2 MiB of guest memory is a host huge-page fault, a ~4 ms stall every 2 MiB
# of store in the paced run, which measures the host, not the test bed.
exec "$ROOT/scripts/run-qemu.sh" "$series" "$img" --run bench.sh --timeout 900 \
	--log "$out/qemu-$KREL-bench.log" --qemu -mem-prealloc \
	--append "${idle}iopf.bench_reps=$reps iopf.bench_faults=$faults$quick"
