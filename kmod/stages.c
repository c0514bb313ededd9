// SPDX-License-Identifier: GPL-2.0
/*
 * The two-stage access model (Documentation/stages.md): a device translates
 * DMA through stage 1 (IOVA -> IPA, one table per SubstreamID), stage 2
 * (IPA -> PA, one table per device), or both, nested. An access walks its
 * pages in order as an SMMUv3 does; where a page does not translate it builds
 * the event record the SMMU would write and hands it to the event-queue path
 * (smmu.c) as if it had been injected: decoding, filtering, reporting,
 * pending requests and RESUMEs are the module's own, unchanged.
 *
 * A stalled access waits for the RESUME of its STAG, whoever issues it (a
 * page response, the timeout, a flush, the driver's abort of a request it
 * could not report): RETRY walks it again from the faulting page, on a
 * workqueue, never under the report path's locks; ABORT ends it.
 *
 * Locking: stages.lock is taken after dev->lock (a RESUME arrives under it)
 * and is never held across the report path; the ACCESS notification is
 * sent after it is dropped, except by a device's removal, which notifies
 * the accesses it aborts with it held (the notify lock nests inside it).
 * An access is looked up by its id whenever the lock was dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "iopf_testbed.h"
#include "iopf_trace.h"

static unsigned int iopf_max_mapped_pages = 262144;
module_param_named(max_mapped_pages, iopf_max_mapped_pages, uint, 0644);
MODULE_PARM_DESC(max_mapped_pages,
		 "Pages a device maps at most, stage 1 and stage 2 together (default 262144)");

static unsigned int iopf_max_accesses = 1024;
module_param_named(max_accesses, iopf_max_accesses, uint, 0644);
MODULE_PARM_DESC(max_accesses,
		 "Accesses not ended a device holds at most (1-65536, default 1024)");

static unsigned int iopf_access_history = 1024;

static int iopf_access_history_set(const char *val,
				   const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, IOPF_ACCESS_HISTORY_LIMIT);
}

static const struct kernel_param_ops iopf_access_history_ops = {
	.set = iopf_access_history_set,
	.get = param_get_uint,
};

module_param_cb(access_history, &iopf_access_history_ops,
		&iopf_access_history, 0644);
MODULE_PARM_DESC(access_history,
		 "Ended accesses a device keeps for ACCESS_GET (1-65536, default 1024)");

static unsigned int iopf_max_pasid_tables = 4096;
module_param_named(max_pasid_tables, iopf_max_pasid_tables, uint, 0644);
MODULE_PARM_DESC(max_pasid_tables,
		 "Stage-1 tables (SubstreamIDs) a device has at most (default 4096)");

#define IOPF_ADDR_LIMIT		(1ULL << IOPF_STAGE_ADDR_BITS)
#define IOPF_PAGE_OFFSET	(IOPF_STAGE_PAGE_SIZE - 1)
#define IOPF_PAGES_MAX		(IOPF_ADDR_LIMIT >> IOPF_STAGE_PAGE_SHIFT)
#define IOPF_STAG_MAX		0xffff
#define IOPF_SSID_MAX		0xfffff

static struct workqueue_struct *iopf_stages_wq;
static atomic64_t iopf_access_ids = ATOMIC64_INIT(0);

/* A page's translation, in an xarray value: output page and permission */
#define IOPF_PTE_PERM_BITS	4

static void *iopf_pte(u64 out_page, u32 perm)
{
	return xa_mk_value((unsigned long)(out_page << IOPF_PTE_PERM_BITS |
					   perm));
}

static u64 iopf_pte_out(const void *e)
{
	return xa_to_value(e) >> IOPF_PTE_PERM_BITS;
}

static u32 iopf_pte_perm(const void *e)
{
	return xa_to_value(e) & IOPF_PERM_ALL;
}

/* A SubstreamID's stage-1 table */
struct iopf_s1_table {
	struct xarray pages;	/* IOVA page -> iopf_pte() */
	u64 ttb;		/* nested: the IPA its descriptors are at */
	u64 mapped;
};

struct iopf_access {
	struct list_head node;	/* on stages.ended or stages.retry, or none */
	struct iopf_access_info info;
};

static bool iopf_access_ended(u32 state)
{
	return state == IOPF_ACCESS_COMPLETED ||
	       state == IOPF_ACCESS_ABORTED ||
	       state == IOPF_ACCESS_TERMINATED;
}

static void iopf_stages_retry_work(struct work_struct *work);

void iopf_stages_init(struct iopf_dev *dev)
{
	struct iopf_stages *st = &dev->stages;

	mutex_init(&st->lock);
	xa_init(&st->s1);
	xa_init(&st->s2);
	xa_init(&st->accesses);
	xa_init_flags(&st->stags, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&st->ended);
	INIT_LIST_HEAD(&st->retry);
	INIT_WORK(&st->retry_work, iopf_stages_retry_work);
	atomic64_set(&st->notify_lost, 0);
	st->gen = 1;	/* 0 would not flag a dump that saw it change */
}

/* Tells listeners an access ended; a lost notification is counted */
static void iopf_stages_notify(struct iopf_dev *dev,
			       const struct iopf_access_info *info)
{
	if (!iopf_nl_notify_access(info))
		atomic64_inc(&dev->stages.notify_lost);
}

/*
 * Ends @a, keeping it for ACCESS_GET among the last access_history ended
 * ones. It is the newest: what is dropped is older, @a stays valid.
 */
static void iopf_access_end(struct iopf_stages *st, struct iopf_access *a,
			    u32 state)
{
	u32 keep = READ_ONCE(iopf_access_history);
	struct iopf_access *old;

	lockdep_assert_held(&st->lock);
	a->info.state = state;
	a->info.end_ns = ktime_get_ns();
	trace_iopf_access_end(&a->info);
	a->info.stag = 0;
	switch (state) {
	case IOPF_ACCESS_COMPLETED:
		st->stats.access_completed++;
		break;
	case IOPF_ACCESS_ABORTED:
		st->stats.access_aborted++;
		break;
	default:
		st->stats.access_terminated++;
		break;
	}
	st->nlive--;
	list_add_tail(&a->node, &st->ended);
	st->nended++;
	while (st->nended > keep) {
		old = list_first_entry(&st->ended, struct iopf_access, node);
		list_del(&old->node);
		xa_erase(&st->accesses, old->info.id);
		kfree(old);
		st->nended--;
	}
}

void iopf_stages_teardown(struct iopf_dev *dev)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_access_info info;
	struct iopf_s1_table *t;
	struct iopf_access *a;
	unsigned long idx;

	/* No RETRY queues the work again once removed is set */
	mutex_lock(&st->lock);
	st->removed = true;
	mutex_unlock(&st->lock);
	cancel_work_sync(&st->retry_work);

	mutex_lock(&st->lock);
	/*
	 * The flush answered what was pending, which ended those accesses.
	 * Left: a retry that had not run, and a fault the removal kept from
	 * being reported (no request, no RESUME). Both end aborted.
	 */
	xa_for_each(&st->accesses, idx, a) {
		if (iopf_access_ended(a->info.state))
			continue;
		if (a->info.state == IOPF_ACCESS_STALLED)
			xa_erase(&st->stags, a->info.stag);
		else
			list_del_init(&a->node);
		iopf_access_end(st, a, IOPF_ACCESS_ABORTED);
		info = a->info;
		iopf_stages_notify(dev, &info);
		cond_resched();
	}
	xa_for_each(&st->accesses, idx, a) {
		kfree(a);
		cond_resched();
	}
	xa_destroy(&st->accesses);
	xa_destroy(&st->stags);
	INIT_LIST_HEAD(&st->ended);
	INIT_LIST_HEAD(&st->retry);
	st->nended = 0;
	xa_for_each(&st->s1, idx, t) {
		xa_destroy(&t->pages);
		kfree(t);
		cond_resched();
	}
	xa_destroy(&st->s1);
	st->s1_tables = 0;
	xa_destroy(&st->s2);
	st->stats.mapped_s1 = 0;
	st->stats.mapped_s2 = 0;
	mutex_unlock(&st->lock);
}

void iopf_stages_snapshot(struct iopf_dev *dev, struct iopf_dev_stats *stats)
{
	struct iopf_stages *st = &dev->stages;

	mutex_lock(&st->lock);
	stats->accesses = st->stats.accesses;
	stats->access_faults_l1 = st->stats.access_faults_l1;
	stats->access_faults_l2 = st->stats.access_faults_l2;
	stats->access_completed = st->stats.access_completed;
	stats->access_aborted = st->stats.access_aborted;
	stats->access_terminated = st->stats.access_terminated;
	stats->mapped_s1 = st->stats.mapped_s1;
	stats->mapped_s2 = st->stats.mapped_s2;
	mutex_unlock(&st->lock);
	stats->access_notify_lost = atomic64_read(&st->notify_lost);
}

u32 iopf_stages_mode(struct iopf_dev *dev)
{
	u32 mode;

	mutex_lock(&dev->stages.lock);
	mode = dev->stages.mode;
	mutex_unlock(&dev->stages.lock);
	return mode;
}

/* Called with dev->lock held (DEV_SET) */
int iopf_stages_set_mode(struct iopf_dev *dev, u32 mode,
			 struct netlink_ext_ack *extack)
{
	struct iopf_stages *st = &dev->stages;
	int ret = 0;

	if (mode > IOPF_STAGE_MODE_NESTED) {
		NL_SET_ERR_MSG(extack, "unknown stage mode");
		return -EINVAL;
	}
	mutex_lock(&st->lock);
	if (st->removed) {
		NL_SET_ERR_MSG(extack, "device is being removed");
		ret = -ENODEV;
	} else if (mode != st->mode && st->nlive) {
		NL_SET_ERR_MSG(extack,
			       "accesses are stalled or retried: the stage mode stays");
		ret = -EBUSY;
	} else {
		st->mode = mode;
	}
	mutex_unlock(&st->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Tables                                                               */
/* ------------------------------------------------------------------ */

/* STAGE and PASID of MAP, UNMAP and MAP_GET */
int iopf_stages_map_check(struct iopf_dev *dev, u32 stage, const u32 *pasid,
			  struct netlink_ext_ack *extack)
{
	if (stage != IOPF_STAGE_1 && stage != IOPF_STAGE_2) {
		NL_SET_ERR_MSG(extack, "STAGE is 1 or 2");
		return -EINVAL;
	}
	if (stage == IOPF_STAGE_2 && pasid) {
		NL_SET_ERR_MSG(extack,
			       "stage 2 is per device: no PASID with it");
		return -EINVAL;
	}
	if (pasid && *pasid > IOPF_SSID_MAX) {
		NL_SET_ERR_MSG(extack, "PASID is 20 bits");
		return -ERANGE;
	}
	return 0;
}

/* An input or output range of MAP/UNMAP: whole pages below 2^52 */
static int iopf_range_check(u64 addr, u64 len, const char *what,
			    struct netlink_ext_ack *extack)
{
	if ((addr | len) & IOPF_PAGE_OFFSET) {
		NL_SET_ERR_MSG(extack,
			       "addresses and LEN must be 4 KiB aligned");
		return -EINVAL;
	}
	if (!len) {
		NL_SET_ERR_MSG(extack, "LEN must not be 0");
		return -EINVAL;
	}
	if (len >> IOPF_STAGE_PAGE_SHIFT > IOPF_STAGE_MAX_PAGES_PER_CMD) {
		NL_SET_ERR_MSG(extack,
			       "LEN is over IOPF_STAGE_MAX_PAGES_PER_CMD pages");
		return -E2BIG;
	}
	if (addr >= IOPF_ADDR_LIMIT || len > IOPF_ADDR_LIMIT - addr) {
		if (extack)
			extack->_msg = what;
		return -ERANGE;
	}
	return 0;
}

/* The table of @pasid, made if need be */
static struct iopf_s1_table *iopf_s1_table(struct iopf_stages *st, u32 pasid,
					   struct netlink_ext_ack *extack)
{
	struct iopf_s1_table *t = xa_load(&st->s1, pasid);
	int ret;

	if (t)
		return t;
	if (st->s1_tables >= READ_ONCE(iopf_max_pasid_tables)) {
		NL_SET_ERR_MSG(extack,
			       "too many stage-1 tables (module parameter max_pasid_tables)");
		return ERR_PTR(-ENOSPC);
	}
	t = kzalloc_obj(*t, GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	xa_init(&t->pages);
	t->ttb = IOPF_STAGE_TTB_DEFAULT;
	ret = xa_insert(&st->s1, pasid, t, GFP_KERNEL);
	if (ret) {
		kfree(t);
		return ERR_PTR(ret);
	}
	st->s1_tables++;
	return t;
}

/* An empty table with the default TTB is as good as none: freed */
static void iopf_s1_put(struct iopf_stages *st, u32 pasid,
			struct iopf_s1_table *t)
{
	if (t->mapped || t->ttb != IOPF_STAGE_TTB_DEFAULT)
		return;
	xa_erase(&st->s1, pasid);
	xa_destroy(&t->pages);
	kfree(t);
	st->s1_tables--;
}

int iopf_stages_map(struct iopf_dev *dev, u32 stage, const u32 *pasid,
		    u64 addr, u64 out_addr, u64 len, u32 perm,
		    struct netlink_ext_ack *extack)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_s1_table *t = NULL;
	u64 first, out, n, i;
	unsigned long idx;
	struct xarray *xa;
	int ret;

	ret = iopf_stages_map_check(dev, stage, pasid, extack);
	if (!ret)
		ret = iopf_range_check(addr, len,
				       "ADDR + LEN is beyond 2^52", extack);
	if (!ret)
		ret = iopf_range_check(out_addr, len,
				       "OUT_ADDR + LEN is beyond 2^52", extack);
	if (ret)
		return ret;
	if (perm & ~IOPF_PERM_ALL) {
		NL_SET_ERR_MSG(extack, "unknown permission bit");
		return -EINVAL;
	}
	first = addr >> IOPF_STAGE_PAGE_SHIFT;
	out = out_addr >> IOPF_STAGE_PAGE_SHIFT;
	n = len >> IOPF_STAGE_PAGE_SHIFT;

	mutex_lock(&st->lock);
	if (st->removed) {
		NL_SET_ERR_MSG(extack, "device is being removed");
		ret = -ENODEV;
		goto out_unlock;
	}
	if (st->stats.mapped_s1 + st->stats.mapped_s2 + n >
	    READ_ONCE(iopf_max_mapped_pages)) {
		NL_SET_ERR_MSG(extack,
			       "too many pages mapped (module parameter max_mapped_pages)");
		ret = -ENOSPC;
		goto out_unlock;
	}
	if (stage == IOPF_STAGE_1) {
		t = iopf_s1_table(st, pasid ? *pasid : 0, extack);
		if (IS_ERR(t)) {
			ret = PTR_ERR(t);
			goto out_unlock;
		}
		xa = &t->pages;
	} else {
		xa = &st->s2;
	}

	/* All or nothing */
	idx = first;
	if (xa_find(xa, &idx, first + n - 1, XA_PRESENT)) {
		NL_SET_ERR_MSG(extack, "a page of the range is mapped already");
		ret = -EEXIST;
		goto out_put;
	}
	for (i = 0; i < n; i++) {
		ret = xa_err(xa_store(xa, first + i, iopf_pte(out + i, perm),
				      GFP_KERNEL));
		if (ret) {
			while (i--)
				xa_erase(xa, first + i);
			goto out_put;
		}
		if (!((i + 1) % 1024))
			cond_resched();
	}
	if (t) {
		t->mapped += n;
		st->stats.mapped_s1 += n;
	} else {
		st->stats.mapped_s2 += n;
	}
	st->gen++;
out_put:
	if (t)
		iopf_s1_put(st, pasid ? *pasid : 0, t);
out_unlock:
	mutex_unlock(&st->lock);
	return ret;
}

int iopf_stages_unmap(struct iopf_dev *dev, u32 stage, const u32 *pasid,
		      u64 addr, u64 len, u64 *count,
		      struct netlink_ext_ack *extack)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_s1_table *t = NULL;
	unsigned long idx, last;
	struct xarray *xa;
	u64 n = 0;
	int ret;

	ret = iopf_stages_map_check(dev, stage, pasid, extack);
	if (!ret)
		ret = iopf_range_check(addr, len,
				       "ADDR + LEN is beyond 2^52", extack);
	if (ret)
		return ret;
	idx = addr >> IOPF_STAGE_PAGE_SHIFT;
	last = idx + (len >> IOPF_STAGE_PAGE_SHIFT) - 1;

	mutex_lock(&st->lock);
	if (st->removed) {
		NL_SET_ERR_MSG(extack, "device is being removed");
		ret = -ENODEV;
		goto out_unlock;
	}
	if (stage == IOPF_STAGE_1) {
		t = xa_load(&st->s1, pasid ? *pasid : 0);
		if (!t)
			goto out_unlock;
		xa = &t->pages;
	} else {
		xa = &st->s2;
	}
	/* Pages not mapped are skipped */
	if (xa_find(xa, &idx, last, XA_PRESENT)) {
		do {
			xa_erase(xa, idx);
			if (!(++n % 1024))
				cond_resched();
		} while (xa_find_after(xa, &idx, last, XA_PRESENT));
	}
	if (t) {
		t->mapped -= n;
		st->stats.mapped_s1 -= n;
		iopf_s1_put(st, pasid ? *pasid : 0, t);
	} else {
		st->stats.mapped_s2 -= n;
	}
	if (n)
		st->gen++;
out_unlock:
	mutex_unlock(&st->lock);
	*count = n;
	return ret;
}

int iopf_stages_ttb_set(struct iopf_dev *dev, u32 pasid, u64 ttb,
			struct netlink_ext_ack *extack)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_s1_table *t;
	int ret = 0;

	if (pasid > IOPF_SSID_MAX) {
		NL_SET_ERR_MSG(extack, "PASID is 20 bits");
		return -ERANGE;
	}
	if (ttb & IOPF_PAGE_OFFSET) {
		NL_SET_ERR_MSG(extack, "TTB must be 4 KiB aligned");
		return -EINVAL;
	}
	if (ttb > IOPF_STAGE_TTB_MAX) {
		NL_SET_ERR_MSG(extack,
			       "TTB is over IOPF_STAGE_TTB_MAX: the tables of 52-bit IOVAs would pass 2^52");
		return -ERANGE;
	}
	mutex_lock(&st->lock);
	if (st->removed) {
		NL_SET_ERR_MSG(extack, "device is being removed");
		ret = -ENODEV;
		goto out_unlock;
	}
	t = iopf_s1_table(st, pasid, extack);
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		goto out_unlock;
	}
	t->ttb = ttb;
	st->gen++;
	iopf_s1_put(st, pasid, t);
out_unlock:
	mutex_unlock(&st->lock);
	return ret;
}

/* The table MAP_GET and the listings read; NULL when there is none */
static struct xarray *iopf_stage_xa(struct iopf_stages *st, u32 stage,
				    u32 pasid)
{
	struct iopf_s1_table *t;

	if (stage == IOPF_STAGE_2)
		return &st->s2;
	t = xa_load(&st->s1, pasid);
	return t ? &t->pages : NULL;
}

/* The run of contiguous pages at or after *page; st->lock held */
static bool iopf_xa_next_run(struct xarray *xa, u64 *page,
			     struct iopf_mapping *run)
{
	unsigned long idx = *page;
	u64 n = 1, out;
	void *e, *next;
	u32 perm;

	if (*page >= IOPF_PAGES_MAX)
		return false;
	e = xa_find(xa, &idx, IOPF_PAGES_MAX - 1, XA_PRESENT);
	if (!e)
		return false;
	out = iopf_pte_out(e);
	perm = iopf_pte_perm(e);
	while (idx + n < IOPF_PAGES_MAX) {
		next = xa_load(xa, idx + n);
		if (!next || iopf_pte_out(next) != out + n ||
		    iopf_pte_perm(next) != perm)
			break;
		if (!(++n % 1024))
			cond_resched();
	}
	run->addr = (u64)idx << IOPF_STAGE_PAGE_SHIFT;
	run->out_addr = out << IOPF_STAGE_PAGE_SHIFT;
	run->len = n << IOPF_STAGE_PAGE_SHIFT;
	run->perm = perm;
	*page = idx + n;
	return true;
}

/**
 * iopf_stages_next_run() - the next run of a table, for MAP_GET
 * @dev: the device
 * @stage: IOPF_STAGE_1 or IOPF_STAGE_2
 * @pasid: the stage-1 table's SubstreamID
 * @page: the page to look from; moved past the run
 * @run: filled
 * @gen: the tables' generation, to flag a dump that saw them change
 *
 * Return: false when there is no run at or after *page.
 */
bool iopf_stages_next_run(struct iopf_dev *dev, u32 stage, u32 pasid,
			  u64 *page, struct iopf_mapping *run, u32 *gen)
{
	struct iopf_stages *st = &dev->stages;
	struct xarray *xa;
	bool found = false;

	mutex_lock(&st->lock);
	*gen = st->gen;
	xa = iopf_stage_xa(st, stage, pasid);
	if (xa && !st->removed)
		found = iopf_xa_next_run(xa, page, run);
	mutex_unlock(&st->lock);
	return found;
}

/* ------------------------------------------------------------------ */
/* Accesses                                                             */
/* ------------------------------------------------------------------ */

/*
 * Translates the page of @a holding @iova, as the SMMU walks: in nested
 * mode the stage-1 descriptor's IPA through stage 2 first, then stage 1,
 * then its output through stage 2. False, with the fault in @f, when it
 * does not translate.
 */
static bool iopf_translate(struct iopf_stages *st,
			   const struct iopf_access_info *a, u64 iova,
			   struct iopf_evt_fields *f)
{
	struct iopf_s1_table *t;
	u64 ipa = iova, tipa;
	void *e;

	memset(f, 0, sizeof(*f));
	f->sid = a->sid;
	f->ssv = a->has_pasid;
	f->ssid = a->pasid;
	f->perm = a->perm;
	f->addr = iova;
	f->cls = IOPF_EVT_CLASS_IN;

	if (st->mode == IOPF_STAGE_MODE_S1 ||
	    st->mode == IOPF_STAGE_MODE_NESTED) {
		/* No SubstreamID: SubstreamID 0's table */
		t = xa_load(&st->s1, a->pasid);
		if (st->mode == IOPF_STAGE_MODE_NESTED) {
			tipa = (t ? t->ttb : IOPF_STAGE_TTB_DEFAULT) +
			       ((iova >> IOPF_STAGE_TABLE_SPAN_SHIFT) <<
				IOPF_STAGE_PAGE_SHIFT);
			e = xa_load(&st->s2, tipa >> IOPF_STAGE_PAGE_SHIFT);
			if (!e || !(iopf_pte_perm(e) & IOPF_PERM_READ)) {
				f->event_id = e ? EVT_ID_PERMISSION_FAULT :
						  EVT_ID_TRANSLATION_FAULT;
				f->s2 = true;
				f->cls = IOPF_EVT_CLASS_TT;
				f->tt_read = true;
				f->ipa = tipa;
				return false;
			}
		}
		e = t ? xa_load(&t->pages, iova >> IOPF_STAGE_PAGE_SHIFT) :
			NULL;
		if (!e || !iopf_perm_granted(a->perm, iopf_pte_perm(e))) {
			f->event_id = e ? EVT_ID_PERMISSION_FAULT :
					  EVT_ID_TRANSLATION_FAULT;
			return false;
		}
		if (st->mode == IOPF_STAGE_MODE_S1)
			return true;	/* the output is a PA */
		ipa = iopf_pte_out(e) << IOPF_STAGE_PAGE_SHIFT |
		      (iova & IOPF_PAGE_OFFSET);
	}

	e = xa_load(&st->s2, ipa >> IOPF_STAGE_PAGE_SHIFT);
	if (!e || !iopf_perm_granted(a->perm, iopf_pte_perm(e))) {
		f->event_id = e ? EVT_ID_PERMISSION_FAULT :
				  EVT_ID_TRANSLATION_FAULT;
		f->s2 = true;
		f->ipa = ipa;
		return false;
	}
	return true;
}

/*
 * Walks @a on from where it stopped, st->lock held. Returns true when a page
 * faulted, with its record in @rec: the access is then stalled (with a
 * STAG) or, without Stall, terminated. Otherwise it completed.
 */
static bool iopf_access_walk(struct iopf_stages *st, struct iopf_access *a,
			     u64 *rec)
{
	struct iopf_access_info *ai = &a->info;
	struct iopf_evt_fields f;
	unsigned int n = 0;
	u32 stag;

	while (ai->done < ai->len) {
		u64 iova = ai->addr + ai->done;
		u64 step = min(ai->len - ai->done,
			       IOPF_STAGE_PAGE_SIZE - (iova & IOPF_PAGE_OFFSET));

		if (!iopf_translate(st, ai, iova, &f))
			goto fault;
		ai->done += step;
		if (!(++n % 1024))
			cond_resched();
	}
	iopf_access_end(st, a, IOPF_ACCESS_COMPLETED);
	return false;

fault:
	ai->faults++;
	if (f.s2) {
		ai->faults_l2++;
		st->stats.access_faults_l2++;
	} else {
		ai->faults_l1++;
		st->stats.access_faults_l1++;
	}
	/*
	 * A STAG no stalled access of the device holds. Accesses not ended
	 * are at most 65536, so only -ENOMEM fails it: the transaction is
	 * then terminated, as if it had not stalled.
	 */
	if (ai->stall &&
	    xa_alloc_cyclic(&st->stags, &stag, a, XA_LIMIT(0, IOPF_STAG_MAX),
			    &st->next_stag, GFP_KERNEL) >= 0) {
		f.stall = true;
		f.stag = stag;
		ai->stag = stag;
		ai->state = IOPF_ACCESS_STALLED;
	} else {
		iopf_access_end(st, a, IOPF_ACCESS_TERMINATED);
	}
	iopf_evt_build(&f, rec);
	return true;
}

/*
 * Walks @a and reports its fault, if any. Called with st->lock held; returns
 * with it released, and @a no longer to be touched: from then on a RESUME
 * can end it and later ends drop it. @out (if any) gets its state then.
 */
static void iopf_access_run(struct iopf_dev *dev, struct iopf_access *a,
			    struct iopf_access_info *out)
{
	struct iopf_stages *st = &dev->stages;
	u64 rec[IOPF_EVT_DWORDS];
	struct iopf_access_info info;
	bool faulted;

	lockdep_assert_held(&st->lock);
	faulted = iopf_access_walk(st, a, rec);
	info = a->info;
	mutex_unlock(&st->lock);

	if (faulted) {
		/* The event queue's path, as for an injected record */
		iopf_smmu_handle_access_evt(rec, info.id);
		iopf_nl_flush();
	}
	if (iopf_access_ended(info.state)) {
		/* With its fault's SEQ, which the report set */
		iopf_access_get(dev, info.id, &info);
		iopf_stages_notify(dev, &info);
	}
	if (out)
		*out = info;
}

static void iopf_stages_retry_work(struct work_struct *work)
{
	struct iopf_stages *st = container_of(work, struct iopf_stages,
					      retry_work);
	struct iopf_dev *dev = container_of(st, struct iopf_dev, stages);
	struct iopf_access *a;

	for (;;) {
		mutex_lock(&st->lock);
		if (st->removed || list_empty(&st->retry)) {
			mutex_unlock(&st->lock);
			return;
		}
		a = list_first_entry(&st->retry, struct iopf_access, node);
		list_del_init(&a->node);
		iopf_access_run(dev, a, NULL);
		cond_resched();
	}
}

/**
 * iopf_access_start() - a DMA access by the device: IOPF_CMD_ACCESS
 * @dev: the device
 * @req: what it accesses
 * @info: (optional) the access once walked and its fault reported
 * @extack: why it was refused
 *
 * Return: 0 when the access was made (whatever became of it), or why not.
 */
int iopf_access_start(struct iopf_dev *dev, const struct iopf_access_req *req,
		      struct iopf_access_info *info,
		      struct netlink_ext_ack *extack)
{
	u32 max_live = clamp(READ_ONCE(iopf_max_accesses), 1U,
			     IOPF_STAG_MAX + 1U);
	struct iopf_stages *st = &dev->stages;
	struct iopf_access *a;
	u64 pages;
	int ret;

	if (!req->len) {
		NL_SET_ERR_MSG(extack, "LEN must not be 0");
		return -EINVAL;
	}
	if (req->addr >= IOPF_ADDR_LIMIT ||
	    req->len > IOPF_ADDR_LIMIT - req->addr) {
		NL_SET_ERR_MSG(extack, "ADDR + LEN is beyond 2^52");
		return -ERANGE;
	}
	pages = ((req->addr + req->len - 1) >> IOPF_STAGE_PAGE_SHIFT) -
		(req->addr >> IOPF_STAGE_PAGE_SHIFT) + 1;
	if (pages > IOPF_STAGE_MAX_PAGES_PER_CMD) {
		NL_SET_ERR_MSG(extack,
			       "the access spans over IOPF_STAGE_MAX_PAGES_PER_CMD pages");
		return -E2BIG;
	}
	if (req->perm & ~IOPF_PERM_ALL) {
		NL_SET_ERR_MSG(extack, "unknown permission bit");
		return -EINVAL;
	}
	if (!(req->perm & (IOPF_PERM_READ | IOPF_PERM_WRITE))) {
		NL_SET_ERR_MSG(extack, "PERM must ask for READ and/or WRITE");
		return -EINVAL;
	}
	/* SMMUv3 records an instruction fetch as a read: InD=1 needs RnW=1 */
	if ((req->perm & IOPF_PERM_EXEC) && (req->perm & IOPF_PERM_WRITE)) {
		NL_SET_ERR_MSG(extack, "EXEC is an instruction fetch, a read: not with WRITE");
		return -EINVAL;
	}
	if (req->has_pasid && req->pasid > IOPF_SSID_MAX) {
		NL_SET_ERR_MSG(extack, "PASID is 20 bits");
		return -ERANGE;
	}

	a = kzalloc_obj(*a, GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	INIT_LIST_HEAD(&a->node);
	a->info.sid = dev->sid;
	a->info.has_pasid = req->has_pasid;
	a->info.pasid = req->has_pasid ? req->pasid : 0;
	a->info.stall = req->stall;
	a->info.addr = req->addr;
	a->info.len = req->len;
	a->info.perm = req->perm;
	a->info.state = IOPF_ACCESS_RUNNING;

	mutex_lock(&st->lock);
	if (st->removed) {
		NL_SET_ERR_MSG(extack, "device is being removed");
		ret = -ENODEV;
		goto out_free;
	}
	if (st->mode == IOPF_STAGE_MODE_NONE) {
		NL_SET_ERR_MSG(extack,
			       "the device translates nothing: set its STAGE_MODE first");
		ret = -EINVAL;
		goto out_free;
	}
	if (st->mode == IOPF_STAGE_MODE_S2 && req->has_pasid) {
		NL_SET_ERR_MSG(extack,
			       "a stage-2-only device takes no PASID (no stage 1)");
		ret = -EINVAL;
		goto out_free;
	}
	if (st->nlive >= max_live) {
		NL_SET_ERR_MSG(extack,
			       "too many accesses not ended (module parameter max_accesses)");
		ret = -ENOSPC;
		goto out_free;
	}
	a->info.id = atomic64_inc_return(&iopf_access_ids);
	ret = xa_insert(&st->accesses, a->info.id, a, GFP_KERNEL);
	if (ret)
		goto out_free;
	a->info.start_ns = ktime_get_ns();
	st->nlive++;
	st->stats.accesses++;
	trace_iopf_access_start(&a->info);
	iopf_access_run(dev, a, info);
	/* What the report made of it: aborted if nobody could be told */
	if (info)
		iopf_access_get(dev, info->id, info);
	return 0;

out_free:
	mutex_unlock(&st->lock);
	kfree(a);
	return ret;
}

bool iopf_access_get(struct iopf_dev *dev, u64 id,
		     struct iopf_access_info *info)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_access *a;

	mutex_lock(&st->lock);
	a = xa_load(&st->accesses, id);
	if (a)
		*info = a->info;
	mutex_unlock(&st->lock);
	return a;
}

/* The access with the lowest id >= *id; *id moves past it */
bool iopf_access_next(struct iopf_dev *dev, u64 *id,
		      struct iopf_access_info *info)
{
	struct iopf_stages *st = &dev->stages;
	unsigned long idx = *id;
	struct iopf_access *a;

	mutex_lock(&st->lock);
	a = xa_find(&st->accesses, &idx, ULONG_MAX, XA_PRESENT);
	if (a) {
		*info = a->info;
		*id = (u64)idx + 1;
	}
	mutex_unlock(&st->lock);
	return a;
}

/*
 * The report path delivered an access's fault (dev->lock held, before
 * anyone can answer it): the access learns its SEQ.
 */
void iopf_access_reported(struct iopf_dev *dev, const struct iopf_event *evt)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_access *a;

	lockdep_assert_held(&dev->lock);
	mutex_lock(&st->lock);
	a = xa_load(&st->accesses, evt->access_id);
	if (a)
		a->info.fault_seq = evt->seq;
	mutex_unlock(&st->lock);
}

/**
 * iopf_access_resume() - a RESUME reaches the stalled access
 * @dev: the device, dev->lock held
 * @evt: the page request it answers
 * @resp: IOPF_RESUME_RETRY, ABORT or TERM
 *
 * Whoever issued it. RETRY queues the access to be walked again; the walk
 * reports, so it cannot run here, under the report path's locks.
 */
void iopf_access_resume(struct iopf_dev *dev, const struct iopf_event *evt,
			u32 resp)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_access_info info;
	struct iopf_access *a;
	bool ended = false;

	lockdep_assert_held(&dev->lock);
	mutex_lock(&st->lock);
	a = xa_load(&st->accesses, evt->access_id);
	if (!a || a->info.state != IOPF_ACCESS_STALLED ||
	    a->info.stag != evt->fault.grpid)
		goto out_unlock;
	xa_erase(&st->stags, a->info.stag);
	if (resp == IOPF_RESUME_RETRY && !st->removed) {
		a->info.retries++;
		a->info.state = IOPF_ACCESS_RUNNING;
		a->info.stag = 0;
		list_add_tail(&a->node, &st->retry);
		queue_work(iopf_stages_wq, &st->retry_work);
	} else {
		iopf_access_end(st, a, IOPF_ACCESS_ABORTED);
		info = a->info;
		ended = true;
	}
out_unlock:
	mutex_unlock(&st->lock);
	if (ended)
		iopf_stages_notify(dev, &info);
}

/* ------------------------------------------------------------------ */
/* debugfs listings                                                     */
/* ------------------------------------------------------------------ */

static const char *iopf_access_state_name(u32 state)
{
	switch (state) {
	case IOPF_ACCESS_STALLED:	return "stalled";
	case IOPF_ACCESS_COMPLETED:	return "completed";
	case IOPF_ACCESS_ABORTED:	return "aborted";
	case IOPF_ACCESS_TERMINATED:	return "terminated";
	case IOPF_ACCESS_RUNNING:	return "running";
	default:			return "?";
	}
}

static void iopf_perm_str(u32 perm, char *buf)
{
	static const char letters[] = IOPF_PERM_LETTERS;
	unsigned int i;
	int n = 0;

	for (i = 0; i < sizeof(letters) - 1; i++)
		if (perm & BIT(i))
			buf[n++] = letters[i];
	if (!n)
		buf[n++] = '-';
	buf[n] = '\0';
}

void iopf_stages_show_accesses(struct iopf_dev *dev, struct seq_file *m)
{
	struct iopf_stages *st = &dev->stages;
	struct iopf_access *a;
	unsigned long idx;
	char perm[8];

	mutex_lock(&st->lock);
	xa_for_each(&st->accesses, idx, a) {
		const struct iopf_access_info *ai = &a->info;

		iopf_perm_str(ai->perm, perm);
		seq_printf(m, "id=%llu state=%s addr=%#llx len=%#llx perm=%s",
			   ai->id, iopf_access_state_name(ai->state), ai->addr,
			   ai->len, perm);
		if (ai->has_pasid)
			seq_printf(m, " pasid=%u", ai->pasid);
		seq_printf(m, " stall=%d done=%#llx faults=%u l1=%u l2=%u retries=%u",
			   ai->stall, ai->done, ai->faults, ai->faults_l1,
			   ai->faults_l2, ai->retries);
		if (ai->state == IOPF_ACCESS_STALLED)
			seq_printf(m, " stag=%u", ai->stag);
		seq_putc(m, '\n');
		cond_resched();
	}
	mutex_unlock(&st->lock);
}

static void iopf_show_runs(struct seq_file *m, struct xarray *xa,
			   const char *prefix)
{
	struct iopf_mapping run;
	char perm[8];
	u64 page = 0;

	while (iopf_xa_next_run(xa, &page, &run)) {
		iopf_perm_str(run.perm, perm);
		seq_printf(m, "%s%#llx-%#llx -> %#llx perm=%s\n", prefix,
			   run.addr, run.addr + run.len - 1, run.out_addr, perm);
		cond_resched();
	}
}

void iopf_stages_show_mappings(struct iopf_dev *dev, struct seq_file *m)
{
	static const char * const modes[] = {
		[IOPF_STAGE_MODE_NONE] = "none",
		[IOPF_STAGE_MODE_S1] = "s1",
		[IOPF_STAGE_MODE_S2] = "s2",
		[IOPF_STAGE_MODE_NESTED] = "nested",
	};
	struct iopf_stages *st = &dev->stages;
	struct iopf_s1_table *t;
	unsigned long pasid;
	char prefix[32];

	mutex_lock(&st->lock);
	seq_printf(m, "mode %s\n", st->mode < ARRAY_SIZE(modes) ?
		   modes[st->mode] : "?");
	xa_for_each(&st->s1, pasid, t) {
		seq_printf(m, "s1 pasid=%lu ttb=%#llx pages=%llu\n", pasid,
			   t->ttb, t->mapped);
		snprintf(prefix, sizeof(prefix), "s1 pasid=%lu ", pasid);
		iopf_show_runs(m, &t->pages, prefix);
	}
	seq_printf(m, "s2 pages=%llu\n", st->stats.mapped_s2);
	iopf_show_runs(m, &st->s2, "s2 ");
	mutex_unlock(&st->lock);
}

int iopf_stages_module_init(void)
{
	/* Page numbers and table entries are xarray indices and values */
	BUILD_BUG_ON(BITS_PER_LONG < 64);
	/*
	 * Unbound: a walk may take a while, and 6.17 on warn about a
	 * workqueue that says neither WQ_PERCPU (which 6.1 lacks) nor
	 * WQ_UNBOUND.
	 */
	iopf_stages_wq = alloc_workqueue("iopf_stages", WQ_UNBOUND, 0);
	return iopf_stages_wq ? 0 : -ENOMEM;
}

/* After every device is gone: nothing queues work any more */
void iopf_stages_module_exit(void)
{
	destroy_workqueue(iopf_stages_wq);
}
