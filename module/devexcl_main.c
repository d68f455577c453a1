// SPDX-License-Identifier: GPL-2.0
/*
 * devexcl: a simulated device that takes device-exclusive access to pages
 * of a real process and inspects the reverse map.
 *
 * This file owns the module's lifetime and the /dev/devexcl misc device.
 * Each open file is one simulated device context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>

#include "uapi/devexcl.h"

#define DEVEXCL_MAX_RANGE_BYTES SZ_1G

static long devexcl_ioctl_version(void __user *uarg)
{
	struct devexcl_version ver = {
		.abi_major = DEVEXCL_ABI_MAJOR,
		.abi_minor = DEVEXCL_ABI_MINOR,
		.features = 0,
		.page_size = PAGE_SIZE,
		.max_range_bytes = DEVEXCL_MAX_RANGE_BYTES,
	};

	return copy_to_user(uarg, &ver, sizeof(ver)) ? -EFAULT : 0;
}

static long devexcl_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DEVEXCL_IOC_VERSION:
		return devexcl_ioctl_version(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations devexcl_fops = {
	.owner = THIS_MODULE,
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

	ret = misc_register(&devexcl_miscdev);
	if (ret)
		return ret;
	pr_info("loaded, ABI %d.%d\n", DEVEXCL_ABI_MAJOR, DEVEXCL_ABI_MINOR);
	return 0;
}

static void __exit devexcl_exit(void)
{
	misc_deregister(&devexcl_miscdev);
	pr_info("unloaded\n");
}

module_init(devexcl_init);
module_exit(devexcl_exit);

MODULE_DESCRIPTION("Simulated device for device-exclusive access and rmap inspection");
MODULE_LICENSE("GPL");
