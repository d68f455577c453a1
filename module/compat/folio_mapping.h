/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The low bits of folio->mapping that say what it points to.
 *
 * 7.x renamed PAGE_MAPPING_* to FOLIO_MAPPING_* (and dropped the movable
 * bit): the names are macros, so their presence tells which to use.
 */
#ifndef _DEVEXCL_COMPAT_FOLIO_MAPPING_H
#define _DEVEXCL_COMPAT_FOLIO_MAPPING_H

#include <linux/page-flags.h>

#ifdef FOLIO_MAPPING_ANON
#define DEVEXCL_MAPPING_BIT_ANON FOLIO_MAPPING_ANON
#define DEVEXCL_MAPPING_BITS_KSM FOLIO_MAPPING_KSM
#define DEVEXCL_MAPPING_BITS FOLIO_MAPPING_FLAGS
#else
#define DEVEXCL_MAPPING_BIT_ANON PAGE_MAPPING_ANON
#define DEVEXCL_MAPPING_BITS_KSM PAGE_MAPPING_KSM
#define DEVEXCL_MAPPING_BITS PAGE_MAPPING_FLAGS
#endif

#endif /* _DEVEXCL_COMPAT_FOLIO_MAPPING_H */
