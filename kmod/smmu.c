// SPDX-License-Identifier: GPL-2.0
/*
 * The arm-smmu-v3 driver's side: what arm_smmu_handle_evt() does with an
 * event record (v5.13 with the RFC: stage-2 faults reported with the IPA),
 * and the RESUME command arm_smmu_page_response() issues. Decoding itself is
 * fault_core.h, shared with user space.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "iopf_testbed.h"
#include "iopf_trace.h"

/*
 * Records the RESUME command for a page request and tells listeners.
 * Called with dev->lock held.
 */
int iopf_smmu_page_response(struct iopf_dev *dev,
			    const struct iopf_event *evt, u32 code, u32 origin)
{
	struct iopf_resume resume = {
		.sid = dev->sid,
		.stag = evt->fault.grpid,
		.code = code,
		.origin = origin,
	};
	int ret;

	lockdep_assert_held(&dev->lock);

	ret = iopf_resume_encode(dev->sid, evt->fault.grpid, code, resume.cmd);
	if (ret)
		return ret;
	resume.resp = FIELD_GET(CMDQ_RESUME_0_RESP, resume.cmd[0]);
	if (origin == IOPF_ORIGIN_REPORT_FAILED)
		dev->stats.auto_aborts++;

	/* Issued whatever happens to its notification: a loss is counted */
	if (!iopf_nl_notify_resume(&resume)) {
		dev->stats.resume_lost++;
		iopf_count_resume_lost();
	}
	trace_iopf_resume(&resume, evt->seq);
	dev->last_resume = resume;
	/* The stalled transaction it resumes, when an access made it */
	if (evt->access_id)
		iopf_access_resume(dev, evt, resume.resp);
	return 0;
}

/* The driver's event-queue thread logs what it could not report like this */
static void iopf_smmu_log_evt(const u64 *evt)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);
	int i;

	if (!__ratelimit(&rs))
		return;
	pr_info("event 0x%02x received:\n", iopf_evt_id(evt));
	for (i = 0; i < IOPF_EVT_DWORDS; i++)
		pr_info("\t0x%016llx\n", (unsigned long long)evt[i]);
}

/*
 * The device of @sid, for a record of a run (the records of one write): a
 * run's records mostly come from one device, so the device the last record
 * found stays in @cache, referenced, instead of being looked up again. The
 * caller drops @cache's reference at the end of the run.
 */
static struct iopf_dev *iopf_smmu_find_dev(u32 sid, struct iopf_dev **cache,
					   bool *cached)
{
	struct iopf_dev *dev = *cache;

	*cached = dev && dev->sid == sid;
	if (*cached)
		return dev;
	if (dev)
		iopf_dev_put(dev);
	*cache = iopf_dev_get(sid);
	return *cache;
}

/* arm_smmu_handle_evt() for one record, words in CPU order */
static void __iopf_smmu_handle_evt(const u64 *evt, u64 access_id,
				   struct iopf_dev **cache)
{
	struct iopf_event fault_evt = {};
	struct iopf_dev *dev;
	bool cached;
	int ret;

	iopf_count_record();
	ret = iopf_decode(evt, &fault_evt.fault);
	if (ret) {
		iopf_count_unhandled();
		goto out_log;
	}

	/* The RFC as posted: FIELD_GET() shifts the IPA down to a frame */
	if (iopf_quirk(IOPF_QUIRK_B3_IPA_SHIFT) &&
	    (fault_evt.fault.flags & IOPF_PRQ_L2) &&
	    fault_evt.fault.type == IOPF_FAULT_PAGE_REQ)
		fault_evt.fault.addr = FIELD_GET(EVTQ_3_IPA, evt[3]);
	trace_iopf_record(&fault_evt.fault);

	dev = iopf_smmu_find_dev(fault_evt.fault.sid, cache, &cached);
	if (!dev) {
		iopf_count_unknown_sid();
		ret = -EINVAL;
		goto out_log;
	}

	memcpy(fault_evt.record, evt, sizeof(fault_evt.record));
	fault_evt.access_id = access_id;
	/*
	 * Report and abort under one hold of the stream lock, as the driver
	 * holds streams_mutex: a removal cannot come in between and flush the
	 * pending list without this request, leaving it with no RESUME.
	 * Stamped under it, so the pending list stays in time order (the
	 * timeout sweep stops at the first request not yet due).
	 */
	mutex_lock(&dev->stream_lock);
	if (cached && dev->removed) {
		/* Removed since an earlier record: look it up, as for the first */
		mutex_unlock(&dev->stream_lock);
		iopf_dev_put(dev);
		*cache = NULL;
		dev = iopf_smmu_find_dev(fault_evt.fault.sid, cache, &cached);
		if (!dev) {
			iopf_count_unknown_sid();
			ret = -EINVAL;
			goto out_log;
		}
		mutex_lock(&dev->stream_lock);
	}
	fault_evt.timestamp_ns = ktime_get_ns();
	ret = iopf_report_device_fault(dev, &fault_evt);
	if (!ret && fault_evt.fault.type == IOPF_FAULT_PAGE_REQ) {
		/* Pending and heard here; a bridged device's goes upstream too */
		if (dev->bridge)
			iopf_bridge_report(dev, &fault_evt);
	} else if (ret == -ENODEV) {
		/* Removed since the look-up: no stream, nothing to resume */
		iopf_count_unknown_sid();
	} else if (ret && fault_evt.fault.type == IOPF_FAULT_PAGE_REQ) {
		/* Nobody cared: abort the stalled access */
		mutex_lock(&dev->lock);
		iopf_smmu_page_response(dev, &fault_evt, IOPF_RESP_FAILURE,
					IOPF_ORIGIN_REPORT_FAILED);
		mutex_unlock(&dev->lock);
	}
	/* Heard (or filtered) here; upstream sends it its own way */
	if (ret != -ENODEV && fault_evt.fault.type != IOPF_FAULT_PAGE_REQ &&
	    dev->bridge)
		iopf_bridge_event(dev, &fault_evt);
	mutex_unlock(&dev->stream_lock);

out_log:
	if (ret)
		iopf_smmu_log_evt(evt);
}

/* @n records from the event queue (a debugfs injection), one after another */
void iopf_smmu_handle_evts(const u64 *evts, size_t n)
{
	struct iopf_dev *cache = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		__iopf_smmu_handle_evt(evts + i * IOPF_EVT_DWORDS, 0, &cache);
		cond_resched();
	}
	if (cache)
		iopf_dev_put(cache);
}

/*
 * A record an access's walk built (stages.c): the same path, the request it
 * becomes (if it stalls) knowing which access waits for its RESUME.
 */
void iopf_smmu_handle_access_evt(const u64 *evt, u64 access_id)
{
	struct iopf_dev *cache = NULL;

	__iopf_smmu_handle_evt(evt, access_id, &cache);
	if (cache)
		iopf_dev_put(cache);
}
