#include "kernel_behaviour.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <stdexcept>
#include <system_error>

#include "devexcl/uapi.hpp"
#include "kernel_features.hpp"
#include "pagemap.hpp"

namespace devexcl::test {

namespace {

// A fresh, written, private anonymous page: never KSM-merged (not MADV_MERGEABLE).
bool fresh_anon_page_has_kpf_ksm() {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        throw std::system_error(errno, std::generic_category(), "mmap");
    }
    *static_cast<volatile std::uint64_t*>(p) = 1;
    const auto addr = reinterpret_cast<std::uint64_t>(p);
    const bool ksm = has_flag(kpageflags(read_pagemap_one(addr).pfn()), kKpfKsm);
    ::munmap(p, 4096);
    return ksm;
}

struct Row {
    Behaviour id;
    const char* name;
    const char* reason;
    bool (*observe)();
    // The DEVEXCL_KFEAT_* bit the row is about, 0 for none, and its
    // absence in words, for the cell of a kernel without it.
    std::uint64_t needs = 0;
    const char* without = nullptr;
};

constexpr const char* kNoUffdioMove = "no UFFDIO_MOVE (6.8)";
bool has_uffdio_move() {
    return kernel_does(DEVEXCL_KFEAT_UFFDIO_MOVE);
}

constexpr Row kRows[] = {
    {Behaviour::KpageflagsKsmOnEveryAnonPage, "kpageflags-ksm-on-every-anon-page",
     "6.12's stable_page_flags() tests mapping & PAGE_MAPPING_KSM, which is ANON|MOVABLE, so "
     "every anon page reads as KSM; 6.1 tests PageKsm() and 7.x folio_test_ksm()",
     fresh_anon_page_has_kpf_ksm},
    {Behaviour::MapcountKeptWhileExclusive, "mapcount-kept-while-exclusive",
     "6.15's make_device_exclusive() keeps the rmap and mapcount of the page it converts; "
     "make_device_exclusive_range() (to 6.14) drops them with page_remove_rmap()",
     [] { return kernel_does(DEVEXCL_KFEAT_EXCLUSIVE_KEEPS_MAPCOUNT); }},
    {Behaviour::MlockKeptWhileExclusive, "mlock-kept-while-exclusive",
     "to 6.14 conversion's page_remove_rmap() munlocks a VM_LOCKED page and the restore's "
     "page_add_anon_rmap() mlocks it again; 6.15 keeps the rmap, and with it the mlock",
     [] { return kernel_does(DEVEXCL_KFEAT_EXCLUSIVE_KEEPS_MAPCOUNT); }},
    {Behaviour::ExclusiveEntryHasOneKind, "exclusive-entry-has-one-kind",
     "6.15 replaced SWP_DEVICE_EXCLUSIVE_READ/WRITE by SWP_DEVICE_EXCLUSIVE, so mprotect and "
     "uffd-wp no longer turn a write entry into a read entry",
     [] { return kernel_does(DEVEXCL_KFEAT_EXCLUSIVE_ONE_KIND); }},
    {Behaviour::ReadRestoreSetsSoftDirty, "read-restore-sets-soft-dirty",
     "to 6.14 restore_exclusive_pte() maps a write entry pte_mkdirty(), soft-dirty on x86; the "
     "6.15 rework maps it writable (and dirty) only where can_change_pte_writable() allows, "
     "which soft-dirty tracking forbids",
     [] { return !kernel_does(DEVEXCL_KFEAT_EXCLUSIVE_PER_PAGE); }},
    {Behaviour::CloneReversesAnonVmaChain, "clone-reverses-anon-vma-chain",
     "7.0's anon_vma_clone() rework walks the source chain forward and list_add()s each copy "
     "at the head, so fork, split and mremap reverse it; to 6.19 the walk is "
     "list_for_each_entry_reverse(), which keeps the order",
     [] { return kernel_does(DEVEXCL_KFEAT_ANON_VMA_CLONE_REWORK); }},
    {Behaviour::FaultOnHeldPageTakesVmaReadLock, "fault-on-held-page-takes-vma-read-lock",
     "6.4's per-VMA locks: lock_vma_under_rcu() handles the fault, and do_swap_page()'s "
     "remove_device_exclusive_entry() notifies the device, under the VMA's read lock; 6.1 "
     "takes the mmap_lock for reading",
     [] { return kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK); }},
    {Behaviour::VmaLockIsRefcount, "vma-lock-is-vm-refcnt",
     "6.15 replaced the per-VMA rwsem with vm_refcnt: 0 detached, 1 attached, one more per "
     "reader, and a writer excludes readers with VM_REFCNT_EXCLUDE_READERS_FLAG (7.x's name for "
     "6.15's VMA_LOCK_OFFSET) instead of queueing on the rwsem",
     [] { return kernel_does(DEVEXCL_KFEAT_VMA_REFCNT); }, DEVEXCL_KFEAT_PER_VMA_LOCK,
     "no per-VMA locks (6.4)"},
    {Behaviour::AnonIndexIsVmaAnonPgoff, "anon-index-is-vma-anon-pgoff",
     "7.x gives each VMA an anonymous page offset of its own (vma_start_anon_pgoff()), the "
     "address in pages where it was first faulted: a COWed page of a MAP_PRIVATE file mapping "
     "is indexed, and the anon_vma tree keyed, by it; to 6.19 both use the file offset "
     "(vm_pgoff)",
     [] { return kernel_does(DEVEXCL_KFEAT_VMA_ANON_PGOFF); }},
    // What UFFDIO_MOVE does is the feature's own semantics, the same on
    // every kernel that has it: the bit decides these rows, and the
    // uffd_move tests observe each on every such kernel.
    {Behaviour::UffdMoveOfHeldPageRevokesThenFails, "uffd-move-of-held-page-revokes-then-efault",
     "6.8's move_pages_pte() starts an MMU_NOTIFY_CLEAR over the source before it looks at the "
     "entry, then refuses a device-exclusive entry (neither swap nor migration) with EFAULT: the "
     "device loses the page, as clear, and nothing moves",
     has_uffdio_move, DEVEXCL_KFEAT_UFFDIO_MOVE, kNoUffdioMove},
    {Behaviour::UffdMoveRehomesFolio, "uffd-move-rehomes-folio",
     "6.8's move_present_pte() moves an exclusive anon folio itself: folio_move_anon_rmap() "
     "points it at the destination VMA's anon_vma, whatever its root, and its index becomes the "
     "destination's linear page index; one mapping, mapcount 1",
     has_uffdio_move, DEVEXCL_KFEAT_UFFDIO_MOVE, kNoUffdioMove},
    {Behaviour::UffdMoveOfSharedPageIsEbusy, "uffd-move-of-shared-page-ebusy",
     "6.8's move_pages_pte() moves only PageAnonExclusive folios: a page still shared with a "
     "fork child fails with EBUSY, and both processes keep mapping it",
     has_uffdio_move, DEVEXCL_KFEAT_UFFDIO_MOVE, kNoUffdioMove},
    {Behaviour::CloneAbsorbsAFailedAllocation, "clone-absorbs-a-failed-allocation",
     "to 6.19 anon_vma_clone() allocates each anon_vma_chain with GFP_NOWAIT under the root's "
     "rwsem and, if that fails, drops the lock and retries with GFP_KERNEL, so one injected "
     "failure (fail-nth) is absorbed; 7.0's rework allocates them all with GFP_KERNEL before "
     "taking the lock, and the first failure fails the clone",
     [] { return !kernel_does(DEVEXCL_KFEAT_ANON_VMA_CLONE_REWORK); }},
    {Behaviour::ForkReusesFirstIdleAnonVmaInChainOrder,
     "fork-reuses-first-idle-anon-vma-in-chain-order",
     "7.0's anon_vma_clone() offers the parent's anon_vmas for reuse in same_vma order and "
     "takes the first idle one (no VMA, at most one child); to 6.19 it walks the chain "
     "backwards, root first, and takes the last one in same_vma order, the oldest",
     [] { return kernel_does(DEVEXCL_KFEAT_ANON_VMA_CLONE_REWORK); }},
};

const Row& row(Behaviour b) {
    for (const Row& r : kRows) {
        if (r.id == b) {
            return r;
        }
    }
    throw std::logic_error("no row for a kernel behaviour");
}

}  // namespace

bool behaviour_applies(Behaviour b) {
    const Row& r = row(b);
    return r.needs == 0 || kernel_does(r.needs);
}

bool kernel_shows(Behaviour b) {
    static bool observed[std::size(kRows)];
    static bool known[std::size(kRows)];
    const std::size_t i = static_cast<std::size_t>(b);
    if (!known[i]) {
        observed[i] = behaviour_applies(b) && row(b).observe();
        known[i] = true;
    }
    return observed[i];
}

std::string behaviour_cell(Behaviour b) {
    if (!behaviour_applies(b)) {
        return std::string("n/a: ") + row(b).without;
    }
    return kernel_shows(b) ? "yes" : "no";
}

const char* behaviour_name(Behaviour b) {
    return row(b).name;
}
const char* behaviour_reason(Behaviour b) {
    return row(b).reason;
}

std::vector<Behaviour> all_behaviours() {
    std::vector<Behaviour> all;
    for (const Row& r : kRows) {
        all.push_back(r.id);
    }
    return all;
}

std::uint64_t anon_vma_reused_on_fork(const std::vector<AnonVmaInfo>& parent_chain) {
    // Reusable: no VMA uses it and it has at most one child, which never
    // holds for the root (it counts itself): 6.1 mm/rmap.c:310-313, 7.3
    // mm/rmap.c:274-290.
    auto idle = [](const AnonVmaInfo& a) { return a.num_active_vmas == 0 && a.num_children < 2; };
    if (kernel_shows(Behaviour::ForkReusesFirstIdleAnonVmaInChainOrder)) {
        auto it = std::find_if(parent_chain.begin(), parent_chain.end(), idle);
        return it == parent_chain.end() ? 0 : it->id;
    }
    auto it = std::find_if(parent_chain.rbegin(), parent_chain.rend(), idle);
    return it == parent_chain.rend() ? 0 : it->id;
}

PteKind write_protected_exclusive_kind() {
    return kernel_shows(Behaviour::ExclusiveEntryHasOneKind) ? PteKind::DeviceExclusiveWrite
                                                             : PteKind::DeviceExclusiveRead;
}

}  // namespace devexcl::test
