// The churn process: it keeps mapping, unmapping, mprotecting, touching,
// MADV_DONTNEED-ing, forking (children exit at once) and move_pages()-ing
// its memory between the two fake NUMA nodes, including MADV_HUGEPAGE
// slots (THP), while the binder marks the same pages from another process.
//
// Its memory is a row of 2 MiB slots at a fixed address. Each slot has a
// generation in shared memory, odd while the churn changes the slot's
// mapping or protection, so the binder can tell exactly whether a range
// may have lost its VMA (or its access) during a call.
#pragma once

#include <atomic>
#include <cstdint>

namespace devexcl::fuzz {

enum class SlotKind : std::uint8_t { Anon, Thp, Shared };
enum class SlotState : std::uint8_t { Unmapped, Mapped, Protected };

inline constexpr std::uint64_t kChurnBase = 0x5c0000000000ULL;
inline constexpr std::uint64_t kSlotBytes = 2ULL << 20;
inline constexpr int kSlots = 16;

struct ChurnSlot {
    std::atomic<std::uint64_t> generation;
    std::atomic<SlotState> state;
    SlotKind kind;
};

struct ChurnTable {
    ChurnSlot slots[kSlots];
    std::atomic<std::int32_t> child;  // the latest forked child (it exits at once)
    std::atomic<bool> stop;
    std::atomic<std::uint64_t> ops;
    std::atomic<std::uint64_t> moved_pages;
    std::atomic<bool> ready;

    static std::uint64_t slot_start(int i) {
        return kChurnBase + kSlotBytes * static_cast<unsigned>(i);
    }
};

// Sets the slots' kinds (THP slots only with `thp`), then churns until
// table.stop. Runs in the forked churn process; returns its exit status.
int churn_main(ChurnTable& table, std::uint64_t seed, bool thp);

}  // namespace devexcl::fuzz
