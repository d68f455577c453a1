/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Making pages device-exclusive, on both generations of the kernel API.
 *
 * Until 6.14, make_device_exclusive_range() converts a range and returns
 * the converted pages locked, with NULL for a refused page. The 6.15
 * rework ("mm: device exclusive memory access" fixes, David Hildenbrand)
 * replaced it with make_device_exclusive(), one page per call, returning
 * an ERR_PTR per page, and in the same series made the read and write
 * entry kinds one, SWP_DEVICE_EXCLUSIVE: that macro is what tells the two
 * generations apart, so a backport of the series is seen as what it is.
 *
 * Without CONFIG_DEVICE_PRIVATE neither exists (mm/rmap.c builds them only
 * with it): Debian's stock 6.1 and 6.12 kernels, for example. The module
 * still loads there, for inspection, dumps and events, and marking answers
 * -EOPNOTSUPP (generation 0).
 */
#ifndef _DEVEXCL_COMPAT_EXCLUSIVE_H
#define _DEVEXCL_COMPAT_EXCLUSIVE_H

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/swap.h>

#ifndef CONFIG_DEVICE_PRIVATE
/* No way to make a device-exclusive entry, so none to meet either. */
#define DEVEXCL_EXCLUSIVE_GEN 0
#define DEVEXCL_KBUG_THP_EXCLUSIVE 0
#elif defined(SWP_DEVICE_EXCLUSIVE)
/* make_device_exclusive(): one page a call, mapcount kept, one entry kind. */
#define DEVEXCL_EXCLUSIVE_GEN 2
/*
 * The rework converts one PTE, remapping a PMD-mapped THP by PTEs first,
 * and teaches the rmap walkers about the entries (try_to_migrate_one() no
 * longer takes pte_pfn() of one).
 */
#define DEVEXCL_KBUG_THP_EXCLUSIVE 0
#else
/* make_device_exclusive_range(): a range a call, mapcount dropped. */
#define DEVEXCL_EXCLUSIVE_GEN 1
/*
 * make_device_exclusive_range() converts, for a THP head, every PTE of the
 * folio through an rmap walk, and the kernel's rmap walkers (e.g.
 * try_to_migrate_one(), try_to_unmap_one()) then take those entries for
 * present PTEs. A folio left partly exclusive after one CPU fault crashes
 * migration: "kernel BUG at mm/rmap.c" from a pte_pfn() of the swap entry.
 * Still so in 6.12.
 */
#define DEVEXCL_KBUG_THP_EXCLUSIVE 1
#endif

/**
 * devexcl_make_exclusive() - convert [start, end) to device-exclusive entries
 * @mm: target address space, mmap_lock held for read
 * @start: first address
 * @end: end address
 * @pages: one slot per page; on return a non-NULL slot is a page now held
 *	exclusively and referenced, which the caller releases with
 *	devexcl_exclusive_release() once the device is programmed
 * @owner: passed to MMU_NOTIFY_EXCLUSIVE notifiers, so the caller can
 *	recognise its own conversions
 *
 * The caller must check its interval notifier's sequence before it takes
 * the pages as held: that, not the folio lock, is what orders programming
 * against a CPU fault's restore.
 *
 * Return: the number of pages looked at (slots beyond it are untouched),
 * or a negative errno if the first page could not be faulted in;
 * -EOPNOTSUPP if the kernel has no device-exclusive entries.
 */
static inline int devexcl_make_exclusive(struct mm_struct *mm,
					 unsigned long start, unsigned long end,
					 struct page **pages, void *owner)
{
#if DEVEXCL_EXCLUSIVE_GEN == 0
	return -EOPNOTSUPP;
#elif DEVEXCL_EXCLUSIVE_GEN == 1
	return make_device_exclusive_range(mm, start, end, pages, owner);
#else
	unsigned long addr;
	struct folio *folio;
	struct page *page;
	int i = 0;

	for (addr = start; addr < end; addr += PAGE_SIZE, i++) {
		page = make_device_exclusive(mm, addr, owner, &folio);
		if (IS_ERR(page)) {
			/* What the range call reported as a GUP failure. */
			if (!i && (PTR_ERR(page) == -EINTR ||
				   PTR_ERR(page) == -ENOMEM ||
				   PTR_ERR(page) == -EFAULT ||
				   PTR_ERR(page) == -EHWPOISON))
				return PTR_ERR(page);
			pages[i] = NULL;
			continue;
		}
		/*
		 * Unlocked at once: the next page may be in the same folio,
		 * and make_device_exclusive() would wait on this lock.
		 */
		folio_unlock(folio);
		pages[i] = page;
	}
	return i;
#endif
}

/**
 * devexcl_event_may_restore() - whether @range may be a CPU access (a fault,
 *	or GUP) restoring a device-exclusive entry
 * @range: the invalidation an interval notifier was handed
 *
 * Until 6.14 the restore (remove_device_exclusive_entry()) is the only
 * MMU_NOTIFY_EXCLUSIVE without an owner. 6.15 sends MMU_NOTIFY_CLEAR
 * without an owner over the one page, as a one-page zap or reclaim also
 * does: there the caller must look at the entry (DEVEXCL_RESTORE_IS_CLEAR).
 */
static inline bool
devexcl_event_may_restore(const struct mmu_notifier_range *range)
{
#if DEVEXCL_EXCLUSIVE_GEN == 0
	return false;
#elif DEVEXCL_EXCLUSIVE_GEN == 1
	return range->event == MMU_NOTIFY_EXCLUSIVE && !range->owner;
#else
	return range->event == MMU_NOTIFY_CLEAR && !range->owner &&
	       range->end - range->start == PAGE_SIZE;
#endif
}

#define DEVEXCL_RESTORE_IS_CLEAR (DEVEXCL_EXCLUSIVE_GEN >= 2)

/* Whether devexcl_make_exclusive() can convert anything at all. */
#define DEVEXCL_HAVE_DEVICE_EXCLUSIVE (DEVEXCL_EXCLUSIVE_GEN >= 1)

/**
 * devexcl_exclusive_release() - drop what devexcl_make_exclusive() handed over
 * @page: a non-NULL slot it filled
 */
static inline void devexcl_exclusive_release(struct page *page)
{
#if DEVEXCL_EXCLUSIVE_GEN == 1
	unlock_page(page);
#endif
	put_page(page);
}

#endif /* _DEVEXCL_COMPAT_EXCLUSIVE_H */
