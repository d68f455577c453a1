// The per-CPU batches in which the kernel defers LRU and mlock work
// (mm/swap.c, mm/mlock.c): a munlocked page keeps PG_mlocked until its
// CPU's batch drains. Draining them without compaction, which would also
// migrate the pages a test watches (7.x migrates mlocked device-exclusive
// pages; compact_unevictable_allowed is 1).
#pragma once

namespace devexcl::test {

// Drains the calling CPU's LRU and mlock batches: mlock(2) and munlock(2)
// of a scratch page each run mlock_vma_pages_range(), which calls
// lru_add_drain() (6.1 mm/mlock.c:385, 6.12 :447, 7.3 :448). Pin the
// thread (cpu_pin.hpp) so that this is the CPU whose batches it filled.
// Throws std::system_error with the errno of a failing call.
void drain_this_cpus_lru_batches();

}  // namespace devexcl::test
