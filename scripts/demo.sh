#!/usr/bin/env bash
# The demo: boot a Debian kernel in QEMU and run tests/guest/demo.sh in it
# (iopfd up, flags set, faults injected with iopfctl, what was collected shown
# as a table with a summary).
#
#   scripts/demo.sh [--kernel 6.1|6.12] [--no-deps]
#   scripts/demo.sh --upstream [--no-deps]
#
# --upstream: upstream's road instead (Documentation/upstream-path.md) on the
# 7.2 kernel built from sid's source (minutes the first time): a bridged
# device's stall records read and answered through the kernel's IOPF core
# and iommufd by tests/selftests/iopf_upstream_test, the oracle against
# upstream's own mock included.
#
# Installs what it needs first (scripts/install-deps.sh, apt: root or sudo)
# unless --no-deps; builds the module for that kernel, the user space, and an
# initramfs; then boots. Exit status: the guest's verdict.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
series=6.12 deps=1 upstream=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || { echo "--kernel needs a value" >&2; exit 2; }
		series=$2; shift ;;
	--no-deps) deps= ;;
	--upstream) upstream=1 series=7.2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \?//'; exit 0 ;;
	*) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

step() { printf '\n>>> %s\n' "$*" >&2; }

if [ -n "$deps" ]; then
	step "installing dependencies"
	scripts/install-deps.sh
fi
step "kernel $series"
eval "$(scripts/kernels.sh env "$series")"
step "building the module for $KREL"
scripts/build-module.sh "$series" >/dev/null
if [ -n "$upstream" ]; then
	step "building the iommufd suite against 7.2's uAPI"
	scripts/source-kernel.sh uapi build/uapi >/dev/null
	cmake -S . -B build/host -DIOPF_KERNEL_UAPI="$ROOT/build/uapi" >/dev/null
	cmake --build build/host -j"$(nproc)" --target iopf_upstream_test >/dev/null
	initramfs=build/initramfs-upstream-$KREL.cpio.gz
	scripts/mkinitramfs.sh -o "$initramfs" -m "build/kmod-$KREL/iopf_testbed.ko" \
		build/host/tests/selftests/iopf_upstream_test >/dev/null
	step "booting $KREL in QEMU (TCG, KASAN: about two minutes)"
	exec scripts/run-qemu.sh "$series" "$initramfs" --run upstream.sh --timeout 900
fi
step "building iopfd and iopfctl"
cmake -S . -B build/host >/dev/null
cmake --build build/host -j"$(nproc)" --target iopfd iopfctl >/dev/null
step "building the initramfs"
initramfs=build/initramfs-demo-$KREL.cpio.gz
scripts/mkinitramfs.sh -o "$initramfs" -m "build/kmod-$KREL/iopf_testbed.ko" \
	build/host/userspace/iopfd/iopfd build/host/userspace/iopfctl/iopfctl >/dev/null
step "booting $KREL in QEMU (TCG: a few seconds)"
scripts/run-qemu.sh "$series" "$initramfs" --run demo.sh --timeout 300
