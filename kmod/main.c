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
		 "Reproduce the RFC as posted, to prove the tests catch it: 0x1 B1 filtered faults leak the device lock, 0x2 B2 update's inverted check (NULL dereference), 0x4 B3 stage-2 IPA shifted to a frame number; bugs planted in the upstream bridge: 0x8 U1 grpid from the SSID, 0x10 U2 PASID_VALID dropped, 0x20 U3 response code inverted, 0x40 U4 the physical StreamID on the vEVENTQ, 0x80 U5 stage-2 events on the vEVENTQ");

/*
 * Upstream's road (iommu.c) where the kernel has iommufd. The module loads
 * without it either way and says in one line why it is absent.
 */
static bool iopf_upstream_on;

static void __init iopf_upstream_init(void)
{
#ifdef IOPF_TESTBED_BRIDGE
	int ret;

	ret = iopf_iommu_init();
	if (!ret) {
		ret = iopf_bind_init();
		if (ret)
			iopf_iommu_exit();
	}
	if (ret) {
		pr_warn("upstream bridge absent: the mock IOMMU did not register (%d)\n",
			ret);
		return;
	}
	iopf_upstream_on = true;
	pr_info("upstream bridge: mock IOMMU registered, /dev/%s\n",
		KBUILD_MODNAME);
#else
	pr_info("upstream bridge absent: %s\n", IOPF_BRIDGE_ABSENT);
#endif
}

static void iopf_upstream_exit(void)
{
	if (!iopf_upstream_on)
		return;
	iopf_bind_exit();
	iopf_iommu_exit();
}

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

	ret = iopf_core_module_init();
	if (ret)
		return ret;
	ret = iopf_stages_module_init();
	if (ret)
		goto out_core;
	ret = iopf_debugfs_init();
	if (ret)
		goto out_stages;
	ret = iopf_netlink_init();
	if (ret)
		goto out_debugfs;
	iopf_upstream_init();
	return 0;

out_debugfs:
	iopf_debugfs_exit();
out_stages:
	iopf_stages_module_exit();
out_core:
	iopf_core_module_exit();
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
	 * accesses stalled on it; then the workqueues their retries and
	 * timeout sweeps ran on.
	 */
	iopf_netlink_exit();
	iopf_debugfs_exit();
	iopf_dev_destroy_all();
	/* No bridged device is left: each probed one pins the module */
	iopf_upstream_exit();
	iopf_stages_module_exit();
	iopf_core_module_exit();
}

module_init(iopf_testbed_init);
module_exit(iopf_testbed_exit);

MODULE_DESCRIPTION("Nested-aware IOMMU page-fault reporting test bed");
MODULE_LICENSE("GPL");
MODULE_VERSION(IOPF_TESTBED_VERSION);
