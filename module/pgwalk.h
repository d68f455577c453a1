/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page table walk and entry decoding, for the CPU's view of an address.
 *
 * 6.1 exports neither walk_page_range() nor a follow_pte() that sees
 * non-present entries or PMD-mapped THPs, so devexcl walks the tables
 * itself, the way the kernel's rmap walkers do.
 */
#ifndef _DEVEXCL_PGWALK_H
#define _DEVEXCL_PGWALK_H

#include <linux/mm_types.h>
#include <linux/swap.h>

/**
 * struct devexcl_pte_info - one decoded page table entry
 * @kind: enum devexcl_pte_kind
 * @flags: DEVEXCL_PTEF_* bits
 * @pfn: the page frame the entry refers to, when @has_pfn
 * @has_pfn: present entries and PFN swap entries (device-exclusive,
 *	migration, device-private, hwpoison) name a page frame
 */
struct devexcl_pte_info {
	u8 kind;
	u32 flags;
	unsigned long pfn;
	bool has_pfn;
};

/**
 * typedef devexcl_pte_fn - called for each page of a walk
 * @addr: the page's address
 * @info: its decoded entry
 * @priv: the walker's private data
 *
 * Called with the page table lock held when there is an entry (the callback
 * may inspect the page without a reference, as rmap walkers do) and with no
 * lock for holes. It must not sleep. A non-zero return stops the walk and is
 * returned by the walker.
 */
typedef int (*devexcl_pte_fn)(unsigned long addr,
			      const struct devexcl_pte_info *info, void *priv);

int devexcl_walk_range(struct mm_struct *mm, unsigned long start,
		       unsigned long end, devexcl_pte_fn fn, void *priv);
int devexcl_walk_vma(struct vm_area_struct *vma, unsigned long start,
		     unsigned long end, devexcl_pte_fn fn, void *priv);
void devexcl_peek_entry(struct vm_area_struct *vma, unsigned long addr,
			struct devexcl_pte_info *info);
void devexcl_peek_mm_entry(struct mm_struct *mm, unsigned long addr,
			   struct devexcl_pte_info *info);

#endif /* _DEVEXCL_PGWALK_H */
