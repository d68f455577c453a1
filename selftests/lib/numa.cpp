#include "numa.hpp"

#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devexcl/error.hpp"

namespace devexcl::test {

namespace {

int move_pages_one(std::uint64_t addr, const int* node, int flags) {
    void* pages[1] = {reinterpret_cast<void*>(addr)};
    int status[1] = {0};
    if (::syscall(SYS_move_pages, 0, 1, pages, node, status, flags) != 0) {
        throw_last_errno(node != nullptr ? "move_pages" : "move_pages (query)");
    }
    return status[0];
}

}  // namespace

int node_of(std::uint64_t addr) {
    return move_pages_one(addr, nullptr, 0);
}

int move_page(std::uint64_t addr, int node) {
    return move_pages_one(addr, &node, MPOL_MF_MOVE);
}

}  // namespace devexcl::test
