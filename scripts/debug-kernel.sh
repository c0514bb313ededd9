#!/usr/bin/env bash
# The debug kernel: Debian's linux-source-6.12 built from tinyconfig plus
# scripts/debug-kernel.config (KASAN, lockdep, atomic-sleep checks, kmemleak,
# KUnit, hung-task detection, and what the guest needs), for the guest suite
# under every checker (scripts/debug-run.sh).
#
#   scripts/debug-kernel.sh [build]   build unless cached; print the build dir (a KDIR)
#   scripts/debug-kernel.sh env       build unless cached; print SERIES= KREL= VMLINUZ= KDIR=
#   scripts/debug-kernel.sh release   the kernel release it builds (no build)
#   scripts/debug-kernel.sh key       the cache key: <source package version>-<fragment sha>
#
# scripts/kernels.sh answers `env debug` / `release debug` through this script,
# so scripts/build-module.sh debug and scripts/run-qemu.sh debug just work.
#
# Cache: the source is unpacked once per package version into
# .cache/debug-kernel/src-<version>/ and built out of tree (O=) into
# .cache/debug-kernel/build-<key>/; a build is reused only when its stamp file
# exists, i.e. the whole build succeeded for that exact package version and
# fragment. Old build directories are removed when a new one completes.
# A cold build takes minutes (make -j$(nproc)); run it in the background
# in CI if the step has a shorter timeout.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$ROOT/.cache/debug-kernel
FRAGMENT=$ROOT/scripts/debug-kernel.config
SRCPKG=linux-source-6.12
TARBALL=/usr/src/$SRCPKG.tar.xz

die() { echo "debug-kernel.sh: $*" >&2; exit 1; }
log() { echo "debug-kernel.sh: $*" >&2; }

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The source tarball and the host tools a kernel build needs, from apt.
install_deps() {
	local p missing=()
	for p in "$SRCPKG" build-essential flex bison bc libelf-dev libssl-dev xz-utils; do
		installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
		$SUDO apt-get update -qq >&2
		$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	} || die "apt-get install ${missing[*]} failed"
}

# 6.12.117-1~deb12u1, as a path component
pkg_version() {
	local v
	v=$(dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null) || die "$SRCPKG is not installed"
	echo "${v//[~:]/_}"
}

key() {
	local sha
	sha=$(sha256sum "$FRAGMENT" | cut -c1-12)
	echo "$(pkg_version)-$sha"
}

srcdir() { echo "$CACHE/src-$(pkg_version)"; }
builddir() { echo "$CACHE/build-$(key)"; }

# VERSION.PATCHLEVEL.SUBLEVEL from the package version (6.12.117-1~deb12u1)
# plus the fragment's CONFIG_LOCALVERSION: what `make kernelrelease` says,
# without a build (the build checks that they agree).
release() {
	local v lv
	v=$(dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null) || die "$SRCPKG is not installed"
	lv=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$FRAGMENT")
	echo "${v%%-*}$lv"
}

unpack() {
	local src tmp
	src=$(srcdir)
	[ -f "$src/Makefile" ] && return 0
	[ -f "$TARBALL" ] || die "no $TARBALL (is $SRCPKG installed?)"
	log "unpacking $TARBALL into $src"
	tmp=$(mktemp -d "$CACHE/src.tmp.XXXXXX")
	tar -xf "$TARBALL" -C "$tmp"
	[ -f "$tmp/$SRCPKG/Makefile" ] || die "$TARBALL has no $SRCPKG/Makefile"
	rm -rf "$src"
	mv "$tmp/$SRCPKG" "$src"
	rm -rf "$tmp"
}

# Every line of the fragment must be in the final .config: olddefconfig
# drops what a missing dependency forbids, silently.
check_config() {
	local cfg=$1 line name bad=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF "$line" "$cfg" || bad+=("want '$line', have '$(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo unset)'")
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			! grep -q "^$name=" "$cfg" || bad+=("want '$line', have '$(grep "^$name=" "$cfg")'")
			;;
		esac
	done <"$FRAGMENT"
	[ ${#bad[@]} -eq 0 ] && return 0
	printf 'debug-kernel.sh: config: %s\n' "${bad[@]}" >&2
	return 1
}

build() {
	local src out t0 krel jobs
	install_deps
	mkdir -p "$CACHE"
	src=$(srcdir) out=$(builddir)
	[ -f "$out/.iopf-built" ] && return 0
	unpack
	jobs=$(nproc)
	t0=$(date +%s)
	log "building $(key) in $out (make -j$jobs, several minutes; log: $out/build.log)"
	rm -rf "$out"
	mkdir -p "$out"
	local mk=(make -C "$src" O="$out" LOCALVERSION= KBUILD_BUILD_USER=iopf KBUILD_BUILD_HOST=debug-kernel)
	{
		"${mk[@]}" tinyconfig &&
			"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$FRAGMENT" &&
			"${mk[@]}" olddefconfig
	} >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; die "configuring failed"; }
	check_config "$out/.config" || die "the fragment did not survive olddefconfig (see above)"
	# bzImage and an (empty) modules pass: Module.symvers and the scripts an
	# external module build needs.
	"${mk[@]}" -j"$jobs" bzImage modules modules_prepare >>"$out/build.log" 2>&1 ||
		{ tail -n 40 "$out/build.log" >&2; die "build failed (log: $out/build.log)"; }
	[ -s "$out/arch/x86/boot/bzImage" ] || die "no bzImage after the build"
	[ -f "$out/Module.symvers" ] || die "no Module.symvers after the build"
	krel=$("${mk[@]}" -s kernelrelease)
	[ "$krel" = "$(release)" ] || die "built $krel, expected $(release)"
	echo "$(($(date +%s) - t0))" >"$out/.iopf-build-seconds"
	echo "$krel" >"$out/.iopf-built"
	log "built $krel in $(cat "$out/.iopf-build-seconds")s"
	# Builds for other fragments or package versions are stale now.
	local d
	for d in "$CACHE"/build-*; do
		[ "$d" = "$out" ] || rm -rf "$d"
	done
	for d in "$CACHE"/src-*; do
		[ "$d" = "$src" ] || rm -rf "$d"
	done
}

# One builder at a time: a second caller waits, then finds the cache.
locked_build() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	build
	exec 9>&-
}

cmd=${1:-build}
case $cmd in
build)
	locked_build
	builddir
	;;
env)
	locked_build
	out=$(builddir)
	printf 'SERIES=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\n' debug "$(cat "$out/.iopf-built")" \
		"$out/arch/x86/boot/bzImage" "$out"
	;;
release) release ;;
key) key ;;
*) die "unknown command '$cmd' (build|env|release|key)" ;;
esac
