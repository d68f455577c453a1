// The anon_vma contract after splits and mremap, on a VMA whose chain holds
// three anon_vmas (a grandchild's: its own, its parent's, the root). A split
// gives the new VMA a copy of the source's chain, the original keeps its
// own, and mremap gives the moved VMA a copy of the chain it had; copies
// follow the running kernel's clone order (kernel_behaviour.cpp: 7.0's
// rework reverses it). The VMA's own anon_vma counts every VMA that points
// at it in num_active_vmas. The grandchild does the work and writes what
// it saw to shared memory; the test asserts it here.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kmodule.hpp"
#include "lib/run_as.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

constexpr std::size_t kPages = 8;
constexpr std::size_t kMaxChain = 8;

// One VMA's chain as the grandchild saw it, in same_vma order.
struct ChainRecord {
    std::uint64_t len = 0;
    std::uint64_t ids[kMaxChain] = {};
    std::uint64_t anon_vma_id = 0;
    std::uint64_t own_active_vmas = 0;  // num_active_vmas of anon_vma_id

    std::vector<std::uint64_t> chain() const {
        return {ids, ids + std::min<std::uint64_t>(len, kMaxChain)};
    }
};

struct Observed {
    int failed_step = 0;  // 0, or the step that failed in the grandchild
    int error = 0;        // its errno
    ChainRecord source, below, middle, above, moved;
};

ChainRecord record(const VmaInspection& v) {
    ChainRecord r;
    r.len = v.chain_len;
    r.anon_vma_id = v.anon_vma_id;
    for (std::size_t i = 0; i < v.chain.size() && i < kMaxChain; ++i) {
        r.ids[i] = v.chain[i].id;
        if (v.chain[i].id == v.anon_vma_id) {
            r.own_active_vmas = v.chain[i].num_active_vmas;
        }
    }
    return r;
}

// In the grandchild: split the VMA in three with mprotect, then move the
// top third with mremap, inspecting each VMA after each step.
int split_and_move(std::uint64_t addr, std::uint64_t page, Observed* out) {
    auto fail = [out](int step) {
        out->failed_step = step;
        out->error = errno;
        return 1;
    };
    try {
        Device dev = Device::open();
        const pid_t me = ::getpid();
        out->source = record(dev.inspect_vma(me, addr));
        if (::mprotect(reinterpret_cast<void*>(addr + 3 * page), 2 * page, PROT_READ) != 0) {
            return fail(1);
        }
        out->below = record(dev.inspect_vma(me, addr));
        out->middle = record(dev.inspect_vma(me, addr + 3 * page));
        out->above = record(dev.inspect_vma(me, addr + 5 * page));
        // A PROT_NONE window to move into: no neighbour the moved VMA could merge with.
        void* window = ::mmap(nullptr, 3 * kPages * page, PROT_NONE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (window == MAP_FAILED) {
            return fail(2);
        }
        void* to = static_cast<char*>(window) + kPages * page;
        if (::mremap(reinterpret_cast<void*>(addr + 5 * page), 3 * page, 3 * page,
                     MREMAP_MAYMOVE | MREMAP_FIXED, to) != to) {
            return fail(3);
        }
        out->moved = record(dev.inspect_vma(me, reinterpret_cast<std::uint64_t>(to)));
        return 0;
    } catch (const std::system_error& e) {
        out->failed_step = 4;
        out->error = e.code().value();
        return 1;
    }
}

TEST(AnonVmaContract, SplitsAndMremapCopyTheSourceChainInTheKernelsCloneOrder) {
    ensure_module_loaded();
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    Mapping mem(kPages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    for (std::size_t i = 0; i < kPages; ++i) {
        mem.as<std::uint64_t>()[i * page / 8] = i;
    }
    Mapping shared(sizeof(Observed), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
    auto* seen = new (shared.data()) Observed{};
    // Child, then grandchild: the grandchild's VMA chains three anon_vmas.
    ASSERT_EQ(run_in_child([&] {
                  return run_in_child([&] { return split_and_move(mem.address(), page, seen); });
              }),
              0)
        << "step " << seen->failed_step << " failed with errno " << seen->error;

    const bool reverses = kernel_shows(Behaviour::CloneReversesAnonVmaChain);
    const std::vector<std::uint64_t> source = seen->source.chain();
    const std::vector<std::uint64_t> copy = cloned_chain_order(source);
    const std::string row = std::string(behaviour_name(Behaviour::CloneReversesAnonVmaChain)) +
                            (reverses ? " yes: " : " no: ") +
                            behaviour_reason(Behaviour::CloneReversesAnonVmaChain);
    ASSERT_EQ(source.size(), 3u) << "a grandchild's chain: its own, its parent's, the root";
    EXPECT_EQ(source.front(), seen->source.anon_vma_id) << "fork puts the new anon_vma first";

    // mprotect of the middle splits twice; the original VMA is the middle.
    EXPECT_EQ(seen->middle.chain(), source) << "the original VMA keeps its chain";
    EXPECT_EQ(seen->below.chain(), copy) << row;
    EXPECT_EQ(seen->above.chain(), copy) << row;
    for (const ChainRecord* r : {&seen->below, &seen->middle, &seen->above}) {
        EXPECT_EQ(r->anon_vma_id, seen->source.anon_vma_id) << "a split shares the anon_vma";
        EXPECT_EQ(r->own_active_vmas, 3u) << "three VMAs point at it";
    }
    // mremap copies the chain the moved VMA had (a copy of a copy on 7.x).
    EXPECT_EQ(seen->moved.chain(), cloned_chain_order(seen->above.chain())) << row;
    EXPECT_EQ(seen->moved.anon_vma_id, seen->source.anon_vma_id);
    EXPECT_EQ(seen->moved.own_active_vmas, 3u) << "the old VMA went as the new one came";
}

}  // namespace
