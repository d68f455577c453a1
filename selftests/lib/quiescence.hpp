// Grace periods for a fixed set of worker threads, as RCU gives readers:
// a thread that retires something (say, a range it is about to munmap)
// waits until every worker has passed a quiescent point, between two of
// its operations, after the retirement. No worker can then still be using
// what was retired, and none will pick it up again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "wait.hpp"

namespace devexcl::test {

class Quiescence {
public:
    explicit Quiescence(std::size_t workers) : seen_(workers) {}

    // Worker `w` is between operations: it uses nothing retired before now.
    // Its next operation must read what it may use only after this call.
    void quiescent(std::size_t w) { seen_[w].store(epoch_.load()); }
    // Worker `w` has stopped for good: nobody waits for it any more.
    void offline(std::size_t w) { seen_[w].store(std::numeric_limits<std::uint64_t>::max()); }

    // Worker `w` for a scope: offline when the scope ends, however it ends
    // (a worker that throws must not leave a retiring thread waiting).
    class Participant {
    public:
        Participant(Quiescence& q, std::size_t w) : q_(q), w_(w) {}
        ~Participant() { q_.offline(w_); }
        Participant(const Participant&) = delete;
        Participant& operator=(const Participant&) = delete;

    private:
        Quiescence& q_;
        std::size_t w_;
    };

    // Call after retiring (with a seq_cst store that workers read after
    // quiescent()). Waits until every worker has passed a quiescent point
    // since; false if that took longer than `timeout` (a worker is stuck).
    bool synchronize(std::chrono::milliseconds timeout) {
        const std::uint64_t epoch = epoch_.fetch_add(1) + 1;
        return wait_until(
            [&] {
                for (const auto& s : seen_) {
                    if (s.load() < epoch) {
                        return false;
                    }
                }
                return true;
            },
            timeout);
    }

private:
    // All seq_cst: a worker that saw the new epoch also sees the retirement.
    std::atomic<std::uint64_t> epoch_{0};
    std::vector<std::atomic<std::uint64_t>> seen_;
};

}  // namespace devexcl::test
