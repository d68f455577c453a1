/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-CPU system workqueue. 6.17 named it system_percpu_wq, and 7.x
 * warns once, on the console, about work queued on the old system_wq.
 * There is no definition to test for (both are variables), so the version
 * decides; stable trees that carry the new name still accept the old one.
 */
#ifndef _DEVEXCL_COMPAT_WORKQUEUE_H
#define _DEVEXCL_COMPAT_WORKQUEUE_H

#include <linux/version.h>
#include <linux/workqueue.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define devexcl_percpu_wq system_percpu_wq
#else
#define devexcl_percpu_wq system_wq
#endif

#endif /* _DEVEXCL_COMPAT_WORKQUEUE_H */
