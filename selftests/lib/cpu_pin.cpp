#include "cpu_pin.hpp"

#include "devexcl/error.hpp"

namespace devexcl::test {

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof(set), &set)) {
        throw_last_errno("sched_setaffinity");
    }
}

PinnedToThisCpu::PinnedToThisCpu() {
    if (::sched_getaffinity(0, sizeof(saved_), &saved_)) {
        throw_last_errno("sched_getaffinity");
    }
    const int cpu = ::sched_getcpu();
    if (cpu < 0) {
        throw_last_errno("sched_getcpu");
    }
    pin_to_cpu(cpu);
}

PinnedToThisCpu::~PinnedToThisCpu() {
    // Nothing to report from a destructor; the old mask was valid.
    (void)::sched_setaffinity(0, sizeof(saved_), &saved_);
}

}  // namespace devexcl::test
