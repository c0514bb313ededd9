#!/usr/bin/env bash
# Build the guest's initramfs (cpio.gz): static busybox, /init and the helpers
# from tests/guest/, the module, and the test programs with their libraries.
#
#   scripts/mkinitramfs.sh -o OUT.cpio.gz [-m iopf_testbed.ko] [-f SRC[:DEST]]... [PROGRAM...]
#
#   -m  the module, installed as /lib/modules/iopf_testbed.ko (without it the
#       suite's load_module fails: useful to prove that a missing module fails)
#   -f  an extra file (DEST defaults to /opt/iopf/SRC's name)
#   PROGRAM  copied to /opt/iopf/bin/, plus every library ldd lists and the
#       dynamic loader, at the same paths, so dynamically linked C++ runs as is
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }

out='' module='' extras=()
while getopts "o:m:f:" opt; do
	case $opt in
	o) out=$OPTARG ;;
	m) module=$OPTARG ;;
	f) extras+=("$OPTARG") ;;
	*) die "usage: $0 -o OUT [-m MODULE] [-f SRC[:DEST]]... [PROGRAM...]" ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$out" ] || die "-o OUT is required"

busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
# A dynamically linked busybox would need its libc too: insist on the static one.
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static (install busybox-static)"
command -v cpio >/dev/null || die "cpio not found"

stage=$(mktemp -d "${TMPDIR:-/tmp}/iopf-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,lib/modules,opt/iopf/bin}

# busybox and one symlink per applet (--list-full gives e.g. usr/bin/awk).
cp "$busybox" "$stage/bin/busybox"
"$busybox" --list-full | while read -r applet; do
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

cp "$ROOT/tests/guest/init" "$stage/init"
chmod 0755 "$stage/init"
cp -r "$ROOT/tests/guest" "$stage/opt/iopf/tests"

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

for prog in "$@"; do
	[ -f "$prog" ] && [ -x "$prog" ] || die "not an executable file: $prog"
	cp "$prog" "$stage/opt/iopf/bin/"
	# Static programs: ldd says "not a dynamic executable" and fails; nothing to copy.
	libs=$(ldd "$prog" 2>/dev/null) || continue
	grep -q 'not found' <<<"$libs" && die "$prog: missing libraries: $(grep 'not found' <<<"$libs")"
	# "libfoo.so.1 => /path (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs"); do
		copy_same_path "$lib"
	done
done

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
