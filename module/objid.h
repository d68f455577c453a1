/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Object ids for user space: a keyed hash of a kernel pointer, so objects
 * can be told apart and matched across reports without revealing where
 * they live. The key is random per module load.
 */
#ifndef _DEVEXCL_OBJID_H
#define _DEVEXCL_OBJID_H

#include <linux/types.h>

/* Domains keep equal pointers of different kinds from sharing an id. */
enum devexcl_objid_kind {
	DEVEXCL_OBJID_CONTEXT = 1,
	DEVEXCL_OBJID_ANON_VMA = 2,
	DEVEXCL_OBJID_MM = 3,
};

void devexcl_objid_init(void);
u64 devexcl_objid(const void *ptr, enum devexcl_objid_kind kind);
u64 devexcl_objid_unique(const void *ptr, enum devexcl_objid_kind kind);

#endif /* _DEVEXCL_OBJID_H */
