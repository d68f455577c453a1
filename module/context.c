// SPDX-License-Identifier: GPL-2.0
/*
 * Device context lifetime and its binding to a target process.
 *
 * A context holds an mmgrab() reference on its target mm, never an
 * mmget(): the target may exit at any time. Each operation takes a
 * temporary mmget_not_zero() and fails with ESRCH once the address space
 * is gone.
 */
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat/pidfd.h"
#include "compat/slab.h"
#include "devexcl.h"
#include "objid.h"

/**
 * devexcl_ctx_create() - a new context bound to the caller's address space
 *
 * Return: the context, or ERR_PTR(-ENOMEM).
 */
struct devexcl_ctx *devexcl_ctx_create(void)
{
	struct devexcl_ctx *ctx;

	ctx = kzalloc_obj(*ctx, GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	mutex_init(&ctx->op_lock);
	mutex_init(&ctx->lock);
	xa_init(&ctx->pages);
	INIT_LIST_HEAD(&ctx->regions);
	devexcl_busy_init(&ctx->busy);
	ctx->id = devexcl_objid_unique(ctx, DEVEXCL_OBJID_CONTEXT);
	if (current->mm) {
		mmgrab(current->mm);
		ctx->mm = current->mm;
		ctx->mm_id = devexcl_objid(ctx->mm, DEVEXCL_OBJID_MM);
		ctx->target = get_task_pid(current, PIDTYPE_TGID);
	}
	ctx->owner = get_task_pid(current, PIDTYPE_TGID);
	ctx->events = devexcl_event_source_new(ctx->id, ctx->owner, ctx->target);
	if (!ctx->events) {
		put_pid(ctx->owner);
		put_pid(ctx->target);
		if (ctx->mm)
			mmdrop(ctx->mm);
		kfree(ctx);
		return ERR_PTR(-ENOMEM);
	}
	devexcl_stat_add(DEVEXCL_STAT_CONTEXTS_OPEN, 1);
	devexcl_stat_add(DEVEXCL_STAT_CONTEXTS_TOTAL, 1);
	return ctx;
}

/**
 * devexcl_ctx_destroy() - the last close: give everything back
 * @ctx: the context
 *
 * Restores the CPU mapping of every page the device still holds (if the
 * target still has an address space), removes the notifiers and drops the
 * references. Nothing here fails.
 */
void devexcl_ctx_destroy(struct devexcl_ctx *ctx)
{
	int i;

	/* Waiters would hold up the release's own invalidations and the notifiers' removal. */
	devexcl_busy_end(&ctx->busy, false);
	devexcl_release_all(ctx);
	devexcl_remove_regions(ctx, false);
	xa_destroy(&ctx->pages);
	for (i = 0; i < DEVEXCL_REVOCATION_LOG; i++)
		put_pid(ctx->log[i].trigger);
	if (ctx->mm)
		mmdrop(ctx->mm);
	devexcl_event_source_put(ctx->events);
	put_pid(ctx->target);
	put_pid(ctx->owner);
	devexcl_stat_add(DEVEXCL_STAT_CONTEXTS_OPEN, -1);
	mutex_destroy(&ctx->lock);
	mutex_destroy(&ctx->op_lock);
	kfree(ctx);
}

static struct pid *devexcl_bind_pid(const struct devexcl_bind *req)
{
	struct pid *pid;

	if (req->flags & DEVEXCL_BIND_PIDFD) {
		if (req->pid || req->pidfd > INT_MAX)
			return ERR_PTR(-EINVAL);
		return devexcl_pidfd_get_pid(req->pidfd);
	}
	if (req->pidfd || !req->pid || req->pid > INT_MAX)
		return ERR_PTR(-EINVAL);
	pid = find_get_pid(req->pid);
	return pid ?: ERR_PTR(-ESRCH);
}

/**
 * devexcl_ioctl_bind() - DEVEXCL_IOC_BIND: act on another process
 * @ctx: the context
 * @uarg: struct devexcl_bind
 *
 * A rebound context starts afresh: it forgets the previous target's
 * pages, revocation log and counters (devexcl_forget_target()), also when
 * rebound to the same process.
 *
 * Return: 0; EINVAL for bad arguments (flags, reserved fields, a pid of 0
 * or above INT_MAX), EBADF for a closed pidfd, ESRCH if there is no such
 * process or it has no address space, EPERM without ptrace-level rights,
 * EBUSY while the context holds pages.
 */
long devexcl_ioctl_bind(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_event_source *events;
	struct devexcl_bind req;
	struct mm_struct *mm;
	struct pid *pid, *target;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~DEVEXCL_BIND_PIDFD) || req.reserved)
		return -EINVAL;
	pid = devexcl_bind_pid(&req);
	if (IS_ERR(pid))
		return PTR_ERR(pid);

	mm = devexcl_get_pid_mm(pid);
	target = IS_ERR(mm) ? NULL : devexcl_get_tgid(pid);
	put_pid(pid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (!target) {
		ret = -ESRCH;
		goto out_mm;
	}
	events = devexcl_event_source_new(ctx->id, ctx->owner, target);
	if (!events) {
		ret = -ENOMEM;
		goto out_mm;
	}

	mutex_lock(&ctx->op_lock);
	if (READ_ONCE(ctx->nr_held)) {
		ret = -EBUSY;
	} else {
		/* No region left: no notifier can produce an event meanwhile. */
		devexcl_busy_end(&ctx->busy, true);
		devexcl_remove_regions(ctx, false);
		devexcl_forget_target(ctx);
		mmgrab(mm);
		if (ctx->mm)
			mmdrop(ctx->mm);
		ctx->mm = mm;
		/* Hashed once here, not on every traced batch. */
		ctx->mm_id = devexcl_objid(mm, DEVEXCL_OBJID_MM);
		swap(ctx->target, target);
		swap(ctx->events, events);
		ret = 0;
	}
	mutex_unlock(&ctx->op_lock);
	devexcl_event_source_put(events);
out_mm:
	put_pid(target);
	mmput(mm);
	return ret;
}
