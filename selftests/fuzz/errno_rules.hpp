// The README's errno rules, one function per ioctl: from an argument and
// the facts of the world it is used in, what the call may answer.
//
// A rule never reproduces the order of the module's checks: each defect of
// an argument adds its errno, and the call must fail with one of them. An
// argument without defects must succeed, unless a race it may lose (an
// unmapped range, an exited target) allows another errno too.
#pragma once

#include <cstdint>

#include "devexcl/uapi.hpp"
#include "errno_set.hpp"
#include "facts.hpp"

namespace devexcl::fuzz {

// A process a pid, pidfd or netlink attribute names, as devexcl_get_pid_mm()
// treats it: ESRCH gone or without an mm, EPERM without ptrace-level rights.
void process_rule(Expect& e, const ProcessFacts& process);
// What a pid field names, for the rules: checked as devexcl_get_target_mm()
// is documented (EINVAL out of range, ESRCH gone or no mm, EPERM no rights).
void pid_rule(Expect& e, std::uint64_t pid, const ProcessFacts& process);
// The README's range rule: EINVAL unaligned/empty/wrapping, E2BIG above
// the cap, EFAULT beyond the user address space.
void range_rule(Expect& e, std::uint64_t start, std::uint64_t length, const KernelFacts& k);
// The range passes range_rule().
bool range_valid(std::uint64_t start, std::uint64_t length, const KernelFacts& k);

Expect bind_rule(const devexcl_bind& req, std::uint64_t arg, const CallerMemory& mem,
                 const ProcessFacts& by_pid, const FdFacts& by_pidfd, Tri holds_pages,
                 const KernelFacts& k);

// `mapped`: the range lies in VMAs; `target_alive`: the context's target
// still has its address space.
Expect mark_rule(const devexcl_range_op& op, std::uint64_t arg, const CallerMemory& mem, Tri mapped,
                 Tri target_alive, const KernelFacts& k);
Expect release_rule(const devexcl_range_op& op, std::uint64_t arg, const CallerMemory& mem,
                    const KernelFacts& k);
Expect status_rule(const devexcl_status_req& req, std::uint64_t arg, const CallerMemory& mem,
                   const KernelFacts& k);

// The context's view of the page an access names.
struct HoldFacts {
    bool may_be_held = false;
    bool may_be_revoked = false;
    bool may_be_never_held = false;
};

// `reacquire`: what marking that page would answer (for REACQUIRE).
Expect access_rule(const devexcl_access& req, std::uint64_t arg, const CallerMemory& mem,
                   const HoldFacts& hold, const Expect& reacquire, Tri target_alive,
                   const KernelFacts& k);
Expect counters_rule(std::uint64_t arg, const CallerMemory& mem);
// `log_min`..`log_max`: how many batches the context's log may hold.
Expect revocations_rule(const devexcl_revocations& req, std::uint64_t arg, const CallerMemory& mem,
                        std::uint64_t log_min, std::uint64_t log_max);

// The page at req.addr: `mapped` in a VMA; `mappings_min`: mappings the
// rmap walk finds at least (0 for a page not faulted in).
Expect inspect_page_rule(const devexcl_inspect_page_req& req, std::uint64_t arg,
                         const CallerMemory& mem, const ProcessFacts& process, Tri mapped,
                         std::uint64_t mappings_min, const KernelFacts& k);
Expect inspect_range_rule(const devexcl_inspect_range_req& req, std::uint64_t arg,
                          const CallerMemory& mem, const ProcessFacts& process,
                          const KernelFacts& k);
// `chain_min`: entries of the VMA's anon_vma_chain at least.
Expect inspect_vma_rule(const devexcl_inspect_vma_req& req, std::uint64_t arg,
                        const CallerMemory& mem, const ProcessFacts& process, Tri mapped,
                        std::uint64_t chain_min, const KernelFacts& k);

// An ioctl number no handler knows: ENOTTY.
Expect unknown_ioctl_rule();

// Is `cmd` one of the module's ioctls, or one the VFS answers for every
// file (FIOCLEX, FIONBIO, ...)? The fuzzer sends neither as "unknown".
bool known_ioctl(unsigned int cmd);

// Does a per-page MARK result carry the errno its code is documented with?
bool mark_result_consistent(std::uint32_t raw);

}  // namespace devexcl::fuzz
