// SPDX-License-Identifier: GPL-2.0
/*
 * The ceiling of the benchmark (test builds only: CONFIG_IOPF_TESTBED_BENCH=y,
 * see Kbuild): what the guest can carry from the module to a listener when
 * building a notification costs nothing. Not in a shipped module: it puts
 * fake faults on the real group, into real listeners' buffers.
 *
 *   iopf_testbed/bench_ceiling   write N (1-16777216): N fault notifications
 *                                on the faults group, fault_batch per
 *                                message; read: what the last run did
 *
 * The messages are built once, before the clock starts: a full one of
 * fault_batch faults and, when N is not a multiple, one for the rest. Each
 * carries the nest of a real unrecoverable stage-1 translation fault (the
 * same command, nest and attribute set, allocated as a real batch is: equal
 * sizes, equal weight in a receive buffer); each send multicasts a clone.
 * SEQ and DEV_SEQ are 0 in every nest, a number no real fault has (they
 * start at 1), and the StreamID is IOPF_BENCH_SID: no device, counter,
 * sequence number or failure knob of the report path is touched.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <linux/uaccess.h>

#include "iopf_testbed.h"

#define IOPF_BENCH_MAX		(16U << 20)
#define IOPF_BENCH_SID		0xbe7c

/* One run at a time; the results of the last */
static DEFINE_MUTEX(iopf_bench_lock);
static struct {
	u64 faults;
	u64 messages;		/* multicast, whatever became of them */
	u64 unheard;		/* of which nobody listened to (-ESRCH) */
	u64 failed;		/* of which failed: err says why */
	u64 ns;
	unsigned int batch;
	int err;		/* the last send's error, 0: none */
} iopf_bench_last;

/* What a real unrecoverable translation fault's notification carries */
static void iopf_bench_event(struct iopf_event *evt)
{
	const struct iopf_evt_fields f = {
		.event_id = EVT_ID_TRANSLATION_FAULT,
		.sid = IOPF_BENCH_SID,
		.perm = IOPF_PERM_READ,
		.cls = IOPF_EVT_CLASS_IN,
		.addr = 0x100000000ULL,
	};

	memset(evt, 0, sizeof(*evt));
	iopf_evt_build(&f, evt->record);
	/* Cannot fail: a translation fault is always decoded */
	WARN_ON_ONCE(iopf_decode(evt->record, &evt->fault));
	evt->timestamp_ns = ktime_get_ns();
}

static int iopf_bench_run(unsigned int n)
{
	struct sk_buff *full, *rest = NULL;
	unsigned int batch = iopf_nl_fault_batch();
	struct iopf_event evt;
	u64 sent = 0, t0;
	int ret = 0;

	iopf_bench_event(&evt);
	full = iopf_nl_fault_msg_build(&evt, batch, batch);
	if (n % batch)
		rest = iopf_nl_fault_msg_build(&evt, n % batch, batch);
	if (!full || (n % batch && !rest)) {
		ret = -ENOMEM;
		goto out_free;
	}

	memset(&iopf_bench_last, 0, sizeof(iopf_bench_last));
	iopf_bench_last.batch = batch;
	t0 = ktime_get_ns();
	while (sent < n) {
		unsigned int k = min_t(u64, n - sent, batch);
		int err = iopf_nl_multicast_clone(k == batch ? full : rest);

		sent += k;
		iopf_bench_last.messages++;
		if (err == -ESRCH) {
			iopf_bench_last.unheard++;
		} else if (err) {
			iopf_bench_last.failed++;
			iopf_bench_last.err = err;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	iopf_bench_last.ns = ktime_get_ns() - t0;
	iopf_bench_last.faults = sent;

out_free:
	kfree_skb(rest);
	kfree_skb(full);
	return ret;
}

static ssize_t iopf_bench_ceiling_write(struct file *file,
					const char __user *ubuf, size_t len,
					loff_t *ppos)
{
	unsigned int n;
	int ret;

	if (*ppos) {
		pr_warn_ratelimited("bench_ceiling: writes at an offset are not supported\n");
		return -EINVAL;
	}
	ret = kstrtouint_from_user(ubuf, len, 10, &n);
	if (ret || !n || n > IOPF_BENCH_MAX) {
		pr_warn_ratelimited("bench_ceiling: write a decimal count of faults, 1 to %u\n",
				    IOPF_BENCH_MAX);
		return -EINVAL;
	}

	mutex_lock(&iopf_bench_lock);
	ret = iopf_bench_run(n);
	mutex_unlock(&iopf_bench_lock);
	return ret ? ret : len;
}

static ssize_t iopf_bench_ceiling_read(struct file *file, char __user *ubuf,
				       size_t len, loff_t *ppos)
{
	char buf[192];
	int n;

	mutex_lock(&iopf_bench_lock);
	n = scnprintf(buf, sizeof(buf),
		      "faults=%llu batch=%u messages=%llu unheard=%llu failed=%llu err=%d ns=%llu\n",
		      iopf_bench_last.faults, iopf_bench_last.batch,
		      iopf_bench_last.messages, iopf_bench_last.unheard,
		      iopf_bench_last.failed, iopf_bench_last.err,
		      iopf_bench_last.ns);
	mutex_unlock(&iopf_bench_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations iopf_bench_ceiling_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = iopf_bench_ceiling_read,
	.write = iopf_bench_ceiling_write,
	.llseek = default_llseek,
};

void iopf_bench_debugfs_init(struct dentry *root)
{
	debugfs_create_file("bench_ceiling", 0600, root, NULL,
			    &iopf_bench_ceiling_fops);
}
