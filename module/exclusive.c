// SPDX-License-Identifier: GPL-2.0
/*
 * Device-exclusive access: marking pages, device accesses, revocation
 * tracking through MMU interval notifiers, and release.
 *
 * The context's page table (ctx->pages) maps a page index of the target to
 * an xa_value:
 *   held:    pfn << 2 | STATE_HELD, with DEVEXCL_XA_HELD set
 *   revoked: seq << 8 | cause << 2 | STATE_REVOKED
 *   absent:  never held
 *
 * The device keeps no page reference while it holds a page, as nouveau does
 * not: the device-exclusive entry owns one. That entry can only go away
 * after an invalidation, whose notifier revokes the page under ctx->lock,
 * so a page seen held under ctx->lock is alive for as long as the lock is
 * held. Device accesses are therefore done under ctx->lock, which is what
 * the notifier's read_begin/read_retry protocol reduces to once the
 * device's own state is checked under the notifier's lock.
 */
#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/hmm.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>

#include "compat/exclusive.h"
#include "compat/gup.h"
#include "compat/slab.h"
#include "devexcl.h"
#include "devexcl_trace.h"
#include "pgwalk.h"

#define DEVEXCL_XA_HELD XA_MARK_0
#define STATE_HELD 1
#define STATE_REVOKED 2

/* Pages per make_device_exclusive_range() call: bounds the work under one lock hold. */
#define MARK_BATCH 128
/* Attempts of one batch invalidated by a concurrent change before giving up on it. */
#define MARK_MAX_ATTEMPTS 16
/* Pages released per lock hold. */
#define RELEASE_BATCH 256
/* Pages reported per copy to user space. */
#define STATUS_CHUNK 512

static void *held_entry(unsigned long pfn)
{
	return xa_mk_value(pfn << 2 | STATE_HELD);
}

static void *revoked_entry(u64 seq, u8 cause)
{
	return xa_mk_value(seq << 8 | (u64)cause << 2 | STATE_REVOKED);
}

/* Reserved slots (xa_reserve) are internal entries and read as absent. */
static unsigned int entry_state(void *entry)
{
	return xa_is_value(entry) ? xa_to_value(entry) & 3 : 0;
}

static unsigned long entry_pfn(void *entry)
{
	return xa_to_value(entry) >> 2;
}

static u8 entry_cause(void *entry)
{
	return (xa_to_value(entry) >> 2) & 0x3f;
}

static u64 entry_seq(void *entry)
{
	return xa_to_value(entry) >> 8;
}

static u32 mark_result(enum devexcl_mark_code code, int err)
{
	return code | (u32)(err & 0xff) << 8;
}

/*
 * Tasks inside devexcl_make_exclusive() for some context. A CPU-fault
 * restore (restores_entry()) done by one of them is another
 * device taking the page, not the CPU.
 */
struct devexcl_marker {
	struct list_head node;
	struct task_struct *task;
	struct devexcl_ctx *ctx;
};

static LIST_HEAD(devexcl_markers);
static DEFINE_SPINLOCK(devexcl_markers_lock);

static void marker_enter(struct devexcl_marker *marker, struct devexcl_ctx *ctx)
{
	marker->task = current;
	marker->ctx = ctx;
	spin_lock(&devexcl_markers_lock);
	list_add(&marker->node, &devexcl_markers);
	spin_unlock(&devexcl_markers_lock);
}

static void marker_exit(struct devexcl_marker *marker)
{
	spin_lock(&devexcl_markers_lock);
	list_del(&marker->node);
	spin_unlock(&devexcl_markers_lock);
}

/* The context the current task is marking for, if it is marking. */
static struct devexcl_ctx *current_marking_for(void)
{
	struct devexcl_marker *marker;
	struct devexcl_ctx *ctx = NULL;

	/*
	 * Only a task marking adds its own entry, before it marks: if this
	 * task is marking, it sees the list non-empty without the lock. The
	 * CPU faults on held pages that land here then skip the global lock.
	 */
	if (list_empty_careful(&devexcl_markers))
		return NULL;
	spin_lock(&devexcl_markers_lock);
	list_for_each_entry(marker, &devexcl_markers, node) {
		if (marker->task == current) {
			ctx = marker->ctx;
			break;
		}
	}
	spin_unlock(&devexcl_markers_lock);
	return ctx;
}

/*
 * Whether @range is a CPU access (a fault, or GUP) restoring a
 * device-exclusive entry. Since 6.15 that is a one-page MMU_NOTIFY_CLEAR
 * like a one-page zap: the restore alone finds the entry still in place
 * with its folio locked (remove_device_exclusive_entry() locks it first).
 * Reclaim also unmaps a locked folio, so it is ruled out by PF_MEMALLOC;
 * MADV_PAGEOUT of one held page would still be taken for a CPU access.
 */
static bool restores_entry(const struct mmu_notifier_range *range)
{
	struct devexcl_pte_info info;

	if (!devexcl_event_may_restore(range))
		return false;
	if (!DEVEXCL_RESTORE_IS_CLEAR)
		return true;
	if (current->flags & PF_MEMALLOC)
		return false;
	devexcl_peek_mm_entry(range->mm, range->start, &info);
	return (info.kind == DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE ||
		info.kind == DEVEXCL_PTE_DEVICE_EXCLUSIVE_READ) &&
	       info.has_pfn && pfn_valid(info.pfn) &&
	       folio_test_locked(pfn_folio(info.pfn));
}

/*
 * @restore: restores_entry(); @by_another: the current task is marking for
 * another context, so the restore is another device taking the page.
 */
static u8 devexcl_cause_of(const struct mmu_notifier_range *range,
			   bool restore, bool by_another)
{
	if (restore)
		return by_another ? DEVEXCL_CAUSE_OTHER_DEVICE :
				    DEVEXCL_CAUSE_CPU_FAULT;
	switch (range->event) {
	case MMU_NOTIFY_EXCLUSIVE:
		return DEVEXCL_CAUSE_OTHER_DEVICE;
	case MMU_NOTIFY_CLEAR:
		return DEVEXCL_CAUSE_CLEAR;
	case MMU_NOTIFY_UNMAP:
		return DEVEXCL_CAUSE_UNMAP;
	case MMU_NOTIFY_PROTECTION_VMA:
		return DEVEXCL_CAUSE_PROTECTION_VMA;
	case MMU_NOTIFY_PROTECTION_PAGE:
		return DEVEXCL_CAUSE_PROTECTION_PAGE;
	case MMU_NOTIFY_SOFT_DIRTY:
		return DEVEXCL_CAUSE_SOFT_DIRTY;
	case MMU_NOTIFY_RELEASE:
		return DEVEXCL_CAUSE_RELEASE;
	case MMU_NOTIFY_MIGRATE:
		return DEVEXCL_CAUSE_MIGRATE;
	default:
		return DEVEXCL_CAUSE_UNKNOWN;
	}
}

/*
 * Revoke up to @max held pages in [start, end) with @cause, as one logged
 * batch. Their addresses go to @addrs if given. Caller holds ctx->lock.
 * Returns the number of pages revoked.
 */
static unsigned long revoke_locked(struct devexcl_ctx *ctx, unsigned long start,
				   unsigned long end, u8 cause,
				   unsigned long max, unsigned long *addrs,
				   bool may_resched)
{
	XA_STATE(xas, &ctx->pages, start >> PAGE_SHIFT);
	unsigned long last = (end >> PAGE_SHIFT) - 1;
	unsigned long n = 0, first = 0, final = 0;
	u64 seq = ctx->revoke_seq + 1;
	struct devexcl_revocation_rec *rec;
	void *entry;

	lockdep_assert_held(&ctx->lock);
	xas_lock(&xas);
	xas_for_each_marked(&xas, entry, last, DEVEXCL_XA_HELD) {
		if (!n)
			first = xas.xa_index;
		final = xas.xa_index;
		if (addrs)
			addrs[n] = xas.xa_index << PAGE_SHIFT;
		xas_store(&xas, revoked_entry(seq, cause));
		xas_clear_mark(&xas, DEVEXCL_XA_HELD);
		if (++n == max)
			break;
		if (may_resched && need_resched()) {
			xas_pause(&xas);
			xas_unlock(&xas);
			cond_resched();
			xas_lock(&xas);
		}
	}
	xas_unlock(&xas);
	if (!n)
		return 0;

	ctx->revoke_seq = seq;
	ctx->nr_held -= n;
	ctx->counters.revocations++;
	ctx->counters.revoked[cause] += n;
	rec = &ctx->log[seq % DEVEXCL_REVOCATION_LOG];
	put_pid(rec->trigger);
	rec->seq = seq;
	rec->start = first << PAGE_SHIFT;
	rec->end = (final + 1) << PAGE_SHIFT;
	rec->npages = n;
	rec->cause = cause;
	rec->trigger = get_task_pid(current, PIDTYPE_TGID);
	get_task_comm(rec->comm, current);
	rec->timestamp_ns = ktime_get_ns();
	devexcl_stat_add(DEVEXCL_STAT_REVOCATIONS, 1);
	devexcl_stat_add(DEVEXCL_STAT_PAGES_REVOKED, n);
	trace_devexcl_revoke(ctx->id, rec);
	devexcl_netlink_revoked(ctx->events, rec);
	return n;
}

static bool devexcl_region_invalidate(struct mmu_interval_notifier *mni,
				      const struct mmu_notifier_range *range,
				      unsigned long cur_seq)
{
	struct devexcl_region *region =
		container_of(mni, struct devexcl_region, notifier);
	struct devexcl_ctx *ctx = region->ctx;
	unsigned long start = max(range->start, region->start);
	unsigned long end = min(range->end, region->end);
	bool blockable = mmu_notifier_range_blockable(range);
	struct devexcl_ctx *marking;
	bool restore;
	u8 cause;

	/*
	 * Our own conversion, as nouveau filters it: counting it would make
	 * every mark look invalidated by itself and retry forever.
	 */
	if (range->event == MMU_NOTIFY_EXCLUSIVE && range->owner == ctx)
		return true;
	restore = restores_entry(range);
	marking = restore ? current_marking_for() : NULL;
	cause = devexcl_cause_of(range, restore, marking && marking != ctx);
	/* A mark's own restores are the device's work, not a wait for it. */
	if (marking != ctx && !devexcl_busy_wait(&ctx->busy, blockable))
		return false;
	if (blockable)
		mutex_lock(&ctx->lock);
	else if (!mutex_trylock(&ctx->lock))
		return false;
	/*
	 * Until 6.14 a restore (EXCLUSIVE) needs the folio lock, which a mark
	 * holds from conversion until it has recorded the page, so a restore
	 * can never undo a mark in flight. Not advancing the sequence for it
	 * is what lets a retried mark, whose own GUP restores the entries of
	 * the failed attempt, converge instead of livelocking. From 6.15 the
	 * restore is a CLEAR and a mark holds no folio lock while it records
	 * (see devexcl_make_exclusive()), so only the restores a mark's own
	 * GUP does, for this context, leave the sequence alone: they touch no
	 * page of the mark in flight (an exclusive anon page has one PTE).
	 */
	if (range->event != MMU_NOTIFY_EXCLUSIVE && !(restore && marking == ctx))
		mmu_interval_set_seq(mni, cur_seq);
	if (start < end)
		revoke_locked(ctx, start, end, cause, ULONG_MAX, NULL,
			      blockable);
	mutex_unlock(&ctx->lock);
	return true;
}

const struct mmu_interval_notifier_ops devexcl_region_ops = {
	.invalidate = devexcl_region_invalidate,
};

/**
 * devexcl_remove_regions() - drop interval notifiers
 * @ctx: the context; op_lock held, or the last reference
 * @only_unused: keep regions that still contain a held page
 */
void devexcl_remove_regions(struct devexcl_ctx *ctx, bool only_unused)
{
	struct devexcl_region *region, *next;
	unsigned long index;

	list_for_each_entry_safe(region, next, &ctx->regions, node) {
		index = region->start >> PAGE_SHIFT;
		if (only_unused &&
		    xa_find(&ctx->pages, &index,
			    (region->end >> PAGE_SHIFT) - 1, DEVEXCL_XA_HELD))
			continue;
		mmu_interval_notifier_remove(&region->notifier);
		list_del(&region->node);
		ctx->nr_regions--;
		kfree(region);
	}
}

/* The region watching [start, end): an existing one that covers it, or a new one. */
static struct devexcl_region *region_for(struct devexcl_ctx *ctx,
					 struct mm_struct *mm,
					 unsigned long start, unsigned long end)
{
	struct devexcl_region *region;
	int ret;

	lockdep_assert_held(&ctx->op_lock);
	list_for_each_entry(region, &ctx->regions, node)
		if (region->start <= start && end <= region->end)
			return region;

	if (ctx->nr_regions >= DEVEXCL_MAX_REGIONS)
		devexcl_remove_regions(ctx, true);
	if (ctx->nr_regions >= DEVEXCL_MAX_REGIONS)
		return ERR_PTR(-ENOSPC);
	region = kzalloc_obj(*region, GFP_KERNEL);
	if (!region)
		return ERR_PTR(-ENOMEM);
	region->ctx = ctx;
	region->start = start;
	region->end = end;
	ret = mmu_interval_notifier_insert(&region->notifier, mm, start,
					   end - start, &devexcl_region_ops);
	if (ret) {
		kfree(region);
		return ERR_PTR(ret);
	}
	list_add(&region->node, &ctx->regions);
	ctx->nr_regions++;
	return region;
}

/*
 * One mark request in progress. @access, if set, is a device access to the
 * first page, done while it is being programmed: under ctx->lock and the
 * folio lock, so that a CPU fault waiting on the folio cannot take the page
 * back first. A device fault is only resolved once its access is done.
 */
struct mark_call {
	struct devexcl_ctx *ctx;
	struct devexcl_region *region;
	struct mm_struct *mm;
	struct page **pages;
	u32 *results;
	unsigned long marked;
	unsigned long failed;
	struct devexcl_access *access;
	bool allow_kernel_bugs;
};

static void release_pages_held(struct page **pages, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (pages[i])
			devexcl_exclusive_release(pages[i]);
}

struct refusal_probe {
	u32 result;
};

/* Under the PTL of the refused page's entry: what does it map now? */
static int refusal_probe_fn(unsigned long addr,
			    const struct devexcl_pte_info *info, void *priv)
{
	struct refusal_probe *probe = priv;
	struct page *page;

	if (!info->has_pfn || !pfn_valid(info->pfn) ||
	    (info->flags & DEVEXCL_PTEF_ZERO_PAGE))
		return 0;
	page = pfn_to_page(info->pfn);
	if (PageHuge(page))
		probe->result = mark_result(DEVEXCL_MARK_HUGETLB, EOPNOTSUPP);
	else if (!PageAnon(page))
		probe->result = mark_result(DEVEXCL_MARK_NOT_ANON, EOPNOTSUPP);
	else if (PageTail(page))
		probe->result = mark_result(DEVEXCL_MARK_THP_TAIL, EOPNOTSUPP);
	else if (PageLocked(page))
		probe->result = mark_result(DEVEXCL_MARK_PAGE_BUSY, EBUSY);
	return 0;
}

/*
 * make_device_exclusive_range() only says NULL for a refused page. Name the
 * reason from what the page table maps right after the refusal (mmap_lock
 * still held), checking the 6.1 refusals in the order the kernel makes them.
 */
static u32 classify_refusal(struct mm_struct *mm, unsigned long addr)
{
	struct refusal_probe probe = {
		.result = mark_result(DEVEXCL_MARK_NOT_CONVERTED, EAGAIN),
	};
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (!vma)
		return mark_result(DEVEXCL_MARK_NOT_MAPPED, EFAULT);
	if (is_vm_hugetlb_page(vma))
		return mark_result(DEVEXCL_MARK_HUGETLB, EOPNOTSUPP);
	devexcl_walk_vma(vma, addr, addr + PAGE_SIZE, refusal_probe_fn, &probe);
	if (DEVEXCL_MARK_RESULT_CODE(probe.result) ==
	    DEVEXCL_MARK_NOT_CONVERTED && (vma->vm_flags & VM_SHARED))
		return mark_result(DEVEXCL_MARK_NOT_ANON, EOPNOTSUPP);
	return probe.result;
}

/*
 * 6.1 refuses hugetlb and shared pages after GUP; later kernels (6.12,
 * 7.x) fail GUP itself for them. Either way they get their own names.
 */
static u32 classify_gup_error(struct mm_struct *mm, unsigned long addr,
			      int err)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (!vma)
		return mark_result(DEVEXCL_MARK_NOT_MAPPED, EFAULT);
	if (is_vm_hugetlb_page(vma))
		return mark_result(DEVEXCL_MARK_HUGETLB, EOPNOTSUPP);
	if (err == -EOPNOTSUPP && (vma->vm_flags & VM_SHARED))
		return mark_result(DEVEXCL_MARK_NOT_ANON, EOPNOTSUPP);
	return mark_result(DEVEXCL_MARK_GUP_FAILED, -err);
}

/*
 * Make sure the xarray has nodes for [index, index + nr), so recording held
 * pages under ctx->lock never allocates: the MMU notifier takes ctx->lock,
 * and reclaim may call the notifier.
 */
static int reserve_slots(struct devexcl_ctx *ctx, unsigned long index,
			 unsigned long nr)
{
	unsigned long chunk;
	int ret;

	for (chunk = index | XA_CHUNK_MASK;; chunk += XA_CHUNK_SIZE) {
		ret = xa_reserve(&ctx->pages, min(chunk, index + nr - 1),
				 GFP_KERNEL);
		if (ret)
			return ret;
		if (chunk >= index + nr - 1)
			return 0;
	}
}

/* The device's access to a page it holds. Caller holds ctx->lock. */
static void device_access_locked(struct devexcl_ctx *ctx, struct page *page,
				 struct devexcl_access *req)
{
	void *kaddr = kmap_local_page(page);
	atomic64_t *word = kaddr + offset_in_page(req->addr);

	switch (req->op) {
	case DEVEXCL_OP_READ:
		req->result = atomic64_read(word);
		break;
	case DEVEXCL_OP_WRITE: /* an exchange whose old value is reported all the same */
	case DEVEXCL_OP_XCHG:
		req->result = atomic64_xchg(word, req->value);
		break;
	case DEVEXCL_OP_ADD:
		req->result = atomic64_fetch_add(req->value, word);
		break;
	case DEVEXCL_OP_CMPXCHG:
		req->result = atomic64_cmpxchg(word, req->expected, req->value);
		break;
	}
	kunmap_local(kaddr);
	if (req->op != DEVEXCL_OP_READ)
		set_page_dirty(page);
	ctx->counters.device_ops++;
	devexcl_stat_add(DEVEXCL_STAT_DEVICE_OPS, 1);
}

static void record_held_locked(struct devexcl_ctx *ctx, unsigned long addr,
			       struct page **pages, unsigned long n)
{
	XA_STATE(xas, &ctx->pages, addr >> PAGE_SHIFT);
	unsigned long i, held = 0;

	xas_lock(&xas);
	for (i = 0; i < n; i++) {
		if (!pages[i])
			continue;
		/*
		 * Positioned per page: xas_next() on a state never walked
		 * loads the same index, so a refused first page would shift
		 * every later record down by one.
		 */
		xas_set(&xas, (addr >> PAGE_SHIFT) + i);
		xas_store(&xas, held_entry(page_to_pfn(pages[i])));
		/* The slots were reserved: storing cannot fail. */
		WARN_ON_ONCE(xas_error(&xas));
		xas_set_mark(&xas, DEVEXCL_XA_HELD);
		held++;
	}
	xas_unlock(&xas);
	ctx->nr_held += held;
	ctx->counters.marked += held;
	devexcl_stat_add(DEVEXCL_STAT_PAGES_MARKED, held);
}

struct userfault_probe {
	unsigned long first_trap;
	bool missing_traps;
};

static int userfault_probe_fn(unsigned long addr,
			      const struct devexcl_pte_info *info, void *priv)
{
	struct userfault_probe *probe = priv;

	if ((info->flags & DEVEXCL_PTEF_UFFD_WP) ||
	    (probe->missing_traps && info->kind == DEVEXCL_PTE_NONE)) {
		probe->first_trap = addr;
		return 1;
	}
	return 0;
}

/*
 * How many of the @nr pages from @addr lie in the VMA of @addr. A batch
 * never crosses a VMA, so that what is checked of the first page's VMA
 * (userfaultfd, hugetlb) holds for the whole batch. mmap_lock held.
 */
static unsigned long vma_run(struct mm_struct *mm, unsigned long addr,
			     unsigned long nr)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (!vma)
		return nr;
	return min(nr, (vma->vm_end - addr) >> PAGE_SHIFT);
}

/*
 * How many of the @nr pages from @addr, all in one VMA, can be faulted in
 * without trapping into a userfaultfd handler. make_device_exclusive_range()'s
 * GUP cannot wait for one: handle_userfault() would fail it (and, with
 * DEBUG_VM, dump a stack), so such pages are refused before the call.
 * mmap_lock held.
 */
static unsigned long userfault_safe_run(struct mm_struct *mm, unsigned long addr,
					unsigned long nr)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	unsigned long end = addr + nr * PAGE_SIZE;
	struct userfault_probe probe = {};

	if (!vma || !userfaultfd_armed(vma))
		return nr;
	probe.missing_traps = vma->vm_flags & (VM_UFFD_MISSING | VM_UFFD_MINOR);
	probe.first_trap = end;
	devexcl_walk_vma(vma, addr, end, userfault_probe_fn, &probe);
	return (probe.first_trap - addr) >> PAGE_SHIFT;
}

/* What the kernel would convert whole: the kernel refuses other large folios. */
static bool in_thp(struct page *page)
{
	return PageAnon(page) && PageCompound(page) && !PageHuge(page);
}

/*
 * On a kernel with DEVEXCL_KBUG_THP_EXCLUSIVE, how many of the @nr pages
 * from @addr share the first page's answer to "is it part of a THP?"
 * (*@thp). The pages are faulted in as marking will fault them, so the
 * answer holds until mmap_lock is dropped: with the PMD now a page table,
 * a fault there maps order-0 pages, and only a collapse, which needs
 * mmap_lock for writing, could map a THP. Pages it could not fault in are
 * never handed to the kernel unchecked: a failure on the first page is
 * returned as its errno. @pages is scratch space. mmap_lock held.
 */
static long thp_run(struct mm_struct *mm, unsigned long addr,
		    unsigned long nr, struct page **pages, bool *thp)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	long got, i;

	*thp = false;
	if (!DEVEXCL_KBUG_THP_EXCLUSIVE || !vma || is_vm_hugetlb_page(vma))
		return nr;
	got = devexcl_fault_in_writable(mm, addr, nr, pages);
	if (got <= 0)
		return got ?: -EFAULT;
	*thp = in_thp(pages[0]);
	for (i = 1; i < got; i++)
		if (in_thp(pages[i]) != *thp)
			break;
	while (got)
		put_page(pages[--got]);
	return i;
}

/*
 * With DEVEXCL_MARK_ALLOW_KERNEL_BUGS a THP head marked leaves the kernel
 * one migration or reclaim away from a crash: say so, and taint, so that
 * a crash report leads back here.
 */
static void note_thp_heads_marked(struct page **pages, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		if (pages[i] && in_thp(pages[i])) {
			pr_warn_ratelimited("devexcl: %s[%d] marked a THP with DEVEXCL_MARK_ALLOW_KERNEL_BUGS; migrating or reclaiming it can crash this kernel\n",
					    current->comm,
					    task_pid_nr(current));
			add_taint(TAINT_USER, LOCKDEP_STILL_OK);
			return;
		}
	}
}

/* The first @n pages of the batch are refused with @result. */
static void refuse_pages(struct mark_call *mc, unsigned long n, u32 result,
			 unsigned long *done)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		mc->results[i] = result;
	mc->failed += n;
	*done = n;
}

/*
 * Mark up to @nr pages from @addr, none of them held. Fills
 * mc->results[0..*done), counting tries in *@attempts. Returns 0, or
 * -EINTR / -ENOMEM, which end the call.
 */
static int mark_batch_attempts(struct mark_call *mc, unsigned long addr,
			       unsigned long nr, unsigned long *done,
			       int *attempts)
{
	struct devexcl_ctx *ctx = mc->ctx;
	unsigned long end;
	struct devexcl_marker marker;
	unsigned long seq, got, i;
	int attempt, ret;
	bool thp;

	ret = reserve_slots(ctx, addr >> PAGE_SHIFT, nr);
	if (ret)
		return ret;

	for (attempt = 1;; attempt++) {
		*attempts = attempt;
		if (fatal_signal_pending(current))
			return -EINTR;
		seq = mmu_interval_read_begin(&mc->region->notifier);
		if (mmap_read_lock_killable(mc->mm))
			return -EINTR;
		nr = vma_run(mc->mm, addr, nr);
		nr = userfault_safe_run(mc->mm, addr, nr);
		if (!nr) {
			mmap_read_unlock(mc->mm);
			refuse_pages(mc, 1, mark_result(DEVEXCL_MARK_USERFAULTFD,
							EFAULT), done);
			return 0;
		}
		marker_enter(&marker, ctx);
		thp = false;
		ret = mc->allow_kernel_bugs ? nr :
			thp_run(mc->mm, addr, nr, mc->pages, &thp);
		if (ret > 0 && thp) {
			marker_exit(&marker);
			mmap_read_unlock(mc->mm);
			refuse_pages(mc, ret,
				     mark_result(DEVEXCL_MARK_THP_KERNEL_BUG,
						 EOPNOTSUPP), done);
			return 0;
		}
		if (ret > 0) {
			nr = ret;
			end = addr + nr * PAGE_SIZE;
			ret = devexcl_make_exclusive(mc->mm, addr, end,
						     mc->pages, ctx);
		}
		marker_exit(&marker);
		if (ret == -EINTR) {
			mmap_read_unlock(mc->mm);
			return -EINTR;
		}
		if (ret < 0) {
			u32 result = classify_gup_error(mc->mm, addr, ret);

			mmap_read_unlock(mc->mm);
			refuse_pages(mc, 1, result, done);
			return 0;
		}
		got = ret;

		mutex_lock(&ctx->lock);
		if (mmu_interval_read_retry(&mc->region->notifier, seq)) {
			ctx->counters.mark_retries++;
			mutex_unlock(&ctx->lock);
			release_pages_held(mc->pages, got);
			mmap_read_unlock(mc->mm);
			if (attempt < MARK_MAX_ATTEMPTS)
				continue;
			refuse_pages(mc, got,
				     mark_result(DEVEXCL_MARK_RETRIES_EXHAUSTED,
						 EAGAIN), done);
			return 0;
		}
		record_held_locked(ctx, addr, mc->pages, got);
		if (mc->access && mc->pages[0])
			device_access_locked(ctx, mc->pages[0], mc->access);
		mutex_unlock(&ctx->lock);
		if (mc->allow_kernel_bugs)
			note_thp_heads_marked(mc->pages, got);

		/* Programmed: the contract says release them now. */
		for (i = 0; i < got; i++) {
			if (mc->pages[i]) {
				mc->results[i] = mark_result(DEVEXCL_MARK_MARKED, 0);
				mc->marked++;
			}
		}
		release_pages_held(mc->pages, got);
		for (i = 0; i < got; i++) {
			if (mc->pages[i])
				continue;
			mc->results[i] = classify_refusal(mc->mm, addr + i * PAGE_SIZE);
			mc->failed++;
		}
		mmap_read_unlock(mc->mm);
		*done = got;
		return 0;
	}
}

/* mark_batch_attempts(), traced as one batch. */
static int mark_batch(struct mark_call *mc, unsigned long addr,
		      unsigned long nr, unsigned long *done)
{
	unsigned long marked = mc->marked, failed = mc->failed;
	int attempts = 0, ret;

	*done = 0;
	ret = mark_batch_attempts(mc, addr, nr, done, &attempts);
	trace_devexcl_mark(mc->ctx->id, mc->ctx->mm_id, addr, nr, *done,
			   mc->marked - marked, mc->failed - failed, attempts,
			   !!mc->access, ret);
	return ret;
}

/* Every page of [start, end) lies in some VMA. */
static int check_mapped(struct mm_struct *mm, unsigned long start,
			unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long addr = start;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	while (addr < end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr) {
			ret = -EFAULT;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/* How many pages from @index (at most @nr) are held, or not held, in a row. */
static unsigned long run_length(struct devexcl_ctx *ctx, unsigned long index,
				unsigned long nr, bool held)
{
	unsigned long next = index;

	if (held) {
		unsigned long i;

		for (i = 0; i < nr; i++)
			if (!xa_get_mark(&ctx->pages, index + i, DEVEXCL_XA_HELD))
				break;
		return i;
	}
	if (!xa_find(&ctx->pages, &next, index + nr - 1, DEVEXCL_XA_HELD))
		return nr;
	return next - index;
}

/*
 * Mark [start, end) as @flags (DEVEXCL_MARK_*) say. Per-page results go to
 * @uresults (may be NULL), the last page's also to @last_result (may be
 * NULL). Caller holds op_lock and a reference on @mm.
 */
static int mark_range(struct devexcl_ctx *ctx, struct mm_struct *mm,
		      unsigned long start, unsigned long end, u64 flags,
		      u32 __user *uresults, u32 *last_result,
		      struct devexcl_access *access,
		      struct devexcl_range_op *out)
{
	struct mark_call mc = {
		.ctx = ctx,
		.mm = mm,
		.access = access,
		.allow_kernel_bugs = flags & DEVEXCL_MARK_ALLOW_KERNEL_BUGS,
	};
	unsigned long addr = start, nr, done, i;
	int ret;

	ret = check_mapped(mm, start, end);
	if (ret)
		return ret;
	mc.region = region_for(ctx, mm, start, end);
	if (IS_ERR(mc.region))
		return PTR_ERR(mc.region);
	mc.pages = kmalloc_array(MARK_BATCH, sizeof(*mc.pages), GFP_KERNEL);
	mc.results = kmalloc_array(MARK_BATCH, sizeof(*mc.results), GFP_KERNEL);
	if (!mc.pages || !mc.results) {
		ret = -ENOMEM;
		goto out;
	}

	while (addr < end) {
		cond_resched();
		nr = min_t(unsigned long, MARK_BATCH, (end - addr) >> PAGE_SHIFT);
		done = run_length(ctx, addr >> PAGE_SHIFT, nr, true);
		if (done) {
			for (i = 0; i < done; i++)
				mc.results[i] = mark_result(DEVEXCL_MARK_ALREADY_HELD, 0);
		} else {
			nr = run_length(ctx, addr >> PAGE_SHIFT, nr, false);
			ret = mark_batch(&mc, addr, nr, &done);
			if (ret)
				break;
		}
		if (uresults &&
		    copy_to_user(uresults + ((addr - start) >> PAGE_SHIFT),
				 mc.results, done * sizeof(*mc.results))) {
			ret = -EFAULT;
			break;
		}
		if (last_result)
			*last_result = mc.results[done - 1];
		addr += done * PAGE_SIZE;
	}
out:
	out->done = (addr - start) >> PAGE_SHIFT;
	out->ok = mc.marked;
	out->failed = mc.failed;
	mutex_lock(&ctx->lock);
	ctx->counters.refused += mc.failed;
	mutex_unlock(&ctx->lock);
	kfree(mc.results);
	kfree(mc.pages);
	return ret;
}

/*
 * Copy in an ioctl argument that is also written back, and fail on an
 * unwritable one now, not after changing anything.
 */
static int read_inout_arg(void __user *uarg, void *arg, size_t size)
{
	if (copy_from_user(arg, uarg, size))
		return -EFAULT;
	if (copy_to_user(uarg, arg, size))
		return -EFAULT;
	return 0;
}

static int read_range_op(void __user *uarg, struct devexcl_range_op *op,
			 u64 valid_flags)
{
	int ret = read_inout_arg(uarg, op, sizeof(*op));

	if (ret)
		return ret;
	if ((op->flags & ~valid_flags) || op->reserved)
		return -EINVAL;
	return 0;
}

/**
 * devexcl_ioctl_mark() - DEVEXCL_IOC_MARK
 * @ctx: the context
 * @uarg: struct devexcl_range_op
 *
 * Return: 0 with per-page results; EINVAL, E2BIG, EFAULT for bad arguments
 * or a range with unmapped parts; EPERM for DEVEXCL_MARK_ALLOW_KERNEL_BUGS
 * without CAP_SYS_ADMIN; ESRCH if the target has exited; EINTR if killed;
 * ENOMEM; ENOSPC past DEVEXCL_MAX_REGIONS distinct ranges; EOPNOTSUPP,
 * before anything else, on a kernel without device-exclusive entries.
 */
long devexcl_ioctl_mark(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_range_op op;
	struct mm_struct *mm;
	u32 __user *uresults;
	long ret;

	if (!DEVEXCL_HAVE_DEVICE_EXCLUSIVE)
		return -EOPNOTSUPP;
	ret = read_range_op(uarg, &op, DEVEXCL_MARK_ALLOW_KERNEL_BUGS);
	if (ret)
		return ret;
	if ((op.flags & DEVEXCL_MARK_ALLOW_KERNEL_BUGS) &&
	    !capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = devexcl_validate_range(op.start, op.length);
	if (ret)
		return ret;
	uresults = u64_to_user_ptr(op.results);
	/* A bad results buffer is found before anything is marked. */
	if (uresults && clear_user(uresults, (op.length >> PAGE_SHIFT) *
				   sizeof(*uresults)))
		return -EFAULT;

	if (mutex_lock_killable(&ctx->op_lock))
		return -EINTR;
	mm = devexcl_ctx_get_mm(ctx);
	if (!mm) {
		ret = -ESRCH;
	} else {
		ret = mark_range(ctx, mm, op.start, op.start + op.length,
				 op.flags, uresults, NULL, NULL, &op);
		mmput(mm);
	}
	mutex_unlock(&ctx->op_lock);
	if (!ret && copy_to_user(uarg, &op, sizeof(op)))
		ret = -EFAULT;
	return ret;
}

/*
 * Give up held pages of [start, end) and fault their CPU mappings back in,
 * so the process does not have to. Caller holds op_lock.
 */
static int release_range(struct devexcl_ctx *ctx, struct mm_struct *mm,
			 unsigned long start, unsigned long end,
			 u64 *released, u64 *unrestored)
{
	unsigned long *addrs, n, i;
	int ret = 0;

	addrs = kmalloc_array(RELEASE_BATCH, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return -ENOMEM;
	while (start < end) {
		mutex_lock(&ctx->lock);
		n = revoke_locked(ctx, start, end, DEVEXCL_CAUSE_RELEASED,
				  RELEASE_BATCH, addrs, true);
		ctx->counters.released += n;
		mutex_unlock(&ctx->lock);
		if (!n)
			break;
		*released += n;
		if (mm) {
			mmap_read_lock(mm);
			for (i = 0; i < n; i++)
				if (fixup_user_fault(mm, addrs[i], 0, NULL))
					(*unrestored)++;
			mmap_read_unlock(mm);
		} else {
			*unrestored += n;
		}
		start = addrs[n - 1] + PAGE_SIZE;
		cond_resched();
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	kfree(addrs);
	return ret;
}

/**
 * devexcl_release_all() - give back every held page (on close)
 * @ctx: the context
 */
void devexcl_release_all(struct devexcl_ctx *ctx)
{
	struct mm_struct *mm = devexcl_ctx_get_mm(ctx);
	u64 released = 0, unrestored = 0;

	release_range(ctx, mm, 0, TASK_SIZE_MAX, &released, &unrestored);
	if (mm)
		mmput(mm);
	/* Killed mid-way or out of memory: the rest are dropped, unrestored. */
	mutex_lock(&ctx->lock);
	revoke_locked(ctx, 0, TASK_SIZE_MAX, DEVEXCL_CAUSE_RELEASED,
		      ULONG_MAX, NULL, true);
	mutex_unlock(&ctx->lock);
}

/**
 * devexcl_ioctl_release() - DEVEXCL_IOC_RELEASE
 * @ctx: the context
 * @uarg: struct devexcl_range_op; @ok counts released pages, @failed those
 *	whose CPU mapping could not be restored
 *
 * Return: 0; EINVAL, E2BIG, EFAULT for bad arguments; EINTR if killed.
 */
long devexcl_ioctl_release(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_range_op op;
	struct mm_struct *mm;
	u64 released = 0, unrestored = 0;
	long ret;

	ret = read_range_op(uarg, &op, 0);
	if (ret)
		return ret;
	if (op.results)
		return -EINVAL;
	ret = devexcl_validate_range(op.start, op.length);
	if (ret)
		return ret;
	if (mutex_lock_killable(&ctx->op_lock))
		return -EINTR;
	mm = devexcl_ctx_get_mm(ctx);
	ret = release_range(ctx, mm, op.start, op.start + op.length,
			    &released, &unrestored);
	if (mm)
		mmput(mm);
	devexcl_remove_regions(ctx, true);
	mutex_unlock(&ctx->op_lock);
	op.done = op.length >> PAGE_SHIFT;
	op.ok = released;
	op.failed = unrestored;
	if (!ret && copy_to_user(uarg, &op, sizeof(op)))
		ret = -EFAULT;
	return ret;
}

struct status_walk {
	struct devexcl_page_status *buf;
	unsigned long start;
};

static int status_pte_fn(unsigned long addr,
			 const struct devexcl_pte_info *info, void *priv)
{
	struct status_walk *sw = priv;
	struct devexcl_page_status *st = &sw->buf[(addr - sw->start) >> PAGE_SHIFT];

	st->pte = info->kind;
	st->pte_flags = info->flags;
	return 0;
}

static void status_device_view(struct devexcl_ctx *ctx, unsigned long start,
			       unsigned long n, struct devexcl_page_status *buf)
{
	XA_STATE(xas, &ctx->pages, start >> PAGE_SHIFT);
	unsigned long first = start >> PAGE_SHIFT;
	void *entry;

	mutex_lock(&ctx->lock);
	rcu_read_lock();
	xas_for_each(&xas, entry, first + n - 1) {
		struct devexcl_page_status *st = &buf[xas.xa_index - first];

		if (xas_retry(&xas, entry))
			continue;
		switch (entry_state(entry)) {
		case STATE_HELD:
			st->device = DEVEXCL_DEV_HELD;
			break;
		case STATE_REVOKED:
			st->device = DEVEXCL_DEV_REVOKED;
			st->cause = entry_cause(entry);
			st->revoke_seq = entry_seq(entry);
			break;
		}
	}
	rcu_read_unlock();
	mutex_unlock(&ctx->lock);
}

/**
 * devexcl_ioctl_status() - DEVEXCL_IOC_STATUS: the device's and the CPU's view
 * @ctx: the context
 * @uarg: struct devexcl_status_req
 *
 * Works after the target exited: the CPU view is then DEVEXCL_PTE_NO_VMA.
 *
 * Return: 0; EINVAL, E2BIG, EFAULT for bad arguments; EINTR; ENOMEM.
 */
long devexcl_ioctl_status(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_page_status __user *uentries;
	struct devexcl_status_req req;
	struct status_walk sw;
	struct mm_struct *mm;
	unsigned long addr, end, n;
	long ret = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved)
		return -EINVAL;
	ret = devexcl_validate_range(req.start, req.length);
	if (ret)
		return ret;
	uentries = u64_to_user_ptr(req.entries);
	if (!access_ok(uentries, (req.length >> PAGE_SHIFT) * sizeof(*uentries)))
		return -EFAULT;
	sw.buf = kmalloc_array(STATUS_CHUNK, sizeof(*sw.buf), GFP_KERNEL);
	if (!sw.buf)
		return -ENOMEM;
	if (mutex_lock_killable(&ctx->op_lock)) {
		kfree(sw.buf);
		return -EINTR;
	}
	mm = devexcl_ctx_get_mm(ctx);
	end = req.start + req.length;
	for (addr = req.start; addr < end; addr += n * PAGE_SIZE) {
		n = min_t(unsigned long, STATUS_CHUNK, (end - addr) >> PAGE_SHIFT);
		memset(sw.buf, 0, n * sizeof(*sw.buf));
		sw.start = addr;
		if (mm) {
			if (mmap_read_lock_killable(mm)) {
				ret = -EINTR;
				break;
			}
			devexcl_walk_range(mm, addr, addr + n * PAGE_SIZE,
					   status_pte_fn, &sw);
			mmap_read_unlock(mm);
		} else {
			for (ret = 0; ret < n; ret++)
				sw.buf[ret].pte = DEVEXCL_PTE_NO_VMA;
			ret = 0;
		}
		status_device_view(ctx, addr, n, sw.buf);
		if (copy_to_user(uentries + ((addr - req.start) >> PAGE_SHIFT),
				 sw.buf, n * sizeof(*sw.buf))) {
			ret = -EFAULT;
			break;
		}
		cond_resched();
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	if (mm)
		mmput(mm);
	mutex_unlock(&ctx->op_lock);
	kfree(sw.buf);
	return ret;
}

/*
 * Access the page if held: 0, or -ENOENT / -ESTALE. *@found is the page's
 * entry as found: a value, which stays meaningful after the lock.
 */
static int try_access(struct devexcl_ctx *ctx, struct devexcl_access *req,
		      void **found)
{
	void *entry;
	int ret = 0;

	mutex_lock(&ctx->lock);
	entry = xa_load(&ctx->pages, req->addr >> PAGE_SHIFT);
	*found = entry;
	switch (entry_state(entry)) {
	case STATE_HELD:
		device_access_locked(ctx, pfn_to_page(entry_pfn(entry)), req);
		break;
	case STATE_REVOKED:
		ret = -ESTALE;
		break;
	default:
		ret = -ENOENT;
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

/*
 * Like a device fault: take the page again, doing the access while the page
 * is being programmed. 0, or the errno of the page's mark result.
 */
static int reacquire_and_access(struct devexcl_ctx *ctx, struct mm_struct *mm,
				struct devexcl_access *req)
{
	unsigned long addr = PAGE_ALIGN_DOWN(req->addr);
	struct devexcl_range_op out = {};
	u32 result = 0;
	int ret;

	ret = mark_range(ctx, mm, addr, addr + PAGE_SIZE, 0, NULL, &result,
			 req, &out);
	if (ret)
		return ret;
	/* op_lock is held: nothing else in this context marked it meanwhile. */
	if (DEVEXCL_MARK_RESULT_CODE(result) == DEVEXCL_MARK_MARKED)
		return 0;
	return -(int)DEVEXCL_MARK_RESULT_ERRNO(result) ?: -EAGAIN;
}

/**
 * devexcl_ioctl_access() - DEVEXCL_IOC_ACCESS: one 64-bit device access
 * @ctx: the context
 * @uarg: struct devexcl_access
 *
 * Return: 0; EINVAL for bad arguments or an unaligned address; EFAULT for
 * a kernel address or an argument that cannot be written back (checked
 * before the access, best effort: another thread may still unmap it
 * between the check and the write-back); ENOENT / ESTALE without a hold (and no REACQUIRE);
 * with REACQUIRE, the errno of the page's mark result (EBUSY if the page
 * lock stayed contended for HMM_RANGE_DEFAULT_TIMEOUT); ESRCH; EINTR;
 * EOPNOTSUPP, before anything else, on a kernel without device-exclusive
 * entries: the device can hold no page to access.
 */
long devexcl_ioctl_access(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_access req;
	unsigned long deadline;
	struct mm_struct *mm;
	void *entry;
	int attempts = 0;
	long ret;

	if (!DEVEXCL_HAVE_DEVICE_EXCLUSIVE)
		return -EOPNOTSUPP;
	ret = read_inout_arg(uarg, &req, sizeof(req));
	if (ret)
		return ret;
	if (req.op < DEVEXCL_OP_READ || req.op > DEVEXCL_OP_CMPXCHG ||
	    (req.flags & ~DEVEXCL_ACCESS_REACQUIRE) || req.reserved ||
	    !IS_ALIGNED(req.addr, sizeof(u64)))
		return -EINVAL;
	if (req.addr >= TASK_SIZE_MAX)
		return -EFAULT;

	if (mutex_lock_killable(&ctx->op_lock))
		return -EINTR;
	req.path = DEVEXCL_PATH_HELD;
	ret = try_access(ctx, &req, &entry);
	if (ret && (req.flags & DEVEXCL_ACCESS_REACQUIRE)) {
		mm = devexcl_ctx_get_mm(ctx);
		if (!mm) {
			ret = -ESRCH;
			goto out;
		}
		req.path = DEVEXCL_PATH_REACQUIRED;
		/*
		 * Page lock contention and concurrent invalidations pass:
		 * retry for the time nouveau gives a GPU atomic fault.
		 */
		deadline = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
		do {
			attempts++;
			ret = reacquire_and_access(ctx, mm, &req);
			if (ret != -EBUSY && ret != -EAGAIN)
				break;
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			cond_resched();
		} while (time_before(jiffies, deadline));
		if (!ret) {
			mutex_lock(&ctx->lock);
			ctx->counters.reacquires++;
			mutex_unlock(&ctx->lock);
		}
		mmput(mm);
		trace_devexcl_reacquire(ctx->id, PAGE_ALIGN_DOWN(req.addr),
					entry_state(entry) == STATE_REVOKED ?
					entry_seq(entry) : 0,
					entry_state(entry) == STATE_REVOKED ?
					entry_cause(entry) : DEVEXCL_CAUSE_NONE,
					attempts, ret);
	}
out:
	mutex_unlock(&ctx->op_lock);
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
	trace_devexcl_access(ctx->id, &req, ret);
	return ret;
}

/**
 * devexcl_forget_target() - start afresh for a new target (a rebind)
 * @ctx: the context; op_lock held, no page held and no region left
 *
 * The page table, the revocation log and the counters describe the old
 * target, so a rebound context starts with none of them. Batch sequence
 * numbers carry on: each stays unique for the context id events carry.
 */
void devexcl_forget_target(struct devexcl_ctx *ctx)
{
	unsigned int i;

	lockdep_assert_held(&ctx->op_lock);
	WARN_ON_ONCE(ctx->nr_held || !list_empty(&ctx->regions));
	mutex_lock(&ctx->lock);
	xa_destroy(&ctx->pages);
	for (i = 0; i < DEVEXCL_REVOCATION_LOG; i++)
		put_pid(ctx->log[i].trigger);
	memset(ctx->log, 0, sizeof(ctx->log));
	memset(&ctx->counters, 0, sizeof(ctx->counters));
	ctx->log_floor = ctx->revoke_seq;
	mutex_unlock(&ctx->lock);
}

/**
 * devexcl_ioctl_counters() - DEVEXCL_IOC_COUNTERS
 * @ctx: the context
 * @uarg: struct devexcl_counters
 *
 * Return: 0, EFAULT, or EINTR if killed while an operation runs.
 */
long devexcl_ioctl_counters(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_counters out;

	/* Both locks, as BIND takes them: counters and target agree. */
	if (mutex_lock_killable(&ctx->op_lock))
		return -EINTR;
	mutex_lock(&ctx->lock);
	out = ctx->counters;
	out.held = ctx->nr_held;
	mutex_unlock(&ctx->lock);
	out.context_id = ctx->id;
	if (ctx->mm && atomic_read(&ctx->mm->mm_users))
		out.target_pid = pid_vnr(ctx->target);
	mutex_unlock(&ctx->op_lock);
	return copy_to_user(uarg, &out, sizeof(out)) ? -EFAULT : 0;
}

/**
 * devexcl_ioctl_revocations() - DEVEXCL_IOC_REVOCATIONS: the recent batches
 * @ctx: the context
 * @uarg: struct devexcl_revocations
 *
 * Return: 0; EINVAL for reserved bits; EFAULT; ENOMEM.
 */
long devexcl_ioctl_revocations(struct devexcl_ctx *ctx, void __user *uarg)
{
	struct devexcl_revocations req;
	struct devexcl_revocation *out;
	u64 latest, first, seq;
	unsigned long n = 0;
	long ret = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved)
		return -EINVAL;
	out = kcalloc(DEVEXCL_REVOCATION_LOG, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;

	mutex_lock(&ctx->lock);
	latest = ctx->revoke_seq;
	first = latest > DEVEXCL_REVOCATION_LOG ? latest - DEVEXCL_REVOCATION_LOG + 1 : 1;
	/* Batches up to the floor belong to a target the context left. */
	first = max(first, ctx->log_floor + 1);
	if (latest - first + 1 > req.count)
		first = latest - req.count + 1;
	for (seq = first; seq <= latest && req.count; seq++, n++) {
		const struct devexcl_revocation_rec *rec =
			&ctx->log[seq % DEVEXCL_REVOCATION_LOG];

		out[n].seq = rec->seq;
		out[n].start = rec->start;
		out[n].end = rec->end;
		out[n].npages = rec->npages;
		out[n].cause = rec->cause;
		out[n].trigger_pid = rec->trigger ? pid_vnr(rec->trigger) : 0;
		strscpy(out[n].trigger_comm, rec->comm,
			sizeof(out[n].trigger_comm));
	}
	mutex_unlock(&ctx->lock);

	if (n && copy_to_user(u64_to_user_ptr(req.records), out,
			      n * sizeof(*out)))
		ret = -EFAULT;
	req.count = n;
	req.latest_seq = latest;
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
	kfree(out);
	return ret;
}
