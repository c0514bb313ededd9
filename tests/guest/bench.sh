#!/bin/sh
# Benchmarks (iopf.run=bench.sh, from scripts/bench.sh): figures, not a test.
# For fault_batch 1, 16 and 64: faults/s from debugfs injection (text, 1024
# records per write) to a libnl listener (the library's EventSocket, 16 MiB
# buffer via SO_RCVBUFFORCE, on the other vCPU) with its loss, and the
# kernel's cost per fault with nobody listening; then the memory a pending
# page request holds and the in-kernel text parse per record. Each figure is
# the median of BENCH_REPS runs (iopf.bench_reps=N on the kernel command
# line, default 3). Fails only when a measurement could not be taken.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

W=/tmp/bench
mkdir -p "$W"
REPS=$(sed -n 's/.*iopf\.bench_reps=\([0-9]*\).*/\1/p' /proc/cmdline)
REPS=${REPS:-3}
FAULTS=$(sed -n 's/.*iopf\.bench_faults=\([0-9]*\).*/\1/p' /proc/cmdline)
FAULTS=${FAULTS:-131072}
BATCH=/sys/module/iopf_testbed/parameters/fault_batch

# val KEY LINE: the value of key=value in a line
val() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

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

run() { # OUTFILE ARGS...: REPS runs of iopf_bench, their lines in OUTFILE
	local out="$1" i=0
	shift
	: >"$out"
	while [ $i -lt "$REPS" ]; do
		iopf_bench "$@" >>"$out" || return 1
		i=$((i + 1))
	done
	sed 's/^/  /' "$out"
}

# 10000 requests pending on one device: over the default pending_limit
load_module pending_limit=65536 || exit 1
echo "# $(uname -r), $(nproc) vCPUs, $REPS runs per figure, $FAULTS faults per stream run"
echo "# raw runs:"
for b in 1 16 64; do
	echo "$b" >$BATCH || exit 1
	echo "  fault_batch=$b"
	run $W/listen.$b stream --faults "$FAULTS" --listen --rcvbuf 16M || exit 1
	run $W/nolisten.$b stream --faults "$FAULTS" || exit 1
done
echo 16 >$BATCH
run $W/parse parse --reps 200 || exit 1
run $W/pending pending --count 10000 || exit 1

echo
echo "Medians, (min-max) over the runs."
echo
echo "| fault_batch | listener: faults/s received | listener: loss % | end to end: faults/s injected and accounted | no listener: kernel ns/fault | no listener: faults/s |"
echo "|---|---|---|---|---|---|"
for b in 1 16 64; do
	printf '| %s | %s | %s | %s | %s | %s |\n' "$b" \
		"$(spread $W/listen.$b delivered_rate)" "$(spread $W/listen.$b loss_pct)" \
		"$(spread $W/listen.$b end_to_end_rate)" \
		"$(spread $W/nolisten.$b ns_per_fault)" "$(spread $W/nolisten.$b inject_rate)"
done
m=$(median $W/pending slab_per_request)
echo
echo "debugfs text parse: $(spread $W/parse parse_ns_per_record) ns per record" \
	"(a 1024-record write: $(spread $W/parse write_bad_last_us) us parsed whole," \
	"$(spread $W/parse write_bad_first_us) us refused at line 1)"
echo "pending page request: $(spread $W/pending slab_per_request) bytes of slab each" \
	"(caches that grew, bytes per request: $(val caches_per_request "$m"))"
