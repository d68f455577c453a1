// Moving a page between NUMA nodes with move_pages(2), without libnuma.
// The test VM boots with numa=fake=2: nodes 0 and 1.
#pragma once

#include <cstdint>

namespace devexcl::test {

// The node of the page at `addr` in this process, or the negative errno
// move_pages reports for it (e.g. -ENOENT for a page not present).
int node_of(std::uint64_t addr);

// Moves the page at `addr` of this process to `node`; returns its node
// afterwards, or the negative errno move_pages reported for the page.
// Throws std::system_error if the call itself fails.
int move_page(std::uint64_t addr, int node);

// The other node of the two the test VM has.
inline int other_node(int node) {
    return node == 0 ? 1 : 0;
}

}  // namespace devexcl::test
