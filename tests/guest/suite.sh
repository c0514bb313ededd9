#!/bin/sh
# The in-guest suite (iopf.run=suite.sh, the default): load the module, run
# every /opt/iopf/bin/iopf_*_test (kselftest-harness programs printing TAP),
# unload the module, and check the kernel log stayed clean. Prints KTAP; the
# exit status is the verdict.
. /opt/iopf/tests/lib.sh

find_selftests

# load_module, each program (or one failure when there is none), unload, dmesg.
ktap_begin $((2 + (ntests > 0 ? ntests : 1) + 1))

ktap_case load_module load_module

run_selftests

# Unloading exercises the exit path; a bug there shows in the log check below.
if module_loaded; then
	ktap_case unload_module unload_module
else
	ktap_skip unload_module "module not loaded"
fi

ktap_case dmesg_clean check_dmesg_clean
ktap_end
