#!/usr/bin/env bash
# The demo: boot a Debian kernel in QEMU and run tests/guest/demo.sh in it
# (iopfd up, flags set, faults injected with iopfctl, what was collected shown
# as a table with a summary).
#
#   scripts/demo.sh [--kernel 6.1|6.12] [--no-deps]
#
# Installs what it needs first (scripts/install-deps.sh, apt: root or sudo)
# unless --no-deps; builds the module for that kernel, the user space, and an
# initramfs; then boots. Exit status: the guest's verdict.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
series=6.12 deps=1
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || { echo "--kernel needs a value" >&2; exit 2; }
		series=$2; shift ;;
	--no-deps) deps= ;;
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
step "building iopfd and iopfctl"
cmake -S . -B build/host >/dev/null
cmake --build build/host -j"$(nproc)" --target iopfd iopfctl >/dev/null
step "building the initramfs"
initramfs=build/initramfs-demo-$KREL.cpio.gz
scripts/mkinitramfs.sh -o "$initramfs" -m "build/kmod-$KREL/iopf_testbed.ko" \
	build/host/userspace/iopfd/iopfd build/host/userspace/iopfctl/iopfctl >/dev/null
step "booting $KREL in QEMU (TCG: a few seconds)"
scripts/run-qemu.sh "$series" "$initramfs" --run demo.sh --timeout 300
