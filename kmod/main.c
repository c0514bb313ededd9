// SPDX-License-Identifier: GPL-2.0
/*
 * iopf_testbed: a test bed for nested-aware I/O page-fault reporting
 * (the RFC "iommu: Evolve to support more scenarios of using IOPF") without
 * SMMUv3 hardware. Synthetic devices named by StreamID take SMMUv3 event
 * records from debugfs; reported faults reach user space over generic
 * netlink, which also answers page requests.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "iopf_testbed.h"

unsigned int iopf_quirks;
module_param_named(quirks, iopf_quirks, uint, 0444);
MODULE_PARM_DESC(quirks,
		 "Reproduce the RFC as posted, to prove the tests catch it: 0x1 B1 filtered faults leak the device lock, 0x2 B2 update's inverted check (NULL dereference), 0x4 B3 stage-2 IPA shifted to a frame number");

static int __init iopf_testbed_init(void)
{
	int ret;

	if (iopf_quirks & ~IOPF_QUIRK_ALL) {
		pr_err("quirks=%#x: unknown bits\n", iopf_quirks);
		return -EINVAL;
	}
	if (iopf_quirks)
		pr_warn("quirks=%#x: reproducing bugs of the RFC as posted\n",
			iopf_quirks);

	ret = iopf_stages_module_init();
	if (ret)
		return ret;
	ret = iopf_debugfs_init();
	if (ret)
		goto out_stages;
	ret = iopf_netlink_init();
	if (ret)
		goto out_debugfs;
	return 0;

out_debugfs:
	iopf_debugfs_exit();
out_stages:
	iopf_stages_module_exit();
	return ret;
}

static void __exit iopf_testbed_exit(void)
{
	/*
	 * The family first: genl doits do not pin the module, and
	 * unregistering waits for those running, so no DEV_NEW or DEV_DEL
	 * adds or removes a debugfs directory under (or after) the removal of
	 * the tree. Then debugfs, which waits for writers: no record is
	 * injected afterwards. Then the devices: removing them answers what is
	 * still pending (nobody hears it: the family is gone), which ends the
	 * accesses stalled on it; then the workqueue their retries ran on.
	 */
	iopf_netlink_exit();
	iopf_debugfs_exit();
	iopf_dev_destroy_all();
	iopf_stages_module_exit();
}

module_init(iopf_testbed_init);
module_exit(iopf_testbed_exit);

MODULE_DESCRIPTION("Nested-aware IOMMU page-fault reporting test bed");
MODULE_LICENSE("GPL");
MODULE_VERSION(IOPF_TESTBED_VERSION);
