// SPDX-License-Identifier: GPL-2.0
/*
 * Page table walk and entry decoding.
 *
 * Locking follows the kernel's own walkers: the caller keeps the page tables
 * alive (mmap_lock of the mm, or the anon_vma lock for an rmap walk of a
 * foreign mm), each PMD is read once, and a PMD leaf or a PTE table is then
 * decoded under its page table lock. devexcl_peek_entry() reads a single
 * entry without that lock, for rmap walks, whose rmap lock keeps the tables
 * alive. A PMD leaf is never taken for a PTE table, and
 * pfn_swap_entry_to_page() is never used, because it BUG()s on an unlocked
 * migration entry's page.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/pgtable.h>
#include <linux/swapops.h>
#include <linux/userfaultfd_k.h>

#include "compat/leaf.h"
#include "compat/pte_table.h"
#include "compat/uffd_bit.h"
#include "pgwalk.h"
#include "uapi/devexcl.h"

/*
 * A PMD that maps a huge page or holds a non-present entry: is_swap_pmd()
 * and pmd_devmap() are gone on 7.x, and a devmap PMD is a leaf anyway.
 */
static bool pmd_is_leaf_or_entry(pmd_t pmdval)
{
	return pmd_leaf(pmdval) || (!pmd_none(pmdval) && !pmd_present(pmdval));
}

static void apply_leaf(const struct devexcl_leaf *leaf,
		       struct devexcl_pte_info *info)
{
	info->kind = leaf->kind;
	info->pfn = leaf->pfn;
	info->has_pfn = leaf->has_pfn;
	if (leaf->uffd_wp_marker)
		info->flags |= DEVEXCL_PTEF_UFFD_WP;
}

static void decode_pte(pte_t pte, struct devexcl_pte_info *info)
{
	struct devexcl_leaf leaf;

	if (pte_none(pte)) {
		info->kind = DEVEXCL_PTE_NONE;
		return;
	}
	if (pte_present(pte)) {
		info->kind = DEVEXCL_PTE_PRESENT;
		info->pfn = pte_pfn(pte);
		info->has_pfn = true;
		if (pte_write(pte))
			info->flags |= DEVEXCL_PTEF_WRITE;
		if (pte_dirty(pte))
			info->flags |= DEVEXCL_PTEF_DIRTY;
		if (pte_young(pte))
			info->flags |= DEVEXCL_PTEF_YOUNG;
		if (pte_soft_dirty(pte))
			info->flags |= DEVEXCL_PTEF_SOFT_DIRTY;
		if (devexcl_pte_uffd(pte))
			info->flags |= DEVEXCL_PTEF_UFFD_WP;
		if (is_zero_pfn(info->pfn))
			info->flags |= DEVEXCL_PTEF_ZERO_PAGE;
		return;
	}
	if (pte_swp_soft_dirty(pte))
		info->flags |= DEVEXCL_PTEF_SOFT_DIRTY;
	if (devexcl_pte_swp_uffd(pte))
		info->flags |= DEVEXCL_PTEF_UFFD_WP;
	devexcl_decode_pte_leaf(pte, &leaf);
	apply_leaf(&leaf, info);
}

/* A PMD leaf or PMD swap entry, seen from the page at @addr inside it. */
static void decode_pmd(pmd_t pmd, unsigned long addr,
		       struct devexcl_pte_info *info)
{
	unsigned long index = (addr & ~PMD_MASK) >> PAGE_SHIFT;
	struct devexcl_leaf leaf;

	info->flags |= DEVEXCL_PTEF_PMD;
	if (pmd_present(pmd)) {
		info->kind = DEVEXCL_PTE_PRESENT;
		info->pfn = pmd_pfn(pmd) + index;
		info->has_pfn = true;
		if (pmd_write(pmd))
			info->flags |= DEVEXCL_PTEF_WRITE;
		if (pmd_dirty(pmd))
			info->flags |= DEVEXCL_PTEF_DIRTY;
		if (pmd_young(pmd))
			info->flags |= DEVEXCL_PTEF_YOUNG;
		if (pmd_soft_dirty(pmd))
			info->flags |= DEVEXCL_PTEF_SOFT_DIRTY;
		if (devexcl_pmd_uffd(pmd))
			info->flags |= DEVEXCL_PTEF_UFFD_WP;
		return;
	}
#ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION
	if (pmd_swp_soft_dirty(pmd))
		info->flags |= DEVEXCL_PTEF_SOFT_DIRTY;
	if (devexcl_pmd_swp_uffd(pmd))
		info->flags |= DEVEXCL_PTEF_UFFD_WP;
#endif
	devexcl_decode_pmd_leaf(pmd, &leaf);
	apply_leaf(&leaf, info);
	if (info->has_pfn)
		info->pfn += index;
}

static void decode_pud(pud_t pud, unsigned long addr,
		       struct devexcl_pte_info *info)
{
	info->flags |= DEVEXCL_PTEF_PUD;
	if (!pud_present(pud)) {
		info->kind = DEVEXCL_PTE_OTHER;
		return;
	}
	info->kind = DEVEXCL_PTE_PRESENT;
	info->pfn = pud_pfn(pud) + ((addr & ~PUD_MASK) >> PAGE_SHIFT);
	info->has_pfn = true;
	if (pud_write(pud))
		info->flags |= DEVEXCL_PTEF_WRITE;
	if (pud_dirty(pud))
		info->flags |= DEVEXCL_PTEF_DIRTY;
	if (pud_young(pud))
		info->flags |= DEVEXCL_PTEF_YOUNG;
	if (pud_soft_dirty(pud))
		info->flags |= DEVEXCL_PTEF_SOFT_DIRTY;
}

/* Report every page of [addr, end) as the same entry-less @kind. */
static int walk_fill(unsigned long addr, unsigned long end, u8 kind,
		     u32 flags, devexcl_pte_fn fn, void *priv)
{
	struct devexcl_pte_info info = { .kind = kind, .flags = flags };
	int ret;

	for (; addr < end; addr += PAGE_SIZE) {
		ret = fn(addr, &info, priv);
		if (ret)
			return ret;
	}
	return 0;
}

/* Sets *@gone, reporting nothing, if @pmd no longer points to a table. */
static int walk_pte_table(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
			  unsigned long end, u32 vma_flags, devexcl_pte_fn fn,
			  void *priv, bool *gone)
{
	struct devexcl_pte_info info;
	spinlock_t *ptl; /* this PTE table's lock */
	pte_t *pte;
	int ret = 0;

	pte = devexcl_pte_map_lock(mm, pmd, addr, &ptl);
	*gone = !pte;
	if (!pte)
		return 0;
	for (; addr < end; addr += PAGE_SIZE, pte++) {
		memset(&info, 0, sizeof(info));
		info.flags = vma_flags;
		decode_pte(ptep_get(pte), &info);
		ret = fn(addr, &info, priv);
		if (ret)
			break;
	}
	devexcl_pte_unmap_unlock(ptl);
	return ret;
}

enum pmd_leaf_outcome { PMD_LEAF_DONE, PMD_LEAF_NOW_TABLE, PMD_LEAF_NOW_NONE };

/* Decodes a PMD leaf or PMD swap entry under its lock, unless it changed since it was read. */
static enum pmd_leaf_outcome walk_pmd_leaf(struct mm_struct *mm, pmd_t *pmd,
					   unsigned long addr, unsigned long end,
					   u32 vma_flags, devexcl_pte_fn fn,
					   void *priv, int *ret)
{
	struct devexcl_pte_info info;
	spinlock_t *ptl; /* this PMD's lock */
	pmd_t pmdval;

	ptl = pmd_lock(mm, pmd);
	pmdval = *pmd;
	if (!pmd_is_leaf_or_entry(pmdval)) {
		/* Split or zapped since it was read. */
		spin_unlock(ptl);
		return pmd_none(pmdval) ? PMD_LEAF_NOW_NONE : PMD_LEAF_NOW_TABLE;
	}
	memset(&info, 0, sizeof(info));
	info.flags = vma_flags;
	decode_pmd(pmdval, addr, &info);
	/* One entry for all its pages: only the PFN moves on. */
	for (*ret = 0; addr < end; addr += PAGE_SIZE, info.pfn += info.has_pfn) {
		*ret = fn(addr, &info, priv);
		if (*ret)
			break;
	}
	spin_unlock(ptl);
	return PMD_LEAF_DONE;
}

static int walk_pmd_range(struct mm_struct *mm, pud_t *pud, unsigned long addr,
			  unsigned long end, u32 vma_flags, devexcl_pte_fn fn,
			  void *priv)
{
	unsigned long next;
	pmd_t *pmd, pmdval;
	int ret = 0;

	bool gone;

	pmd = pmd_offset(pud, addr);
	for (; addr < end; pmd++, addr = next) {
		next = pmd_addr_end(addr, end);
again:
		pmdval = READ_ONCE(*pmd);
		if (pmd_none(pmdval)) {
			ret = walk_fill(addr, next, DEVEXCL_PTE_NONE, vma_flags,
					fn, priv);
		} else if (pmd_is_leaf_or_entry(pmdval)) {
			switch (walk_pmd_leaf(mm, pmd, addr, next, vma_flags,
					      fn, priv, &ret)) {
			case PMD_LEAF_DONE:
				break;
			case PMD_LEAF_NOW_TABLE:
				goto again;
			case PMD_LEAF_NOW_NONE:
				ret = walk_fill(addr, next, DEVEXCL_PTE_NONE,
						vma_flags, fn, priv);
				break;
			}
		} else if (pmd_bad(pmdval)) {
			ret = walk_fill(addr, next, DEVEXCL_PTE_OTHER, vma_flags,
					fn, priv);
		} else {
			ret = walk_pte_table(mm, pmd, addr, next, vma_flags, fn,
					     priv, &gone);
			if (gone)
				goto again;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int walk_pud_leaf(struct mm_struct *mm, pud_t *pud, unsigned long addr,
			 unsigned long end, u32 vma_flags, devexcl_pte_fn fn,
			 void *priv)
{
	struct devexcl_pte_info info;
	spinlock_t *ptl; /* this PUD's lock */
	pud_t pudval;
	int ret = 0;

	ptl = pud_lock(mm, pud);
	pudval = *pud;
	memset(&info, 0, sizeof(info));
	info.flags = vma_flags;
	if (pud_none(pudval))
		info.kind = DEVEXCL_PTE_NONE;
	else
		decode_pud(pudval, addr, &info);
	/* One entry for all its pages: only the PFN moves on. */
	for (; addr < end; addr += PAGE_SIZE, info.pfn += info.has_pfn) {
		ret = fn(addr, &info, priv);
		if (ret)
			break;
	}
	spin_unlock(ptl);
	return ret;
}

/**
 * devexcl_walk_vma - report the entries of [start, end) inside one VMA
 * @vma: the VMA; its page tables must be kept alive by the caller
 * @start: page aligned, >= vma->vm_start
 * @end: page aligned, <= vma->vm_end
 * @fn: called for each page, see devexcl_pte_fn
 * @priv: passed to @fn
 *
 * Return: 0, or the first non-zero value @fn returned.
 */
int devexcl_walk_vma(struct vm_area_struct *vma, unsigned long start,
		     unsigned long end, devexcl_pte_fn fn, void *priv)
{
	u32 vma_flags = is_vm_hugetlb_page(vma) ? DEVEXCL_PTEF_HUGETLB : 0;
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr, next;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud, pudval;
	int ret;

	for (addr = start; addr < end; addr = next) {
		next = pgd_addr_end(addr, end);
		pgd = pgd_offset(mm, addr);
		if (pgd_none(*pgd) || pgd_bad(*pgd)) {
			ret = walk_fill(addr, next, pgd_none(*pgd) ?
					DEVEXCL_PTE_NONE : DEVEXCL_PTE_OTHER,
					vma_flags, fn, priv);
			if (ret)
				return ret;
			continue;
		}
		next = p4d_addr_end(addr, end);
		p4d = p4d_offset(pgd, addr);
		if (p4d_none(*p4d) || p4d_bad(*p4d)) {
			ret = walk_fill(addr, next, p4d_none(*p4d) ?
					DEVEXCL_PTE_NONE : DEVEXCL_PTE_OTHER,
					vma_flags, fn, priv);
			if (ret)
				return ret;
			continue;
		}
		next = pud_addr_end(addr, end);
		pud = pud_offset(p4d, addr);
		pudval = READ_ONCE(*pud);
		if (pud_none(pudval))
			ret = walk_fill(addr, next, DEVEXCL_PTE_NONE, vma_flags,
					fn, priv);
		else if (pud_leaf(pudval) || !pud_present(pudval))
			ret = walk_pud_leaf(mm, pud, addr, next, vma_flags, fn,
					    priv);
		else if (pud_bad(pudval))
			ret = walk_fill(addr, next, DEVEXCL_PTE_OTHER, vma_flags,
					fn, priv);
		else
			ret = walk_pmd_range(mm, pud, addr, next, vma_flags, fn,
					     priv);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * devexcl_peek_entry - decode the entry that maps @addr, without locking it
 * @vma: the VMA; the caller keeps its page tables alive: an rmap walk holds
 *	the anon_vma or i_mmap lock that freeing them, collapsing a THP or
 *	unsharing a hugetlb PMD would need for writing
 * @addr: page aligned, inside @vma
 * @info: filled with the entry
 *
 * Each level is read once, so @info is the entry as it was at one instant.
 * 6.1's page_vma_mapped_walk() reads the PMD and, in map_pte(), the PTE the
 * same way, and takes the lock only for an entry it may act on. A match
 * needs no lock; a miss may be a transient clear, which only a locked walk
 * rules out.
 */
void devexcl_peek_entry(struct vm_area_struct *vma, unsigned long addr,
			struct devexcl_pte_info *info)
{
	devexcl_peek_mm_entry(vma->vm_mm, addr, info);
	if (is_vm_hugetlb_page(vma))
		info->flags |= DEVEXCL_PTEF_HUGETLB;
}

/**
 * devexcl_peek_mm_entry - devexcl_peek_entry() where the VMA is not at hand
 * @mm: the address space; the caller keeps its page tables alive (an MMU
 *	notifier's caller does: it holds the locks its own change needs)
 * @addr: page aligned
 * @info: filled with the entry; no DEVEXCL_PTEF_HUGETLB, which needs the VMA
 */
void devexcl_peek_mm_entry(struct mm_struct *mm, unsigned long addr,
			   struct devexcl_pte_info *info)
{
	pgd_t *pgd, pgdval;
	p4d_t *p4d, p4dval;
	pud_t *pud, pudval;
	pmd_t pmdval;

	memset(info, 0, sizeof(*info));
	info->kind = DEVEXCL_PTE_NONE;
	pgd = pgd_offset(mm, addr);
	pgdval = READ_ONCE(*pgd);
	if (pgd_none(pgdval))
		return;
	if (pgd_bad(pgdval))
		goto bad;
	p4d = p4d_offset_lockless(pgd, pgdval, addr);
	p4dval = READ_ONCE(*p4d);
	if (p4d_none(p4dval))
		return;
	if (p4d_bad(p4dval))
		goto bad;
	pud = pud_offset_lockless(p4d, p4dval, addr);
	pudval = READ_ONCE(*pud);
	if (pud_none(pudval))
		return;
	if (pud_leaf(pudval) || !pud_present(pudval)) {
		decode_pud(pudval, addr, info);
		return;
	}
	if (pud_bad(pudval))
		goto bad;
	pmdval = READ_ONCE(*pmd_offset_lockless(pud, pudval, addr));
	if (pmd_none(pmdval))
		return;
	if (pmd_is_leaf_or_entry(pmdval)) {
		decode_pmd(pmdval, addr, info);
		return;
	}
	if (pmd_bad(pmdval))
		goto bad;
	decode_pte(devexcl_pte_peek(pmdval, addr), info);
	return;
bad:
	info->kind = DEVEXCL_PTE_OTHER;
}

/**
 * devexcl_walk_range - report the entries of [start, end) of an mm
 * @mm: the address space; the caller holds its mmap_lock
 * @start: page aligned
 * @end: page aligned
 * @fn: called for each page, see devexcl_pte_fn; addresses outside any VMA
 *	are reported as DEVEXCL_PTE_NO_VMA
 * @priv: passed to @fn
 *
 * Return: 0, or the first non-zero value @fn returned.
 */
int devexcl_walk_range(struct mm_struct *mm, unsigned long start,
		       unsigned long end, devexcl_pte_fn fn, void *priv)
{
	struct vm_area_struct *vma;
	unsigned long addr = start;
	int ret;

	lockdep_assert_held(&mm->mmap_lock);
	while (addr < end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end)
			return walk_fill(addr, end, DEVEXCL_PTE_NO_VMA, 0, fn,
					 priv);
		if (vma->vm_start > addr) {
			ret = walk_fill(addr, vma->vm_start, DEVEXCL_PTE_NO_VMA,
					0, fn, priv);
			if (ret)
				return ret;
			addr = vma->vm_start;
		}
		ret = devexcl_walk_vma(vma, addr, min(end, vma->vm_end), fn,
				       priv);
		if (ret)
			return ret;
		addr = min(end, vma->vm_end);
	}
	return 0;
}
