#!/usr/bin/env bash
# Proves the suite has teeth: one fresh guest per quirk (the module loaded
# with quirks=, reproducing one bug of the RFC as posted), the whole suite
# run, and the tests that failed named. A quirk no test catches fails this.
#
#   scripts/teeth.sh [--baseline KTAP] [--run SCRIPT] SERIES INITRAMFS [QUIRK...]
#
# QUIRK: B1 B2 B3 (default all), the RFC's bugs; U1 .. U5, bugs planted in
# the upstream bridge (kmod/iommu.c; only cells whose kernel has iommufd catch
# them, with --run upstream.sh: that suite alone). --baseline names the KTAP
# of a run without quirks (scripts/test-all.sh passes its own): tests failing
# there too do not count as catching anything.
#
# A quirk that hangs the device (B1) or oopses (B2) must not hang CI: the
# guest panics on an oops or a task blocked for over 10 s, and the test that
# was running is named as the catcher. IOPF_TEETH_TIMEOUT: seconds per guest
# (default 240).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

baseline=/dev/null run=suite.sh
while [ $# -gt 0 ]; do
	case $1 in
	--baseline) baseline=$2 ;;
	--run) run=$2 ;;
	*) break ;;
	esac
	shift 2
done
[ $# -ge 2 ] || { echo "usage: $0 [--baseline KTAP] [--run SCRIPT] SERIES INITRAMFS [B1|B2|B3|U1..U5...]" >&2; exit 2; }
series=$1 initramfs=$2
shift 2
[ $# -gt 0 ] || set -- B1 B2 B3

declare -A bit=([B1]=0x1 [B2]=0x2 [B3]=0x4 [U1]=0x8 [U2]=0x10 [U3]=0x20 [U4]=0x40 [U5]=0x80)
logs=build/logs
mkdir -p "$logs"
uncaught=0

# Names of the leaf cases a KTAP file reports as failed
failed_cases() {
	sed -n 's/^ *not ok [0-9]* \([^ #]*\).*/\1/p' "$1" |
		grep -v -x -e 'iopf_[a-z_]*_test' -e dmesg_clean | sort -u || true
}
known_bad=$(failed_cases "$baseline")

for q in "$@"; do
	[ -n "${bit[$q]:-}" ] || { echo "teeth: unknown quirk $q" >&2; exit 2; }
	log=$logs/teeth-$series-$q.log
	out=$logs/teeth-$series-$q.txt
	rc=0
	scripts/run-qemu.sh "$series" "$initramfs" --run "$run" --timeout "${IOPF_TEETH_TIMEOUT:-240}" --log "$log" \
		--append "iopf.quirks=${bit[$q]} oops=panic hung_task_panic=1 sysctl.kernel.hung_task_timeout_secs=10" \
		>"$out" 2>&1 || rc=$?
	# Leaf cases that failed, by name ("not ok N name"), at any depth.
	caught=$(comm -23 <(failed_cases "$out") <(echo "$known_bad") | paste -sd, -)
	if ! grep -q '^# Totals:' "$out"; then
		# The guest died or hung: the test that was running caught it.
		last=$(sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$log" | sed -n 's/.*#  RUN  *\([^ ]*\) \.\.\..*/\1/p' | tail -n1)
		why=$(sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$log" | grep -o -m1 -E 'BUG: [^]]*|blocked for more than [0-9]+ seconds|Kernel panic[^]]*' || echo "no verdict")
		caught="${caught:+$caught,}${last:-?} (guest died: $why)"
	fi
	if [ $rc -ne 0 ] && [ -n "$caught" ]; then
		n=$(tr ',' '\n' <<<"$caught" | wc -l)
		[ "$n" -le 6 ] || caught="$(cut -d, -f1-6 <<<"$caught") (+$((n - 6)) more)"
		echo "quirk $q: caught by $caught"
	else
		echo "quirk $q: NOT CAUGHT (suite exit $rc), log: $log"
		uncaught=$((uncaught + 1))
	fi
done
[ "$uncaught" -eq 0 ]
