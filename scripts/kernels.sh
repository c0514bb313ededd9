#!/usr/bin/env bash
# The kernels the guest suite boots, one per series.
#
#   scripts/kernels.sh [fetch] [SERIES...]  fetch or build (cache hit: nothing to do), print a table
#   scripts/kernels.sh list                 the Debian series: 6.1 6.12
#   scripts/kernels.sh matrix               the default matrix: 6.1 6.12 and the newest (7.2)
#   scripts/kernels.sh newest               the newest series Debian sid has the source of
#   scripts/kernels.sh release SERIES       the kernel release of SERIES (no download, no build)
#   scripts/kernels.sh env SERIES           fetch or build if needed, print KREL= VMLINUZ= KDIR=
#                                           (and APPEND=, kernel arguments the series needs)
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

# Series built from source: X.Y with X >= 7 (Debian's own images stop at 6.12
# here), or `debug`, the newest of them.
source_series() { [ "$1" = debug ] || [[ $1 =~ ^([7-9]|[1-9][0-9])\.[0-9]+$ ]]; }

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
	IOPF_SID_SOURCE=linux-source-$s "$ROOT/scripts/source-kernel.sh" --series "$s" "$@"
}

die() { echo "kernels.sh: $*" >&2; exit 1; }

# Debian's meta package per series; its one dependency names the newest ABI.
meta_package() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) die "unknown kernel series '$1' (known: ${SERIES[*]}, 7.x built from source, debug)" ;;
	esac
}

# linux-image-amd64 -> linux-image-6.1.0-56-amd64 -> 6.1.0-56-amd64
release() {
	! source_series "$1" || { source_kernel "$1" release; return; }
	local meta pkg
	meta=$(meta_package "$1")
	pkg=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -n1)
	[ -n "$pkg" ] || die "apt-cache cannot resolve $meta (run apt-get update or scripts/install-deps.sh)"
	local krel=${pkg#linux-image-}
	# A meta package moving to another series would silently change what we test.
	[[ $krel == "$1".* ]] || die "$meta resolves to $krel, not a $1 kernel"
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

# KEY=value lines, quoted for eval.
print_env() {
	if source_series "$1"; then
		source_kernel "$1" env
		# The KASAN kernel's boot sometimes "succeeds" in calibrating the TSC
		# against the PIT under TCG at a fraction of its rate (seen: 401 MHz
		# for 2593), and the refined calibration won't fix a deviation over
		# 1%: guest time would run ~6x fast. kasan_multi_shot: every report,
		# not only the first; log_buf_len: KUnit at every load, verbose checkers.
		printf 'APPEND=%q\n' "clocksource=hpet kasan_multi_shot log_buf_len=4M"
		return
	fi
	local krel kdir
	krel=$(release "$1")
	fetch "$krel"
	kdir=/usr/src/linux-headers-$krel
	[ -f "$kdir/Makefile" ] ||
		die "$kdir missing: run scripts/install-deps.sh (installs linux-headers-$krel)"
	printf 'SERIES=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\nAPPEND=\n' "$1" "$krel" "$(vmlinuz_path "$krel")" "$kdir"
}

mkdir -p "$CACHE"
cmd=${1:-fetch}
[ $# -gt 0 ] && shift
case $cmd in
list) echo "${SERIES[*]}" ;;
matrix) echo "${SERIES[*]} $(newest)" ;;
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
			printf '%-5s %-24s %s\n' "$s" "$KREL" "$VMLINUZ"
		)
	done
	;;
*) die "unknown command '$cmd' (fetch|list|matrix|newest|release|env)" ;;
esac
