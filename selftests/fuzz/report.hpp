// Counting calls and failures across the fuzzer's processes, and printing
// each failure with the call and its arguments so that it can be replayed.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "errno_set.hpp"

namespace devexcl::fuzz {

// Who made a call: each has its own KTAP result.
enum class Role { Ioctl, Netlink, Binder, Churn, Nobody, Count };

inline constexpr int kRoles = static_cast<int>(Role::Count);

std::string_view role_name(Role role);

// Lives in memory shared by every process of the run (see shared.hpp).
struct Tally {
    std::atomic<std::uint64_t> calls[kRoles];
    std::atomic<std::uint64_t> failures[kRoles];
    // Set by the main process when the time is up, or when a helper died.
    std::atomic<bool> stop;
};

class Report {
public:
    Report(Tally& tally, Role role) : tally_(tally), role_(role) {}
    ~Report() { flush(); }
    Report(const Report&) = delete;
    Report& operator=(const Report&) = delete;

    // One call into the module (an ioctl, a netlink message sent).
    void count_call() {
        if (++pending_calls_ == kFlushEvery) {
            flush();
        }
    }

    // Checks an answer against what the arguments allow; on a mismatch
    // prints `describe()` (the call and its arguments). True if allowed.
    template <typename Describe>
    bool check(int err, const Expect& expect, Describe&& describe) {
        if (expect.allows(err)) {
            return true;
        }
        fail(describe() + " -> " + errno_name(err) + ", allowed " + expect.str());
        return false;
    }

    // A failure of any other kind: a wrong result, a changed state.
    void fail(const std::string& what);
    // A diagnostic line, always printed.
    void note(const std::string& what);

    std::uint64_t failures() const { return local_failures_; }
    Role role() const { return role_; }
    bool stopping() const { return tally_.stop.load(std::memory_order_relaxed); }
    void flush();

private:
    static constexpr std::uint64_t kFlushEvery = 256;
    static constexpr std::uint64_t kPrintAtMost = 40;

    Tally& tally_;
    Role role_;
    std::uint64_t pending_calls_ = 0;
    std::uint64_t local_failures_ = 0;
};

// "0x7f12345000"
std::string hex(std::uint64_t value);

}  // namespace devexcl::fuzz
