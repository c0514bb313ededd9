#!/bin/sh
# Upstream's road alone (iopf.run=upstream.sh): the module loaded, the
# iommufd suites (iopf_upstream_test; iopf_nested_test, the vIOMMU), the
# unload with nothing bridged left, a clean kernel log. scripts/teeth.sh runs
# it for the bridge's planted bugs (U1-U5): a shorter boot than the whole
# suite. Prints KTAP.
. /opt/iopf/tests/lib.sh

ktap_begin 5
ktap_case load_module load_module
for t in iopf_upstream_test iopf_nested_test; do
	prog=$IOPF_BIN/$t
	if [ ! -x "$prog" ]; then
		ktap_fail "$t" "no $prog (built only with -DIOPF_KERNEL_UAPI)"
	elif module_loaded; then
		ktap_subtest "$t" "$prog"
	else
		ktap_fail "$t" "module not loaded"
	fi
done
if module_loaded; then
	ktap_case unload_module unload_module
else
	ktap_skip unload_module "module not loaded"
fi
ktap_case dmesg_clean check_dmesg_clean
ktap_end
