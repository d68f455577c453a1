/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devexcl internals shared between the module's files.
 */
#ifndef _DEVEXCL_H
#define _DEVEXCL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "uapi/devexcl.h"

#define DEVEXCL_MAX_REGIONS 1024

/* Revocation log entry, kernel side: the pid is translated when read. */
struct devexcl_revocation_rec {
	u64 seq;
	unsigned long start;
	unsigned long end;
	unsigned long npages;
	u8 cause;
	struct pid *trigger;
	char comm[TASK_COMM_LEN];
	u64 timestamp_ns;
};

/* Module-wide counters, reported by DEVEXCL_CMD_GET_STATS. */
struct devexcl_stats {
	atomic64_t v[__DEVEXCL_STAT_MAX];
};

extern struct devexcl_stats devexcl_stats;

static inline void devexcl_stat_add(enum devexcl_stat stat, s64 n)
{
	atomic64_add(n, &devexcl_stats.v[stat]);
}

/**
 * struct devexcl_busy_state - a device that invalidations wait for
 * @idle: where they wait
 * @deadline: jiffies when busy ends by itself
 * @busy: set by DEVEXCL_IOC_BUSY
 * @waiting: invalidations waiting now
 * @waited: invalidations that have waited since the context was bound
 */
struct devexcl_busy_state {
	wait_queue_head_t idle;
	unsigned long deadline;
	bool busy;
	atomic_t waiting;
	atomic64_t waited;
};

/**
 * struct devexcl_ctx - one open /dev/devexcl: one simulated device
 * @op_lock: serialises this context's ioctls and protects @regions. Outer
 *	lock: taken before mmap_lock, never by a notifier.
 * @lock: protects @pages, the log and the counters. Taken by the MMU
 *	notifier, so under it nothing may sleep on memory reclaim, fault, or
 *	take mmap_lock: no GFP_KERNEL, no user copies.
 * @pages: page index -> xa_value (see exclusive.c); DEVEXCL_XA_HELD marks held pages
 * @mm: the target address space (mmgrab'ed), or NULL
 * @mm_id: @mm's id, as INSPECT_VMA reports it, for tracepoints (0 if none)
 * @target: the target's thread-group pid, for reporting
 * @owner: the thread group that opened the context: it may receive its events
 * @events: what the context's events share (owner, target, id)
 * @regions: struct devexcl_region, one MMU interval notifier each
 * @nr_regions: length of @regions
 * @id: the id user space sees
 * @revoke_seq: last revocation batch number
 * @log_floor: @revoke_seq when the context was last rebound: earlier
 *	batches were the previous target's
 * @nr_held: pages held now
 * @log: the last DEVEXCL_REVOCATION_LOG revocation batches, a ring
 * @counters: what DEVEXCL_IOC_COUNTERS reports
 * @busy: a busy device that invalidations wait for (DEVEXCL_IOC_BUSY)
 */
struct devexcl_ctx {
	struct mutex op_lock; /* outer: ioctls, regions */
	struct mutex lock; /* inner: pages, log, counters; notifier-safe */
	struct xarray pages;
	struct mm_struct *mm;
	u64 mm_id;
	struct pid *target;
	struct pid *owner;
	struct devexcl_event_source *events;
	struct list_head regions;
	unsigned int nr_regions;
	u64 id;
	u64 revoke_seq;
	u64 log_floor;
	unsigned long nr_held;
	struct devexcl_revocation_rec log[DEVEXCL_REVOCATION_LOG];
	struct devexcl_counters counters;
	struct devexcl_busy_state busy;
};

/**
 * struct devexcl_region - a marked range, watched by its own interval notifier
 * @notifier: invalidations of [start, end) in the target
 * @ctx: the owning context
 * @start: first address
 * @end: end address
 * @node: in ctx->regions
 */
struct devexcl_region {
	struct mmu_interval_notifier notifier;
	struct devexcl_ctx *ctx;
	unsigned long start;
	unsigned long end;
	struct list_head node;
};

/* context.c */
struct devexcl_ctx *devexcl_ctx_create(void);
void devexcl_ctx_destroy(struct devexcl_ctx *ctx);
long devexcl_ioctl_bind(struct devexcl_ctx *ctx, void __user *uarg);

/* target.c */
struct mm_struct *devexcl_ctx_get_mm(struct devexcl_ctx *ctx);
bool devexcl_may_act_on(struct task_struct *task);
struct mm_struct *devexcl_get_pid_mm(struct pid *pid);
struct pid *devexcl_get_tgid(struct pid *pid);
struct mm_struct *devexcl_get_target_mm(u64 nr);
int devexcl_validate_range(u64 start, u64 length);

/* device_busy.c */
void devexcl_busy_init(struct devexcl_busy_state *busy);
void devexcl_busy_end(struct devexcl_busy_state *busy, bool forget);
bool devexcl_busy_wait(struct devexcl_busy_state *busy, bool blockable);
long devexcl_ioctl_busy(struct devexcl_ctx *ctx, void __user *uarg);

/* exclusive.c */
extern const struct mmu_interval_notifier_ops devexcl_region_ops;
long devexcl_ioctl_mark(struct devexcl_ctx *ctx, void __user *uarg);
long devexcl_ioctl_release(struct devexcl_ctx *ctx, void __user *uarg);
long devexcl_ioctl_status(struct devexcl_ctx *ctx, void __user *uarg);
long devexcl_ioctl_access(struct devexcl_ctx *ctx, void __user *uarg);
long devexcl_ioctl_counters(struct devexcl_ctx *ctx, void __user *uarg);
long devexcl_ioctl_revocations(struct devexcl_ctx *ctx, void __user *uarg);
void devexcl_release_all(struct devexcl_ctx *ctx);
void devexcl_remove_regions(struct devexcl_ctx *ctx, bool only_unused);
void devexcl_forget_target(struct devexcl_ctx *ctx);

/* rmap.c */
#define DEVEXCL_INSPECT_CHUNK 256
struct devexcl_inspect_buf;

/**
 * struct devexcl_page_sink - takes inspected pages one at a time, in order
 * @next: room for the next record, up to @end: records go there without a
 *	call (an array of one record a page needs nothing else)
 * @end: see @next
 * @runs: hand empty pages to @empty instead of giving them records
 * @record: returns room for the next page's record when @next is @end; it
 *	cannot fail, so its owner makes room for a record a page before
 *	asking for pages
 * @empty: takes a page whose record would be zero but for its address,
 *	@pte_kind and @pte_flags (struct devexcl_empty_run)
 */
struct devexcl_page_sink {
	struct devexcl_page_info *next;
	struct devexcl_page_info *end;
	bool runs;
	struct devexcl_page_info *(*record)(struct devexcl_page_sink *sink);
	void (*empty)(struct devexcl_page_sink *sink, unsigned long addr,
		      u8 pte_kind, u32 pte_flags);
};

struct devexcl_inspect_buf *devexcl_inspect_buf_alloc(void);
void devexcl_inspect_buf_free(struct devexcl_inspect_buf *buf);
int devexcl_inspect_pages(struct devexcl_inspect_buf *buf, struct mm_struct *mm,
			  unsigned long addr, unsigned long n, bool walk_rmaps,
			  bool show_pfn, struct devexcl_page_sink *sink);
long devexcl_ioctl_inspect_page(void __user *uarg);
long devexcl_ioctl_inspect_range(void __user *uarg);

/* vma_inspect.c */
struct genl_info;
struct sk_buff;
long devexcl_inspect_vma(struct mm_struct *mm, unsigned long addr, u64 flags,
			 struct devexcl_vma_info *info,
			 struct devexcl_anon_vma_info *chain,
			 unsigned long max_chain);
long devexcl_ioctl_inspect_vma(void __user *uarg);
int devexcl_nl_inspect_vma(struct sk_buff *skb, struct genl_info *info);

/* netlink.c */
struct devexcl_event_source;
int devexcl_netlink_init(void);
void devexcl_netlink_exit(void);
struct devexcl_event_source *devexcl_event_source_new(u64 ctx_id,
						      struct pid *owner,
						      struct pid *target);
void devexcl_event_source_put(struct devexcl_event_source *src);
void devexcl_netlink_revoked(struct devexcl_event_source *src,
			     const struct devexcl_revocation_rec *rec);
void *devexcl_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info,
				u8 cmd);

#endif /* _DEVEXCL_H */
