#!/bin/sh
# Differential check (iopf.run=diff.sh): iopf_difftest generates a random op
# stream from a seed (devices, flag registrations and updates, raw records of
# every event ID, page responses right and wrong, deletions with pending
# requests, module reloads; and the two-stage access model: stage modes,
# maps, host reclaims, TTBs, DMA accesses walking both stages, the VMM's and
# the guest's fix-ups and the RETRYs that walk them again), predicts every op with the reference model and
# runs it against the module, comparing errnos, every notification and the
# counters. Two seeds: a fixed one (the same run every time) and one derived
# from the date (new ground every day, still printed and reproducible). Then
# teeth: with quirks=4 (the RFC's IPA shift) the check must find a mismatch,
# write a minimised reproducer, and `iopfctl script` must replay it as failing.
# Prints KTAP; the exit status is the verdict. Documentation/difftest.md.
#
# Kernel command line knobs (scripts/run-qemu.sh --append):
#   iopf.diff_ops=N    ops per seed (default 20000)
#   iopf.diff_seed=S   the fixed seed (default 1)
#   iopf.diff_seed2=S  the second seed (default: today's date, YYYYMMDD)
#   iopf.diff_teeth=0  no quirks=4 case (a skip that says why): for the debug
#                      cell, where its module reloads cost minutes; every
#                      Debian cell runs it
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

cmdline_arg() { sed -n "s/.*iopf\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
OPS=$(cmdline_arg diff_ops)
OPS=${OPS:-20000}
SEED1=$(cmdline_arg diff_seed)
SEED1=${SEED1:-1}
SEED2=$(cmdline_arg diff_seed2)
SEED2=${SEED2:-$(date +%Y%m%d)}
TEETH=$(cmdline_arg diff_teeth)
W=/tmp/diff
mkdir -p "$W"

# diff_run SEED: one differential run; its output (seed first) as diagnostics.
diff_run() {
	iopf_difftest --seed "$1" --ops "$OPS" --out "$W/repro-$1.txt" --min-seconds 60
	local rc=$?
	[ "$rc" -eq 0 ] || [ ! -f "$W/repro-$1.txt" ] || {
		echo "reproducer (replay: iopfctl script FILE --fresh):"
		cat "$W/repro-$1.txt"
	}
	return $rc
}

# teeth: the RFC's B3 (IPA shifted to a frame number) must be caught, reduced
# to a small reproducer, and replayed as failing by iopfctl script.
teeth() {
	local rc=0 r="$W/repro-teeth.txt"
	rm -f "$r"
	iopf_difftest --seed "$SEED1" --ops 3000 --reload-first --module-params quirks=4 \
		--out "$r" --min-seconds 60 >"$W/teeth.out" 2>&1 || rc=$?
	grep -E 'seed|MISMATCH|reproducer|ran ' "$W/teeth.out" | head -n 12
	if [ "$rc" -ne 1 ] || [ ! -s "$r" ]; then
		echo "quirks=4: expected a mismatch and a reproducer (exit $rc)"
		return 1
	fi
	echo "reproducer:"
	cat "$r"
	rc=0
	iopfctl script "$r" --fresh --module-params quirks=4 >"$W/script.out" 2>&1 || rc=$?
	cat "$W/script.out"
	[ "$rc" -eq 1 ] && grep -q MISMATCH "$W/script.out" || {
		echo "iopfctl script did not replay the mismatch (exit $rc)"
		return 1
	}
}

# Back to the module as built, fresh.
reload_clean() { unload_module && load_module; }

echo "# difftest: seeds $SEED1 (fixed) and $SEED2 (date), $OPS ops each"
ktap_begin 7
ktap_case load_module load_module
for s in "$SEED1" "$SEED2"; do
	if module_loaded; then
		ktap_case "difftest_seed_$s" diff_run "$s"
	else
		ktap_fail "difftest_seed_$s" "module not loaded"
	fi
done
if [ "${TEETH:-1}" = 0 ]; then
	ktap_skip teeth_quirk_b3 "iopf.diff_teeth=0 (the Debian cells run it)"
	ktap_case reload_clean reload_clean
elif module_loaded; then
	ktap_case teeth_quirk_b3 teeth
	ktap_case reload_clean reload_clean
else
	ktap_fail teeth_quirk_b3 "module not loaded"
	ktap_fail reload_clean "module not loaded"
fi
if module_loaded; then
	ktap_case unload_module unload_module
else
	ktap_skip unload_module "module not loaded"
fi
ktap_case dmesg_clean check_dmesg_clean
ktap_end
