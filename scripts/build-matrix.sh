#!/usr/bin/env bash
# Builds the tree as users build it, with -Werror on (IOPF_WERROR), one
# build directory per configuration under build/: build only, no tests.
#
#   scripts/build-matrix.sh [TYPE:COMPILER ...]     (default: the CI pair)
#   scripts/build-matrix.sh --all                   (Debug, Release and
#                                                    RelWithDebInfo x gcc, clang)
#
# The CI pair, Release:gcc and RelWithDebInfo:clang, covers each compiler at
# -O2 and above (where GCC 12's flow warnings live) at the cost of two
# builds; scripts/test-all.sh's own host build is the unoptimised one.
# IOPF_KERNEL_UAPI=DIR (scripts/source-kernel.sh uapi DIR) builds upstream's
# road too; scripts/test-all.sh passes build/uapi when it made it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
configs=("$@")
if [ "${1:-}" = --all ]; then
	configs=()
	for t in Debug Release RelWithDebInfo; do configs+=("$t:gcc" "$t:clang"); done
fi
[ ${#configs[@]} -gt 0 ] || configs=(Release:gcc RelWithDebInfo:clang)

mkdir -p "$ROOT/build"
rc=0
for c in "${configs[@]}"; do
	type=${c%%:*} cc=${c#*:}
	case $cc in
	gcc) env=(CC=gcc CXX=g++) ;;
	clang) env=(CC=clang CXX=clang++) ;;
	*) echo "build-matrix.sh: unknown compiler '$cc' (gcc or clang)" >&2; exit 2 ;;
	esac
	dir=$ROOT/build/matrix-$type-$cc
	t0=$(date +%s)
	if env "${env[@]}" cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DIOPF_WERROR=ON \
		-DIOPF_KERNEL_UAPI="${IOPF_KERNEL_UAPI:-}" \
		>"$dir.log" 2>&1 && cmake --build "$dir" -j2 >>"$dir.log" 2>&1; then
		echo "$type $cc: built, no warnings ($(($(date +%s) - t0)) s)"
	else
		echo "$type $cc: FAILED ($(($(date +%s) - t0)) s), log: $dir.log"
		{ grep -E 'error:|warning:|CMake Error' "$dir.log" || true; } | head -n 20 | sed 's/^/  | /'
		rc=1
	fi
done
exit $rc
