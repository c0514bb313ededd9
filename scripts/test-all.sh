#!/usr/bin/env bash
# Everything: dependencies, kernels, the module for each kernel (W=1,
# warning-free), the host build (Release, GCC, -Werror) and its unit tests,
# a RelWithDebInfo clang build (-Werror, build only), a short fuzzing run,
# then the in-guest suite booted on each kernel with e2e.sh, stages.sh (the
# two-stage access model against iopfd as the VMM), scenarios.sh (the
# declarative scenarios of tests/scenarios), loss.sh, diff.sh and
# ynl.sh (the client scripts/ynl.sh generates from the YNL spec)
# on the Debian x86-64 cells, and the teeth run (the suite again per quirk
# of scripts/teeth.sh, each RFC bug caught) on the newest Debian x86-64 cell
# and the newest arm64 cell (there also the bugs planted in the upstream
# bridge, U1-U5, against upstream.sh). The cells built from source have
# iommufd: iopf_upstream_test and iopf_nested_test run in their suite and
# upstream-vmm.sh (iopfd as the VMM on upstream's road) after it; the arm64
# one also runs upstream-nested-vmm.sh (iopfd as the VMM of a vSMMUv3) and
# scenarios-upstream.sh (the nested scenarios on the RFC's road and upstream's). The newest kernel (7.2, built from source by
# scripts/source-kernel.sh) is the debug cell (KASAN, lockdep, kmemleak,
# KUnit): there the suite runs as debug.sh, i.e. with the module's KUnit
# suites and the checkers' verdicts, then e2e.sh, stages.sh, scenarios.sh, loss.sh and a
# shorter diff.sh. arm64 cells add smmu.sh (beside the real arm-smmu-v3) and run in
# a second lane beside the x86-64 cells (a TCG guest keeps one core busy).
# Then checkpatch and `dkms build` against each Debian header set
# (scripts/dkms-test.sh).
#
#   scripts/test-all.sh [--kernels "6.1 6.12 7.2"] [--quick]
#
#   --kernels  restrict to these series (space or comma separated; default:
#              scripts/kernels.sh matrix, i.e. 6.1 6.12 and sid's newest)
#   --quick    for the edit-test loop: no apt (scripts/install-deps.sh is
#              skipped; the tools are still checked) and a 300 s guest timeout
#              instead of 600 s. Nothing is left out of the test itself.
#
# What "N passed, N failed" counts, every one a case:
#   - each host step (install deps, tools, kernels, module per kernel, cmake
#     configure, cmake build (Release, GCC), the RelWithDebInfo/clang build,
#     both with -Werror, ynl spec, ynl client, initramfs per kernel): one case;
#   - each ctest test (one failed case if ctest gives no summary);
#   - each leaf KTAP result a guest prints (its "# Totals:" line), plus one
#     failed case when a guest run fails without saying so in its totals
#     (panic, hang, no marker, a verdict that disagrees). Skips count neither way.
# Any failure makes the exit status non-zero; a step that can't run because
# an earlier one failed counts as failed too, never as silently skipped.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

series=() quick=
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) [ $# -ge 2 ] || { echo "--kernels needs a value" >&2; exit 2; }
		read -r -a series <<<"${2//,/ }"; shift ;;
	--quick) quick=1 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \?//'; exit 0 ;;
	*) echo "test-all.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
guest_timeout=${IOPF_GUEST_TIMEOUT:-$([ -n "$quick" ] && echo 300 || echo 600)}

LOGS=$ROOT/build/logs
mkdir -p "$LOGS"
passed=0 failed=0
failures=()
table=()

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
pass() { passed=$((passed + ${2:-1})); }
fail() { failed=$((failed + ${2:-1})); failures+=("$1"); }

# step NAME CMD...: one host step, one case. Output goes to build/logs/<name>.log;
# its tail is shown when it fails.
step() {
	local name=$1 log=$LOGS/step-${1// /_}.log t0 rc=0
	shift
	t0=$(now)
	"$@" >"$log" 2>&1 || rc=$?
	if [ $rc -eq 0 ]; then
		printf '[PASS] %s (%ss)\n' "$name" "$(since "$t0")"
		pass "$name"
	else
		printf '[FAIL] %s (exit %d, %ss), log: %s\n' "$name" $rc "$(since "$t0")" "$log"
		tail -n 30 "$log" | sed 's/^/  | /'
		fail "$name"
	fi
	return $rc
}

summary() {
	echo
	echo "== summary"
	printf '%-24s %-10s %5s %5s %5s %8s\n' kernel run pass fail skip wall
	local row cols
	for row in "${table[@]}"; do
		read -r -a cols <<<"$row"
		printf '%-24s %-10s %5s %5s %5s %8s\n' "${cols[@]}"
	done
	if [ ${#failures[@]} -gt 0 ]; then
		echo "failed:"
		printf '  - %s\n' "${failures[@]}"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

echo "== host"
if [ -z "$quick" ]; then
	step "install deps" scripts/install-deps.sh || { summary; exit 1; }
fi

check_tools() {
	local t missing=()
	for t in qemu-system-x86_64 busybox cpio gzip timeout make gcc cmake ctest apt-get dpkg-deb ldd dkms flock; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || { echo "missing tools: ${missing[*]} (run scripts/install-deps.sh)"; return 1; }
}
step "tools" check_tools || { summary; exit 1; }
# The default matrix names sid's newest source (a private apt list, refreshed daily).
matrix() { scripts/kernels.sh matrix >"$LOGS/matrix.txt"; }
if [ ${#series[@]} -eq 0 ]; then
	step "kernel matrix" matrix || { summary; exit 1; }
	read -r -a series <"$LOGS/matrix.txt"
	echo "kernels: ${series[*]}"
fi
# arm64 cells (arm64-6.12, arm64-7.2...): cross tools and the guest's QEMU
arm64_cell() { [[ $1 == arm64-* ]]; }
arm64=
for s in "${series[@]}"; do arm64_cell "$s" && arm64=1; done
check_arm64_tools() {
	local t missing=()
	for t in qemu-system-aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ aarch64-linux-gnu-readelf xz; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ -e /lib/ld-linux-aarch64.so.1 ] || missing+=("libc6:arm64")
	[ ${#missing[@]} -eq 0 ] || { echo "missing: ${missing[*]} (run scripts/install-deps.sh)"; return 1; }
}
[ -z "$arm64" ] || step "arm64 tools" check_arm64_tools || { summary; exit 1; }
# Two lanes (CI time): a TCG guest keeps one core busy, so the arm64 cells
# (their kernel built from source, their cross build, their guests) run
# beside the x86-64 cells rather than after them; the lane's output is
# printed when it ends. IOPF_LANES=1 runs everything in one lane.
x86_series=() arm64_series=()
for s in "${series[@]}"; do
	if arm64_cell "$s"; then arm64_series+=("$s"); else x86_series+=("$s"); fi
done
lanes=
[ "${IOPF_LANES:-2}" = 1 ] || [ ${#x86_series[@]} -eq 0 ] || [ ${#arm64_series[@]} -eq 0 ] || lanes=1

declare -A krel module
# kernel_and_module SERIES: one step per kernel (a series built from source
# takes minutes when cold), then the module for it
kernel_and_module() {
	local s=$1
	module[$s]=
	step "kernel $s" scripts/kernels.sh fetch "$s" || return 1
	krel[$s]=$(scripts/kernels.sh release "$s") || { fail "release $s"; return 1; }
	step "module ${krel[$s]}" scripts/build-module.sh "$s" &&
		module[$s]=$ROOT/build/kmod-${krel[$s]}/iopf_testbed.ko
	return 0
}
host_series=("${series[@]}")
[ -z "$lanes" ] || host_series=("${x86_series[@]}")
for s in "${host_series[@]}"; do
	kernel_and_module "$s" || { summary; exit 1; }
done

# Upstream's road: iommufd's uAPI from the newest source (Debian 12's libc
# headers predate the fault queue), when a cell built from source is in the
# run; without it the iommufd programs are not built (one case).
uapi_args=()
for s in "${series[@]}"; do
	if [[ $s == 7.* || $s == arm64-7.* ]]; then
		step "iommufd uapi" scripts/source-kernel.sh uapi "$ROOT/build/uapi" &&
			uapi_args=(-DIOPF_KERNEL_UAPI="$ROOT/build/uapi")
		break
	fi
done

# The host build: C++ userspace, the in-guest selftests and the unit tests.
host_ok=
# Release: the build users benchmark, and where GCC's flow warnings live.
if step "cmake configure" cmake -S . -B build/host -DCMAKE_BUILD_TYPE=Release -DIOPF_WERROR=ON "${uapi_args[@]}" &&
	step "cmake build" cmake --build build/host -j2; then
	host_ok=1
	t0=$(now)
	ctest_log=$LOGS/ctest.log
	rc=0
	ctest --test-dir build/host --output-on-failure --no-tests=error 2>&1 | tee "$ctest_log" || rc=$?
	total=$(sed -n 's/.* tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -n1)
	nfail=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$ctest_log" | tail -n1)
	if [ -n "$total" ]; then
		pass ctest $((total - nfail))
		[ "$nfail" -eq 0 ] || fail "ctest ($nfail failed)" "$nfail"
		[ $rc -eq 0 ] || [ "$nfail" -gt 0 ] || fail "ctest (exit $rc)"
	else
		fail "ctest (no summary, exit $rc)"
		total=0 nfail=1
	fi
	table+=("host ctest $((total - nfail)) $nfail - $(since "$t0")s")
else
	fail "ctest (not run: host build failed)"
	table+=("host ctest - 1 - -")
fi

# The YNL spec: valid against the kernel's genetlink-c schema and the same
# names and values as the uAPI header (one case); the independent client
# generated from it (one case), run in the guest by ynl.sh.
step "ynl spec" scripts/ynl.sh check || true
ynl_client=
step "ynl client" scripts/ynl.sh build && ynl_client=$ROOT/build/ynl/iopf_ynl

# Host work no guest waits for: with two lanes, the arm64 lane does it (the
# x86-64 lane is CI's longest).
host_extras() {
	local t0 fuzz_out rc=0 p f
	# The other compiler, as users build (scripts/build-matrix.sh): the host
	# build above is Release with GCC, this one RelWithDebInfo with clang,
	# both with warnings as errors (build only, one case).
	IOPF_KERNEL_UAPI=$([ ${#uapi_args[@]} -eq 0 ] || echo "$ROOT/build/uapi") \
		step "build RelWithDebInfo clang -Werror" scripts/build-matrix.sh RelWithDebInfo:clang || true

	# Fuzzing: a short bounded run of every libFuzzer harness (tests/fuzz),
	# one case each; tests/fuzz/README.md has the longer run.
	t0=$(now)
	fuzz_out=$LOGS/fuzz.txt
	tests/fuzz/run.sh --seconds "${IOPF_FUZZ_SECONDS:-15}" >"$fuzz_out" 2>&1 || rc=$?
	grep -E '^(not )?ok ' "$fuzz_out" || true
	p=$(grep -c '^ok ' "$fuzz_out" || true)
	f=$(grep -c '^not ok ' "$fuzz_out" || true)
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || { f=1; tail -n 20 "$fuzz_out" | sed 's/^/  | /'; }
	pass fuzz "$p"
	[ "$f" -eq 0 ] || fail "fuzz ($f failed)" "$f"
	table+=("host fuzz $p $f - $(since "$t0")s")
}
[ -n "$lanes" ] || host_extras

# A program the host build made, wherever CMake put it under build/host/DIR
# (build/arm64/DIR with BUILD=build/arm64).
host_program() {
	find "${BUILD:-build/host}/$1" -name "$2" -type f -perm -u+x 2>/dev/null | LC_ALL=C sort | head -n1
}

# The programs the guest runs. Only from a successful build: stale ones from
# an earlier build would test old code. Without the selftests the guest suite
# fails ("no iopf_*_test program"), but still loads and unloads the module.
bins=()
if [ -n "$host_ok" ]; then
	for t in iopf_testbed_test iopf_errors_test iopf_lifetime_test iopf_stages_test iopf_stress_test iopf_trace_test; do
		selftest=$(host_program tests/selftests "$t")
		if [ -n "$selftest" ]; then bins+=("$selftest"); else echo "warning: no $t was built: the guest suite will fail"; fi
	done
	for p in iopfctl iopfd iopf_difftest; do
		b=$(host_program userspace "$p")
		[ -z "$b" ] || bins+=("$b")
	done
	# Built only with the iommufd uAPI: where it is absent, so is its suite
	for t in iopf_upstream_test iopf_nested_test; do
		b=$(host_program tests/selftests "$t")
		if [ -n "$b" ]; then bins+=("$b"); elif [ ${#uapi_args[@]} -gt 0 ]; then echo "warning: no $t was built"; fi
	done
fi

# Without it, ynl.sh fails in the guest ("no iopf_ynl"): stale ones are not used.
[ -z "$ynl_client" ] || bins+=("$ynl_client")

# The same programs cross-built for arm64 guests (cmake/aarch64-linux-gnu.cmake,
# the multiarch arm64 -dev libraries): only what the guest runs, no unit tests.
bins_arm64=()
build_arm64() {
	local t b
	local upstream=()
	[ ${#uapi_args[@]} -eq 0 ] || upstream=(tests/selftests/iopf_upstream_test tests/selftests/iopf_nested_test)
	step "cmake configure arm64" cmake -S . -B build/arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
		"${uapi_args[@]}" &&
		step "cmake build arm64" cmake --build build/arm64 -j2 --target iopf_testbed_test iopf_errors_test \
			iopf_lifetime_test iopf_stages_test iopf_stress_test iopf_trace_test iopfctl iopfd iopf_difftest_bin \
			"${upstream[@]##*/}" || return 0
	for t in tests/selftests/iopf_testbed_test tests/selftests/iopf_errors_test tests/selftests/iopf_lifetime_test \
		tests/selftests/iopf_stages_test tests/selftests/iopf_stress_test tests/selftests/iopf_trace_test \
		userspace/iopfctl userspace/iopfd userspace/iopf_difftest "${upstream[@]}"; do
		b=$(BUILD=build/arm64 host_program "$(dirname "$t")" "$(basename "$t")")
		if [ -n "$b" ]; then bins_arm64+=("$b"); else echo "warning: no arm64 $(basename "$t") was built"; fi
	done
}
[ -z "$arm64" ] || [ -n "$lanes" ] || build_arm64

# The debug cell (a series built from source: KASAN, lockdep, kmemleak) runs
# a few times slower than Debian's kernels under TCG.
debug_cell() { [[ ${krel[$1]:-} == *-iopf-debug ]]; }
# So does arm64 emulation (a57 on x86-64 TCG: ~1.5-2x Debian x86-64).
timeout_for() {
	local t=$guest_timeout
	! debug_cell "$1" || t=$((t * 4 > 900 ? t * 4 : 900))
	! arm64_cell "$1" || t=$((t * 3))
	# A hung guest costs the whole timeout: none waits beyond 15 minutes
	# (the slowest cell's slowest run takes about 4).
	echo "$((t > 900 ? 900 : t))"
}

# One guest run: boot, print its KTAP, count its cases, add a table row.
# NAME: the run's name in logs and the table when a script boots twice.
guest_run() {
	local s=$1 initramfs=$2 script=$3 append=${4:-} name=${5:-$3} t0 rc=0 out totals p=0 f=0 k=0
	out=$LOGS/ktap-${krel[$s]}-${name%.sh}.txt
	t0=$(now)
	echo "== ${krel[$s]}: $name${append:+ ($append)}"
	scripts/run-qemu.sh "$s" "$initramfs" --run "$script" --timeout "$(timeout_for "$s")" \
		--log "$LOGS/qemu-${krel[$s]}-${name%.sh}.log" ${append:+--append "$append"} | tee "$out" || rc=$?
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) skip:\([0-9]*\).*/\1 \2 \3/p' "$out" | tail -n1)
	[ -z "$totals" ] || read -r p f k <<<"$totals"
	# A script without KTAP totals is one case.
	[ -n "$totals" ] || [ $rc -ne 0 ] || p=1
	pass "$name" "$p"
	[ "$f" -eq 0 ] || fail "${krel[$s]} $name ($f failed)" "$f"
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		fail "${krel[$s]} $name (run failed, exit $rc)"
		f=1
	fi
	table+=("${krel[$s]} $name $p $f $k $(since "$t0")s")
}

# Teeth: the suite must catch each of the RFC's bugs (one case per quirk),
# and, where the kernel has iommufd (a cell built from source), each bug
# planted in the upstream bridge (U1-U5, its suite alone: upstream.sh)
run_teeth() {
	local s=$1 initramfs=$2 base=$3 t0 rc=0 p f teeth_out
	t0=$(now)
	teeth_out=$LOGS/teeth-${krel[$s]}.txt
	IOPF_TEETH_TIMEOUT=$(timeout_for "$s") \
		scripts/teeth.sh --baseline "$LOGS/ktap-${krel[$s]}-${base%.sh}.txt" "$s" "$initramfs" |
		tee "$teeth_out" || rc=$?
	if [[ ${krel[$s]} == *-iopf-* ]] && [ ${#uapi_args[@]} -gt 0 ]; then
		IOPF_TEETH_TIMEOUT=$(timeout_for "$s") \
			scripts/teeth.sh --baseline "$LOGS/ktap-${krel[$s]}-${base%.sh}.txt" --run upstream.sh \
			"$s" "$initramfs" U1 U2 U3 U4 U5 | tee -a "$teeth_out" || rc=$?
	fi
	p=$(grep -c ': caught by' "$teeth_out" || true)
	f=$(grep -c ': NOT CAUGHT' "$teeth_out" || true)
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
	pass teeth "$p"
	[ "$f" -eq 0 ] || fail "${krel[$s]} teeth ($f quirks not caught)" "$f"
	table+=("${krel[$s]} teeth $p $f 0 $(since "$t0")s")
}

# Teeth on two cells, not every one (CI time): the newest Debian x86-64
# kernel of the run and the newest arm64 cell (7.2 in the default matrix),
# so each RFC bug is caught on both architectures and on the newest kernel.
teeth_x86='' teeth_arm64=''
for s in "${series[@]}"; do
	if arm64_cell "$s"; then teeth_arm64=$s; elif ! debug_cell "$s"; then teeth_x86=$s; fi
done

# run_cell SERIES: the initramfs and every guest run of one kernel
run_cell() {
	local s=$1 initramfs base script mkargs ko scripts
	if [ -z "${module[$s]}" ]; then
		fail "${krel[$s]:-$s} suite.sh (not run: no module)"
		table+=("${krel[$s]:-$s} suite.sh - 1 - -")
		return
	fi
	initramfs=$ROOT/build/initramfs-${krel[$s]}.cpio.gz
	mkargs=(-m "${module[$s]}" "${bins[@]}")
	if arm64_cell "$s"; then
		# virtio-rng (and on 6.1 virtio_pci) from the image, for smmu.sh
		mkargs=(-a arm64 -m "${module[$s]}")
		for ko in $(scripts/kernels.sh modules "$s" virtio-rng virtio_pci 2>/dev/null || echo missing); do
			mkargs+=(-k "$ko")
		done
		mkargs+=("${bins_arm64[@]}")
	fi
	if ! step "initramfs ${krel[$s]}" scripts/mkinitramfs.sh -o "$initramfs" "${mkargs[@]}"; then
		table+=("${krel[$s]} suite.sh - 1 - -")
		fail "${krel[$s]} suite.sh (not run: no initramfs)"
		return
	fi
	# The debug cell runs debug.sh: suite.sh plus the module's KUnit suites
	# and the checkers' verdicts (KASAN, lockdep, kmemleak...), so not suite.sh
	# again.
	base=suite.sh
	if debug_cell "$s"; then
		# Its programs over two boots, each within the 900 s a guest may
		# take (one boot measured 905 s on CI): measured 335 s with testbed
		# and upstream and 640 s with the rest, so errors joins the first;
		# the checkers' verdicts in both.
		base=debug.sh
		local long='' rest='' prog
		for prog in "${bins[@]##*/}"; do
			case $prog in
			iopf_testbed_test | iopf_upstream_test | iopf_errors_test) long+=${long:+,}$prog ;;
			iopf_*_test) rest+=${rest:+,}$prog ;;
			esac
		done
		guest_run "$s" "$initramfs" debug.sh "iopf.selftests=$long" debug.sh
		guest_run "$s" "$initramfs" debug.sh "iopf.selftests=$rest" debug-rest.sh
	else
		guest_run "$s" "$initramfs" $base
	fi
	if arm64_cell "$s"; then
		# Beside the real arm-smmu-v3 driver, with DMA through it
		guest_run "$s" "$initramfs" smmu.sh
		# TCG on arm64 is slow: e2e.sh on the first arm64 cell, teeth on the
		# newest; loss.sh and diff.sh (arch-independent logic, run on every
		# x86-64 cell) only with IOPF_ARM64_FULL=1.
		scripts=()
		if [ -n "${IOPF_ARM64_FULL:-}" ]; then
			scripts=(e2e.sh loss.sh diff.sh)
		elif [ "$s" = "${arm64_series[0]}" ]; then
			scripts=(e2e.sh)
		fi
		[ "$s" != "$teeth_arm64" ] || run_teeth "$s" "$initramfs" "$base"
		# iopfd as the VMM on upstream's road, where the kernel has iommufd,
		# plain and nested (a vSMMUv3: vIOMMU, vEVENTQ), and the nested
		# scenarios on both roads: on this cell only (its boots are short,
		# the x86-64 lane is CI's longest)
		[[ ${krel[$s]} != *-iopf-* ]] || scripts+=(upstream-vmm.sh upstream-nested-vmm.sh scenarios-upstream.sh)
		for script in "${scripts[@]}"; do
			guest_run "$s" "$initramfs" "$script"
		done
		return
	fi
	if debug_cell "$s"; then
		# Under KASAN and friends every op costs ~5x and every module load
		# runs the KUnit suites: fewer differential ops and no quirks=4
		# minimisation (the Debian cells run the full 20,000 per seed and
		# the teeth); ynl.sh's client is covered by the Debian cells.
		guest_run "$s" "$initramfs" e2e.sh
		guest_run "$s" "$initramfs" stages.sh
		guest_run "$s" "$initramfs" scenarios.sh
		guest_run "$s" "$initramfs" loss.sh
		guest_run "$s" "$initramfs" diff.sh "iopf.diff_ops=${IOPF_DEBUG_DIFF_OPS:-2000} iopf.diff_teeth=0"
		# iopfd as the VMM on upstream's road (iommufd: source-built cells)
		guest_run "$s" "$initramfs" upstream-vmm.sh
		return
	fi
	[ "$s" != "$teeth_x86" ] || run_teeth "$s" "$initramfs" "$base"
	# ynl.sh: its own short boot (no iopfd answering its page request);
	# its client is built for the host only (scripts/ynl.sh)
	for script in e2e.sh stages.sh scenarios.sh loss.sh diff.sh ynl.sh; do
		guest_run "$s" "$initramfs" "$script"
	done
}

# The arm64 lane: kernels (from source: minutes, niced below the other
# lane's guest), modules, the cross build, then the cells. In a subshell:
# its counts come back through files.
arm64_lane() {
	local s
	renice -n 10 -p "$BASHPID" >/dev/null 2>&1 || true
	host_extras
	for s in "${arm64_series[@]}"; do
		kernel_and_module "$s" || { fail "$s (no kernel)"; table+=("$s suite.sh - 1 - -"); module[$s]=; }
	done
	build_arm64
	for s in "${arm64_series[@]}"; do
		[ -n "${krel[$s]:-}" ] || continue
		run_cell "$s"
	done
}

if [ -n "$lanes" ]; then
	lane_dir=$LOGS/lane-arm64
	rm -rf "$lane_dir"
	mkdir -p "$lane_dir"
	echo "== arm64 lane started beside the x86-64 cells (${arm64_series[*]}); its output follows theirs"
	# shellcheck disable=SC2030,SC2031 # the lane's own counts, sent back by file
	(
		passed=0 failed=0 failures=() table=()
		arm64_lane >"$lane_dir/out.txt" 2>&1 || true
		echo "$passed $failed" >"$lane_dir/counts"
		printf '%s\n' "${failures[@]}" >"$lane_dir/failures"
		printf '%s\n' "${table[@]}" >"$lane_dir/table"
	) &
	lane_pid=$!
	for s in "${x86_series[@]}"; do
		run_cell "$s"
	done
	t0=$(now)
	wait "$lane_pid" || true
	echo "== arm64 lane (waited $(since "$t0") s for it after the x86-64 cells)"
	cat "$lane_dir/out.txt"
	# shellcheck disable=SC2031 # the lane's counts, added to ours
	if read -r lp lf <"$lane_dir/counts" 2>/dev/null; then
		pass lane "$lp"
		failed=$((failed + lf))
		while IFS= read -r l; do [ -z "$l" ] || failures+=("$l"); done <"$lane_dir/failures"
		while IFS= read -r l; do [ -z "$l" ] || table+=("$l"); done <"$lane_dir/table"
	else
		fail "arm64 lane (ended without its counts)"
	fi
else
	for s in "${series[@]}"; do
		run_cell "$s"
	done
fi

# Kernel style: checkpatch --strict over the module (clean, not just 0
# errors), from the newest kernel source (scripts/source-kernel.sh source)
step "checkpatch" scripts/checkpatch.sh || true

# dkms.conf: `dkms build` against each Debian header set in the run (a
# private DKMS tree, removed afterwards; nothing is installed or loaded)
for s in "${series[@]}"; do
	arm64_cell "$s" || debug_cell "$s" || step "dkms ${krel[$s]}" scripts/dkms-test.sh "$s" || true
done

summary
