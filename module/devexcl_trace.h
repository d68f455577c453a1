/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devexcl's tracepoints, system "devexcl": marking batches, revocation
 * batches, device accesses, re-acquires and INSPECT dump messages.
 *
 * No event carries a kernel pointer. Contexts and address spaces appear
 * as the keyed-hash ids the ioctls report (objid.c): a context as
 * DEVEXCL_IOC_COUNTERS' context_id, an address space as INSPECT_VMA's
 * mm_id. Addresses are the target's user addresses.
 *
 * The points instantiate in trace.c. Without CONFIG_TRACEPOINTS every
 * trace_devexcl_*() call below compiles to nothing.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM devexcl

#if !defined(_DEVEXCL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DEVEXCL_TRACE_H

#include <linux/pid.h>
#include <linux/tracepoint.h>
#include <linux/types.h>

#include "devexcl.h"

/*
 * The enum values go into the events' format files as numbers, so that
 * perf, trace-cmd and bpftrace can decode the names without this header.
 */
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_NONE);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_CPU_FAULT);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_OTHER_DEVICE);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_CLEAR);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_UNMAP);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_PROTECTION_VMA);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_PROTECTION_PAGE);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_SOFT_DIRTY);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_RELEASE);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_MIGRATE);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_RELEASED);
TRACE_DEFINE_ENUM(DEVEXCL_CAUSE_UNKNOWN);
TRACE_DEFINE_ENUM(DEVEXCL_OP_READ);
TRACE_DEFINE_ENUM(DEVEXCL_OP_WRITE);
TRACE_DEFINE_ENUM(DEVEXCL_OP_ADD);
TRACE_DEFINE_ENUM(DEVEXCL_OP_XCHG);
TRACE_DEFINE_ENUM(DEVEXCL_OP_CMPXCHG);
TRACE_DEFINE_ENUM(DEVEXCL_PATH_HELD);
TRACE_DEFINE_ENUM(DEVEXCL_PATH_REACQUIRED);

/* Names as user space prints them (libdevexcl's to_string()). */
#define devexcl_show_cause(cause)					\
	__print_symbolic(cause,						\
			 { DEVEXCL_CAUSE_NONE, "none" },		\
			 { DEVEXCL_CAUSE_CPU_FAULT, "cpu-fault" },	\
			 { DEVEXCL_CAUSE_OTHER_DEVICE, "other-device" },	\
			 { DEVEXCL_CAUSE_CLEAR, "clear" },		\
			 { DEVEXCL_CAUSE_UNMAP, "unmap" },		\
			 { DEVEXCL_CAUSE_PROTECTION_VMA, "protection-vma" }, \
			 { DEVEXCL_CAUSE_PROTECTION_PAGE, "protection-page" }, \
			 { DEVEXCL_CAUSE_SOFT_DIRTY, "soft-dirty" },	\
			 { DEVEXCL_CAUSE_RELEASE, "release" },		\
			 { DEVEXCL_CAUSE_MIGRATE, "migrate" },		\
			 { DEVEXCL_CAUSE_RELEASED, "released" },	\
			 { DEVEXCL_CAUSE_UNKNOWN, "unknown" })

#define devexcl_show_op(op)						\
	__print_symbolic(op,						\
			 { DEVEXCL_OP_READ, "read" },			\
			 { DEVEXCL_OP_WRITE, "write" },			\
			 { DEVEXCL_OP_ADD, "add" },			\
			 { DEVEXCL_OP_XCHG, "xchg" },			\
			 { DEVEXCL_OP_CMPXCHG, "cmpxchg" })

#define devexcl_show_path(path)						\
	__print_symbolic(path,						\
			 { DEVEXCL_PATH_HELD, "held" },			\
			 { DEVEXCL_PATH_REACQUIRED, "reacquired" })

/**
 * devexcl_mark - one marking batch: a make_device_exclusive call and its retries
 * @ctx_id: the context
 * @mm_id: the target address space
 * @start: the batch's first address
 * @asked: pages the batch was given
 * @done: pages it decided, from @start: @converted + @refused (fewer than
 *	@asked where a VMA, a userfaultfd trap or a THP cut the batch; the
 *	next batch carries on there)
 * @converted: pages the device now holds
 * @refused: pages refused, each with its own result (see the MARK ioctl)
 * @attempts: tries, counting those a concurrent invalidation undid
 * @reacquire: the batch is a device fault re-taking a page (ACCESS with
 *	DEVEXCL_ACCESS_REACQUIRE), not a MARK
 * @ret: 0, or the errno that ended the whole call (-EINTR, -ENOMEM)
 */
TRACE_EVENT(devexcl_mark,
	    TP_PROTO(u64 ctx_id, u64 mm_id, unsigned long start,
		     unsigned long asked, unsigned long done,
		     unsigned long converted, unsigned long refused,
		     int attempts, bool reacquire, int ret),
	    TP_ARGS(ctx_id, mm_id, start, asked, done, converted, refused,
		    attempts, reacquire, ret),
	    TP_STRUCT__entry(__field(u64, ctx_id)
			     __field(u64, mm_id)
			     __field(unsigned long, start)
			     __field(unsigned long, asked)
			     __field(unsigned long, done)
			     __field(unsigned long, converted)
			     __field(unsigned long, refused)
			     __field(int, attempts)
			     __field(bool, reacquire)
			     __field(int, ret)
	    ),
	    TP_fast_assign(__entry->ctx_id = ctx_id;
			   __entry->mm_id = mm_id;
			   __entry->start = start;
			   __entry->asked = asked;
			   __entry->done = done;
			   __entry->converted = converted;
			   __entry->refused = refused;
			   __entry->attempts = attempts;
			   __entry->reacquire = reacquire;
			   __entry->ret = ret;
	    ),
	    TP_printk("ctx=%#llx mm=%#llx start=%#lx asked=%lu done=%lu converted=%lu refused=%lu attempts=%d reacquire=%d ret=%d",
		      __entry->ctx_id, __entry->mm_id, __entry->start,
		      __entry->asked, __entry->done, __entry->converted,
		      __entry->refused, __entry->attempts, __entry->reacquire,
		      __entry->ret)
);

/**
 * devexcl_revoke - one revocation batch, as DEVEXCL_IOC_REVOCATIONS logs it
 * @ctx_id: the context
 * @rec: the log record just written: batch @seq, @cause, [@start, @end)
 *	from the first to past the last revoked page, @npages, and the
 *	triggering thread group (its global pid)
 *
 * Fired for each batch the revocation log records, under the context's
 * lock: from the MMU notifier on the revoking path, and from RELEASE and
 * close (cause released).
 */
TRACE_EVENT(devexcl_revoke,
	    TP_PROTO(u64 ctx_id, const struct devexcl_revocation_rec *rec),
	    TP_ARGS(ctx_id, rec),
	    TP_STRUCT__entry(__field(u64, ctx_id)
			     __field(u64, seq)
			     __field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(unsigned long, npages)
			     __field(pid_t, trigger)
			     __field(u8, cause)
	    ),
	    TP_fast_assign(__entry->ctx_id = ctx_id;
			   __entry->seq = rec->seq;
			   __entry->start = rec->start;
			   __entry->end = rec->end;
			   __entry->npages = rec->npages;
			   __entry->trigger = pid_nr(rec->trigger);
			   __entry->cause = rec->cause;
	    ),
	    TP_printk("ctx=%#llx seq=%llu cause=%s start=%#lx end=%#lx npages=%lu trigger=%d",
		      __entry->ctx_id, __entry->seq,
		      devexcl_show_cause(__entry->cause),
		      __entry->start, __entry->end, __entry->npages,
		      __entry->trigger)
);

/**
 * devexcl_access - one DEVEXCL_IOC_ACCESS: a 64-bit device atomic
 * @ctx_id: the context
 * @req: the request as answered: @op, @addr, @value, @expected, @path
 *	(held, or reacquired by a device fault) and @result, the word's
 *	value before the operation
 * @ret: 0 or the ioctl's -errno (-ENOENT, -ESTALE without a hold; then
 *	@result is meaningless)
 */
TRACE_EVENT(devexcl_access,
	    TP_PROTO(u64 ctx_id, const struct devexcl_access *req, int ret),
	    TP_ARGS(ctx_id, req, ret),
	    TP_STRUCT__entry(__field(u64, ctx_id)
			     __field(u64, addr)
			     __field(u64, value)
			     __field(u64, expected)
			     __field(u64, result)
			     __field(u8, op)
			     __field(u8, path)
			     __field(int, ret)
	    ),
	    TP_fast_assign(__entry->ctx_id = ctx_id;
			   __entry->addr = req->addr;
			   __entry->value = req->value;
			   __entry->expected = req->expected;
			   __entry->result = req->result;
			   __entry->op = req->op;
			   __entry->path = req->path;
			   __entry->ret = ret;
	    ),
	    TP_printk("ctx=%#llx addr=%#llx op=%s value=%#llx expected=%#llx result=%#llx path=%s ret=%d",
		      __entry->ctx_id, __entry->addr,
		      devexcl_show_op(__entry->op),
		      __entry->value, __entry->expected, __entry->result,
		      devexcl_show_path(__entry->path),
		      __entry->ret)
);

/**
 * devexcl_reacquire - a device fault taking a page again
 * @ctx_id: the context
 * @addr: the page
 * @prev_seq: the revocation batch that took the page from the device, 0
 *	if the device never held it
 * @prev_cause: that batch's cause (none if never held)
 * @attempts: marks tried (page lock contention and concurrent
 *	invalidations are retried for HMM_RANGE_DEFAULT_TIMEOUT)
 * @ret: 0 once the device holds the page again, else the -errno of the
 *	page's last mark result
 *
 * This is how devexcl models re-marking after a revocation: an ACCESS with
 * DEVEXCL_ACCESS_REACQUIRE on a page it does not hold. Each attempt is
 * also a devexcl_mark batch with reacquire=1.
 */
TRACE_EVENT(devexcl_reacquire,
	    TP_PROTO(u64 ctx_id, unsigned long addr, u64 prev_seq, u8 prev_cause,
		     int attempts, int ret),
	    TP_ARGS(ctx_id, addr, prev_seq, prev_cause, attempts, ret),
	    TP_STRUCT__entry(__field(u64, ctx_id)
			     __field(u64, prev_seq)
			     __field(unsigned long, addr)
			     __field(int, attempts)
			     __field(int, ret)
			     __field(u8, prev_cause)
	    ),
	    TP_fast_assign(__entry->ctx_id = ctx_id;
			   __entry->prev_seq = prev_seq;
			   __entry->addr = addr;
			   __entry->attempts = attempts;
			   __entry->ret = ret;
			   __entry->prev_cause = prev_cause;
	    ),
	    TP_printk("ctx=%#llx addr=%#lx prev_seq=%llu prev_cause=%s attempts=%d ret=%d",
		      __entry->ctx_id, __entry->addr, __entry->prev_seq,
		      devexcl_show_cause(__entry->prev_cause),
		      __entry->attempts, __entry->ret)
);

/**
 * devexcl_dump - one message of a DEVEXCL_CMD_INSPECT dump
 * @pid: the target as the request named it (global pid number)
 * @mm_id: its address space
 * @from: the cursor the message starts at
 * @cursor: the cursor it ends with (DEVEXCL_A_CURSOR): where a resumed
 *	dump starts; @end when the dump is complete
 * @end: the dump's end
 * @pages: pages the message covers, @cursor - @from in pages
 * @records: of those, pages sent as struct devexcl_page_info
 * @runs: struct devexcl_empty_run attributes that carry the others
 * @ret: the message's length in bytes, or the -errno that ends the dump
 */
TRACE_EVENT(devexcl_dump,
	    TP_PROTO(pid_t pid, u64 mm_id, u64 from, u64 cursor, u64 end,
		     unsigned long pages, unsigned long records,
		     unsigned long runs, int ret),
	    TP_ARGS(pid, mm_id, from, cursor, end, pages, records, runs, ret),
	    TP_STRUCT__entry(__field(u64, mm_id)
			     __field(u64, from)
			     __field(u64, cursor)
			     __field(u64, end)
			     __field(unsigned long, pages)
			     __field(unsigned long, records)
			     __field(unsigned long, runs)
			     __field(pid_t, pid)
			     __field(int, ret)
	    ),
	    TP_fast_assign(__entry->mm_id = mm_id;
			   __entry->from = from;
			   __entry->cursor = cursor;
			   __entry->end = end;
			   __entry->pages = pages;
			   __entry->records = records;
			   __entry->runs = runs;
			   __entry->pid = pid;
			   __entry->ret = ret;
	    ),
	    TP_printk("pid=%d mm=%#llx from=%#llx cursor=%#llx end=%#llx pages=%lu records=%lu runs=%lu ret=%d",
		      __entry->pid, __entry->mm_id, __entry->from, __entry->cursor,
		      __entry->end, __entry->pages, __entry->records,
		      __entry->runs, __entry->ret)
);

#endif /* _DEVEXCL_TRACE_H */

/* define_trace.h finds this file again through CFLAGS_trace.o's -I. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE devexcl_trace
#include <trace/define_trace.h>
