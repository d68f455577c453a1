#include "processes.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "devexcl/error.hpp"
#include "lib/sysfs.hpp"

namespace devexcl::fuzz {

namespace {

constexpr pid_t kInit = 1;
constexpr pid_t kKthreadd = 2;
// Closed for the whole run: fds are allocated lowest first, and the
// fuzzer never has this many open.
constexpr int kClosedFd = 1000;

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

Zombie::Zombie() {
    pid_ = ::fork();
    if (pid_ < 0) {
        throw_last_errno("fork zombie");
    }
    if (pid_ == 0) {
        ::_exit(0);
    }
}

Zombie::~Zombie() {
    if (pid_ > 0) {
        ::waitpid(pid_, nullptr, 0);
    }
}

Processes::Processes(bool root, pid_t zombie, pid_t churn,
                     const std::atomic<std::int32_t>& churn_child)
    : root_(root),
      self_(::getpid()),
      zombie_(zombie),
      churn_(churn),
      churn_child_(churn_child),
      pid_max_(static_cast<std::uint64_t>(test::read_number("/proc/sys/kernel/pid_max"))),
      eventfd_(::eventfd(0, EFD_CLOEXEC)),
      memfd_(::memfd_create("devexcl-fuzz-notpidfd", MFD_CLOEXEC)),
      proc_file_(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw_last_errno("pipe");
    }
    pipe_read_.reset(fds[0]);
    pipe_write_.reset(fds[1]);
    if (::fcntl(kClosedFd, F_GETFD) != -1) {
        throw_errno(EEXIST, "fd 1000 is open");
    }
    closed_fd_ = kClosedFd;
}

ProcessFacts Processes::facts_of(pid_t pid) const {
    ProcessFacts f;
    f.exists = true;
    f.has_mm = pid != kKthreadd && pid != zombie_;
    f.may_act = root_ || pid == self_;
    return f;
}

ProcessFacts Processes::facts_for(std::uint64_t pid) const {
    if (pid == static_cast<std::uint64_t>(self_) || pid == kInit || pid == kKthreadd ||
        pid == static_cast<std::uint64_t>(zombie_) || pid == static_cast<std::uint64_t>(churn_)) {
        return facts_of(static_cast<pid_t>(pid));
    }
    ProcessFacts f;
    if (pid == 0 || pid > pid_max_) {
        return f;  // cannot exist
    }
    // Some other process, maybe: it may come and go, have an mm or not.
    f.exists = ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
    f.has_mm = f.exists;
    f.may_act = root_;
    f.may_exit = true;
    f.unsure = true;
    return f;
}

PidChoice Processes::pick(Rng& rng) const {
    PidChoice c;
    switch (rng.below(12)) {
        case 0:
        case 1:
        case 2:
            c = {static_cast<std::uint64_t>(self_), facts_of(self_), "self"};
            break;
        case 3:
            c = {kInit, facts_of(kInit), "init"};
            break;
        case 4:
            c = {kKthreadd, facts_of(kKthreadd), "kthreadd"};
            break;
        case 5:
            c = {static_cast<std::uint64_t>(zombie_), facts_of(zombie_), "zombie"};
            break;
        case 6:
            c = {static_cast<std::uint64_t>(churn_), facts_of(churn_), "churn"};
            break;
        case 7: {
            const pid_t child = churn_child_.load();
            c = {static_cast<std::uint64_t>(child), facts_of(child), "churn-child"};
            c.facts.may_exit = true;  // and its number may be reused
            if (child <= 0) {
                c.facts = {};
            }
            break;
        }
        case 8:
            c = {rng.between(pid_max_ + 1, INT_MAX), {}, "nonexistent"};
            break;
        case 9:
            c = {0, {}, "zero"};
            break;
        case 10:
            // Negative, above INT_MAX, or a valid pid above 32 bits (must
            // not be truncated into one).
            c = {rng.pick<std::uint64_t>({~0ULL, static_cast<std::uint64_t>(-2), 1ULL << 31,
                                          (1ULL << 32) + static_cast<std::uint64_t>(self_),
                                          0xffffffffULL, 1ULL << 63}),
                 {},
                 "out-of-range"};
            break;
        default:
            c = {rng.interesting(), {}, "random"};
            c.facts = facts_for(c.value);
            break;
    }
    return c;
}

PidChoice Processes::pick_mostly_self(Rng& rng, unsigned percent) const {
    if (rng.percent(percent)) {
        return {static_cast<std::uint64_t>(self_), facts_of(self_), "self"};
    }
    return pick(rng);
}

FdChoice Processes::pick_fd(Rng& rng) const {
    FdChoice c;
    auto not_pidfd = [&](int fd, const char* name) {
        c.value = static_cast<std::uint64_t>(fd);
        c.facts.kind = FdKind::NotPidfd;
        c.name = name;
    };
    auto pidfd_of = [&](pid_t pid, const char* name) {
        c.owned.reset(pidfd_open(pid));
        if (!c.owned) {  // gone already: its number is then just closed
            c.value = static_cast<std::uint64_t>(closed_fd_);
            c.facts.kind = FdKind::Closed;
            c.name = std::string(name) + "-gone";
            return;
        }
        c.value = static_cast<std::uint64_t>(c.owned.get());
        c.facts.kind = FdKind::Pidfd;
        c.facts.process = facts_of(pid);
        c.name = std::string("pidfd-") + name;
    };
    switch (rng.below(12)) {
        case 0:
        case 1:
            pidfd_of(self_, "self");
            break;
        case 2:
            pidfd_of(kInit, "init");
            break;
        case 3:
            pidfd_of(zombie_, "zombie");
            break;
        case 4:
            pidfd_of(churn_, "churn");
            break;
        case 5: {
            const pid_t child = churn_child_.load();
            if (child > 0) {
                pidfd_of(child, "churn-child");
                c.facts.process.may_exit = true;
            } else {
                pidfd_of(self_, "self");
            }
            break;
        }
        case 6:
            c.value = static_cast<std::uint64_t>(closed_fd_);
            c.facts.kind = FdKind::Closed;
            c.name = "closed";
            break;
        case 7:
            not_pidfd(eventfd_.get(), "eventfd");
            break;
        case 8:
            not_pidfd(memfd_.get(), "memfd");
            break;
        case 9:
            not_pidfd(rng.percent(50) ? pipe_read_.get() : proc_file_.get(), "pipe-or-file");
            break;
        case 10:
            c.value = rng.pick<std::uint64_t>({~0ULL, 1ULL << 31, 1ULL << 32, 1ULL << 40});
            c.name = "out-of-range";
            break;
        default:
            // Not open: fds that high are never allocated here.
            c.value = rng.between(100000, INT_MAX);
            c.facts.kind = FdKind::Closed;
            c.name = "unopened";
            break;
    }
    return c;
}

}  // namespace devexcl::fuzz
