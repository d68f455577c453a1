/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel offers, as DEVEXCL_KFEAT_* bits for user space.
 *
 * Each bit comes from a Kconfig option or a definition the change itself
 * introduced, not from the version number, so a distribution's backport
 * reports what it has. The one exception is the anon_vma rework: it
 * changed nothing outside mm/, so only the version can tell. The module is
 * built against the kernel it runs on (vermagic), so build-time tests
 * describe the running kernel.
 */
#ifndef _DEVEXCL_COMPAT_KERNEL_FEATURES_H
#define _DEVEXCL_COMPAT_KERNEL_FEATURES_H

#include <linux/mm_types.h>
#include <linux/userfaultfd_k.h>
#include <linux/version.h>

#include "exclusive.h"
#include "../uapi/devexcl.h"

static inline __u64 devexcl_kernel_features(void)
{
	__u64 f = 0;

	if (DEVEXCL_HAVE_DEVICE_EXCLUSIVE)
		f |= DEVEXCL_KFEAT_DEVICE_EXCLUSIVE;
	if (DEVEXCL_EXCLUSIVE_GEN >= 2)
		f |= DEVEXCL_KFEAT_EXCLUSIVE_PER_PAGE |
		     DEVEXCL_KFEAT_EXCLUSIVE_KEEPS_MAPCOUNT |
		     DEVEXCL_KFEAT_EXCLUSIVE_ONE_KIND;
	if (IS_ENABLED(CONFIG_PER_VMA_LOCK))
		f |= DEVEXCL_KFEAT_PER_VMA_LOCK;
#if defined(CONFIG_PER_VMA_LOCK) && \
	(defined(VMA_LOCK_OFFSET) || defined(VM_REFCNT_EXCLUDE_READERS_FLAG))
	/* 6.15 replaced the per-VMA rwsem with vm_refcnt (7.x renamed its flag). */
	f |= DEVEXCL_KFEAT_VMA_REFCNT;
#endif
#if defined(CONFIG_USERFAULTFD) && defined(UFFDIO_MOVE)
	f |= DEVEXCL_KFEAT_UFFDIO_MOVE;
#endif
	if (LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0))
		f |= DEVEXCL_KFEAT_ANON_VMA_CLONE_REWORK;
#ifdef DEVEXCL_HAVE_VMA_ANON_PGOFF
	f |= DEVEXCL_KFEAT_VMA_ANON_PGOFF;
#endif
	return f;
}

/* For display only: decisions go by the feature bits. */
static inline __u64 devexcl_kernel_version(void)
{
	return LINUX_VERSION_CODE;
}

#endif /* _DEVEXCL_COMPAT_KERNEL_FEATURES_H */
