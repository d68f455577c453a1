// NUMA placement of this process's pages through move_pages(2), without
// libnuma. The test VM boots with numa=fake=2: nodes 0 and 1.
#pragma once

#include <cstdint>
#include <vector>

namespace devexcl::test {

// The number of online NUMA nodes (from /sys/devices/system/node/online).
int online_nodes();

// move_pages(2) of this process's pages at `addrs` to `node`, with
// MPOL_MF_MOVE (pages mapped by one process only). Returns each page's
// status: the node it is on now, or -errno (-ENOENT: not present, e.g. a
// device-exclusive entry; -EACCES: mapped by more than one process;
// -EBUSY: it could not be moved now). Throws std::system_error if the call
// itself fails.
std::vector<int> move_pages_to(const std::vector<std::uint64_t>& addrs, int node);

// One page of move_pages_to().
inline int move_page(std::uint64_t addr, int node) {
    return move_pages_to({addr}, node)[0];
}

// The node of the page at `addr` in this process, or the negative errno
// move_pages reports for it (move_pages' query mode).
int node_of(std::uint64_t addr);

// The other node of the two the test VM has.
inline int other_node(int node) {
    return node == 0 ? 1 : 0;
}

}  // namespace devexcl::test
