// SPDX-License-Identifier: GPL-2.0
/*
 * rmap inspection: for (pid, address), the page table entry, the page and
 * its folio, the anon_vma hierarchy, and every (process, address) that maps
 * the page, device-exclusive entries included.
 *
 * 6.1 exports none of rmap_walk(), folio_lock_anon_vma_read(),
 * page_vma_mapped_walk() or the anon_vma interval tree, so the walk is done
 * here the way mm/rmap.c does it, from exported and inline primitives:
 *
 *  - the target's mmap_lock keeps its VMA, and so the VMA's anon_vma_chain,
 *    alive; the folio's anon_vma must be on that chain (rmap invariant),
 *    which pins it without folio_get_anon_vma(). That also covers
 *    device-exclusive pages, whose mapcount 6.1 drops to 0, where
 *    folio_lock_anon_vma_read() would give up;
 *  - the root anon_vma's rwsem (or the file's i_mmap_rwsem) is held for the
 *    walk of the interval tree; it keeps the candidate VMAs and their page
 *    tables alive, as for the kernel's own rmap walkers, so their entries
 *    are read without their mmap_lock. Lock order: mmap_lock, then
 *    i_mmap_rwsem / anon_vma->rwsem, then the page table lock; no mmap_lock
 *    is ever taken under the rmap locks;
 *  - KSM keeps its reverse map (stable tree, rmap_items) private to
 *    mm/ksm.c, so the mappers of a KSM page are found by scanning the
 *    VM_MERGEABLE VMAs of every address space, after the target's mmap_lock
 *    is dropped.
 *
 * Candidate entries are read without their page table lock, which is taken
 * only to confirm a miss: the rmap lock keeps the tables alive. Address
 * spaces found by the walk are mmgrab()'ed until they have been matched to
 * a process, through mm->owner; those the caller may not inspect are
 * redacted.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/interval_tree_generic.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pid_namespace.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "compat/anon_pgoff.h"
#include "compat/anon_vma_lock.h"
#include "compat/folio_mapping.h"
#include "compat/mapcount.h"
#include "compat/mm_flags.h"
#include "devexcl.h"
#include "objid.h"
#include "pgwalk.h"

#ifndef CONFIG_MEMCG
#error "devexcl finds the process of an address space through mm->owner, which needs CONFIG_MEMCG"
#endif

/* Address spaces scanned for the mappers of a KSM page. */
#define KSM_MAX_MMS 4096

static inline unsigned long avc_start(struct anon_vma_chain *avc)
{
	return devexcl_vma_anon_pgoff(avc->vma);
}

static inline unsigned long avc_last(struct anon_vma_chain *avc)
{
	return devexcl_vma_anon_pgoff(avc->vma) + vma_pages(avc->vma) - 1;
}

/* The same tree mm/interval_tree.c maintains; used here only to search it. */
INTERVAL_TREE_DEFINE(struct anon_vma_chain, rb, unsigned long, rb_subtree_last,
		     avc_start, avc_last, static inline, devexcl_avc_tree)

static inline unsigned long vma_start(struct vm_area_struct *vma)
{
	return vma->vm_pgoff;
}

static inline unsigned long vma_last(struct vm_area_struct *vma)
{
	return vma->vm_pgoff + vma_pages(vma) - 1;
}

INTERVAL_TREE_DEFINE(struct vm_area_struct, shared.rb, unsigned long,
		     shared.rb_subtree_last, vma_start, vma_last, static inline,
		     devexcl_file_tree)

/* One mapping found by a walk, before it is matched to a process. */
struct found_mapping {
	struct mm_struct *mm;	/* mmgrab()'ed */
	unsigned long vaddr;
	u64 anon_vma_id;
	u8 pte_kind;
	u32 pte_flags;
};

/* A reverse-map walk for one page. */
struct rmap_walk {
	unsigned long pfn;
	struct found_mapping *found;	/* NULL: count only */
	unsigned long max_found;
	unsigned long nr_found;		/* all, also beyond max_found */
	bool incomplete;
};

struct match_one {
	struct rmap_walk *walk;
	struct vm_area_struct *vma;
};

/* One more mapping of the page: @vma maps it at @addr with entry @info. */
static void record_found(struct rmap_walk *walk, struct vm_area_struct *vma,
			 unsigned long addr, const struct devexcl_pte_info *info)
{
	struct found_mapping *f;

	if (walk->found && walk->nr_found < walk->max_found) {
		f = &walk->found[walk->nr_found];
		f->mm = vma->vm_mm;
		mmgrab(f->mm);
		f->vaddr = addr;
		f->anon_vma_id = devexcl_objid(vma->anon_vma, DEVEXCL_OBJID_ANON_VMA);
		f->pte_kind = info->kind;
		f->pte_flags = info->flags;
	}
	walk->nr_found++;
}

static int match_pfn_fn(unsigned long addr, const struct devexcl_pte_info *info,
			void *priv)
{
	struct match_one *m = priv;
	struct rmap_walk *walk = m->walk;

	if (info->has_pfn && info->pfn == walk->pfn)
		record_found(walk, m->vma, addr, info);
	return 0;
}

/*
 * Does @vma map the page at @addr? Page tables kept alive by the caller.
 * A match read without the lock was a mapping at that instant. A miss is
 * confirmed under the lock: mprotect, clear_refs and migration clear an
 * entry before they rewrite it, under that lock, and only a locked read
 * cannot fall into that gap.
 */
static void check_candidate(struct rmap_walk *walk, struct vm_area_struct *vma,
			    unsigned long addr)
{
	struct match_one m = { .walk = walk, .vma = vma };
	struct devexcl_pte_info info;

	devexcl_peek_entry(vma, addr, &info);
	if (info.has_pfn && info.pfn == walk->pfn)
		record_found(walk, vma, addr, &info);
	else
		devexcl_walk_vma(vma, addr, addr + PAGE_SIZE, match_pfn_fn, &m);
}

/* Where @vma maps page offset @pgoff, counted from @start_pgoff; 0 if nowhere. */
static unsigned long address_in(struct vm_area_struct *vma, pgoff_t pgoff,
				pgoff_t start_pgoff)
{
	unsigned long addr = vma->vm_start + ((pgoff - start_pgoff) << PAGE_SHIFT);

	return addr >= vma->vm_start && addr < vma->vm_end ? addr : 0;
}

static bool anon_vma_on_chain(struct vm_area_struct *vma, struct anon_vma *av)
{
	struct anon_vma_chain *avc;

	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma)
		if (avc->anon_vma == av)
			return true;
	return false;
}

/* The page's index in PAGE_SIZE units (6.1's page_to_pgoff() is out of reach for hugetlb). */
static pgoff_t devexcl_page_pgoff(struct folio *folio, struct page *page)
{
	unsigned long idx = folio_page_idx(folio, page);

	if (folio_test_hugetlb(folio))
		return (folio->index << folio_order(folio)) + idx;
	return folio->index + idx;
}

/*
 * @av and @pgoff were read from the folio under the probed entry's page
 * table lock. Since 6.8, UFFDIO_MOVE's folio_move_anon_rmap() can move an
 * exclusive anon folio to another anon_vma, and another index, under the
 * folio lock and only the mmap_lock (or the VMA's lock) for reading; 7.x's
 * move takes no anon_vma lock at all. So, as the kernel's anon rmap
 * walkers do, the walk holds the folio lock, here only tried, so that a
 * busy folio makes an incomplete walk rather than a wait under the
 * mmap_lock; then rechecks mapping and index. A folio that moved is
 * reported as an incomplete walk, never as mapped through an anon_vma or
 * at an index it has left.
 */
static void walk_anon(struct rmap_walk *walk, struct folio *folio,
		      struct page *page, struct anon_vma *av, pgoff_t pgoff)
{
	struct anon_vma_chain *avc;
	unsigned long addr;

	if (!folio_trylock(folio)) {
		walk->incomplete = true;
		return;
	}
	devexcl_anon_vma_lock_read(av);
	if ((unsigned long)READ_ONCE(folio->mapping) !=
	    (unsigned long)av + DEVEXCL_MAPPING_BIT_ANON ||
	    devexcl_page_pgoff(folio, page) != pgoff) {
		walk->incomplete = true;
		goto out;
	}
	for (avc = devexcl_avc_tree_iter_first(&av->rb_root, pgoff, pgoff); avc;
	     avc = devexcl_avc_tree_iter_next(avc, pgoff, pgoff)) {
		/* exec's shift_arg_pages() frees its tables without rmap locks. */
		if (vma_is_temporary_stack(avc->vma))
			continue;
		addr = address_in(avc->vma, pgoff, devexcl_vma_anon_pgoff(avc->vma));
		if (addr)
			check_candidate(walk, avc->vma, addr);
	}
out:
	devexcl_anon_vma_unlock_read(av);
	folio_unlock(folio);
}

/*
 * What walks of a VMA's pages of one anon_vma share; valid while the
 * mmap_lock of the VMA's mm stays held. @alone: @av's tree held @vma only
 * when looked at. A fork, which adds other address spaces, needs this
 * mm's mmap_lock for writing; __anon_vma_prepare() may add a neighbouring
 * VMA of this same mm under the read lock, and UFFDIO_MOVE may move the
 * page there. Either way an exclusive page of @av is mapped once, in this
 * mm, so the entry probed under its page table lock, with the mapping and
 * index read there too, is the whole walk at that instant (the pages of a
 * process that never forked).
 */
struct anon_walk_cache {
	struct vm_area_struct *vma;
	struct anon_vma *av;
	bool on_chain;
	bool alone;
	u64 id;
	u64 root_id;
};

static void anon_walk_cache_fill(struct anon_walk_cache *c,
				 struct vm_area_struct *vma, struct anon_vma *av)
{
	struct rb_node *node;

	c->vma = vma;
	c->av = av;
	c->id = devexcl_objid(av, DEVEXCL_OBJID_ANON_VMA);
	c->on_chain = anon_vma_on_chain(vma, av);
	c->alone = false;
	if (!c->on_chain)
		return;
	c->root_id = devexcl_objid(av->root, DEVEXCL_OBJID_ANON_VMA);
	devexcl_anon_vma_lock_read(av);
	node = av->rb_root.rb_root.rb_node;
	c->alone = node && !node->rb_left && !node->rb_right &&
		   rb_entry(node, struct anon_vma_chain, rb)->vma == vma;
	devexcl_anon_vma_unlock_read(av);
}

static void walk_file(struct rmap_walk *walk, struct address_space *mapping,
		      pgoff_t pgoff)
{
	struct vm_area_struct *vma;
	unsigned long addr;

	i_mmap_lock_read(mapping);
	for (vma = devexcl_file_tree_iter_first(&mapping->i_mmap, pgoff, pgoff);
	     vma; vma = devexcl_file_tree_iter_next(vma, pgoff, pgoff)) {
		addr = address_in(vma, pgoff, vma->vm_pgoff);
		if (addr)
			check_candidate(walk, vma, addr);
	}
	i_mmap_unlock_read(mapping);
}

static int cmp_mm(const void *a, const void *b)
{
	const struct mm_struct *x = *(struct mm_struct *const *)a;
	const struct mm_struct *y = *(struct mm_struct *const *)b;

	return x < y ? -1 : x > y;
}

/* Mappers of a KSM page: every VM_MERGEABLE VMA of every address space. */
static void walk_ksm(struct rmap_walk *walk)
{
	struct mm_struct **mms, *mm;
	struct task_struct *p;
	struct vm_area_struct *vma;
	unsigned long n = 0, i;

	mms = kcalloc(KSM_MAX_MMS, sizeof(*mms), GFP_KERNEL);
	if (!mms) {
		walk->incomplete = true;
		return;
	}
	rcu_read_lock();
	for_each_process(p) {
		/* Only task_lock keeps p->mm from being dropped and freed. */
		task_lock(p);
		mm = p->mm;
		if (mm && !(p->flags & PF_KTHREAD) &&
		    devexcl_mm_flag(mm, MMF_VM_MERGEABLE)) {
			if (n < KSM_MAX_MMS) {
				mmget(mm);
				mms[n++] = mm;
			} else {
				walk->incomplete = true;
			}
		}
		task_unlock(p);
	}
	rcu_read_unlock();

	/*
	 * CLONE_VM processes share an mm: sorted, each is walked once. The
	 * references are dropped here, outside RCU: a last mmput() sleeps.
	 */
	sort(mms, n, sizeof(*mms), cmp_mm, NULL);
	for (i = 0; i < n; i++) {
		VMA_ITERATOR(vmi, mms[i], 0);

		if (i + 1 < n && mms[i + 1] == mms[i]) {
			mmput(mms[i]);
			continue;
		}
		if (mmap_read_lock_killable(mms[i])) {
			walk->incomplete = true;
		} else {
			for_each_vma(vmi, vma) {
				struct match_one m = { .walk = walk, .vma = vma };

				if (vma->vm_flags & VM_MERGEABLE)
					devexcl_walk_vma(vma, vma->vm_start,
							 vma->vm_end,
							 match_pfn_fn, &m);
			}
			mmap_read_unlock(mms[i]);
		}
		mmput(mms[i]);
		cond_resched();
	}
	kfree(mms);
}

/* The page at one address, probed under its page table lock. */
struct page_probe {
	struct devexcl_pte_info pte;
	struct folio *folio;	/* or NULL */
	struct page *page;
	bool referenced;	/* else only valid under the page table lock */
	/*
	 * Read with the entry, so that a report is of one instant: a
	 * UFFDIO_MOVE changes entry, mapping and index together under the
	 * page table locks.
	 */
	unsigned long mapping;
	pgoff_t index;
};

static int page_probe_fn(unsigned long addr, const struct devexcl_pte_info *info,
			 void *priv)
{
	struct page_probe *probe = priv;
	struct folio *folio;

	probe->pte = *info;
	if (!info->has_pfn || !pfn_valid(info->pfn) ||
	    (info->flags & DEVEXCL_PTEF_ZERO_PAGE))
		return 0;
	probe->page = pfn_to_page(info->pfn);
	/* The entry holds the folio: it cannot be freed or split under the PTL. */
	folio = page_folio(probe->page);
	if (folio_try_get(folio)) {
		probe->folio = folio;
		probe->referenced = true;
		probe->mapping = (unsigned long)READ_ONCE(folio->mapping);
		probe->index = devexcl_page_pgoff(folio, probe->page);
	}
	return 0;
}

static u64 page_flags_of(struct folio *folio, struct page *page)
{
	u64 flags = 0;

	if (folio_test_anon(folio))
		flags |= DEVEXCL_PAGE_ANON;
	if (folio_test_ksm(folio))
		flags |= DEVEXCL_PAGE_KSM;
	if (folio_test_large(folio))
		flags |= DEVEXCL_PAGE_LARGE;
	if (folio_test_large(folio) && !folio_test_hugetlb(folio))
		flags |= DEVEXCL_PAGE_THP;
	if (folio_test_hugetlb(folio))
		flags |= DEVEXCL_PAGE_HUGETLB;
	if (folio_test_lru(folio))
		flags |= DEVEXCL_PAGE_LRU;
	if (folio_test_locked(folio))
		flags |= DEVEXCL_PAGE_LOCKED;
	if (folio_test_dirty(folio))
		flags |= DEVEXCL_PAGE_DIRTY;
	if (folio_test_swapbacked(folio))
		flags |= DEVEXCL_PAGE_SWAPBACKED;
	if (folio_test_mlocked(folio))
		flags |= DEVEXCL_PAGE_MLOCKED;
	if (folio_test_swapcache(folio))
		flags |= DEVEXCL_PAGE_SWAPCACHE;
	if (folio_test_unevictable(folio))
		flags |= DEVEXCL_PAGE_UNEVICTABLE;
	/* hugetlb keeps the bit on the head page only (PageAnonExclusive() asserts it). */
	if (folio_test_anon(folio) &&
	    PageAnonExclusive(folio_test_hugetlb(folio) ? &folio->page : page))
		flags |= DEVEXCL_PAGE_ANON_EXCLUSIVE;
	if (PageHead(page))
		flags |= DEVEXCL_PAGE_HEAD;
	if (PageTail(page))
		flags |= DEVEXCL_PAGE_TAIL;
	return flags;
}

/*
 * The last folio's mapcount, for the pages of a range: counting a large
 * folio's mapcount reads every subpage's, so per page it would cost
 * O(pages^2) for a THP.
 */
struct folio_mapcount_cache {
	struct folio *folio;
	int mapcount;
};

/*
 * True when fill_page_info() would write nothing but the entry's kind and
 * flags: no folio to describe, no zero page, no PFN to show.
 */
static bool page_info_empty(const struct page_probe *probe, bool show_pfn)
{
	return !probe->folio && !(probe->pte.flags & DEVEXCL_PTEF_ZERO_PAGE) &&
	       !(show_pfn && probe->pte.has_pfn);
}

/* Everything about the probed page except its reverse map. @cache may be NULL. */
static void fill_page_info(struct devexcl_page_info *info,
			   const struct page_probe *probe, bool show_pfn,
			   struct folio_mapcount_cache *cache)
{
	struct folio *folio = probe->folio;
	unsigned long mapping;

	info->pte_kind = probe->pte.kind;
	info->pte_flags = probe->pte.flags;
	if (probe->pte.flags & DEVEXCL_PTEF_ZERO_PAGE)
		info->page_flags |= DEVEXCL_PAGE_ZERO;
	if (show_pfn && probe->pte.has_pfn)
		info->pfn = probe->pte.pfn;
	if (!folio)
		return;
	info->rmap_flags |= DEVEXCL_RMAP_HAS_PAGE;
	info->page_flags |= page_flags_of(folio, probe->page);
	info->folio_order = folio_order(folio);
	info->mapcount = devexcl_page_mapcount(folio, probe->page);
	if (!cache) {
		info->folio_mapcount = devexcl_folio_mapcount(folio);
	} else {
		if (cache->folio != folio) {
			cache->folio = folio;
			cache->mapcount = devexcl_folio_mapcount(folio);
		}
		info->folio_mapcount = cache->mapcount;
	}
	info->refcount = folio_ref_count(folio) - probe->referenced;
	info->index = probe->index;

	mapping = probe->mapping;
	if (!mapping)
		info->mapping_kind = DEVEXCL_MAPPING_NONE;
	else if ((mapping & DEVEXCL_MAPPING_BITS) == DEVEXCL_MAPPING_BITS_KSM)
		info->mapping_kind = DEVEXCL_MAPPING_KSM;
	else if ((mapping & DEVEXCL_MAPPING_BITS) == DEVEXCL_MAPPING_BIT_ANON)
		info->mapping_kind = DEVEXCL_MAPPING_ANON;
	else if (mapping & DEVEXCL_MAPPING_BITS)
		info->mapping_kind = DEVEXCL_MAPPING_OTHER;
	else if (folio_test_swapbacked(folio))
		info->mapping_kind = DEVEXCL_MAPPING_SHMEM;
	else
		info->mapping_kind = DEVEXCL_MAPPING_FILE;
}

/*
 * Walk the reverse map of the probed page mapped by @vma (mmap_lock of its
 * mm held). KSM pages are left to walk_ksm(), after that lock is dropped.
 */
static void walk_rmap(struct rmap_walk *walk, struct devexcl_page_info *info,
		      const struct page_probe *probe, struct vm_area_struct *vma,
		      struct anon_walk_cache *cache)
{
	struct folio *folio = probe->folio;
	unsigned long mapping = probe->mapping;
	pgoff_t pgoff = probe->index;
	struct anon_vma *av;

	walk->pfn = probe->pte.pfn;
	if ((mapping & DEVEXCL_MAPPING_BITS) == DEVEXCL_MAPPING_BIT_ANON) {
		av = (struct anon_vma *)(mapping - DEVEXCL_MAPPING_BIT_ANON);
		if (cache->vma != vma || cache->av != av)
			anon_walk_cache_fill(cache, vma, av);
		info->anon_vma_id = cache->id;
		if (!cache->on_chain) {
			walk->incomplete = true;
			return;
		}
		info->root_anon_vma_id = cache->root_id;
		if (cache->alone)
			record_found(walk, vma, info->addr, &probe->pte);
		else
			walk_anon(walk, folio, probe->page, av, pgoff);
	} else if (mapping && !(mapping & DEVEXCL_MAPPING_BITS)) {
		/* A file page: its mapping is alive if it is this VMA's file's. */
		if (!vma->vm_file ||
		    vma->vm_file->f_mapping != (struct address_space *)mapping) {
			walk->incomplete = true;
			return;
		}
		walk_file(walk, (struct address_space *)mapping, pgoff);
	} else {
		return;
	}
	info->rmap_flags |= DEVEXCL_RMAP_WALKED;
}

static void finish_walk(struct devexcl_page_info *info, struct rmap_walk *walk)
{
	/* Also a walk given up before it began: the page moved meanwhile. */
	if (walk->incomplete)
		info->rmap_flags |= DEVEXCL_RMAP_INCOMPLETE;
	if (!(info->rmap_flags & DEVEXCL_RMAP_WALKED))
		return;
	info->nr_mappings = walk->nr_found;
	if (walk->found && walk->nr_found > walk->max_found)
		info->rmap_flags |= DEVEXCL_RMAP_TRUNCATED;
	if (walk->nr_found != info->mapcount)
		info->rmap_flags |= DEVEXCL_RMAP_MAPCOUNT_MISMATCH;
}

/*
 * A task using @mm. Its owner, which CONFIG_MEMCG keeps pointing at a user
 * of the mm, is the answer but for two races: while the owner exits and
 * before mm_update_next_owner() has moved the role on, and when that found
 * nobody because a CLONE_VM child was not yet on the task list (6.1 then
 * leaves the owner NULL for good). Only then are all tasks scanned. NULL
 * once no task uses @mm. Called under rcu_read_lock(), which keeps the
 * tasks alive.
 */
static struct task_struct *task_of_mm(struct mm_struct *mm)
{
	struct task_struct *owner = rcu_dereference(mm->owner), *p, *t;

	if (owner && READ_ONCE(owner->mm) == mm)
		return owner;
	if (!atomic_read(&mm->mm_users))
		return NULL;
	/*
	 * for_each_thread() open-coded: its lockdep condition names
	 * tasklist_lock, which 7.x no longer exports to modules.
	 */
	for_each_process(p)
		list_for_each_entry_rcu(t, &p->signal->thread_head, thread_node)
			if (READ_ONCE(t->mm) == mm)
				return t;
	return NULL;
}

/*
 * Match found mappings to processes and fill the user-visible entries;
 * drops the mm references. Returns the number of redacted entries.
 * Each mapping costs one lookup through its mm's owner, so a page shared
 * by K processes costs O(K), whatever else runs on the machine (but for
 * the races task_of_mm() falls back on a scan for).
 */
static unsigned long resolve_mappings(struct rmap_walk *walk,
				      struct devexcl_rmap_entry *out)
{
	unsigned long n = min(walk->nr_found, walk->max_found), i, redacted = 0;
	bool privileged = capable(CAP_SYS_PTRACE);
	/* There, a task's own numbers are the caller's view: no struct pid to read. */
	bool init_ns = task_active_pid_ns(current) == &init_pid_ns;
	struct found_mapping *found = walk->found;
	struct task_struct *t;

	rcu_read_lock();
	for (i = 0; i < n; i++) {
		out[i].pte_kind = found[i].pte_kind;
		out[i].pte_flags = found[i].pte_flags;
		t = task_of_mm(found[i].mm);
		/*
		 * No task: the mm is exiting. Another process's, unless it
		 * shares the caller's mm (CLONE_VM): redacted.
		 */
		if (!t || (!privileged && !same_thread_group(t, current) &&
			   found[i].mm != current->mm)) {
			out[i].redacted = 1;
			redacted++;
			continue;
		}
		/* exchange_tids() may rewrite them. */
		out[i].pid = init_ns ? READ_ONCE(t->pid) : task_pid_vnr(t);
		out[i].tgid = init_ns ? READ_ONCE(t->tgid) : task_tgid_vnr(t);
		out[i].vaddr = found[i].vaddr;
		out[i].mm_id = devexcl_objid(found[i].mm, DEVEXCL_OBJID_MM);
		out[i].anon_vma_id = found[i].anon_vma_id;
		get_task_comm(out[i].comm, t);
	}
	rcu_read_unlock();
	for (i = 0; i < n; i++)
		mmdrop(found[i].mm);
	return redacted;
}

/* Drops the mm references of the mappings found, unresolved. */
static void drop_found(struct rmap_walk *walk)
{
	unsigned long i;

	for (i = 0; i < min(walk->nr_found, walk->max_found); i++)
		mmdrop(walk->found[i].mm);
}

/* The mappings counted but not returned may also be redacted ones: count them. */
static unsigned long count_unreturned_redactions(struct rmap_walk *walk)
{
	return walk->nr_found > walk->max_found && !capable(CAP_SYS_PTRACE) ?
		       walk->nr_found - walk->max_found : 0;
}

/**
 * devexcl_ioctl_inspect_page() - DEVEXCL_IOC_INSPECT_PAGE
 * @uarg: struct devexcl_inspect_page_req
 *
 * Return: 0; EINVAL for bad arguments; ESRCH, EPERM for the pid; EFAULT
 * for an address outside any VMA or a bad pointer; EINTR; ENOMEM.
 */
long devexcl_ioctl_inspect_page(void __user *uarg)
{
	struct devexcl_inspect_page_req req;
	struct anon_walk_cache cache = {};
	struct devexcl_rmap_entry *entries = NULL;
	struct rmap_walk walk = {};
	struct page_probe probe = {};
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long addr;
	bool ksm = false;
	long ret = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved || req.max_entries > DEVEXCL_MAX_RMAP_ENTRIES ||
	    (req.max_entries && !req.entries))
		return -EINVAL;
	if (req.addr >= TASK_SIZE_MAX)
		return -EFAULT;
	if (req.max_entries) {
		/* Written before read, as found: no need to zero it. */
		walk.max_found = req.max_entries;
		walk.found = kvmalloc_array(req.max_entries, sizeof(*walk.found),
					    GFP_KERNEL);
		if (!walk.found)
			return -ENOMEM;
	}
	mm = devexcl_get_target_mm(req.pid);
	if (IS_ERR(mm)) {
		ret = PTR_ERR(mm);
		goto out_free;
	}

	addr = PAGE_ALIGN_DOWN(req.addr);
	memset(&req.info, 0, sizeof(req.info));
	req.info.addr = addr;
	if (mmap_read_lock_killable(mm)) {
		ret = -EINTR;
		goto out_mm;
	}
	vma = vma_lookup(mm, addr);
	if (!vma) {
		mmap_read_unlock(mm);
		ret = -EFAULT;
		goto out_mm;
	}
	devexcl_walk_vma(vma, addr, addr + PAGE_SIZE, page_probe_fn, &probe);
	fill_page_info(&req.info, &probe, capable(CAP_SYS_ADMIN), NULL);
	if (probe.folio) {
		ksm = folio_test_ksm(probe.folio);
		if (!ksm)
			walk_rmap(&walk, &req.info, &probe, vma, &cache);
	}
	mmap_read_unlock(mm);
	if (ksm) {
		walk.pfn = probe.pte.pfn;
		walk_ksm(&walk);
		req.info.rmap_flags |= DEVEXCL_RMAP_WALKED;
	}
	finish_walk(&req.info, &walk);
	if (probe.folio)
		folio_put(probe.folio);

	if (walk.found) {
		req.info.nr_returned = min(walk.nr_found, walk.max_found);
		/* Sized by what was found: most pages have few mappings. */
		entries = kvcalloc(max(req.info.nr_returned, 1ULL), sizeof(*entries),
				   GFP_KERNEL);
		if (!entries) {
			drop_found(&walk);
			ret = -ENOMEM;
			goto out_mm;
		}
		req.info.nr_redacted = resolve_mappings(&walk, entries) +
				       count_unreturned_redactions(&walk);
		if (copy_to_user(u64_to_user_ptr(req.entries), entries,
				 req.info.nr_returned * sizeof(*entries)))
			ret = -EFAULT;
	}
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
out_mm:
	mmput(mm);
out_free:
	kvfree(entries);
	kvfree(walk.found);
	return ret;
}

/* A range's probes, kept for rmap walks, or (@pages NULL) filled into @sink at once. */
struct range_probe {
	unsigned long start;
	struct page_probe *pages;
	struct devexcl_page_sink *sink;
	unsigned long seen;
	bool show_pfn;
	struct folio_mapcount_cache mapcounts;
};

/* Where the page at @addr goes: a zeroed record, or NULL if the sink took it as empty. */
static struct devexcl_page_info *page_record(struct range_probe *rp,
					     unsigned long addr,
					     const struct page_probe *probe)
{
	struct devexcl_page_sink *sink = rp->sink;
	struct devexcl_page_info *info;

	rp->seen++;
	if (sink->runs && page_info_empty(probe, rp->show_pfn)) {
		sink->empty(sink, addr, probe->pte.kind, probe->pte.flags);
		return NULL;
	}
	info = sink->next < sink->end ? sink->next++ : sink->record(sink);
	/*
	 * Zeroed as it is filled, not in bulk first: the record is then hot,
	 * and a small constant-size memset is inlined, not memset()'s rep
	 * stosb, which TCG runs a byte at a time.
	 */
	memset(info, 0, sizeof(*info));
	info->addr = addr;
	return info;
}

static int range_probe_fn(unsigned long addr, const struct devexcl_pte_info *info,
			  void *priv)
{
	struct range_probe *rp = priv;
	struct page_probe probe = { .pte = *info };
	struct devexcl_page_info *record;

	if (rp->pages)
		return page_probe_fn(addr, info,
				     &rp->pages[(addr - rp->start) >> PAGE_SHIFT]);
	/* A new page table, so a new lock: the last folio may be gone since. */
	if (!(addr & ~PMD_MASK))
		rp->mapcounts.folio = NULL;
	/* The entry holds the folio while its lock is held: no reference needed. */
	if (info->has_pfn && pfn_valid(info->pfn) &&
	    !(info->flags & DEVEXCL_PTEF_ZERO_PAGE)) {
		probe.page = pfn_to_page(info->pfn);
		probe.folio = page_folio(probe.page);
	}
	record = page_record(rp, addr, &probe);
	if (record)
		fill_page_info(record, &probe, rp->show_pfn, &rp->mapcounts);
	return 0;
}

/* Probes for inspecting up to DEVEXCL_INSPECT_CHUNK pages at a time. */
struct devexcl_inspect_buf {
	struct page_probe probes[DEVEXCL_INSPECT_CHUNK];
};

struct devexcl_inspect_buf *devexcl_inspect_buf_alloc(void)
{
	return kvmalloc(sizeof(struct devexcl_inspect_buf), GFP_KERNEL);
}

void devexcl_inspect_buf_free(struct devexcl_inspect_buf *buf)
{
	kvfree(buf);
}

/**
 * devexcl_inspect_pages() - page records for [addr, addr + n pages)
 * @buf: from devexcl_inspect_buf_alloc(); may be NULL without @walk_rmaps
 * @mm: the address space; its mmap_lock is held
 * @addr: page aligned
 * @n: at most DEVEXCL_INSPECT_CHUNK
 * @walk_rmaps: also count each page's mappings (not for KSM pages, whose
 *	mappers would need a scan of every address space)
 * @show_pfn: the caller may see PFNs
 * @sink: takes the pages in address order: a record each, or with
 *	@sink->runs, empty ones (all zero but address, kind and flags) through
 *	->empty(). A plain array is a sink whose @next to @end holds @n records.
 *
 * Return: 0, or -EIO if the walk did not report every page (a bug: then
 * nothing it wrote may be handed out).
 */
int devexcl_inspect_pages(struct devexcl_inspect_buf *buf, struct mm_struct *mm,
			  unsigned long addr, unsigned long n, bool walk_rmaps,
			  bool show_pfn, struct devexcl_page_sink *sink)
{
	struct range_probe rp = { .start = addr, .sink = sink, .show_pfn = show_pfn };
	struct anon_walk_cache cache = {};
	struct vm_area_struct *vma = NULL;
	unsigned long i;

	if (!walk_rmaps) {
		devexcl_walk_range(mm, addr, addr + n * PAGE_SIZE, range_probe_fn, &rp);
		/* Records are zeroed as the walk reports their pages. */
		return WARN_ON_ONCE(rp.seen != n) ? -EIO : 0;
	}
	/* Walks take sleeping locks: probe with references, walk after. */
	rp.pages = buf->probes;
	memset(buf->probes, 0, n * sizeof(*buf->probes));
	devexcl_walk_range(mm, addr, addr + n * PAGE_SIZE, range_probe_fn, &rp);
	for (i = 0; i < n; i++) {
		unsigned long page_addr = addr + i * PAGE_SIZE;
		struct page_probe *probe = &buf->probes[i];
		struct devexcl_page_info *record;
		struct rmap_walk walk = {};

		record = page_record(&rp, page_addr, probe);
		if (!record) {
			/* An empty page has no folio, so no reference to drop. */
			VM_WARN_ON_ONCE(probe->folio);
			continue;
		}
		fill_page_info(record, probe, show_pfn, &rp.mapcounts);
		if (!probe->folio)
			continue;
		if (!folio_test_ksm(probe->folio)) {
			if (!vma || page_addr >= vma->vm_end)
				vma = vma_lookup(mm, page_addr);
			if (vma)
				walk_rmap(&walk, record, probe, vma, &cache);
			finish_walk(record, &walk);
		}
		folio_put(probe->folio);
	}
	return 0;
}

/**
 * devexcl_ioctl_inspect_range() - DEVEXCL_IOC_INSPECT_RANGE
 * @uarg: struct devexcl_inspect_range_req
 *
 * Fills up to @max_records page records from @cursor and advances it.
 *
 * Return: 0; EINVAL for bad arguments or a cursor outside the range; E2BIG
 * above the range cap; ESRCH, EPERM for the pid; EFAULT; EINTR; ENOMEM;
 * EIO if the page table walk missed a page (a devexcl bug, with a warning).
 */
long devexcl_ioctl_inspect_range(void __user *uarg)
{
	struct devexcl_inspect_range_req req;
	struct devexcl_page_info *out = NULL;
	struct devexcl_inspect_buf *buf;
	struct mm_struct *mm;
	unsigned long end, addr, n, done = 0;
	bool show_pfn = capable(CAP_SYS_ADMIN), walk_rmaps;
	long ret = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~DEVEXCL_INSPECT_WALK_RMAP) || req.reserved ||
	    !req.max_records || req.max_records > DEVEXCL_MAX_RANGE_RECORDS)
		return -EINVAL;
	walk_rmaps = req.flags & DEVEXCL_INSPECT_WALK_RMAP;
	ret = devexcl_validate_range(req.start, req.length);
	if (ret)
		return ret;
	end = req.start + req.length;
	addr = req.cursor ?: req.start;
	if (!PAGE_ALIGNED(addr) || addr < req.start || addr > end)
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(req.records),
		       req.max_records * sizeof(*out)))
		return -EFAULT;

	/* Probes are kept only for rmap walks. */
	buf = walk_rmaps ? devexcl_inspect_buf_alloc() : NULL;
	out = kvmalloc_array(DEVEXCL_INSPECT_CHUNK, sizeof(*out), GFP_KERNEL);
	mm = devexcl_get_target_mm(req.pid);
	if ((walk_rmaps && !buf) || !out || IS_ERR(mm)) {
		ret = IS_ERR(mm) ? PTR_ERR(mm) : -ENOMEM;
		if (!IS_ERR(mm))
			mmput(mm);
		goto out_free;
	}
	while (addr < end && done < req.max_records) {
		struct devexcl_page_sink array = { .next = out };

		n = min3((end - addr) >> PAGE_SHIFT, req.max_records - done,
			 (unsigned long)DEVEXCL_INSPECT_CHUNK);
		array.end = out + n;
		if (mmap_read_lock_killable(mm)) {
			ret = -EINTR;
			break;
		}
		ret = devexcl_inspect_pages(buf, mm, addr, n, walk_rmaps,
					    show_pfn, &array);
		mmap_read_unlock(mm);
		if (ret)
			break;
		if (copy_to_user(u64_to_user_ptr(req.records) + done * sizeof(*out),
				 out, n * sizeof(*out))) {
			ret = -EFAULT;
			break;
		}
		addr += n * PAGE_SIZE;
		done += n;
		cond_resched();
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	mmput(mm);
	req.cursor = addr;
	req.count = done;
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
out_free:
	kvfree(out);
	devexcl_inspect_buf_free(buf);
	return ret;
}
