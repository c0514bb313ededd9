#!/usr/bin/env bash
# checkpatch.pl --strict over the module's sources, from the newest kernel
# source (scripts/source-kernel.sh source: Debian sid's linux-source-X.Y,
# the one the debug cell builds; fetched and unpacked once, cached).
set -euo pipefail
cd "$(dirname "$0")/.."

src=$(scripts/source-kernel.sh source) || { echo "checkpatch: no kernel source" >&2; exit 1; }
[ -f "$src/scripts/checkpatch.pl" ] || { echo "checkpatch: no $src/scripts/checkpatch.pl" >&2; exit 1; }

# uapi and compat.h are exempt from the BIT()/u32 hints: user space has neither
out=$(perl "$src/scripts/checkpatch.pl" --no-tree --strict --terse --show-types \
	--ignore BIT_MACRO,PREFER_KERNEL_TYPES \
	-f kmod/*.c kmod/*.h kmod/include/iopf_testbed/*.h \
	kmod/include/uapi/linux/*.h) || true
if grep -v '^total: 0 errors, 0 warnings, 0 checks' <<<"$out" | grep -q .; then
	grep -v '^total: 0 errors, 0 warnings, 0 checks' <<<"$out" >&2
	echo "checkpatch: FAIL" >&2
	exit 1
fi
echo "checkpatch: clean ($(basename "$src"))"
