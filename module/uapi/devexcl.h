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
#define DEVEXCL_ABI_MINOR 0

/* 0xDE is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define DEVEXCL_IOC_MAGIC 0xDE

/**
 * struct devexcl_version - answer of DEVEXCL_IOC_VERSION
 * @abi_major: DEVEXCL_ABI_MAJOR of the loaded module
 * @abi_minor: DEVEXCL_ABI_MINOR of the loaded module
 * @features: DEVEXCL_FEAT_* bits the module supports
 * @page_size: the kernel's PAGE_SIZE
 * @max_range_bytes: the largest range one range ioctl accepts
 * @reserved: zero
 */
struct devexcl_version {
	__u64 abi_major;
	__u64 abi_minor;
	__u64 features;
	__u64 page_size;
	__u64 max_range_bytes;
	__u64 reserved[3];
};

#define DEVEXCL_FEAT_EXCLUSIVE _BITULL(0) /* bind, mark, access, status, release */

#define DEVEXCL_IOC_VERSION _IOR(DEVEXCL_IOC_MAGIC, 0x00, struct devexcl_version)

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
 * group or has CAP_SYS_PTRACE. A context that holds pages cannot rebind.
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
};

#define DEVEXCL_MARK_RESULT_CODE(r) ((r) & 0xffU)
#define DEVEXCL_MARK_RESULT_ERRNO(r) (((r) >> 8) & 0xffU)

/**
 * struct devexcl_range_op - argument of DEVEXCL_IOC_MARK and DEVEXCL_IOC_RELEASE
 * @start: first byte of the range in the target
 * @length: bytes
 * @flags: zero
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
 * @seq: batch sequence number, from 1
 * @start: first revoked address
 * @end: end of the invalidated range that overlapped the device's pages
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
 * @latest_seq: out: the newest batch's sequence number (0: none yet)
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

#endif /* _UAPI_DEVEXCL_H */
