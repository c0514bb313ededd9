#!/bin/sh
# iopfd as a VMM with a vSMMUv3 on upstream's road (iopf.run=upstream-nested-vmm.sh):
# one device configured delivery=iommufd nested=on vsid=0x42
# unattributed=walk. iopfd bridges it, binds it, allocates the nesting
# parent (stage 2), the vIOMMU, the vDEVICE (vSID 0x42), the nested HWPT
# (vSTE stage-1 translate) with a fault queue and the vEVENTQ, attaches it,
# and reads both queues:
#   - a non-stalled stage-1 F_TRANSLATION record arrives on the vEVENTQ with
#     the vSID in place of the StreamID ("via":"vevent");
#   - a stalled stage-2 record arrives on the fault queue as a page request
#     with addr = the IOVA (no stage, no IPA);
#   - a two-stage stalled access whose stage 2 is unmapped completes: the
#     walk maps the stage-1 table page and S1(IOVA) in stage 2, the guest
#     model maps stage 1;
#   - a flood of non-stalled records into a small vEVENTQ: every sequence
#     is received or counted lost (the books balance).
# Without /dev/iommu every case is a SKIP; a module without nested support
# fails daemon_sets_up_nesting (iopfd logs the ioctl it refused) and what
# follows. Prints KTAP; the exit status is the verdict.
#
# Needs in the initramfs: iopfd and iopfctl (/opt/iopf/bin), the module; the
# busybox applets sh, grep, sed, cat, kill, sleep, rm, mkdir, insmod, rmmod,
# dmesg.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

W=/tmp/upstream-nested-vmm
STORE=$W/faults.jsonl
READY=$W/ready
CONF=$W/iopfd.conf
mkdir -p "$W"
rm -f "$STORE" "$READY"
DPID=

SID=0x61   # 97
SIDD=97
VSID=0x42  # 66
VSIDD=66
DEPTH=16
FLOOD=200    # non-stalled records into a vEVENTQ of DEPTH entries
S1EVT=0x300000 # (a) the non-stalled stage-1 record's IOVA
S2IOVA=0x500000 # (b) the stalled stage-2 record: IOVA, and its IPA
S2IPA=0x80005000
ACC=0x600010   # (c) the access (IOVA); its table page: TTB + 3 pages

road_lines() { grep '^{"kind":"fault","via":"iommufd",' "$STORE" | grep "\"sid\":$SIDD,"; }
vevent_lines() { grep '^{"kind":"fault","via":"vevent",' "$STORE" | grep "\"sid\":$SIDD,"; }
vevent_count() { [ "$(vevent_lines | grep -c .)" -ge "$1" ]; }
road_addr() { road_lines | grep -q "\"addr\":\"$1\""; }

cat >"$CONF" <<EOF2
# iopfd is a VMM with a vSMMUv3: stage 2 in the IOAS, the guest's stage 1
device $SID flags=flat delivery=iommufd nested=on vsid=$VSID veventq_depth=$DEPTH unattributed=walk l1=map,base=0x80000000 l2=map
EOF2

# --- the cases ----------------------------------------------------------------

case_daemon_sets_up_nesting() {
	iopfd --config "$CONF" --check-config >"$W/check.txt" || { cat "$W/check.txt"; return 1; }
	grep -q "device $SID flags=flat delivery=iommufd nested=on vsid=$VSID veventq_depth=$DEPTH unattributed=walk" \
		"$W/check.txt" || { cat "$W/check.txt"; return 1; }
	iopfd --config "$CONF" --store "$STORE" --ready-file "$READY" -v 2>"$W/iopfd.log" &
	DPID=$!
	wait_for 20 ready_up 1 || { echo "iopfd not ready; its log:"; cat "$W/iopfd.log"; return 1; }
	grep -q "device $SID: upstream's road, nested: dev_id [0-9]*, ioas [0-9]*, parent [0-9]*, viommu [0-9]*, vdevice [0-9]* (vSID $VSID)" \
		"$W/iopfd.log" || { cat "$W/iopfd.log"; return 1; }
	local up
	up=$(grep '"event":"iommufd_up"' "$STORE" | grep "\"sid\":$SIDD,")
	expect "iommufd_up nested" true "$(jfield nested "$up")" || { echo "# $up"; return 1; }
	expect "iommufd_up vsid" "$VSIDD" "$(jfield vsid "$up")" || return 1
	local j
	j=$(iopfctl -j dev list | grep "^{\"sid\":$SIDD,")
	expect "bridge" true "$(jfield bridge "$j")" || { echo "# $j"; return 1; }
	# attached to the nested HWPT
	expect "attached HWPT" "$(jfield hwpt "$up")" "$(jfield iommufd_pt_id "$j")" || { echo "# $j"; return 1; }
}

# (a) a non-stalled stage-1 translation fault: the vEVENTQ, with the vSID
case_vevent_has_the_vsid() {
	iopfctl inject "$SID" --event translation --addr "$S1EVT" || return 1
	wait_for 20 vevent_count 1 || { cat "$W/iopfd.log"; return 1; }
	local v
	v=$(vevent_lines | head -n 1)
	echo "# $v"
	expect "vevent vsid" "$VSIDD" "$(jfield vsid "$v")" || return 1
	expect "record's StreamID" "$VSIDD" "$(jfield record_sid "$v")" || return 1
	expect "vsid_ok" true "$(jfield vsid_ok "$v")" || return 1
	expect "event" '"F_TRANSLATION"' "$(jfield event "$v")" || return 1
	expect "stage" 1 "$(jfield stage "$v")" || return 1
	expect "addr" "\"$S1EVT\"" "$(jfield addr "$v")" || return 1
	expect "sequence" 0 "$(jfield sequence "$v")" || return 1
	expect "books" '"in_order"' "$(jfield books "$v")" || return 1
	# not a page request: nothing on the fault queue for it
	! road_addr "$S1EVT" || { road_lines; return 1; }
}

# (b) a stalled stage-2 record: the fault queue, addr = the IOVA
case_stalled_s2_is_a_page_request() {
	iopfctl inject "$SID" --event translation --stall --stag 5 --s2 --ipa "$S2IPA" --addr "$S2IOVA" || return 1
	wait_for 20 road_addr "$S2IOVA" || { road_lines; cat "$W/iopfd.log"; return 1; }
	local r
	r=$(road_lines | grep "\"addr\":\"$S2IOVA\"" | head -n 1)
	echo "# $r"
	expect "grpid" 5 "$(jfield grpid "$r")" || return 1
	expect "vsid" "$VSIDD" "$(jfield vsid "$r")" || return 1
	expect "unattributed" '"walk"' "$(jfield unattributed "$r")" || return 1
	# upstream carries no IPA: the record's is nowhere in the line but as
	# what the walk inferred (the table page of the IOVA, unmapped so far)
	! echo "$r" | grep -q "$S2IPA" || return 1
	expect "inferred" '"stage2"' "$(jfield inferred "$r")" || return 1
	expect "code" '"success"' "$(jfield code "$r")" || return 1
}

# (c) a two-stage access, stage 2 unmapped: the walk completes it
case_nested_access_completes() {
	iopfctl -j access "$SID" "$ACC" 8 --perm rw --stall --wait 10000 >"$W/access.json" 2>"$W/access.err" || {
		cat "$W/access.json" "$W/access.err"
		tail -n 30 "$W/iopfd.log"
		return 1
	}
	local j
	j=$(cat "$W/access.json")
	echo "# $j"
	expect "access state" '"completed"' "$(jfield state "$j")" || return 1
	# what the walk inferred, in order: the table page (stage 2), stage 1
	# (the guest's), stage 2 at S1(IOVA)
	road_lines | grep "\"addr\":\"$ACC\"" >"$W/acc.lines"
	sed 's/^/# /' "$W/acc.lines"
	grep -q '"inferred":"stage2".*"walk":"stage-1 table page' "$W/acc.lines" || return 1
	grep -q '"inferred":"stage1"' "$W/acc.lines" || return 1
	grep -q '"inferred":"stage2","walk":"mapped","ipa":"0x8' "$W/acc.lines" || return 1
	expect "every answer success" "$(grep -c . "$W/acc.lines")" \
		"$(grep -c '"code":"success"' "$W/acc.lines")" || return 1
}

# a flood of non-stalled stage-1 records into a vEVENTQ of DEPTH entries
case_vevent_flood() {
	iopfctl inject "$SID" --event translation --addr 0x1000000 --count "$FLOOD" || return 1
	sleep 2
	grep -q '"what":"vevent_' "$STORE" && grep '"what":"vevent_' "$STORE" | sed 's/^/# /' | head -n 5
	! grep -q '"what":"vevent_inconsistent"' "$STORE" || return 1
}

case_daemon_stops_cleanly() {
	local rc
	kill -TERM "$DPID" || return 1
	wait "$DPID"
	rc=$?
	DPID=
	[ "$rc" -eq 0 ] || { echo "iopfd exited with $rc; its log:"; cat "$W/iopfd.log"; return 1; }
	tail -n 1 "$STORE" | grep -q '"event":"stop"' || { echo "no stop line in the store"; return 1; }
	local down
	down=$(grep '"event":"iommufd_down"' "$STORE" | grep "\"sid\":$SIDD,")
	echo "# $down"
	# the books: every sequence handed out is received or lost (1 + FLOOD)
	expect "vevents handed out" $((1 + FLOOD)) "$(jfield handed_out "$down")" || return 1
	expect "vevents inconsistent" 0 "$(jfield inconsistent "$down")" || return 1
	local j
	j=$(iopfctl -j dev list | grep "^{\"sid\":$SIDD,")
	expect "bridge after iopfd" false "$(jfield bridge "$j")" || { echo "# $j"; return 1; }
	iopfctl stats --store "$STORE" | grep 'vevents' | sed 's/^/# /'
}

CASES="load_module daemon_sets_up_nesting vevent_has_the_vsid stalled_s2_is_a_page_request
nested_access_completes vevent_flood daemon_stops_cleanly unload_module dmesg_clean"

ktap_begin 9
skip_all() {
	for c in $CASES; do
		ktap_skip "$c" "$1"
	done
	daemon_alive && kill -TERM "$DPID"
	ktap_end
	exit $?
}
[ -e /dev/iommu ] || skip_all "no /dev/iommu: the kernel has no iommufd (CONFIG_IOMMUFD)"
dmesg_mark
ktap_case load_module load_module
ktap_case daemon_sets_up_nesting case_daemon_sets_up_nesting
ktap_case vevent_has_the_vsid case_vevent_has_the_vsid
ktap_case stalled_s2_is_a_page_request case_stalled_s2_is_a_page_request
ktap_case nested_access_completes case_nested_access_completes
ktap_case vevent_flood case_vevent_flood
ktap_case daemon_stops_cleanly case_daemon_stops_cleanly
ktap_case unload_module unload_module
ktap_case dmesg_clean check_dmesg_clean
daemon_alive && kill -TERM "$DPID"
ktap_end
