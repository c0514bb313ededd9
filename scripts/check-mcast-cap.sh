#!/usr/bin/env bash
# The module must refuse to build on a kernel without GENL_MCAST_CAP_NET_ADMIN
# (it would open the "faults" group to everyone). No kernel we boot lacks the
# flag, so kmod/netlink.c's #error is proved by compiling netlink.o with
# IOPF_TEST_NO_MCAST_CAP, which takes the same branch; and a plain compile of
# the same file must succeed (the test is not fooled by a broken tree).
#
#   scripts/check-mcast-cap.sh SERIES      (6.1, 6.12, debug)
#
# Exit 0: the build failed loudly, with the message, and only with the knob.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 SERIES" >&2; exit 2; }

eval "$("$ROOT/scripts/kernels.sh" env "$1")"
out=$ROOT/build/mcast-cap-$KREL
rm -rf "$out"
mkdir -p "$out"
cp -a "$ROOT/Kbuild" "$ROOT/kmod" "$out/"
[ ! -d "$ROOT/tests/common" ] || { mkdir -p "$out/tests"; cp -a "$ROOT/tests/common" "$out/tests/"; }

obj=kmod/netlink.o
if ! make -C "$KDIR" M="$out" W=1 "$obj" >"$out/plain.log" 2>&1; then
	cat "$out/plain.log" >&2
	echo "check-mcast-cap.sh: FAIL: $obj does not build even with the flag ($KREL)" >&2
	exit 1
fi
rm -f "$out/$obj"
if make -C "$KDIR" M="$out" W=1 KCFLAGS=-DIOPF_TEST_NO_MCAST_CAP "$obj" >"$out/nocap.log" 2>&1; then
	echo "check-mcast-cap.sh: FAIL: $obj built without GENL_MCAST_CAP_NET_ADMIN ($KREL)" >&2
	exit 1
fi
if ! grep -q 'error: #error "GENL_MCAST_CAP_NET_ADMIN is missing' "$out/nocap.log"; then
	cat "$out/nocap.log" >&2
	echo "check-mcast-cap.sh: FAIL: the build failed, but not with the #error ($KREL)" >&2
	exit 1
fi
echo "check-mcast-cap.sh: ok ($KREL): without GENL_MCAST_CAP_NET_ADMIN the build stops:"
grep 'error: #error' "$out/nocap.log" | head -n1
