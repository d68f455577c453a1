// Where kernels differ in what the tests can observe: one row per
// behaviour, with the kernel change behind it, decided once, by the
// module's DEVEXCL_KFEAT_* bits where it can tell, else by one observation
// (a /proc quirk, say).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "devexcl/rmap_types.hpp"
#include "devexcl/types.hpp"

namespace devexcl::test {

enum class Behaviour {
    // /proc/kpageflags sets KPF_KSM on every anonymous page.
    KpageflagsKsmOnEveryAnonPage,
    // A device-exclusive page keeps its mapcount (kpagecount 1, not 0).
    MapcountKeptWhileExclusive,
    // A device-exclusive page of a VM_LOCKED VMA stays mlocked.
    MlockKeptWhileExclusive,
    // One device-exclusive entry kind: write-protection leaves it "write".
    ExclusiveEntryHasOneKind,
    // A CPU read restoring a write entry maps it dirty, hence soft-dirty.
    ReadRestoreSetsSoftDirty,
    // anon_vma_clone() gives the clone its source's chain in reverse order.
    CloneReversesAnonVmaChain,
    // A CPU fault on a held page runs under the VMA's read lock, not the mmap_lock.
    FaultOnHeldPageTakesVmaReadLock,
    // The per-VMA lock is vm_refcnt (readers counted in it), not an rwsem.
    VmaLockIsRefcount,
    // A COWed page of a private file mapping is indexed by the VMA's own anon offset.
    AnonIndexIsVmaAnonPgoff,
    // UFFDIO_MOVE of a device-exclusive page revokes it (clear), then fails with EFAULT.
    UffdMoveOfHeldPageRevokesThenFails,
    // UFFDIO_MOVE gives the folio the destination VMA's anon_vma, whatever its root.
    UffdMoveRehomesFolio,
    // UFFDIO_MOVE of a page shared with a fork child fails with EBUSY.
    UffdMoveOfSharedPageIsEbusy,
    // anon_vma_clone() retries a failed anon_vma_chain allocation once.
    CloneAbsorbsAFailedAllocation,
    // A fork reuses the first idle anon_vma of the parent's chain in
    // same_vma order (else the last, which is the oldest).
    ForkReusesFirstIdleAnonVmaInChainOrder,
};

// The kind of entry a held page's write entry becomes under write-protection.
PteKind write_protected_exclusive_kind();

// The same_vma order a clone of `source_chain` gets on this kernel.
template <typename Chain>
Chain cloned_chain_order(Chain source_chain);

// False if the running kernel lacks what row `b` is about (UFFDIO_MOVE
// before 6.8): the row then neither holds nor fails, and its cell says why.
bool behaviour_applies(Behaviour b);

// True if the running kernel shows `b` (never where it does not apply).
// The anon_vma of `parent_chain` (same_vma order, with its counters) that a
// fork gives the child's VMA on this kernel instead of a new one; 0 if none.
std::uint64_t anon_vma_reused_on_fork(const std::vector<AnonVmaInfo>& parent_chain);

// True if the running kernel shows `b`.
bool kernel_shows(Behaviour b);

// The row's value on this kernel, as the behaviour table prints it:
// "yes", "no", or "n/a: " and what the kernel lacks.
std::string behaviour_cell(Behaviour b);

// Every row, in table order (for reports).
std::vector<Behaviour> all_behaviours();

// The row's name and the kernel change behind it, for messages.
const char* behaviour_name(Behaviour b);
const char* behaviour_reason(Behaviour b);

template <typename Chain>
Chain cloned_chain_order(Chain source_chain) {
    if (kernel_shows(Behaviour::CloneReversesAnonVmaChain)) {
        std::reverse(source_chain.begin(), source_chain.end());
    }
    return source_chain;
}

}  // namespace devexcl::test
