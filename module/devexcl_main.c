// SPDX-License-Identifier: GPL-2.0
/*
 * devexcl: a simulated device that takes device-exclusive access to pages
 * of a real process and inspects the reverse map.
 *
 * This file owns the module's lifetime and the /dev/devexcl misc device.
 * Each open file is one simulated device context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "compat/exclusive.h"
#include "compat/kernel_features.h"
#include "devexcl.h"
#include "objid.h"

static long devexcl_ioctl_version(void __user *uarg)
{
	struct devexcl_version ver = {
		.abi_major = DEVEXCL_ABI_MAJOR,
		.abi_minor = DEVEXCL_ABI_MINOR,
		/* Mark and access are absent without device-exclusive entries. */
		.features = (DEVEXCL_HAVE_DEVICE_EXCLUSIVE ?
			     DEVEXCL_FEAT_EXCLUSIVE : 0) | DEVEXCL_FEAT_RMAP |
			    DEVEXCL_FEAT_NETLINK | DEVEXCL_FEAT_DEVICE_BUSY |
			    (DEVEXCL_KBUG_THP_EXCLUSIVE ?
			     DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE : 0),
		.page_size = PAGE_SIZE,
		.max_range_bytes = DEVEXCL_MAX_RANGE_BYTES,
		.kernel_features = devexcl_kernel_features(),
		.kernel_version = devexcl_kernel_version(),
	};

	return copy_to_user(uarg, &ver, sizeof(ver)) ? -EFAULT : 0;
}

static long devexcl_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct devexcl_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DEVEXCL_IOC_VERSION:
		return devexcl_ioctl_version(uarg);
	case DEVEXCL_IOC_BIND:
		return devexcl_ioctl_bind(ctx, uarg);
	case DEVEXCL_IOC_MARK:
		return devexcl_ioctl_mark(ctx, uarg);
	case DEVEXCL_IOC_RELEASE:
		return devexcl_ioctl_release(ctx, uarg);
	case DEVEXCL_IOC_STATUS:
		return devexcl_ioctl_status(ctx, uarg);
	case DEVEXCL_IOC_ACCESS:
		return devexcl_ioctl_access(ctx, uarg);
	case DEVEXCL_IOC_COUNTERS:
		return devexcl_ioctl_counters(ctx, uarg);
	case DEVEXCL_IOC_REVOCATIONS:
		return devexcl_ioctl_revocations(ctx, uarg);
	case DEVEXCL_IOC_BUSY:
		return devexcl_ioctl_busy(ctx, uarg);
	case DEVEXCL_IOC_INSPECT_PAGE:
		return devexcl_ioctl_inspect_page(uarg);
	case DEVEXCL_IOC_INSPECT_RANGE:
		return devexcl_ioctl_inspect_range(uarg);
	case DEVEXCL_IOC_INSPECT_VMA:
		return devexcl_ioctl_inspect_vma(uarg);
	default:
		return -ENOTTY;
	}
}

static int devexcl_open(struct inode *inode, struct file *file)
{
	struct devexcl_ctx *ctx = devexcl_ctx_create();

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	file->private_data = ctx;
	return 0;
}

static int devexcl_release(struct inode *inode, struct file *file)
{
	devexcl_ctx_destroy(file->private_data);
	return 0;
}

static const struct file_operations devexcl_fops = {
	.owner = THIS_MODULE,
	.open = devexcl_open,
	.release = devexcl_release,
	.unlocked_ioctl = devexcl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice devexcl_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "devexcl",
	.fops = &devexcl_fops,
	/* Root only by default; an admin may widen it, the per-target checks still hold. */
	.mode = 0600,
};

static int __init devexcl_init(void)
{
	int ret;

	devexcl_objid_init();
	ret = devexcl_netlink_init();
	if (ret)
		return ret;
	ret = misc_register(&devexcl_miscdev);
	if (ret) {
		devexcl_netlink_exit();
		return ret;
	}
	pr_info("loaded, ABI %d.%d\n", DEVEXCL_ABI_MAJOR, DEVEXCL_ABI_MINOR);
	return 0;
}

static void __exit devexcl_exit(void)
{
	misc_deregister(&devexcl_miscdev);
	devexcl_netlink_exit();
	pr_info("unloaded\n");
}

module_init(devexcl_init);
module_exit(devexcl_exit);

MODULE_DESCRIPTION("Simulated device for device-exclusive access and rmap inspection");
MODULE_LICENSE("GPL");
