/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The struct pid behind a pidfd.
 *
 * No kernel devexcl supports exports pidfd_pid() or the pidfd file
 * operations. Until 6.9 a pidfd is the anon-inode file kernel/fork.c names
 * "[pidfd]", whose private_data is its struct pid; from 6.9 it is a pidfs
 * file (PID_FS_MAGIC), whose inode's i_private is its struct pid. Both are
 * recognised by what the file is, not by the kernel's version.
 */
#ifndef _DEVEXCL_COMPAT_PIDFD_H
#define _DEVEXCL_COMPAT_PIDFD_H

#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/pid.h>
#include <linux/string.h>

/* 6.12 made struct fd opaque behind fd_file(). */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

static inline struct pid *devexcl_pid_of_pidfd_file(struct file *file)
{
	struct super_block *sb = file_inode(file)->i_sb;

#ifdef PID_FS_MAGIC
	if (sb->s_magic == PID_FS_MAGIC)
		return file_inode(file)->i_private;
#endif
	if (sb->s_magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return file->private_data;
	return NULL;
}

/**
 * devexcl_pidfd_get_pid() - the struct pid behind a pidfd
 * @fd: a file descriptor of the caller
 *
 * Return: a referenced struct pid, ERR_PTR(-EBADF) for a closed fd,
 * ERR_PTR(-EINVAL) for a file that is not a pidfd.
 */
static inline struct pid *devexcl_pidfd_get_pid(unsigned int fd)
{
	struct fd f = fdget(fd);
	struct pid *pid;

	if (!fd_file(f))
		return ERR_PTR(-EBADF);
	pid = devexcl_pid_of_pidfd_file(fd_file(f));
	pid = pid ? get_pid(pid) : ERR_PTR(-EINVAL);
	fdput(f);
	return pid;
}

#endif /* _DEVEXCL_COMPAT_PIDFD_H */
