/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Faulting pages in for writing, as marking will.
 *
 * 6.5 dropped get_user_pages_remote()'s @vmas argument.
 */
#ifndef _DEVEXCL_COMPAT_GUP_H
#define _DEVEXCL_COMPAT_GUP_H

#include <linux/mm.h>
#include <linux/version.h>

/**
 * devexcl_fault_in_writable() - fault pages in for writing, as marking will
 * @mm: target address space, mmap_lock held for read
 * @start: first address
 * @nr: pages
 * @pages: receives a referenced page per address faulted in
 *
 * The same GUP the kernel's exclusive marking does, without FOLL_SPLIT_PMD,
 * so that looking at a PMD-mapped THP does not split its mapping.
 *
 * Return: pages faulted in, or a negative errno for the first page.
 */
static inline long devexcl_fault_in_writable(struct mm_struct *mm,
					     unsigned long start,
					     unsigned long nr,
					     struct page **pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return get_user_pages_remote(mm, start, nr, FOLL_WRITE, pages, NULL);
#else
	return get_user_pages_remote(mm, start, nr, FOLL_WRITE, pages, NULL,
				     NULL);
#endif
}

#endif /* _DEVEXCL_COMPAT_GUP_H */
