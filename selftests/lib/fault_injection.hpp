// The kernel's own fault injection (Documentation/fault-injection), to make
// a kernel allocation fail on purpose: failslab narrowed to one slab cache,
// and the per-thread triggers /proc/thread-self/fail-nth and make-it-fail.
// failslab's knobs are global, so a scope restores every one it touched
// however it is left, and arms them so that only a thread that asks fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "devexcl/unique_fd.hpp"

namespace devexcl::test {

// Why failslab cannot be narrowed to `cache` here, naming the kernel option
// that is missing; empty if it can.
std::string failslab_unavailable(const std::string& cache);

// While it lives, failslab considers only objects of `cache`, including
// GFP_KERNEL ones (ignore-gfp-wait off), and says nothing on the console
// (verbose 0: the console gate fails a run on a stack dump). Nothing fails
// unless a thread arms fail-nth, or sets make-it-fail after
// fail_tasks_after().
class CacheFailslab {
public:
    explicit CacheFailslab(const std::string& cache);
    ~CacheFailslab();
    CacheFailslab(const CacheFailslab&) = delete;
    CacheFailslab& operator=(const CacheFailslab&) = delete;

    // A make-it-fail thread gets its next `allocations` objects of the
    // cache, and every one after them fails: `space` is a byte budget that
    // each allocation takes object_size from, and fails once it is spent
    // (lib/fault-inject.c should_fail_ex()).
    void fail_tasks_after(unsigned allocations);
    // No make-it-fail thread fails any more.
    void stop_failing_tasks();

private:
    // Puts back every knob set, last set first.
    void restore() noexcept;
    // Writes `value` to `path`, keeping what was there first for the destructor.
    void set(const std::string& path, const std::string& value);

    struct Saved {
        std::string path;
        std::string value;
    };
    std::vector<Saved> saved_;  // in the order first set; restored in reverse
    std::uint64_t object_size_ = 0;
};

// The calling thread's own triggers, opened ahead so that arming them
// allocates nothing and maps nothing between the arming and the syscall.
// Both are cleared when it goes. Not copyable: it belongs to one thread.
class ThreadFaults {
public:
    ThreadFaults();
    ~ThreadFaults();
    ThreadFaults(const ThreadFaults&) = delete;
    ThreadFaults& operator=(const ThreadFaults&) = delete;

    // The thread's n-th allocation that failslab considers fails (0: none).
    void fail_nth(unsigned n);
    // What is left of the count: 0 once the failure was injected.
    unsigned fail_nth_left() const;
    // Whether failslab's task filter lets this thread fail.
    void make_it_fail(bool on);

private:
    UniqueFd fail_nth_, make_it_fail_;
};

}  // namespace devexcl::test
