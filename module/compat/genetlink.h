/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink details that changed after 6.1.
 *
 * 6.2's split-ops rework moved a dump's parsed attributes from
 * genl_dumpit_info(cb)->attrs into an embedded struct genl_info. Both are
 * static inlines and struct fields, so only the version tells.
 */
#ifndef _DEVEXCL_COMPAT_GENETLINK_H
#define _DEVEXCL_COMPAT_GENETLINK_H

#include <linux/version.h>
#include <net/genetlink.h>

/* The attributes genetlink parsed and validated for this dump's request. */
static inline struct nlattr **devexcl_dump_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return genl_dumpit_info(cb)->info.attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* _DEVEXCL_COMPAT_GENETLINK_H */
