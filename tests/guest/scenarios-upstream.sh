#!/bin/sh
# The RFC's question, measured (iopf.run=scenarios-upstream.sh; issue 18):
# every nested scenario of the library (tests/scenarios/*.yaml whose devices
# are all stage nested: `iopfctl scenario check --list` shows their iopfd
# configuration on upstream's road) run three times by `iopfctl scenario
# run`: on the RFC's road (netlink), on upstream's (--delivery iommufd:
# iopfd nested=on, a vSMMUv3), and there with stage 2 pinned first
# (--pin-stage2). Each run is checked against the file's expectations for
# its road (on_iommufd, on_iommufd_pinned): one KTAP case each,
# scenario.<name>, scenario.<name>.iommufd, scenario.<name>.iommufd-pinned.
# A kernel without iommufd SKIPs the iommufd cases with the module's reason
# (DEV_SET BRIDGE: -EOPNOTSUPP), never passes them. Last, the roads side by
# side (`iopfctl scenario table`), as "# " lines: the table of
# Documentation/upstream-path.md. Prints KTAP; the exit status is the
# verdict.
# shellcheck disable=SC1091,SC3043 # busybox sh has local; lib.sh is in the image
. /opt/iopf/tests/lib.sh

SCEN=/opt/iopf/scenarios
W=/tmp/scenarios-upstream
mkdir -p "$W"
rm -f "$W"/*.json

# run_road FILE ROAD [OPTIONS...]: one KTAP case, named as iopfctl printed it
run_road() {
	local f="$1" road="$2" base out rc=0 name line
	shift 2
	base=$(basename "$f" .yaml)
	out=$W/$base.$road.ktap
	iopfctl scenario run "$f" "$@" --json "$W/$base.$road.json" --workdir "$W/work" >"$out" 2>&1 || rc=$?
	line=$(grep -E '^(not )?ok 1 ' "$out")
	name=$(echo "$line" | sed -n 's/^\(not \)\{0,1\}ok 1 \(scenario\.[^ ]*\).*/\2/p')
	[ -n "$name" ] || name=scenario.$base.$road
	grep -v -e '^KTAP version' -e '^1\.\.' -e '^ok ' -e '^not ok ' -e '^# Totals' "$out" |
		sed 's/^#* *//; s/^/# /'
	case "$line" in
	"ok 1 $name # SKIP "*)
		ktap_skip "$name" "$(echo "$line" | sed 's/^.* # SKIP //')"
		;;
	"ok 1 $name")
		if [ $rc -eq 0 ]; then
			_ktap_add pass
			ktap_result ok "$name"
		else
			ktap_fail "$name" "exit $rc"
		fi
		;;
	*)
		ktap_fail "$name" "exit $rc"
		;;
	esac
	[ ! -s "$W/$base.$road.json" ] || echo "# summary: $(cat "$W/$base.$road.json")"
}

# the nested scenarios: those iopfctl can put on upstream's road
NESTED=
for f in "$SCEN"/*.yaml; do
	[ -e "$f" ] || continue
	iopfctl scenario check --list "$f" 2>/dev/null | grep -q "^# on upstream's road" &&
		NESTED="$NESTED $f"
done
# shellcheck disable=SC2086 # a list of paths without blanks
set -- $NESTED

nested_present() { echo "$1 nested scenario files in $SCEN"; [ "$1" -ge 5 ]; }

# the roads side by side, from the summaries of the runs above
case_table() {
	local j
	j=$(ls "$W"/*.json 2>/dev/null)
	[ -n "$j" ] || { echo "no summaries"; return 1; }
	# shellcheck disable=SC2086
	iopfctl scenario table $j >"$W/table.md" || return 1
	sed 's/^/# table: /' "$W/table.md"
}

ktap_begin $(($# * 3 + 5))
ktap_case load_module load_module
ktap_case nested_present nested_present $#
dmesg_mark
for f in "$@"; do
	run_road "$f" netlink
	run_road "$f" iommufd --delivery iommufd
	run_road "$f" iommufd-pinned --delivery iommufd --pin-stage2
done
ktap_case roads_table case_table
ktap_case unload_module unload_module
ktap_case dmesg_clean check_dmesg_clean
ktap_end
