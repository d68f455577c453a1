/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mapping and locking a PTE table, when the table may vanish.
 *
 * From 6.5 a PTE table can be freed (khugepaged's collapse, and on 7.x
 * CONFIG_PT_RECLAIM's freeing of empty tables) under RCU with only the
 * mmap_lock held for reading, so pte_offset_map_lock() can fail. 6.12 and
 * 7.x export neither __pte_offset_map() nor __pte_offset_map_lock(), so
 * devexcl does what they do: read the PMD once inside an RCU read section,
 * lock the table, and retry if the PMD changed meanwhile. On 6.1, whose
 * tables the caller's mmap_lock or rmap lock keeps, the same code never
 * retries. x86-64 has no highmem page tables, so a table is reached
 * through the direct map (pte_offset_kernel()), and a PMD is read whole
 * by READ_ONCE().
 */
#ifndef _DEVEXCL_COMPAT_PTE_TABLE_H
#define _DEVEXCL_COMPAT_PTE_TABLE_H

#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>

/* A PMD that points to a PTE table (not none, a leaf, an entry or bad). */
static inline bool devexcl_pmd_is_table(pmd_t pmdval)
{
	return !pmd_none(pmdval) && pmd_present(pmdval) &&
	       !pmd_leaf(pmdval) && !pmd_bad(pmdval);
}

/**
 * devexcl_pte_map_lock() - map and lock the PTE table @pmd points to
 * @mm: the table's mm
 * @pmd: the PMD, read afresh here
 * @addr: the address whose entry is wanted
 * @ptlp: receives the table's lock
 *
 * Return: the entry for @addr, with *@ptlp held and an RCU read section
 * open, to be ended by devexcl_pte_unmap_unlock(); NULL if @pmd no longer
 * points to a table (the caller reads it again and decides).
 */
static inline pte_t *devexcl_pte_map_lock(struct mm_struct *mm, pmd_t *pmd,
					  unsigned long addr,
					  spinlock_t **ptlp)
{
	spinlock_t *ptl; /* the table's lock, as pmdval names it */
	pmd_t pmdval;

	for (;;) {
		rcu_read_lock();
		pmdval = READ_ONCE(*pmd);
		if (!devexcl_pmd_is_table(pmdval)) {
			rcu_read_unlock();
			return NULL;
		}
		ptl = pte_lockptr(mm, &pmdval);
		spin_lock(ptl);
		if (pmd_same(pmdval, READ_ONCE(*pmd))) {
			*ptlp = ptl;
			return pte_offset_kernel(&pmdval, addr);
		}
		spin_unlock(ptl);
		rcu_read_unlock();
	}
}

static inline void devexcl_pte_unmap_unlock(spinlock_t *ptl)
{
	spin_unlock(ptl);
	rcu_read_unlock();
}

/**
 * devexcl_pte_peek() - read one entry of the table @pmdval points to, unlocked
 * @pmdval: a PMD value read once, for which devexcl_pmd_is_table() holds
 * @addr: the address whose entry is wanted
 *
 * A table freed under RCU after @pmdval was read is still readable here,
 * and a reclaimed one held only empty entries.
 */
static inline pte_t devexcl_pte_peek(pmd_t pmdval, unsigned long addr)
{
	pte_t pte;

	rcu_read_lock();
	pte = ptep_get_lockless(pte_offset_kernel(&pmdval, addr));
	rcu_read_unlock();
	return pte;
}

#endif /* _DEVEXCL_COMPAT_PTE_TABLE_H */
