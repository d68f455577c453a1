/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * devexcl user-space ABI: the one contract between devexcl.ko and user space.
 *
 * Every ioctl argument is a struct of __u64 fields, so its layout is the
 * same for 32- and 64-bit callers and has no implicit padding. Unused
 * fields are named "reserved" and must be zero.
 */
#ifndef _UAPI_DEVEXCL_H
#define _UAPI_DEVEXCL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define DEVEXCL_DEVICE_PATH "/dev/devexcl"

/* A major bump breaks old callers; a minor bump only adds. */
#define DEVEXCL_ABI_MAJOR 1
#define DEVEXCL_ABI_MINOR 0

/* 0xDE is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define DEVEXCL_IOC_MAGIC 0xDE

/**
 * struct devexcl_version - answer of DEVEXCL_IOC_VERSION
 * @abi_major: DEVEXCL_ABI_MAJOR of the loaded module
 * @abi_minor: DEVEXCL_ABI_MINOR of the loaded module
 * @features: DEVEXCL_FEAT_* bits the module supports
 * @page_size: the kernel's PAGE_SIZE
 * @max_range_bytes: the largest range one range ioctl accepts
 * @reserved: zero
 */
struct devexcl_version {
	__u64 abi_major;
	__u64 abi_minor;
	__u64 features;
	__u64 page_size;
	__u64 max_range_bytes;
	__u64 reserved[3];
};

#define DEVEXCL_IOC_VERSION _IOR(DEVEXCL_IOC_MAGIC, 0x00, struct devexcl_version)

#endif /* _UAPI_DEVEXCL_H */
