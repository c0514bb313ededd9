#!/bin/sh
# The two-stage access model end to end (iopf.run=stages.sh; issue 11):
# iopfd plays the VMM (l2=map: stage 2 paged in on demand, RFC 3/6) and runs
# the guest model (l1=map: the guest maps stage 1, RFC 6/6; l1=refuse: it
# answers INVALID); iopfctl sets tables up and runs DMA accesses that walk
# them. Every case asserts the exact faults (L1, L2), retries and final
# state of its accesses (from the ACCESS_NTF that `access --wait` waits for),
# and what the daemon stored. Prints KTAP; the exit status is the verdict.
#
# The expected counts follow the uAPI (kmod/include/uapi/linux/iopf_testbed.h,
# "The two-stage access model"): an access walks page by page; in nested
# mode each page's walk reads the stage-1 descriptor at
# IPA = TTB + (IOVA >> 21) * 4 KiB (a level-2 fault at that IPA while stage 2
# misses it), then stage 1 (a level-1 fault at the IOVA), then stage 2 of the
# output IPA (a level-2 fault at that IPA); a stalled access is walked again
# (RETRY) after each SUCCESS and aborted by INVALID.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

W=/tmp/stages
STORE=$W/faults.jsonl
READY=$W/ready
CONF=$W/iopfd.conf
ACCESSES=$W/accesses # how many accesses the script ran: one ACCESS_NTF each
mkdir -p "$W"
rm -f "$STORE" "$READY"
echo 0 >"$ACCESSES"
DPID=

TTB=0x40000000  # IOPF_STAGE_TTB_DEFAULT
GUEST=0x80000000 # the guest's IPAs (l1=map,base=)

# --- helpers ----------------------------------------------------------------

ready_up() { grep -q "up=$1\$" "$READY" 2>/dev/null; }

start_daemon() {
	rm -f "$READY"
	iopfd --config "$CONF" --store "$STORE" --ready-file "$READY" -v 2>"$W/iopfd.log" &
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

# run_access NAME SID IOVA LEN [access options]: one access, waited for; its
# JSON in $W/NAME.json. Fails when the access did not end.
run_access() {
	local name="$1" sid="$2" iova="$3" len="$4"
	shift 4
	echo $(($(cat "$ACCESSES") + 1)) >"$ACCESSES"
	iopfctl -j access "$sid" "$iova" "$len" --perm rw --wait 5000 "$@" >"$W/$name.json" 2>"$W/$name.err" || {
		echo "access $name: iopfctl failed:"
		cat "$W/$name.json" "$W/$name.err"
		return 1
	}
}

# expect_access NAME STATE FAULTS L1 L2 RETRIES: the final state of an access
expect_access() {
	local j got
	j=$(cat "$W/$1.json")
	got="$(jfield state "$j") $(jfield faults "$j") $(jfield faults_l1 "$j") $(jfield faults_l2 "$j") $(jfield retries "$j")"
	expect "access $1 (state faults L1 L2 retries)" "\"$2\" $3 $4 $5 $6" "$got" || {
		echo "# $j"
		return 1
	}
}

# pages_mapped SID STAGE [--pasid P]: the pages of a table (MAP_GET)
pages_mapped() {
	local sid="$1" stage="$2"
	shift 2
	iopfctl -j maps "$sid" --stage "$stage" "$@" | sed -n 's/.*"pages":\([0-9]*\).*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

# store_lines KIND SID [CODE]: the daemon's lines of a kind (vmm, guest,
# access) for one device (decimal SID), optionally with an answer
store_lines() {
	grep "^{\"kind\":\"$1\"," "$STORE" | grep "\"sid\":$2," | grep -c "${3:+\"code\":\"$3\"}"
}

# wait until the daemon stored N access lines in all
accesses_stored() { [ "$(grep -c '^{"kind":"access",' "$STORE")" -ge "$1" ]; }

# --- the configuration ----------------------------------------------------------

cat >"$CONF" <<EOF2
# (a), (d): nested, both concerns: the VMM pages stage 2, the guest stage 1
device 0x50 flags=nested,l1,l2 stage=nested l1=map,base=$GUEST l2=map
# (b): the host pages stage 2 only; stage 1 is pre-mapped
device 0x51 flags=nested,l2 stage=nested l2=map
# (c): the guest pages stage 1 only; stage 2 is pre-mapped (pinned)
device 0x52 flags=nested,l1 stage=nested l1=map,base=$GUEST
# (e): a guest that refuses
device 0x53 flags=nested,l1,l2 stage=nested l1=refuse l2=map
# (f): stage 2 only, the exact page or an 8-page prefetch window
device 0x54 flags=nested,l2 stage=s2 l2=map
device 0x55 flags=nested,l2 stage=s2 l2=map,window=8
EOF2

# --- the cases ----------------------------------------------------------------

case_daemon_starts() {
	start_daemon || return 1
	iopfd --config "$CONF" --check-config >"$W/check.txt" || return 1
	grep -qx "device 0x50 flags=nested,l1,l2 stage=nested l1=map,base=$GUEST l2=map" "$W/check.txt" || {
		cat "$W/check.txt"
		return 1
	}
	# the daemon set the stage modes up (when DEV_GET reports them)
	local mode
	mode=$(jfield stage_mode "$(iopfctl dev list --json | grep '^{"sid":84,')")
	[ "$mode" = null ] || expect "0x54 stage mode" '"s2"' "$mode"
}

# (a) Two pages in one 2 MiB block, PASID 1: the descriptor page (L2), then
# per page the IOVA (L1, the guest maps it) and its IPA (L2, the VMM maps
# it): 1 + 2 + 2 faults, each answered SUCCESS and retried.
case_nested_both() {
	run_access a1 0x50 0x200000 0x2000 --stall --pasid 1 || return 1
	expect_access a1 completed 5 2 3 5 || return 1
	expect "guest lines" 2 "$(store_lines guest 80 success)" || return 1
	expect "vmm lines" 3 "$(store_lines vmm 80 success)" || return 1
	expect "stage-1 pages" 2 "$(pages_mapped 0x50 1 --pasid 1)" || return 1
	# the descriptor page and the two guest IPAs
	expect "stage-2 pages" 3 "$(pages_mapped 0x50 2)" || return 1
	iopfctl -j maps 0x50 --stage 1 --pasid 1 | grep -q "\"addr\":\"0x200000\",\"out_addr\":\"$GUEST\"" || {
		iopfctl maps 0x50 --stage 1 --pasid 1
		return 1
	}
	# the same access again: every page translates
	run_access a2 0x50 0x200000 0x2000 --stall --pasid 1 || return 1
	expect_access a2 completed 0 0 0 0
}

# (b) Stage 1 pre-mapped: the host pages in the descriptor and four pages.
case_l2_only() {
	iopfctl map 0x51 --stage 1 --pasid 1 0x200000 0x90000000 0x4000 --perm rw >/dev/null || return 1
	run_access b1 0x51 0x200000 0x4000 --stall --pasid 1 || return 1
	expect_access b1 completed 5 0 5 5 || return 1
	expect "vmm lines" 5 "$(store_lines vmm 81 success)" || return 1
	expect "guest lines" 0 "$(store_lines guest 81)" || return 1
	iopfctl -j maps 0x51 --stage 2 | grep -q '"addr":"0x90000000"' || { iopfctl maps 0x51 --stage 2; return 1; }
}

# (c) Stage 2 pinned (the descriptors' and the guest's IPAs): four L1 faults.
case_l1_only() {
	iopfctl map 0x52 --stage 2 $TTB $TTB 0x10000 --perm rw >/dev/null || return 1
	iopfctl map 0x52 --stage 2 $GUEST $GUEST 0x100000 --perm rw >/dev/null || return 1
	run_access c1 0x52 0x200000 0x4000 --stall --pasid 1 || return 1
	expect_access c1 completed 4 4 0 4 || return 1
	expect "guest lines" 4 "$(store_lines guest 82 success)" || return 1
	expect "vmm lines" 0 "$(store_lines vmm 82)" || return 1
	# MAP is all or nothing: mapping a mapped page again is refused
	local rc=0
	iopfctl map 0x52 --stage 2 $GUEST $GUEST 0x1000 --perm rw 2>"$W/eexist.err" || rc=$?
	expect "map over a mapping: exit" 1 "$rc" || return 1
	grep -q 'File exists' "$W/eexist.err" || { cat "$W/eexist.err"; return 1; }
}

# (d) The host reclaims the guest's two pages from stage 2 (after (a)): the
# next access faults at L2 for each, and completes again.
case_reclaim() {
	expect unmapped "unmapped 2 page(s)" "$(iopfctl unmap 0x50 --stage 2 $GUEST 0x2000)" || return 1
	expect "unmapping again" "unmapped 0 page(s)" "$(iopfctl unmap 0x50 --stage 2 $GUEST 0x2000)" || return 1
	run_access d1 0x50 0x200000 0x2000 --stall --pasid 1 || return 1
	expect_access d1 completed 2 0 2 2 || return 1
	expect "vmm lines" 5 "$(store_lines vmm 80 success)" || return 1
	run_access d2 0x50 0x200000 0x2000 --stall --pasid 1 || return 1
	expect_access d2 completed 0 0 0 0
}

# (e) The descriptor page is paged in (L2), then the guest refuses the IOVA
# (L1, INVALID): the access is aborted after one retry. Without Stall the
# next page's L1 fault terminates it at once.
case_guest_refuses() {
	run_access e1 0x53 0x200000 0x1000 --stall --pasid 1 || return 1
	expect_access e1 aborted 2 1 1 1 || return 1
	expect "refusals" 1 "$(store_lines guest 83 invalid)" || return 1
	grep '^{"kind":"guest",' "$STORE" | grep '"sid":83,' | grep -q '"why":"the guest refuses"' || return 1
	run_access e2 0x53 0x201000 0x1000 --pasid 1 || return 1
	expect_access e2 terminated 1 1 0 0 || return 1
	expect "pages the guest mapped" 0 "$(pages_mapped 0x53 1 --pasid 1)"
}

# (f) A strided workload: 8 one-page accesses, every other page of 64 KiB.
# The exact page faults 8 times; an 8-page window twice (pages 0 and 8).
strided() { # SID PREFIX
	local i=0
	while [ $i -lt 8 ]; do
		run_access "$2$i" "$1" $((0x100000 + i * 0x2000)) 0x1000 --stall || return 1
		i=$((i + 1))
	done
}

sum_faults() { # PREFIX: the L2 faults of its 8 accesses
	local i=0 n=0 j
	while [ $i -lt 8 ]; do
		j=$(cat "$W/$1$i.json")
		[ "$(jfield state "$j")" = '"completed"' ] || { echo "# $1$i: $j" >&2; echo x; return; }
		n=$((n + $(jfield faults_l2 "$j")))
		i=$((i + 1))
	done
	echo $n
}

case_prefetch_window() {
	strided 0x54 fe || return 1
	strided 0x55 fw || return 1
	expect "exact page: L2 faults" 8 "$(sum_faults fe)" || return 1
	expect "window 8: L2 faults" 2 "$(sum_faults fw)" || return 1
	expect "exact page: pages mapped" 8 "$(pages_mapped 0x54 2)" || return 1
	expect "window 8: pages mapped" 16 "$(pages_mapped 0x55 2)" || return 1
	expect "exact: vmm lines" 8 "$(store_lines vmm 84 success)" || return 1
	expect "window: vmm lines" 2 "$(store_lines vmm 85 success)"
}

# The module's own books per device (DEV_GET ACCESS_FAULTS_L1/L2) agree
# with the accesses: SID (decimal) L1 L2
module_faults() {
	local j
	j=$(iopfctl dev list --json | grep "^{\"sid\":$1,")
	expect "sid $1 ACCESS_FAULTS_L1 L2" "$2 $3" \
		"$(jfield access_faults_l1 "$j") $(jfield access_faults_l2 "$j")"
}

case_module_counters_agree() {
	module_faults 80 2 5 && # (a) 2 + 3, (d) 2 at L2
		module_faults 81 0 5 &&
		module_faults 82 4 0 &&
		module_faults 83 2 1 && # (e): the refused and the terminated
		module_faults 84 0 8 &&
		module_faults 85 0 2
}

# Every access ended with one ACCESS_NTF; the daemon stored each.
case_store_has_every_access() {
	local n
	n=$(cat "$ACCESSES")
	wait_for 5 accesses_stored "$n" || true
	expect "access lines" "$n" "$(grep -c '^{"kind":"access",' "$STORE")" || return 1
	# and the accesses the module keeps agree with what the script saw
	iopfctl -j accesses 0x50 | grep -q '"state":"completed"' || { iopfctl accesses; return 1; }
}

case_daemon_stops_cleanly() {
	stop_daemon || return 1
	local s
	s=$(iopfctl -j stats --store "$STORE")
	# exact: 3 + 2 (0x50: (a), (d)), 5 (0x51), 1 (0x53), 8 (0x54), 2 (0x55)
	expect "vmm fix-ups" 21 "$(jfield handled "$(echo "$s" | sed 's/.*"vmm":\({[^}]*}\).*/\1/')")" || return 1
	# 2 (0x50), 4 (0x52), 1 refusal (0x53)
	expect "guest fix-ups" 7 "$(jfield handled "$(echo "$s" | sed 's/.*"guest":\({[^}]*}\).*/\1/')")"
}

ktap_begin 12
ktap_case load_module load_module
ktap_case daemon_starts case_daemon_starts
ktap_case nested_both_concerns case_nested_both
ktap_case l2_only_host_paging case_l2_only
ktap_case l1_only_stage2_pinned case_l1_only
ktap_case reclaim_refaults_at_l2 case_reclaim
ktap_case guest_refuses_access_aborted case_guest_refuses
ktap_case prefetch_window_fewer_faults case_prefetch_window
ktap_case module_counters_agree case_module_counters_agree
ktap_case store_has_every_access case_store_has_every_access
ktap_case daemon_stops_cleanly case_daemon_stops_cleanly
ktap_case dmesg_clean check_dmesg_clean
daemon_alive && kill -TERM "$DPID"
ktap_end
