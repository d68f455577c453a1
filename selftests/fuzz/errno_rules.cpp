#include "errno_rules.hpp"

#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>

namespace devexcl::fuzz {

namespace {

constexpr std::uint64_t kIntMax = INT_MAX;

void target_rule(Expect& e, Tri target_alive) {
    if (target_alive == Tri::No) {
        e.defect(ESRCH);
    } else if (target_alive == Tri::Maybe) {
        e.allow(ESRCH);
    }
}

void mapped_rule(Expect& e, Tri mapped) {
    if (mapped == Tri::No) {
        e.defect(EFAULT);
    } else if (mapped == Tri::Maybe) {
        e.allow(EFAULT);
    }
}

// An output the kernel writes n bytes of; it must fail if it cannot.
void output_rule(Expect& e, const CallerMemory& mem, std::uint64_t ptr, std::uint64_t n) {
    if (!mem.writable(ptr, n)) {
        e.defect(EFAULT);
    }
}

// The argument struct: read first; `written` if the call writes it back.
bool argument_readable(Expect& e, const CallerMemory& mem, std::uint64_t arg, std::uint64_t size) {
    if (!mem.readable(arg, size)) {
        e.defect(EFAULT);
        return false;
    }
    return true;
}

// 6.1's access_ok(): the range lies below TASK_SIZE_MAX.
bool access_ok(std::uint64_t ptr, std::uint64_t n, const KernelFacts& k) {
    return n <= k.task_size_max && ptr <= k.task_size_max - n;
}

}  // namespace

void process_rule(Expect& e, const ProcessFacts& p) {
    if (p.unsure) {
        e.allow(ESRCH);
        if (!p.may_act) {
            e.defect(EPERM);
        }
        return;
    }
    if (!p.exists) {
        e.defect(ESRCH);
    } else if (!p.may_act) {
        e.defect(EPERM);
    } else if (!p.has_mm) {
        e.defect(ESRCH);
    }
    if (p.may_exit) {
        e.allow(ESRCH);
    }
}

void pid_rule(Expect& e, std::uint64_t pid, const ProcessFacts& process) {
    if (pid == 0 || pid > kIntMax) {
        e.defect(EINVAL);
        return;
    }
    process_rule(e, process);
}

bool range_valid(std::uint64_t start, std::uint64_t length, const KernelFacts& k) {
    Expect e;
    range_rule(e, start, length, k);
    return e.may_succeed;
}

void range_rule(Expect& e, std::uint64_t start, std::uint64_t length, const KernelFacts& k) {
    if (length == 0 || start % k.page_size != 0 || length % k.page_size != 0) {
        e.defect(EINVAL);
    }
    if (start + length < start) {
        e.defect(EINVAL);
    } else if (length > k.max_range) {
        e.defect(E2BIG);
    } else if (start + length > k.task_size_max) {
        e.defect(EFAULT);
    }
}

Expect bind_rule(const devexcl_bind& req, std::uint64_t arg, const CallerMemory& mem,
                 const ProcessFacts& by_pid, const FdFacts& by_pidfd, Tri holds_pages,
                 const KernelFacts&) {
    Expect e;
    if (!argument_readable(e, mem, arg, sizeof(req))) {
        return e;
    }
    if ((req.flags & ~DEVEXCL_BIND_PIDFD) != 0 || req.reserved != 0) {
        e.defect(EINVAL);
    }
    if (req.flags & DEVEXCL_BIND_PIDFD) {
        if (req.pid != 0 || req.pidfd > kIntMax) {
            e.defect(EINVAL);
        } else if (by_pidfd.kind == FdKind::Closed) {
            e.defect(EBADF);
        } else if (by_pidfd.kind == FdKind::NotPidfd) {
            e.defect(EINVAL);
        } else {
            process_rule(e, by_pidfd.process);
        }
    } else if (req.pidfd != 0 || req.pid == 0 || req.pid > kIntMax) {
        e.defect(EINVAL);
    } else {
        process_rule(e, by_pid);
    }
    if (holds_pages == Tri::Yes) {
        e.defect(EBUSY);
    } else if (holds_pages == Tri::Maybe) {
        e.allow(EBUSY);
    }
    return e;
}

Expect mark_rule(const devexcl_range_op& op, std::uint64_t arg, const CallerMemory& mem, Tri mapped,
                 Tri target_alive, const KernelFacts& k) {
    Expect e;
    // The argument is read, then checked writable before anything is marked.
    if (!argument_readable(e, mem, arg, sizeof(op)) || !mem.writable(arg, sizeof(op))) {
        return e.defect(EFAULT);
    }
    std::uint64_t unknown_flags = op.flags;
    if (op.flags & DEVEXCL_MARK_ALLOW_KERNEL_BUGS) {
        // Admin only. (The fuzzer never sets it as root: see mark_flags().)
        unknown_flags &= ~static_cast<std::uint64_t>(DEVEXCL_MARK_ALLOW_KERNEL_BUGS);
        if (!k.root) {
            e.defect(EPERM);
        }
    }
    if (unknown_flags != 0 || op.reserved != 0) {
        e.defect(EINVAL);
    }
    range_rule(e, op.start, op.length, k);
    if (op.results != 0 && range_valid(op.start, op.length, k)) {
        output_rule(e, mem, op.results, op.length / k.page_size * sizeof(std::uint32_t));
    }
    target_rule(e, target_alive);
    mapped_rule(e, mapped);
    return e;
}

Expect release_rule(const devexcl_range_op& op, std::uint64_t arg, const CallerMemory& mem,
                    const KernelFacts& k) {
    Expect e;
    if (!argument_readable(e, mem, arg, sizeof(op)) || !mem.writable(arg, sizeof(op))) {
        return e.defect(EFAULT);
    }
    if (op.flags != 0 || op.reserved != 0 || op.results != 0) {
        e.defect(EINVAL);
    }
    range_rule(e, op.start, op.length, k);
    return e;
}

Expect status_rule(const devexcl_status_req& req, std::uint64_t arg, const CallerMemory& mem,
                   const KernelFacts& k) {
    Expect e;
    if (!argument_readable(e, mem, arg, sizeof(req))) {
        return e;
    }
    if (req.flags != 0 || req.reserved != 0) {
        e.defect(EINVAL);
    }
    range_rule(e, req.start, req.length, k);
    if (range_valid(req.start, req.length, k)) {
        output_rule(e, mem, req.entries, req.length / k.page_size * sizeof(devexcl_page_status));
    }
    return e;
}

Expect access_rule(const devexcl_access& req, std::uint64_t arg, const CallerMemory& mem,
                   const HoldFacts& hold, const Expect& reacquire, Tri target_alive,
                   const KernelFacts& k) {
    Expect e;
    // Written back: checked writable before anything is accessed.
    if (!argument_readable(e, mem, arg, sizeof(req)) || !mem.writable(arg, sizeof(req))) {
        return e.defect(EFAULT);
    }
    if (req.op < DEVEXCL_OP_READ || req.op > DEVEXCL_OP_CMPXCHG ||
        (req.flags & ~DEVEXCL_ACCESS_REACQUIRE) != 0 || req.reserved != 0 || req.addr % 8 != 0) {
        e.defect(EINVAL);
    }
    if (req.addr >= k.task_size_max) {
        e.defect(EFAULT);
    }
    if (!e.may_succeed) {
        return e;
    }
    // What the page's state lets the access answer.
    Expect state;
    state.may_succeed = hold.may_be_held;
    if (req.flags & DEVEXCL_ACCESS_REACQUIRE) {
        if (hold.may_be_revoked || hold.may_be_never_held) {
            Expect taken = reacquire;
            target_rule(taken, target_alive);
            state.errors |= taken.errors;
            state.may_succeed = state.may_succeed || taken.may_succeed;
        }
    } else {
        if (hold.may_be_revoked) {
            state.allow(ESTALE);
        }
        if (hold.may_be_never_held) {
            state.allow(ENOENT);
        }
    }
    return state;
}

Expect counters_rule(std::uint64_t arg, const CallerMemory& mem) {
    Expect e;
    output_rule(e, mem, arg, sizeof(devexcl_counters));
    return e;
}

Expect revocations_rule(const devexcl_revocations& req, std::uint64_t arg, const CallerMemory& mem,
                        std::uint64_t log_min, std::uint64_t log_max) {
    Expect e;
    if (!argument_readable(e, mem, arg, sizeof(req))) {
        return e;
    }
    if (req.reserved != 0) {
        return e.defect(EINVAL);
    }
    const std::uint64_t n_min = std::min<std::uint64_t>(req.count, log_min);
    const std::uint64_t n_max = std::min<std::uint64_t>(req.count, log_max);
    if (!mem.writable(req.records, n_min * sizeof(devexcl_revocation))) {
        e.defect(EFAULT);
    } else if (!mem.writable(req.records, n_max * sizeof(devexcl_revocation))) {
        e.allow(EFAULT);
    }
    output_rule(e, mem, arg, sizeof(req));
    return e;
}

Expect inspect_page_rule(const devexcl_inspect_page_req& req, std::uint64_t arg,
                         const CallerMemory& mem, const ProcessFacts& process, Tri mapped,
                         std::uint64_t mappings_min, const KernelFacts& k) {
    Expect e;
    if (!argument_readable(e, mem, arg, sizeof(req))) {
        return e;
    }
    const bool entries_valid =
        req.max_entries <= DEVEXCL_MAX_RMAP_ENTRIES && (req.max_entries == 0 || req.entries != 0);
    if (req.flags != 0 || req.reserved != 0 || !entries_valid) {
        e.defect(EINVAL);
    }
    if (req.addr >= k.task_size_max) {
        e.defect(EFAULT);
    }
    pid_rule(e, req.pid, process);
    mapped_rule(e, mapped);
    if (entries_valid && req.max_entries > 0) {
        const std::uint64_t entry = sizeof(devexcl_rmap_entry);
        const std::uint64_t sure = std::min<std::uint64_t>(mappings_min, req.max_entries);
        if (!mem.writable(req.entries, sure * entry)) {
            e.defect(EFAULT);
        } else if (!mem.writable(req.entries, req.max_entries * entry)) {
            e.allow(EFAULT);  // depends on how many mappings the walk finds
        }
    }
    output_rule(e, mem, arg, sizeof(req));
    return e;
}

Expect inspect_range_rule(const devexcl_inspect_range_req& req, std::uint64_t arg,
                          const CallerMemory& mem, const ProcessFacts& process,
                          const KernelFacts& k) {
    Expect e;
    if (!argument_readable(e, mem, arg, sizeof(req))) {
        return e;
    }
    const bool max_valid = req.max_records != 0 && req.max_records <= DEVEXCL_MAX_RANGE_RECORDS;
    if ((req.flags & ~DEVEXCL_INSPECT_WALK_RMAP) != 0 || req.reserved != 0 || !max_valid) {
        e.defect(EINVAL);
    }
    range_rule(e, req.start, req.length, k);
    const std::uint64_t record = sizeof(devexcl_page_info);
    if (max_valid && !access_ok(req.records, req.max_records * record, k)) {
        e.defect(EFAULT);
    }
    pid_rule(e, req.pid, process);
    if (range_valid(req.start, req.length, k)) {
        const std::uint64_t end = req.start + req.length;
        const std::uint64_t cursor = req.cursor != 0 ? req.cursor : req.start;
        if (cursor % k.page_size != 0 || cursor < req.start || cursor > end) {
            e.defect(EINVAL);
        } else if (max_valid) {
            const std::uint64_t n =
                std::min<std::uint64_t>((end - cursor) / k.page_size, req.max_records);
            output_rule(e, mem, req.records, n * record);
        }
    }
    output_rule(e, mem, arg, sizeof(req));
    return e;
}

Expect inspect_vma_rule(const devexcl_inspect_vma_req& req, std::uint64_t arg,
                        const CallerMemory& mem, const ProcessFacts& process, Tri mapped,
                        std::uint64_t chain_min, const KernelFacts& k) {
    Expect e;
    if (!argument_readable(e, mem, arg, sizeof(req))) {
        return e;
    }
    const bool chain_valid =
        req.max_chain <= DEVEXCL_MAX_RMAP_ENTRIES && (req.max_chain == 0 || req.chain != 0);
    const bool unlocked = req.flags & DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK;
    // vma_lock is out only (a reserved zero before ABI 1.4): its input is not checked.
    if ((req.flags & ~DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK) != 0 || !chain_valid ||
        (unlocked && req.max_chain != 0)) {
        e.defect(EINVAL);
    }
    if (req.addr >= k.task_size_max) {
        e.defect(EFAULT);
    }
    pid_rule(e, req.pid, process);
    if (unlocked && !k.per_vma_lock) {
        e.defect(EOPNOTSUPP);
    }
    mapped_rule(e, mapped);
    if (chain_valid && req.max_chain > 0) {
        const std::uint64_t entry = sizeof(devexcl_anon_vma_info);
        if (!mem.writable(req.chain, std::min<std::uint64_t>(chain_min, req.max_chain) * entry)) {
            e.defect(EFAULT);
        } else if (!mem.writable(req.chain, req.max_chain * entry)) {
            e.allow(EFAULT);
        }
    }
    output_rule(e, mem, arg, sizeof(req));
    return e;
}

Expect unknown_ioctl_rule() {
    return Expect{}.defect(ENOTTY);
}

bool known_ioctl(unsigned int cmd) {
    static constexpr std::array<unsigned int, 29> known = {
        DEVEXCL_IOC_VERSION,
        DEVEXCL_IOC_BIND,
        DEVEXCL_IOC_MARK,
        DEVEXCL_IOC_RELEASE,
        DEVEXCL_IOC_STATUS,
        DEVEXCL_IOC_ACCESS,
        DEVEXCL_IOC_COUNTERS,
        DEVEXCL_IOC_REVOCATIONS,
        DEVEXCL_IOC_BUSY,
        DEVEXCL_IOC_INSPECT_PAGE,
        DEVEXCL_IOC_INSPECT_RANGE,
        DEVEXCL_IOC_INSPECT_VMA,
        // fs/ioctl.c answers these for every file before the driver.
        FIOCLEX,
        FIONCLEX,
        FIONBIO,
        FIOASYNC,
        FIOQSIZE,
        FIFREEZE,
        FITHAW,
        FS_IOC_FIEMAP,
        FIGETBSZ,
        FICLONE,
        FICLONERANGE,
        FIDEDUPERANGE,
        FIONREAD,
        FS_IOC_GETFLAGS,
        FS_IOC_SETFLAGS,
        FS_IOC_FSGETXATTR,
        FS_IOC_FSSETXATTR,
    };
    return std::find(known.begin(), known.end(), cmd) != known.end();
}

bool mark_result_consistent(std::uint32_t raw) {
    const std::uint32_t code = DEVEXCL_MARK_RESULT_CODE(raw);
    const int err = static_cast<int>(DEVEXCL_MARK_RESULT_ERRNO(raw));
    if (raw >> 16 != 0) {
        return false;
    }
    switch (code) {
        case DEVEXCL_MARK_NOT_REACHED:
            return raw == 0;
        case DEVEXCL_MARK_MARKED:
        case DEVEXCL_MARK_ALREADY_HELD:
            return err == 0;
        case DEVEXCL_MARK_THP_TAIL:
        case DEVEXCL_MARK_NOT_ANON:
        case DEVEXCL_MARK_HUGETLB:
            return err == EOPNOTSUPP;
        case DEVEXCL_MARK_PAGE_BUSY:
            return err == EBUSY;
        case DEVEXCL_MARK_NOT_MAPPED:
        case DEVEXCL_MARK_USERFAULTFD:
            return err == EFAULT;
        case DEVEXCL_MARK_GUP_FAILED:
            return err != 0;
        case DEVEXCL_MARK_NOT_CONVERTED:
        case DEVEXCL_MARK_RETRIES_EXHAUSTED:
            return err == EAGAIN;
        case DEVEXCL_MARK_THP_KERNEL_BUG:
            return err == EOPNOTSUPP;
        default:
            return false;
    }
}

}  // namespace devexcl::fuzz
