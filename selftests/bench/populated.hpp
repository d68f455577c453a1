// The memory the benchmarks measure on: private anonymous, small pages only
// (THP would make the page counts and the paths measured depend on
// alignment), every page faulted in before the clock starts.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"

namespace devexcl::bench {

inline const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

// `length` bytes, each page written once; every `stride`-th page if given.
inline Mapping populated(std::size_t length, std::size_t stride = 1,
                         int flags = MAP_PRIVATE | MAP_ANONYMOUS) {
    Mapping m(length, PROT_READ | PROT_WRITE, flags);
    if (::madvise(m.data(), length, MADV_NOHUGEPAGE) != 0) {
        throw_last_errno("madvise(MADV_NOHUGEPAGE)");
    }
    for (std::size_t off = 0; off < length; off += stride * kPage) {
        m.as<char>()[off] = 1;
    }
    return m;
}

}  // namespace devexcl::bench
