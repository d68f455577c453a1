#include "process_chain.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "devexcl/error.hpp"
#include "devexcl/unique_fd.hpp"
#include "forked_child.hpp"

namespace devexcl::test {

// Shared by the test and every member (MAP_SHARED, mapped before the forks).
struct ProcessChain::Control {
    std::atomic<int> ready{0};
    std::atomic<int> setup_errno{0};  // a member could not map or fork
    std::atomic<int> release{0};
    std::atomic<pid_t> pids[kMax];
    std::atomic<std::uint64_t> addr{0};
    // Per member: page to write + 1 (0: nothing to do), the value, and an ack.
    std::atomic<std::uint64_t> write_page[kMax];
    std::atomic<std::uint64_t> write_value[kMax];
    std::atomic<int> write_done[kMax];
    // Per member: a step to run and its argument, its result, an ack.
    std::atomic<Step> run_step[kMax];
    std::atomic<std::uint64_t> run_arg[kMax];
    std::atomic<int> run_result[kMax];
    std::atomic<int> run_done[kMax];
    // Per member: exit now.
    std::atomic<int> leave[kMax];
};

namespace {

void pause_briefly() {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace

void ProcessChain::member(Control* c, int depth, std::size_t pages, bool forkers_exit,
                          std::uint64_t at) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* p = ::mmap(reinterpret_cast<void*>(at), pages * page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | (at != 0 ? MAP_FIXED_NOREPLACE : 0), -1, 0);
    if (p == MAP_FAILED) {
        c->setup_errno = errno;
        ::_exit(1);
    }
    for (std::size_t i = 0; i < pages; ++i) {
        static_cast<std::uint64_t*>(p)[i * page / 8] = 1000 + i;
    }
    c->addr = reinterpret_cast<std::uintptr_t>(p);
    auto* mem = static_cast<std::uint64_t*>(p);

    // Member `index` forks member `index + 1`; the child carries on as it.
    int index = 0;
    pid_t child = -1;
    for (;; ++index) {
        c->pids[index] = ::getpid();
        if (forkers_exit && index > 0) {
            // Go on only once the forker is gone: exit_mm() runs before the
            // reparenting, so its VMAs are unlinked from the anon_vmas by
            // then, and each generation sees a settled tree.
            const pid_t forker = c->pids[index - 1].load();
            while (::getppid() == forker) {
                pause_briefly();
            }
        }
        if (index + 1 == depth) {
            break;
        }
        child = ::fork();
        if (child < 0) {
            c->setup_errno = errno;
            ::_exit(1);
        }
        if (child == 0) {
            continue;
        }
        if (forkers_exit) {
            // Wait until the child runs with its copy of the mapping, then go.
            while (c->pids[index + 1].load() == 0) {
                pause_briefly();
            }
            ::_exit(0);
        }
        break;
    }
    if (!forkers_exit || index + 1 == depth) {
        c->ready.fetch_add(1);
    }
    while (c->release.load() == 0) {
        if (c->leave[index].load() != 0) {
            ::_exit(0);
        }
        std::uint64_t wp = c->write_page[index].exchange(0);
        if (wp != 0) {
            mem[(wp - 1) * page / 8] = c->write_value[index].load();
            c->write_done[index] = 1;
        }
        if (Step step = c->run_step[index].exchange(nullptr)) {
            int result = ForkedChild::kThrew;
            try {
                result = step(c->run_arg[index].load());
            } catch (...) {
                // Reported as kThrew: an exception must not end the member unacknowledged.
            }
            c->run_result[index] = result;
            c->run_done[index] = 1;
        }
        pause_briefly();
    }
    if (child > 0) {
        ::waitpid(child, nullptr, 0);
    }
    ::_exit(0);
}

ProcessChain::ProcessChain(int depth, std::size_t pages, bool forkers_exit, std::uint64_t at) {
    if (depth < 1 || depth > kMax) {
        throw std::invalid_argument("ProcessChain depth");
    }
    void* p =
        ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        throw_last_errno("mmap control");
    }
    control_ = new (p) Control();
    // Orphans of exiting forkers come back to the test, which reaps them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    first_ = ::fork();
    if (first_ < 0) {
        throw_last_errno("fork");
    }
    if (first_ == 0) {
        member(control_, depth, pages, forkers_exit, at);
    }
    const int expected = forkers_exit ? 1 : depth;
    while (control_->ready.load() < expected) {
        if (const int error = control_->setup_errno.load(); error != 0) {
            // The members before it are waiting for a release, then exit.
            control_->release = 1;
            ::waitpid(first_, nullptr, 0);
            ::munmap(control_, sizeof(Control));
            throw std::system_error(error, std::generic_category(), "ProcessChain member setup");
        }
        pause_briefly();
    }
    for (int i = forkers_exit ? depth - 1 : 0; i < depth; ++i) {
        pids_.push_back(control_->pids[i].load());
    }
    addr_ = control_->addr.load();
}

ProcessChain::~ProcessChain() {
    control_->release = 1;
    // P0 is our child; members whose parent exited were reparented to us
    // (the subreaper). Others are reaped by their parents: ECHILD here.
    for (int i = 0; i < kMax; ++i) {
        pid_t pid = control_->pids[i].load();
        if (pid > 0) {
            ::waitpid(pid, nullptr, 0);
        }
    }
    ::munmap(control_, sizeof(Control));
}

int ProcessChain::slot(int index) const {
    if (pids_.size() != 1) {
        return index;
    }
    // With forkers_exit the one live member sits in its generation's slot.
    int slot = 0;
    while (slot < kMax && control_->pids[slot].load() != pids_[0]) {
        ++slot;
    }
    return slot;
}

void ProcessChain::write(int index, std::size_t page, std::uint64_t value) {
    const int s = slot(index);
    control_->write_done[s] = 0;
    control_->write_value[s] = value;
    control_->write_page[s] = page + 1;
    while (control_->write_done[s].load() == 0) {
        pause_briefly();
    }
}

int ProcessChain::run(int index, Step step, std::uint64_t arg) {
    const int s = slot(index);
    control_->run_done[s] = 0;
    control_->run_arg[s] = arg;
    control_->run_step[s] = step;
    while (control_->run_done[s].load() == 0) {
        pause_briefly();
    }
    return control_->run_result[s].load();
}

void ProcessChain::leave(int index) {
    const int s = slot(index);
    // Its parent, not the test, may reap it, so wait on a pidfd: it polls
    // readable once the task has passed exit_notify(), which do_exit()
    // calls after exit_mm() (6.1 kernel/exit.c:874,899; 7.3 :974,999).
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, control_->pids[s].load(), 0)));
    if (!pidfd) {
        throw_last_errno("pidfd_open");
    }
    control_->leave[s] = 1;
    pollfd exited{pidfd.get(), POLLIN, 0};
    while (::poll(&exited, 1, -1) < 0) {
        if (errno != EINTR) {
            throw_last_errno("poll pidfd");
        }
    }
}

}  // namespace devexcl::test
