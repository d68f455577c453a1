// The processes and file descriptors that pid and pidfd fields name, with
// what the errno rules need to know about each: values the kernel must
// refuse (0, negative, above INT_MAX, nonexistent), a zombie, a kernel
// thread, init, the churn process and its short-lived children, and the
// caller itself; closed fds, fds that are not pidfds, and pidfds.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "devexcl/unique_fd.hpp"
#include "facts.hpp"
#include "rng.hpp"

namespace devexcl::fuzz {

struct PidChoice {
    std::uint64_t value = 0;
    ProcessFacts facts;
    std::string name;
};

struct FdChoice {
    std::uint64_t value = 0;
    FdFacts facts;
    std::string name;
    UniqueFd owned;  // a pidfd opened for this choice, closed with it
};

// A child that exits at once and is never reaped while the owner lives.
class Zombie {
public:
    Zombie();
    ~Zombie();
    Zombie(const Zombie&) = delete;
    Zombie& operator=(const Zombie&) = delete;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

class Processes {
public:
    // `root`: the caller has CAP_SYS_PTRACE. `zombie`, `churn`: pids owned
    // by root. `churn_child`: where the churn process publishes the pid
    // of its latest child (which exits at any time).
    Processes(bool root, pid_t zombie, pid_t churn, const std::atomic<std::int32_t>& churn_child);

    // A pid value for a pid field, with its facts.
    PidChoice pick(Rng& rng) const;
    // The caller itself `percent`% of the time, else pick().
    PidChoice pick_mostly_self(Rng& rng, unsigned percent) const;
    // Facts for a pid number the fuzzer did not choose from the book (a
    // random netlink attribute): existence checked now, the rest unknown.
    ProcessFacts facts_for(std::uint64_t pid) const;
    // A value for a pidfd field, with its facts.
    FdChoice pick_fd(Rng& rng) const;

    pid_t self() const { return self_; }
    pid_t churn() const { return churn_; }
    std::uint64_t pid_max() const { return pid_max_; }

private:
    ProcessFacts facts_of(pid_t pid) const;

    bool root_;
    pid_t self_;
    pid_t zombie_;
    pid_t churn_;
    const std::atomic<std::int32_t>& churn_child_;
    std::uint64_t pid_max_;
    UniqueFd eventfd_, memfd_, pipe_read_, pipe_write_, proc_file_;
    int closed_fd_ = -1;
};

}  // namespace devexcl::fuzz
