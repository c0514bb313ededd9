// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/iopf_testbed: the one step of upstream's road that user space cannot
 * take through /dev/iommu itself. A VFIO cdev binds its device to an iommufd
 * in the kernel (iommufd_device_bind()); so does this file for bridged
 * devices (Documentation/upstream-path.md). Everything after it, the IOAS,
 * the fault queue, the HWPT, reading faults and answering them, is the
 * standard iommufd uAPI.
 *
 * A bridged device has at most one binding. Closing the file detaches and
 * unbinds what it bound; removing the device does the same to its binding,
 * whose ioctls then fail with -ENODEV.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "iopf_testbed.h"

MODULE_IMPORT_NS("IOMMUFD");

struct iopf_binding {
	struct iopf_dev *dev;		/* referenced; NULL once removed */
	struct iommufd_ctx *ictx;
	struct iommufd_device *idev;
	u32 dev_id;
	u32 pt_id;			/* the HWPT attached, with attached */
	bool attached;
};

/* Every binding, of every file: binds, attaches, removals are rare */
static DEFINE_MUTEX(iopf_bind_lock);
/* StreamID -> its binding, for DEV_GET and removal */
static DEFINE_XARRAY(iopf_bound_sids);

struct iopf_bind_file {
	struct xarray binds;		/* dev_id -> struct iopf_binding */
};

/*
 * Attach, replace, detach and unbind change the domain a report looks its
 * handler up in, and IOPF on the device: they hold the stream lock, as the
 * report does (upstream's mock holds its iopf_rwsem the same way), so that no
 * report runs between the IOPF queue's removal and the handle's.
 */
static void iopf_binding_lock(struct iopf_binding *b)
{
	lockdep_assert_held(&iopf_bind_lock);
	mutex_lock(&b->dev->stream_lock);
}

static void iopf_binding_unlock(struct iopf_binding *b)
{
	mutex_unlock(&b->dev->stream_lock);
}

/* Detach and unbind; the binding stays in its file's table, dead */
static void iopf_binding_end(struct iopf_binding *b)
{
	lockdep_assert_held(&iopf_bind_lock);
	if (!b->dev)
		return;
	iopf_binding_lock(b);
	if (b->attached)
		iommufd_device_detach(b->idev, IOMMU_NO_PASID);
	b->attached = false;
	iommufd_device_unbind(b->idev);
	iopf_binding_unlock(b);
	iommufd_ctx_put(b->ictx);
	xa_erase(&iopf_bound_sids, b->dev->sid);
	iopf_dev_put(b->dev);
	b->dev = NULL;
}

void iopf_bind_remove_dev(struct iopf_dev *dev)
{
	struct iopf_binding *b;

	mutex_lock(&iopf_bind_lock);
	b = xa_load(&iopf_bound_sids, dev->sid);
	if (b && b->dev == dev)
		iopf_binding_end(b);
	mutex_unlock(&iopf_bind_lock);
}

bool iopf_bind_info(struct iopf_dev *dev, u32 *dev_id, u32 *pt_id)
{
	struct iopf_binding *b;
	bool bound = false;

	mutex_lock(&iopf_bind_lock);
	b = xa_load(&iopf_bound_sids, dev->sid);
	if (b && b->dev == dev) {
		bound = true;
		*dev_id = b->dev_id;
		*pt_id = b->attached ? b->pt_id : 0;
	}
	mutex_unlock(&iopf_bind_lock);
	return bound;
}

static int iopf_bind(struct iopf_bind_file *f, struct iopf_bridge_cmd *cmd)
{
	struct iopf_binding *b, *old;
	struct iopf_dev *dev;
	struct device *pdev;
	int ret;

	if (cmd->dev_id || cmd->pt_id)
		return -EINVAL;
	dev = iopf_dev_get(cmd->sid);
	if (!dev)
		return -ENODEV;
	b = kzalloc_obj(*b, GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto out_put;
	}

	mutex_lock(&iopf_bind_lock);
	pdev = iopf_bridge_device(dev);
	if (!pdev) {
		pr_info_ratelimited("BIND: StreamID %#x is not bridged\n", dev->sid);
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = xa_insert(&iopf_bound_sids, dev->sid, b, GFP_KERNEL);
	if (ret)
		goto out_unlock;	/* -EBUSY: bound already */
	b->ictx = iommufd_ctx_from_fd(cmd->iommufd);
	if (IS_ERR(b->ictx)) {
		ret = PTR_ERR(b->ictx);
		goto out_erase;
	}
	b->idev = iommufd_device_bind(b->ictx, pdev, &b->dev_id);
	if (IS_ERR(b->idev)) {
		ret = PTR_ERR(b->idev);
		goto out_ctx;
	}
	/* iommufd reuses the id of a device a removal unbound: drop that one */
	old = xa_load(&f->binds, b->dev_id);
	if (old && !old->dev) {
		xa_erase(&f->binds, b->dev_id);
		kfree(old);
	}
	ret = xa_insert(&f->binds, b->dev_id, b, GFP_KERNEL);
	if (ret)
		goto out_unbind;
	b->dev = dev;
	cmd->dev_id = b->dev_id;
	mutex_unlock(&iopf_bind_lock);
	return 0;

out_unbind:
	iommufd_device_unbind(b->idev);
out_ctx:
	iommufd_ctx_put(b->ictx);
out_erase:
	xa_erase(&iopf_bound_sids, dev->sid);
out_unlock:
	mutex_unlock(&iopf_bind_lock);
	kfree(b);
out_put:
	iopf_dev_put(dev);
	return ret;
}

/* The file's live binding of cmd->dev_id; called under iopf_bind_lock */
static struct iopf_binding *iopf_binding_get(struct iopf_bind_file *f,
					     const struct iopf_bridge_cmd *cmd)
{
	struct iopf_binding *b = xa_load(&f->binds, cmd->dev_id);

	if (!b)
		return ERR_PTR(-ENOENT);
	if (!b->dev)
		return ERR_PTR(-ENODEV);
	return b;
}

static long iopf_bind_cmd(struct iopf_bind_file *f, unsigned int ioc,
			  struct iopf_bridge_cmd *cmd)
{
	struct iopf_binding *b;
	u32 pt_id;
	int ret = 0;

	if (ioc == IOPF_BRIDGE_BIND)
		return iopf_bind(f, cmd);

	mutex_lock(&iopf_bind_lock);
	b = iopf_binding_get(f, cmd);
	if (ioc == IOPF_BRIDGE_UNBIND && PTR_ERR_OR_ZERO(b) == -ENODEV) {
		/* Its device went away: unbound already, forget it */
		b = xa_erase(&f->binds, cmd->dev_id);
		kfree(b);
		goto out_unlock;
	}
	if (IS_ERR(b)) {
		ret = PTR_ERR(b);
		goto out_unlock;
	}
	switch (ioc) {
	case IOPF_BRIDGE_ATTACH:
		pt_id = cmd->pt_id;
		iopf_binding_lock(b);
		ret = b->attached ?
			iommufd_device_replace(b->idev, IOMMU_NO_PASID, &pt_id) :
			iommufd_device_attach(b->idev, IOMMU_NO_PASID, &pt_id);
		iopf_binding_unlock(b);
		if (!ret) {
			b->attached = true;
			b->pt_id = pt_id;
			cmd->pt_id = pt_id;
		}
		break;
	case IOPF_BRIDGE_DETACH:
		if (!b->attached) {
			ret = -EINVAL;
			break;
		}
		iopf_binding_lock(b);
		iommufd_device_detach(b->idev, IOMMU_NO_PASID);
		iopf_binding_unlock(b);
		b->attached = false;
		break;
	case IOPF_BRIDGE_UNBIND:
		iopf_binding_end(b);
		xa_erase(&f->binds, cmd->dev_id);
		kfree(b);
		break;
	}
out_unlock:
	mutex_unlock(&iopf_bind_lock);
	return ret;
}

static long iopf_bind_ioctl(struct file *file, unsigned int ioc,
			    unsigned long arg)
{
	struct iopf_bind_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct iopf_bridge_cmd cmd;
	long ret;

	switch (ioc) {
	case IOPF_BRIDGE_BIND:
	case IOPF_BRIDGE_ATTACH:
	case IOPF_BRIDGE_DETACH:
	case IOPF_BRIDGE_UNBIND:
		break;
	default:
		return -ENOTTY;
	}
	if (copy_from_user(&cmd, uarg, sizeof(cmd)))
		return -EFAULT;
	if (cmd.flags || cmd.__reserved)
		return -EINVAL;
	ret = iopf_bind_cmd(f, ioc, &cmd);
	if (!ret && copy_to_user(uarg, &cmd, sizeof(cmd)))
		ret = -EFAULT;
	return ret;
}

static int iopf_bind_open(struct inode *inode, struct file *file)
{
	struct iopf_bind_file *f = kzalloc_obj(*f, GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	xa_init(&f->binds);
	file->private_data = f;
	return 0;
}

static int iopf_bind_release(struct inode *inode, struct file *file)
{
	struct iopf_bind_file *f = file->private_data;
	struct iopf_binding *b;
	unsigned long id;

	mutex_lock(&iopf_bind_lock);
	xa_for_each(&f->binds, id, b) {
		iopf_binding_end(b);
		kfree(b);
	}
	mutex_unlock(&iopf_bind_lock);
	xa_destroy(&f->binds);
	kfree(f);
	return 0;
}

static const struct file_operations iopf_bind_fops = {
	.owner = THIS_MODULE,
	.open = iopf_bind_open,
	.release = iopf_bind_release,
	.unlocked_ioctl = iopf_bind_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice iopf_bind_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KBUILD_MODNAME,
	.fops = &iopf_bind_fops,
	.mode = 0600,
};

int iopf_bind_init(void)
{
	return misc_register(&iopf_bind_misc);
}

void iopf_bind_exit(void)
{
	misc_deregister(&iopf_bind_misc);
}
