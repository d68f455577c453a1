#include "pagemap.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "devexcl/error.hpp"
#include "devexcl/unique_fd.hpp"

namespace devexcl::test {

namespace {

std::uint64_t read_u64_at(const char* path, std::uint64_t index) {
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open", path);
    }
    std::uint64_t value = 0;
    if (::pread(fd.get(), &value, sizeof(value), static_cast<off_t>(index * sizeof(value))) !=
        static_cast<ssize_t>(sizeof(value))) {
        throw_last_errno("pread", path);
    }
    return value;
}

}  // namespace

std::vector<PagemapEntry> read_pagemap(std::uint64_t addr, std::size_t pages, pid_t pid) {
    std::string path =
        pid == 0 ? "/proc/self/pagemap" : "/proc/" + std::to_string(pid) + "/pagemap";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open", path);
    }
    std::vector<PagemapEntry> out(pages);
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    ssize_t want = static_cast<ssize_t>(pages * sizeof(PagemapEntry));
    if (::pread(fd.get(), out.data(), static_cast<size_t>(want),
                static_cast<off_t>(addr / page * sizeof(PagemapEntry))) != want) {
        throw_last_errno("pread", path);
    }
    return out;
}

PagemapEntry read_pagemap_one(std::uint64_t addr, pid_t pid) {
    return read_pagemap(addr, 1, pid).at(0);
}

std::uint64_t kpagecount(std::uint64_t pfn) {
    return read_u64_at("/proc/kpagecount", pfn);
}

std::uint64_t kpageflags(std::uint64_t pfn) {
    return read_u64_at("/proc/kpageflags", pfn);
}

}  // namespace devexcl::test
