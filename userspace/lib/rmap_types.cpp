#include "devexcl/rmap_types.hpp"

#include "bit_names.hpp"

#include <array>
#include <utility>

namespace devexcl {

PageInfo PageInfo::from_raw(const devexcl_page_info& raw) {
    PageInfo p;
    p.addr = raw.addr;
    p.pte = static_cast<PteKind>(raw.pte_kind);
    p.pte_flags = raw.pte_flags;
    p.page_flags = raw.page_flags;
    p.mapping = static_cast<MappingKind>(raw.mapping_kind);
    p.folio_order = raw.folio_order;
    p.mapcount = raw.mapcount;
    p.folio_mapcount = raw.folio_mapcount;
    p.refcount = raw.refcount;
    p.index = raw.index;
    p.pfn = raw.pfn;
    p.anon_vma_id = raw.anon_vma_id;
    p.root_anon_vma_id = raw.root_anon_vma_id;
    p.rmap_flags = raw.rmap_flags;
    p.nr_mappings = raw.nr_mappings;
    p.nr_redacted = raw.nr_redacted;
    p.nr_returned = raw.nr_returned;
    return p;
}

std::string_view to_string(MappingKind k) {
    switch (k) {
        case MappingKind::None:
            return "none";
        case MappingKind::Anon:
            return "anon";
        case MappingKind::Ksm:
            return "ksm";
        case MappingKind::File:
            return "file";
        case MappingKind::Shmem:
            return "shmem";
        case MappingKind::Other:
            return "other";
    }
    return "unknown";
}

namespace {

constexpr std::array<std::pair<std::uint64_t, std::string_view>, 16> kPageFlags = {{
    {DEVEXCL_PAGE_ANON, "anon"},
    {DEVEXCL_PAGE_KSM, "ksm"},
    {DEVEXCL_PAGE_LARGE, "large"},
    {DEVEXCL_PAGE_THP, "thp"},
    {DEVEXCL_PAGE_HUGETLB, "hugetlb"},
    {DEVEXCL_PAGE_ZERO, "zero"},
    {DEVEXCL_PAGE_LRU, "lru"},
    {DEVEXCL_PAGE_LOCKED, "locked"},
    {DEVEXCL_PAGE_DIRTY, "dirty"},
    {DEVEXCL_PAGE_SWAPBACKED, "swapbacked"},
    {DEVEXCL_PAGE_MLOCKED, "mlocked"},
    {DEVEXCL_PAGE_ANON_EXCLUSIVE, "anon-exclusive"},
    {DEVEXCL_PAGE_SWAPCACHE, "swapcache"},
    {DEVEXCL_PAGE_HEAD, "head"},
    {DEVEXCL_PAGE_TAIL, "tail"},
    {DEVEXCL_PAGE_UNEVICTABLE, "unevictable"},
}};

constexpr std::array<std::pair<std::uint64_t, std::string_view>, 5> kRmapFlags = {{
    {DEVEXCL_RMAP_WALKED, "walked"},
    {DEVEXCL_RMAP_TRUNCATED, "truncated"},
    {DEVEXCL_RMAP_MAPCOUNT_MISMATCH, "mapcount-mismatch"},
    {DEVEXCL_RMAP_INCOMPLETE, "incomplete"},
    {DEVEXCL_RMAP_HAS_PAGE, "page"},
}};

// VM_* values of include/linux/mm.h (6.1, x86_64).
constexpr std::array<std::pair<std::uint64_t, std::string_view>, 12> kVmFlags = {{
    {0x1, "read"},
    {0x2, "write"},
    {0x4, "exec"},
    {0x8, "shared"},
    {0x100, "growsdown"},
    {0x200, "uffd-missing"},
    {0x2000, "locked"},
    {0x20000, "dontcopy"},
    {0x80000000, "mergeable"},
    {0x20000000, "hugepage"},
    {0x40000000, "nohugepage"},
    {0x400000, "hugetlb"},
}};

}  // namespace

std::string page_flags_string(std::uint64_t flags) {
    return detail::join_bits(flags, kPageFlags);
}
std::string rmap_flags_string(std::uint64_t flags) {
    return detail::join_bits(flags, kRmapFlags);
}
std::string vm_flags_string(std::uint64_t flags) {
    return detail::join_bits(flags, kVmFlags);
}

AnonVmaInfo AnonVmaInfo::from_raw(const devexcl_anon_vma_info& raw) {
    return {raw.id,           raw.root_id,         raw.parent_id,
            raw.num_children, raw.num_active_vmas, raw.refcount};
}

VmaInspection VmaInspection::from_raw(const devexcl_vma_info& raw) {
    VmaInspection v;
    v.start = raw.vm_start;
    v.end = raw.vm_end;
    v.flags = raw.vm_flags;
    v.pgoff = raw.vm_pgoff;
    v.anon_vma_id = raw.anon_vma_id;
    v.mm_id = raw.mm_id;
    v.chain_len = raw.chain_len;
    v.lock = VmaLock::from_raw(raw.vma_lock);
    return v;
}

VmaLock VmaLock::from_raw(std::uint64_t raw) {
    VmaLock l;
    l.present = (raw & DEVEXCL_VMA_LOCK_PRESENT) != 0;
    l.attached = (raw & DEVEXCL_VMA_LOCK_ATTACHED) != 0;
    l.writer = (raw & DEVEXCL_VMA_LOCK_WRITER) != 0;
    l.write_locked = (raw & DEVEXCL_VMA_LOCK_WRITE_LOCKED) != 0;
    l.readers = DEVEXCL_VMA_LOCK_READERS(raw);
    return l;
}

std::string to_string(const VmaLock& lock) {
    if (!lock.present) {
        return "no per-VMA locks";
    }
    std::string s = lock.attached ? "attached" : "detached";
    s += ", " + std::to_string(lock.readers) + (lock.readers == 1 ? " reader" : " readers");
    if (lock.writer) {
        s += ", writer excluding readers";
    }
    if (lock.write_locked) {
        s += ", write-locked";
    }
    return s;
}

}  // namespace devexcl
