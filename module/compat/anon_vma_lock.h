/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's anon_vma_lock_read() and anon_vma_unlock_read(), which 7.x
 * moved into mm/internal.h.
 */
#ifndef _DEVEXCL_COMPAT_ANON_VMA_LOCK_H
#define _DEVEXCL_COMPAT_ANON_VMA_LOCK_H

#include <linux/rmap.h>
#include <linux/rwsem.h>

static inline void devexcl_anon_vma_lock_read(struct anon_vma *av)
{
	down_read(&av->root->rwsem);
}

static inline void devexcl_anon_vma_unlock_read(struct anon_vma *av)
{
	up_read(&av->root->rwsem);
}

#endif /* _DEVEXCL_COMPAT_ANON_VMA_LOCK_H */
