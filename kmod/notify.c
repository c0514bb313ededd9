// SPDX-License-Identifier: GPL-2.0
/*
 * The notification engine of the "faults" group: every reported fault,
 * RESUME command and ended access becomes a message here. It numbers them
 * (SEQ, per-device SEQ), packs faults into batches, builds nothing when
 * nobody listens, and counts what listeners lost or nobody heard. The
 * commands that configure and query are netlink.c's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/genetlink.h>

#include "iopf_testbed.h"
#include "netlink.h"

/*
 * Sequence numbers are handed out and messages sent under one lock, so a
 * listener sees them strictly increasing; a gap means it lost messages.
 */
static DEFINE_MUTEX(iopf_nl_notify_lock);
static u64 iopf_nl_fault_seq;
static u64 iopf_nl_resume_seq;
static bool iopf_nl_registered;

/*
 * A listener drains messages, not faults: packing the faults of a burst
 * into one message multiplies what it can take (see the environment notes).
 * Consecutive faults of one device share a message until it holds
 * fault_batch of them, the device changes, a RESUME is sent, or the
 * injecting write ends.
 */
static unsigned int iopf_nl_batch_max = 16;
module_param_named(fault_batch, iopf_nl_batch_max, uint, 0644);
MODULE_PARM_DESC(fault_batch,
		 "Faults packed into one notification at most (1-64, default 16)");
#define IOPF_NL_BATCH_LIMIT	64

/*
 * The open batch: its faults are numbered, and sent when it is flushed. When
 * nobody listened as it was opened it has no message (@skb NULL): nothing is
 * built, and its faults are counted unheard when it is flushed, as its
 * message would have been.
 */
static struct {
	struct sk_buff *skb;
	void *hdr;
	struct iopf_dev *dev;	/* referenced while the batch is open */
	unsigned int n;
	unsigned int cap;	/* faults the batch takes */
} iopf_nl_batch;

int iopf_nl_put_u64(struct sk_buff *skb, int attr, u64 val, int pad)
{
	return nla_put_u64_64bit(skb, attr, val, pad);
}

static size_t iopf_nl_fault_size(void)
{
	return nla_total_size(0) +				/* nest */
	       5 * nla_total_size_64bit(sizeof(u64)) +	/* seqs, ts, addr, ipa */
	       9 * nla_total_size(sizeof(u32)) +
	       nla_total_size(IOPF_EVT_BYTES);
}

/*
 * Attribute writers for the fault nest, which is sized in advance: the bytes
 * nla_put() and friends write (a fault's attributes need no padding), without
 * a call, a check and a reservation per attribute. They were over half the
 * cost of a report (Documentation/performance.md).
 */
static void *iopf_nl_attr(void **pos, int type, int len)
{
	struct nlattr *nla = *pos;

	nla->nla_type = type;
	nla->nla_len = nla_attr_size(len);
	*pos += nla_total_size(len);
	return nla_data(nla);
}

static void iopf_nl_attr_u32(void **pos, int type, u32 val)
{
	*(u32 *)iopf_nl_attr(pos, type, sizeof(u32)) = val;
}

/* As nla_put_u64_64bit(): a PAD first where the value would be unaligned */
static void iopf_nl_attr_u64(void **pos, int type, u64 val)
{
#ifndef CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS
	if (IS_ALIGNED((unsigned long)*pos, 8))
		iopf_nl_attr(pos, IOPF_FAULT_A_PAD, 0);
#endif
	/* Maybe unaligned: a constant-size memcpy() is a plain store */
	memcpy(iopf_nl_attr(pos, type, sizeof(u64)), &val, sizeof(val));
}

int iopf_nl_put_fault(struct sk_buff *skb, const struct iopf_event *evt)
{
	const struct iopf_model_fault *f = &evt->fault;
	struct nlattr *nest;
	__le64 record[IOPF_EVT_DWORDS];
	void *pos;
	int i;

	if (skb_tailroom(skb) < iopf_nl_fault_size())
		return -EMSGSIZE;
	pos = skb_tail_pointer(skb);
	nest = pos;
	iopf_nl_attr(&pos, IOPF_A_FAULT | NLA_F_NESTED, 0);
	iopf_nl_attr_u64(&pos, IOPF_FAULT_A_SEQ, evt->seq);
	iopf_nl_attr_u64(&pos, IOPF_FAULT_A_DEV_SEQ, evt->dev_seq);
	iopf_nl_attr_u64(&pos, IOPF_FAULT_A_TIMESTAMP_NS, evt->timestamp_ns);
	iopf_nl_attr_u32(&pos, IOPF_FAULT_A_SID, f->sid);
	iopf_nl_attr_u32(&pos, IOPF_FAULT_A_EVENT_ID, f->event_id);
	iopf_nl_attr_u32(&pos, IOPF_FAULT_A_TYPE, f->type);
	iopf_nl_attr_u32(&pos, IOPF_FAULT_A_LEVEL, f->level);
	iopf_nl_attr_u32(&pos, IOPF_FAULT_A_FLAGS, f->flags);
	iopf_nl_attr_u32(&pos, IOPF_FAULT_A_PERM, f->perm);
	iopf_nl_attr_u64(&pos, IOPF_FAULT_A_ADDR, f->addr);
	for (i = 0; i < IOPF_EVT_DWORDS; i++)
		record[i] = cpu_to_le64(evt->record[i]);
	memcpy(iopf_nl_attr(&pos, IOPF_FAULT_A_RECORD, sizeof(record)), record,
	       sizeof(record));
	if (iopf_fault_has_pasid(f))
		iopf_nl_attr_u32(&pos, IOPF_FAULT_A_PASID, f->pasid);
	if (f->type == IOPF_FAULT_PAGE_REQ)
		iopf_nl_attr_u32(&pos, IOPF_FAULT_A_GRPID, f->grpid);
	if (f->type == IOPF_FAULT_DMA_UNRECOV)
		iopf_nl_attr_u32(&pos, IOPF_FAULT_A_REASON, f->reason);
	if (f->type == IOPF_FAULT_DMA_UNRECOV && f->level == 2)
		iopf_nl_attr_u64(&pos, IOPF_FAULT_A_IPA, f->ipa);
	nest->nla_len = pos - (void *)nest;
	__skb_put(skb, nest->nla_len);
	return 0;
}

enum iopf_nl_sent { IOPF_NL_SENT, IOPF_NL_LOST, IOPF_NL_UNHEARD };

/* Does anybody listen to the faults group? Cheap: one bit of a bitmap */
static bool iopf_nl_listening(void)
{
	return READ_ONCE(iopf_nl_registered) &&
	       genl_has_listeners(&iopf_nl_family, &init_net,
				  IOPF_NL_MCGRP_FAULTS) > 0;
}

/*
 * Multicasts @skb; says whether a listener got it, lost it, or none was.
 * NULL: a message not built because nobody listened; the failure knob sees
 * it as it would have seen the message.
 */
static enum iopf_nl_sent iopf_nl_multicast(struct sk_buff *skb)
{
	int ret;

	if (!iopf_nl_registered) {
		nlmsg_free(skb);
		return IOPF_NL_UNHEARD;
	}
	if (iopf_should_fail(IOPF_FAIL_NOTIFY_SEND)) {
		nlmsg_free(skb);
		return IOPF_NL_LOST;
	}
	if (!skb)
		return IOPF_NL_UNHEARD;
	ret = genlmsg_multicast(&iopf_nl_family, skb, 0, IOPF_NL_MCGRP_FAULTS,
				GFP_KERNEL);
	/*
	 * -ENOBUFS: a listener that set NETLINK_BROADCAST_ERROR overflowed;
	 * it sees a sequence gap. -ESRCH: delivered to nobody, which is also
	 * what netlink_broadcast() says when the only listeners overflowed
	 * without that option: a loss while the group still has members.
	 */
	if (ret == -ESRCH)
		return iopf_nl_listening() ? IOPF_NL_LOST : IOPF_NL_UNHEARD;
	return ret == -ENOBUFS ? IOPF_NL_LOST : IOPF_NL_SENT;
}

/* Sends the open batch, if any; called with iopf_nl_notify_lock held */
static void iopf_nl_flush_locked(void)
{
	lockdep_assert_held(&iopf_nl_notify_lock);
	if (!iopf_nl_batch.dev)
		return;
	if (iopf_nl_batch.skb)
		genlmsg_end(iopf_nl_batch.skb, iopf_nl_batch.hdr);
	switch (iopf_nl_multicast(iopf_nl_batch.skb)) {
	case IOPF_NL_LOST:
		atomic64_add(iopf_nl_batch.n, &iopf_nl_batch.dev->notify_lost);
		break;
	case IOPF_NL_UNHEARD:
		atomic64_add(iopf_nl_batch.n,
			     &iopf_nl_batch.dev->notify_unheard);
		break;
	case IOPF_NL_SENT:
		break;
	}
	iopf_dev_put(iopf_nl_batch.dev);
	iopf_nl_batch.skb = NULL;
	iopf_nl_batch.dev = NULL;
	iopf_nl_batch.n = 0;
}

/* The last sequence numbers handed out: a listener's loss is the rest */
void iopf_nl_seqs(u64 *fault_seq, u64 *resume_seq)
{
	mutex_lock(&iopf_nl_notify_lock);
	*fault_seq = iopf_nl_fault_seq;
	*resume_seq = iopf_nl_resume_seq;
	mutex_unlock(&iopf_nl_notify_lock);
}

void iopf_nl_flush(void)
{
	mutex_lock(&iopf_nl_notify_lock);
	iopf_nl_flush_locked();
	mutex_unlock(&iopf_nl_notify_lock);
}

/* An empty notification @cmd with room for @size bytes; *hdr its header */
static struct sk_buff *iopf_nl_ntf_new(size_t size, u8 cmd, void **hdr)
{
	struct sk_buff *skb;

	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &iopf_nl_family, 0, cmd);
	if (WARN_ON_ONCE(!*hdr)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

/* An empty FAULT_NTF with room for @max faults */
static struct sk_buff *iopf_nl_fault_msg_new(unsigned int max, void **hdr)
{
	return iopf_nl_ntf_new(max * iopf_nl_fault_size(), IOPF_CMD_FAULT_NTF,
			       hdr);
}

static int iopf_nl_batch_open(struct iopf_dev *dev, unsigned int max,
			      bool listening)
{
	struct sk_buff *skb = NULL;

	if (listening) {
		skb = iopf_nl_fault_msg_new(max, &iopf_nl_batch.hdr);
		if (!skb)
			return -ENOMEM;
	}
	kref_get(&dev->ref);
	iopf_nl_batch.skb = skb;
	iopf_nl_batch.dev = dev;
	iopf_nl_batch.cap = max;
	return 0;
}

/* fault_batch, as the report path reads it */
unsigned int iopf_nl_fault_batch(void)
{
	return clamp_val(READ_ONCE(iopf_nl_batch_max), 1, IOPF_NL_BATCH_LIMIT);
}

/*
 * bench.c's template: a FAULT_NTF of @n nests of @evt, allocated as the
 * report path allocates a batch of @cap (the same truesize, so it weighs
 * the same in a listener's receive buffer). Nothing is numbered.
 */
struct sk_buff *iopf_nl_fault_msg_build(const struct iopf_event *evt,
					unsigned int n, unsigned int cap)
{
	struct sk_buff *skb;
	unsigned int i;
	void *hdr;

	skb = iopf_nl_fault_msg_new(max(n, cap), &hdr);
	if (!skb)
		return NULL;
	for (i = 0; i < n; i++) {
		if (WARN_ON_ONCE(iopf_nl_put_fault(skb, evt))) {
			nlmsg_free(skb);
			return NULL;
		}
	}
	genlmsg_end(skb, hdr);
	return skb;
}

/*
 * bench.c: multicasts a clone of @tmpl to the faults group, under the
 * notify lock as every notification (never inside an open batch), without
 * touching a sequence number, a counter or the failure knobs. Returns
 * genlmsg_multicast()'s result: 0, -ESRCH when nobody listens, -ENOBUFS
 * when a listener's queue was full; -ENOMEM, or -ENODEV before the family
 * is registered.
 */
int iopf_nl_multicast_clone(struct sk_buff *tmpl)
{
	struct sk_buff *skb;
	int ret = -ENODEV;

	skb = skb_clone(tmpl, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	mutex_lock(&iopf_nl_notify_lock);
	if (iopf_nl_registered) {
		ret = genlmsg_multicast(&iopf_nl_family, skb, 0,
					IOPF_NL_MCGRP_FAULTS, GFP_KERNEL);
		skb = NULL;
	}
	mutex_unlock(&iopf_nl_notify_lock);
	kfree_skb(skb);
	return ret;
}

/**
 * iopf_nl_fault_handler() - the fault handler registered for every device
 * @dev: the device, locked by the core
 * @evt: the fault, its dev_seq set by the core; gets its SEQ here
 * @data: unused
 *
 * Return: 0 when the fault was numbered and queued for sending (or nobody
 * listens), -ENOMEM when no notification could be built: the report fails.
 */
int iopf_nl_fault_handler(struct iopf_dev *dev, struct iopf_event *evt,
			  void *data)
{
	unsigned int max = iopf_nl_fault_batch();
	bool listening;
	int ret = 0;

	/* Per fault, as if each had its own message: knob counts stay exact */
	if (iopf_should_fail(IOPF_FAIL_REPORT_ALLOC))
		return -ENOMEM;

	mutex_lock(&iopf_nl_notify_lock);
	listening = iopf_nl_listening();
	/* A listener came or went: the batch is built, or not, from here */
	if (iopf_nl_batch.dev &&
	    (iopf_nl_batch.dev != dev || !iopf_nl_batch.skb == listening))
		iopf_nl_flush_locked();
	if (!iopf_nl_batch.dev) {
		ret = iopf_nl_batch_open(dev, max, listening);
		if (ret)
			goto out_unlock;
	}

	evt->seq = iopf_nl_fault_seq + 1;
	if (iopf_nl_batch.skb) {
		/* Sized for max faults: a failure is a bug in the sizing */
		ret = iopf_nl_put_fault(iopf_nl_batch.skb, evt);
		if (WARN_ON_ONCE(ret))
			goto out_unlock;
	}
	iopf_nl_fault_seq++;
	if (++iopf_nl_batch.n >= iopf_nl_batch.cap)
		iopf_nl_flush_locked();
out_unlock:
	mutex_unlock(&iopf_nl_notify_lock);
	return ret;
}

static size_t iopf_nl_resume_size(void)
{
	return nla_total_size(0) +				/* nest */
	       nla_total_size_64bit(sizeof(u64)) +		/* seq */
	       5 * nla_total_size(sizeof(u32)) +
	       nla_total_size(2 * sizeof(u64));			/* cmd */
}

static int iopf_nl_put_resume(struct sk_buff *skb,
			      const struct iopf_resume *resume)
{
	__le64 cmd[2] = {
		cpu_to_le64(resume->cmd[0]), cpu_to_le64(resume->cmd[1])
	};
	struct nlattr *nest;

	nest = nla_nest_start(skb, IOPF_A_RESUME);
	if (!nest)
		return -EMSGSIZE;
	if (iopf_nl_put_u64(skb, IOPF_RESUME_A_SEQ, resume->seq,
			    IOPF_RESUME_A_PAD) ||
	    nla_put_u32(skb, IOPF_RESUME_A_SID, resume->sid) ||
	    nla_put_u32(skb, IOPF_RESUME_A_STAG, resume->stag) ||
	    nla_put_u32(skb, IOPF_RESUME_A_RESP, resume->resp) ||
	    nla_put_u32(skb, IOPF_RESUME_A_CODE, resume->code) ||
	    nla_put_u32(skb, IOPF_RESUME_A_ORIGIN, resume->origin) ||
	    nla_put(skb, IOPF_RESUME_A_CMD, sizeof(cmd), cmd)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * Numbers @resume and tells listeners. Returns false when the notification
 * was lost (no memory, the failure knob, a full listener): the caller counts
 * it, as notify_lost counts faults. Nobody listening is not a loss.
 */
bool iopf_nl_notify_resume(struct iopf_resume *resume)
{
	struct sk_buff *skb = NULL;
	bool sent = false;
	void *hdr;

	mutex_lock(&iopf_nl_notify_lock);
	/* Listeners see a fault before the RESUME that answers it */
	iopf_nl_flush_locked();
	resume->seq = ++iopf_nl_resume_seq;
	/*
	 * Asked under the lock that orders the SEQs, as the fault path asks:
	 * a listener that joined before this SEQ gets it or counts its loss.
	 * Built only for a listener, at its size, not a page's.
	 */
	if (!iopf_nl_listening()) {
		/* Nobody listened: counted as a message would have been */
		sent = iopf_nl_multicast(NULL) != IOPF_NL_LOST;
		goto out_unlock;
	}
	skb = iopf_nl_ntf_new(iopf_nl_resume_size(), IOPF_CMD_RESUME_NTF, &hdr);
	if (!skb)
		goto out_unlock;
	if (WARN_ON_ONCE(iopf_nl_put_resume(skb, resume))) {
		nlmsg_free(skb);
		goto out_unlock;
	}
	genlmsg_end(skb, hdr);
	sent = iopf_nl_multicast(skb) != IOPF_NL_LOST;
out_unlock:
	mutex_unlock(&iopf_nl_notify_lock);
	return sent;
}

static size_t iopf_nl_access_size(void)
{
	return nla_total_size(0) +				/* nest */
	       7 * nla_total_size_64bit(sizeof(u64)) +
	       9 * nla_total_size(sizeof(u32)) +
	       nla_total_size(0);				/* stall */
}

int iopf_nl_put_access(struct sk_buff *skb, const struct iopf_access_info *a)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, IOPF_A_ACCESS);
	if (!nest)
		return -EMSGSIZE;
	if (iopf_nl_put_u64(skb, IOPF_ACCESS_A_ID, a->id, IOPF_ACCESS_A_PAD) ||
	    nla_put_u32(skb, IOPF_ACCESS_A_SID, a->sid) ||
	    iopf_nl_put_u64(skb, IOPF_ACCESS_A_ADDR, a->addr,
			    IOPF_ACCESS_A_PAD) ||
	    iopf_nl_put_u64(skb, IOPF_ACCESS_A_LEN, a->len, IOPF_ACCESS_A_PAD) ||
	    nla_put_u32(skb, IOPF_ACCESS_A_PERM, a->perm) ||
	    nla_put_u32(skb, IOPF_ACCESS_A_STATE, a->state) ||
	    nla_put_u32(skb, IOPF_ACCESS_A_FAULTS, a->faults) ||
	    nla_put_u32(skb, IOPF_ACCESS_A_FAULTS_L1, a->faults_l1) ||
	    nla_put_u32(skb, IOPF_ACCESS_A_FAULTS_L2, a->faults_l2) ||
	    nla_put_u32(skb, IOPF_ACCESS_A_RETRIES, a->retries) ||
	    iopf_nl_put_u64(skb, IOPF_ACCESS_A_DONE, a->done,
			    IOPF_ACCESS_A_PAD) ||
	    iopf_nl_put_u64(skb, IOPF_ACCESS_A_START_NS, a->start_ns,
			    IOPF_ACCESS_A_PAD) ||
	    iopf_nl_put_u64(skb, IOPF_ACCESS_A_END_NS, a->end_ns,
			    IOPF_ACCESS_A_PAD))
		goto cancel;
	if (a->has_pasid && nla_put_u32(skb, IOPF_ACCESS_A_PASID, a->pasid))
		goto cancel;
	if (a->fault_seq &&
	    iopf_nl_put_u64(skb, IOPF_ACCESS_A_FAULT_SEQ, a->fault_seq,
			    IOPF_ACCESS_A_PAD))
		goto cancel;
	if (a->state == IOPF_ACCESS_STALLED &&
	    nla_put_u32(skb, IOPF_ACCESS_A_STAG, a->stag))
		goto cancel;
	if (a->stall && nla_put_flag(skb, IOPF_ACCESS_A_STALL))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/*
 * An access ended: one ACCESS nest to the faults group, after the fault and
 * RESUME that ended it. False when the notification was lost; nobody
 * listening is not a loss.
 */
bool iopf_nl_notify_access(const struct iopf_access_info *info)
{
	bool sent = true;
	struct sk_buff *skb;
	void *hdr;

	mutex_lock(&iopf_nl_notify_lock);
	/* Listeners see the fault and the RESUME before the end */
	iopf_nl_flush_locked();
	/* Built only for a listener, at its size */
	if (!iopf_nl_listening())
		goto out_unlock;
	sent = false;
	skb = iopf_nl_ntf_new(iopf_nl_access_size(), IOPF_CMD_ACCESS_NTF, &hdr);
	if (!skb)
		goto out_unlock;
	if (WARN_ON_ONCE(iopf_nl_put_access(skb, info))) {
		nlmsg_free(skb);
		goto out_unlock;
	}
	genlmsg_end(skb, hdr);
	sent = iopf_nl_multicast(skb) != IOPF_NL_LOST;
out_unlock:
	mutex_unlock(&iopf_nl_notify_lock);
	return sent;
}

/* The family is registered: messages go out from now on */
void iopf_nl_notify_start(void)
{
	mutex_lock(&iopf_nl_notify_lock);
	WRITE_ONCE(iopf_nl_registered, true);
	mutex_unlock(&iopf_nl_notify_lock);
}

/* Before the family goes: the open batch is sent, nothing after it */
void iopf_nl_notify_stop(void)
{
	mutex_lock(&iopf_nl_notify_lock);
	iopf_nl_flush_locked();
	WRITE_ONCE(iopf_nl_registered, false);
	mutex_unlock(&iopf_nl_notify_lock);
}
