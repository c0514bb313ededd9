#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the libFuzzer harnesses with clang in build/fuzz (the main build
# stays gcc) and run each for N seconds. Prints KTAP, one line per harness:
#
#   ok 1 fuzz_decode # execs=2731745 crashes=0 corpus=18 seconds=20
#
# and exits non-zero when any harness crashes, leaks, times out or fails an
# invariant (its reproducer is kept in build/fuzz/artifacts/<harness>/).
#
#   tests/fuzz/run.sh [--seconds N] [--runs N] [--only NAME] [--build-dir D]
#
# --seconds N   per harness (default 20), libFuzzer's -max_total_time
# --runs N      also stop a harness after N executions (default: no limit)
# --only NAME   run one harness (fuzz_decode, fuzz_record_text, fuzz_netlink,
#               fuzz_replay); may repeat
#
# The corpus each run grows is kept in build/fuzz/corpus/<harness>/ (seeded
# from tests/fuzz/corpus/<harness>/, which the run never writes), so longer
# runs resume where the last one stopped.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/tests/fuzz
seconds=20
runs=-1
build=$root/build/fuzz
only=()
all=(fuzz_decode fuzz_record_text fuzz_netlink fuzz_replay)

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=${2:?}; shift 2 ;;
	--runs) runs=${2:?}; shift 2 ;;
	--only) only+=("${2:?}"); shift 2 ;;
	--build-dir) build=${2:?}; shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --seconds takes a positive integer" >&2; exit 2; }
[[ $runs =~ ^(-1|[1-9][0-9]*)$ ]] || { echo "run.sh: --runs takes a positive integer" >&2; exit 2; }
harnesses=("${only[@]:-${all[@]}}")
for h in "${harnesses[@]}"; do
	[[ " ${all[*]} " == *" $h "* ]] || { echo "run.sh: no harness '$h'" >&2; exit 2; }
done

CC=${FUZZ_CC:-clang}
CXX=${FUZZ_CXX:-clang++}
command -v "$CC" >/dev/null && command -v "$CXX" >/dev/null || {
	echo "run.sh: $CC/$CXX not found: apt-get install clang libclang-rt-14-dev" >&2
	exit 2
}

t0=$(date +%s)
log=$build/logs
mkdir -p "$log"
# Build output goes to a log: stdout stays KTAP
if ! { CC=$CC CXX=$CXX cmake -S "$root" -B "$build" -DIOPF_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$build" --target "${harnesses[@]}" -j"$(nproc)"; } >"$log/build.log" 2>&1; then
	tail -n 30 "$log/build.log" >&2
	echo "run.sh: building the harnesses failed (full log: $log/build.log)" >&2
	exit 2
fi

# Per-harness options: short inputs for the 48-byte decoder
opts_for() {
	case $1 in
	fuzz_decode) echo "-max_len=64" ;;
	fuzz_record_text) echo "-max_len=4096 -dict=$here/fuzz_record_text.dict" ;;
	fuzz_netlink) echo "-max_len=4096" ;;
	fuzz_replay) echo "-max_len=8192 -dict=$here/fuzz_replay.dict" ;;
	esac
}

echo "KTAP version 1"
echo "1..${#harnesses[@]}"
failed=0
n=0
for h in "${harnesses[@]}"; do
	n=$((n + 1))
	corpus=$build/corpus/$h
	artifacts=$build/artifacts/$h
	mkdir -p "$corpus" "$artifacts"
	hlog=$log/$h.log
	stamp=$log/$h.start
	touch "$stamp"
	start=$(date +%s)
	rc=0
	seeds=("$here/corpus/$h")
	# the replay corpus's logs: every format and interleaving it must read
	[ "$h" = fuzz_replay ] && seeds+=("$here/../replay-corpus")
	# -timeout: an input taking over 10 s is a hang; -rss_limit_mb: an OOM is a finding
	# shellcheck disable=SC2046
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$build/tests/fuzz/$h" -max_total_time="$seconds" -runs="$runs" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" $(opts_for "$h") \
		"$corpus" "${seeds[@]}" >"$hlog" 2>&1 || rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$hlog" | tail -n 1)
	execs=${execs:-0}
	units=$(find "$corpus" -type f | wc -l)
	# One reproducer per finding (crash-*, leak-*, timeout-*, oom-*)
	crashes=$(find "$artifacts" -type f -newer "$stamp" | wc -l)
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1
	fi
	summary="execs=$execs crashes=$crashes corpus=$units seconds=$took"
	if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
		echo "ok $n $h # $summary"
	else
		failed=$((failed + 1))
		# The finding, as KTAP diagnostics
		grep -E 'ERROR|SUMMARY|invariant|disagreement|Test unit written|^ +#[0-9]+ ' "$hlog" |
			grep -vE 'fuzzer::|__sanitizer|libc\.so|libc_start|_start |raise\.c|pthread_kill|abort\.c' |
			head -n 25 | sed 's/^/# /'
		echo "# reproduce: $build/tests/fuzz/$h <artifact above>"
		echo "not ok $n $h # $summary rc=$rc log=$hlog"
	fi
done
echo "# fuzz: $((${#harnesses[@]} - failed)) passed, $failed failed in $(($(date +%s) - t0)) s"
[ "$failed" -eq 0 ]
