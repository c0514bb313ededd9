#!/usr/bin/env bash
# The Debian kernels the guest suite boots, one per series.
#
#   scripts/kernels.sh [fetch] [SERIES...]  fetch (cache hit: nothing to do) and print a table
#   scripts/kernels.sh list                 the series: 6.1 6.12
#   scripts/kernels.sh release SERIES       the release apt would give us (no download)
#   scripts/kernels.sh env SERIES           fetch if needed, print KREL=... VMLINUZ=... KDIR=...
#
# One more series, not in `list` (nor in the defaults): `debug`, the KASAN/
# lockdep/kmemleak/KUnit kernel scripts/debug-kernel.sh builds from Debian's
# linux-source-6.12. `env debug` builds it unless cached (minutes when cold),
# `release debug` only names it; so build-module.sh and run-qemu.sh take
# `debug` like any series.
#
# Other scripts use: eval "$(scripts/kernels.sh env 6.12)"
#
# The image is only downloaded and unpacked into .cache/kernels/<release>/: the
# host's /boot is never touched (and the host can't load modules anyway). The
# headers come from apt (scripts/install-deps.sh installs the exact package).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$ROOT/.cache/kernels
SERIES=(6.1 6.12)

die() { echo "kernels.sh: $*" >&2; exit 1; }

# Debian's meta package per series; its one dependency names the newest ABI.
meta_package() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) die "unknown kernel series '$1' (known: ${SERIES[*]} debug)" ;;
	esac
}

# linux-image-amd64 -> linux-image-6.1.0-56-amd64 -> 6.1.0-56-amd64
release() {
	[ "$1" != debug ] || { "$ROOT/scripts/debug-kernel.sh" release; return; }
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
	[ "$1" != debug ] || { "$ROOT/scripts/debug-kernel.sh" env; return; }
	local krel kdir
	krel=$(release "$1")
	fetch "$krel"
	kdir=/usr/src/linux-headers-$krel
	[ -f "$kdir/Makefile" ] ||
		die "$kdir missing: run scripts/install-deps.sh (installs linux-headers-$krel)"
	printf 'SERIES=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\n' "$1" "$krel" "$(vmlinuz_path "$krel")" "$kdir"
}

mkdir -p "$CACHE"
cmd=${1:-fetch}
[ $# -gt 0 ] && shift
case $cmd in
list) echo "${SERIES[*]}" ;;
release) [ $# -eq 1 ] || die "usage: kernels.sh release SERIES"; release "$1" ;;
env) [ $# -eq 1 ] || die "usage: kernels.sh env SERIES"; print_env "$1" ;;
fetch)
	[ $# -gt 0 ] || set -- "${SERIES[@]}"
	for s in "$@"; do
		(
			eval "$(print_env "$s")" # sets KREL, VMLINUZ
			# shellcheck disable=SC2153
			printf '%-5s %-24s %s\n' "$s" "$KREL" "$VMLINUZ"
		)
	done
	;;
*) die "unknown command '$cmd' (fetch|list|release|env)" ;;
esac
