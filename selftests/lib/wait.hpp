// Bounded waits for state another process or the kernel reaches on its
// own: never a timed assertion, the bound only ends a wait that failed.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace devexcl::test {

// Polls `done` every `step` until it holds or `timeout` has passed;
// returns whether it held.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = std::chrono::milliseconds(1)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(step);
    }
    return true;
}

}  // namespace devexcl::test
