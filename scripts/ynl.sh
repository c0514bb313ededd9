#!/usr/bin/env bash
# The YNL spec, Documentation/netlink/iopf_testbed.yaml, checked and used with
# the kernel's own tools: the schema and tools/net/ynl of Debian's
# linux-source-6.12 (the source scripts/debug-kernel.sh builds).
#
#   scripts/ynl.sh check   validate the spec against genetlink-c.yaml (every
#                          error listed, any error fails), then render its uAPI
#                          header with ynl-gen-c.py and require the same IOPF_*
#                          names and values as kmod/include/uapi/linux/iopf_testbed.h
#   scripts/ynl.sh build   generate the user code (ynl-gen-c.py --mode user),
#                          build libynl and tests/ynl/iopf_ynl.c against them:
#                          build/ynl/iopf_ynl (static), run in the guest by
#                          tests/guest/ynl.sh
#   scripts/ynl.sh src     extract the kernel files (unless done), print the dir
#
# Only what YNL needs is extracted from the tarball (the schemas, tools/net/ynl,
# netlink.h and genetlink.h, MAINTAINERS, which ynl-gen-c.py looks for to find
# the tree's root) into build/ynl/src-<package version>/, once. Generated code
# stays in build/ynl/, never in git. IOPF_YNL_SOURCE=linux-source-X picks
# another Debian source package.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/ynl
SPEC=$ROOT/Documentation/netlink/iopf_testbed.yaml
UAPI=$ROOT/kmod/include/uapi/linux/iopf_testbed.h
SRCPKG=${IOPF_YNL_SOURCE:-linux-source-6.12}
TARBALL=/usr/src/$SRCPKG.tar.xz
# Debian's interpreter, with python3-yaml and python3-jsonschema from apt
PYTHON=${PYTHON:-/usr/bin/python3}

die() { echo "ynl.sh: $*" >&2; exit 1; }

pkg_version() {
	dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null ||
		die "$SRCPKG is not installed (scripts/install-deps.sh)"
}

srcdir() {
	local v
	v=$(pkg_version)
	echo "$OUT/src-${v//[~:]/_}"
}

extract() {
	local src tmp
	src=$(srcdir)
	[ -f "$src/.done" ] && return 0
	[ -f "$TARBALL" ] || die "no $TARBALL"
	tmp=$src.tmp
	rm -rf "$tmp" "$src"
	mkdir -p "$tmp"
	tar -xJf "$TARBALL" -C "$tmp" --strip-components=1 --wildcards \
		'*/MAINTAINERS' '*/Documentation/netlink/*' '*/tools/net/ynl/*' \
		'*/include/uapi/linux/netlink.h' '*/include/uapi/linux/genetlink.h'
	touch "$tmp/.done"
	mv "$tmp" "$src"
}

# The generator moved to tools/net/ynl/pyynl/ynl_gen_c.py in 6.15
generator() {
	local src=$1 g
	for g in tools/net/ynl/ynl-gen-c.py tools/net/ynl/pyynl/ynl_gen_c.py; do
		[ -f "$src/$g" ] && { echo "$src/$g"; return; }
	done
	die "no ynl-gen-c.py in $src"
}

# ynl-gen-c.py validates a spec against ../<protocol>.yaml, as in the kernel
# tree: stage ours at Documentation/netlink/specs/ of the extracted source.
gen() { # MODE... -o FILE
	local src
	src=$(srcdir)
	cp "$SPEC" "$src/Documentation/netlink/specs/iopf_testbed.yaml"
	"$PYTHON" "$(generator "$src")" --spec "$src/Documentation/netlink/specs/iopf_testbed.yaml" "$@"
}

check() {
	local src schema
	src=$(srcdir)
	schema=$src/Documentation/netlink/$(sed -n 's/^protocol: *//p' "$SPEC")
	[ -f "$schema.yaml" ] || die "the spec's protocol has no schema: $schema.yaml"
	echo "schema: $SRCPKG $(pkg_version), ${schema#"$src"/}.yaml"
	"$PYTHON" "$ROOT/tests/ynl/check_spec.py" schema "$schema.yaml" "$SPEC"
	mkdir -p "$OUT/uapi/linux"
	gen --mode uapi --header -o "$OUT/uapi/linux/iopf_testbed.h"
	echo "rendered: ${OUT#"$ROOT"/}/uapi/linux/iopf_testbed.h, by $(generator "$src" | sed "s|^$src/||")"
	"$PYTHON" "$ROOT/tests/ynl/check_spec.py" agree "$OUT/uapi/linux/iopf_testbed.h" "$UAPI"
}

build() {
	local src lib cflags
	src=$(srcdir)
	lib=$src/tools/net/ynl/lib
	mkdir -p "$OUT/gen"
	gen --mode user --header -o "$OUT/gen/iopf_testbed-user.h"
	gen --mode user --source -o "$OUT/gen/iopf_testbed-user.c"
	# As tools/net/ynl/lib/Makefile; the kernel's netlink headers before the
	# host's (libynl follows its kernel), the family's header from kmod/.
	# -Werror for the code the spec made and the client, not for libynl.
	cflags=(-std=gnu11 -O2 -W -Wall -Wextra -Wno-unused-parameter -Wshadow
		-isystem "$src/include/uapi" -I"$ROOT/kmod/include/uapi" -I"$lib" -I"$OUT/gen")
	gcc "${cflags[@]}" -c -o "$OUT/ynl.o" "$lib/ynl.c"
	ar rcs "$OUT/libynl.a" "$OUT/ynl.o"
	gcc "${cflags[@]}" -Werror -c -o "$OUT/iopf_testbed-user.o" "$OUT/gen/iopf_testbed-user.c"
	# Static: the guest needs no libraries for it
	gcc "${cflags[@]}" -Werror -static -o "$OUT/iopf_ynl" "$ROOT/tests/ynl/iopf_ynl.c" \
		"$OUT/iopf_testbed-user.o" "$OUT/libynl.a"
	echo "$OUT/iopf_ynl"
}

case ${1:-} in
src) extract; srcdir ;;
check) extract; check ;;
build) extract; build ;;
*) die "usage: $0 check|build|src" ;;
esac
