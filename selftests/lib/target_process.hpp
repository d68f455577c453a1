// A child process holding memory of one kind, for tests that act on
// another process: it reports the memory's address and waits. A kind this
// kernel cannot provide gives a target that is skipped() and holds nothing.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "devexcl/unique_fd.hpp"
#include "memory_kinds.hpp"

namespace devexcl::test {

class TargetProcess {
public:
    explicit TargetProcess(MemoryKind kind);
    ~TargetProcess();
    TargetProcess(const TargetProcess&) = delete;
    TargetProcess& operator=(const TargetProcess&) = delete;

    // Lets the target check word 0 of its memory against the pattern and
    // exit (status 0 if it matched, 3 if not); returns its wait status.
    int finish();
    // Lets the target exit without touching its memory; returns its wait status.
    int exit_untouched();
    // SIGKILLs the target; returns its wait status.
    int kill_now();

    pid_t pid() const { return pid_; }
    bool skipped() const { return addr_ == 0; }
    std::uint64_t addr() const { return addr_; }
    std::size_t length() const { return length_; }
    std::size_t mark_pages() const { return mark_pages_; }

private:
    int release(char how);
    int reap();

    pid_t pid_ = -1;
    UniqueFd to_child_, from_child_;
    std::uint64_t addr_ = 0;
    std::size_t length_ = 0;
    std::size_t mark_pages_ = 0;
};

}  // namespace devexcl::test
