#!/usr/bin/env bash
# Install everything the build, the unit tests and the QEMU suite need on a
# fresh Debian 12 machine. Idempotent: apt-get skips what is already there.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libnl-3-dev libnl-genl-3-dev libfmt-dev libboost-program-options-dev catch2
	nlohmann-json3-dev libyaml-cpp-dev
	libsystemd-dev systemd groff-base
	qemu-system-x86 busybox-static cpio zstd xz-utils kmod dkms
	# the newest kernel, built from sid's source (scripts/source-kernel.sh)
	flex bison bc libelf-dev libssl-dev debian-archive-keyring
	linux-headers-amd64 linux-headers-6.12-amd64
	# arm64 guests: the cross tool chain and QEMU's virt board
	qemu-system-arm gcc-aarch64-linux-gnu g++-aarch64-linux-gnu binutils-aarch64-linux-gnu
	# scripts/ynl.sh: the kernel's schema and tools/net/ynl, and what they run on
	linux-source-6.12 python3-yaml python3-jsonschema
)
# The arm64 user space links against Debian's arm64 builds of the same
# libraries (multiarch, beside the host's; cmake/aarch64-linux-gnu.cmake).
# Their libc6:arm64 also gives mkinitramfs.sh the arm64 loader and libc.
# yaml-cpp (iopfctl scenario): Debian 12's libyaml-cpp-dev is not Multi-Arch:
# same, so libyaml-cpp-dev:arm64 would remove the host's; the arm64 build uses
# the host package's (architecture independent) headers and the arm64
# library from libyaml-cpp0.7:arm64 (userspace/iopfctl/CMakeLists.txt). Where
# the -dev package is Multi-Arch: same (Debian 13), add libyaml-cpp-dev:arm64.
arm64_pkgs=(libnl-3-dev:arm64 libnl-genl-3-dev:arm64 libfmt-dev:arm64 libboost-program-options-dev:arm64
	libsystemd-dev:arm64 libyaml-cpp0.7:arm64)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
updated=
apt_install() {
	[ $# -gt 0 ] || return 0
	[ -n "$updated" ] || $SUDO apt-get update -qq
	updated=1
	$SUDO apt-get install -y -qq --no-install-recommends "$@"
}

# arm64 packages (the kernels too: scripts/kernels.sh apt-get downloads
# linux-image-*:arm64) need arm64 in dpkg's architectures and in the lists.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	$SUDO dpkg --add-architecture arm64
	$SUDO apt-get update -qq
	updated=1
fi

missing=()
for p in "${pkgs[@]}" "${arm64_pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
apt_install "${missing[@]}"

# The headers meta packages can lag the kernel images scripts/kernels.sh boots
# (installed before a later apt-get update): install the exact headers of each
# release it resolves, so the module is always built for the kernel it runs on.
kernels=$(dirname "${BASH_SOURCE[0]}")/kernels.sh
missing=()
for s in $("$kernels" list); do
	krel=$("$kernels" release "$s" 2>/dev/null) || {
		# No apt lists yet (everything else was already installed): fetch them once.
		[ -n "$updated" ] || $SUDO apt-get update -qq
		updated=1
		krel=$("$kernels" release "$s")
	}
	installed "linux-headers-$krel" || missing+=("linux-headers-$krel")
done
apt_install "${missing[@]}"
