// /proc/PID/pagemap and /proc/kpage* readers: the kernel's own view, used
// to cross-check what devexcl reports.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace devexcl::test {

struct PagemapEntry {
    std::uint64_t raw = 0;

    bool present() const { return (raw >> 63) & 1; }
    bool swap() const { return (raw >> 62) & 1; }
    bool file_or_shared_anon() const { return (raw >> 61) & 1; }
    bool uffd_wp() const { return (raw >> 57) & 1; }
    bool exclusively_mapped() const { return (raw >> 56) & 1; }
    bool soft_dirty() const { return (raw >> 55) & 1; }
    // PFN if present; swap type | offset << 5 if swapped (both only for CAP_SYS_ADMIN).
    std::uint64_t frame() const { return raw & ((1ULL << 55) - 1); }
    // The page frame of a present entry or of a PFN swap entry (device-exclusive, migration).
    std::uint64_t pfn() const { return present() ? frame() : frame() >> 5; }
};

// pid 0 reads /proc/self/pagemap.
std::vector<PagemapEntry> read_pagemap(std::uint64_t addr, std::size_t pages, pid_t pid = 0);
PagemapEntry read_pagemap_one(std::uint64_t addr, pid_t pid = 0);

std::uint64_t kpagecount(std::uint64_t pfn);
std::uint64_t kpageflags(std::uint64_t pfn);

// /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h, 6.1).
inline constexpr int kKpfLocked = 0;
inline constexpr int kKpfDirty = 4;
inline constexpr int kKpfLru = 5;
inline constexpr int kKpfMmap = 11;
inline constexpr int kKpfAnon = 12;
inline constexpr int kKpfSwapbacked = 14;
inline constexpr int kKpfHuge = 17;
inline constexpr int kKpfKsm = 21;
inline constexpr int kKpfThp = 22;
inline constexpr int kKpfZeroPage = 24;
inline constexpr int kKpfMlocked = 33;
// PG_anon_exclusive aliases PG_mappedtodisk on 6.1.
inline constexpr int kKpfAnonExclusive = 34;

inline bool has_flag(std::uint64_t flags, int bit) {
    return (flags >> bit) & 1;
}

}  // namespace devexcl::test
