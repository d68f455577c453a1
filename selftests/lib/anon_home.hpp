// Where the rmap files an exclusive anonymous page mapped in a VMA: the
// VMA's own anon_vma, that anon_vma's root, and the page's index, which is
// the address's linear page index in the VMA (linear_page_index()).
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

#include "devexcl/device.hpp"

namespace devexcl::test {

struct AnonHome {
    std::uint64_t vm_start = 0;
    std::uint64_t vm_end = 0;
    std::uint64_t vm_pgoff = 0;
    std::uint64_t anon_vma_id = 0;
    std::uint64_t root_id = 0;

    // The VMA of `pid` that contains `addr`, by INSPECT_VMA; throws
    // std::logic_error if it has no anon_vma yet.
    static AnonHome of(const Device& dev, pid_t pid, std::uint64_t addr) {
        const VmaInspection v = dev.inspect_vma(pid, addr);
        for (const AnonVmaInfo& a : v.chain) {
            if (a.id == v.anon_vma_id) {
                return {v.start, v.end, v.pgoff, v.anon_vma_id, a.root_id};
            }
        }
        throw std::logic_error("the VMA has no anon_vma on its chain");
    }

    bool contains(std::uint64_t addr) const { return addr >= vm_start && addr < vm_end; }
    std::uint64_t index_of(std::uint64_t addr) const {
        return vm_pgoff + (addr - vm_start) / static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    }
};

}  // namespace devexcl::test
