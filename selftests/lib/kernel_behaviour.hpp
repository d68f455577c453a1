// Where kernels differ in what the tests can observe: one row per
// behaviour, with the kernel change behind it, decided once, by the
// module's DEVEXCL_KFEAT_* bits where it can tell, else by one observation
// (a /proc quirk, say).
#pragma once

#include <algorithm>
#include <vector>

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
};

// The kind of entry a held page's write entry becomes under write-protection.
PteKind write_protected_exclusive_kind();

// The same_vma order a clone of `source_chain` gets on this kernel.
template <typename Chain>
Chain cloned_chain_order(Chain source_chain);

// True if the running kernel shows `b`.
bool kernel_shows(Behaviour b);

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
