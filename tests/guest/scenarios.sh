#!/bin/sh
# The declarative scenarios (iopf.run=scenarios.sh; issue 11): every
# tests/scenarios/*.yaml (in the image at /opt/iopf/scenarios) run by
# `iopfctl scenario run` against the module and a real iopfd it starts,
# one KTAP case each (scenario.<name>, its diagnostics naming every
# expectation not met), then proof that the runner has teeth: a scenario
# with one deliberately wrong count (scenarios/wrong/) must fail. Prints
# KTAP; the exit status is the verdict.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

SCEN=/opt/iopf/scenarios
W=/tmp/scenarios
mkdir -p "$W"

# run_scenario FILE: one KTAP case, named by the scenario as iopfctl printed it
run_scenario() {
	local f="$1" base out rc=0 name
	base=$(basename "$f" .yaml)
	out=$W/$base.ktap
	iopfctl scenario run "$f" --json "$W/$base.json" --workdir "$W/work" >"$out" 2>&1 || rc=$?
	name=$(sed -n 's/^\(not \)\{0,1\}ok 1 \(scenario\.[^ ]*\).*/\2/p' "$out")
	[ -n "$name" ] || name=scenario.$base
	grep -v -e '^KTAP version' -e '^1\.\.' -e '^ok ' -e '^not ok ' -e '^# Totals' "$out" |
		sed 's/^#* *//; s/^/# /'
	if [ $rc -eq 0 ] && grep -q "^ok 1 $name\$" "$out"; then
		_ktap_add pass
		ktap_result ok "$name"
	else
		_ktap_add fail
		ktap_result not_ok "$name" "exit $rc"
	fi
	# the summary for the host's log
	[ ! -s "$W/$base.json" ] || echo "# summary: $(cat "$W/$base.json")"
}

# The checker has teeth: one count changed must fail the run (exit 1, not
# ok, the expectation named), and nothing else may fail with it.
case_wrong_expectation_fails() {
	local rc=0 out=$W/wrong.ktap
	iopfctl scenario run "$SCEN/wrong/nested-both-wrong.yaml" --workdir "$W/work" >"$out" 2>&1 || rc=$?
	cat "$out"
	[ "$rc" -eq 1 ] || { echo "iopfctl exited $rc, not 1"; return 1; }
	grep -q '^not ok 1 scenario.nested-both-wrong$' "$out" || { echo "no 'not ok'"; return 1; }
	grep -q '^# expect.l2: expected 5, got 4$' "$out" || { echo "the wrong count is not named"; return 1; }
	# exactly one expectation failed: the run itself was sound
	[ "$(grep -c '^# expect\|^# steps\|^# run:' "$out")" -eq 1 ] || { echo "more than the one failure"; return 1; }
}

# Every file validates (scenario check), and a bad file is refused with its
# line and key.
case_check() {
	iopfctl scenario check "$SCEN"/*.yaml || return 1
	printf 'name: bad\ndevices:\n  - sid: 1\n    flags: [nested]\n' >"$W/bad.yaml"
	local rc=0
	iopfctl scenario check "$W/bad.yaml" 2>"$W/bad.err" || rc=$?
	cat "$W/bad.err"
	[ "$rc" -eq 1 ] && grep -q "bad.yaml:4: devices\[0\].flags: NESTED needs" "$W/bad.err"
}

# busybox sh: a glob that matches nothing stays itself
set -- "$SCEN"/*.yaml
[ -e "$1" ] || set --

# the library covers the RFC's cases: at least ten (Documentation/scenarios.md)
scenarios_present() { echo "$1 scenario files in $SCEN"; [ "$1" -ge 10 ]; }

ktap_begin $(($# + 5))
ktap_case load_module load_module
ktap_case scenarios_present scenarios_present $#
dmesg_mark
for f in "$@"; do
	run_scenario "$f"
done
ktap_case scenario_check case_check
ktap_case wrong_expectation_fails case_wrong_expectation_fails
ktap_case dmesg_clean check_dmesg_clean
ktap_end
