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

}  // namespace devexcl::test
