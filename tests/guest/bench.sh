#!/bin/sh
# Benchmarks (iopf.run=bench.sh, from scripts/bench.sh): figures, not a test.
# One boot measures, with fault_batch at its default (16):
#   - the ceiling: debugfs bench_ceiling multicasts pre-built notifications
#     to a listener that only counts them (recvmmsg, the same receive
#     buffer as iopfd: BUF below);
#   - end to end into iopfd's store (iopf_bench e2e starts iopfd, injects,
#     tails the store): text and binary batches at full rate, and its ratio
#     to the ceiling; the same injection into the ceiling's counting
#     listener (iopf_bench bare), and iopfd's ratio to that;
#   - 1,000,000 faults at full rate: injected, stored, lost, iopfd's RSS;
#   - latency injection -> store, paced at 20k faults/s and at full rate,
#     and injection -> a listener that only counts, paced (the floor);
#   - injection alone: one record per write vs 1024, text vs binary;
#   - memory: module slab per device and per pending page request.
# Each rate is the median of BENCH_REPS runs (iopf.bench_reps=N on the kernel
# command line, default 3). It prints the raw runs, a table, a JSON summary,
# and last the line "bench: iopfd/ceiling R, lost L of N, p99 P ms". It
# fails only when a measurement could not be taken, or when faults were lost
# in the 1M run (which the last line shows too).
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

W=/tmp/bench
mkdir -p "$W"
REPS=$(sed -n 's/.*iopf\.bench_reps=\([0-9]*\).*/\1/p' /proc/cmdline)
REPS=${REPS:-3}
FAULTS=$(sed -n 's/.*iopf\.bench_faults=\([0-9]*\).*/\1/p' /proc/cmdline)
FAULTS=${FAULTS:-262144}
BIG=1000000
# One receive buffer for every listener (the ceiling's and iopfd's): iopfd
# drains slower than the module injects, so a burst waits in the socket;
# 256 MiB (SO_RCVBUFFORCE, kernel memory given back as it is drained) holds
# a million.
BUF=256M
BATCH=/sys/module/iopf_testbed/parameters/fault_batch

# val KEY LINE: the value of key=value in a line
val() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# median FILE KEY: the line whose KEY is the median (numeric) of FILE's lines
median() {
	local n
	n=$(wc -l <"$1")
	awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2), $0 }' "$1" |
		sort -n | sed -n "$(((n + 1) / 2))p" | cut -d' ' -f2-
}

# spread FILE KEY: "median (min-max)" of KEY over FILE's lines
spread() {
	awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$1" |
		sort -n | awk '{ v[NR] = $1 } END {
			m = v[int((NR + 1) / 2)]
			if (NR == 1 || v[1] == v[NR]) print m
			else printf "%s (%s-%s)\n", m, v[1], v[NR] }'
}

run() { # REPS OUTFILE ARGS...: REPS runs of iopf_bench, their lines in OUTFILE
	local reps="$1" out="$2" i=0
	shift 2
	: >"$out"
	while [ $i -lt "$reps" ]; do
		iopf_bench "$@" >>"$out" || { echo "bench: iopf_bench $* failed"; return 1; }
		i=$((i + 1))
	done
	sed 's/^/  /' "$out"
}

# 10000 requests pending on one device: over the default pending_limit
load_module pending_limit=65536 || exit 1
command -v iopfd >/dev/null || { echo "bench: iopfd is not in the image"; exit 1; }
echo "# $(uname -r), $(nproc) vCPUs, fault_batch $(cat $BATCH), $REPS runs per rate, $FAULTS faults per rate run, receive buffers $BUF"
echo "# raw runs:"
if grep -q 'iopf\.bench_quick=1' /proc/cmdline; then
	# scripts/bench.sh --quick: one ceiling and one end-to-end run, no table
	iopf_bench ceiling --faults $BIG --rcvbuf $BUF || exit 1
	iopf_bench e2e --faults "$FAULTS" --format raw --rcvbuf $BUF || exit 1
	iopf_bench e2e --faults 20000 --format raw --per-write 20 --pace 20000 --rcvbuf $BUF || exit 1
	exit 0
fi
run "$REPS" $W/ceiling ceiling --faults $BIG --rcvbuf $BUF || exit 1
run "$REPS" $W/e2e.text e2e --faults "$FAULTS" --format text --rcvbuf $BUF || exit 1
run "$REPS" $W/e2e.raw e2e --faults "$FAULTS" --format raw --rcvbuf $BUF || exit 1
run "$REPS" $W/bare bare --faults "$FAULTS" --format raw --rcvbuf $BUF || exit 1
run 1 $W/big e2e --faults $BIG --format raw --rcvbuf $BUF || exit 1
run 1 $W/paced e2e --faults 100000 --format raw --per-write 20 --pace 20000 --rcvbuf $BUF || exit 1
run 1 $W/paced.bare bare --faults 100000 --format raw --per-write 20 --pace 20000 --rcvbuf $BUF || exit 1
run "$REPS" $W/inj.text.1 inject --faults 20000 --per-write 1 --format text || exit 1
run "$REPS" $W/inj.raw.1 inject --faults 20000 --per-write 1 --format raw || exit 1
run "$REPS" $W/inj.text.1024 inject --faults "$FAULTS" --per-write 1024 --format text || exit 1
run "$REPS" $W/inj.raw.1024 inject --faults "$FAULTS" --per-write 1024 --format raw || exit 1
run 1 $W/pending pending --count 10000 || exit 1
run 1 $W/devices devices --count 1000 || exit 1

ceil=$(val ceiling_rate "$(median $W/ceiling ceiling_rate)")
e2e_text=$(median $W/e2e.text e2e_rate)
e2e_raw=$(median $W/e2e.raw e2e_rate)
big=$(cat $W/big)
paced=$(cat $W/paced)
pbare=$(cat $W/paced.bare)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
r_text=$(ratio "$(val e2e_rate "$e2e_text")" "$ceil")
r_raw=$(ratio "$(val e2e_rate "$e2e_raw")" "$ceil")
inj() { val inject_rate "$(median "$W/inj.$1" inject_rate)"; }
bare=$(val bare_rate "$(median $W/bare bare_rate)")
r_bare=$(ratio "$(val e2e_rate "$e2e_raw")" "$bare")
# No consumer can score more than the injection alone reaches: the bound on R.
bound=$(ratio "$(inj raw.1024)" "$ceil")
speedup_text=$(ratio "$(inj text.1024)" "$(inj text.1)")
speedup_raw=$(ratio "$(inj raw.1024)" "$(inj raw.1)")

echo
echo "Medians, (min-max) over the runs; rates in faults/s."
echo
echo "| figure | value |"
echo "|---|---|"
echo "| ceiling: bench_ceiling -> counting recvmmsg listener | $(spread $W/ceiling ceiling_rate) (lost $(spread $W/ceiling lost)) |"
echo "| end to end into iopfd's store, text, 1024 per write | $(spread $W/e2e.text e2e_rate) (lost $(spread $W/e2e.text lost)) |"
echo "| end to end into iopfd's store, binary, 1024 per write | $(spread $W/e2e.raw e2e_rate) (lost $(spread $W/e2e.raw lost)) |"
echo "| iopfd / ceiling | text $r_text, binary $r_raw |"
echo "| injection alone (binary, 1024 per write, nobody listening) / ceiling: the most any consumer can score | $bound |"
echo "| same injection into a listener that only counts (binary, 1024 per write) | $(spread $W/bare bare_rate) (lost $(spread $W/bare lost)) |"
echo "| iopfd / that listener | binary $r_bare |"
echo "| 1M faults, binary, full rate: injected / stored / lost | $(val injected "$big") / $(val stored "$big") / $(val lost "$big") (iopfd's books: lost $(val books_lost "$big"), balanced $(val balanced "$big")) |"
echo "| 1M faults: end to end | $(val e2e_rate "$big") |"
echo "| latency injection -> store, paced 20k/s: p50 / p99 / max ms | $(val p50_ms "$paced") / $(val p99_ms "$paced") / $(val max_ms "$paced") (lost $(val lost "$paced")) |"
echo "| latency injection -> a listener that only counts, paced 20k/s (the guest's floor): p50 / p99 / max ms | $(val p50_ms "$pbare") / $(val p99_ms "$pbare") / $(val max_ms "$pbare") (lost $(val lost "$pbare")) |"
echo "| latency injection -> store, full rate (binary, median run): p50 / p99 / max ms | $(val p50_ms "$e2e_raw") / $(val p99_ms "$e2e_raw") / $(val max_ms "$e2e_raw") |"
echo "| latency, 1M at full rate: p50 / p99 / max ms | $(val p50_ms "$big") / $(val p99_ms "$big") / $(val max_ms "$big") |"
echo "| injection alone, text: 1 per write / 1024 per write | $(spread $W/inj.text.1 inject_rate) / $(spread $W/inj.text.1024 inject_rate) (x$speedup_text) |"
echo "| injection alone, binary: 1 per write / 1024 per write | $(spread $W/inj.raw.1 inject_rate) / $(spread $W/inj.raw.1024 inject_rate) (x$speedup_raw) |"
echo "| kernel ns per fault, nobody listening (1024 per write): text / binary | $(spread $W/inj.text.1024 ns_per_fault) / $(spread $W/inj.raw.1024 ns_per_fault) |"
echo "| module slab per device (with handler) / per pending page request, bytes | $(val slab_per_device "$(cat $W/devices)") / $(val slab_per_request "$(cat $W/pending)") |"
echo "| iopfd RSS after 1M faults (peak) | $(val rss_kb "$big") kB ($(val hwm_kb "$big") kB); after $FAULTS: $(val rss_kb "$e2e_raw") kB |"

lost=$(val lost "$big")
p99=$(val p99_ms "$paced")
echo
printf '{"kernel":"%s","fault_batch":%s,"reps":%s,' "$(uname -r)" "$(cat $BATCH)" "$REPS"
printf '"ceiling_rate":%s,"e2e_text_rate":%s,"e2e_raw_rate":%s,"ratio_text":%s,"ratio_raw":%s,' \
	"$ceil" "$(val e2e_rate "$e2e_text")" "$(val e2e_rate "$e2e_raw")" "$r_text" "$r_raw"
printf '"ratio_bound":%s,"bare_rate":%s,"ratio_bare":%s,' "$bound" "$bare" "$r_bare"
printf '"big":{"faults":%s,"injected":%s,"stored":%s,"lost":%s,"books_lost":%s,"rate":%s,"rss_kb":%s,"hwm_kb":%s},' \
	$BIG "$(val injected "$big")" "$(val stored "$big")" "$lost" "$(val books_lost "$big")" \
	"$(val e2e_rate "$big")" "$(val rss_kb "$big")" "$(val hwm_kb "$big")"
printf '"paced_20k":{"p50_ms":%s,"p99_ms":%s,"max_ms":%s},' "$(val p50_ms "$paced")" "$p99" "$(val max_ms "$paced")"
printf '"paced_20k_bare":{"p50_ms":%s,"p99_ms":%s,"max_ms":%s},' "$(val p50_ms "$pbare")" "$(val p99_ms "$pbare")" "$(val max_ms "$pbare")"
printf '"full_rate":{"p50_ms":%s,"p99_ms":%s,"max_ms":%s},' "$(val p50_ms "$e2e_raw")" "$(val p99_ms "$e2e_raw")" "$(val max_ms "$e2e_raw")"
printf '"inject":{"text_1":%s,"text_1024":%s,"raw_1":%s,"raw_1024":%s},' \
	"$(inj text.1)" "$(inj text.1024)" "$(inj raw.1)" "$(inj raw.1024)"
printf '"slab_per_device":%s,"slab_per_pending":%s}\n' \
	"$(val slab_per_device "$(cat $W/devices)")" "$(val slab_per_request "$(cat $W/pending)")"
echo "bench: iopfd/bare-listener $r_bare (the same injection into a listener that only counts)"
echo "bench: iopfd/ceiling $r_raw, lost $lost of $BIG, p99 $p99 ms"
[ "$lost" = 0 ] || exit 1
