// Kernel-side defects the fuzzer found, each reproduced by a minimal case
// of its own so the run can report it (a KTAP TODO result) and go on; see
// README, "Fuzzing".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace devexcl::fuzz {

// When make_device_exclusive_range() refuses the first page of a mark
// batch but takes later ones, the module records each page it took one
// index too low: record_held_locked() steps its fresh XA_STATE with
// xas_next() before storing anything, and xas_next() on a state that was
// never walked loads the same index instead of advancing. The device then
// "holds" the refused page with the next page's frame, and the last page
// taken keeps a device-exclusive entry nobody tracks.
//
// Reproduced by marking [p0, p1] of one private mapping again and again
// while another thread migrates p0 between the two NUMA nodes, so that its
// folio is locked now and then (a refusal: page-busy), for `budget`.
struct Reproduction {
    bool raced = false;       // a mark refused the first page and took the second
    bool reproduced = false;  // and recorded the second at the first one's index
    std::string detail;       // what was seen, either way
};

Reproduction refused_first_page_shifts_the_held_pages(std::uint64_t page_size,
                                                      std::chrono::milliseconds budget);

}  // namespace devexcl::fuzz
