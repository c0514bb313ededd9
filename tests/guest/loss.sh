#!/bin/sh
# Loss is visible and exact (iopf.run=loss.sh). iopfd listens with a tiny
# receive buffer (4K) while thousands of faults, page requests and
# unrecoverable faults mixed over two devices, arrive in big debugfs writes
# (1024 records per write). The daemon must say exactly how many fault
# notifications it missed, from SEQ gaps and from the tail (STATS_GET
# FAULT_SEQ at a quiet moment: a listener that overflowed at the end of a
# burst sees no later SEQ), recover every missed page request from a
# PENDING_GET dump, and its books must balance:
#
#   injected = stored + lost
#
# stored: unique faults in the JSON-lines store (notified + resynced);
# lost: what the daemon reports missed and not recovered. The module's
# per-device NOTIFY_LOST must agree with what the daemon missed, every page
# request must be stored, and lost must be exactly the unrecoverable faults
# that were not stored. How much is lost varies from run to run; the books
# must balance every time.
#
# Three bursts, so that each path is taken whatever the timing:
#   1. overload: 8000 records back to back into the 4K buffer (ENOBUFS, gaps,
#      and usually a tail);
#   2. a tail for sure: the daemon is stopped (SIGSTOP) during a burst, its
#      socket fills and drops the rest; after SIGCONT no later SEQ comes;
#   3. the notify_send failure knob: 3 notifications dropped then 3 sent (a
#      gap without ENOBUFS), then 6 dropped with nothing after (a tail no
#      overflow announced: only the periodic sync point sees it);
#   4. the knob on RESUMEs: every other notification dropped while the
#      daemon answers page requests (RESUME gaps and a RESUME tail).
# RESUMEs have the same books: the module's RESUME_SEQ = RESUMEs stored +
# the daemon's RESUMEs lost, and the module's RESUME_LOST agrees with what
# the daemon missed.
# Prints KTAP, the numbers as diagnostics; the exit status is the verdict.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

D=/sys/kernel/debug/iopf_testbed
W=/tmp/loss
STORE=$W/faults.jsonl
READY=$W/ready
CONF=$W/iopfd.conf
mkdir -p "$W"
rm -f "$STORE" "$READY"
DPID=
INJECTED=0   # records written, all reported (registered devices, every fault wanted)
INJ_PR=0     # of which page requests
INJ_UNRECOV=0

# --- helpers ------------------------------------------------------------------

pending_of() { cat $D/devices/"$1"/pending | wc -l; }
none_pending() { [ "$(pending_of 0x40)" = 0 ] && [ "$(pending_of 0x41)" = 0 ]; }

# dev_stat SID NAME: one counter of a device (debugfs)
dev_stat() { sed -n "s/^$2 //p" $D/devices/"$1"/stats; }
global_stat() { sed -n "s/^$1 //p" $D/stats; }

# jnum KEY JSON: the number after "KEY": (its last occurrence)
jnum() { echo "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
jbool() { echo "$2" | sed -n "s/.*\"$1\":\(true\|false\).*/\1/p"; }

# gen OUT ARGS...: records from iopfctl's field builder, one per line
gen() {
	local out="$1"
	shift
	iopfctl inject --dry-run "$@" >"$out" || { echo "iopfctl inject --dry-run $* failed"; return 1; }
}

# interleave PREFIX SEED FILE...: the lines of FILEs, mixed in runs of 1-24
# lines from a pseudo-randomly chosen file (a fixed LCG: the same stream every
# run), cut into PREFIX.NNN chunks of at most 1024 lines (one write each).
interleave() {
	local prefix="$1" seed="$2"
	shift 2
	rm -f "$prefix".*
	awk -v prefix="$prefix" -v seed="$seed" '
		BEGIN {
			for (i = 1; i < ARGC; i++) {
				n[i] = 0
				while ((getline line < ARGV[i]) > 0)
					rec[i, ++n[i]] = line
				pos[i] = 0
			}
			files = ARGC - 1
			x = seed
			out = 0
			left = files
			while (left > 0) {
				x = (x * 16807) % 2147483647
				f = 1 + x % files
				while (pos[f] >= n[f])
					f = f % files + 1
				x = (x * 16807) % 2147483647
				run = 1 + x % 24
				for (k = 0; k < run && pos[f] < n[f]; k++) {
					print rec[f, ++pos[f]] > (prefix "." sprintf("%03d", int(out / 1024)))
					out++
				}
				if (pos[f] >= n[f])
					left--
			}
			exit
		}' "$@"
}

# inject_chunks PREFIX: one write(2) per chunk, back to back
inject_chunks() {
	local c
	for c in "$1".*; do
		dd if="$c" of=$D/inject bs=1M conv=notrunc 2>/dev/null || { echo "writing $c failed"; return 1; }
	done
}

count_lines() { cat "$@" | wc -l; }

# --- the cases ----------------------------------------------------------------------

case_daemon_starts() {
	cat >"$CONF" <<'EOF'
# every fault wanted, every page request answered at once
device 0x40 flags=nested,l1,l2,unrecov l1=success l2=success
device 0x41 flags=flat,unrecov l1=success l2=success
EOF
	iopfd --config "$CONF" --store "$STORE" --ready-file "$READY" --rcvbuf 4K --poll-ms 200 \
		2>"$W/iopfd.log" &
	DPID=$!
	wait_for 10 ready_up 1 || { echo "iopfd not ready; its log:"; cat "$W/iopfd.log"; return 1; }
	grep 'receive buffer' "$W/iopfd.log"
}

quiet() { # everything answered, the daemon idle: a sync point has passed
	wait_for 60 none_pending || {
		echo "still pending: 0x40 $(pending_of 0x40), 0x41 $(pending_of 0x41)"
		tail -n 20 "$W/iopfd.log"
		return 1
	}
	sleep 0.5
}

case_overload_burst() {
	local k=1600
	gen $W/s1 0x40 --stall --stag 0 --addr 0x10000000 --count $k &&
		gen $W/s2 0x40 --stall --stag $k --s2 --ipa 0x80000000 --addr 0x20000000 --count $k &&
		gen $W/s3 0x40 --ssid 3 --event translation --addr 0x30000000 --count $k &&
		gen $W/s4 0x41 --stall --stag 0 --addr 0x40000000 --count $k &&
		gen $W/s5 0x41 --event permission --write --addr 0x50000000 --count $k || return 1
	interleave $W/b1 12345 $W/s1 $W/s2 $W/s3 $W/s4 $W/s5
	INJ_PR=$((INJ_PR + 3 * k)) INJ_UNRECOV=$((INJ_UNRECOV + 2 * k))
	INJECTED=$((INJECTED + 5 * k))
	set -- $W/b1.*
	echo "$# writes, $(count_lines "$@") records"
	inject_chunks $W/b1 || return 1
	quiet
}

case_tail_after_stall() {
	local k=256
	gen $W/s6 0x40 --stall --stag 3200 --addr 0x60000000 --count $k &&
		gen $W/s7 0x41 --event translation --s2 --ipa 0x90000000 --addr 0x70000000 --count $k &&
		gen $W/s8 0x41 --stall --stag 1600 --addr 0x80000000 --count $k || return 1
	interleave $W/b2 777 $W/s6 $W/s7 $W/s8
	INJ_PR=$((INJ_PR + 2 * k)) INJ_UNRECOV=$((INJ_UNRECOV + k))
	INJECTED=$((INJECTED + 3 * k))
	local tails_before
	tails_before=$(grep -c '"what":"tail"' "$STORE")
	kill -STOP "$DPID" || return 1
	inject_chunks $W/b2
	local rc=$?
	kill -CONT "$DPID"
	[ $rc -eq 0 ] || return 1
	quiet || return 1
	[ "$(grep -c '"what":"tail"' "$STORE")" -gt "$tails_before" ] ||
		{ echo "no tail counted after a burst into a stopped daemon"; return 1; }
	grep '"what":"tail"' "$STORE" | tail -n 1
}

knob() { echo "$2" >$D/fail/notify_send/"$1"; }

case_knob_gap_and_silent_tail() {
	local gaps_before tails_before
	gaps_before=$(grep -c '"what":"gap"' "$STORE")
	# Unrecoverable faults alternating between the devices: one per
	# notification, so the knob's count is in faults.
	gen $W/k1 0x40 --event access --addr 0xa0000000 --count 3 &&
		gen $W/k2 0x41 --event access --addr 0xb0000000 --count 3 &&
		gen $W/k3 0x40 --stall --stag 4000 --addr 0xc0000000 --count 3 &&
		gen $W/k4 0x41 --event access --addr 0xd0000000 --count 3 || return 1
	paste -d "\\n" $W/k1 $W/k2 >$W/knob1.000
	paste -d "\\n" $W/k3 $W/k4 >$W/knob2.000
	knob probability 100 && knob interval 1 || return 1
	# 3 dropped, then 3 sent: a gap, no ENOBUFS
	knob times 3 && inject_chunks $W/knob1 || return 1
	INJ_UNRECOV=$((INJ_UNRECOV + 6)) INJECTED=$((INJECTED + 6))
	wait_for 5 test "$(grep -c '"what":"gap"' "$STORE")" -gt "$gaps_before" ||
		{ echo "the knob's gap was not seen"; return 1; }
	# 6 dropped (3 page requests) and nothing after: a silent tail
	tails_before=$(grep -c '"what":"tail"' "$STORE")
	knob times -1 && inject_chunks $W/knob2
	knob times 0
	INJ_PR=$((INJ_PR + 3)) INJ_UNRECOV=$((INJ_UNRECOV + 3)) INJECTED=$((INJECTED + 6))
	quiet || return 1
	[ "$(grep -c '"what":"tail"' "$STORE")" -gt "$tails_before" ] ||
		{ echo "the silent tail was not counted"; return 1; }
	grep '"what":"tail"' "$STORE" | tail -n 1
}

case_knob_resumes() {
	local lost0
	lost0=$(global_stat resume_lost)
	# One fault message (3 page requests, one batch) then 3 RESUMEs as the
	# daemon answers: with every 2nd call failing, RESUMEs 1 and 3 are lost
	gen $W/r1 0x40 --stall --stag 5000 --addr 0xe0000000 --count 3 || return 1
	cp $W/r1 $W/knob3.000
	knob probability 100 && knob interval 2 && knob seed 0 && knob times -1 || return 1
	inject_chunks $W/knob3 || return 1
	INJ_PR=$((INJ_PR + 3)) INJECTED=$((INJECTED + 3))
	quiet
	local rc=$?
	knob times 0
	knob interval 1
	[ $rc -eq 0 ] || return 1
	echo "module resume_lost: $lost0 -> $(global_stat resume_lost)"
	[ "$(global_stat resume_lost)" -eq $((lost0 + 2)) ] ||
		{ echo "expected 2 RESUME notifications lost by the knob"; return 1; }
}

case_daemon_stops() {
	local rc
	kill -TERM "$DPID" || return 1
	wait "$DPID"
	rc=$?
	DPID=
	grep 'books:\|lost at the tail' "$W/iopfd.log" | tail -n 4
	[ "$rc" -eq 0 ] || { echo "iopfd exited with $rc"; tail -n 30 "$W/iopfd.log"; return 1; }
	tail -n 1 "$STORE" | grep -q '"event":"stop"' || { echo "no stop line in the store"; return 1; }
}

case_books_balance() {
	local stats stop stored lines resynced missing tail recovered late lost
	local gaps overflows fault_seq
	stats=$(iopfctl stats --store "$STORE" --json) || return 1
	stop=$(tail -n 1 "$STORE")
	# Unique faults in the store, and no fault stored twice.
	sed -n 's/^{"kind":"fault","seq":\([0-9]*\),.*/\1/p' "$STORE" | sort -n >$W/seqs
	lines=$(wc -l <$W/seqs)
	stored=$(sort -un $W/seqs | wc -l)
	resynced=$(grep -c '^{"kind":"fault",.*"resynced":true' "$STORE")
	overflows=$(jnum overflows "$stats")
	gaps=$(jnum gap_events "$stats")
	missing=$(jnum missing "$stats")
	tail=$(jnum tail_missing "$stats")
	recovered=$(jnum recovered "$stats")
	late=$(jnum late "$stats")
	lost=$(jnum lost "$stats")
	fault_seq=$(global_stat fault_seq)
	echo "injected=$INJECTED (page requests $INJ_PR, unrecoverable $INJ_UNRECOV) module fault_seq=$fault_seq"
	echo "stored=$stored (resynced $resynced) missed=$((missing + tail)) (gaps $missing in $gaps, tail $tail)" \
		"recovered=$recovered late=$late reported_lost=$lost overflows=$overflows"
	echo "daemon's books at exit: $(echo "$stop" | sed -n 's/.*"books":\({[^}]*}\).*/\1/p')"
	echo "$stored" >$W/n.stored
	echo "$lost" >$W/n.lost
	# A fault counted missing, recovered from a dump, whose notification
	# then arrived was delivered as far as the module knows.
	local books_late_rec
	books_late_rec=$(jnum late_recovered "$(echo "$stop" | sed -n 's/.*"books":\({[^}]*}\).*/\1/p')")
	echo "$((missing + tail - late - ${books_late_rec:-0}))" >$W/n.missed
	[ "$lines" -eq "$stored" ] || { echo "faults stored twice: $lines lines, $stored unique"; return 1; }
	[ "$fault_seq" -eq "$INJECTED" ] || { echo "the module numbered $fault_seq faults, $INJECTED injected"; return 1; }
	[ "$INJECTED" -eq $((stored + lost)) ] ||
		{ echo "BOOKS DO NOT BALANCE: $INJECTED != $stored + $lost"; return 1; }
	echo "injected = stored + reported_lost: $INJECTED = $stored + $lost"
	# (the stop line also holds resume_books: read each object by itself)
	local books
	books=$(echo "$stop" | sed -n 's/.*"books":\({[^}]*}\).*/\1/p')
	[ "$(jbool balanced "$books")" = true ] || { echo "the daemon's own books do not balance"; return 1; }
	# The RESUME books: every RESUME handed out is stored or counted lost
	local rbooks rstored rlost rseq
	rbooks=$(echo "$stop" | sed -n 's/.*"resume_books":\({[^}]*}\).*/\1/p')
	rseq=$(global_stat resume_seq)
	rstored=$(sed -n 's/^{"kind":"resume","seq":\([0-9]*\),.*/\1/p' "$STORE" | sort -un | wc -l)
	rlost=$(jnum lost "$rbooks")
	echo "RESUME books: module resume_seq=$rseq = stored $rstored + lost $rlost; daemon's: $rbooks"
	[ -n "$rlost" ] || { echo "no resume_books in the stop line"; return 1; }
	[ "$rseq" -eq $((rstored + rlost)) ] ||
		{ echo "RESUME BOOKS DO NOT BALANCE: $rseq != $rstored + $rlost"; return 1; }
	[ "$(jbool balanced "$rbooks")" = true ] || { echo "the daemon's RESUME books do not balance"; return 1; }
	[ "$(jnum handed_out "$rbooks")" -eq "$rseq" ] || { echo "RESUMEs handed out disagree"; return 1; }
	[ "$rlost" -gt 0 ] || { echo "no RESUME was lost: the knob case did not bite"; return 1; }
	echo "$rlost" >$W/n.rlost
	if [ "$(jnum handed_out "$books")" -ne "$INJECTED" ] || [ "$(jnum lost "$books")" -ne "$lost" ]; then
		echo "the stop line disagrees with the store"
		return 1
	fi
	# Every path was taken: these bursts were built for it.
	if [ "$missing" -eq 0 ] || [ "$tail" -eq 0 ] || [ "$overflows" -eq 0 ] || [ "$recovered" -eq 0 ]; then
		echo "a loss path was not exercised (gaps $missing, tail $tail, overflows $overflows, recovered $recovered)"
		return 1
	fi
}

case_kernel_agrees() {
	local nl40 nl41 missed
	nl40=$(dev_stat 0x40 notify_lost) nl41=$(dev_stat 0x41 notify_lost)
	missed=$(cat $W/n.missed)
	echo "kernel notify_lost=$((nl40 + nl41)) (0x40 $nl40, 0x41 $nl41); daemon missed (net of late and late_recovered)=$missed"
	[ $((nl40 + nl41)) -eq "$missed" ] || { echo "NOTIFY_LOST and the daemon disagree"; return 1; }
	local rl40 rl41 rlost
	rl40=$(dev_stat 0x40 resume_lost) rl41=$(dev_stat 0x41 resume_lost)
	rlost=$(cat $W/n.rlost)
	echo "kernel resume_lost=$((rl40 + rl41)) (0x40 $rl40, 0x41 $rl41, global $(global_stat resume_lost)); daemon's RESUMEs lost=$rlost"
	[ $((rl40 + rl41)) -eq "$(global_stat resume_lost)" ] || { echo "per-device and global RESUME_LOST disagree"; return 1; }
	[ $((rl40 + rl41)) -eq "$rlost" ] || { echo "RESUME_LOST and the daemon disagree"; return 1; }
	[ $(($(dev_stat 0x40 reported) + $(dev_stat 0x41 reported))) -eq "$INJECTED" ] ||
		{ echo "reported != injected"; return 1; }
}

case_every_page_request_recovered() {
	local pr unrecov lost
	pr=$(grep -c '^{"kind":"fault",.*"type":"page_req"' "$STORE")
	unrecov=$(grep -c '^{"kind":"fault",.*"type":"unrecov"' "$STORE")
	lost=$(cat $W/n.lost)
	echo "page requests stored $pr of $INJ_PR; unrecoverable stored $unrecov of $INJ_UNRECOV, lost $lost"
	[ "$pr" -eq "$INJ_PR" ] || { echo "page requests missing from the store"; return 1; }
	[ "$lost" -eq $((INJ_UNRECOV - unrecov)) ] || { echo "lost is not the unrecoverable faults missing"; return 1; }
	none_pending || { echo "page requests left pending"; return 1; }
}

ktap_begin 11
# Bursts into a daemon that cannot keep up leave thousands pending on one
# device: above the default pending_limit they would be aborted, not reported.
ktap_case load_module load_module pending_limit=65536
ktap_case daemon_starts case_daemon_starts
ktap_case overload_burst case_overload_burst
ktap_case tail_after_stall case_tail_after_stall
ktap_case knob_gap_and_silent_tail case_knob_gap_and_silent_tail
ktap_case knob_resumes case_knob_resumes
ktap_case daemon_stops case_daemon_stops
ktap_case books_balance case_books_balance
ktap_case kernel_agrees case_kernel_agrees
ktap_case every_page_request_recovered case_every_page_request_recovered
ktap_case dmesg_clean check_dmesg_clean
[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null
ktap_end
