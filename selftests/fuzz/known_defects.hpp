// Kernel-side defects the fuzzer found, each reproduced by a minimal case
// of its own so the run can report it (a KTAP TODO result) and go on. The
// fuzzing itself keeps clear of them where they would make its model of
// the device useless; see README, "Fuzzing".
#pragma once

#include <cstdint>
#include <string>

namespace devexcl::fuzz {

// MARK of [a shared page, a private page]: the module refuses the first
// and takes the second, but records the second as held at the first one's
// index (record_held_locked() steps its XA_STATE with xas_next() before
// any walk, which does not advance it). Returns what was seen if the
// defect reproduces, "" if the module recorded the pages where they are.
std::string refused_first_page_shifts_the_held_pages(std::uint64_t page_size);

}  // namespace devexcl::fuzz
