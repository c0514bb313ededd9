#!/bin/sh
# Upstream's road alone (iopf.run=upstream.sh): the module loaded, the
# iommufd suite (iopf_upstream_test), the unload with nothing bridged left,
# a clean kernel log. scripts/teeth.sh runs it for the bridge's planted bugs
# (U1-U3): a shorter boot than the whole suite. Prints KTAP.
. /opt/iopf/tests/lib.sh

prog=$IOPF_BIN/iopf_upstream_test
ktap_begin 4
ktap_case load_module load_module
if [ ! -x "$prog" ]; then
	ktap_fail iopf_upstream_test "no $prog (built only with -DIOPF_KERNEL_UAPI)"
elif module_loaded; then
	ktap_subtest iopf_upstream_test "$prog"
else
	ktap_fail iopf_upstream_test "module not loaded"
fi
if module_loaded; then
	ktap_case unload_module unload_module
else
	ktap_skip unload_module "module not loaded"
fi
ktap_case dmesg_clean check_dmesg_clean
ktap_end
