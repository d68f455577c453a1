// What rmap inspection reports: a page, its mappings, a VMA and its
// anon_vma_chain. Ids are keyed hashes of kernel objects, stable while the
// module stays loaded; never kernel addresses.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "devexcl/types.hpp"
#include "devexcl/uapi.hpp"

namespace devexcl {

enum class MappingKind : std::uint8_t {
    None = DEVEXCL_MAPPING_NONE,
    Anon = DEVEXCL_MAPPING_ANON,
    Ksm = DEVEXCL_MAPPING_KSM,
    File = DEVEXCL_MAPPING_FILE,
    Shmem = DEVEXCL_MAPPING_SHMEM,
    Other = DEVEXCL_MAPPING_OTHER,
};

struct PageInfo {
    std::uint64_t addr = 0;
    PteKind pte = PteKind::None;
    std::uint32_t pte_flags = 0;
    std::uint64_t page_flags = 0;  // DEVEXCL_PAGE_*
    MappingKind mapping = MappingKind::None;
    std::uint32_t folio_order = 0;
    std::int32_t mapcount = 0;
    std::int32_t folio_mapcount = 0;
    std::uint64_t refcount = 0;
    std::uint64_t index = 0;
    std::uint64_t pfn = 0;  // 0 unless the caller has CAP_SYS_ADMIN
    std::uint64_t anon_vma_id = 0;
    std::uint64_t root_anon_vma_id = 0;
    std::uint64_t rmap_flags = 0;  // DEVEXCL_RMAP_*
    std::uint64_t nr_mappings = 0;
    std::uint64_t nr_redacted = 0;
    std::uint64_t nr_returned = 0;

    static PageInfo from_raw(const devexcl_page_info& raw);
    bool has(std::uint64_t page_flag) const { return (page_flags & page_flag) != 0; }
    bool walked() const { return (rmap_flags & DEVEXCL_RMAP_WALKED) != 0; }
    bool mapcount_mismatch() const { return (rmap_flags & DEVEXCL_RMAP_MAPCOUNT_MISMATCH) != 0; }
    bool truncated() const { return (rmap_flags & DEVEXCL_RMAP_TRUNCATED) != 0; }
    bool has_page() const { return (rmap_flags & DEVEXCL_RMAP_HAS_PAGE) != 0; }
};

struct RmapEntry {
    pid_t pid = 0;
    pid_t tgid = 0;
    std::uint64_t vaddr = 0;
    PteKind pte = PteKind::None;
    std::uint32_t pte_flags = 0;
    bool redacted = false;
    std::uint64_t mm_id = 0;
    std::uint64_t anon_vma_id = 0;
    std::string comm;
};

struct PageInspection {
    PageInfo page;
    std::vector<RmapEntry> mappings;
};

struct AnonVmaInfo {
    std::uint64_t id = 0;
    std::uint64_t root_id = 0;
    std::uint64_t parent_id = 0;
    std::uint64_t num_children = 0;
    std::uint64_t num_active_vmas = 0;
    std::uint64_t refcount = 0;

    bool is_root() const { return id == root_id; }

    static AnonVmaInfo from_raw(const devexcl_anon_vma_info& raw);
};

// The per-VMA lock (DEVEXCL_VMA_LOCK_*), a snapshot read without taking it.
struct VmaLock {
    bool present = false;  // the kernel has per-VMA locks (6.4); else the rest is unset
    bool attached = false;
    bool writer = false;        // a writer holds it or waits for its readers
    bool write_locked = false;  // vm_lock_seq is the open mmap_lock write section's
    std::uint32_t readers = 0;

    static VmaLock from_raw(std::uint64_t raw);
};

// How INSPECT_VMA finds the VMA: under the mmap_lock (with the chain), or
// under RCU only, to see a VMA while a writer holds the mmap_lock.
enum class VmaLookup { UnderMmapLock, WithoutMmapLock };

struct VmaInspection {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t flags = 0;  // VM_* of include/linux/mm.h
    std::uint64_t pgoff = 0;
    std::uint64_t anon_vma_id = 0;
    std::uint64_t mm_id = 0;
    std::uint64_t chain_len = 0;
    std::vector<AnonVmaInfo> chain;  // same_vma order: newest first
    VmaLock lock;

    // The VMA's facts, as the ioctl and netlink both give them; no chain.
    static VmaInspection from_raw(const devexcl_vma_info& raw);
};

// "attached, 1 reader, writer waiting" or "no per-VMA locks".
std::string to_string(const VmaLock& lock);

std::string_view to_string(MappingKind k);
// "anon,lru,dirty,swapbacked" or "-".
std::string page_flags_string(std::uint64_t flags);
// "walked,mapcount-mismatch" or "-".
std::string rmap_flags_string(std::uint64_t flags);
// "read,write,mayread,...,mergeable" for the VM_* bits devexcl users care about.
std::string vm_flags_string(std::uint64_t flags);

}  // namespace devexcl
