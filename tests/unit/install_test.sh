#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `cmake --install` puts every deliverable in place: the programs, the man
# pages, the bash completions, the unit generated for the prefix and the
# modules-load.d file. The unit's hardening must keep systemd-analyze's
# exposure at 2.0 or below ("OK"); the man pages must format without warnings;
# the completion must complete.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

DESTDIR=$dest cmake --install "$build" >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; fail "cmake --install"; }
rm -f "$dest.log"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
root=$dest$prefix
for f in bin/iopfctl bin/iopfd share/man/man8/iopfctl.8 share/man/man8/iopfctl-scenario.8 share/man/man8/iopfd.8 \
	share/man/man5/iopfd.conf.5 share/bash-completion/completions/iopfctl \
	share/bash-completion/completions/iopfd lib/systemd/system/iopfd.service \
	lib/modules-load.d/iopf_testbed.conf; do
	[ -e "$root/$f" ] || fail "not installed: $prefix/$f"
done

unit=$root/lib/systemd/system/iopfd.service
grep -q "^ExecStart=$prefix/bin/iopfd --config " "$unit" || fail "ExecStart is not under $prefix"
! grep -n '@[A-Z_]*@' "$unit" || fail "unsubstituted @VAR@ in the unit"
grep -q '^Type=notify$' "$unit" || fail "not Type=notify"
grep -q '^RestartPreventExitStatus=.*\b78\b' "$unit" || fail "a config error (78) would restart"
! grep -q '^ExecStartPre=-' "$unit" || fail "a pre-start that may fail silently"
grep -qx iopf_testbed "$root/lib/modules-load.d/iopf_testbed.conf" || fail "modules-load.d file"
if systemd-analyze --version >/dev/null 2>&1; then
	systemd-analyze security --offline=yes --threshold=20 "$unit" >"$dest/sec" 2>&1 ||
		{ tail -n 25 "$dest/sec"; fail "systemd-analyze security: exposure above 2.0"; }
	tail -n 1 "$dest/sec"
else
	echo "systemd-analyze not available: exposure not checked"
fi

if command -v groff >/dev/null; then
	for m in "$root"/share/man/man*/*; do
		w=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$m" 2>&1)
		[ -z "$w" ] || fail "$(basename "$m"): $w"
	done
fi

# The completion, with bash-completion's two helpers stubbed
out=$(bash -c '
	_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
	_filedir() { COMPREPLY=(FILE); }
	compopt() { :; }
	. "$1"
	c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _iopfctl; echo "${COMPREPLY[*]}"; }
	c iopfctl d
	c iopfctl -j dev ""
	c iopfctl dev set 0x10 --
	c iopfctl flags set 0x10 --flags nested,l
	c iopfctl inject 0x10 --ev
	c iopfctl inject 0x10 --event p
	c iopfctl acc
	c iopfctl access 0x10 --st
	c iopfctl map 0x10 --stage ""
	c iopfctl dev set 0x10 --stage-mode ne
	c iopfctl dev set 0x10 --bridge o
	c iopfctl sce
	c iopfctl scenario ""
	c iopfctl scenario run a.yaml --j
	c iopfctl scenario run --json ""
	c iopfctl scenario run a.yaml --delivery ""
	COMP_WORDS=(iopfd --che); COMP_CWORD=1; _iopfd; echo "${COMPREPLY[*]}"
' sh "$root/share/bash-completion/completions/iopfctl")
want='dev decode
add del delete set list show ls
--pending-limit --timeout-ms --stage-mode --bridge --sid --help
nested,l1 nested,l2
--event
permission
access accesses
--stall
1 2
nested
on off
scenario
run check validate table
--json
FILE
netlink iommufd
--check-config'
[ "$out" = "$want" ] || fail "completion: got
$out"
echo "install: OK ($prefix)"
