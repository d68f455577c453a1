// What the errno rules need to know about the world a call is made in:
// the caller's memory (for pointer arguments), the target's address space,
// and the processes and file descriptors that pid and pidfd fields name.
#pragma once

#include <cstdint>

namespace devexcl::fuzz {

enum class Tri { No, Yes, Maybe };

// The caller's memory, for the pointers an argument carries.
class CallerMemory {
public:
    virtual ~CallerMemory() = default;
    // The kernel can copy n bytes from / to ptr (n == 0: always).
    virtual bool readable(std::uint64_t ptr, std::uint64_t n) const = 0;
    virtual bool writable(std::uint64_t ptr, std::uint64_t n) const = 0;
};

// The address space a call acts on (the context's target, or an inspected pid).
class TargetSpace {
public:
    virtual ~TargetSpace() = default;
    // Is every page of [start, end) inside a VMA for the whole call?
    // Maybe: the target changed its mappings meanwhile.
    virtual Tri mapped(std::uint64_t start, std::uint64_t end) const = 0;
};

// A process a pid or pidfd field names, as the caller sees it.
struct ProcessFacts {
    bool exists = false;    // find_get_pid() finds it
    bool has_mm = false;    // a live user address space (no zombie, no kernel thread)
    bool may_act = false;   // same thread group as the caller, or caller has CAP_SYS_PTRACE
    bool may_exit = false;  // it may exit during the call (ESRCH is a race then)
    bool unsure = false;    // a number the fuzzer knows nothing about: it may be any process
};

// What a pidfd field names.
enum class FdKind { Closed, NotPidfd, Pidfd };

struct FdFacts {
    FdKind kind = FdKind::Closed;
    ProcessFacts process;  // for a pidfd
};

// Constants of the running kernel and module.
struct KernelFacts {
    std::uint64_t page_size = 4096;
    std::uint64_t task_size_max = 0;  // TASK_SIZE_MAX: 2^47 or 2^56 less a page
    std::uint64_t max_range = 0;      // the per-call range cap
    bool root = true;                 // the caller has CAP_SYS_ADMIN and CAP_SYS_PTRACE
    bool thp_kernel_bug = false;      // DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE: THPs are refused
    bool per_vma_lock = false;        // DEVEXCL_KFEAT_PER_VMA_LOCK: VMAs found without mmap_lock
};

}  // namespace devexcl::fuzz
