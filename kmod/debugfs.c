// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: the event queue user space writes SMMUv3 event records into, and
 * a read-only view of each device. Everything is root-only.
 *
 *   iopf_testbed/inject        text: four hex words per line
 *   iopf_testbed/inject_raw    binary: 32-byte little-endian records
 *   iopf_testbed/stats         global counters
 *   iopf_testbed/bench_ceiling the benchmark's ceiling (bench.c)
 *   iopf_testbed/devices/0x<sid>/{flags,stats,pending,last_resume}
 *   iopf_testbed/devices/0x<sid>/access      text: one access per line,
 *                                            "iova=A len=L perm=rw[xp]
 *                                            [stall=0|1] [pasid=P]"
 *   iopf_testbed/devices/0x<sid>/{accesses,mappings}  the access model
 *
 * A write is parsed whole before any record is injected: a bad one fails
 * with -EINVAL, says why in the log, and changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <iopf_testbed/record_text.h>

#include "iopf_testbed.h"

/* 1 MiB of text is over 13000 records: plenty for one write */
#define IOPF_INJECT_MAX_BYTES	SZ_1M

static struct dentry *iopf_debugfs_root;
static struct dentry *iopf_debugfs_devices;

/* Copies a whole write in, or says why not */
static void *iopf_inject_copy(const char __user *ubuf, size_t len,
			      loff_t *ppos, const char *file)
{
	char *buf;

	if (*ppos) {
		pr_warn_ratelimited("%s: writes at an offset are not supported\n",
				    file);
		return ERR_PTR(-EINVAL);
	}
	if (!len || len > IOPF_INJECT_MAX_BYTES) {
		pr_warn_ratelimited("%s: a write must hold 1 to %u bytes, not %zu\n",
				    file, IOPF_INJECT_MAX_BYTES, len);
		return ERR_PTR(-EINVAL);
	}
	buf = kvmalloc(len + 1, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(buf, ubuf, len)) {
		kvfree(buf);
		return ERR_PTR(-EFAULT);
	}
	buf[len] = '\0';
	return buf;
}

static void iopf_inject_records(const u64 (*recs)[IOPF_EVT_DWORDS],
				size_t n)
{
	iopf_smmu_handle_evts(recs[0], n);
	/* The write is done: its last notification goes out now */
	iopf_nl_flush();
}

/* Room for more records: twice as many, the old ones copied over */
static int iopf_inject_grow(u64 (**recs)[IOPF_EVT_DWORDS], size_t *cap,
			    size_t n)
{
	u64 (*more)[IOPF_EVT_DWORDS];

	more = kvmalloc_array(*cap * 2, sizeof(*more), GFP_KERNEL);
	if (!more)
		return -ENOMEM;
	memcpy(more, *recs, n * sizeof(*more));
	kvfree(*recs);
	*recs = more;
	*cap *= 2;
	return 0;
}

static ssize_t iopf_inject_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	u64 (*recs)[IOPF_EVT_DWORDS];
	char *buf, *line, *end;
	unsigned int lineno = 0;
	size_t n = 0, cap, llen;
	int ret = 0;

	buf = iopf_inject_copy(ubuf, len, ppos, "inject");
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	/*
	 * A record's line is 76 bytes as iopfctl and the library write it,
	 * 8 at least ("0 0 0 0\n"): room for a line of 32 to start with
	 * (the allocator zeroes it), more if the lines are shorter.
	 */
	cap = len / 32 + 1;
	recs = kvmalloc_array(cap, sizeof(*recs), GFP_KERNEL);
	if (!recs) {
		ret = -ENOMEM;
		goto out_free;
	}

	/*
	 * One pass per line: the newline, then the words. A NUL is neither a
	 * blank nor a digit, so a line holding one is refused by the parser.
	 */
	end = buf + len;
	for (line = buf; line < end; line += llen + 1) {
		char *eol = memchr(line, '\n', end - line);
		const char *why;
		char *nul;

		llen = (eol ?: end) - line;
		lineno++;
		if (n == cap && iopf_inject_grow(&recs, &cap, n)) {
			ret = -ENOMEM;
			goto out_free;
		}
		ret = iopf_parse_record_line(line, llen, recs[n], &why);
		if (ret < 0) {
			nul = memchr(line, '\0', llen);
			if (nul)
				pr_warn_ratelimited("inject: a NUL byte at offset %td\n",
						    nul - buf);
			else
				pr_warn_ratelimited("inject: line %u: %s\n",
						    lineno, why);
			goto out_free;
		}
		n += ret;
	}
	if (!n) {
		pr_warn_ratelimited("inject: no record in the write\n");
		ret = -EINVAL;
		goto out_free;
	}

	iopf_inject_records((const u64 (*)[IOPF_EVT_DWORDS])recs, n);
	ret = 0;

out_free:
	kvfree(recs);
	kvfree(buf);
	return ret ? ret : len;
}

static ssize_t iopf_inject_raw_write(struct file *file,
				     const char __user *ubuf, size_t len,
				     loff_t *ppos)
{
	u64 (*recs)[IOPF_EVT_DWORDS];
	size_t n, i, j;
	__le64 *raw;

	if (len % IOPF_EVT_BYTES) {
		pr_warn_ratelimited("inject_raw: %zu bytes is not a multiple of %d\n",
				    len, IOPF_EVT_BYTES);
		return -EINVAL;
	}
	raw = iopf_inject_copy(ubuf, len, ppos, "inject_raw");
	if (IS_ERR(raw))
		return PTR_ERR(raw);

	/* Converted in place: the words are the same size */
	n = len / IOPF_EVT_BYTES;
	recs = (u64 (*)[IOPF_EVT_DWORDS])raw;
	for (i = 0; i < n; i++)
		for (j = 0; j < IOPF_EVT_DWORDS; j++)
			recs[i][j] = le64_to_cpu(raw[i * IOPF_EVT_DWORDS + j]);

	iopf_inject_records((const u64 (*)[IOPF_EVT_DWORDS])recs, n);
	kvfree(raw);
	return len;
}

static const struct file_operations iopf_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = iopf_inject_write,
	.llseek = noop_llseek,
};

static const struct file_operations iopf_inject_raw_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = iopf_inject_raw_write,
	.llseek = noop_llseek,
};

static void iopf_stats_print(struct seq_file *m, const void *stats,
			     const struct iopf_stat_field *fields,
			     unsigned int nfields)
{
	unsigned int i;

	for (i = 0; i < nfields; i++)
		seq_printf(m, "%s %llu\n", fields[i].name,
			   iopf_stat_value(stats, &fields[i]));
}

static int iopf_global_stats_show(struct seq_file *m, void *v)
{
	struct iopf_global_stats s;

	iopf_global_stats(&s);
	iopf_stats_print(m, &s, iopf_global_stat_fields,
			 iopf_global_stat_nfields);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_global_stats);

static int iopf_dev_flags_show(struct seq_file *m, void *v)
{
	static const char * const names[] = {
		"FLAT", "NESTED", "L1", "L2", "UNRECOV",
	};
	struct iopf_dev *dev = m->private;
	const char *sep = " ";
	unsigned int i;
	u32 flags;

	mutex_lock(&dev->lock);
	if (!dev->fault_param) {
		mutex_unlock(&dev->lock);
		seq_puts(m, "unregistered\n");
		return 0;
	}
	flags = dev->fault_param->flags;
	mutex_unlock(&dev->lock);

	seq_printf(m, "%#x", flags);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (flags & BIT(i)) {
			seq_printf(m, "%s%s", sep, names[i]);
			sep = ",";
		}
	}
	seq_putc(m, '\n');
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_dev_flags);

static int iopf_dev_stats_show(struct seq_file *m, void *v)
{
	struct iopf_dev *dev = m->private;
	struct iopf_dev_stats s;

	iopf_dev_snapshot(dev, &s, NULL, NULL, NULL);
	iopf_stats_print(m, &s, iopf_dev_stat_fields, iopf_dev_stat_nfields);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_dev_stats);

static int iopf_dev_pending_show(struct seq_file *m, void *v)
{
	struct iopf_dev *dev = m->private;
	struct iopf_event *evt;

	mutex_lock(&dev->lock);
	if (dev->fault_param) {
		list_for_each_entry(evt, &dev->fault_param->faults, list) {
			const struct iopf_model_fault *f = &evt->fault;

			seq_printf(m, "seq=%llu grpid=%u ", evt->seq, f->grpid);
			if (iopf_fault_has_pasid(f))
				seq_printf(m, "pasid=%u", f->pasid);
			else
				seq_puts(m, "pasid=-");
			seq_printf(m, " level=%u addr=%#llx\n", f->level,
				   f->addr);
			cond_resched();
		}
	}
	mutex_unlock(&dev->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_dev_pending);

static int iopf_dev_last_resume_show(struct seq_file *m, void *v)
{
	static const char * const origins[] = {
		[IOPF_ORIGIN_RESPONSE] = "response",
		[IOPF_ORIGIN_REPORT_FAILED] = "report_failed",
		[IOPF_ORIGIN_FLUSH] = "flush",
		[IOPF_ORIGIN_TIMEOUT] = "timeout",
	};
	struct iopf_dev *dev = m->private;
	struct iopf_resume r;

	mutex_lock(&dev->lock);
	r = dev->last_resume;
	mutex_unlock(&dev->lock);

	if (!r.seq) {
		seq_puts(m, "none\n");
		return 0;
	}
	seq_printf(m, "0x%016llx 0x%016llx resp=%s stag=%u origin=%s\n",
		   r.cmd[0], r.cmd[1],
		   r.resp == IOPF_RESUME_RETRY ? "RETRY" : "ABORT", r.stag,
		   r.origin < ARRAY_SIZE(origins) && origins[r.origin] ?
		   origins[r.origin] : "?");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_dev_last_resume);

static int iopf_dev_accesses_show(struct seq_file *m, void *v)
{
	iopf_stages_show_accesses(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_dev_accesses);

static int iopf_dev_mappings_show(struct seq_file *m, void *v)
{
	iopf_stages_show_mappings(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iopf_dev_mappings);

/* IOPF_PERM_LETTERS, each at most once */
static int iopf_parse_perm(const char *val, u32 *perm)
{
	static const char letters[] = IOPF_PERM_LETTERS;
	const char *c;

	*perm = 0;
	for (; *val; val++) {
		c = strchr(letters, *val);
		if (!c || (*perm & BIT(c - letters)))
			return -EINVAL;
		*perm |= BIT(c - letters);
	}
	return *perm ? 0 : -EINVAL;
}

/*
 * One line of the access file: 1 for an access, 0 for a blank line, or
 * -EINVAL and why.
 */
static int iopf_parse_access_line(char *line, struct iopf_access_req *req,
				  const char **why)
{
	bool have_addr = false, have_len = false, have_perm = false;
	bool have_stall = false, have_pasid = false;
	char *tok, *val;
	u64 v;

	memset(req, 0, sizeof(*req));
	while ((tok = strsep(&line, " \t\r")) != NULL) {
		bool *seen;

		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val) {
			*why = "a word is not key=value";
			return -EINVAL;
		}
		*val++ = '\0';
		if (!strcmp(tok, "iova")) {
			seen = &have_addr;
		} else if (!strcmp(tok, "len")) {
			seen = &have_len;
		} else if (!strcmp(tok, "perm")) {
			seen = &have_perm;
		} else if (!strcmp(tok, "stall")) {
			seen = &have_stall;
		} else if (!strcmp(tok, "pasid")) {
			seen = &have_pasid;
		} else {
			*why = "unknown key (iova, len, perm, stall, pasid)";
			return -EINVAL;
		}
		if (*seen) {
			*why = "a key is given twice";
			return -EINVAL;
		}
		*seen = true;
		if (seen == &have_perm) {
			if (iopf_parse_perm(val, &req->perm)) {
				*why = "perm is letters among r, w, x, p";
				return -EINVAL;
			}
			continue;
		}
		if (seen == &have_stall) {
			if (kstrtobool(val, &req->stall)) {
				*why = "stall is 0 or 1";
				return -EINVAL;
			}
			continue;
		}
		if (kstrtou64(val, 0, &v)) {
			*why = "a value is not a number";
			return -EINVAL;
		}
		if (seen == &have_addr) {
			req->addr = v;
		} else if (seen == &have_len) {
			req->len = v;
		} else {
			if (v > 0xfffff) {
				*why = "pasid is 20 bits";
				return -EINVAL;
			}
			req->has_pasid = true;
			req->pasid = v;
		}
	}
	if (!have_addr && !have_len && !have_perm && !have_stall &&
	    !have_pasid)
		return 0;
	if (!have_addr || !have_len || !have_perm) {
		*why = "iova, len and perm are required";
		return -EINVAL;
	}
	return 1;
}

/*
 * The device accesses memory, one access per line, as IOPF_CMD_ACCESS. The
 * write is parsed whole first; an access the model refuses stops it there
 * (those before it were made).
 */
static ssize_t iopf_dev_access_write(struct file *file,
				     const char __user *ubuf, size_t len,
				     loff_t *ppos)
{
	struct iopf_dev *dev = file->private_data;
	struct iopf_access_req *reqs;
	char *buf, *cursor, *line;
	unsigned int lineno = 0;
	size_t n = 0, i;
	int ret = 0;

	buf = iopf_inject_copy(ubuf, len, ppos, "access");
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	cursor = memchr(buf, '\0', len);
	if (cursor) {
		pr_warn_ratelimited("access: a NUL byte at offset %td\n",
				    cursor - buf);
		kvfree(buf);
		return -EINVAL;
	}
	/* An access takes at least 19 bytes ("iova=0 len=1 perm=r") */
	reqs = kvmalloc_array(len / 19 + 1, sizeof(*reqs), GFP_KERNEL);
	if (!reqs) {
		ret = -ENOMEM;
		goto out_free;
	}

	cursor = buf;
	while ((line = strsep(&cursor, "\n")) != NULL) {
		const char *why = "bad line";

		lineno++;
		ret = iopf_parse_access_line(line, &reqs[n], &why);
		if (ret < 0) {
			pr_warn_ratelimited("access: line %u: %s\n", lineno,
					    why);
			goto out_free;
		}
		n += ret;
	}
	if (!n) {
		pr_warn_ratelimited("access: no access in the write\n");
		ret = -EINVAL;
		goto out_free;
	}

	for (i = 0, ret = 0; i < n && !ret; i++) {
		struct netlink_ext_ack ext = {};

		/* Each may walk 64Ki pages: removal and signals are heard */
		if (READ_ONCE(dev->dying)) {
			pr_warn_ratelimited("access: device removed after %zu of %zu accesses\n",
					    i, n);
			ret = -ENODEV;
			break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = iopf_access_start(dev, &reqs[i], NULL, &ext);
		if (ret)
			pr_warn_ratelimited("access: access %zu: %s (%d)\n",
					    i + 1, ext._msg ?: "refused", ret);
		cond_resched();
	}

out_free:
	kvfree(reqs);
	kvfree(buf);
	return ret ? ret : len;
}

static const struct file_operations iopf_dev_access_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = iopf_dev_access_write,
	.llseek = noop_llseek,
};

/*
 * Called under the device registry lock, when the device appears. Devices
 * come and go over netlink only, which module exit stops before it removes
 * debugfs (main.c): the parent is always there.
 */
void iopf_debugfs_dev_add(struct iopf_dev *dev)
{
	char name[16];

	if (!iopf_debugfs_devices)
		return;
	snprintf(name, sizeof(name), "%#x", dev->sid);
	dev->debugfs = debugfs_create_dir(name, iopf_debugfs_devices);
	debugfs_create_file("flags", 0400, dev->debugfs, dev,
			    &iopf_dev_flags_fops);
	debugfs_create_file("stats", 0400, dev->debugfs, dev,
			    &iopf_dev_stats_fops);
	debugfs_create_file("pending", 0400, dev->debugfs, dev,
			    &iopf_dev_pending_fops);
	debugfs_create_file("last_resume", 0400, dev->debugfs, dev,
			    &iopf_dev_last_resume_fops);
	debugfs_create_file("access", 0200, dev->debugfs, dev,
			    &iopf_dev_access_fops);
	debugfs_create_file("accesses", 0400, dev->debugfs, dev,
			    &iopf_dev_accesses_fops);
	debugfs_create_file("mappings", 0400, dev->debugfs, dev,
			    &iopf_dev_mappings_fops);
}

/* Waits for readers; must not be called with dev->lock held */
void iopf_debugfs_dev_remove(struct iopf_dev *dev)
{
	/* At module exit the directory went with the whole tree */
	if (iopf_debugfs_root)
		debugfs_remove(dev->debugfs);
	dev->debugfs = NULL;
}

int iopf_debugfs_init(void)
{
	iopf_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(iopf_debugfs_root)) {
		/* debugfs is built in on every kernel we target */
		return PTR_ERR(iopf_debugfs_root);
	}
	debugfs_create_file("inject", 0200, iopf_debugfs_root, NULL,
			    &iopf_inject_fops);
	debugfs_create_file("inject_raw", 0200, iopf_debugfs_root, NULL,
			    &iopf_inject_raw_fops);
	debugfs_create_file("stats", 0400, iopf_debugfs_root, NULL,
			    &iopf_global_stats_fops);
	iopf_debugfs_devices = debugfs_create_dir("devices", iopf_debugfs_root);
	iopf_fail_debugfs_init(iopf_debugfs_root);
	iopf_bench_debugfs_init(iopf_debugfs_root);
	return 0;
}

/* Waits for every reader and writer, so no record is injected afterwards */
void iopf_debugfs_exit(void)
{
	debugfs_remove_recursive(iopf_debugfs_root);
	iopf_debugfs_root = NULL;
	iopf_debugfs_devices = NULL;
}
