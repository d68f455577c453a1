// Pinning the calling thread to one CPU, for tests and benchmarks whose
// result depends on which CPU's per-CPU state the kernel uses.
#pragma once

#include <sched.h>

namespace devexcl::test {

// Pins the calling thread to `cpu`. Throws std::system_error.
void pin_to_cpu(int cpu);

// Pins the calling thread to the CPU it runs on for the object's lifetime;
// restores the affinity it found.
class PinnedToThisCpu {
public:
    PinnedToThisCpu();
    ~PinnedToThisCpu();
    PinnedToThisCpu(const PinnedToThisCpu&) = delete;
    PinnedToThisCpu& operator=(const PinnedToThisCpu&) = delete;

private:
    cpu_set_t saved_{};
};

}  // namespace devexcl::test
