/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel-version-dependent calls devexcl makes, in one place.
 *
 * 6.1 has make_device_exclusive_range(); 6.15 replaced it with
 * make_device_exclusive(), one page at a time, keeping the mapcount and
 * retrying internally. Porting devexcl is a change to this file.
 */
#ifndef _DEVEXCL_COMPAT_H
#define _DEVEXCL_COMPAT_H

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/rmap.h>

/**
 * devexcl_make_exclusive() - convert [start, end) to device-exclusive entries
 * @mm: target address space, mmap_lock held for read
 * @start: first address
 * @end: end address
 * @pages: one slot per page; on return a non-NULL slot is a page now held
 *	exclusively, locked and referenced, which the caller unlocks and puts
 * @owner: passed to MMU_NOTIFY_EXCLUSIVE notifiers, so the caller can
 *	recognise its own conversions
 *
 * Return: the number of pages GUP looked at (slots beyond it are untouched),
 * or a negative errno if the first page could not be faulted in.
 */
static inline int devexcl_make_exclusive(struct mm_struct *mm,
					 unsigned long start, unsigned long end,
					 struct page **pages, void *owner)
{
	return make_device_exclusive_range(mm, start, end, pages, owner);
}

/*
 * make_device_exclusive_range() converts, for a THP head, every PTE of the
 * folio through an rmap walk, and the kernel's rmap walkers (e.g.
 * try_to_migrate_one(), try_to_unmap_one()) then take those entries for
 * present PTEs. A folio left partly exclusive after one CPU fault crashes
 * migration: "kernel BUG at mm/rmap.c" from a pte_pfn() of the swap entry.
 * The 6.15 rework (make_device_exclusive()) converts one PTE and teaches
 * those walkers about the entries.
 */
#define DEVEXCL_KBUG_THP_EXCLUSIVE 1

/**
 * devexcl_fault_in_writable() - fault pages in for writing, as marking will
 * @mm: target address space, mmap_lock held for read
 * @start: first address
 * @nr: pages
 * @pages: receives a referenced page per address faulted in
 *
 * The same GUP make_device_exclusive_range() does, without FOLL_SPLIT_PMD,
 * so that looking at a PMD-mapped THP does not split its mapping.
 *
 * Return: pages faulted in, or a negative errno for the first page.
 */
static inline long devexcl_fault_in_writable(struct mm_struct *mm,
					     unsigned long start,
					     unsigned long nr,
					     struct page **pages)
{
	return get_user_pages_remote(mm, start, nr, FOLL_WRITE, pages, NULL,
				     NULL);
}

/**
 * devexcl_pidfd_get_pid() - the struct pid behind a pidfd
 * @fd: a file descriptor of the caller
 *
 * 6.1 exports neither pidfd_pid() nor pidfd_fops. A pidfd is the anon-inode
 * file kernel/fork.c names "[pidfd]", whose private_data is its struct pid;
 * no other 6.1 file has that name on the anon-inode filesystem.
 *
 * Return: a referenced struct pid, ERR_PTR(-EBADF) for a closed fd,
 * ERR_PTR(-EINVAL) for a file that is not a pidfd.
 */
static inline struct pid *devexcl_pidfd_get_pid(unsigned int fd)
{
	struct fd f = fdget(fd);
	struct pid *pid = ERR_PTR(-EINVAL);

	if (!f.file)
		return ERR_PTR(-EBADF);
	if (file_inode(f.file)->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(f.file->f_path.dentry->d_name.name, "[pidfd]"))
		pid = get_pid(f.file->private_data);
	fdput(f);
	return pid;
}

#endif /* _DEVEXCL_COMPAT_H */
