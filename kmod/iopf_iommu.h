/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mock IOMMU's objects, shared by its two files: iommu.c (the driver,
 * paging domains, delivery to the IOPF core) and viommu.c (the vIOMMU,
 * nested domains, delivery to a vEVENTQ). Only where the kernel has the
 * bridge (Kbuild).
 */
#ifndef _IOPF_IOMMU_H
#define _IOPF_IOMMU_H

#include <linux/iommu.h>
#include <linux/iommufd.h>

#include "iopf_testbed.h"

struct iopf_domain;
struct iopf_viommu;

/*
 * What the domain attached makes of a bridged device: the paging domain its
 * stage 2 comes from (NULL: nothing translates), the stage mode of its
 * accesses, and for a nested domain with a vDEVICE the vIOMMU and vSID its
 * events go to (arm_smmu_vmaster).
 */
struct iopf_bridge_view {
	struct iopf_domain *s2;
	u32 mode;			/* IOPF_STAGE_MODE_* */
	struct iopf_viommu *vmaster;	/* NULL: none */
	u32 vsid;
};

/* A bridged device: the platform device the IOMMU core knows */
struct iopf_bridge {
	struct platform_device *pdev;
	struct iopf_dev *dev;		/* referenced */
	/*
	 * Under the iommu group mutex (attach_dev). The report reads @view
	 * under dev->stream_lock, which every attach but the release
	 * domain's holds (iommufd_bind.c); that one comes after the report
	 * path stopped seeing the bridge.
	 */
	struct iopf_bridge_view view;
	struct list_head domain_node;
	unsigned int iopf_refs;		/* attached domains taking faults */
	/* The thread inside iommu_report_device_fault(): its responses abort */
	struct task_struct *reporter;
	bool removing;
};

struct iopf_domain {
	struct iommu_domain domain;
	/* pages and bridges */
	struct mutex lock;
	struct xarray pages;		/* IOVA page -> xa_mk_value(PA page << 4 | perm) */
	struct list_head bridges;
};

/* iommu.c */
struct iopf_bridge *iopf_bridge_of(struct device *dev);
struct iopf_domain *iopf_paging_domain(struct iommu_domain *domain);
int iopf_attach(struct iommu_domain *domain, struct device *dev,
		struct iommu_domain *old);

/* viommu.c */
size_t iopf_get_viommu_size(struct device *dev, enum iommu_viommu_type type);
int iopf_viommu_init(struct iommufd_viommu *viommu,
		     struct iommu_domain *parent,
		     const struct iommu_user_data *user_data);
int iopf_nested_view(struct iommu_domain *domain, struct device *dev,
		     struct iopf_bridge_view *view);

#endif /* _IOPF_IOMMU_H */
