#!/bin/sh
# The YNL spec drives the module (iopf.run=ynl.sh): iopf_ynl, a client built
# only from the code the kernel's tools/net/ynl generates from
# Documentation/netlink/iopf_testbed.yaml plus libynl (scripts/ynl.sh build),
# creates a device, registers flags, receives a fault it injects through
# debugfs from the faults group, reads the device's and the global counters,
# answers the page request, receives the RESUME and deletes the device.
# Its own boot, not a part of e2e.sh: no iopfd may be listening and answering
# page requests, and nothing the project wrote may set the module up for it.
# Prints KTAP; the exit status is the verdict.
# shellcheck disable=SC1091 # lib.sh is in the image
. /opt/iopf/tests/lib.sh

ktap_begin 4
ktap_case load_module load_module
if ! module_loaded; then
	ktap_fail iopf_ynl "module not loaded"
	ktap_skip unload_module "module not loaded"
elif [ ! -x "$IOPF_BIN/iopf_ynl" ]; then
	ktap_fail iopf_ynl "no $IOPF_BIN/iopf_ynl in the initramfs (scripts/ynl.sh build)"
	ktap_case unload_module unload_module
else
	ktap_subtest iopf_ynl "$IOPF_BIN/iopf_ynl"
	ktap_case unload_module unload_module
fi
ktap_case dmesg_clean check_dmesg_clean
ktap_end
