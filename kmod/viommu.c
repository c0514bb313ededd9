// SPDX-License-Identifier: GPL-2.0
/*
 * Nested translation on upstream's road (Documentation/upstream-path.md): the
 * mock IOMMU's vIOMMU, as arm-smmu-v3-iommufd.c of Linux 7.2 has it.
 *
 *   - a vIOMMU of type ARM_SMMUV3 over a nesting-parent paging domain: the
 *     stage 2 the VMM maps (IOMMU_IOAS_MAP);
 *   - nested domains from a guest's vSTE (iopf_vste_check() in fault_core.h):
 *     abort, bypass (stage 2 only) or stage-1 translate. The model fetches
 *     no context descriptor: S1ContextPtr is kept but the stage-1 tables are
 *     the device's own (STAGE_MAP STAGE 1, the guest model's);
 *   - the vmaster: attaching a translating nested domain needs the device's
 *     vDEVICE, whose virtual ID (the vSID) the device's events carry;
 *   - a non-stalled stage-1 event of such a device goes to the vIOMMU's
 *     vEVENTQ (arm_vmaster_report_event()); a stalled one goes, as any, to
 *     the IOPF core and the nested domain's fault queue (iommu.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "iopf_iommu.h"

/* The driver's vIOMMU: iommufd's core first (VIOMMU_STRUCT_SIZE) */
struct iopf_viommu {
	struct iommufd_viommu core;
	struct iopf_domain *s2_parent;
};

struct iopf_nested_domain {
	struct iommu_domain domain;
	struct iopf_viommu *viommu;
	u64 ste[2];			/* the vSTE as checked, CPU order */
	enum iopf_vste_config cfg;
};

static struct iopf_nested_domain *to_nested(struct iommu_domain *domain)
{
	return container_of(domain, struct iopf_nested_domain, domain);
}

/*
 * The vmaster and the stage mode of a device attaching @domain
 * (arm_smmu_attach_prepare_vmaster()): a stage-1 translating domain needs a
 * vDEVICE; abort and bypass take one if it exists.
 */
int iopf_nested_view(struct iommu_domain *domain, struct device *dev,
		     struct iopf_bridge_view *view)
{
	struct iopf_nested_domain *nd = to_nested(domain);
	unsigned long vsid;
	int ret;

	iommu_group_mutex_assert(dev);
	switch (nd->cfg) {
	case IOPF_VSTE_S1_TRANS:
		view->s2 = nd->viommu->s2_parent;
		view->mode = IOPF_STAGE_MODE_NESTED;
		break;
	case IOPF_VSTE_BYPASS:
		view->s2 = nd->viommu->s2_parent;
		view->mode = IOPF_STAGE_MODE_S2;
		break;
	case IOPF_VSTE_ABORT:
		/* Nothing translates: accesses are refused */
		view->s2 = NULL;
		view->mode = IOPF_STAGE_MODE_NONE;
		break;
	}
	ret = iommufd_viommu_get_vdev_id(&nd->viommu->core, dev, &vsid);
	if (ret)
		return nd->cfg == IOPF_VSTE_S1_TRANS ? ret : 0;
	view->vmaster = nd->viommu;
	view->vsid = vsid;
	return 0;
}

static void iopf_nested_free(struct iommu_domain *domain)
{
	kfree(to_nested(domain));
}

static const struct iommu_domain_ops iopf_nested_ops = {
	.attach_dev = iopf_attach,
	.free = iopf_nested_free,
};

static struct iommu_domain *
iopf_alloc_domain_nested(struct iommufd_viommu *viommu, u32 flags,
			 const struct iommu_user_data *user_data)
{
	struct iommu_hwpt_arm_smmuv3 arg;
	struct iopf_nested_domain *nd;
	enum iopf_vste_config cfg;
	u64 ste[2];
	int ret;

	if (flags)
		return ERR_PTR(-EOPNOTSUPP);
	ret = iommu_copy_struct_from_user(&arg, user_data,
					  IOMMU_HWPT_DATA_ARM_SMMUV3, ste);
	if (ret)
		return ERR_PTR(ret);
	ste[0] = le64_to_cpu(arg.ste[0]);
	ste[1] = le64_to_cpu(arg.ste[1]);
	ret = iopf_vste_check(ste, &cfg);
	if (ret) {
		pr_warn_ratelimited("vSTE refused: 0x%016llx 0x%016llx\n",
				    ste[0], ste[1]);
		return ERR_PTR(ret);
	}

	nd = kzalloc_obj(*nd, GFP_KERNEL_ACCOUNT);
	if (!nd)
		return ERR_PTR(-ENOMEM);
	nd->domain.type = IOMMU_DOMAIN_NESTED;
	nd->domain.ops = &iopf_nested_ops;
	nd->viommu = container_of(viommu, struct iopf_viommu, core);
	nd->ste[0] = ste[0];
	nd->ste[1] = ste[1];
	nd->cfg = cfg;
	return &nd->domain;
}

static const struct iommufd_viommu_ops iopf_viommu_ops = {
	.alloc_domain_nested = iopf_alloc_domain_nested,
};

size_t iopf_get_viommu_size(struct device *dev, enum iommu_viommu_type type)
{
	if (type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3)
		return 0;
	return VIOMMU_STRUCT_SIZE(struct iopf_viommu, core);
}

int iopf_viommu_init(struct iommufd_viommu *viommu,
		     struct iommu_domain *parent,
		     const struct iommu_user_data *user_data)
{
	struct iopf_viommu *v = container_of(viommu, struct iopf_viommu, core);

	/* iommufd made sure it is a nesting parent; ours, too? */
	v->s2_parent = iopf_paging_domain(parent);
	if (!v->s2_parent)
		return -EINVAL;
	viommu->ops = &iopf_viommu_ops;
	return 0;
}

/**
 * iopf_bridge_event() - a non-stalled record of a bridged device, upstream
 * @dev: a bridged device, its stream lock held (arm_smmu's streams_mutex)
 * @evt: the fault the module's core took (and told its listeners of)
 *
 * arm_smmu_handle_event(): a stage-1 event of a device with a vmaster goes,
 * with the vSID, to the vIOMMU's vEVENTQ; anything else reaches no queue
 * ("Unhandled events should be pinned"). Counted either way.
 */
void iopf_bridge_event(struct iopf_dev *dev, const struct iopf_event *evt)
{
	const struct iopf_bridge_view *view = &dev->bridge->view;
	struct iommu_vevent_arm_smmuv3 vevt;
	struct iopf_upstream_prq prq;
	u64 rec[IOPF_EVT_DWORDS];
	u32 vsid = view->vsid;
	int i, ret;

	lockdep_assert_held(&dev->stream_lock);
	might_sleep();
	memcpy(rec, evt->record, sizeof(rec));
	/* Planted: a stage-2 event taken for a stage-1 one */
	if (iopf_quirk(IOPF_QUIRK_U5_S2_VEVENT))
		rec[1] &= ~EVTQ_1_S2;
	if (iopf_upstream_decode(rec, view->vmaster, &prq) != IOPF_UP_VEVENT) {
		mutex_lock(&dev->lock);
		dev->stats.upstream_unhandled++;
		mutex_unlock(&dev->lock);
		return;
	}

	/* Planted: the physical StreamID leaks to the guest */
	if (iopf_quirk(IOPF_QUIRK_U4_PSID_LEAK))
		vsid = dev->sid;
	iopf_vevent_build(evt->record, vsid, rec);
	for (i = 0; i < IOPF_EVT_DWORDS; i++)
		vevt.evt[i] = cpu_to_le64(rec[i]);
	ret = iommufd_viommu_report_event(&view->vmaster->core,
					  IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, &vevt,
					  sizeof(vevt));
	mutex_lock(&dev->lock);
	if (ret)
		dev->stats.vevent_errors++;	/* no vEVENTQ, or no memory */
	else
		dev->stats.vevents++;
	mutex_unlock(&dev->lock);
}
