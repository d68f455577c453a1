/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The userfaultfd bit of a page table entry.
 *
 * Until 7.x it is the write-protect bit, read by pte_uffd_wp() and
 * friends. 7.x renamed the bit _PAGE_UFFD (its accessors pte_uffd() and
 * friends), because it now marks more than write protection; the macro
 * tells the two apart.
 */
#ifndef _DEVEXCL_COMPAT_UFFD_BIT_H
#define _DEVEXCL_COMPAT_UFFD_BIT_H

#include <linux/pgtable.h>

#ifdef _PAGE_UFFD
#define devexcl_pte_uffd(pte) pte_uffd(pte)
#define devexcl_pte_swp_uffd(pte) pte_swp_uffd(pte)
#define devexcl_pmd_uffd(pmd) pmd_uffd(pmd)
#define devexcl_pmd_swp_uffd(pmd) pmd_swp_uffd(pmd)
#else
#define devexcl_pte_uffd(pte) pte_uffd_wp(pte)
#define devexcl_pte_swp_uffd(pte) pte_swp_uffd_wp(pte)
#define devexcl_pmd_uffd(pmd) pmd_uffd_wp(pmd)
#define devexcl_pmd_swp_uffd(pmd) pmd_swp_uffd_wp(pmd)
#endif

#endif /* _DEVEXCL_COMPAT_UFFD_BIT_H */
