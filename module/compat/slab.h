/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Typed allocation: 7.x's kzalloc_obj() and friends, which checkpatch now
 * asks for, with a fallback for the kernels that predate them.
 */
#ifndef _DEVEXCL_COMPAT_SLAB_H
#define _DEVEXCL_COMPAT_SLAB_H

#include <linux/slab.h>

#ifndef kzalloc_obj
#define kzalloc_obj(P, GFP) kzalloc(sizeof(P), GFP)
#endif

#endif /* _DEVEXCL_COMPAT_SLAB_H */
