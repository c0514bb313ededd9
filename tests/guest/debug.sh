#!/bin/sh
# The guest suite under the debug kernel (iopf.run=debug.sh, booted by
# scripts/debug-run.sh): what suite.sh does, plus what only that kernel can
# check. Prints KTAP; the exit status is the verdict.
#
#   checkers_live     KASAN initialised, lockdep on, kmemleak and KUnit there;
#                     kmemleak's boot-time suspects are cleared (baseline)
#   load_module
#   kunit             the module's KUnit suites (kmod/kunit_test.c) ran at
#                     load: /sys/kernel/debug/kunit/iopf_*/results, nested;
#                     leaves: each parameter of a parameterised case, else
#                     the case
#   <selftests>       every /opt/iopf/bin/iopf_*_test, as in suite.sh
#   kmemleak_loaded   a scan with the module loaded: leaks of objects nothing
#                     points to any more, backtraces still symbolised
#   unload_module
#   kunit_every_load  the selftests reload the module: every KUnit run the
#                     kernel log shows passed
#   kmemleak          a scan after the unload: what the exit path left behind
#                     (module frames then show as bare addresses)
#   lockdep_live      lockdep is still on (its first splat switches it off)
#   dmesg_clean       no KASAN/lockdep/atomic-sleep/RCU/... report, no bad taint
. /opt/iopf/tests/lib.sh

KMEMLEAK=/sys/kernel/debug/kmemleak
KUNIT_DIR=/sys/kernel/debug/kunit

find_selftests

# --- the checkers ------------------------------------------------------------

lockdep_on() {
	grep -q 'debug_locks: *1$' /proc/lockdep_stats 2>/dev/null
}

# kmemleak only reports objects older than 5 s: wait that long, then scan
# twice (the second pass confirms what the first found, as the kernel's
# documentation advises). The scan itself takes seconds under TCG.
kmemleak_scan() {
	sleep 6
	echo scan >"$KMEMLEAK" || return 1
	sleep 1
	echo scan >"$KMEMLEAK"
}

checkers_live() {
	local ok=0 n
	if dmesg | grep -q 'KernelAddressSanitizer initialized'; then
		echo "KASAN: $(dmesg | sed -n 's/.*\(KernelAddressSanitizer initialized.*\)/\1/p' | head -n1)"
	else
		echo "KASAN: not initialised (no 'KernelAddressSanitizer initialized' in the log)"
		ok=1
	fi
	if lockdep_on; then
		echo "lockdep: on"
	else
		echo "lockdep: off or missing (/proc/lockdep_stats: $(grep debug_locks /proc/lockdep_stats 2>&1))"
		ok=1
	fi
	if [ -d "$KUNIT_DIR" ]; then
		echo "KUnit: $KUNIT_DIR present"
	else
		echo "KUnit: no $KUNIT_DIR (kernel without CONFIG_KUNIT_DEBUGFS?)"
		ok=1
	fi
	# The baseline: what boot left behind is not ours. Scan, count, clear.
	if kmemleak_scan; then
		n=$(grep -c '^unreferenced object' "$KMEMLEAK")
		echo "kmemleak: on, $n suspects from boot (cleared: the baseline)"
		[ "$n" -eq 0 ] || head -n 40 "$KMEMLEAK"
		echo clear >"$KMEMLEAK"
	else
		echo "kmemleak: cannot scan (disabled? missing $KMEMLEAK?)"
		dmesg | grep -i kmemleak | tail -n 5
		ok=1
	fi
	return $ok
}

# Suspects since the last clear, then clear: the next check reports only
# what happened after this one.
kmemleak_check() {
	local n
	kmemleak_scan || { echo "kmemleak: scan failed"; return 1; }
	n=$(grep -c '^unreferenced object' "$KMEMLEAK")
	echo "kmemleak: $n new suspects"
	[ "$n" -eq 0 ] || head -n 120 "$KMEMLEAK"
	echo clear >"$KMEMLEAK"
	[ "$n" -eq 0 ]
}

# --- KUnit ---------------------------------------------------------------------

# The results of every iopf_* suite, nested one level under "kunit".
kunit_results() {
	local d i=0 n=0 pass=0 fail=0 skip=0 counts
	for d in "$KUNIT_DIR"/iopf_*; do
		[ -f "$d/results" ] && n=$((n + 1))
	done
	echo "    KTAP version 1"
	echo "    # Subtest: kunit"
	echo "    1..$n"
	for d in "$KUNIT_DIR"/iopf_*; do
		[ -f "$d/results" ] || continue
		i=$((i + 1))
		# Drop the file's own "KTAP version 1" / "1..1" header, number the
		# suite in our plan, nest by four more spaces.
		sed -E '1,2d; s/^(not ok|ok) 1 /\1 '"$i"' /; s/^/    /' "$d/results"
		# Leaves: the parameters of a parameterised case (indented eight
		# spaces), else the case itself (four); a case failing beyond its
		# parameters counts once more.
		counts=$(awk '
			function classify(line) {
				if (toupper(line) ~ /# *SKIP/) return "s"
				return line ~ /^ *ok / ? "p" : "f"
			}
			/^        (not )?ok [0-9]+ / { c = classify($0); n[c]++; np++; if (c == "f") pf++; next }
			/^    (not )?ok [0-9]+ / {
				c = classify($0)
				if (np == 0 || (c == "f" && pf == 0)) n[c]++
				np = 0; pf = 0
			}
			END { print n["p"] + 0, n["f"] + 0, n["s"] + 0 }' "$d/results")
		# shellcheck disable=SC2086 # three numbers
		set -- $counts
		pass=$((pass + $1)) fail=$((fail + $2)) skip=$((skip + $3))
		# A suite marked failed without a failed case (e.g. its init) counts once.
		if [ "$2" -eq 0 ] && grep -q '^not ok' "$d/results"; then
			fail=$((fail + 1))
		fi
	done
	_ktap_add_counts "$pass" "$fail" "$skip"
	if [ "$n" -eq 0 ]; then
		echo "# no $KUNIT_DIR/iopf_*/results: module built without CONFIG_KUNIT, or KUnit did not run"
		ktap_fail kunit "no KUnit results"
		return 1
	elif [ "$fail" -gt 0 ]; then
		ktap_result not_ok kunit "$fail failed"
		return 1
	fi
	ktap_result ok kunit
}

# Each load runs the suites again; the kernel log has one summary line per
# suite and per parameterised case: "# <name>: pass:P fail:F skip:S total:T".
kunit_every_load() {
	local runs bad
	runs=$(dmesg_since_mark | grep -c '# iopf_fault_core: pass:')
	bad=$(dmesg_since_mark | grep -E '# iopf_[a-z0-9_]*: pass:[0-9]+ fail:[1-9]')
	echo "KUnit ran $runs times during the run"
	if [ -n "$bad" ]; then
		echo "$bad"
		return 1
	fi
	[ "$runs" -gt 0 ] || { echo "no KUnit summary in the kernel log"; return 1; }
}

# --- the run -------------------------------------------------------------------

# checkers, load, kunit, each program (or one failure), kmemleak_loaded,
# unload, kunit_every_load, kmemleak, lockdep_live, dmesg_clean
ktap_begin $((3 + (ntests > 0 ? ntests : 1) + 6))

ktap_case checkers_live checkers_live
ktap_case load_module load_module

if module_loaded; then
	kunit_results
else
	ktap_fail kunit "module not loaded"
fi

run_selftests

if module_loaded; then
	ktap_case kmemleak_loaded kmemleak_check
	ktap_case unload_module unload_module
else
	ktap_skip kmemleak_loaded "module not loaded"
	ktap_skip unload_module "module not loaded"
fi
ktap_case kunit_every_load kunit_every_load
ktap_case kmemleak kmemleak_check
ktap_case lockdep_live lockdep_on
ktap_case dmesg_clean check_dmesg_clean
ktap_end
