#include "numa.hpp"

#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "devexcl/error.hpp"
#include "sysfs.hpp"

namespace devexcl::test {

int online_nodes() {
    // A list of ranges, "0" or "0-1" (or "0,2-3" on sparse machines).
    const std::string list = read_file("/sys/devices/system/node/online");
    int count = 0;
    std::size_t pos = 0;
    while (pos < list.size() && list[pos] != '\n') {
        std::size_t used = 0;
        const int first = std::stoi(list.substr(pos), &used);
        pos += used;
        int last = first;
        if (pos < list.size() && list[pos] == '-') {
            last = std::stoi(list.substr(pos + 1), &used);
            pos += used + 1;
        }
        count += last - first + 1;
        if (pos < list.size() && list[pos] == ',') {
            ++pos;
        }
    }
    return count;
}

std::vector<int> move_pages_to(const std::vector<std::uint64_t>& addrs, int node) {
    std::vector<void*> pages;
    pages.reserve(addrs.size());
    for (std::uint64_t a : addrs) {
        pages.push_back(reinterpret_cast<void*>(a));
    }
    std::vector<int> nodes(addrs.size(), node);
    std::vector<int> status(addrs.size(), 0);
    // 0 or the number of pages not moved; only -1 is a failure of the call.
    if (::syscall(SYS_move_pages, 0, pages.size(), pages.data(), nodes.data(), status.data(),
                  MPOL_MF_MOVE) < 0) {
        throw_last_errno("move_pages");
    }
    return status;
}

int node_of(std::uint64_t addr) {
    void* pages[1] = {reinterpret_cast<void*>(addr)};
    int status[1] = {0};
    if (::syscall(SYS_move_pages, 0, 1, pages, nullptr, status, 0) < 0) {
        throw_last_errno("move_pages (query)");
    }
    return status[0];
}

}  // namespace devexcl::test
