// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU core's side of fault reporting, as drivers/iommu/iommu.c had it
 * in v5.13 with the RFC "iommu: Evolve to support more scenarios of using
 * IOPF" applied, and the review's bugs fixed:
 *
 *  - the update call checks that a handler exists (the RFC's check was
 *    inverted: -EINVAL with a handler, NULL dereference without);
 *  - a filtered fault releases the device lock (the RFC returned with it
 *    held, hanging the device's next report or registration);
 *  - flag sets that can never deliver anything are rejected.
 *
 * Devices are the synthetic ones the test bed creates, keyed by StreamID.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "iopf_testbed.h"
#include "iopf_trace.h"

/*
 * Bounds on what a user can make the module hold. A pending request costs
 * about 200 bytes (Documentation/model.md has the figures); a StreamID can
 * have at most one stalled transaction per STAG, 2^16, outstanding.
 */
static unsigned int iopf_pending_limit = 1024;
module_param_named(pending_limit, iopf_pending_limit, uint, 0644);
MODULE_PARM_DESC(pending_limit,
		 "Page requests a new device holds pending at most; more are aborted (1-65536, default 1024)");

static unsigned int iopf_max_devices = 1024;

static int iopf_max_devices_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, IOPF_MAX_DEVICES_LIMIT);
}

static const struct kernel_param_ops iopf_max_devices_ops = {
	.set = iopf_max_devices_set,
	.get = param_get_uint,
};

module_param_cb(max_devices, &iopf_max_devices_ops, &iopf_max_devices, 0644);
MODULE_PARM_DESC(max_devices,
		 "Devices that may exist at once (1-65536, default 1024)");

static DEFINE_XARRAY(iopf_devs);
/* Serialises device creation and removal against look-ups */
static DEFINE_MUTEX(iopf_devs_lock);
static u32 iopf_devs_gen;

static atomic64_t iopf_records = ATOMIC64_INIT(0);
static atomic64_t iopf_unhandled = ATOMIC64_INIT(0);
static atomic64_t iopf_unknown_sid = ATOMIC64_INIT(0);
static atomic64_t iopf_ndevs = ATOMIC64_INIT(0);
static atomic64_t iopf_resume_lost = ATOMIC64_INIT(0);

/*
 * The timeout sweeps run here rather than on system_wq: a sweep is a
 * mutex-holding batch of RESUMEs (IOPF_TIMEOUT_BATCH), and thousands of
 * them may be due at once. Unbound: 6.17 on warn about a workqueue that
 * says neither WQ_PERCPU (which 6.1 lacks) nor WQ_UNBOUND.
 */
static struct workqueue_struct *iopf_wq;

/* Requests a sweep answers before it lets the device's lock go */
#define IOPF_TIMEOUT_BATCH	256

static void iopf_dev_timeout_work(struct work_struct *work);

int iopf_core_module_init(void)
{
	iopf_wq = alloc_workqueue(KBUILD_MODNAME, WQ_UNBOUND, 0);
	return iopf_wq ? 0 : -ENOMEM;
}

/* After every device is gone: nothing queues a sweep any more */
void iopf_core_module_exit(void)
{
	destroy_workqueue(iopf_wq);
}

int iopf_dev_create(u32 sid, struct netlink_ext_ack *extack)
{
	struct iopf_dev *dev;
	int ret;

	dev = kzalloc_obj(*dev, GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	kref_init(&dev->ref);
	mutex_init(&dev->stream_lock);
	mutex_init(&dev->lock);
	INIT_DELAYED_WORK(&dev->timeout_work, iopf_dev_timeout_work);
	iopf_stages_init(dev);
	dev->sid = sid;
	dev->pending_limit = clamp_val(READ_ONCE(iopf_pending_limit), 1,
				       IOPF_PENDING_LIMIT_MAX);

	mutex_lock(&iopf_devs_lock);
	if (atomic64_read(&iopf_ndevs) >= READ_ONCE(iopf_max_devices)) {
		NL_SET_ERR_MSG(extack, "too many devices (module parameter max_devices)");
		ret = -ENOSPC;
	} else {
		ret = xa_insert(&iopf_devs, sid, dev, GFP_KERNEL);
	}
	if (!ret) {
		dev->gen = ++iopf_devs_gen;
		atomic64_inc(&iopf_ndevs);
		iopf_debugfs_dev_add(dev);
	}
	mutex_unlock(&iopf_devs_lock);

	if (ret) {
		mutex_destroy(&dev->stages.lock);
		mutex_destroy(&dev->lock);
		mutex_destroy(&dev->stream_lock);
		kfree(dev);
	}
	if (ret == -EBUSY) {
		NL_SET_ERR_MSG(extack, "a device with this StreamID exists");
		return -EEXIST;
	}
	return ret;
}

static void iopf_dev_release(struct kref *ref)
{
	struct iopf_dev *dev = container_of(ref, struct iopf_dev, ref);

	mutex_destroy(&dev->stages.lock);
	mutex_destroy(&dev->lock);
	mutex_destroy(&dev->stream_lock);
	/* A look-up under RCU may still be reading it */
	kfree_rcu(dev, rcu);
}

void iopf_dev_put(struct iopf_dev *dev)
{
	kref_put(&dev->ref, iopf_dev_release);
}

/* Consistent copies of the counters and of what else is asked for */
void iopf_dev_snapshot(struct iopf_dev *dev, struct iopf_dev_stats *stats,
		       u32 *flags, u32 *pending_limit, u32 *timeout_ms)
{
	mutex_lock(&dev->lock);
	*stats = dev->stats;
	if (flags)
		*flags = dev->fault_param ? dev->fault_param->flags : 0;
	if (pending_limit)
		*pending_limit = dev->pending_limit;
	if (timeout_ms)
		*timeout_ms = dev->timeout_ms;
	mutex_unlock(&dev->lock);
	iopf_stages_snapshot(dev, stats);
	stats->notify_lost = atomic64_read(&dev->notify_lost);
	stats->notify_unheard = atomic64_read(&dev->notify_unheard);
}

/*
 * Takes a reference; the caller drops it with iopf_dev_put(). Every record
 * and command looks its device up: under RCU, not the registry lock. A
 * device being removed may still be found and referenced here (it then
 * refuses what it must: dev->removed), never one being freed.
 */
struct iopf_dev *iopf_dev_get(u32 sid)
{
	struct iopf_dev *dev;

	rcu_read_lock();
	dev = xa_load(&iopf_devs, sid);
	if (dev && !kref_get_unless_zero(&dev->ref))
		dev = NULL;
	rcu_read_unlock();
	return dev;
}

/* The device with the lowest StreamID >= *index, referenced, for dumps */
struct iopf_dev *iopf_dev_find_next(unsigned long *index)
{
	struct iopf_dev *dev;

	mutex_lock(&iopf_devs_lock);
	dev = xa_find(&iopf_devs, index, U32_MAX, XA_PRESENT);
	if (dev)
		kref_get(&dev->ref);
	mutex_unlock(&iopf_devs_lock);
	return dev;
}

/* Changes whenever the set of devices does: dumps flag NLM_F_DUMP_INTR */
u32 iopf_devs_generation(void)
{
	u32 gen;

	mutex_lock(&iopf_devs_lock);
	gen = iopf_devs_gen;
	mutex_unlock(&iopf_devs_lock);
	return gen;
}

/*
 * Pending requests are on fparam->faults, oldest first (timeouts, flush),
 * and indexed by STAG: fparam->stags holds the oldest request with each
 * STAG, and those with the same STAG form a ring through same_stag, oldest
 * first after it. A response is matched without walking the list. They
 * are also indexed by their dev_seq in fparam->seqs, where a dump finds
 * the next one after the last it sent without walking what it has sent
 * (BITS_PER_LONG is 64: iopf_stages_module_init()).
 */
static int iopf_pending_add(struct iopf_dev *dev,
			    struct iopf_fault_param *fparam,
			    struct iopf_event *evt)
{
	struct iopf_event *first;
	int ret;

	ret = xa_insert(&fparam->seqs, evt->dev_seq, evt, GFP_KERNEL);
	if (ret)
		return ret;
	INIT_LIST_HEAD(&evt->same_stag);
	first = xa_load(&fparam->stags, evt->fault.grpid);
	if (first) {
		list_add_tail(&evt->same_stag, &first->same_stag);
	} else {
		ret = xa_insert(&fparam->stags, evt->fault.grpid, evt,
				GFP_KERNEL);
		if (ret) {
			xa_erase(&fparam->seqs, evt->dev_seq);
			return ret;
		}
	}
	list_add_tail(&evt->list, &fparam->faults);
	dev->stats.pending++;
	return 0;
}

static void iopf_pending_del(struct iopf_dev *dev,
			     struct iopf_fault_param *fparam,
			     struct iopf_event *evt)
{
	if (xa_load(&fparam->stags, evt->fault.grpid) == evt) {
		if (list_empty(&evt->same_stag))
			xa_erase(&fparam->stags, evt->fault.grpid);
		else	/* replaces an entry: cannot fail */
			xa_store(&fparam->stags, evt->fault.grpid,
				 list_next_entry(evt, same_stag), GFP_KERNEL);
	}
	xa_erase(&fparam->seqs, evt->dev_seq);
	list_del(&evt->same_stag);
	list_del(&evt->list);
	kfree(evt);
	dev->stats.pending--;
}

/* Answers what has waited longer than the device's timeout */
static void iopf_dev_timeout_work(struct work_struct *work)
{
	struct iopf_dev *dev = container_of(to_delayed_work(work),
					    struct iopf_dev, timeout_work);
	struct iopf_fault_param *fparam;
	struct iopf_event *evt, *next;
	unsigned int done = 0;
	u64 now, tmo;

	mutex_lock(&dev->lock);
	fparam = dev->fault_param;
	if (dev->removed || !fparam || !dev->timeout_ms)
		goto out_unlock;
	tmo = (u64)dev->timeout_ms * NSEC_PER_MSEC;
	now = ktime_get_ns();
	list_for_each_entry_safe(evt, next, &fparam->faults, list) {
		if (evt->timestamp_ns + tmo > now) {
			/* The oldest left: come back when it is due */
			queue_delayed_work(iopf_wq, &dev->timeout_work,
					   nsecs_to_jiffies(evt->timestamp_ns +
							    tmo - now) + 1);
			break;
		}
		if (done++ == IOPF_TIMEOUT_BATCH) {
			/*
			 * More are due: again a tick later, not at once. A
			 * kworker runs work queued again without scheduling,
			 * and would take the lock back before a waiter it woke
			 * on its CPU ran: reports, responses and DEV_GETs
			 * waiting for it get the device in between.
			 */
			queue_delayed_work(iopf_wq, &dev->timeout_work, 1);
			break;
		}
		iopf_smmu_page_response(dev, evt, IOPF_RESP_FAILURE,
					IOPF_ORIGIN_TIMEOUT);
		iopf_pending_del(dev, fparam, evt);
		dev->stats.timeouts++;
		cond_resched();
	}
out_unlock:
	mutex_unlock(&dev->lock);
}

/* Called with dev->lock held, when a request becomes pending */
static void iopf_timeout_arm(struct iopf_dev *dev)
{
	if (dev->timeout_ms && !delayed_work_pending(&dev->timeout_work))
		queue_delayed_work(iopf_wq, &dev->timeout_work,
				   msecs_to_jiffies(dev->timeout_ms) + 1);
}

int iopf_dev_configure(struct iopf_dev *dev,
		       const struct iopf_dev_config *cfg,
		       struct netlink_ext_ack *extack)
{
	int ret = 0;

	mutex_lock(&dev->lock);
	if (dev->removed) {
		NL_SET_ERR_MSG(extack, "device is being removed");
		ret = -ENODEV;
		goto out_unlock;
	}
	/* First: the one setting that can be refused, and then nothing is */
	if (cfg->stage_mode) {
		ret = iopf_stages_set_mode(dev, *cfg->stage_mode, extack);
		if (ret)
			goto out_unlock;
	}
	/* A lower limit leaves what is pending; it only refuses more */
	if (cfg->pending_limit)
		dev->pending_limit = *cfg->pending_limit;
	if (cfg->timeout_ms) {
		dev->timeout_ms = *cfg->timeout_ms;
		/*
		 * Rearm from the new value: the work may be queued for the old,
		 * longer timeout, and iopf_timeout_arm() leaves queued work be.
		 * With nothing pending the work finds nothing and the next
		 * request arms it afresh.
		 */
		if (dev->timeout_ms)
			mod_delayed_work(iopf_wq, &dev->timeout_work, 0);
		else
			cancel_delayed_work(&dev->timeout_work);
	}
out_unlock:
	mutex_unlock(&dev->lock);
	return ret;
}

/*
 * Removing a device answers its pending page requests, as a driver tearing
 * down a stalled stream must, and drops the handler. The stream lock keeps
 * out an event being reported and, if need be, aborted: that request is
 * either answered by the event's thread before, or flushed here.
 */
static void iopf_dev_teardown(struct iopf_dev *dev)
{
	struct iopf_fault_param *fparam;
	struct iopf_event *evt, *next;

	/* Before debugfs waits for its writers: they stop at the next item */
	WRITE_ONCE(dev->dying, true);
	/* Unbound and detached first: iommufd answers what it holds */
	iopf_bridge_remove(dev);
	iopf_debugfs_dev_remove(dev);

	mutex_lock(&dev->stream_lock);
	mutex_lock(&dev->lock);
	dev->removed = true;
	fparam = dev->fault_param;
	dev->fault_param = NULL;
	if (fparam) {
		list_for_each_entry_safe(evt, next, &fparam->faults, list) {
			iopf_smmu_page_response(dev, evt, IOPF_RESP_FAILURE,
						IOPF_ORIGIN_FLUSH);
			iopf_pending_del(dev, fparam, evt);
			/* Up to 64Ki requests, under genl_mutex */
			cond_resched();
		}
		xa_destroy(&fparam->stags);
		xa_destroy(&fparam->seqs);
	}
	mutex_unlock(&dev->lock);
	mutex_unlock(&dev->stream_lock);
	/* After removed is set nothing queues it again */
	cancel_delayed_work_sync(&dev->timeout_work);
	/* Accesses the flush did not end, and the tables */
	iopf_stages_teardown(dev);
	kfree(fparam);
	iopf_dev_put(dev);
}

int iopf_dev_destroy(u32 sid, struct netlink_ext_ack *extack)
{
	struct iopf_dev *dev;

	mutex_lock(&iopf_devs_lock);
	dev = xa_erase(&iopf_devs, sid);
	if (dev) {
		iopf_devs_gen++;
		atomic64_dec(&iopf_ndevs);
	}
	mutex_unlock(&iopf_devs_lock);

	if (!dev) {
		NL_SET_ERR_MSG(extack, "no device with this StreamID");
		return -ENODEV;
	}
	iopf_dev_teardown(dev);
	return 0;
}

void iopf_dev_destroy_all(void)
{
	unsigned long index = 0;
	struct iopf_dev *dev;

	while ((dev = iopf_dev_find_next(&index))) {
		iopf_dev_destroy(dev->sid, NULL);
		iopf_dev_put(dev);
		cond_resched();
	}
}

int iopf_register_fault_handler(struct iopf_dev *dev,
				iopf_fault_handler_t handler, u32 flags,
				void *data, struct netlink_ext_ack *extack)
{
	struct iopf_fault_param *fparam;
	const char *why;
	int ret = 0;

	why = iopf_flags_check(flags);
	if (why) {
		/* fault_core.h's reasons are string literals: static storage */
		if (extack)
			extack->_msg = why;
		return -EINVAL;
	}

	fparam = kzalloc_obj(*fparam, GFP_KERNEL);
	if (!fparam)
		return -ENOMEM;
	fparam->handler = handler;
	fparam->flags = flags;
	fparam->data = data;
	INIT_LIST_HEAD(&fparam->faults);
	xa_init(&fparam->stags);
	xa_init(&fparam->seqs);

	mutex_lock(&dev->lock);
	if (dev->removed) {
		NL_SET_ERR_MSG(extack, "device is being removed");
		ret = -ENODEV;
	} else if (dev->fault_param) {
		NL_SET_ERR_MSG(extack, "a fault handler is already registered");
		ret = -EBUSY;
	} else {
		dev->fault_param = fparam;
		fparam = NULL;
	}
	mutex_unlock(&dev->lock);

	kfree(fparam);
	return ret;
}

/* The RFC's iommu_update_device_fault_handler(): flags = (flags & mask) | set */
int iopf_update_fault_handler(struct iopf_dev *dev, u32 mask, u32 set,
			      struct netlink_ext_ack *extack)
{
	const char *why;
	u32 flags;
	int ret = 0;

	mutex_lock(&dev->lock);
	if (iopf_quirk(IOPF_QUIRK_B2_UPDATE_CHECK)) {
		/* The RFC as posted: inverted, then dereferences NULL */
		if (dev->fault_param) {
			ret = -EINVAL;
			goto out_unlock;
		}
	} else if (!dev->fault_param) {
		NL_SET_ERR_MSG(extack, "no fault handler registered");
		ret = -ENODEV;
		goto out_unlock;
	}

	flags = (dev->fault_param->flags & mask) | set;
	why = iopf_flags_check(flags);
	if (why) {
		if (extack)
			extack->_msg = why;
		ret = -EINVAL;
		goto out_unlock;
	}
	dev->fault_param->flags = flags;

out_unlock:
	mutex_unlock(&dev->lock);
	return ret;
}

int iopf_unregister_fault_handler(struct iopf_dev *dev,
				  struct netlink_ext_ack *extack)
{
	struct iopf_fault_param *fparam = NULL;
	int ret = 0;

	mutex_lock(&dev->lock);
	if (!dev->fault_param) {
		NL_SET_ERR_MSG(extack, "no fault handler registered");
		ret = -ENODEV;
	} else if (!list_empty(&dev->fault_param->faults)) {
		/* We cannot unregister the handler while faults are pending */
		NL_SET_ERR_MSG(extack, "page requests are pending");
		ret = -EBUSY;
	} else {
		fparam = dev->fault_param;
		dev->fault_param = NULL;
	}
	mutex_unlock(&dev->lock);

	kfree(fparam);
	return ret;
}

static int iopf_filter(struct iopf_dev *dev, enum iopf_verdict verdict)
{
	switch (verdict) {
	case IOPF_DELIVER:
		return 0;
	case IOPF_FILTER_L1:
		dev->stats.filtered_l1++;
		break;
	case IOPF_FILTER_L2:
		dev->stats.filtered_l2++;
		break;
	case IOPF_FILTER_UNRECOV:
	case IOPF_FILTER_FLAT:	/* unreachable: registered flags are valid */
		dev->stats.filtered_unrecov++;
		break;
	}
	return -EOPNOTSUPP;
}

/**
 * iopf_report_device_fault() - iommu_report_device_fault() with the RFC
 * @dev: the device the fault came from
 * @evt: the fault; its dev_seq is set here, the handler fills in its seq
 *
 * A page request is refused (-ENOSPC, counted in pending_full) when the
 * device already holds pending_limit of them: the driver then aborts it, as
 * it does any request it cannot report.
 *
 * Return: 0 when the handler took the fault; -EINVAL without a handler,
 * -EOPNOTSUPP when the handler's flags filter it, -ENOSPC or -ENOMEM when
 * the request cannot be kept pending, or the handler's error.
 */
int iopf_report_device_fault(struct iopf_dev *dev, struct iopf_event *evt)
{
	struct iopf_event *evt_pending = NULL;
	struct iopf_fault_param *fparam;
	int ret;

	mutex_lock(&dev->lock);
	if (dev->removed) {
		ret = -ENODEV;
		goto done_unlock;
	}
	dev->stats.injected++;

	fparam = dev->fault_param;
	if (!fparam || !fparam->handler) {
		dev->stats.no_handler++;
		ret = -EINVAL;
		goto done_unlock;
	}

	ret = iopf_filter(dev, iopf_delivery(fparam->flags, &evt->fault));
	if (ret) {
		/* The RFC as posted returned here with the lock held */
		if (iopf_quirk(IOPF_QUIRK_B1_LOCK_LEAK))
			return ret;
		goto done_unlock;
	}

	/*
	 * The device's SEQ of the fault if the handler takes it: known before
	 * the request is made pending, which indexes it by this SEQ.
	 */
	evt->dev_seq = dev->dev_seq + 1;

	/* Pending before the handler runs, so it may respond at once */
	if (evt->fault.type == IOPF_FAULT_PAGE_REQ &&
	    (evt->fault.flags & IOPF_PRQ_LAST_PAGE)) {
		if (dev->stats.pending >= dev->pending_limit) {
			dev->stats.pending_full++;
			dev->stats.report_failed++;
			ret = -ENOSPC;
			goto done_unlock;
		}
		if (!iopf_should_fail(IOPF_FAIL_REPORT_ALLOC))
			evt_pending = kmemdup(evt, sizeof(*evt), GFP_KERNEL);
		if (evt_pending &&
		    iopf_pending_add(dev, fparam, evt_pending)) {
			kfree(evt_pending);
			evt_pending = NULL;
		}
		if (!evt_pending) {
			dev->stats.report_failed++;
			ret = -ENOMEM;
			goto done_unlock;
		}
	}

	ret = fparam->handler(dev, evt, fparam->data);
	if (ret) {
		if (evt_pending)
			iopf_pending_del(dev, fparam, evt_pending);
		dev->stats.report_failed++;
		goto done_unlock;
	}

	dev->dev_seq = evt->dev_seq;
	if (evt_pending) {
		evt_pending->seq = evt->seq;
		iopf_timeout_arm(dev);
	}
	dev->stats.reported++;
	trace_iopf_fault(evt);
	if (evt->access_id)
		iopf_access_reported(dev, evt);

done_unlock:
	if (ret)
		trace_iopf_fault_drop(dev, evt, ret);
	mutex_unlock(&dev->lock);
	return ret;
}

/**
 * iopf_page_response() - iommu_page_response() of v5.13
 * @dev: the device
 * @msg: the response
 * @extack: why it was rejected
 *
 * The oldest pending request with the response's grpid is answered (v5.13
 * took the first match of its list, which is the same): a second request
 * with a STAG still pending waits behind the first. A PASID must match only
 * when the request needs one (IOPF_PRQ_NEEDS_PASID, which SMMUv3 never
 * sets); otherwise a PASID in the response is dropped.
 */
int iopf_page_response(struct iopf_dev *dev,
		       const struct iopf_page_response *msg,
		       struct netlink_ext_ack *extack)
{
	return iopf_page_response_from(dev, msg, IOPF_ORIGIN_RESPONSE, extack);
}

/*
 * The same, answered by someone other than a netlink user: the IOPF core
 * for a bridged device (iommu.c), which names the RESUME's origin.
 */
int iopf_page_response_from(struct iopf_dev *dev,
			    const struct iopf_page_response *msg, u32 origin,
			    struct netlink_ext_ack *extack)
{
	bool has_pasid = msg->flags & IOPF_PRQ_PASID_VALID;
	struct iopf_fault_param *fparam;
	struct iopf_event *first, *evt;
	int ret = -EINVAL;

	mutex_lock(&dev->lock);
	trace_iopf_response(dev, msg, origin);
	fparam = dev->fault_param;
	if (!fparam) {
		NL_SET_ERR_MSG(extack, "no fault handler registered");
		ret = -ENODEV;
		goto done_unlock;
	}
	if (list_empty(&fparam->faults)) {
		NL_SET_ERR_MSG(extack, "no page request is pending");
		goto done_count;
	}

	first = xa_load(&fparam->stags, msg->grpid);
	evt = first;
	while (evt) {
		const struct iopf_model_fault *prm = &evt->fault;
		bool needs_pasid = prm->flags & IOPF_PRQ_NEEDS_PASID;

		if ((!msg->seq || msg->seq == evt->seq) &&
		    (!needs_pasid || (has_pasid && msg->pasid == prm->pasid))) {
			ret = iopf_smmu_page_response(dev, evt, msg->code,
						      origin);
			if (ret) {
				NL_SET_ERR_MSG(extack, "unknown response code");
				goto done_count;
			}
			iopf_pending_del(dev, fparam, evt);
			/* An abort the IOPF core issued is an auto abort */
			if (origin == IOPF_ORIGIN_RESPONSE)
				dev->stats.responses++;
			goto done_unlock;
		}
		evt = list_next_entry(evt, same_stag);
		if (evt == first)
			break;
	}
	NL_SET_ERR_MSG(extack, "no pending page request matches");

done_count:
	dev->stats.response_errors++;
done_unlock:
	mutex_unlock(&dev->lock);
	return ret;
}

#define DEV_STAT(field, attr) \
	IOPF_STAT_FIELD(struct iopf_dev_stats, field, attr)

const struct iopf_stat_field iopf_dev_stat_fields[] = {
	DEV_STAT(injected, INJECTED),
	DEV_STAT(reported, REPORTED),
	DEV_STAT(filtered_l1, FILTERED_L1),
	DEV_STAT(filtered_l2, FILTERED_L2),
	DEV_STAT(filtered_unrecov, FILTERED_UNRECOV),
	DEV_STAT(no_handler, NO_HANDLER),
	DEV_STAT(report_failed, REPORT_FAILED),
	DEV_STAT(notify_lost, NOTIFY_LOST),
	DEV_STAT(pending, PENDING),
	DEV_STAT(responses, RESPONSES),
	DEV_STAT(response_errors, RESPONSE_ERRORS),
	DEV_STAT(auto_aborts, AUTO_ABORTS),
	DEV_STAT(resume_lost, RESUME_LOST),
	DEV_STAT(notify_unheard, NOTIFY_UNHEARD),
	DEV_STAT(pending_full, PENDING_FULL),
	DEV_STAT(timeouts, TIMEOUTS),
	DEV_STAT(accesses, ACCESSES),
	DEV_STAT(access_faults_l1, ACCESS_FAULTS_L1),
	DEV_STAT(access_faults_l2, ACCESS_FAULTS_L2),
	DEV_STAT(access_completed, ACCESS_COMPLETED),
	DEV_STAT(access_aborted, ACCESS_ABORTED),
	DEV_STAT(access_terminated, ACCESS_TERMINATED),
	DEV_STAT(mapped_s1, MAPPED_S1),
	DEV_STAT(mapped_s2, MAPPED_S2),
	DEV_STAT(access_notify_lost, ACCESS_NOTIFY_LOST),
	DEV_STAT(vevents, VEVENTS),
	DEV_STAT(vevent_errors, VEVENT_ERRORS),
	DEV_STAT(upstream_unhandled, UPSTREAM_UNHANDLED),
};

const unsigned int iopf_dev_stat_nfields = ARRAY_SIZE(iopf_dev_stat_fields);

#define GLOBAL_STAT(field, attr) \
	IOPF_STAT_FIELD(struct iopf_global_stats, field, attr)

const struct iopf_stat_field iopf_global_stat_fields[] = {
	GLOBAL_STAT(records, RECORDS),
	GLOBAL_STAT(unhandled_event, UNHANDLED_EVENT),
	GLOBAL_STAT(unknown_sid, UNKNOWN_SID),
	GLOBAL_STAT(devices, DEVICES),
	GLOBAL_STAT(fault_seq, FAULT_SEQ),
	GLOBAL_STAT(resume_seq, RESUME_SEQ),
	GLOBAL_STAT(resume_lost, RESUME_LOST),
};

const unsigned int iopf_global_stat_nfields =
	ARRAY_SIZE(iopf_global_stat_fields);

void iopf_count_record(void)
{
	atomic64_inc(&iopf_records);
}

void iopf_count_unhandled(void)
{
	atomic64_inc(&iopf_unhandled);
}

void iopf_count_unknown_sid(void)
{
	atomic64_inc(&iopf_unknown_sid);
}

void iopf_count_resume_lost(void)
{
	atomic64_inc(&iopf_resume_lost);
}

void iopf_global_stats(struct iopf_global_stats *stats)
{
	stats->resume_lost = atomic64_read(&iopf_resume_lost);
	stats->records = atomic64_read(&iopf_records);
	stats->unhandled_event = atomic64_read(&iopf_unhandled);
	stats->unknown_sid = atomic64_read(&iopf_unknown_sid);
	stats->devices = atomic64_read(&iopf_ndevs);
	iopf_nl_seqs(&stats->fault_seq, &stats->resume_seq);
}
