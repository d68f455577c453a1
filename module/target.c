// SPDX-License-Identifier: GPL-2.0
/*
 * The process an operation acts on, and whether the caller may: target
 * lookups by context, pid or number, the ptrace-level permission rule, and
 * the range checks every ioctl makes first. Everything above (contexts,
 * marking, inspection, netlink) comes here; this file calls none of them.
 */
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "devexcl.h"

/**
 * devexcl_ctx_get_mm() - a usable reference on the target address space
 * @ctx: the context
 *
 * Return: the mm with mm_users raised (mmput() it), or NULL if the context
 * has no target or the target has exited.
 */
struct mm_struct *devexcl_ctx_get_mm(struct devexcl_ctx *ctx)
{
	if (ctx->mm && mmget_not_zero(ctx->mm))
		return ctx->mm;
	return NULL;
}

/**
 * devexcl_may_act_on() - may the caller act on, or inspect, @task?
 * @task: the target
 *
 * ptrace_may_access() is not exported on 6.1, so the rule is conservative:
 * the caller belongs to the target's thread group, or has CAP_SYS_PTRACE.
 *
 * Return: true if allowed.
 */
bool devexcl_may_act_on(struct task_struct *task)
{
	return same_thread_group(task, current) || capable(CAP_SYS_PTRACE);
}

/**
 * devexcl_get_pid_mm() - the address space of a process the caller may inspect
 * @pid: the process
 *
 * Return: the mm with mm_users raised (mmput() it); ERR_PTR(-ESRCH) for a
 * process that is gone or has no address space, -EPERM without
 * ptrace-level rights.
 */
struct mm_struct *devexcl_get_pid_mm(struct pid *pid)
{
	struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);
	struct mm_struct *mm;

	if (!task)
		return ERR_PTR(-ESRCH);
	if (!devexcl_may_act_on(task))
		mm = ERR_PTR(-EPERM);
	else
		mm = get_task_mm(task) ?: ERR_PTR(-ESRCH);
	put_task_struct(task);
	return mm;
}

/**
 * devexcl_get_tgid() - the thread group of a process
 * @pid: the process, or one of its threads
 *
 * Return: its thread-group pid, referenced (put_pid() it), or NULL if the
 * process is gone.
 */
struct pid *devexcl_get_tgid(struct pid *pid)
{
	struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);
	struct pid *tgid;

	if (!task)
		return NULL;
	tgid = get_task_pid(task, PIDTYPE_TGID);
	put_task_struct(task);
	return tgid;
}

/**
 * devexcl_get_target_mm() - devexcl_get_pid_mm() by number
 * @nr: the pid in the caller's pid namespace
 *
 * Return: as devexcl_get_pid_mm(), or ERR_PTR(-EINVAL) for a pid out of
 * range.
 */
struct mm_struct *devexcl_get_target_mm(u64 nr)
{
	struct mm_struct *mm;
	struct pid *pid;

	if (!nr || nr > INT_MAX)
		return ERR_PTR(-EINVAL);
	pid = find_get_pid(nr);
	if (!pid)
		return ERR_PTR(-ESRCH);
	mm = devexcl_get_pid_mm(pid);
	put_pid(pid);
	return mm;
}

/**
 * devexcl_validate_range() - the checks every range ioctl makes first
 * @start: first byte
 * @length: bytes
 *
 * Return: 0; EINVAL for an unaligned, empty or wrapping range, E2BIG above
 * the per-call cap, EFAULT for a range reaching past the user address space.
 */
int devexcl_validate_range(u64 start, u64 length)
{
	if (!length || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(length))
		return -EINVAL;
	if (start + length < start)
		return -EINVAL;
	if (length > DEVEXCL_MAX_RANGE_BYTES)
		return -E2BIG;
	if (start + length > TASK_SIZE_MAX)
		return -EFAULT;
	return 0;
}
