// What a VMA split does to held pages. Splitting a VMA at an address that is
// not 2 MiB aligned, where the VMA spans the whole aligned 2 MiB around it,
// makes vma_adjust_trans_huge() call split_huge_pmd_address(), and
// __split_huge_pmd() sends MMU_NOTIFY_CLEAR for that whole 2 MiB before it
// looks at the PMD, THP or not (6.1 mm/huge_memory.c:2319, 6.12 :2970,
// 7.3 :3489). So a munmap or mprotect of one page revokes every page a
// device holds in the surrounding 2 MiB, as `clear`, and the page itself
// as `clear` too: the split comes before the unmap. The data soak found it.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"

using namespace devexcl;

namespace {

constexpr std::uint64_t kPmdSize = 2 << 20;

class VmaSplit : public testing::Test {
protected:
    void SetUp() override {
        devexcl::test::ensure_module_loaded();
        page_ = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    }

    // An 8 MiB private anonymous VMA, no THP, every page written; `block`
    // is an aligned 2 MiB inside it with room on both sides.
    void map() {
        mem_ = Mapping(4 * kPmdSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        ASSERT_EQ(::madvise(mem_.data(), mem_.size(), MADV_NOHUGEPAGE), 0);
        for (std::uint64_t off = 0; off < mem_.size(); off += page_) {
            *reinterpret_cast<std::uint64_t*>(mem_.address() + off) = mem_.address() + off;
        }
        block_ = (mem_.address() + kPmdSize) & ~(kPmdSize - 1);
    }

    // Marks `pages` pages at `addr`; all must be held.
    void mark(Device& dev, std::uint64_t addr, std::uint64_t pages) {
        ASSERT_TRUE(dev.mark(addr, pages * page_).all_held()) << std::hex << addr;
    }

    std::uint64_t page_ = 0;
    Mapping mem_;
    std::uint64_t block_ = 0;
};

TEST_F(VmaSplit, AOnePageMunmapRevokesEveryHeldPageOfTheSurrounding2MiBAsClear) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    map();
    Device dev = Device::open();
    const std::uint64_t hole = block_ + 9 * page_;
    mark(dev, block_, 16);                        // the hole among them
    mark(dev, block_ + kPmdSize - 4 * page_, 4);  // same 2 MiB, far from the hole
    mark(dev, block_ + kPmdSize, 4);              // the next 2 MiB
    mark(dev, block_ - 4 * page_, 4);             // the previous 2 MiB
    ASSERT_EQ(::munmap(reinterpret_cast<void*>(hole), page_), 0);

    for (std::uint64_t i = 0; i < 16; ++i) {
        const PageStatus st = dev.status(block_ + i * page_, page_)[0];
        EXPECT_EQ(st.device, DeviceState::Revoked) << "page " << i << " of the block";
        EXPECT_EQ(st.cause, Cause::Clear)
            << "page " << i << " of the block" << (block_ + i * page_ == hole ? " (the hole)" : "");
    }
    for (const PageStatus& st : dev.status(block_ + kPmdSize - 4 * page_, 4 * page_)) {
        EXPECT_EQ(st.device, DeviceState::Revoked) << "the far end of the same 2 MiB";
        EXPECT_EQ(st.cause, Cause::Clear);
    }
    for (std::uint64_t at : {block_ + kPmdSize, block_ - 4 * page_}) {
        for (const PageStatus& st : dev.status(at, 4 * page_)) {
            EXPECT_EQ(st.device, DeviceState::Held) << "outside the 2 MiB: untouched";
        }
    }
    // The split's notifier came from this process, over exactly the 2 MiB:
    // one batch per marked region (each has its own interval notifier).
    std::uint64_t revoked_in_block = 0;
    for (const Revocation& r : dev.revocations()) {
        EXPECT_EQ(r.cause, Cause::Clear);
        EXPECT_EQ(r.trigger_pid, static_cast<std::uint64_t>(::getpid()));
        EXPECT_GE(r.start, block_);
        EXPECT_LE(r.end, block_ + kPmdSize);
        revoked_in_block += r.npages;
    }
    EXPECT_EQ(revoked_in_block, 20u) << "the held pages of the 2 MiB, each once";
    // Nothing was lost: every page left reads what it was written.
    for (std::uint64_t i = 0; i < 16; ++i) {
        const std::uint64_t addr = block_ + i * page_;
        if (addr != hole) {
            EXPECT_EQ(*reinterpret_cast<const std::uint64_t*>(addr), addr);
        }
    }
}

TEST_F(VmaSplit, AnMprotectOfOnePageRevokesTheSurrounding2MiBToo) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    map();
    Device dev = Device::open();
    mark(dev, block_, 16);
    ASSERT_EQ(::mprotect(reinterpret_cast<void*>(block_ + 9 * page_), page_, PROT_READ), 0);
    for (std::uint64_t i = 0; i < 16; ++i) {
        const PageStatus st = dev.status(block_ + i * page_, page_)[0];
        EXPECT_EQ(st.device, DeviceState::Revoked) << "page " << i;
        EXPECT_EQ(st.cause, Cause::Clear) << "page " << i << ": the split, before the protection";
    }
}

TEST_F(VmaSplit, AVmaThatDoesNotSpanTheAligned2MiBLosesOnlyWhatIsUnmapped) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    // 64 KiB: no aligned 2 MiB lies inside it, so no PMD split is tried.
    Mapping small(16 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    for (std::uint64_t i = 0; i < 16; ++i) {
        small.as<std::uint64_t>()[i * page_ / 8] = i;
    }
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(small.address(), small.size()).all_held());
    const std::uint64_t hole = small.address() + 9 * page_;
    ASSERT_EQ(::munmap(reinterpret_cast<void*>(hole), page_), 0);
    const std::vector<PageStatus> st = dev.status(small.address(), small.size());
    for (std::uint64_t i = 0; i < 16; ++i) {
        if (i == 9) {
            EXPECT_EQ(st[i].device, DeviceState::Revoked);
            EXPECT_EQ(st[i].cause, Cause::Unmap) << "the hole";
        } else {
            EXPECT_EQ(st[i].device, DeviceState::Held) << "page " << i;
        }
    }
}

}  // namespace
