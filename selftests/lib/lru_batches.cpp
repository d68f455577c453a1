#include "lru_batches.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"

namespace devexcl::test {

PinnedToThisCpu::PinnedToThisCpu() {
    if (::sched_getaffinity(0, sizeof(saved_), &saved_)) {
        throw_last_errno("sched_getaffinity");
    }
    cpu_ = ::sched_getcpu();
    if (cpu_ < 0) {
        throw_last_errno("sched_getcpu");
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu_, &one);
    if (::sched_setaffinity(0, sizeof(one), &one)) {
        throw_last_errno("sched_setaffinity");
    }
}

PinnedToThisCpu::~PinnedToThisCpu() {
    // Nothing to report from a destructor; the old mask was valid.
    (void)::sched_setaffinity(0, sizeof(saved_), &saved_);
}

void drain_this_cpus_lru_batches() {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    Mapping scratch(page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (::mlock(scratch.data(), page)) {
        throw_last_errno("mlock");
    }
    if (::munlock(scratch.data(), page)) {
        throw_last_errno("munlock");
    }
}

}  // namespace devexcl::test
