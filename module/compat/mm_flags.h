/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Testing an mm's MMF_* flags.
 *
 * 7.x made mm->flags an mm_flags_t bitmap behind mm_flags_test(); before,
 * it is an unsigned long for test_bit(). The series also defined
 * NUM_MM_FLAG_BITS, which tells the two apart.
 */
#ifndef _DEVEXCL_COMPAT_MM_FLAGS_H
#define _DEVEXCL_COMPAT_MM_FLAGS_H

#include <linux/mm.h>

static inline bool devexcl_mm_flag(const struct mm_struct *mm, int flag)
{
#ifdef NUM_MM_FLAG_BITS
	return mm_flags_test(flag, mm);
#else
	return test_bit(flag, &mm->flags);
#endif
}

#endif /* _DEVEXCL_COMPAT_MM_FLAGS_H */
