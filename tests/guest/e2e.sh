#!/bin/sh
# End-to-end test of the user space (iopf.run=e2e.sh): iopfd plays the VMM
# for four devices, iopfctl injects a scripted mix over both stages; the
# daemon's store must hold exactly the expected faults, the responses must
# have produced the expected RESUME commands, a module reload while the
# daemon runs must be survived, and a burst that overflows the daemon's
# socket must be counted and resynced; DEV_SET's settings round-trip
# through iopfctl. Prints KTAP; the exit status is the
# verdict.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

D=/sys/kernel/debug/iopf_testbed
W=/tmp/e2e
STORE=$W/faults.jsonl
READY=$W/ready
CONF=$W/iopfd.conf
mkdir -p "$W"
rm -f "$STORE" "$READY"
DPID=

# --- helpers ----------------------------------------------------------------

# expect NAME WANT GOT: compare, show both on mismatch.
expect() {
	[ "$2" = "$3" ] && return 0
	echo "$1: expected:"
	echo "$2" | sed 's/^/    /'
	echo "$1: got:"
	echo "$3" | sed 's/^/    /'
	return 1
}

# The store's faults as "seq sid level pasid addr", one per line (the JSON
# key order is fixed: seq, sid, ..., level, ..., pasid, ..., addr).
store_faults() {
	iopfctl faults --store "$STORE" --json |
		sed -n 's/^{"seq":\([0-9]*\),"sid":\([0-9]*\),.*"level":"\(L[12]\)".*"pasid":\([0-9a-z]*\),.*"addr":"\(0x[0-9a-f]*\)".*/\1 \2 \3 \4 \5/p'
}

store_fault_count() { store_faults | wc -l; }
has_faults() { [ "$(store_fault_count)" -ge "$1" ]; }

# The store's resumes as "sid stag resp origin", sorted.
store_resumes() {
	sed -n 's/^{"kind":"resume","seq":[0-9]*,"sid":\([0-9]*\),"stag":\([0-9]*\),"resp":"\([A-Z]*\)","code":"[a-z]*","origin":"\([a-z_]*\)".*/\1 \2 \3 \4/p' "$STORE" | sort -k1,1n -k2,2n
}
has_resumes() { [ "$(store_resumes | wc -l)" -ge "$1" ]; }

# The module's pending count for one device (DEV_GET via iopfctl).
pending_of() {
	iopfctl dev list --json | sed -n "s/^{\"sid\":$1,.*\"pending\":\([0-9]*\).*/\1/p"
}
none_pending() { [ "$(pending_of "$1")" = 0 ]; }

start_daemon() { # CONF [extra iopfd options]
	local conf="$1"
	shift
	rm -f "$READY"
	iopfd --config "$conf" --store "$STORE" --ready-file "$READY" "$@" 2>"$W/iopfd.log" &
	DPID=$!
	wait_for 10 ready_up 1 || { echo "iopfd not ready; its log:"; cat "$W/iopfd.log"; return 1; }
}

stop_daemon() {
	local rc
	kill -TERM "$DPID" || return 1
	wait "$DPID"
	rc=$?
	DPID=
	[ "$rc" -eq 0 ] || { echo "iopfd exited with $rc; its log:"; cat "$W/iopfd.log"; return 1; }
	tail -n 1 "$STORE" | grep -q '"event":"stop"' || { echo "no stop line in the store"; return 1; }
}

# --- the cases ----------------------------------------------------------------

cat >"$CONF" <<'EOF'
# a nested guest: stage 2 fixed by the host, stage 1 forwarded, guest says INVALID
device 0x10 flags=nested,l1,l2 l1=invalid l2=success
# the host only cares about stage 2: stage-1 page requests are filtered
device 0x11 flags=nested,l2 l2=success
# flat, unrecoverable faults too; stage 2 answered late
device 0x20 flags=flat,unrecov l1=failure l2=success,delay_ms=20
# nobody answers
device 0x21 flags=flat l1=pending l2=pending
EOF

case_daemon_starts() { start_daemon "$CONF"; }

# Issue 10: one daemon per store; the CLI's conventions against the module.
case_second_daemon_refused() {
	local rc=0
	iopfd --config "$CONF" --store "$STORE" 2>"$W/second.log" || rc=$?
	[ "$rc" -eq 1 ] || { echo "a second iopfd on the same store: exit $rc"; cat "$W/second.log"; return 1; }
	grep -q "iopfd: store $STORE is in use by another iopfd" "$W/second.log" || { cat "$W/second.log"; return 1; }
	daemon_alive || { echo "the first iopfd died"; return 1; }
	iopfd --config "$CONF" --check-config >"$W/check.txt" || return 1
	grep -q '^device 0x10 flags=nested,l1,l2 l1=invalid l2=success$' "$W/check.txt" || { cat "$W/check.txt"; return 1; }
}

case_cli_conventions() {
	local rc=0
	expect version "iopfctl $(iopfd --version | sed 's/^iopfd //')" "$(iopfctl --version)" || return 1
	# aliases, prefixes, global -j; the same JSON as the command's own --json
	expect json "$(iopfctl dev list --json)" "$(iopfctl -j dev show)" || return 1
	expect prefix "$(iopfctl dev list)" "$(iopfctl dev l)" || return 1
	expect prefix_alias "0xe nested,l1,l2" "$(iopfctl fl sh 0x10)" || return 1
	iopfctl -p flags get 0x10 | grep -qx '  "flags_value": 14' || { iopfctl -p flags get 0x10; return 1; }
	# a write error on stdout is a failure
	iopfctl dev list >/dev/full 2>"$W/full.err" || rc=$?
	[ "$rc" -eq 1 ] || { echo "dev list > /dev/full: exit $rc"; return 1; }
	grep -q '^iopfctl: writing output: No space left on device$' "$W/full.err" || { cat "$W/full.err"; return 1; }
	# flags by number: the kernel sees the same set
	iopfctl flags update 0x11 --mask 0xffffffff --set 0 >/dev/null || return 1
	expect flags_kept "0xa nested,l2" "$(iopfctl flags get 0x11)"
}

case_flags_registered() {
	local got
	got=$(for s in 0x10 0x11 0x20 0x21; do iopfctl flags get $s; done)
	expect flags "0xe nested,l1,l2
0xa nested,l2
0x11 flat,unrecov
0x1 flat" "$got"
}

case_inject_mix() {
	# In this order; the comments give the fault's seq, if reported.
	iopfctl inject 0x10 --stall --stag 1 --s2 --ipa 0x80001000 --addr 0x1000 &&     # 1
	iopfctl inject 0x10 --ssid 5 --stall --stag 2 --addr 0x2000 --write &&           # 2
	iopfctl inject 0x11 --stall --stag 3 --addr 0x3000 &&                            # filtered L1
	iopfctl inject 0x11 --stall --stag 4 --s2 --ipa 0x44000 --addr 0x4000 &&         # 3
	iopfctl inject 0x20 --ssid 7 --event permission --addr 0x5000 --write &&         # 4
	iopfctl inject 0x20 --stall --stag 7 --addr 0x7000 --exec &&                     # 5
	iopfctl inject 0x20 --stall --stag 6 --s2 --ipa 0x66000 --addr 0x6000 &&         # 6
	iopfctl inject 0x21 --stall --stag 8 --addr 0x8000 &&                            # 7
	iopfctl inject 0x10 --event 0x04 &&                                              # C_BAD_STE
	iopfctl inject 0x99 --stall --addr 0x9000 &&                                     # unknown SID
	iopfctl inject 0x21 --event access --addr 0xa000 &&                              # filtered unrecov
	iopfctl inject 0x10 --stall --stag 12 --s2 --ipa 0xc000 --addr 0xc0 --dry-run >"$W/recs" &&
	iopfctl inject --file "$W/recs" &&                                                     # 8
	cat >"$W/log.txt" <<'EOF' &&
[   42.000000] unrelated: line
[   42.000001] iopf_testbed: event 0x10 received:
[   42.000002] iopf_testbed: 	0x0000001000001810
[   42.000003] iopf_testbed: 	0x000000008000000d
[   42.000004] iopf_testbed: 	0x000000000000d000
[   42.000005] iopf_testbed: 	0x0000000000000000
EOF
	iopfctl replay "$W/log.txt" &&                                                         # 9
	wait_for 10 has_faults 9
}

# What the module reported for each stored fault is what `iopfctl decode`
# (fault_core.h, offline) makes of the same record.
case_decode_agrees() {
	local line rec got k n=0 bad=0
	while IFS= read -r line; do
		case $line in *'"kind":"fault"'*) ;; *) continue ;; esac
		rec=$(jfield record "$line" | tr -d '[]"' | tr ',' ' ')
		# shellcheck disable=SC2086 # four words
		got=$(iopfctl decode $rec --json) || { echo "decode $rec failed"; return 1; }
		for k in sid event_id event handled type level flags pasid grpid perm addr reason; do
			[ "$(jfield "$k" "$line")" = "$(jfield "$k" "$got")" ] && continue
			echo "# $rec: $k: module $(jfield "$k" "$line"), decode $(jfield "$k" "$got")"
			bad=$((bad + 1))
		done
		n=$((n + 1))
	done <"$STORE"
	echo "# iopfctl decode agrees with the module on $n stored faults"
	[ "$n" -ge 9 ] && [ "$bad" -eq 0 ]
}

case_store_holds_expected_faults() {
	expect faults "1 16 L2 null 0x80001000
2 16 L1 5 0x2000
3 17 L2 null 0x44000
4 32 L1 7 0x5000
5 32 L1 null 0x7000
6 32 L2 null 0x66000
7 33 L1 null 0x8000
8 16 L2 null 0xc000
9 16 L1 1 0xd000" "$(store_faults)"
}

case_fault_json_shape() {
	local line
	line=$(iopfctl faults 0x20 --store "$STORE" --json --level L1 | head -n 1)
	expect shape '{"seq":4,"sid":32,"event_id":19,"event":"F_PERMISSION","handled":true,"type":"unrecov","level":"L1","flags":["pasid_valid","addr_valid"],"pasid":7,"grpid":null,"perm":["write"],"addr":"0x5000","reason":"permission"' \
		"$(echo "$line" | sed 's/,"dev_seq".*//')"
}

case_responses_resumed() {
	# Everything answerable has been answered: 0x21's request stays pending.
	wait_for 5 none_pending 16 && wait_for 5 none_pending 17 && wait_for 5 none_pending 32 || return 1
	expect pending "1" "$(pending_of 33)" || return 1
	expect last_resume "0x0000001000002044 0x000000000000000d resp=ABORT stag=13 origin=response
0x0000001100001044 0x0000000000000004 resp=RETRY stag=4 origin=response
0x0000002000001044 0x0000000000000006 resp=RETRY stag=6 origin=response
none" "$(for s in 0x10 0x11 0x20 0x21; do cat $D/devices/$s/last_resume; done)"
}

case_respond_by_hand() {
	iopfctl respond 0x21 --grpid 8 --code success || return 1
	expect last_resume "0x0000002100001044 0x0000000000000008 resp=RETRY stag=8 origin=response" \
		"$(cat $D/devices/0x21/last_resume)" || return 1
	# Answering it twice is the kernel's business to refuse, with its reason.
	if iopfctl respond 0x21 --grpid 8 --code success 2>"$W/err"; then
		echo "a second response was accepted"
		return 1
	fi
	grep -q 'PAGE_RESPONSE sid 0x21 grpid 8: Invalid argument' "$W/err" || { cat "$W/err"; return 1; }
}

case_store_holds_every_resume() {
	wait_for 5 has_resumes 9
	expect resumes "16 1 RETRY response
16 2 ABORT response
16 12 RETRY response
16 13 ABORT response
17 3 ABORT report_failed
17 4 RETRY response
32 6 RETRY response
32 7 ABORT response
33 8 RETRY response" "$(store_resumes)"
}

case_replay_of_the_kernel_log() {
	# The filtered request (0x11, stag 3) was logged in the driver's format.
	dmesg >"$W/dmesg.txt"
	iopfctl replay "$W/dmesg.txt" --dry-run >"$W/replayed" || return 1
	grep -qx '0x0000001100000010 0x0000000880000003 0x0000000000003000 0x0000000000000000' "$W/replayed" ||
		{ echo "record of the filtered request not found in:"; cat "$W/replayed"; return 1; }
}

case_module_reload_survived() {
	unload_module || return 1
	load_module "$LOAD_ARGS" || return 1
	wait_for 10 ready_up 2 || { echo "devices not set up again; iopfd log:"; cat "$W/iopfd.log"; return 1; }
	daemon_alive || { echo "iopfd died"; return 1; }
	expect flags "0xe nested,l1,l2
0x1 flat" "$(iopfctl flags get 0x10; iopfctl flags get 0x21)" || return 1
	iopfctl inject 0x10 --stall --stag 20 --s2 --ipa 0x123000 --addr 0x1 || return 1
	wait_for 5 has_faults 10 || return 1
	# SEQ starts over at 1 with the new module instance
	expect after_reload "1 16 L2 null 0x123000" "$(store_faults | tail -n 1)" || return 1
	wait_for 5 grep -q 'stag=20 origin=response' $D/devices/0x10/last_resume
	grep -q '"event":"module_down"' "$STORE" && grep -q '"event":"module_up"' "$STORE"
}

case_sighup_reload() {
	sed -i 's/^device 0x21 .*/device 0x21 flags=flat l1=success l2=success/' "$CONF" || return 1
	kill -HUP "$DPID" || return 1
	wait_for 5 grep -q '"event":"reload"' "$STORE" || return 1
	iopfctl inject 0x21 --stall --stag 30 --addr 0x30000 || return 1
	wait_for 5 grep -q 'stag=30 origin=response' $D/devices/0x21/last_resume
}

case_daemon_stops_cleanly() { stop_daemon; }

# A burst into a tiny receive buffer: loss must be detected and reported,
# and the resync must still answer every page request.
case_overflow_counted_and_resynced() {
	local n=2000 stats faults
	cat >"$W/burst.conf" <<'EOF'
device 0x30 flags=nested,l1,l2 l1=success l2=success
EOF
	rm -f "$STORE"
	start_daemon "$W/burst.conf" --rcvbuf 4K || return 1
	iopfctl inject 0x30 --stall --stag 0 --addr 0x100000 --count $n >/dev/null || return 1
	wait_for 30 none_pending 48 || { echo "still pending: $(pending_of 48)"; cat "$W/iopfd.log"; return 1; }
	stop_daemon || return 1
	stats=$(iopfctl stats --store "$STORE" --json)
	echo "$stats"
	faults=$(echo "$stats" | sed -n 's/^{"faults":\([0-9]*\),.*/\1/p')
	expect recorded "$n" "$faults" || return 1
	echo "$stats" | grep -q '"loss":{"overflows":0,"gap_events":0,' &&
		{ echo "no loss detected with a 4K buffer (unexpected on this machine)"; return 1; }
	grep -q 'notifications lost\|overflowed' "$W/iopfd.log" || { echo "loss not logged"; return 1; }
	echo "$stats" | grep -q '"resynced":0,' && { echo "nothing was resynced"; return 1; }
	return 0
}

# DEV_SET through iopfctl: what is set is what DEV_GET reads back; bad
# values are refused and change nothing.
settings_of() { # SID (decimal): "PENDING_LIMIT TIMEOUT_MS" from dev list --json
	local j
	j=$(iopfctl dev list --json | grep "^{\"sid\":$1,")
	echo "$(jfield pending_limit "$j") $(jfield timeout_ms "$j")"
}

case_device_settings() {
	local rc=0
	iopfctl dev add 0x40 >/dev/null || return 1
	# a new device: the module parameter's limit, no timeout
	expect defaults "65536 0" "$(settings_of 64)" || return 1
	expect set_output "device 0x40: pending_limit 8, timeout_ms 500" \
		"$(iopfctl dev set 0x40 --pending-limit 8 --timeout-ms 500)" || return 1
	expect set "8 500" "$(settings_of 64)" || return 1
	iopfctl dev list | grep -q '^0x40 *unregistered *8 *500 ' || { iopfctl dev list; return 1; }
	# only what is given changes
	iopfctl dev set 0x40 --timeout-ms 0 >/dev/null || return 1
	expect partial "8 0" "$(settings_of 64)" || return 1
	# out of range: a usage error (exit 2) before the module is asked
	iopfctl dev set 0x40 --pending-limit 0 2>"$W/err" || rc=$?
	[ "$rc" -eq 2 ] || { echo "--pending-limit 0: exit $rc"; return 1; }
	grep -qx 'iopfctl dev: --pending-limit must be at least 1' "$W/err" || { cat "$W/err"; return 1; }
	rc=0
	iopfctl dev set 0x40 --timeout-ms 600001 2>"$W/err" || rc=$?
	[ "$rc" -eq 2 ] || { echo "--timeout-ms 600001: exit $rc"; return 1; }
	# an unknown device: the module's refusal (exit 1)
	rc=0
	iopfctl dev set 0x41 --pending-limit 4 2>"$W/err" || rc=$?
	[ "$rc" -eq 1 ] || { echo "dev set 0x41: exit $rc"; return 1; }
	grep -q 'DEV_SET sid 0x41: No such device' "$W/err" || { cat "$W/err"; return 1; }
	expect unchanged "8 0" "$(settings_of 64)" || return 1
	iopfctl dev del 0x40 >/dev/null
}

# The overflow case leaves up to 2000 requests pending on one device while
# the daemon resyncs: above the default pending_limit they would be aborted.
LOAD_ARGS=pending_limit=65536
ktap_begin 19
ktap_case load_module load_module "$LOAD_ARGS"
ktap_case daemon_starts case_daemon_starts
ktap_case second_daemon_refused case_second_daemon_refused
ktap_case cli_conventions case_cli_conventions
ktap_case flags_registered case_flags_registered
ktap_case inject_mix case_inject_mix
ktap_case store_holds_expected_faults case_store_holds_expected_faults
ktap_case decode_agrees case_decode_agrees
ktap_case fault_json_shape case_fault_json_shape
ktap_case responses_resumed case_responses_resumed
ktap_case respond_by_hand case_respond_by_hand
ktap_case store_holds_every_resume case_store_holds_every_resume
ktap_case replay_of_the_kernel_log case_replay_of_the_kernel_log
ktap_case module_reload_survived case_module_reload_survived
ktap_case sighup_reload case_sighup_reload
ktap_case daemon_stops_cleanly case_daemon_stops_cleanly
ktap_case overflow_counted_and_resynced case_overflow_counted_and_resynced
ktap_case device_settings case_device_settings
ktap_case dmesg_clean check_dmesg_clean
daemon_alive && kill -TERM "$DPID"
ktap_end
