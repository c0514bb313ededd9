#!/bin/sh
# The demo (iopf.run=demo.sh, started by scripts/demo.sh): iopfd plays a
# nested-translation VMM, iopfctl sets flags and injects faults on both
# stages, and the faults the daemon collected are shown as a table with a
# summary. Exits non-zero if the daemon did not collect what was injected.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

W=/tmp/demo
STORE=$W/faults.jsonl
mkdir -p "$W"

say() { printf '\n=== %s\n' "$*"; }
run() { echo "\$ $*"; "$@"; }
wait_ready() {
	i=0
	while [ ! -f "$W/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -f "$W/ready" ]
}
wait_faults() {
	i=0
	while [ "$(iopfctl faults --store "$STORE" --json | wc -l)" -lt "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

say "Loading iopf_testbed"
load_module || exit 1
echo "module loaded; debugfs at /sys/kernel/debug/iopf_testbed"

say "iopfd: the VMM's fault handling policy"
cat >"$W/iopfd.conf" <<'CONF'
# guest VM 1, nested: stage-2 faults fixed up by the host (SUCCESS),
# stage-1 faults forwarded to the guest, which answers INVALID after 5 ms
device 0x10 flags=nested,l1,l2 l1=invalid,delay_ms=5 l2=success
# guest VM 2: the host only takes stage-2 faults (stage 1 is filtered)
device 0x11 flags=nested,l2 l2=success
# a device without nesting that also wants unrecoverable faults
device 0x20 flags=flat,unrecov l1=success l2=success
CONF
cat "$W/iopfd.conf"
iopfd --config "$W/iopfd.conf" --store "$STORE" --ready-file "$W/ready" 2>"$W/iopfd.log" &
DPID=$!
wait_ready || { echo "iopfd did not start:"; cat "$W/iopfd.log"; exit 1; }
run iopfctl dev list

say "Changing flags at run time (HANDLER_UPDATE) and a rejected set"
run iopfctl flags update 0x20 --flat --unrecov
# 0x11 is nested,l2: keeping NESTED alone (iopfctl refuses --nested itself)
run iopfctl flags update 0x11 --mask 0x2 --set 0 || echo "(rejected by the kernel, as it should be)"

say "Watching the notifications live while injecting"
iopfctl watch --count 7 --timeout 20 >"$W/watch.txt" 2>"$W/watch.err" &
WPID=$!
sleep 0.5
run iopfctl inject 0x10 --stall --stag 1 --s2 --ipa 0x80001000 --addr 0x7f001000
run iopfctl inject 0x10 --ssid 3 --stall --stag 2 --addr 0x7f002000 --write
run iopfctl inject 0x11 --stall --stag 3 --addr 0x7f003000
run iopfctl inject 0x11 --stall --stag 4 --s2 --ipa 0x40004000 --addr 0x7f004000 --exec
run iopfctl inject 0x20 --event permission --ssid 9 --addr 0x7f005000 --write
run iopfctl inject 0x20 --stall --stag 5 --count 3 --addr 0x7f006000
run iopfctl inject 0x10 --event 0x04
wait $WPID
cat "$W/watch.txt"
tail -n 1 "$W/watch.err"

wait_faults 7
say "What the daemon collected (iopfctl faults)"
run iopfctl faults --store "$STORE"

say "Summary (iopfctl stats)"
run iopfctl stats --store "$STORE"
run iopfctl dev list

say "RESUME commands the responses produced (debugfs last_resume)"
for s in 0x10 0x11 0x20; do
	echo "$s: $(cat /sys/kernel/debug/iopf_testbed/devices/$s/last_resume)"
done

say "Offline decoding with the module's own code"
run iopfctl decode 0x0000001000003810 0x0000000080000002 0x7f002000 0 --flags nested,l2

say "Stopping the daemon (SIGTERM flushes the store)"
kill -TERM $DPID
wait $DPID
echo "iopfd exited with $?; its log:"
sed 's/^/    /' "$W/iopfd.log"

n=$(iopfctl faults --store "$STORE" --json | wc -l)
if [ "$n" -ne 7 ]; then
	echo "# demo: expected 7 collected faults, found $n"
	exit 1
fi
echo
echo "demo: 7 faults collected and answered as configured"
