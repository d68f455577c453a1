#include "lru_batches.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"

namespace devexcl::test {

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
