#!/usr/bin/env bash
# The kernels the guest suite boots, one per series.
#
#   scripts/kernels.sh [fetch] [SERIES...]  fetch or build (cache hit: nothing to do), print a table
#   scripts/kernels.sh list                 the Debian series: 6.1 6.12
#   scripts/kernels.sh matrix               the default matrix: 6.1 6.12 and the newest (7.2),
#                                           then arm64-6.12 and arm64-<newest>
#   scripts/kernels.sh list-arm64           the Debian arm64 series: arm64-6.12 arm64-6.1
#   scripts/kernels.sh newest               the newest series Debian sid has the source of
#   scripts/kernels.sh release SERIES       the kernel release of SERIES (no download, no build)
#   scripts/kernels.sh modules SERIES M...  the image's .ko files for modules M (with dependencies,
#                                           in load order; none when built in)
#   scripts/kernels.sh env SERIES           fetch or build if needed, print KREL= VMLINUZ= KDIR=
#                                           ARCH= CROSS_COMPILE= (for make and the tool chain),
#                                           MODROOT= (a root with the image's in-tree modules,
#                                           Debian arm64 only) and APPEND= (kernel arguments)
#
# arm64 series (arm64-6.1, arm64-6.12: Debian's arm64 images; arm64-X.Y with
# X >= 7: built from sid's linux-source-X.Y with aarch64-linux-gnu- and
# scripts/arm64-kernel.config) boot under qemu-system-aarch64 -M virt,iommu=smmuv3.
# Their images, headers and the in-tree modules the SMMU test loads come from
# `apt-get download PKG:arm64` (dpkg --add-architecture arm64, which
# scripts/install-deps.sh does) unpacked into the cache with the host's
# linux-kbuild: the headers' absolute `include` is rewritten to point there.
#
# 6.1 and 6.12 are Debian's images (headers from apt, scripts/install-deps.sh).
# Any other X.Y (7.2 today) is built from Debian sid's linux-source-X.Y by
# scripts/source-kernel.sh with the host's gcc, from tinyconfig plus
# scripts/debug-kernel.config: the debug cell (KASAN, lockdep, atomic-sleep
# checks, kmemleak, KUnit, hung-task detection). `env X.Y` builds it unless
# cached (minutes when cold); `release X.Y` only names it. `debug` is an alias
# of the newest series. IOPF_SID_SOURCE=linux-source-X.Y pins what `newest`
# (and so the default matrix) resolves to.
#
# Other scripts use: eval "$(scripts/kernels.sh env 6.12)"
#
# Debian images are only downloaded and unpacked into
# ${XDG_CACHE_HOME:-~/.cache}/iopf-testbed/kernels/<release>/: the host's /boot
# is never touched (and the host can't load modules anyway).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOPF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iopf-testbed}/kernels
SERIES=(6.1 6.12)
ARM64_SERIES=(arm64-6.12 arm64-6.1)

# arm64-6.12 -> arm64, 6.12 -> x86_64; and the series without its arch prefix
arch_of() { case $1 in arm64-*) echo arm64 ;; *) echo x86_64 ;; esac; }
base_of() { echo "${1#arm64-}"; }

# Series built from source: X.Y with X >= 7 (Debian's own images stop at 6.12
# here), or `debug`, the newest of them.
source_series() { [ "$1" = debug ] || [[ $(base_of "$1") =~ ^([7-9]|[1-9][0-9])\.[0-9]+$ ]]; }

newest() {
	local pkg
	pkg=$("$ROOT/scripts/source-kernel.sh" resolve) || die "cannot resolve the newest source in sid"
	pkg=${pkg%% *}
	echo "${pkg#linux-source-}"
}

# source-kernel.sh for a series built from source
source_kernel() {
	local s=$1
	shift
	[ "$s" != debug ] || s=$(newest)
	if [ "$(arch_of "$s")" = arm64 ]; then
		IOPF_SID_SOURCE=linux-source-$(base_of "$s") IOPF_KERNEL_ARCH=arm64 \
			IOPF_KERNEL_FRAGMENT=$ROOT/scripts/arm64-kernel.config \
			"$ROOT/scripts/source-kernel.sh" --series "$s" "$@"
		return
	fi
	IOPF_SID_SOURCE=linux-source-$s "$ROOT/scripts/source-kernel.sh" --series "$s" "$@"
}

die() { echo "kernels.sh: $*" >&2; exit 1; }

# Debian's meta package per series; its one dependency names the newest ABI.
meta_package() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	arm64-6.1) echo linux-image-arm64:arm64 ;;
	arm64-6.12) echo linux-image-6.12-arm64:arm64 ;;
	*) die "unknown kernel series '$1' (known: ${SERIES[*]} ${ARM64_SERIES[*]}, [arm64-]7.x built from source, debug)" ;;
	esac
}

# linux-image-amd64 -> linux-image-6.1.0-56-amd64 -> 6.1.0-56-amd64
release() {
	! source_series "$1" || { source_kernel "$1" release; return; }
	local meta pkg
	meta=$(meta_package "$1")
	pkg=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-\(amd64\|arm64\)\)\(:arm64\)\?$/\1/p' | head -n1)
	[ -n "$pkg" ] || die "apt-cache cannot resolve $meta (run apt-get update or scripts/install-deps.sh;" \
		"arm64 needs dpkg --add-architecture arm64)"
	local krel=${pkg#linux-image-}
	# A meta package moving to another series would silently change what we test.
	[[ $krel == "$(base_of "$1")".* ]] || die "$meta resolves to $krel, not a $1 kernel"
	echo "$krel"
}

vmlinuz_path() { echo "$CACHE/$1/boot/vmlinuz-$1"; }

# Download the image .deb and keep only its /boot (vmlinuz, config, System.map):
# the in-tree modules are not needed, everything we use is built in.
fetch() {
	local krel=$1 vmlinuz
	vmlinuz=$(vmlinuz_path "$krel")
	[ -s "$vmlinuz" ] && return 0
	TMP=$(mktemp -d "$CACHE.tmp.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	echo "kernels.sh: downloading linux-image-$krel" >&2
	# As root, apt would drop to its sandbox user, which may not reach the cache.
	local sandbox=()
	[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
	(cd "$TMP" && apt-get download -q "${sandbox[@]}" "linux-image-$krel" >&2) ||
		die "apt-get download linux-image-$krel failed (stale apt lists? run apt-get update)"
	mkdir -p "$TMP/x"
	dpkg-deb --fsys-tarfile "$TMP"/linux-image-"$krel"_*.deb | tar -x -C "$TMP/x" ./boot
	[ -s "$TMP/x/boot/vmlinuz-$krel" ] || die "no vmlinuz-$krel in linux-image-$krel"
	rm -rf "${CACHE:?}/$krel"
	mv "$TMP/x" "$CACHE/$krel"
	rm -rf "$TMP"
}

# Debian arm64: the image's /boot, the in-tree modules the SMMU test loads
# (virtio, hw_random, with a depmod index), and the headers. The arm64 headers
# package points its scripts/ at linux-kbuild (host tools: the host's arch is
# the one to unpack) and includes the -common tree by absolute path, both
# unpacked into the same root here; the include is rewritten to that root.
fetch_arm64() {
	local krel=$1 root=$CACHE/$1 kbuild common hostarch
	[ -s "$root/.iopf-complete" ] && return 0
	hostarch=$(dpkg --print-architecture)
	common=$(apt-cache depends "linux-headers-$krel:arm64" 2>/dev/null |
		sed -n 's/^ *Depends: <\?\(linux-headers-[^ :>]*-common\)\(:arm64\)\?>\?$/\1/p' | head -n1)
	kbuild=$(apt-cache depends "linux-headers-$krel:arm64" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-kbuild-[^ :]*\)\(:arm64\)\?$/\1/p' | head -n1)
	[ -n "$common" ] && [ -n "$kbuild" ] ||
		die "apt-cache cannot resolve the headers of $krel (dpkg --add-architecture arm64; apt-get update)"
	TMP=$(mktemp -d "$CACHE.tmp.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	echo "kernels.sh: downloading linux-image-$krel, its headers, $common, $kbuild:$hostarch" >&2
	local sandbox=()
	[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
	(cd "$TMP" && apt-get download -q "${sandbox[@]}" "linux-image-$krel:arm64" \
		"linux-headers-$krel:arm64" "$common" "$kbuild:$hostarch" >&2) ||
		die "apt-get download for $krel failed (stale apt lists? run apt-get update)"
	mkdir -p "$TMP/x"
	dpkg-deb --fsys-tarfile "$TMP"/linux-image-"$krel"_*.deb |
		tar -x -C "$TMP/x" --wildcards ./boot "./lib/modules/$krel/modules.*" \
			"./lib/modules/$krel/kernel/drivers/virtio" "./lib/modules/$krel/kernel/drivers/char/hw_random"
	[ -s "$TMP/x/boot/vmlinuz-$krel" ] || die "no vmlinuz-$krel in linux-image-$krel"
	/sbin/depmod -b "$TMP/x" "$krel"
	local deb
	for deb in "$TMP"/linux-headers-*.deb "$TMP"/linux-kbuild-*.deb; do
		dpkg-deb -x "$deb" "$TMP/x"
	done
	local kdir=$TMP/x/usr/src/linux-headers-$krel
	[ -f "$kdir/Makefile" ] || die "no headers Makefile for $krel"
	sed -i "s|^include /usr/src/|include $root/usr/src/|" "$kdir/Makefile"
	echo "$krel" >"$TMP/x/.iopf-complete"
	rm -rf "${CACHE:?}/$krel"
	mv "$TMP/x" "$root"
	rm -rf "$TMP"
}

# KEY=value lines, quoted for eval.
print_env() {
	if source_series "$1"; then
		source_kernel "$1" env
		# The KASAN kernel's boot sometimes "succeeds" in calibrating the TSC
		# against the PIT under TCG at a fraction of its rate (seen: 401 MHz
		# for 2593), and the refined calibration won't fix a deviation over
		# 1%: guest time would run ~6x fast. kasan_multi_shot: every report,
		# not only the first; log_buf_len: KUnit at every load, verbose checkers.
		if [ "$(arch_of "$1")" = arm64 ]; then
			printf 'MODROOT=\nAPPEND=\n'
		else
			printf 'MODROOT=\nAPPEND=%q\n' "clocksource=hpet kasan_multi_shot log_buf_len=4M"
		fi
		return
	fi
	local krel kdir
	krel=$(release "$1")
	if [ "$(arch_of "$1")" = arm64 ]; then
		fetch_arm64 "$krel"
		printf 'SERIES=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\nARCH=arm64\nCROSS_COMPILE=aarch64-linux-gnu-\nMODROOT=%q\nAPPEND=\n' \
			"$1" "$krel" "$(vmlinuz_path "$krel")" "$CACHE/$krel/usr/src/linux-headers-$krel" "$CACHE/$krel"
		return
	fi
	fetch "$krel"
	kdir=/usr/src/linux-headers-$krel
	[ -f "$kdir/Makefile" ] ||
		die "$kdir missing: run scripts/install-deps.sh (installs linux-headers-$krel)"
	printf 'SERIES=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\nARCH=x86_64\nCROSS_COMPILE=\nMODROOT=\nAPPEND=\n' \
		"$1" "$krel" "$(vmlinuz_path "$krel")" "$kdir"
}

mkdir -p "$CACHE"
cmd=${1:-fetch}
[ $# -gt 0 ] && shift
case $cmd in
list) echo "${SERIES[*]}" ;;
list-arm64) echo "${ARM64_SERIES[*]}" ;;
modules)
	# The in-tree module files (with their dependencies, in load order) that
	# the image has as modules; nothing for built-ins or source-built kernels.
	[ $# -ge 2 ] || die "usage: kernels.sh modules SERIES MODULE..."
	eval "$(print_env "$1")"
	shift
	[ -n "$MODROOT" ] || exit 0
	for m in "$@"; do
		# shellcheck disable=SC2153 # KREL comes from print_env
		/sbin/modprobe -d "$MODROOT" -S "$KREL" --show-depends "$m" | sed -n 's/^insmod \([^ ]*\).*/\1/p'
	done | awk '!seen[$0]++'
	;;
matrix)
	n=$(newest)
	echo "${SERIES[*]} $n arm64-6.12 arm64-$n"
	;;
newest) newest ;;
release) [ $# -eq 1 ] || die "usage: kernels.sh release SERIES"; release "$1" ;;
env) [ $# -eq 1 ] || die "usage: kernels.sh env SERIES"; print_env "$1" ;;
fetch)
	if [ $# -eq 0 ]; then
		read -r -a all <<<"$("$0" matrix)"
		set -- "${all[@]}"
	fi
	for s in "$@"; do
		(
			eval "$(print_env "$s")" # sets KREL, VMLINUZ
			# shellcheck disable=SC2153
			printf '%-10s %-26s %s\n' "$s" "$KREL" "$VMLINUZ"
		)
	done
	;;
*) die "unknown command '$cmd' (fetch|list|matrix|newest|release|env)" ;;
esac
