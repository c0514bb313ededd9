#!/usr/bin/env bash
# Install everything the build, the unit tests and the QEMU suite need on a
# fresh Debian 12 machine. Idempotent: apt-get skips what is already there.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config
	libnl-3-dev libnl-genl-3-dev libfmt-dev libboost-program-options-dev catch2
	qemu-system-x86 busybox-static cpio zstd xz-utils kmod
	linux-headers-amd64 linux-headers-6.12-amd64
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
