#!/bin/sh
# iopfd as the VMM on upstream's road (iopf.run=upstream-vmm.sh): one device
# configured delivery=iommufd l2=map. iopfd bridges it, writes
# allow_unsafe_interrupts, binds it to an iommufd through /dev/iopf_testbed,
# attaches a HWPT with a fault queue and answers what it reads there: N
# injected stall records and one stalled DMA access are mapped with
# IOMMU_IOAS_MAP (stage 2) and answered SUCCESS, which the module turns into
# RESUME RETRY; the access completes after one retry. The same records are
# heard on the netlink faults group and stored, never answered there.
# Without /dev/iommu (no CONFIG_IOMMUFD: Debian's 6.1 and 6.12) every case
# is a SKIP. Prints KTAP; the exit status is the verdict.
#
# Needs in the initramfs: iopfd and iopfctl (/opt/iopf/bin), the module; the
# busybox applets sh, grep, sed, cat, kill, sleep, rm, mkdir, insmod, rmmod,
# dmesg.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

W=/tmp/upstream-vmm
STORE=$W/faults.jsonl
READY=$W/ready
CONF=$W/iopfd.conf
mkdir -p "$W"
rm -f "$STORE" "$READY"
DPID=

SID=0x60   # 96
SIDD=96
N=8        # injected stall records
INJ=0x100000 # their addresses: INJ, INJ + 4 KiB, ...
ACC=0x200010 # the stalled access (a page none of them mapped)

# the daemon's lines for the road: via=iommufd, our device
road_lines() { grep '^{"kind":"fault","via":"iommufd",' "$STORE" | grep "\"sid\":$SIDD,"; }
road_count() { [ "$(road_lines | grep -c .)" -ge "$1" ]; }
# the RESUMEs stored for our device with a response
resumes() { grep '^{"kind":"resume",' "$STORE" | grep "\"sid\":$SIDD," | grep -c "\"resp\":\"$1\""; }
resumes_at_least() { [ "$(resumes "$1")" -ge "$2" ]; }

cat >"$CONF" <<EOF2
# iopfd is the VMM: the device's faults come from an iommufd fault queue
device $SID flags=flat delivery=iommufd l2=map
EOF2

# --- the cases ----------------------------------------------------------------

case_daemon_sets_up_the_road() {
	iopfd --config "$CONF" --check-config >"$W/check.txt" || { cat "$W/check.txt"; return 1; }
	grep -qx "device $SID flags=flat delivery=iommufd l2=map" "$W/check.txt" || {
		cat "$W/check.txt"
		return 1
	}
	iopfd --config "$CONF" --store "$STORE" --ready-file "$READY" -v 2>"$W/iopfd.log" &
	DPID=$!
	wait_for 20 ready_up 1 || { echo "iopfd not ready; its log:"; cat "$W/iopfd.log"; return 1; }
	grep -q 'allow_unsafe_interrupts' "$W/iopfd.log" || { cat "$W/iopfd.log"; return 1; }
	grep -q "device $SID: upstream's road: dev_id [0-9]*, ioas [0-9]*, hwpt [0-9]*, fault queue" \
		"$W/iopfd.log" || { cat "$W/iopfd.log"; return 1; }
	grep -q '"event":"iommufd_up"' "$STORE" || { echo "no iommufd_up line"; return 1; }
	local j
	j=$(iopfctl -j dev list | grep "^{\"sid\":$SIDD,")
	expect "bridge" true "$(jfield bridge "$j")" || { echo "# $j"; return 1; }
	[ -n "$(jfield iommufd_dev_id "$j")" ] && [ -n "$(jfield iommufd_pt_id "$j")" ] || {
		echo "not bound and attached: $j"
		return 1
	}
}

case_injected_requests_mapped() {
	iopfctl inject "$SID" --event translation --stall --stag 1 --addr "$INJ" --count "$N" || return 1
	wait_for 20 road_count "$N" || { road_lines; cat "$W/iopfd.log"; return 1; }
	expect "road lines" "$N" "$(road_lines | grep -c .)"
}

case_stalled_access_completes() {
	iopfctl -j access "$SID" "$ACC" 8 --perm rw --stall --wait 10000 >"$W/access.json" 2>"$W/access.err" || {
		cat "$W/access.json" "$W/access.err"
		tail -n 20 "$W/iopfd.log"
		return 1
	}
	local j
	j=$(cat "$W/access.json")
	expect "access (state retries)" '"completed" 1' "$(jfield state "$j") $(jfield retries "$j")" || {
		echo "# $j"
		return 1
	}
	iopfctl -j accesses "$SID" | grep -q '"state":"completed"' || { iopfctl accesses "$SID"; return 1; }
}

case_store_has_every_request() {
	local want=$((N + 1))
	wait_for 10 road_count "$want" || true
	expect "via=iommufd lines" "$want" "$(road_lines | grep -c .)" || return 1
	expect "with action map, success, ok" "$want" \
		"$(road_lines | grep '"action":"map' | grep '"code":"success"' | grep -c '"ok":true')" || {
		road_lines
		return 1
	}
	# the access's page is among them, with its address
	road_lines | grep -q '"addr":"0x200010"' || { road_lines; return 1; }
	# the same records on netlink: stored, never answered there
	expect "netlink lines via iommufd" "$want" \
		"$(grep '^{"kind":"fault","seq":' "$STORE" | grep "\"sid\":$SIDD," | grep -c '"action":"via iommufd"')" || return 1
	expect "netlink responses" 0 "$(grep '^{"kind":"response",' "$STORE" | grep -c "\"sid\":$SIDD,")" || return 1
	iopfctl faults "$SID" --store "$STORE" | grep -q "answered on upstream's road" || {
		iopfctl faults "$SID" --store "$STORE"
		return 1
	}
}

case_resumes_were_retry() {
	local want=$((N + 1))
	wait_for 10 resumes_at_least RETRY "$want" || true
	expect "RESUME RETRY" "$want" "$(resumes RETRY)" || return 1
	expect "RESUME ABORT" 0 "$(resumes ABORT)" || return 1
	local j
	j=$(iopfctl -j dev list | grep "^{\"sid\":$SIDD,")
	echo "# $j"
	expect "module RESPONSES" "$want" "$(jfield responses "$j")"
}

case_daemon_stops_cleanly() {
	local rc
	kill -TERM "$DPID" || return 1
	wait "$DPID"
	rc=$?
	DPID=
	[ "$rc" -eq 0 ] || { echo "iopfd exited with $rc; its log:"; cat "$W/iopfd.log"; return 1; }
	tail -n 1 "$STORE" | grep -q '"event":"stop"' || { echo "no stop line in the store"; return 1; }
	grep -q '"event":"iommufd_down"' "$STORE" || { echo "no iommufd_down line"; return 1; }
	# the VMM left: the device is unbridged (the module no longer pinned)
	local j
	j=$(iopfctl -j dev list | grep "^{\"sid\":$SIDD,")
	expect "bridge after iopfd" false "$(jfield bridge "$j")" || { echo "# $j"; return 1; }
}

CASES="load_module daemon_sets_up_the_road injected_requests_mapped stalled_access_completes
store_has_every_request resumes_were_retry daemon_stops_cleanly unload_module dmesg_clean"

ktap_begin 9
if [ ! -e /dev/iommu ]; then
	why="no /dev/iommu: the kernel has no iommufd (CONFIG_IOMMUFD)"
	for c in $CASES; do
		ktap_skip "$c" "$why"
	done
	ktap_end
	exit $?
fi
dmesg_mark
ktap_case load_module load_module
ktap_case daemon_sets_up_the_road case_daemon_sets_up_the_road
ktap_case injected_requests_mapped case_injected_requests_mapped
ktap_case stalled_access_completes case_stalled_access_completes
ktap_case store_has_every_request case_store_has_every_request
ktap_case resumes_were_retry case_resumes_were_retry
ktap_case daemon_stops_cleanly case_daemon_stops_cleanly
ktap_case unload_module unload_module
ktap_case dmesg_clean check_dmesg_clean
daemon_alive && kill -TERM "$DPID"
ktap_end
