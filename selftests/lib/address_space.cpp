#include "address_space.hpp"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "sysfs.hpp"

namespace devexcl::test {

std::vector<VmaInspection> inspect_every_vma(const Device& dev, pid_t pid) {
    // The top of the x86-64 user address space: [vsyscall] lies above it
    // and is no VMA of the process.
    constexpr std::uint64_t kUserEnd = 0x800000000000ULL;
    std::istringstream maps(read_file("/proc/" + std::to_string(pid) + "/maps"));
    std::vector<VmaInspection> vmas;
    std::string line;
    while (std::getline(maps, line)) {
        std::uint64_t start = 0;
        if (std::sscanf(line.c_str(), "%" SCNx64 "-", &start) == 1 && start < kUserEnd) {
            vmas.push_back(dev.inspect_vma(pid, start));
        }
    }
    return vmas;
}

std::string describe(const VmaInspection& vma) {
    std::ostringstream out;
    out << std::hex << vma.start << '-' << vma.end << " flags " << vma.flags << " pgoff "
        << vma.pgoff << std::dec << " anon_vma " << vma.anon_vma_id << " chain " << vma.chain_len
        << ':';
    for (const AnonVmaInfo& a : vma.chain) {
        out << ' ' << a.id << "(root " << a.root_id << " parent " << a.parent_id << " children "
            << a.num_children << " active " << a.num_active_vmas << " ref " << a.refcount << ')';
    }
    return out.str();
}

std::string describe(const std::vector<VmaInspection>& vmas) {
    std::string out;
    for (const VmaInspection& v : vmas) {
        out += describe(v) + '\n';
    }
    return out;
}

}  // namespace devexcl::test
