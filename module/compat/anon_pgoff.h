/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page offset that anonymous pages of a VMA are indexed by. Until 7.x
 * it is vm_pgoff; 7.x gives each VMA an anonymous page offset of its own
 * (vma_start_anon_pgoff(): for a MAP_PRIVATE file mapping, where the VMA
 * was first faulted), which keys the anon_vma interval tree and the index
 * of its anonymous folios. Searching that tree with vm_pgoff breaks the
 * augmented tree's invariant, and 7.x's _subtree_search() then follows a
 * NULL child. No macro marks the change: Kbuild looks for the helper in
 * the kernel's mm.h (DEVEXCL_HAVE_VMA_ANON_PGOFF).
 */
#ifndef _DEVEXCL_COMPAT_ANON_PGOFF_H
#define _DEVEXCL_COMPAT_ANON_PGOFF_H

#include <linux/mm.h>

static inline pgoff_t devexcl_vma_anon_pgoff(const struct vm_area_struct *vma)
{
#ifdef DEVEXCL_HAVE_VMA_ANON_PGOFF
	return vma_start_anon_pgoff(vma);
#else
	return vma->vm_pgoff;
#endif
}

#endif /* _DEVEXCL_COMPAT_ANON_PGOFF_H */
