#!/usr/bin/env bash
# Boot one kernel series with an initramfs under QEMU (TCG), run one guest
# script, print its output (KTAP for suite.sh), exit 0 only if the guest
# reported pass. The whole console goes to the log (build/logs/ by default).
#
#   scripts/run-qemu.sh SERIES INITRAMFS [--run SCRIPT] [--timeout S] [--log FILE] [--append ARGS]
#                       [--qemu "QEMU OPTIONS"]
#
# The verdict needs two agreeing signals: the console marker
# "IOPF-GUEST-RESULT: pass" and QEMU's exit status 3 from isa-debug-exit
# (the guest writes 1 to port 0xf4 on pass, 2 on fail); on arm64, the marker
# and the kernel's "reboot: Power down" after it. A plain poweroff,
# a panic (panic=-1 + -no-reboot), a hang (host-side timeout) or a boot that
# never reaches /init leaves no marker: FAIL.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "run-qemu.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: $0 SERIES INITRAMFS [--run SCRIPT] [--timeout S] [--log FILE] [--append ARGS] [--qemu OPTS]"
series=$1 initramfs=$2
shift 2
run=suite.sh timeout_s=300 log='' append='' extra=()
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case $1 in
	--run) run=$2 ;;
	--timeout) timeout_s=$2 ;;
	--log) log=$2 ;;
	# e.g. "oops=panic" to stop at the first oops instead of collecting the rest.
	--append) append=$2 ;;
	# More QEMU options, split on spaces (scripts/bench.sh: -mem-prealloc).
	--qemu) read -r -a extra <<<"$2" ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
[ -f "$initramfs" ] || die "no initramfs at $initramfs"

eval "$("$ROOT/scripts/kernels.sh" env "$series")"
log=${log:-$ROOT/build/logs/qemu-$KREL-${run%.sh}.log}
mkdir -p "$(dirname "$log")"

# KVM is unusable on this kind of host: TCG, explicitly. tsc=reliable keeps
# TCG's jittery TSC from being declared unstable mid-run. quiet keeps the
# console for KTAP (the guest reads its full kernel log with dmesg).
# panic=-1 reboots at once on panic, and -no-reboot turns that into an exit.
# APPEND: what the series needs (scripts/kernels.sh env).
#
# arm64 (ARCH=arm64 from kernels.sh): the virt board with an emulated SMMUv3
# and a virtio-rng PCI device translated through it (tests/guest/smmu.sh),
# console on the PL011. CPU: cortex-a57 (IOPF_ARM64_CPU overrides): `max`
# spends most of its time emulating pointer authentication; the README's
# matrix section has the measurement.
# shellcheck disable=SC2054 # commas inside QEMU options
case ${ARCH:-x86_64} in
x86_64)
	qemu=(qemu-system-x86_64 -accel tcg -m 1024 -smp 2
		-device isa-debug-exit,iobase=0xf4,iosize=0x04)
	console=ttyS0 archappend=tsc=reliable
	;;
arm64)
	qemu=(qemu-system-aarch64 -accel tcg -M virt,iommu=smmuv3 -cpu "${IOPF_ARM64_CPU:-cortex-a57}"
		-m 1024 -smp 2 -device virtio-rng-pci,disable-legacy=on,iommu_platform=on)
	console=ttyAMA0 archappend=
	;;
*) die "unknown ARCH=$ARCH from kernels.sh" ;;
esac
command -v "${qemu[0]}" >/dev/null || die "${qemu[0]} not found (scripts/install-deps.sh)"
set +e
timeout --kill-after=10 "$timeout_s" "${qemu[@]}" \
	-nodefaults -nographic -no-reboot -serial stdio "${extra[@]}" \
	-kernel "$VMLINUZ" -initrd "$initramfs" \
	-append "console=$console $archappend panic=-1 quiet iopf.run=$run ${APPEND:-} $append" \
	</dev/null >"$log" 2>&1
rc=$?
set -e

# The console log without terminal escapes and CRs; firmware output without a
# final newline may share a line with the guest's first marker: split it.
clean() {
	sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[()][A-Z0-9]//g; s/\x1b[A-Za-z=>]//g; s/\r//g' \
		-e 's/\(.\)\(IOPF-GUEST-START:\)/\1\n\2/' "$log"
}

# What the guest script printed (the KTAP for suite.sh): between the markers.
ktap=$(clean | sed -n '/^IOPF-GUEST-START:/,/IOPF-GUEST-RESULT:/p' | grep -v 'IOPF-GUEST-' || true)
[ -z "$ktap" ] || printf '%s\n' "$ktap"
marker=$(clean | sed -n 's/.*IOPF-GUEST-RESULT: \([a-z]*\).*/\1/p' | tail -n1)

fail() {
	echo "run-qemu.sh: FAIL [$KREL, $run]: $*" >&2
	echo "run-qemu.sh: console log: $log" >&2
	exit 1
}
# Without any output the guest script never ran: the end of the console says why.
fail_with_tail() {
	[ -n "$ktap" ] || clean | tail -n 25 | sed 's/^/  | /' >&2
	fail "$@"
}
# arm64 has no isa-debug-exit: QEMU exits 0 on poweroff and on a panic alike
# (-no-reboot). The second signal there is the kernel's own last word: the
# orderly "reboot: Power down" of guest_finish's poweroff after the marker,
# and no panic anywhere.
if [ "${ARCH:-x86_64}" = arm64 ]; then
	case $rc:$marker in
	124:* | 137:*) fail_with_tail "timed out after ${timeout_s}s (guest hung or too slow)" ;;
	0:pass)
		clean | grep -q 'Kernel panic' && fail "marker says pass but the kernel panicked"
		clean | sed -n '/IOPF-GUEST-RESULT: pass/,$p' | grep -q 'reboot: Power down' ||
			fail "marker says pass but the guest did not power down after it"
		exit 0
		;;
	0:fail) fail_with_tail "the guest reported fail" ;;
	*:) fail_with_tail "no verdict marker: boot failure, panic or crash before the end (QEMU exit $rc)" ;;
	*) fail "verdict '$marker' with QEMU exit $rc" ;;
	esac
fi
case $rc:$marker in
3:pass) exit 0 ;;
124:* | 137:*) fail_with_tail "timed out after ${timeout_s}s (guest hung or too slow)" ;;
5:fail | 0:fail) fail_with_tail "the guest reported fail" ;;
0:pass)
	# A kernel without /dev/port can only report on the console; it says so.
	if clean | grep -q 'IOPF-GUEST-EXIT: console-only'; then
		echo "run-qemu.sh: warning: no /dev/port in the guest, verdict from the console only" >&2
		exit 0
	fi
	fail "marker says pass but QEMU exited 0, not through isa-debug-exit"
	;;
*:) fail_with_tail "no verdict marker: boot failure, panic or crash before the end (QEMU exit $rc)" ;;
*) fail "verdict disagrees: marker '$marker', QEMU exit $rc" ;;
esac
