/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-VMA lock's state, read without taking it, for each of its
 * schemes: none (before 6.4, or !CONFIG_PER_VMA_LOCK); an rwsem (6.4 to
 * 6.14: vma->vm_lock, a pointer from 6.5 to 6.12, embedded in 6.13 and
 * 6.14); vm_refcnt (6.15, whose exclusion flag 7.x renamed). Each field is
 * read once: the answer is a snapshot, exact for states that last.
 *
 * VMAs are freed after an RCU grace period exactly when the kernel has
 * per-VMA locks (6.4: vm_area_free() defers to RCU; 6.15: the VMA slab is
 * SLAB_TYPESAFE_BY_RCU), which is what lets a VMA be looked up, and its
 * lock read, without the mmap_lock.
 */
#ifndef _DEVEXCL_COMPAT_VMA_LOCK_H
#define _DEVEXCL_COMPAT_VMA_LOCK_H

#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/rcupdate.h>

#include "../uapi/devexcl.h"

#ifdef CONFIG_PER_VMA_LOCK

#define DEVEXCL_HAVE_PER_VMA_LOCK 1

/* mm->mm_lock_seq: an int until 6.12, a seqcount_t from 6.13 (and 6.12 stable). */
static inline unsigned int devexcl_mm_lock_seq(struct mm_struct *mm)
{
	void *seq = &mm->mm_lock_seq;

	/* Both casts compile whatever the type; the constant test drops one. */
	if (__builtin_types_compatible_p(typeof(mm->mm_lock_seq), seqcount_t))
		return READ_ONCE(((seqcount_t *)seq)->sequence);
	return READ_ONCE(*(int *)seq);
}

/* Set by vma_start_write() to the open write section's sequence. */
static inline bool devexcl_vma_write_locked(struct vm_area_struct *vma,
					    struct mm_struct *mm)
{
	return (unsigned int)READ_ONCE(vma->vm_lock_seq) == devexcl_mm_lock_seq(mm);
}

#if defined(VM_REFCNT_EXCLUDE_READERS_FLAG) || defined(VMA_LOCK_OFFSET)

#ifdef VM_REFCNT_EXCLUDE_READERS_FLAG
#define DEVEXCL_VMA_EXCLUDING VM_REFCNT_EXCLUDE_READERS_FLAG
#else
#define DEVEXCL_VMA_EXCLUDING VMA_LOCK_OFFSET
#endif

/*
 * vm_refcnt (include/linux/mm_types.h): 0 detached, 1 attached, plus one
 * per reader. A writer adds the exclusion flag and waits for the count to
 * fall to flag + 1 (vma_start_write(), on a VMA it has not write-locked
 * yet) or to flag + 0 (vma_mark_detached(), which first dropped the
 * attached reference, on a VMA it has write-locked): the write sequence
 * tells the two apart.
 */
static inline u64 devexcl_vma_lock_state(struct vm_area_struct *vma,
					 struct mm_struct *mm)
{
	unsigned int refcnt = refcount_read(&vma->vm_refcnt);
	unsigned int refs = refcnt & ~DEVEXCL_VMA_EXCLUDING;
	bool write_locked = devexcl_vma_write_locked(vma, mm);
	bool attached, excluding = refcnt & DEVEXCL_VMA_EXCLUDING;
	u64 state = DEVEXCL_VMA_LOCK_PRESENT;
	u64 readers;

	attached = excluding ? !write_locked : refs > 0;
	readers = attached && refs ? refs - 1 : refs;
	if (attached)
		state |= DEVEXCL_VMA_LOCK_ATTACHED;
	if (excluding)
		state |= DEVEXCL_VMA_LOCK_WRITER;
	if (write_locked)
		state |= DEVEXCL_VMA_LOCK_WRITE_LOCKED;
	return state | readers << DEVEXCL_VMA_LOCK_READERS_SHIFT;
}

#else /* the rwsem */

/* 6.5 to 6.12 point to the vma_lock; 6.13 and 6.14 embed it. */
static inline struct rw_semaphore *devexcl_vma_rwsem(struct vm_area_struct *vma)
{
	void *lock = &vma->vm_lock;

	if (__builtin_types_compatible_p(typeof(vma->vm_lock), struct vma_lock *))
		return &(*(struct vma_lock **)lock)->lock;
	return &((struct vma_lock *)lock)->lock;
}

/*
 * The rwsem's count, as kernel/locking/rwsem.c lays it out (private to
 * that file): bit 0 a writer holds it, bit 1 someone waits, bits 8 to 62
 * the readers. Readers only ever trylock it (vma_start_read()), so a
 * waiter is a writer waiting for readers to leave.
 */
#define DEVEXCL_RWSEM_WRITER_LOCKED	BIT(0)
#define DEVEXCL_RWSEM_FLAG_WAITERS	BIT(1)
#define DEVEXCL_RWSEM_READER_SHIFT	8
#define DEVEXCL_RWSEM_READER_MASK	GENMASK(BITS_PER_LONG - 2, DEVEXCL_RWSEM_READER_SHIFT)

static inline u64 devexcl_vma_lock_state(struct vm_area_struct *vma,
					 struct mm_struct *mm)
{
	u64 state = DEVEXCL_VMA_LOCK_PRESENT;
#ifndef CONFIG_PREEMPT_RT
	long count = atomic_long_read(&devexcl_vma_rwsem(vma)->count);

	if (count & (DEVEXCL_RWSEM_WRITER_LOCKED | DEVEXCL_RWSEM_FLAG_WAITERS))
		state |= DEVEXCL_VMA_LOCK_WRITER;
	state |= (u64)((count & DEVEXCL_RWSEM_READER_MASK) >>
		       DEVEXCL_RWSEM_READER_SHIFT) << DEVEXCL_VMA_LOCK_READERS_SHIFT;
#endif
	if (!READ_ONCE(vma->detached))
		state |= DEVEXCL_VMA_LOCK_ATTACHED;
	if (devexcl_vma_write_locked(vma, mm))
		state |= DEVEXCL_VMA_LOCK_WRITE_LOCKED;
	return state;
}

#endif /* the rwsem */

/*
 * The VMA of @mm at @addr, found the way lock_vma_under_rcu() finds it,
 * without the mmap_lock; under rcu_read_lock(). A VMA slab object can be
 * reused meanwhile (SLAB_TYPESAFE_BY_RCU): the mm and bounds are checked
 * after the lookup, as there.
 */
static inline struct vm_area_struct *devexcl_vma_lookup_rcu(struct mm_struct *mm,
							    unsigned long addr)
{
	struct vm_area_struct *vma = mtree_load(&mm->mm_mt, addr);

	if (!vma || READ_ONCE(vma->vm_mm) != mm ||
	    addr < READ_ONCE(vma->vm_start) || addr >= READ_ONCE(vma->vm_end))
		return NULL;
	return vma;
}

#else /* !CONFIG_PER_VMA_LOCK */

#define DEVEXCL_HAVE_PER_VMA_LOCK 0

static inline u64 devexcl_vma_lock_state(struct vm_area_struct *vma,
					 struct mm_struct *mm)
{
	return 0;
}

static inline struct vm_area_struct *devexcl_vma_lookup_rcu(struct mm_struct *mm,
							    unsigned long addr)
{
	return NULL;
}

#endif /* CONFIG_PER_VMA_LOCK */

#endif /* _DEVEXCL_COMPAT_VMA_LOCK_H */
