// SPDX-License-Identifier: GPL-2.0
/*
 * Upstream's road (Documentation/upstream-path.md): a mock IOMMU driver
 * whose devices are the module's bridged devices, so that their stall
 * records reach the kernel's own IOPF core and iommufd unchanged.
 *
 *   - one iommu_device, registered without a firmware node: a device with no
 *     fwspec is probed by the first such IOMMU (iommu_init_device()), and
 *     probe_device() accepts only the platform devices this file creates;
 *   - a blocked default domain, and paging domains whose map/unmap are the
 *     stage-2 table of the access model (stages.c) of every device attached;
 *   - IOPF enabled (iopf_queue_add_device()) while a domain with an
 *     iopf_handler, i.e. an iommufd HWPT with a fault queue, is attached;
 *   - a stall record is reported as arm_smmu_handle_event() of Linux 7.2
 *     reports it (fault_core.h: iopf_upstream_decode()), and page_response()
 *     is the module's RESUME.
 *
 * Lock order: the iommu group mutex, then a domain's lock, then the stages
 * lock; the IOPF core's locks, then dev->lock (page_response()). The report
 * holds dev->stream_lock and never dev->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/sched.h>

#include "iopf_iommu.h"

#define IOPF_BRIDGE_PDEV_NAME	"iopf_testbed_bridge"
/* The model's stage-2 input space: 52 bits */
#define IOPF_DOMAIN_APERTURE_END	((1ULL << IOPF_STAGE_ADDR_BITS) - 1)

static struct iopf_iommu {
	struct iommu_device iommu;
	struct platform_device *pdev;	/* the IOMMU's own device, for sysfs */
	struct iopf_queue *iopfq;
	bool registered;
} iopf_iommu;

static const struct iommu_ops iopf_iommu_ops;

/* The model's values are upstream's: fault_core.h builds what is reported */
static_assert(IOPF_RESP_SUCCESS == IOMMU_PAGE_RESP_SUCCESS);
static_assert(IOPF_RESP_INVALID == IOMMU_PAGE_RESP_INVALID);
static_assert(IOPF_RESP_FAILURE == IOMMU_PAGE_RESP_FAILURE);
static_assert(IOPF_PRQ_PASID_VALID == IOMMU_FAULT_PAGE_REQUEST_PASID_VALID);
static_assert(IOPF_PRQ_LAST_PAGE == IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
static_assert(IOPF_PERM_READ == IOMMU_FAULT_PERM_READ);
static_assert(IOPF_PERM_WRITE == IOMMU_FAULT_PERM_WRITE);
static_assert(IOPF_PERM_EXEC == IOMMU_FAULT_PERM_EXEC);
static_assert(IOPF_PERM_PRIV == IOMMU_FAULT_PERM_PRIV);

static struct iopf_domain *to_iopf_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct iopf_domain, domain);
}

struct iopf_bridge *iopf_bridge_of(struct device *dev)
{
	if (!dev_is_platform(dev) ||
	    strcmp(to_platform_device(dev)->name, IOPF_BRIDGE_PDEV_NAME))
		return NULL;
	return dev_get_drvdata(dev);
}

/* ------------------------------------------------------------------ */
/* Page tables: the domain's own copy, replayed into stage 2           */
/* ------------------------------------------------------------------ */

static u32 iopf_prot_perm(int prot)
{
	u32 perm = 0;

	if (prot & IOMMU_READ)
		perm |= IOPF_PERM_READ;
	if (prot & IOMMU_WRITE)
		perm |= IOPF_PERM_WRITE;
	if (!(prot & IOMMU_NOEXEC))
		perm |= IOPF_PERM_EXEC;
	if (prot & IOMMU_PRIV)
		perm |= IOPF_PERM_PRIV;
	return perm;
}

static int iopf_bridge_map_page(struct iopf_bridge *br, unsigned long page,
				void *entry)
{
	u64 v = xa_to_value(entry);

	return iopf_stages_map(br->dev, IOPF_STAGE_2, NULL,
			       (u64)page << IOPF_STAGE_PAGE_SHIFT,
			       (v >> 4) << IOPF_STAGE_PAGE_SHIFT,
			       IOPF_STAGE_PAGE_SIZE, v & IOPF_PERM_ALL, NULL);
}

static void iopf_bridge_unmap_page(struct iopf_bridge *br, unsigned long page)
{
	u64 count;

	iopf_stages_unmap(br->dev, IOPF_STAGE_2, NULL,
			  (u64)page << IOPF_STAGE_PAGE_SHIFT,
			  IOPF_STAGE_PAGE_SIZE, &count, NULL);
}

/* The device sees the domain's pages as its stage-2 table from now on */
static int iopf_domain_link(struct iopf_domain *dom, struct iopf_bridge *br)
{
	unsigned long page;
	void *entry;
	int ret = 0;

	mutex_lock(&dom->lock);
	xa_for_each(&dom->pages, page, entry) {
		ret = iopf_bridge_map_page(br, page, entry);
		if (ret)
			break;
	}
	if (ret) {
		xa_for_each(&dom->pages, page, entry)
			iopf_bridge_unmap_page(br, page);
	} else {
		list_add_tail(&br->domain_node, &dom->bridges);
	}
	mutex_unlock(&dom->lock);
	return ret;
}

static void iopf_domain_unlink(struct iopf_domain *dom, struct iopf_bridge *br)
{
	unsigned long page;
	void *entry;

	mutex_lock(&dom->lock);
	list_del_init(&br->domain_node);
	xa_for_each(&dom->pages, page, entry)
		iopf_bridge_unmap_page(br, page);
	mutex_unlock(&dom->lock);
}

static int iopf_domain_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct iopf_domain *dom = to_iopf_domain(domain);
	u32 perm = iopf_prot_perm(prot);
	struct iopf_bridge *br;
	size_t i;
	int ret = 0;

	mutex_lock(&dom->lock);
	for (i = 0; i < pgcount && !ret; i++) {
		unsigned long page = (iova + i * pgsize) >> IOPF_STAGE_PAGE_SHIFT;
		u64 out = ((u64)paddr + i * pgsize) >> IOPF_STAGE_PAGE_SHIFT;
		void *entry = xa_mk_value(out << 4 | perm);

		ret = xa_insert(&dom->pages, page, entry, gfp);
		if (ret)
			break;
		list_for_each_entry(br, &dom->bridges, domain_node) {
			ret = iopf_bridge_map_page(br, page, entry);
			if (ret)
				break;
		}
		if (ret) {
			/* Not mapped anywhere: *mapped is all iommufd undoes */
			list_for_each_entry(br, &dom->bridges, domain_node)
				iopf_bridge_unmap_page(br, page);
			xa_erase(&dom->pages, page);
			break;
		}
		*mapped += pgsize;
	}
	mutex_unlock(&dom->lock);
	return ret;
}

static size_t iopf_domain_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct iopf_domain *dom = to_iopf_domain(domain);
	struct iopf_bridge *br;
	size_t i, unmapped = 0;

	mutex_lock(&dom->lock);
	for (i = 0; i < pgcount; i++) {
		unsigned long page = (iova + i * pgsize) >> IOPF_STAGE_PAGE_SHIFT;

		if (!xa_erase(&dom->pages, page))
			break;
		list_for_each_entry(br, &dom->bridges, domain_node)
			iopf_bridge_unmap_page(br, page);
		unmapped += pgsize;
	}
	mutex_unlock(&dom->lock);
	return unmapped;
}

static phys_addr_t iopf_domain_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	struct iopf_domain *dom = to_iopf_domain(domain);
	void *entry = xa_load(&dom->pages, iova >> IOPF_STAGE_PAGE_SHIFT);

	if (!entry)
		return 0;
	return ((xa_to_value(entry) >> 4) << IOPF_STAGE_PAGE_SHIFT) |
	       (iova & (IOPF_STAGE_PAGE_SIZE - 1));
}

static void iopf_domain_free(struct iommu_domain *domain)
{
	struct iopf_domain *dom = to_iopf_domain(domain);

	WARN_ON(!list_empty(&dom->bridges));
	xa_destroy(&dom->pages);
	mutex_destroy(&dom->lock);
	kfree(dom);
}

/* ------------------------------------------------------------------ */
/* Attach: stage 2 and IOPF follow the domain                          */
/* ------------------------------------------------------------------ */

static int iopf_bridge_iopf_enable(struct iopf_bridge *br,
				   struct iommu_domain *domain)
{
	int ret;

	if (!domain || !domain->iopf_handler)
		return 0;
	if (br->iopf_refs++)
		return 0;
	ret = iopf_queue_add_device(iopf_iommu.iopfq, &br->pdev->dev);
	if (ret)
		br->iopf_refs = 0;
	return ret;
}

static void iopf_bridge_iopf_disable(struct iopf_bridge *br,
				     struct iommu_domain *domain)
{
	if (!domain || !domain->iopf_handler || WARN_ON(!br->iopf_refs))
		return;
	/* Pending requests are answered INVALID: page_response() below */
	if (!--br->iopf_refs)
		iopf_queue_remove_device(iopf_iommu.iopfq, &br->pdev->dev);
}

static const struct iommu_domain_ops iopf_paging_ops;

struct iopf_domain *iopf_paging_domain(struct iommu_domain *domain)
{
	return domain && domain->ops == &iopf_paging_ops ?
		to_iopf_domain(domain) : NULL;
}

/*
 * What @domain makes of the device. The blocked domain keeps the stage mode
 * (its stage 2 is empty: nothing completes), so that a detach, which must
 * not fail, never meets an access the mode cannot change under.
 */
static int iopf_domain_view(struct iommu_domain *domain, struct device *dev,
			    u32 mode, struct iopf_bridge_view *view)
{
	memset(view, 0, sizeof(*view));
	view->mode = mode;
	if (domain->type == IOMMU_DOMAIN_NESTED)
		return iopf_nested_view(domain, dev, view);
	view->s2 = iopf_paging_domain(domain);
	if (view->s2)
		view->mode = IOPF_STAGE_MODE_S2;
	return 0;
}

/* The device's accesses translate as @mode says (dev->lock: DEV_SET's) */
static int iopf_bridge_set_mode(struct iopf_bridge *br, u32 mode)
{
	int ret;

	mutex_lock(&br->dev->lock);
	ret = iopf_stages_set_mode(br->dev, mode, NULL);
	mutex_unlock(&br->dev->lock);
	return ret;
}

/*
 * Every domain's attach_dev: the stage-2 pages, the stage mode, IOPF and the
 * vmaster follow the domain. On failure the device is left as it was.
 */
int iopf_attach(struct iommu_domain *domain, struct device *dev,
		struct iommu_domain *old)
{
	struct iopf_bridge *br = iopf_bridge_of(dev);
	struct iopf_domain *old_s2;
	struct iopf_bridge_view view;
	u32 old_mode;
	int ret;

	if (WARN_ON(!br))
		return -ENODEV;
	iommu_group_mutex_assert(dev);

	old_mode = iopf_stages_mode(br->dev);
	old_s2 = br->view.s2;
	ret = iopf_domain_view(domain, dev, old_mode, &view);
	if (ret)
		return ret;
	/* Stalled or retried accesses keep the mode: -EBUSY */
	if (view.mode != old_mode) {
		ret = iopf_bridge_set_mode(br, view.mode);
		if (ret)
			return ret;
	}
	ret = iopf_bridge_iopf_enable(br, domain);
	if (ret)
		goto err_mode;
	if (view.s2 != old_s2) {
		if (old_s2)
			iopf_domain_unlink(old_s2, br);
		if (view.s2) {
			ret = iopf_domain_link(view.s2, br);
			if (ret) {
				/* Back to the old domain's view, as the core expects */
				if (old_s2 && iopf_domain_link(old_s2, br))
					br->view.s2 = NULL;
				iopf_bridge_iopf_disable(br, domain);
				goto err_mode;
			}
		}
	}
	br->view = view;
	iopf_bridge_iopf_disable(br, old);
	return 0;

err_mode:
	if (view.mode != old_mode)
		iopf_bridge_set_mode(br, old_mode);
	return ret;
}

static const struct iommu_domain_ops iopf_paging_ops = {
	.attach_dev = iopf_attach,
	.map_pages = iopf_domain_map_pages,
	.unmap_pages = iopf_domain_unmap_pages,
	.iova_to_phys = iopf_domain_iova_to_phys,
	.free = iopf_domain_free,
};

static const struct iommu_domain_ops iopf_blocked_ops = {
	.attach_dev = iopf_attach,
};

static struct iommu_domain iopf_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &iopf_blocked_ops,
};

static struct iommu_domain *
iopf_domain_alloc_paging_flags(struct device *dev, u32 flags,
			       const struct iommu_user_data *user_data)
{
	struct iopf_domain *dom;

	/* A nesting parent is a paging domain: the vIOMMU's stage 2 */
	if ((flags & ~IOMMU_HWPT_ALLOC_NEST_PARENT) ||
	    (user_data && user_data->type != IOMMU_HWPT_DATA_NONE))
		return ERR_PTR(-EOPNOTSUPP);
	dom = kzalloc_obj(*dom, GFP_KERNEL);
	if (!dom)
		return ERR_PTR(-ENOMEM);
	mutex_init(&dom->lock);
	xa_init(&dom->pages);
	INIT_LIST_HEAD(&dom->bridges);
	dom->domain.type = IOMMU_DOMAIN_UNMANAGED;
	dom->domain.ops = &iopf_paging_ops;
	dom->domain.pgsize_bitmap = IOPF_STAGE_PAGE_SIZE;
	dom->domain.geometry.aperture_start = 0;
	dom->domain.geometry.aperture_end = IOPF_DOMAIN_APERTURE_END;
	dom->domain.geometry.force_aperture = true;
	return &dom->domain;
}

/* ------------------------------------------------------------------ */
/* The driver                                                          */
/* ------------------------------------------------------------------ */

static struct iommu_device *iopf_probe_device(struct device *dev)
{
	if (!iopf_bridge_of(dev))
		return ERR_PTR(-ENODEV);
	return &iopf_iommu.iommu;
}

static bool iopf_capable(struct device *dev, enum iommu_cap cap)
{
	/* iommufd_device_bind() requires it; the model has no caches */
	return cap == IOMMU_CAP_CACHE_COHERENCY;
}

/*
 * The IOPF core's response (from the fault queue's write(), its error paths,
 * or a detach flushing what is pending) is the module's RESUME.
 */
static void iopf_page_response_op(struct device *dev, struct iopf_fault *evt,
				  struct iommu_page_response *msg)
{
	struct iopf_bridge *br = iopf_bridge_of(dev);
	struct iopf_page_response resp = {
		.pasid = msg->pasid,
		.grpid = msg->grpid,
		.code = msg->code,
		/*
		 * The request reported, not any with its STAG: after the
		 * timeout aborted it, a new stall may reuse the STAG.
		 */
		.seq = evt->fault.prm.private_data[0],
	};
	u32 origin = IOPF_ORIGIN_RESPONSE;

	if (WARN_ON(!br))
		return;
	if (evt->fault.prm.flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID)
		resp.flags = IOPF_PRQ_PASID_VALID;
	if (iopf_quirk(IOPF_QUIRK_U3_CODE_INVERTED) &&
	    resp.code <= IOMMU_PAGE_RESP_INVALID)
		resp.code ^= 1;
	if (READ_ONCE(br->reporter) == current)
		origin = IOPF_ORIGIN_REPORT_FAILED;
	else if (READ_ONCE(br->removing))
		origin = IOPF_ORIGIN_FLUSH;
	iopf_page_response_from(br->dev, &resp, origin, NULL);
}

static const struct iommu_ops iopf_iommu_ops = {
	/* IOMMU_DOMAIN_BLOCKED is 0: def_domain_type() cannot return it */
	.default_domain = &iopf_blocked_domain,
	.blocked_domain = &iopf_blocked_domain,
	/* A device going away leaves its domain: IOPF off, stage 2 emptied */
	.release_domain = &iopf_blocked_domain,
	.owner = THIS_MODULE,
	.capable = iopf_capable,
	.domain_alloc_paging_flags = iopf_domain_alloc_paging_flags,
	.probe_device = iopf_probe_device,
	/* One group per device: each binds and attaches on its own */
	.device_group = generic_device_group,
	.page_response = iopf_page_response_op,
	/* The vIOMMU: viommu.c */
	.get_viommu_size = iopf_get_viommu_size,
	.viommu_init = iopf_viommu_init,
	/* SMMUv3 keeps the PASID table: a PASID fault goes to the RID domain */
	.user_pasid_table = true,
};

/* ------------------------------------------------------------------ */
/* Delivery                                                            */
/* ------------------------------------------------------------------ */

/**
 * iopf_bridge_report() - the stall record of a bridged device, upstream
 * @dev: a bridged device, its stream lock held (as arm_smmu holds
 *       streams_mutex, and as the bridge is set and cleared)
 * @evt: the fault the module's core took as a pending page request
 *
 * Reported from process context: the IOPF core sleeps. When it cannot
 * deliver, the core answers through page_response(), i.e. a RESUME ABORT
 * with origin REPORT_FAILED.
 */
void iopf_bridge_report(struct iopf_dev *dev, const struct iopf_event *evt)
{
	struct iopf_bridge *br = dev->bridge;
	struct iopf_upstream_prq prq;
	struct iopf_fault up = {};

	lockdep_assert_held(&dev->stream_lock);
	might_sleep();
	/* Upstream's decoder takes every stall record the module's takes */
	if (WARN_ON_ONCE(iopf_upstream_decode(evt->record, false, &prq) !=
			 IOPF_UP_PAGE_REQ))
		return;
	up.fault.type = IOMMU_FAULT_PAGE_REQ;
	up.fault.prm.flags = prq.flags;
	up.fault.prm.pasid = prq.pasid;
	up.fault.prm.grpid = prq.grpid;
	up.fault.prm.perm = prq.perm;
	up.fault.prm.addr = prq.addr;
	/* Not PRIV_DATA: no one but page_response() below reads it */
	up.fault.prm.private_data[0] = evt->seq;
	if (iopf_quirk(IOPF_QUIRK_U1_GRPID_FIELD))
		up.fault.prm.grpid = prq.pasid;
	if (iopf_quirk(IOPF_QUIRK_U2_NO_PASID_VALID))
		up.fault.prm.flags &= ~IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;

	WRITE_ONCE(br->reporter, current);
	iommu_report_device_fault(&br->pdev->dev, &up);
	WRITE_ONCE(br->reporter, NULL);
}

/* ------------------------------------------------------------------ */
/* Bridged devices                                                     */
/* ------------------------------------------------------------------ */

/*
 * The device to bind, under iopf_bind_lock: none once removal began (it ends
 * the bindings under that lock after setting removing).
 */
struct device *iopf_bridge_device(struct iopf_dev *dev)
{
	struct iopf_bridge *br = READ_ONCE(dev->bridge);

	return br && !READ_ONCE(br->removing) ? &br->pdev->dev : NULL;
}

/**
 * iopf_bridge_add() - give a device a platform device the mock IOMMU probes
 * @dev: the device
 * @extack: why not
 *
 * The device's accesses translate by stage 2 only from now on (the IOVA is
 * the IPA), through the tables of the domain attached.
 */
int iopf_bridge_add(struct iopf_dev *dev, struct netlink_ext_ack *extack)
{
	struct platform_device *pdev;
	struct iopf_bridge *br;
	int ret;

	if (!iopf_iommu.registered) {
		NL_SET_ERR_MSG(extack, "no bridge: the mock IOMMU did not register");
		return -EOPNOTSUPP;
	}
	if (dev->bridge) {
		NL_SET_ERR_MSG(extack, "the device is bridged already");
		return -EEXIST;
	}
	ret = iopf_stages_set_mode(dev, IOPF_STAGE_MODE_S2, extack);
	if (ret)
		return ret;

	br = kzalloc_obj(*br, GFP_KERNEL);
	if (!br)
		return -ENOMEM;
	INIT_LIST_HEAD(&br->domain_node);
	kref_get(&dev->ref);
	br->dev = dev;

	pdev = platform_device_alloc(IOPF_BRIDGE_PDEV_NAME, dev->sid);
	if (!pdev) {
		ret = -ENOMEM;
		goto err_free;
	}
	br->pdev = pdev;
	/* No driver binds it: drvdata stays ours (iopf_bridge_of()) */
	platform_set_drvdata(pdev, br);
	ret = platform_device_add(pdev);
	if (ret) {
		platform_device_put(pdev);
		goto err_free;
	}
	if (!device_iommu_mapped(&pdev->dev)) {
		NL_SET_ERR_MSG(extack,
			       "another IOMMU without a firmware node claims the devices of this system");
		pr_warn_ratelimited("%s: not probed by the mock IOMMU: another fwnode-less IOMMU registered first\n",
				    dev_name(&pdev->dev));
		platform_device_unregister(pdev);
		ret = -EBUSY;
		goto err_free;
	}

	/*
	 * Its records go to the core's pending list and the faults group as
	 * any device's (FLAT and UNRECOV: all of them), then upstream. A
	 * handler a user registered before stays, and its flags filter which
	 * page requests go upstream (non-stalled records go whatever they say:
	 * upstream's road for them is the vEVENTQ, not a fault handler).
	 */
	ret = iopf_register_fault_handler(dev, iopf_nl_fault_handler,
					  IOPF_REPORT_FLAT | IOPF_REPORT_UNRECOV,
					  NULL, NULL);
	if (ret && ret != -EBUSY) {
		platform_device_unregister(pdev);
		goto err_free;
	}
	mutex_lock(&dev->stream_lock);
	WRITE_ONCE(dev->bridge, br);
	mutex_unlock(&dev->stream_lock);
	return 0;

err_free:
	iopf_dev_put(dev);
	kfree(br);
	return ret;
}

/**
 * iopf_bridge_remove() - the reverse, in the order that lets nothing hang
 * @dev: the device
 *
 * Bindings go first (iommufd detaches and answers what is pending), then the
 * report path stops seeing the bridge, then the platform device goes (the
 * IOMMU core attaches the blocked domain: IOPF off, stage 2 emptied).
 */
void iopf_bridge_remove(struct iopf_dev *dev)
{
	struct iopf_bridge *br = dev->bridge;

	if (!br)
		return;
	WRITE_ONCE(br->removing, true);
	iopf_bind_remove_dev(dev);
	mutex_lock(&dev->stream_lock);
	WRITE_ONCE(dev->bridge, NULL);
	mutex_unlock(&dev->stream_lock);
	platform_device_unregister(br->pdev);
	WARN_ON(br->iopf_refs || br->view.s2 || br->view.vmaster);
	iopf_dev_put(br->dev);
	kfree(br);
}

int iopf_bridge_del(struct iopf_dev *dev, struct netlink_ext_ack *extack)
{
	if (!dev->bridge) {
		NL_SET_ERR_MSG(extack, "the device is not bridged");
		return -ENOENT;
	}
	iopf_bridge_remove(dev);
	return 0;
}

int iopf_iommu_init(void)
{
	int ret;

	iopf_iommu.iopfq = iopf_queue_alloc(KBUILD_MODNAME);
	if (!iopf_iommu.iopfq)
		return -ENOMEM;
	iopf_iommu.pdev =
		platform_device_register_simple(KBUILD_MODNAME "_iommu",
						PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(iopf_iommu.pdev)) {
		ret = PTR_ERR(iopf_iommu.pdev);
		goto err_queue;
	}
	ret = iommu_device_sysfs_add(&iopf_iommu.iommu, &iopf_iommu.pdev->dev,
				     NULL, "%s", dev_name(&iopf_iommu.pdev->dev));
	if (ret)
		goto err_pdev;
	ret = iommu_device_register(&iopf_iommu.iommu, &iopf_iommu_ops, NULL);
	if (ret)
		goto err_sysfs;
	iopf_iommu.registered = true;
	return 0;

err_sysfs:
	iommu_device_sysfs_remove(&iopf_iommu.iommu);
err_pdev:
	platform_device_unregister(iopf_iommu.pdev);
err_queue:
	iopf_queue_free(iopf_iommu.iopfq);
	return ret;
}

/* Every bridged device is gone: each probed one holds a module reference */
void iopf_iommu_exit(void)
{
	if (!iopf_iommu.registered)
		return;
	iommu_device_unregister(&iopf_iommu.iommu);
	iommu_device_sysfs_remove(&iopf_iommu.iommu);
	platform_device_unregister(iopf_iommu.pdev);
	iopf_queue_free(iopf_iommu.iopfq);
	iopf_iommu.registered = false;
}
