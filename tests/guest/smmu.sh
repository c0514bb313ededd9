#!/bin/sh
# Beside the real driver (arm64 guests, iopf.run=smmu.sh): QEMU's emulated
# SMMUv3 must be probed by arm-smmu-v3, a virtio-rng PCI device
# (disable-legacy=on,iommu_platform=on: its DMA goes through the SMMU) must sit
# in an IOMMU group of a DMA domain behind it, and /dev/hwrng must read. Then,
# while a background reader keeps pulling from /dev/hwrng, the module loads,
# iopf_testbed_test runs, and the module unloads: the traffic must keep going
# through every phase, the SMMU must log no event, and the kernel log stays
# clean. Prints KTAP; the SMMU's probe lines are diagnostics of smmu_probed.
. /opt/iopf/tests/lib.sh

RNG_COUNT=$IOPF_STATE/rng-reads
TESTBED_TEST=$IOPF_BIN/iopf_testbed_test

ktap_begin 9

# The driver's own probe lines, and its binding in sysfs
smmu_probed() {
	local lines
	lines=$(dmesg | grep 'arm-smmu-v3')
	echo "$lines"
	[ -n "$lines" ] || { echo "no arm-smmu-v3 line in the kernel log"; return 1; }
	ls -d /sys/bus/platform/drivers/arm-smmu-v3/*smmuv3* ||
		{ echo "no smmuv3 device bound to arm-smmu-v3"; return 1; }
	! echo "$lines" | grep -qi 'fail\|error' || { echo "arm-smmu-v3 reported an error"; return 1; }
}
ktap_case smmu_probed smmu_probed

# The virtio-rng PCI function (virtio 1.0 id 0x1044): behind the SMMU, in a
# group with a translating (DMA) domain, and the current hwrng
rng_dev=
rng_behind_smmu() {
	local d iommu group type
	load_extra_modules || return 1
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1044 ] && rng_dev=$d
	done
	[ -n "$rng_dev" ] || { echo "no virtio-rng PCI device (1af4:1044)"; ls /sys/bus/pci/devices; return 1; }
	echo "device: ${rng_dev##*/}"
	[ -e "$rng_dev/iommu_group" ] || { echo "${rng_dev##*/} has no IOMMU group"; return 1; }
	group=$(readlink "$rng_dev/iommu_group")
	group=${group##*/}
	iommu=$(readlink "$rng_dev/iommu")
	type=$(cat "/sys/kernel/iommu_groups/$group/type")
	echo "iommu group $group, type $type, iommu ${iommu##*/}"
	case ${iommu##*/} in
	smmu3.*) ;;
	*) echo "translated by '${iommu##*/}', not the SMMUv3"; return 1 ;;
	esac
	case $type in
	DMA | DMA-FQ) ;;
	*) echo "domain type $type does not translate"; return 1 ;;
	esac
	wait_for 5 grep -q virtio_rng /sys/class/misc/hw_random/rng_current || {
		echo "current hwrng: $(cat /sys/class/misc/hw_random/rng_current 2>&1)"
		return 1
	}
}
ktap_case rng_behind_smmu rng_behind_smmu

hwrng_reads() {
	local n
	n=$(dd if=/dev/hwrng bs=256 count=16 2>/dev/null | wc -c)
	echo "read $n bytes from /dev/hwrng"
	[ "$n" -eq 4096 ]
}
ktap_case hwrng_reads hwrng_reads

# One byte appended per successful 512-byte read, so the count survives the reader.
: >"$RNG_COUNT"
(
	while dd if=/dev/hwrng of=/dev/null bs=512 count=1 2>/dev/null; do
		printf x >>"$RNG_COUNT"
	done
) &
reader=$!
reads() { wc -c <"$RNG_COUNT"; }

# flowing PHASE: reads went on since the last call (polls up to 5 s)
last=0
flowing() {
	local n
	wait_for 5 sh -c "[ \$(wc -c <$RNG_COUNT) -gt $last ]"
	n=$(reads)
	echo "$1: $n reads so far (+$((n - last)))"
	[ "$n" -gt "$last" ] || { echo "hwrng traffic stopped during $1"; return 1; }
	last=$n
}

ktap_case load_module load_module || true
flowing "load" >"$IOPF_STATE/flow" 2>&1 || flow_bad=1
if module_loaded && [ -x "$TESTBED_TEST" ]; then
	ktap_subtest iopf_testbed_test "$TESTBED_TEST" || true
else
	ktap_fail iopf_testbed_test "module not loaded or no $TESTBED_TEST"
fi
flowing "iopf_testbed_test" >>"$IOPF_STATE/flow" 2>&1 || flow_bad=1
if module_loaded; then
	ktap_case unload_module unload_module || true
else
	ktap_fail unload_module "module not loaded"
fi
flowing "unload" >>"$IOPF_STATE/flow" 2>&1 || flow_bad=1

hwrng_kept_flowing() {
	cat "$IOPF_STATE/flow"
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null
	[ -z "${flow_bad:-}" ]
}
ktap_case hwrng_kept_flowing hwrng_kept_flowing

# A translation fault or a queue error of the real driver would be logged as
# an event; the module runs beside it and must not disturb it.
smmu_quiet() {
	local ev
	ev=$(dmesg | grep 'arm-smmu-v3' | grep -i 'event\|fault\|abort\|gerror' | grep -v 'entries for evtq')
	[ -z "$ev" ] || { echo "$ev"; return 1; }
}
ktap_case smmu_no_events smmu_quiet

ktap_case dmesg_clean check_dmesg_clean
ktap_end
