#!/usr/bin/env bash
# Build the guest's initramfs (cpio.gz): static busybox, /init and the helpers
# from tests/guest/, the scenarios of tests/scenarios/ (in /opt/iopf/scenarios),
# the module, and the test programs with their libraries.
#
#   scripts/mkinitramfs.sh -o OUT.cpio.gz [-a ARCH] [-m iopf_testbed.ko] [-k KO]... [-f SRC[:DEST]]... [PROGRAM...]
#
#   -a  x86_64 (default) or arm64: the guest's architecture. arm64 takes
#       busybox from Debian's busybox-static:arm64 (downloaded once into the
#       cache) and finds the programs' libraries with the cross readelf in
#       the multiarch directories (the host's ldd can't read arm64 binaries)
#   -k  an in-tree module (.ko or .ko.xz, e.g. from `kernels.sh modules`),
#       unpacked into /lib/modules/extra/; the guest's load_extra_modules
#       inserts them in the order given
#   -m  the module, installed as /lib/modules/iopf_testbed.ko (without it the
#       suite's load_module fails: useful to prove that a missing module fails)
#   -f  an extra file (DEST defaults to /opt/iopf/SRC's name)
#   PROGRAM  copied to /opt/iopf/bin/, plus every library ldd lists and the
#       dynamic loader, at the same paths, so dynamically linked C++ runs as is
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }

out='' module='' extras=() arch=x86_64 kos=()
while getopts "o:a:m:k:f:" opt; do
	case $opt in
	o) out=$OPTARG ;;
	a) arch=$OPTARG ;;
	k) kos+=("$OPTARG") ;;
	m) module=$OPTARG ;;
	f) extras+=("$OPTARG") ;;
	*) die "usage: $0 -o OUT [-m MODULE] [-f SRC[:DEST]]... [PROGRAM...]" ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$out" ] || die "-o OUT is required"

host_busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
# A dynamically linked busybox would need its libc too: insist on the static one.
ldd "$host_busybox" >/dev/null 2>&1 && die "$host_busybox is not static (install busybox-static)"
case $arch in
x86_64 | amd64) arch=x86_64 busybox=$host_busybox ;;
arm64 | aarch64)
	arch=arm64
	command -v aarch64-linux-gnu-readelf >/dev/null ||
		die "aarch64-linux-gnu-readelf not found (apt-get install binutils-aarch64-linux-gnu)"
	# Debian's busybox-static:arm64, unpacked once into the cache. Its
	# version may differ from the host's: the applet symlinks below come from
	# the host's list, and /init's `busybox --install -s` adds any missing.
	bbcache=${IOPF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iopf-testbed}/busybox-arm64
	busybox=$bbcache/bin/busybox
	if [ ! -s "$busybox" ]; then
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/iopf-busybox.XXXXXX")
		sandbox=()
		[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
		(cd "$tmp" && apt-get download -q "${sandbox[@]}" busybox-static:arm64 >&2) ||
			die "apt-get download busybox-static:arm64 failed (dpkg --add-architecture arm64; apt-get update)"
		dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/x"
		mkdir -p "$bbcache/bin"
		cp "$tmp/x/bin/busybox" "$busybox.tmp"
		mv "$busybox.tmp" "$busybox"
		rm -rf "$tmp"
	fi
	;;
*) die "unknown -a $arch (x86_64 or arm64)" ;;
esac
command -v cpio >/dev/null || die "cpio not found"

stage=$(mktemp -d "${TMPDIR:-/tmp}/iopf-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,lib/modules,opt/iopf/bin}

# busybox and one symlink per applet (--list-full gives e.g. usr/bin/awk).
cp "$busybox" "$stage/bin/busybox"
"$host_busybox" --list-full | while read -r applet; do
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

cp "$ROOT/tests/guest/init" "$stage/init"
chmod 0755 "$stage/init"
cp -r "$ROOT/tests/guest" "$stage/opt/iopf/tests"
# The declarative scenarios (tests/guest/scenarios.sh runs them)
cp -r "$ROOT/tests/scenarios" "$stage/opt/iopf/scenarios"

if [ -n "$module" ]; then
	[ -f "$module" ] || die "no module at $module"
	cp "$module" "$stage/lib/modules/iopf_testbed.ko"
fi

# Copy a file to the same path inside the image (libraries, the loader).
copy_same_path() {
	[ -e "$stage$1" ] && return 0
	mkdir -p "$stage$(dirname "$1")"
	cp -L "$1" "$stage$1"
}

# arm64: a library NEEDED by an arm64 ELF, in the multiarch directories
ARM64_LIBDIRS=(/lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
find_arm64_lib() {
	local d
	for d in "${ARM64_LIBDIRS[@]}"; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# The loader and every library an arm64 ELF needs, recursively, copied at
# their paths (the loader finds them there through its default paths).
copy_arm64_deps() {
	local elf=$1 interp lib path
	interp=$(aarch64-linux-gnu-readelf -l "$elf" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	# (libraries have no interpreter; a static program has neither it nor NEEDED)
	if [ -n "$interp" ]; then
		[ -e "$interp" ] || die "$elf: no arm64 loader $interp on the host (apt-get install libc6:arm64)"
		copy_same_path "$interp"
	fi
	for lib in $(aarch64-linux-gnu-readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(find_arm64_lib "$lib") || die "$elf: arm64 library $lib not found in ${ARM64_LIBDIRS[*]}"
		[ -e "$stage$path" ] && continue
		copy_same_path "$path"
		copy_arm64_deps "$path"
	done
}

for prog in "$@"; do
	[ -f "$prog" ] && [ -x "$prog" ] || die "not an executable file: $prog"
	cp "$prog" "$stage/opt/iopf/bin/"
	if [ "$arch" = arm64 ]; then
		aarch64-linux-gnu-readelf -h "$prog" | grep -q 'Machine:.*AArch64' || die "$prog is not an arm64 program"
		copy_arm64_deps "$prog"
		continue
	fi
	# Static programs: ldd says "not a dynamic executable" and fails; nothing to copy.
	libs=$(ldd "$prog" 2>/dev/null) || continue
	grep -q 'not found' <<<"$libs" && die "$prog: missing libraries: $(grep 'not found' <<<"$libs")"
	# "libfoo.so.1 => /path (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs"); do
		copy_same_path "$lib"
	done
done

# In-tree modules, uncompressed (busybox insmod may lack xz), in load order.
if [ ${#kos[@]} -gt 0 ]; then
	mkdir -p "$stage/lib/modules/extra"
	for ko in "${kos[@]}"; do
		[ -f "$ko" ] || die "no module at $ko"
		name=$(basename "${ko%.xz}")
		case $ko in
		*.xz) xz -dc "$ko" >"$stage/lib/modules/extra/$name" ;;
		*.zst) die "zstd-compressed modules are not handled: $ko" ;;
		*) cp "$ko" "$stage/lib/modules/extra/$name" ;;
		esac
		echo "$name" >>"$stage/lib/modules/extra/load-order"
	done
fi

for spec in "${extras[@]}"; do
	src=${spec%%:*}
	dest=/opt/iopf/$(basename "$src")
	[ "$spec" = "$src" ] || dest=${spec#*:}
	[ -e "$src" ] || die "no such file: $src"
	mkdir -p "$stage$(dirname "$dest")"
	cp -rL "$src" "$stage$dest"
done

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner=0:0 --reproducible) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
