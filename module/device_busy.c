// SPDX-License-Identifier: GPL-2.0
/*
 * A busy device: invalidations of its ranges wait for it, as a real
 * driver's invalidate callback waits for the device's work in flight
 * (nouveau takes its svmm mutex; a GPU driver waits for its fences). The
 * kernel waits with it, holding whatever the invalidating path holds: the
 * VMA's lock in a fault, the mmap_lock for writing in mprotect or munmap.
 * That is what makes those states last long enough to be observed.
 *
 * Every wait ends: when the device is made idle, when the context is
 * closed or rebound, on a fatal signal to the waiting task, or at the
 * deadline, at most DEVEXCL_BUSY_MAX_MS after the device was made busy:
 * below the hung task timeout of devexcl's test kernels (60 s) and the
 * kernel's default (120 s).
 */
#include <linux/jiffies.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "devexcl.h"

/**
 * devexcl_busy_init() - an idle device
 * @busy: the context's busy state
 */
void devexcl_busy_init(struct devexcl_busy_state *busy)
{
	init_waitqueue_head(&busy->idle);
}

static bool is_busy(struct devexcl_busy_state *busy)
{
	return READ_ONCE(busy->busy) &&
	       time_before(jiffies, READ_ONCE(busy->deadline));
}

/**
 * devexcl_busy_end() - make the device idle and wake every waiter
 * @busy: the context's busy state
 * @forget: also forget how many invalidations have waited (a rebind)
 *
 * Called before a context's notifiers are removed: removal waits for the
 * invalidations in progress, and those must not be waiting for us.
 */
void devexcl_busy_end(struct devexcl_busy_state *busy, bool forget)
{
	WRITE_ONCE(busy->busy, false);
	wake_up_all(&busy->idle);
	if (forget)
		atomic64_set(&busy->waited, 0);
}

/**
 * devexcl_busy_wait() - an invalidation waits for the device to be idle
 * @busy: the context's busy state
 * @blockable: the invalidation may sleep
 *
 * Return: false if the device is busy and the invalidation may not sleep:
 * the notifier then refuses it, and the kernel retries.
 */
bool devexcl_busy_wait(struct devexcl_busy_state *busy, bool blockable)
{
	long left;

	if (!is_busy(busy))
		return true;
	if (!blockable)
		return false;
	atomic_inc(&busy->waiting);
	atomic64_inc(&busy->waited);
	left = READ_ONCE(busy->deadline) - jiffies;
	if (left > 0)
		wait_event_killable_timeout(busy->idle, !is_busy(busy), left);
	atomic_dec(&busy->waiting);
	return true;
}

/**
 * devexcl_ioctl_busy() - DEVEXCL_IOC_BUSY: make the device busy or idle
 * @ctx: the context
 * @uarg: struct devexcl_busy
 *
 * Return: 0; EINVAL for unknown flags or a timeout above
 * DEVEXCL_BUSY_MAX_MS; EFAULT for a bad pointer.
 */
long devexcl_ioctl_busy(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_busy_state *busy = &ctx->busy;
	struct devexcl_busy req;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~DEVEXCL_BUSY_QUERY) || req.timeout_ms > DEVEXCL_BUSY_MAX_MS ||
	    ((req.flags & DEVEXCL_BUSY_QUERY) && req.timeout_ms))
		return -EINVAL;
	if (!(req.flags & DEVEXCL_BUSY_QUERY)) {
		if (req.timeout_ms) {
			WRITE_ONCE(busy->deadline,
				   jiffies + msecs_to_jiffies(req.timeout_ms));
			WRITE_ONCE(busy->busy, true);
		} else {
			devexcl_busy_end(busy, false);
		}
	}
	req.waiting = atomic_read(&busy->waiting);
	req.waited = atomic64_read(&busy->waited);
	return copy_to_user(uarg, &req, sizeof(req)) ? -EFAULT : 0;
}
