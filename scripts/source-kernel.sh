#!/usr/bin/env bash
# A kernel built from Debian's linux-source-X.Y with the host's gcc: tinyconfig
# plus a config fragment, out of tree, cached outside the clone. Used for the
# newest kernel Debian sid carries (the `7.2` series of scripts/kernels.sh, the
# debug cell) and, with ARCH=arm64, for arm64 guests.
#
#   scripts/source-kernel.sh [OPTIONS] build     build unless cached; print the build dir (a KDIR)
#   scripts/source-kernel.sh [OPTIONS] env       build unless cached; print SERIES= KREL= VMLINUZ=
#                                                KDIR= ARCH= CROSS_COMPILE= (quoted for eval)
#   scripts/source-kernel.sh [OPTIONS] release   the kernel release it builds (no build)
#   scripts/source-kernel.sh [OPTIONS] key       the cache key (no build)
#   scripts/source-kernel.sh [OPTIONS] resolve   the source package and version it would use
#   scripts/source-kernel.sh [OPTIONS] source    fetch and unpack the source only; print its dir
#   scripts/source-kernel.sh [OPTIONS] uapi DIR  fetch and unpack; copy iommufd's uAPI into DIR:
#                                                linux/iommufd.h and the in-tree selftest's
#                                                iommufd_test.h (-DIOPF_KERNEL_UAPI=DIR)
#
# OPTIONS (each also an environment variable):
#   --arch A          IOPF_KERNEL_ARCH   x86_64 (default; bzImage) or arm64 (Image,
#                                        CROSS_COMPILE=aarch64-linux-gnu- unless set)
#   --fragment FILE   IOPF_KERNEL_FRAGMENT  merged into tinyconfig (default:
#                                        scripts/debug-kernel.config); every CONFIG_ line
#                                        must survive olddefconfig, or the build fails
#   --source PKG      IOPF_SID_SOURCE    pin the source package, e.g. linux-source-7.2
#                                        (default: the newest linux-source-X.Y in sid)
#   --series NAME     the SERIES= that `env` prints (default: X.Y of the source)
#
# The source comes from Debian sid through a PRIVATE apt configuration (the
# host's apt setup is never changed): a sources list naming the Debian mirror
# the host already uses (IOPF_DEBIAN_MIRROR overrides), suite sid, signed by
# Debian's archive keyring; `apt-get update` into the cache, `apt-get download`.
# The resolved package and version go to stderr on every build/env call.
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/iopf-testbed (IOPF_CACHE overrides):
#   sid-apt/                  the private apt lists and downloaded .debs
#   kernel-src/<pkg>_<ver>/   the unpacked source, one per package version
#   kernel-build/<arch>-<fragment name>-<ver>-<sha of the fragment's config lines>/   the O= build
# A build is reused only when its stamp exists (the whole build succeeded for
# that arch, source version and fragment). Builds are flock'ed per arch and
# fragment (a second caller waits, then finds the cache); the source fetch has
# its own lock. A completed build removes older builds of the same arch and
# fragment. A cold build takes minutes (-j$(nproc), IOPF_JOBS overrides).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOPF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iopf-testbed}
APTDIR=$CACHE/sid-apt

die() { echo "source-kernel.sh: $*" >&2; exit 1; }
log() { echo "source-kernel.sh: $*" >&2; }

arch=${IOPF_KERNEL_ARCH:-x86_64}
fragment=${IOPF_KERNEL_FRAGMENT:-$ROOT/scripts/debug-kernel.config}
srcpkg=${IOPF_SID_SOURCE:-}
series=
while [ $# -gt 1 ]; do
	case $1 in
	uapi) break ;;
	--arch) arch=$2 ;;
	--fragment) fragment=$2 ;;
	--source) srcpkg=$2 ;;
	--series) series=$2 ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
cmd=${1:-build}
[ -f "$fragment" ] || die "no config fragment $fragment"
fragment=$(cd "$(dirname "$fragment")" && pwd)/$(basename "$fragment")

case $arch in
x86_64 | x86 | amd64)
	arch=x86_64 karch=x86_64 image=arch/x86/boot/bzImage target=bzImage cross=${CROSS_COMPILE:-}
	;;
arm64 | aarch64)
	arch=arm64 karch=arm64 image=arch/arm64/boot/Image target=Image
	cross=${CROSS_COMPILE-aarch64-linux-gnu-}
	;;
*) die "unsupported arch '$arch' (x86_64 or arm64)" ;;
esac

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The host tools a kernel build needs, from the host's own apt.
install_deps() {
	local p missing=()
	for p in build-essential flex bison bc libelf-dev libssl-dev xz-utils debian-archive-keyring; do
		installed "$p" || missing+=("$p")
	done
	[ "$arch" != arm64 ] || installed gcc-aarch64-linux-gnu || missing+=(gcc-aarch64-linux-gnu)
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
		$SUDO apt-get update -qq >&2
		$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	} || die "apt-get install ${missing[*]} failed"
}

# --- the private sid apt configuration ----------------------------------------

# The Debian mirror the host already uses: the first URI serving the host's
# own release (one-line .list files and deb822 .sources alike).
host_mirror() {
	local codename f
	[ -z "${IOPF_DEBIAN_MIRROR:-}" ] || { echo "$IOPF_DEBIAN_MIRROR"; return; }
	# shellcheck disable=SC1091 # the host's
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release (set IOPF_DEBIAN_MIRROR)"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case $f in
		*.sources)
			# deb822: paragraphs of Types/URIs/Suites; print the first URI
			# of a "deb" paragraph whose suites include the codename.
			awk -v want="$codename" '
				function flush() {
					if (deb && uri != "" && (" " suites " ") ~ (" " want " ")) { print uri; found = 1; exit }
					deb = 0; uri = ""; suites = ""
				}
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
				tolower($1) == "uris:" { uri = $2 }
				tolower($1) == "suites:" { $1 = ""; suites = $0 }
				tolower($1) == "enabled:" && tolower($2) == "no" { deb = 0 }
				END { if (!found) flush() }' "$f"
			;;
		*)
			# deb [options] URI suite components...
			sed -E 's/#.*//; s/\[[^]]*\]//' "$f" |
				awk -v want="$codename" '$1 == "deb" && $3 == want { print $2; exit }'
			;;
		esac
	done | head -n1 | grep . || die "no Debian mirror for $codename in the host's apt sources (set IOPF_DEBIAN_MIRROR)"
}

APT=()
apt_setup() {
	local mirror
	[ ${#APT[@]} -eq 0 ] || return 0
	mirror=$(host_mirror)
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} sid main" \
		>"$APTDIR/sources.list.new"
	cmp -s "$APTDIR/sources.list.new" "$APTDIR/sources.list" 2>/dev/null ||
		{ mv "$APTDIR/sources.list.new" "$APTDIR/sources.list"; rm -f "$APTDIR/.updated"; }
	rm -f "$APTDIR/sources.list.new"
	APT=(-o Dir::Etc::SourceList="$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists="$APTDIR/lists" -o Dir::Cache="$APTDIR/cache"
		-o Dir::Etc::PreferencesParts=/dev/null -o APT::Architecture=amd64)
	# As root, apt would drop to its sandbox user, which may not reach the cache.
	[ "$(id -u)" -ne 0 ] || APT+=(-o APT::Sandbox::User=root)
}

# apt-get update of the private lists: at most once a day, or when forced.
apt_update() {
	local force=${1:-}
	apt_setup
	if [ -z "$force" ] && [ -n "$(find "$APTDIR/.updated" -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	log "apt-get update (sid, private lists in $APTDIR)"
	if apt-get "${APT[@]}" -qq update >&2; then
		touch "$APTDIR/.updated"
	elif [ -f "$APTDIR/.updated" ]; then
		log "warning: apt-get update failed; using the lists from $(date -r "$APTDIR/.updated")"
	else
		die "apt-get update of the private sid list failed"
	fi
}

# Fetching, resolving and unpacking share one lock.
with_source_lock() {
	mkdir -p "$CACHE"
	(
		flock 8
		"$@"
	) 8>"$CACHE/.source.lock"
}

# "linux-source-7.2 7.2.13-1": the pinned package, or the newest X.Y in sid.
resolve_unlocked() {
	local pkg ver
	apt_update
	pkg=$srcpkg
	if [ -z "$pkg" ]; then
		pkg=$(apt-cache "${APT[@]}" pkgnames linux-source- | grep -E '^linux-source-[0-9]+\.[0-9]+$' |
			sort -V | tail -n1)
		[ -n "$pkg" ] || die "sid carries no linux-source-X.Y"
	fi
	ver=$(apt-cache "${APT[@]}" show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	if [ -z "$ver" ]; then
		# sid moved on, but a pinned source unpacked earlier still builds.
		ver=$(find "$CACHE/kernel-src" -maxdepth 2 -path "*/${pkg}_*/Makefile" 2>/dev/null | head -n1)
		ver=${ver%/Makefile}
		ver=${ver##*/"${pkg}"_}
		[ -n "$ver" ] || die "sid has no $pkg (IOPF_SID_SOURCE/--source), nor has the cache"
		log "warning: sid has no $pkg any more; using the cached $pkg $ver"
	fi
	echo "$pkg $ver"
}
resolve() {
	[ -z "${RESOLVED:-}" ] || { echo "$RESOLVED"; return; }
	with_source_lock resolve_unlocked
}

# Download and unpack the resolved source into kernel-src/<pkg>_<ver>.
unpack_unlocked() {
	local pkg=$1 ver=$2 dir tmp deb
	dir=$CACHE/kernel-src/${pkg}_${ver//[~:]/_}
	[ -f "$dir/Makefile" ] && return 0
	apt_setup
	mkdir -p "$CACHE/kernel-src"
	tmp=$(mktemp -d "$CACHE/kernel-src/tmp.XXXXXX")
	log "downloading $pkg $ver"
	if ! (cd "$tmp" && apt-get "${APT[@]}" -q download "$pkg=$ver" >&2); then
		# The lists may name a version the mirror no longer has.
		apt_update force
		(cd "$tmp" && apt-get "${APT[@]}" -q download "$pkg=$ver" >&2) ||
			{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
	fi
	deb=$(ls "$tmp"/*.deb)
	log "unpacking $pkg $ver into $dir"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/$pkg.tar.xz"
	rm -f "$deb"
	tar -xf "$tmp/usr/src/$pkg.tar.xz" -C "$tmp"
	[ -f "$tmp/$pkg/Makefile" ] || { rm -rf "$tmp"; die "$pkg.tar.xz has no $pkg/Makefile"; }
	rm -rf "$dir"
	mv "$tmp/$pkg" "$dir"
	rm -rf "$tmp"
	# Older versions of the same package are stale now.
	local d
	for d in "$CACHE/kernel-src/${pkg}"_*; do
		[ "$d" = "$dir" ] || rm -rf "$d"
	done
}

RESOLVED=
init_resolved() {
	[ -n "$RESOLVED" ] || RESOLVED=$(resolve)
	read -r PKG VER <<<"$RESOLVED"
	# 7.2.13-1 -> 7.2.13; the series is X.Y
	UPVER=${VER%%-*}
	UPVER=${UPVER%%+*}
	[ -n "$series" ] || series=${PKG#linux-source-}
	SRC=$CACHE/kernel-src/${PKG}_${VER//[~:]/_}
	# Only the config lines count: editing a comment does not rebuild.
	SHA=$(grep -E '^(CONFIG_|# CONFIG_.* is not set)' "$fragment" | sha256sum | cut -c1-12)
	FRAGNAME=$(basename "$fragment" .config)
	KEY=$arch-$FRAGNAME-${VER//[~:]/_}-$SHA
	OUT=$CACHE/kernel-build/$KEY
}

# What `make kernelrelease` will say, without a build (the build checks it).
release() {
	local lv
	lv=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$fragment")
	echo "$UPVER$lv"
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
	done <"$fragment"
	[ ${#bad[@]} -eq 0 ] && return 0
	printf 'source-kernel.sh: config: %s\n' "${bad[@]}" >&2
	return 1
}

make_cmd() {
	MK=(make -C "$SRC" O="$OUT" ARCH="$karch" LOCALVERSION= KBUILD_BUILD_USER=iopf KBUILD_BUILD_HOST=source-kernel)
	[ -z "$cross" ] || MK+=(CROSS_COMPILE="$cross")
}

build_unlocked() {
	local t0 krel jobs
	[ -f "$OUT/.iopf-built" ] && return 0
	with_source_lock unpack_unlocked "$PKG" "$VER"
	jobs=${IOPF_JOBS:-$(nproc)}
	t0=$(date +%s)
	log "building $KEY in $OUT (make -j$jobs, minutes; log: $OUT/build.log)"
	rm -rf "$OUT"
	mkdir -p "$OUT"
	make_cmd
	{
		"${MK[@]}" tinyconfig &&
			"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "$fragment" &&
			"${MK[@]}" olddefconfig
	} >"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log" >&2; die "configuring failed"; }
	check_config "$OUT/.config" || die "the fragment did not survive olddefconfig (see above)"
	# The image and an (empty) modules pass: Module.symvers and the scripts an
	# external module build needs.
	"${MK[@]}" -j"$jobs" "$target" modules modules_prepare >>"$OUT/build.log" 2>&1 ||
		{ tail -n 40 "$OUT/build.log" >&2; die "build failed (log: $OUT/build.log)"; }
	[ -s "$OUT/$image" ] || die "no $image after the build"
	[ -f "$OUT/Module.symvers" ] || die "no Module.symvers after the build"
	krel=$("${MK[@]}" -s kernelrelease)
	[ "$krel" = "$(release)" ] || die "built $krel, expected $(release)"
	echo "$(($(date +%s) - t0))" >"$OUT/.iopf-build-seconds"
	echo "$arch $FRAGNAME" >"$OUT/.iopf-cell"
	echo "$krel" >"$OUT/.iopf-built"
	log "built $krel ($arch) in $(cat "$OUT/.iopf-build-seconds")s"
	# Builds of this arch and fragment for other versions or contents are stale.
	local d
	for d in "$CACHE"/kernel-build/*/; do
		d=${d%/}
		[ "$d" = "$OUT" ] || [ "$(cat "$d/.iopf-cell" 2>/dev/null)" != "$arch $FRAGNAME" ] || rm -rf "$d"
	done
}

locked_build() {
	install_deps
	mkdir -p "$CACHE/kernel-build"
	(
		flock 9
		build_unlocked
	) 9>"$CACHE/kernel-build/.$arch-$FRAGNAME.lock"
}

init_resolved
case $cmd in
build | env)
	log "source: $PKG $VER (sid${IOPF_SID_SOURCE:+, pinned}), arch $arch, fragment $(basename "$fragment")"
	locked_build
	if [ "$cmd" = build ]; then
		echo "$OUT"
	else
		printf 'SERIES=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\nARCH=%q\nCROSS_COMPILE=%q\n' "$series" \
			"$(cat "$OUT/.iopf-built")" "$OUT/$image" "$OUT" "$karch" "$cross"
	fi
	;;
release) release ;;
key) echo "$KEY" ;;
resolve) echo "$PKG $VER" ;;
source)
	with_source_lock unpack_unlocked "$PKG" "$VER"
	echo "$SRC"
	;;
uapi)
	# Both are arch independent (linux/ioctl.h and linux/types.h are the
	# only includes): no headers_install of the whole tree needed.
	[ $# -eq 2 ] || die "usage: uapi DIR"
	with_source_lock unpack_unlocked "$PKG" "$VER"
	mkdir -p "$2/linux"
	cp "$SRC/include/uapi/linux/iommufd.h" "$2/linux/iommufd.h"
	cp "$SRC/drivers/iommu/iommufd/iommufd_test.h" "$2/iommufd_test.h"
	echo "$2"
	;;
*) die "unknown command '$cmd' (build|env|release|key|resolve|source)" ;;
esac
