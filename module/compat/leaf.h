/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding non-present page table entries: swap, migration,
 * device-private, device-exclusive, hwpoison and marker entries.
 *
 * Until 6.17 these are swp_entry_t values read through swapops.h, with a
 * read and a write device-exclusive kind. 7.x reads them as softleaf_t
 * through <linux/leafops.h>, whose presence tells the two apart, and (since
 * 6.15) has one device-exclusive kind, reported here as the write kind: a
 * 6.15+ entry always stands for a writable PTE.
 */
#ifndef _DEVEXCL_COMPAT_LEAF_H
#define _DEVEXCL_COMPAT_LEAF_H

#include <linux/mm.h>
#include <linux/swapops.h>
/* Includes <linux/leafops.h> on every kernel that has it. */
#include <linux/userfaultfd_k.h>
#ifdef _LINUX_LEAFOPS_H
#define DEVEXCL_HAVE_SOFTLEAF 1
#else
#define DEVEXCL_HAVE_SOFTLEAF 0
#endif

#include "../uapi/devexcl.h"

/**
 * struct devexcl_leaf - what a non-present entry stands for
 * @kind: DEVEXCL_PTE_* (never PRESENT, NONE or NO_VMA)
 * @has_pfn: the entry names a page frame, @pfn
 * @pfn: that frame
 * @uffd_wp_marker: a userfaultfd write-protect marker
 */
struct devexcl_leaf {
	u8 kind;
	bool has_pfn;
	unsigned long pfn;
	bool uffd_wp_marker;
};

#if DEVEXCL_HAVE_SOFTLEAF
static inline void devexcl_decode_softleaf(softleaf_t entry,
					   struct devexcl_leaf *leaf)
{
	memset(leaf, 0, sizeof(*leaf));
	if (softleaf_is_marker(entry)) {
		leaf->kind = DEVEXCL_PTE_MARKER;
		leaf->uffd_wp_marker = softleaf_is_uffd_wp_marker(entry);
		return;
	}
	if (softleaf_is_device_exclusive(entry))
		leaf->kind = DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE;
	else if (softleaf_is_migration(entry))
		leaf->kind = DEVEXCL_PTE_MIGRATION;
	else if (softleaf_is_device_private(entry))
		leaf->kind = DEVEXCL_PTE_DEVICE_PRIVATE;
	else if (softleaf_is_hwpoison(entry))
		leaf->kind = DEVEXCL_PTE_HWPOISON;
	else if (softleaf_is_swap(entry))
		leaf->kind = DEVEXCL_PTE_SWAP;
	else
		leaf->kind = DEVEXCL_PTE_OTHER;
	if (softleaf_has_pfn(entry)) {
		leaf->has_pfn = true;
		leaf->pfn = softleaf_to_pfn(entry);
	}
}

/* @pte is neither none nor present. */
static inline void devexcl_decode_pte_leaf(pte_t pte, struct devexcl_leaf *leaf)
{
	devexcl_decode_softleaf(softleaf_from_pte(pte), leaf);
}

/* @pmd is neither none nor present. */
static inline void devexcl_decode_pmd_leaf(pmd_t pmd, struct devexcl_leaf *leaf)
{
	devexcl_decode_softleaf(softleaf_from_pmd(pmd), leaf);
}
#else
static inline void devexcl_decode_swp(swp_entry_t entry,
				      struct devexcl_leaf *leaf)
{
	memset(leaf, 0, sizeof(*leaf));
	if (is_pte_marker_entry(entry)) {
		leaf->kind = DEVEXCL_PTE_MARKER;
		leaf->uffd_wp_marker = !!(pte_marker_get(entry) & PTE_MARKER_UFFD_WP);
	} else if (is_device_exclusive_entry(entry)) {
		leaf->kind = is_writable_device_exclusive_entry(entry) ?
			DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE :
			DEVEXCL_PTE_DEVICE_EXCLUSIVE_READ;
		leaf->pfn = swp_offset_pfn(entry);
		leaf->has_pfn = true;
	} else if (is_migration_entry(entry)) {
		leaf->kind = DEVEXCL_PTE_MIGRATION;
		leaf->pfn = swp_offset_pfn(entry);
		leaf->has_pfn = true;
	} else if (is_device_private_entry(entry)) {
		leaf->kind = DEVEXCL_PTE_DEVICE_PRIVATE;
		leaf->pfn = swp_offset_pfn(entry);
		leaf->has_pfn = true;
	} else if (is_hwpoison_entry(entry)) {
		leaf->kind = DEVEXCL_PTE_HWPOISON;
		leaf->pfn = swp_offset(entry);
		leaf->has_pfn = true;
	} else if (non_swap_entry(entry)) {
		leaf->kind = DEVEXCL_PTE_OTHER;
	} else {
		leaf->kind = DEVEXCL_PTE_SWAP;
	}
}

static inline void devexcl_decode_pte_leaf(pte_t pte, struct devexcl_leaf *leaf)
{
	devexcl_decode_swp(pte_to_swp_entry(pte), leaf);
}

static inline void devexcl_decode_pmd_leaf(pmd_t pmd, struct devexcl_leaf *leaf)
{
#ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION
	devexcl_decode_swp(pmd_to_swp_entry(pmd), leaf);
#else
	memset(leaf, 0, sizeof(*leaf));
	leaf->kind = DEVEXCL_PTE_OTHER;
#endif
}
#endif

#endif /* _DEVEXCL_COMPAT_LEAF_H */
