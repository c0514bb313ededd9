// SPDX-License-Identifier: GPL-2.0
/*
 * Failure knobs in the spirit of fault_attr (the Debian kernels do not build
 * the fault-injection framework): for each failure point, debugfs files
 *
 *   fail/<point>/probability  percent of eligible calls that fail (0-100)
 *   fail/<point>/interval     only every Nth call is eligible (0/1: all)
 *   fail/<point>/times        failures left; -1 without limit, 0 off
 *   fail/<point>/seed         reseeds the generator: runs are repeatable
 *   fail/<point>/failed       failures injected so far (read-only)
 *
 * A knob is off until "times" is set.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/prandom.h>
#include <linux/spinlock.h>

#include "iopf_testbed.h"

struct iopf_fail_knob {
	const char *name;
	spinlock_t lock;	/* the fields below */
	struct rnd_state rnd;
	u64 seed;
	u32 probability;
	u32 interval;
	s32 times;
	u64 calls;
	u64 failed;
};

static struct iopf_fail_knob iopf_fail_knobs[] = {
	[IOPF_FAIL_REPORT_ALLOC] = { .name = "report_alloc" },
	[IOPF_FAIL_NOTIFY_SEND] = { .name = "notify_send" },
};

bool iopf_should_fail(enum iopf_fail_point point)
{
	struct iopf_fail_knob *k = &iopf_fail_knobs[point];
	unsigned long irqflags;
	bool fail = false;

	/* The fast path when nothing is armed: one plain read */
	if (!READ_ONCE(k->times))
		return false;

	spin_lock_irqsave(&k->lock, irqflags);
	if (!k->times)
		goto out_unlock;
	k->calls++;
	if (k->interval > 1 && k->calls % k->interval)
		goto out_unlock;
	if (k->probability < 100 &&
	    prandom_u32_state(&k->rnd) % 100 >= k->probability)
		goto out_unlock;
	if (k->times > 0)
		k->times--;
	k->failed++;
	fail = true;
out_unlock:
	spin_unlock_irqrestore(&k->lock, irqflags);
	return fail;
}

static int iopf_fail_seed_set(void *data, u64 val)
{
	struct iopf_fail_knob *k = data;

	spin_lock_irq(&k->lock);
	k->seed = val;
	prandom_seed_state(&k->rnd, val);
	k->calls = 0;
	spin_unlock_irq(&k->lock);
	return 0;
}

static int iopf_fail_seed_get(void *data, u64 *val)
{
	struct iopf_fail_knob *k = data;

	*val = READ_ONCE(k->seed);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(iopf_fail_seed_fops, iopf_fail_seed_get,
			 iopf_fail_seed_set, "%llu\n");

static int iopf_fail_probability_set(void *data, u64 val)
{
	struct iopf_fail_knob *k = data;

	if (val > 100) {
		pr_warn_ratelimited("fail/%s/probability: %llu is over 100\n",
				    k->name, val);
		return -EINVAL;
	}
	WRITE_ONCE(k->probability, val);
	return 0;
}

static int iopf_fail_probability_get(void *data, u64 *val)
{
	struct iopf_fail_knob *k = data;

	*val = READ_ONCE(k->probability);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(iopf_fail_probability_fops, iopf_fail_probability_get,
			 iopf_fail_probability_set, "%llu\n");

static int iopf_fail_times_set(void *data, u64 val)
{
	struct iopf_fail_knob *k = data;
	s64 times = (s64)val;

	if (times < -1 || times > S32_MAX) {
		pr_warn_ratelimited("fail/%s/times: %lld is not -1..%d\n",
				    k->name, times, S32_MAX);
		return -EINVAL;
	}
	WRITE_ONCE(k->times, times);
	return 0;
}

static int iopf_fail_times_get(void *data, u64 *val)
{
	struct iopf_fail_knob *k = data;

	*val = (u64)(s64)READ_ONCE(k->times);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(iopf_fail_times_fops, iopf_fail_times_get,
				iopf_fail_times_set, "%lld\n");

void iopf_fail_debugfs_init(struct dentry *root)
{
	struct dentry *fail = debugfs_create_dir("fail", root);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(iopf_fail_knobs); i++) {
		struct iopf_fail_knob *k = &iopf_fail_knobs[i];
		struct dentry *dir = debugfs_create_dir(k->name, fail);

		spin_lock_init(&k->lock);
		k->probability = 100;
		iopf_fail_seed_set(k, 0);
		debugfs_create_file_unsafe("probability", 0600, dir, k,
					   &iopf_fail_probability_fops);
		debugfs_create_u32("interval", 0600, dir, &k->interval);
		debugfs_create_file_unsafe("times", 0600, dir, k,
					   &iopf_fail_times_fops);
		debugfs_create_file_unsafe("seed", 0600, dir, k,
					   &iopf_fail_seed_fops);
		debugfs_create_u64("failed", 0400, dir, &k->failed);
	}
}
