# Helpers for the in-guest test scripts (busybox sh), sourced by /init and by
# every script it runs: suite.sh, e2e.sh, demo.sh.
#
# A script run by /init (kernel command line iopf.run=<script>) prints what it
# wants on the console and exits 0 for pass, non-zero for fail; /init turns
# that into the verdict the host sees (and fails it anyway if the kernel log
# shows an oops or warning). Scripts that report KTAP use ktap_*: their
# "# Totals:" line is what scripts/test-all.sh counts.
#
# Adding a script: drop tests/guest/<name>.sh here (busybox sh; it lands in
# /opt/iopf/tests/), then `scripts/run-qemu.sh SERIES INITRAMFS --run <name>.sh`.
# scripts/test-all.sh runs e2e.sh on every kernel when it exists.

# shellcheck disable=SC2034 # used by the scripts that source this
IOPF_MODULE=/lib/modules/iopf_testbed.ko
IOPF_BIN=/opt/iopf/bin
IOPF_TESTS=/opt/iopf/tests
IOPF_STATE=/tmp/.iopf-guest
mkdir -p "$IOPF_STATE"

# --- the module ------------------------------------------------------------

# insmod our module; loudly say why when it fails (a missing .ko in the
# initramfs, a bad symbol, an init error: the reason is in the kernel log).
load_module() {
	if [ ! -f "$IOPF_MODULE" ]; then
		echo "# ERROR: load_module: $IOPF_MODULE is not in the initramfs"
		return 1
	fi
	local out
	# iopf.quirks= on the kernel command line: a teeth run (scripts/teeth.sh)
	local quirks
	quirks=$(sed -n 's/.*iopf\.quirks=\([^ ]*\).*/\1/p' /proc/cmdline)
	[ -z "$quirks" ] || set -- "$@" "quirks=$quirks"
	if ! out=$(insmod "$IOPF_MODULE" "$@" 2>&1); then
		echo "# ERROR: load_module: insmod $IOPF_MODULE $* failed: $out"
		dmesg | tail -n 20 | sed 's/^/# dmesg: /'
		return 1
	fi
	[ -d /sys/module/iopf_testbed ] || {
		echo "# ERROR: load_module: insmod succeeded but /sys/module/iopf_testbed is missing"
		return 1
	}
}

module_loaded() { [ -d /sys/module/iopf_testbed ]; }

# The in-tree modules scripts/mkinitramfs.sh -k put in /lib/modules/extra, in
# their load order (e.g. virtio-rng and, on 6.1, virtio_pci for smmu.sh).
# Already loaded or built in: nothing to do.
load_extra_modules() {
	local name out
	[ -f /lib/modules/extra/load-order ] || return 0
	while read -r name; do
		[ ! -d "/sys/module/$(echo "${name%.ko}" | tr - _)" ] || continue
		out=$(insmod "/lib/modules/extra/$name" 2>&1) || {
			echo "# ERROR: insmod $name failed: $out"
			return 1
		}
	done </lib/modules/extra/load-order
}

unload_module() {
	local out
	if ! out=$(rmmod iopf_testbed 2>&1); then
		echo "# ERROR: unload_module: rmmod iopf_testbed failed: $out"
		return 1
	fi
}

# --- the kernel log --------------------------------------------------------

# What in the kernel log means the kernel (most likely our module) misbehaved.
# The second half names what the debug kernel's checkers (lockdep, atomic
# sleep, PROVE_RCU, kmemleak) print; most of it also starts with BUG:/WARNING:.
DMESG_BAD='BUG:|WARNING:|Oops|Call Trace|general protection fault|kernel BUG|UBSAN:|KASAN:|'\
'list_(add|del) corruption|refcount_t:|soft lockup|hard LOCKUP|blocked for more than|'\
'rcu_(sched|preempt) (self-)?detected stall|Kernel panic|'\
'possible recursive locking|circular locking dependency|inconsistent lock state|'\
'lock held when returning to user space|INFO: trying to register non-static key|'\
'sleeping function called from invalid context|suspicious RCU usage|suspected memory leak'
# Taint bits that only a kernel bug sets: B bad page, D oops, W warning, L soft lockup.
TAINT_BAD=$(((1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)))

# check_dmesg_clean only looks at what the kernel logged after the last mark,
# so boot noise that isn't ours can't fail a test.
dmesg_mark() {
	cat /proc/sys/kernel/tainted >"$IOPF_STATE/taint"
	echo "<5>iopf-guest: dmesg mark" >/dev/kmsg
}

dmesg_since_mark() {
	dmesg | awk '/iopf-guest: dmesg mark/ { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }'
}

# Fails (and prints the offending lines as KTAP diagnostics) if the kernel
# oopsed, warned or gained a bad taint since the last mark.
check_dmesg_clean() {
	local bad before now gained
	bad=$(dmesg_since_mark | grep -E "$DMESG_BAD")
	before=$(cat "$IOPF_STATE/taint" 2>/dev/null || echo 0)
	now=$(cat /proc/sys/kernel/tainted)
	gained=$(((now & ~before) & TAINT_BAD))
	[ -z "$bad" ] && [ "$gained" -eq 0 ] && return 0
	[ "$gained" -eq 0 ] || echo "# kernel taint gained: $gained (tainted=$now)"
	if [ -n "$bad" ]; then
		echo "# kernel log since the mark (matching: $DMESG_BAD):"
		dmesg_since_mark | grep -E -A 12 "$DMESG_BAD" | head -n 80 | sed 's/^/# /'
	fi
	return 1
}

# --- KTAP ------------------------------------------------------------------
# Counters live in files: results piped through sed would run in subshells.

_ktap_add() { # pass|fail|skip [COUNT]
	local n
	n=$(cat "$IOPF_STATE/$1" 2>/dev/null || echo 0)
	echo $((n + ${2:-1})) >"$IOPF_STATE/$1"
}

# _ktap_add_counts PASS FAIL SKIP: a nested run's leaves into our totals
_ktap_add_counts() {
	_ktap_add pass "$1"
	_ktap_add fail "$2"
	_ktap_add skip "$3"
}
_ktap_get() { cat "$IOPF_STATE/$1" 2>/dev/null || echo 0; }

ktap_begin() { # PLAN
	rm -f "$IOPF_STATE/pass" "$IOPF_STATE/fail" "$IOPF_STATE/skip" "$IOPF_STATE/num"
	echo "$1" >"$IOPF_STATE/plan"
	echo "KTAP version 1"
	echo "1..$1"
}

# ktap_result ok|not_ok|skip NAME [REASON]: one top-level line, numbered in order.
# Leaf counts are the caller's business (ktap_case and ktap_subtest do them).
ktap_result() {
	local n
	_ktap_add num
	n=$(_ktap_get num)
	case $1 in
	ok) echo "ok $n $2" ;;
	skip) echo "ok $n $2 # SKIP ${3:-}" ;;
	*) echo "not ok $n $2${3:+ # $3}" ;;
	esac
}

# ktap_case NAME CMD...: run CMD, its output as diagnostics, one leaf result.
ktap_case() {
	local name="$1" rc
	shift
	if "$@" >"$IOPF_STATE/out" 2>&1; then
		rc=0
	else
		rc=$?
	fi
	sed 's/^#* *//; s/^/# /' "$IOPF_STATE/out"
	if [ $rc -eq 0 ]; then
		_ktap_add pass
		ktap_result ok "$name"
	else
		_ktap_add fail
		ktap_result not_ok "$name" "exit $rc"
	fi
	return $rc
}

# ktap_fail NAME REASON / ktap_skip NAME REASON: a leaf result without running anything.
ktap_fail() { _ktap_add fail; ktap_result not_ok "$1" "$2"; }
ktap_skip() { _ktap_add skip; ktap_result skip "$1" "$2"; }

# ktap_subtest NAME PROGRAM [ARGS]: run a program that prints TAP/KTAP itself
# (a kselftest-harness binary), nest its output (indented four spaces) and
# count its own top-level cases as leaves. A crash, a non-zero exit without a
# failed case or fewer results than its plan promised count as failures.
ktap_subtest() {
	local name="$1" rc pass fail skip missing
	shift
	{
		"$@" 2>&1
		echo $? >"$IOPF_STATE/rc"
	} | tee "$IOPF_STATE/out" | awk '{ print "    " $0; fflush() }'
	# (awk flushes each line: when a test kills the guest, the console
	# still shows which test was running; sed would hold it in a buffer)
	rc=$(cat "$IOPF_STATE/rc")
	# shellcheck disable=SC2046 # four numbers
	set -- $(awk '
		/^1\.\.[0-9]+/ && !plan { plan = substr($1, 4) + 0 }
		/^(not )?ok( |$)/ {
			n++
			if (toupper($0) ~ /# *SKIP/) skip++
			else if ($1 == "ok") pass++
			else fail++
		}
		END { print pass + 0, fail + 0, skip + 0, plan - n }' "$IOPF_STATE/out")
	pass=$1 fail=$2 skip=$3 missing=$4
	[ "$missing" -gt 0 ] || missing=0
	# kselftest exit codes: 0 pass, 4 (KSFT_SKIP) everything skipped.
	if [ "$fail" -eq 0 ] && [ "$missing" -eq 0 ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
		echo "# $name exited with $rc"
		fail=1
	fi
	if [ "$missing" -gt 0 ]; then
		echo "# $name: $missing results missing (exit $rc)"
		fail=$((fail + missing))
	fi
	_ktap_add_counts "$pass" "$fail" "$skip"
	if [ "$fail" -gt 0 ]; then
		ktap_result not_ok "$name" "$fail failed"
		return 1
	elif [ "$pass" -eq 0 ]; then
		ktap_result skip "$name" "nothing ran"
	else
		ktap_result ok "$name"
	fi
}

# ktap_end: the totals line the host counts, and the script's exit status:
# 0 only when nothing failed and every planned result was printed.
ktap_end() {
	local pass fail skip plan num
	pass=$(_ktap_get pass) fail=$(_ktap_get fail) skip=$(_ktap_get skip)
	plan=$(_ktap_get plan) num=$(_ktap_get num)
	if [ "$num" -ne "$plan" ]; then
		echo "# plan said $plan results, $num were printed"
		fail=$((fail + 1))
	fi
	echo "# Totals: pass:$pass fail:$fail skip:$skip"
	[ "$fail" -eq 0 ]
}

# --- the verdict -----------------------------------------------------------

# Print the marker, then leave through isa-debug-exit: QEMU exits with
# (byte << 1) | 1, so 3 means pass and 5 fail (a plain poweroff exits 0).
guest_finish() {
	local verdict code
	if [ "$1" -eq 0 ]; then
		verdict=pass code='\001'
	else
		verdict=fail code='\002'
	fi
	# x86-64: isa-debug-exit at port 0xf4. Both Debian kernels have
	# CONFIG_DEVPORT; if a kernel hadn't, the host accepts the marker alone
	# after this notice. arm64 has no such port: the host reads the marker and
	# the kernel's "reboot: Power down" (scripts/run-qemu.sh).
	local port=
	[ "$(uname -m)" != x86_64 ] || [ ! -c /dev/port ] || port=1
	[ -n "$port" ] || [ "$(uname -m)" != x86_64 ] || echo "IOPF-GUEST-EXIT: console-only"
	echo "IOPF-GUEST-RESULT: $verdict"
	# The console is a tty: let the UART drain before QEMU goes away.
	sleep 0.3
	[ -z "$port" ] || printf '%b' "$code" | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc 2>/dev/null
	poweroff -f
	sleep 10
}

# --- the selftest programs ---------------------------------------------------

# Every kselftest-harness program in the initramfs: $tests, and their count
# $ntests (suite.sh and debug.sh plan their KTAP with it)
# iopf.selftests=a_test,b_test on the kernel command line: only those (a
# slow cell splits its programs over two boots, each within its budget)
find_selftests() {
	local only
	only=$(sed -n 's/.*iopf\.selftests=\([^ ]*\).*/\1/p' /proc/cmdline)
	tests=
	for t in "$IOPF_BIN"/iopf_*_test; do
		[ -x "$t" ] || continue
		case ",$only," in
		,,) ;;
		*",${t##*/},"*) ;;
		*) continue ;;
		esac
		tests="$tests $t"
	done
	# A program asked for by name and absent is a failure, not a skip
	missing_tests=
	for t in $(echo "$only" | tr ',' ' '); do
		[ -x "$IOPF_BIN/$t" ] || missing_tests="$missing_tests $t"
	done
	ntests=$(echo "$tests $missing_tests" | wc -w)
}

# One KTAP case per program (one failure when there is none)
run_selftests() {
	if [ "$ntests" -eq 0 ]; then
		ktap_fail iopf_tests "no iopf_*_test program in $IOPF_BIN"
	fi
	for t in $missing_tests; do
		ktap_fail "$t" "iopf.selftests names it, but $IOPF_BIN has no $t"
	done
	local t0
	for t in $tests; do
		if module_loaded; then
			t0=$(date +%s)
			ktap_subtest "${t##*/}" "$t"
			# where a slow cell's time goes (guest timeouts are budgets)
			echo "# ${t##*/}: $(($(date +%s) - t0)) s"
		else
			ktap_fail "${t##*/}" "module not loaded"
		fi
	done
}

# --- waiting -----------------------------------------------------------------

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; the last
# try's output is shown
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	"$@"
}

# iopfd's --ready-file ($READY) says it set its devices up for the Nth module
ready_up() { grep -q "up=$1\$" "$READY" 2>/dev/null; }

# The daemon scripts' helpers (e2e.sh, stages.sh, upstream-vmm.sh, ...)
daemon_alive() { [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; }

# expect NAME WANT GOT: compare, say both on a mismatch (e2e.sh has its own,
# for multi-line values)
expect() {
	[ "$2" = "$3" ] && return 0
	echo "$1: expected '$2', got '$3'"
	return 1
}

# jfield KEY JSON: the raw value of "KEY" in a one-line object (the first;
# scalar or list)
jfield() {
	echo "$2" | sed -n "s/.*\"$1\":\(\[[^]]*\]\|\"[^\"]*\"\|[^,}]*\).*/\1/p"
}
