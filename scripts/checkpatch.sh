#!/usr/bin/env bash
# checkpatch.pl --strict over the module's sources. checkpatch comes from
# Debian's linux-source-6.12; only the three files it needs are extracted.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=.cache/checkpatch
# The debug kernel's unpacked source has it already (scripts/debug-kernel.sh)
for src in .cache/debug-kernel/src-*; do
	[ -f "$src/scripts/checkpatch.pl" ] && cache=$src
done
if [ ! -f "$cache/scripts/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null || true)
	if [ -z "$tarball" ]; then
		apt-get install -y -qq --no-install-recommends linux-source-6.12 >/dev/null
		tarball=/usr/src/linux-source-6.12.tar.xz
	fi
	mkdir -p "$cache"
	tar -xf "$tarball" -C "$cache" --strip-components=1 \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
fi

# uapi and compat.h are exempt from the BIT()/u32 hints: user space has neither
out=$(perl "$cache/scripts/checkpatch.pl" --no-tree --strict --terse --show-types \
	--ignore BIT_MACRO,PREFER_KERNEL_TYPES \
	-f kmod/*.c kmod/*.h kmod/include/iopf_testbed/*.h \
	kmod/include/uapi/linux/*.h) || true
if grep -v '^total: 0 errors, 0 warnings, 0 checks' <<<"$out" | grep -q .; then
	grep -v '^total: 0 errors, 0 warnings, 0 checks' <<<"$out" >&2
	echo "checkpatch: FAIL" >&2
	exit 1
fi
echo "checkpatch: clean"
