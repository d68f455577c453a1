/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * devexcl user-space ABI: the one contract between devexcl.ko and user space.
 *
 * Every ioctl argument is a struct of __u64 fields, so its layout is the
 * same for 32- and 64-bit callers and has no implicit padding. Unused
 * fields are named "reserved" and must be zero.
 */
#ifndef _UAPI_DEVEXCL_H
#define _UAPI_DEVEXCL_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define DEVEXCL_DEVICE_PATH "/dev/devexcl"

/* A major bump breaks old callers; a minor bump only adds. */
#define DEVEXCL_ABI_MAJOR 1
#define DEVEXCL_ABI_MINOR 5

/* 0xDE is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define DEVEXCL_IOC_MAGIC 0xDE

/**
 * struct devexcl_version - answer of DEVEXCL_IOC_VERSION
 * @abi_major: DEVEXCL_ABI_MAJOR of the loaded module
 * @abi_minor: DEVEXCL_ABI_MINOR of the loaded module
 * @features: DEVEXCL_FEAT_* bits the module supports
 * @page_size: the kernel's PAGE_SIZE
 * @max_range_bytes: the largest range one range ioctl accepts
 * @kernel_features: DEVEXCL_KFEAT_* bits: what the running kernel offers
 *	(ABI 1.3)
 * @kernel_version: the running kernel's version, as LINUX_VERSION_CODE
 *	encodes it: (major << 16) + (minor << 8) + min(patch, 255) (ABI 1.3).
 *	For display: decisions go by @kernel_features, which see backports.
 * @reserved: zero
 */
struct devexcl_version {
	__u64 abi_major;
	__u64 abi_minor;
	__u64 features;
	__u64 page_size;
	__u64 max_range_bytes;
	__u64 kernel_features;
	__u64 kernel_version;
	__u64 reserved;
};

/* mark and access (and bind, status, release); clear without DEVEXCL_KFEAT_DEVICE_EXCLUSIVE */
#define DEVEXCL_FEAT_EXCLUSIVE _BITULL(0)
#define DEVEXCL_FEAT_RMAP _BITULL(1) /* inspect page, range and VMA */
#define DEVEXCL_FEAT_NETLINK _BITULL(2) /* the "devexcl" generic netlink family */
/*
 * The kernel converts every PTE of a THP when the head page is made
 * device-exclusive, and its rmap walkers then decode those entries as
 * present PTEs: try_to_migrate_one() and try_to_unmap_one() crash on a
 * folio left partly exclusive (fixed in 6.15 by "mm: fixes for
 * device-exclusive entries (hmm)"). On such a kernel MARK refuses every
 * page of a large folio (DEVEXCL_MARK_THP_KERNEL_BUG) unless the caller
 * asks for DEVEXCL_MARK_ALLOW_KERNEL_BUGS.
 */
#define DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE _BITULL(3)
/* DEVEXCL_IOC_BUSY, and the VMA lock report of INSPECT_VMA (ABI 1.4). */
#define DEVEXCL_FEAT_DEVICE_BUSY _BITULL(4)

/*
 * What the running kernel does, as far as devexcl's users can tell it apart.
 * The 6.15 rework of device-exclusive entries ("mm: fixes for
 * device-exclusive entries (hmm)" and the make_device_exclusive() series):
 * marking is one kernel call per page, the mapcount is kept while
 * exclusive, and one entry kind replaces the read and write kinds.
 */
#define DEVEXCL_KFEAT_EXCLUSIVE_PER_PAGE _BITULL(0)
#define DEVEXCL_KFEAT_EXCLUSIVE_KEEPS_MAPCOUNT _BITULL(1)
#define DEVEXCL_KFEAT_EXCLUSIVE_ONE_KIND _BITULL(2)
/* Page faults under per-VMA locks (6.4). */
#define DEVEXCL_KFEAT_PER_VMA_LOCK _BITULL(3)
/* The per-VMA lock is vm_refcnt, not an rwsem (6.15). */
#define DEVEXCL_KFEAT_VMA_REFCNT _BITULL(4)
/* userfaultfd's UFFDIO_MOVE (6.8). */
#define DEVEXCL_KFEAT_UFFDIO_MOVE _BITULL(5)
/*
 * The anon_vma_clone()/unlink_anon_vmas() rework (7.0): clones copy the
 * source's chain walking it forward, so a clone's chain is in reverse order.
 */
#define DEVEXCL_KFEAT_ANON_VMA_CLONE_REWORK _BITULL(6)
/*
 * 7.x: a VMA's anonymous pages are indexed by an anonymous page offset of
 * its own (vma_start_anon_pgoff()), which for a MAP_PRIVATE file mapping
 * is where it was first faulted, in pages, not the file offset (ABI 1.4).
 */
#define DEVEXCL_KFEAT_VMA_ANON_PGOFF _BITULL(7)
/*
 * The kernel can make device-exclusive entries: it was built with
 * CONFIG_DEVICE_PRIVATE (ABI 1.5). Without it DEVEXCL_IOC_MARK and
 * DEVEXCL_IOC_ACCESS answer EOPNOTSUPP; inspection, dumps, events and the
 * rest work. Debian's stock 6.1 and 6.12 kernels lack the option.
 */
#define DEVEXCL_KFEAT_DEVICE_EXCLUSIVE _BITULL(8)

#define DEVEXCL_IOC_VERSION _IOR(DEVEXCL_IOC_MAGIC, 0x00, struct devexcl_version)

/* max_range_bytes of this ABI: callers may size per-page buffers by it. */
#define DEVEXCL_MAX_RANGE_BYTES _BITULL(30)

/*
 * Device-exclusive access.
 *
 * An open file is one simulated device context. It acts on the address
 * space of the process that opened it, or of the process given to
 * DEVEXCL_IOC_BIND. Ranges are [start, start + length): start and length
 * page aligned, 0 < length <= max_range_bytes.
 */

#define DEVEXCL_BIND_PIDFD _BITULL(0) /* use @pidfd, not @pid */

/**
 * struct devexcl_bind - argument of DEVEXCL_IOC_BIND
 * @pid: target process id in the caller's pid namespace
 * @pidfd: a pidfd of the target, with DEVEXCL_BIND_PIDFD
 * @flags: DEVEXCL_BIND_*
 * @reserved: zero
 *
 * Binding needs ptrace-level rights: the caller is in the target's thread
 * group or has CAP_SYS_PTRACE. A context that holds pages cannot rebind
 * (EBUSY). A rebind starts the context afresh: its page states, revocation
 * log and counters are emptied; batch sequence numbers carry on.
 */
struct devexcl_bind {
	__u64 pid;
	__u64 pidfd;
	__u64 flags;
	__u64 reserved;
};

/* Per-page result of DEVEXCL_IOC_MARK: a code, and for failures an errno. */
enum devexcl_mark_code {
	DEVEXCL_MARK_NOT_REACHED = 0,	/* the call stopped before this page */
	DEVEXCL_MARK_MARKED = 1,	/* the device now holds the page */
	DEVEXCL_MARK_ALREADY_HELD = 2,	/* this context held it already */
	DEVEXCL_MARK_THP_TAIL = 3,	/* 6.1 refuses THP tail pages (EOPNOTSUPP) */
	DEVEXCL_MARK_NOT_ANON = 4,	/* shared or file page (EOPNOTSUPP) */
	DEVEXCL_MARK_HUGETLB = 5,	/* hugetlb page (EOPNOTSUPP) */
	DEVEXCL_MARK_PAGE_BUSY = 6,	/* page lock contended (EBUSY) */
	DEVEXCL_MARK_NOT_MAPPED = 7,	/* no VMA any more (EFAULT) */
	DEVEXCL_MARK_GUP_FAILED = 8,	/* faulting the page in failed (its errno) */
	DEVEXCL_MARK_NOT_CONVERTED = 9,	/* the rmap walk left a mapping (EAGAIN) */
	DEVEXCL_MARK_RETRIES_EXHAUSTED = 10, /* invalidated on every attempt (EAGAIN) */
	DEVEXCL_MARK_USERFAULTFD = 11,	/* faulting it would need the uffd handler (EFAULT) */
	/* a page of a THP, on a kernel with DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE (EOPNOTSUPP) */
	DEVEXCL_MARK_THP_KERNEL_BUG = 12,
};

/*
 * MARK flag, CAP_SYS_ADMIN only (EPERM otherwise): do not steer around
 * the running kernel's known bugs (DEVEXCL_FEAT_KBUG_*), to reproduce them
 * on purpose. On 6.1 this marks THP heads as the kernel does, converting
 * every PTE of the folio; a later migration or reclaim of that folio can
 * crash the kernel.
 */
#define DEVEXCL_MARK_ALLOW_KERNEL_BUGS _BITULL(0)

#define DEVEXCL_MARK_RESULT_CODE(r) ((r) & 0xffU)
#define DEVEXCL_MARK_RESULT_ERRNO(r) (((r) >> 8) & 0xffU)

/**
 * struct devexcl_range_op - argument of DEVEXCL_IOC_MARK and DEVEXCL_IOC_RELEASE
 * @start: first byte of the range in the target
 * @length: bytes
 * @flags: MARK: DEVEXCL_MARK_ALLOW_KERNEL_BUGS or zero; RELEASE: zero
 * @results: MARK only, optional: user pointer to a __u32 per page that
 *	receives its result (code | errno << 8); 0 for none
 * @done: out: pages processed
 * @ok: out: pages marked (MARK) or given back to the CPU (RELEASE)
 * @failed: out: pages that could not be marked (MARK)
 * @reserved: zero
 *
 * MARK fails with an errno, changing nothing, for bad arguments or when part
 * of the range has no VMA (EFAULT). Otherwise it returns 0 and reports each
 * page on its own: a refused page is never a failure of the whole call.
 */
struct devexcl_range_op {
	__u64 start;
	__u64 length;
	__u64 flags;
	__u64 results;
	__u64 done;
	__u64 ok;
	__u64 failed;
	__u64 reserved;
};

/* Why the device lost a page: the MMU notifier event, refined. */
enum devexcl_cause {
	DEVEXCL_CAUSE_NONE = 0,
	/* EXCLUSIVE, owner NULL: a CPU fault or GUP restored the PTE */
	DEVEXCL_CAUSE_CPU_FAULT = 1,
	DEVEXCL_CAUSE_OTHER_DEVICE = 2,	/* EXCLUSIVE on behalf of another device */
	DEVEXCL_CAUSE_CLEAR = 3,	/* MMU_NOTIFY_CLEAR: zap, MADV_DONTNEED, COW */
	DEVEXCL_CAUSE_UNMAP = 4,	/* MMU_NOTIFY_UNMAP: munmap, mremap */
	DEVEXCL_CAUSE_PROTECTION_VMA = 5, /* mprotect, uffd-wp */
	DEVEXCL_CAUSE_PROTECTION_PAGE = 6, /* fork of a COW mapping */
	DEVEXCL_CAUSE_SOFT_DIRTY = 7,	/* clear_refs */
	DEVEXCL_CAUSE_RELEASE = 8,	/* the address space is torn down */
	DEVEXCL_CAUSE_MIGRATE = 9,
	DEVEXCL_CAUSE_RELEASED = 10,	/* the device gave it up (RELEASE, close) */
	DEVEXCL_CAUSE_UNKNOWN = 11,
	DEVEXCL_CAUSE_COUNT = 16
};

/* The device's view of a page. */
enum devexcl_device_state {
	DEVEXCL_DEV_NEVER_HELD = 0,
	DEVEXCL_DEV_HELD = 1,
	DEVEXCL_DEV_REVOKED = 2,
};

/* The CPU's view: what the page table entry for the address holds. */
enum devexcl_pte_kind {
	DEVEXCL_PTE_NONE = 0,
	DEVEXCL_PTE_PRESENT = 1,
	DEVEXCL_PTE_DEVICE_EXCLUSIVE_READ = 2,
	DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE = 3,
	DEVEXCL_PTE_MIGRATION = 4,
	DEVEXCL_PTE_SWAP = 5,
	DEVEXCL_PTE_DEVICE_PRIVATE = 6,
	DEVEXCL_PTE_MARKER = 7,		/* a PTE marker, e.g. uffd-wp on none */
	DEVEXCL_PTE_HWPOISON = 8,
	DEVEXCL_PTE_OTHER = 9,
	DEVEXCL_PTE_NO_VMA = 10,	/* the address is not mapped */
};

#define DEVEXCL_PTEF_WRITE _BITUL(0)
#define DEVEXCL_PTEF_DIRTY _BITUL(1)
#define DEVEXCL_PTEF_YOUNG _BITUL(2)
#define DEVEXCL_PTEF_SOFT_DIRTY _BITUL(3)
#define DEVEXCL_PTEF_UFFD_WP _BITUL(4)
#define DEVEXCL_PTEF_PMD _BITUL(5)	/* mapped by a PMD (THP or hugetlb) */
#define DEVEXCL_PTEF_PUD _BITUL(6)	/* mapped by a PUD */
#define DEVEXCL_PTEF_ZERO_PAGE _BITUL(7)
#define DEVEXCL_PTEF_HUGETLB _BITUL(8)	/* in a hugetlb VMA */

/**
 * struct devexcl_page_status - one page of DEVEXCL_IOC_STATUS
 * @device: enum devexcl_device_state
 * @cause: enum devexcl_cause, when @device is DEVEXCL_DEV_REVOKED
 * @pte: enum devexcl_pte_kind
 * @reserved: zero
 * @pte_flags: DEVEXCL_PTEF_*
 * @revoke_seq: the revocation batch that took the page (see DEVEXCL_IOC_REVOCATIONS)
 */
struct devexcl_page_status {
	__u8 device;
	__u8 cause;
	__u8 pte;
	__u8 reserved;
	__u32 pte_flags;
	__u64 revoke_seq;
};

/**
 * struct devexcl_status_req - argument of DEVEXCL_IOC_STATUS
 * @start: first byte of the range
 * @length: bytes
 * @flags: zero
 * @entries: user pointer to length / page_size struct devexcl_page_status
 * @reserved: zero
 */
struct devexcl_status_req {
	__u64 start;
	__u64 length;
	__u64 flags;
	__u64 entries;
	__u64 reserved;
};

enum devexcl_access_op {
	DEVEXCL_OP_READ = 1,
	DEVEXCL_OP_WRITE = 2,
	DEVEXCL_OP_ADD = 3,
	DEVEXCL_OP_XCHG = 4,
	DEVEXCL_OP_CMPXCHG = 5,
};

/* Without it, access to a page the device does not hold fails. */
#define DEVEXCL_ACCESS_REACQUIRE _BITULL(0)

enum devexcl_access_path {
	DEVEXCL_PATH_HELD = 1,		/* the device held the page */
	DEVEXCL_PATH_REACQUIRED = 2,	/* it faulted, like a device, and took it again */
};

/**
 * struct devexcl_access - argument of DEVEXCL_IOC_ACCESS: one 64-bit device access
 * @addr: 8-byte aligned address in the target
 * @op: enum devexcl_access_op
 * @flags: DEVEXCL_ACCESS_*
 * @value: WRITE/XCHG value, ADD addend, CMPXCHG new value
 * @expected: CMPXCHG compare value
 * @result: out: the value before the operation (READ: the value)
 * @path: out: enum devexcl_access_path
 * @reserved: zero
 *
 * Fails with ENOENT if the device never held the page and ESTALE if its hold
 * was revoked, unless DEVEXCL_ACCESS_REACQUIRE is set.
 */
struct devexcl_access {
	__u64 addr;
	__u64 op;
	__u64 flags;
	__u64 value;
	__u64 expected;
	__u64 result;
	__u64 path;
	__u64 reserved;
};

/**
 * struct devexcl_counters - answer of DEVEXCL_IOC_COUNTERS, per context
 * @marked: pages the device took
 * @refused: pages a mark could not take
 * @held: pages held now
 * @released: pages the device gave back (RELEASE)
 * @device_ops: DEVEXCL_IOC_ACCESS operations done
 * @reacquires: accesses that had to take the page again
 * @mark_retries: mark batches redone after a concurrent invalidation
 * @revocations: revocation batches
 * @revoked: pages revoked, by enum devexcl_cause
 * @target_pid: the bound process in the caller's pid namespace, 0 if gone
 * @context_id: this context's id (a keyed hash, stable while loaded)
 * @reserved: zero
 */
struct devexcl_counters {
	__u64 marked;
	__u64 refused;
	__u64 held;
	__u64 released;
	__u64 device_ops;
	__u64 reacquires;
	__u64 mark_retries;
	__u64 revocations;
	__u64 revoked[DEVEXCL_CAUSE_COUNT];
	__u64 target_pid;
	__u64 context_id;
	__u64 reserved[6];
};

#define DEVEXCL_REVOCATION_LOG 64

/**
 * struct devexcl_revocation - one revocation batch
 * @seq: batch sequence number: from 1, increasing for the context's life,
 *	across rebinds
 * @start: first revoked address
 * @end: end of the last revoked page
 * @npages: pages the device lost
 * @cause: enum devexcl_cause
 * @trigger_pid: the task that caused it (its tgid), in the reader's pid
 *	namespace; 0 if unknown or not visible there
 * @trigger_comm: its command name, NUL terminated
 */
struct devexcl_revocation {
	__u64 seq;
	__u64 start;
	__u64 end;
	__u64 npages;
	__u64 cause;
	__u64 trigger_pid;
	char trigger_comm[16];
};

/**
 * struct devexcl_revocations - argument of DEVEXCL_IOC_REVOCATIONS
 * @records: user pointer to @count struct devexcl_revocation
 * @count: in: room in @records; out: records written, oldest first
 * @latest_seq: out: the newest batch's sequence number (0: none yet). After
 *	a rebind it may name a batch of the previous target, which @count
 *	then leaves out
 * @reserved: zero
 *
 * The context keeps the last DEVEXCL_REVOCATION_LOG batches.
 */
struct devexcl_revocations {
	__u64 records;
	__u64 count;
	__u64 latest_seq;
	__u64 reserved;
};

#define DEVEXCL_IOC_BIND _IOW(DEVEXCL_IOC_MAGIC, 0x01, struct devexcl_bind)
#define DEVEXCL_IOC_MARK _IOWR(DEVEXCL_IOC_MAGIC, 0x02, struct devexcl_range_op)
#define DEVEXCL_IOC_RELEASE _IOWR(DEVEXCL_IOC_MAGIC, 0x03, struct devexcl_range_op)
#define DEVEXCL_IOC_STATUS _IOW(DEVEXCL_IOC_MAGIC, 0x04, struct devexcl_status_req)
#define DEVEXCL_IOC_ACCESS _IOWR(DEVEXCL_IOC_MAGIC, 0x05, struct devexcl_access)
#define DEVEXCL_IOC_COUNTERS _IOR(DEVEXCL_IOC_MAGIC, 0x06, struct devexcl_counters)
#define DEVEXCL_IOC_REVOCATIONS _IOWR(DEVEXCL_IOC_MAGIC, 0x07, struct devexcl_revocations)

/*
 * rmap inspection: for (pid, address) of any process the caller may
 * inspect (its own thread group, or any with CAP_SYS_PTRACE), the page
 * table entry, the page/folio, its anon_vma, and every mapping of the page.
 * Objects are identified by keyed hashes (ids), never by kernel pointers.
 */

#define DEVEXCL_PAGE_ANON _BITULL(0)
#define DEVEXCL_PAGE_KSM _BITULL(1)
#define DEVEXCL_PAGE_LARGE _BITULL(2)	/* part of a large folio */
#define DEVEXCL_PAGE_THP _BITULL(3)	/* a transparent huge page */
#define DEVEXCL_PAGE_HUGETLB _BITULL(4)
#define DEVEXCL_PAGE_ZERO _BITULL(5)	/* the shared zero page */
#define DEVEXCL_PAGE_LRU _BITULL(6)
#define DEVEXCL_PAGE_LOCKED _BITULL(7)
#define DEVEXCL_PAGE_DIRTY _BITULL(8)
#define DEVEXCL_PAGE_SWAPBACKED _BITULL(9)
#define DEVEXCL_PAGE_MLOCKED _BITULL(10)
#define DEVEXCL_PAGE_ANON_EXCLUSIVE _BITULL(11)
#define DEVEXCL_PAGE_SWAPCACHE _BITULL(12)
#define DEVEXCL_PAGE_HEAD _BITULL(13)
#define DEVEXCL_PAGE_TAIL _BITULL(14)
#define DEVEXCL_PAGE_UNEVICTABLE _BITULL(15)

enum devexcl_mapping_kind {
	DEVEXCL_MAPPING_NONE = 0,	/* no page, or no mapping (e.g. zero page) */
	DEVEXCL_MAPPING_ANON = 1,
	DEVEXCL_MAPPING_KSM = 2,
	DEVEXCL_MAPPING_FILE = 3,
	DEVEXCL_MAPPING_SHMEM = 4,	/* shmem, memfd, MAP_SHARED|MAP_ANONYMOUS */
	DEVEXCL_MAPPING_OTHER = 5,
};

#define DEVEXCL_RMAP_WALKED _BITULL(0)	/* the reverse map was walked */
#define DEVEXCL_RMAP_TRUNCATED _BITULL(1)	/* more mappings than room */
/* Mappings found differ from the kernel's mapcount: on 6.1, device-exclusive entries. */
#define DEVEXCL_RMAP_MAPCOUNT_MISMATCH _BITULL(2)
#define DEVEXCL_RMAP_INCOMPLETE _BITULL(3)	/* a candidate could not be examined */
#define DEVEXCL_RMAP_HAS_PAGE _BITULL(4)	/* the entry maps a page devexcl could inspect */

/**
 * struct devexcl_page_info - one page as the kernel sees it
 * @addr: the page's address in the inspected process
 * @pte_kind: enum devexcl_pte_kind
 * @reserved0: zero
 * @pte_flags: DEVEXCL_PTEF_*
 * @page_flags: DEVEXCL_PAGE_*
 * @mapping_kind: enum devexcl_mapping_kind
 * @folio_order: 0 for a small page
 * @mapcount: page_mapcount() of this page
 * @folio_mapcount: the folio's total mapcount (6.1's folio_mapcount())
 * @refcount: the folio's refcount, without devexcl's own reference
 * @index: the page's index in its mapping (pgoff)
 * @pfn: page frame number, only for CAP_SYS_ADMIN (as pagemap), else 0
 * @anon_vma_id: the folio's anon_vma, 0 if none
 * @root_anon_vma_id: that anon_vma's root, 0 if none
 * @rmap_flags: DEVEXCL_RMAP_*
 * @nr_mappings: mappings the rmap walk found, including redacted ones
 * @nr_redacted: of those, mappings in processes the caller may not inspect
 * @nr_returned: entries written to the caller's array
 * @reserved: zero
 */
struct devexcl_page_info {
	__u64 addr;
	__u8 pte_kind;
	__u8 reserved0[3];
	__u32 pte_flags;
	__u64 page_flags;
	__u32 mapping_kind;
	__u32 folio_order;
	__s32 mapcount;
	__s32 folio_mapcount;
	__u64 refcount;
	__u64 index;
	__u64 pfn;
	__u64 anon_vma_id;
	__u64 root_anon_vma_id;
	__u64 rmap_flags;
	__u64 nr_mappings;
	__u64 nr_redacted;
	__u64 nr_returned;
	__u64 reserved[2];
};

/**
 * struct devexcl_rmap_entry - one mapping of an inspected page
 * @pid: a process using the mapping's mm, in the caller's pid namespace
 * @tgid: its thread group
 * @vaddr: where it maps the page
 * @pte_kind: enum devexcl_pte_kind of that mapping (device-exclusive counts)
 * @redacted: 1 if the caller may not inspect that process: only @pte_kind
 *	and @redacted are filled
 * @reserved0: zero
 * @pte_flags: DEVEXCL_PTEF_*
 * @mm_id: the address space's id
 * @anon_vma_id: the mapping VMA's own anon_vma, 0 if none
 * @comm: the process's command name
 */
struct devexcl_rmap_entry {
	__u64 pid;
	__u64 tgid;
	__u64 vaddr;
	__u8 pte_kind;
	__u8 redacted;
	__u8 reserved0[2];
	__u32 pte_flags;
	__u64 mm_id;
	__u64 anon_vma_id;
	char comm[16];
};

/**
 * struct devexcl_inspect_page_req - argument of DEVEXCL_IOC_INSPECT_PAGE
 * @pid: the process
 * @addr: an address in it (need not be page aligned)
 * @flags: zero
 * @entries: user pointer to @max_entries struct devexcl_rmap_entry, or 0
 * @max_entries: room in @entries, at most DEVEXCL_MAX_RMAP_ENTRIES
 * @reserved: zero
 * @info: out: the page
 */
struct devexcl_inspect_page_req {
	__u64 pid;
	__u64 addr;
	__u64 flags;
	__u64 entries;
	__u64 max_entries;
	__u64 reserved;
	struct devexcl_page_info info;
};

#define DEVEXCL_MAX_RMAP_ENTRIES 4096

/* Also walk each page's reverse map (slower: counts only, no entries). */
#define DEVEXCL_INSPECT_WALK_RMAP _BITULL(0)
/*
 * Dumps only: send runs of empty pages (see struct devexcl_empty_run)
 * instead of one record each. The ioctl refuses it with EINVAL: its
 * caller's array has one record per page.
 */
#define DEVEXCL_INSPECT_EMPTY_RUNS _BITULL(1)

/**
 * struct devexcl_inspect_range_req - argument of DEVEXCL_IOC_INSPECT_RANGE
 * @pid: the process
 * @start: first byte of the range, page aligned
 * @length: bytes, page aligned, at most max_range_bytes
 * @flags: DEVEXCL_INSPECT_*
 * @records: user pointer to @max_records struct devexcl_page_info
 * @max_records: room in @records, at most DEVEXCL_MAX_RANGE_RECORDS
 * @cursor: in: where to continue (0: at @start); out: the next address to
 *	inspect, or @start + @length when done
 * @count: out: records written
 * @reserved: zero
 */
struct devexcl_inspect_range_req {
	__u64 pid;
	__u64 start;
	__u64 length;
	__u64 flags;
	__u64 records;
	__u64 max_records;
	__u64 cursor;
	__u64 count;
	__u64 reserved;
};

#define DEVEXCL_MAX_RANGE_RECORDS 4096

/**
 * struct devexcl_anon_vma_info - one anon_vma of a VMA's anon_vma_chain
 * @id: its id
 * @root_id: its root's id
 * @parent_id: its parent's id (the root is its own parent)
 * @num_children: anon_vmas whose parent it is, itself included for a root
 * @num_active_vmas: VMAs whose ->anon_vma it is
 * @refcount: its reference count
 */
struct devexcl_anon_vma_info {
	__u64 id;
	__u64 root_id;
	__u64 parent_id;
	__u64 num_children;
	__u64 num_active_vmas;
	__u64 refcount;
};

/**
 * struct devexcl_inspect_vma_req - argument of DEVEXCL_IOC_INSPECT_VMA
 * @pid: the process
 * @addr: an address inside the VMA
 * @flags: zero
 * @chain: user pointer to @max_chain struct devexcl_anon_vma_info, or 0
 * @max_chain: room in @chain, at most DEVEXCL_MAX_RMAP_ENTRIES
 * @vm_start: out
 * @vm_end: out
 * @vm_flags: out: the VMA's vm_flags (VM_* of include/linux/mm.h)
 * @vm_pgoff: out
 * @anon_vma_id: out: the VMA's anon_vma, 0 if it has none yet
 * @chain_len: out: entries in its anon_vma_chain
 * @returned: out: entries written to @chain, in same_vma (newest first) order
 * @mm_id: out: the address space's id
 * @vma_lock: out: the VMA's per-VMA lock, DEVEXCL_VMA_LOCK_* (ABI 1.4; was
 *	a reserved zero)
 *
 * With DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK the VMA is found under RCU without
 * the mmap_lock, so that a VMA can be seen while a writer holds that lock
 * (or while a fault holds the VMA's own lock). Only kernels with per-VMA
 * locks free VMAs after an RCU grace period: elsewhere the flag gets
 * EOPNOTSUPP. The chain is not read then (@chain must be 0, @chain_len is
 * 0), and the other fields are one unlocked snapshot: a VMA being changed
 * may show old and new values together.
 */
struct devexcl_inspect_vma_req {
	__u64 pid;
	__u64 addr;
	__u64 flags;
	__u64 chain;
	__u64 max_chain;
	__u64 vm_start;
	__u64 vm_end;
	__u64 vm_flags;
	__u64 vm_pgoff;
	__u64 anon_vma_id;
	__u64 chain_len;
	__u64 returned;
	__u64 mm_id;
	__u64 vma_lock;
};

#define DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK _BITULL(0)

/*
 * The per-VMA lock (6.4), read without taking it: a snapshot, exact for
 * the states that last (a reader parked in a fault, a writer waiting for
 * readers, a write section). 6.4 to 6.14 lock an rwsem; 6.15 replaced it
 * with vm_refcnt (DEVEXCL_KFEAT_VMA_REFCNT): 0 detached, 1 attached, plus
 * one per reader, and a flag while a writer excludes readers.
 */
/* The kernel has per-VMA locks: the other bits are valid. */
#define DEVEXCL_VMA_LOCK_PRESENT _BITULL(0)
/* In its mm's VMA tree (vm_refcnt > 0; the rwsem kernels' !vma->detached). */
#define DEVEXCL_VMA_LOCK_ATTACHED _BITULL(1)
/* A writer holds the lock or waits for its readers to leave. */
#define DEVEXCL_VMA_LOCK_WRITER _BITULL(2)
/*
 * vm_lock_seq equals the mm's mmap_lock write sequence: write-locked in
 * the mmap_lock write section now open, until mmap_write_unlock().
 */
#define DEVEXCL_VMA_LOCK_WRITE_LOCKED _BITULL(3)
/* Bits 32 to 63: readers holding it (faults, UFFDIO_MOVE, /proc maps, ...). */
#define DEVEXCL_VMA_LOCK_READERS_SHIFT 32
#define DEVEXCL_VMA_LOCK_READERS(lock) ((__u32)((lock) >> DEVEXCL_VMA_LOCK_READERS_SHIFT))

/*
 * A busy device. A driver's invalidate callback waits for the device's
 * work in flight on the range before it returns, and the kernel waits with
 * it, holding whatever locks the invalidating path holds: the VMA's lock
 * in a fault, the mmap_lock for writing in mprotect or munmap. While this
 * context is busy, every invalidation of its ranges that may sleep waits
 * until DEVEXCL_IOC_BUSY makes it idle, the context is closed or rebound,
 * the waiting task gets a fatal signal, or @timeout_ms passes; then the
 * revocation proceeds as usual. Invalidations that may not sleep (the OOM
 * reaper) are refused, as for any driver, and retried by the kernel.
 */
#define DEVEXCL_BUSY_MAX_MS 20000
/* Change nothing: only report @waiting and @waited. */
#define DEVEXCL_BUSY_QUERY _BITULL(0)

/**
 * struct devexcl_busy - argument of DEVEXCL_IOC_BUSY
 * @timeout_ms: 0: idle now, waking every waiter; else busy for at most
 *	this long (1 to DEVEXCL_BUSY_MAX_MS)
 * @flags: DEVEXCL_BUSY_*
 * @waiting: out: invalidations waiting for this device now
 * @waited: out: invalidations that have waited since the context was bound
 */
struct devexcl_busy {
	__u64 timeout_ms;
	__u64 flags;
	__u64 waiting;
	__u64 waited;
};

#define DEVEXCL_IOC_BUSY _IOWR(DEVEXCL_IOC_MAGIC, 0x08, struct devexcl_busy)

#define DEVEXCL_IOC_INSPECT_PAGE _IOWR(DEVEXCL_IOC_MAGIC, 0x10, struct devexcl_inspect_page_req)
#define DEVEXCL_IOC_INSPECT_RANGE _IOWR(DEVEXCL_IOC_MAGIC, 0x11, struct devexcl_inspect_range_req)
#define DEVEXCL_IOC_INSPECT_VMA _IOWR(DEVEXCL_IOC_MAGIC, 0x12, struct devexcl_inspect_vma_req)

/*
 * Generic netlink family "devexcl": revocation events and streamed rmap
 * dumps. Every attribute is validated strictly against its policy; errors
 * carry an extack message.
 *
 * Events are unicast, one per revocation batch, to each subscriber that is
 * entitled to them: the thread group that opened the context, or a
 * subscriber that had CAP_SYS_ADMIN when it subscribed. Unicast lets every
 * event be checked against every subscriber (a multicast group can only be
 * checked when joined) and lets drops be counted per subscriber: when a
 * subscriber's socket is full, the next event it does receive says how
 * many it lost. Set NETLINK_NO_ENOBUFS: drops are reported in-band.
 *
 * Dumps send messages of up to 64 KiB and events of up to 16 KiB: read
 * them with buffers at least that large, or they arrive truncated.
 *
 * A dump message holds, in address order, DEVEXCL_A_PAGE_INFOS arrays and,
 * with DEVEXCL_INSPECT_EMPTY_RUNS, DEVEXCL_A_EMPTY_RUN runs, then
 * DEVEXCL_A_CURSOR. Each array or run payload starts 8-byte aligned (after
 * a DEVEXCL_A_PAD attribute when needed). Without the flag, every page has
 * a record. A message covers at most DEVEXCL_DUMP_MAX_PAGES pages, so the
 * work done under the target's mmap_lock for one message stays bounded. A
 * run can end with one message and go on in the next.
 *
 * A DEVEXCL_CMD_EVENT message carries DEVEXCL_A_EVENTS, an array of
 * struct devexcl_event: revocations come in bursts of thousands (a CPU
 * touching a marked buffer), and one compact record per event keeps
 * delivery a small fraction of the revoking fault's cost.
 */
#define DEVEXCL_GENL_NAME "devexcl"
#define DEVEXCL_GENL_VERSION 1
#define DEVEXCL_DUMP_MAX_PAGES 8192

enum devexcl_genl_cmd {
	DEVEXCL_CMD_UNSPEC,
	DEVEXCL_CMD_EVENT,	/* kernel -> subscriber: one revocation batch */
	DEVEXCL_CMD_SUBSCRIBE,	/* optional FILTER_CTX_ID, FILTER_PID; replaces filters */
	DEVEXCL_CMD_UNSUBSCRIBE,
	DEVEXCL_CMD_INSPECT,	/* NLM_F_DUMP: PID, START, END [, CURSOR, FLAGS] */
	DEVEXCL_CMD_GET_STATS,	/* reply: STATS */
	/* PID, ADDR [, FLAGS: DEVEXCL_INSPECT_VMA_*]; reply: VMA [, ANON_VMA_CHAIN] (ABI 1.4) */
	DEVEXCL_CMD_INSPECT_VMA,
	__DEVEXCL_CMD_MAX,
};

#define DEVEXCL_CMD_MAX (__DEVEXCL_CMD_MAX - 1)

enum devexcl_genl_attr {
	DEVEXCL_A_UNSPEC,
	DEVEXCL_A_PAD,
	DEVEXCL_A_EVENTS,		/* binary: an array of struct devexcl_event */
	DEVEXCL_A_FILTER_CTX_ID,	/* u64 */
	DEVEXCL_A_FILTER_PID,		/* u32: only contexts acting on this process */
	DEVEXCL_A_PID,			/* u32: the process to inspect */
	DEVEXCL_A_START,		/* u64 */
	DEVEXCL_A_END,			/* u64 */
	DEVEXCL_A_CURSOR,		/* u64: where to resume, or next address */
	DEVEXCL_A_FLAGS,		/* u32: DEVEXCL_INSPECT_* */
	DEVEXCL_A_PAGE_INFOS,		/* binary: an array of struct devexcl_page_info */
	DEVEXCL_A_STATS,		/* nested enum devexcl_stat */
	DEVEXCL_A_EMPTY_RUN,		/* binary: struct devexcl_empty_run */
	DEVEXCL_A_ADDR,			/* u64: an address inside the VMA */
	DEVEXCL_A_VMA,			/* binary: struct devexcl_vma_info */
	/* binary: struct devexcl_anon_vma_info[], same_vma order, at most DEVEXCL_NL_MAX_CHAIN */
	DEVEXCL_A_ANON_VMA_CHAIN,
	__DEVEXCL_A_MAX,
};

#define DEVEXCL_A_MAX (__DEVEXCL_A_MAX - 1)

/**
 * struct devexcl_event - one revocation batch, as a subscriber receives it
 * @ctx_id: the context that lost the pages (its DEVEXCL_IOC_COUNTERS id)
 * @start: first revoked address
 * @end: end of the last revoked page
 * @npages: pages revoked
 * @seq: the context's revocation batch (see DEVEXCL_IOC_REVOCATIONS)
 * @timestamp_ns: CLOCK_MONOTONIC of the revocation
 * @dropped: events this receiver lost that no earlier event reported (the
 *	count rides on the first event sent after the loss, which may be
 *	older than the events lost)
 * @cause: enum devexcl_cause
 * @target_pid: the process the context acts on, in the receiver's pid
 *	namespace (0 if not visible there)
 * @trigger_pid: the thread group that caused it, in the receiver's pid
 *	namespace; 0 if unknown or not visible there. Both are the numbers
 *	the processes had: either may have exited since.
 * @reserved: zero
 * @trigger_comm: its command name, NUL terminated
 */
struct devexcl_event {
	__u64 ctx_id;
	__u64 start;
	__u64 end;
	__u64 npages;
	__u64 seq;
	__u64 timestamp_ns;
	__u64 dropped;
	__u32 cause;
	__u32 target_pid;
	__u32 trigger_pid;
	__u32 reserved;
	char trigger_comm[16];
};

/* A netlink VMA reply's chain fits a 64 KiB message: chain_len says if more. */
#define DEVEXCL_NL_MAX_CHAIN 1024

/**
 * struct devexcl_vma_info - a VMA, as DEVEXCL_CMD_INSPECT_VMA answers it
 * @vm_start: first address
 * @vm_end: end address
 * @vm_flags: VM_* of include/linux/mm.h
 * @vm_pgoff: its page offset
 * @anon_vma_id: its anon_vma, 0 if none yet
 * @mm_id: the address space's id
 * @chain_len: entries in its anon_vma_chain
 * @vma_lock: DEVEXCL_VMA_LOCK_*
 *
 * The same facts as DEVEXCL_IOC_INSPECT_VMA's out fields.
 */
struct devexcl_vma_info {
	__u64 vm_start;
	__u64 vm_end;
	__u64 vm_flags;
	__u64 vm_pgoff;
	__u64 anon_vma_id;
	__u64 mm_id;
	__u64 chain_len;
	__u64 vma_lock;
};

/**
 * struct devexcl_empty_run - consecutive pages with nothing behind them
 * @addr: the first page
 * @npages: pages in the run
 * @pte_kind: enum devexcl_pte_kind, the same for every page
 * @reserved0: zero
 * @pte_flags: DEVEXCL_PTEF_*, the same for every page
 *
 * The struct devexcl_page_info of each page would have been zero but for
 * its address, @pte_kind and @pte_flags: holes, addresses outside any VMA,
 * swap entries and markers, and entries of page frames devexcl cannot
 * inspect (or, walking rmaps, could not take a reference on) when the PFN
 * is not shown. Most of a sparse range is such pages, and a run carries
 * thousands of them in 24 bytes.
 */
struct devexcl_empty_run {
	__u64 addr;
	__u64 npages;
	__u8 pte_kind;
	__u8 reserved0[3];
	__u32 pte_flags;
};

/* Module-wide counters, u64 each, nested in DEVEXCL_A_STATS. */
enum devexcl_stat {
	DEVEXCL_STAT_UNSPEC,
	DEVEXCL_STAT_PAD,
	DEVEXCL_STAT_CONTEXTS_OPEN,
	DEVEXCL_STAT_CONTEXTS_TOTAL,
	DEVEXCL_STAT_PAGES_MARKED,
	DEVEXCL_STAT_PAGES_REVOKED,
	DEVEXCL_STAT_REVOCATIONS,
	DEVEXCL_STAT_DEVICE_OPS,
	DEVEXCL_STAT_SUBSCRIBERS,
	DEVEXCL_STAT_EVENTS_SENT,
	DEVEXCL_STAT_EVENTS_DROPPED,	/* per subscriber: socket full, or no memory */
	DEVEXCL_STAT_EVENTS_LOST,	/* per event: the event queue was full */
	DEVEXCL_STAT_DUMPS,
	DEVEXCL_STAT_DUMP_RECORDS,
	__DEVEXCL_STAT_MAX,
};

#define DEVEXCL_STAT_MAX (__DEVEXCL_STAT_MAX - 1)

#endif /* _UAPI_DEVEXCL_H */
