// devexcl's default paths never lead a kernel into one of its known bugs or
// stack-dumping limitations. Which bugs the running kernel has comes from
// the module's DEVEXCL_FEAT_KBUG_* bits; each case asserts what that kernel
// must do by default. Reproducing a bug takes CAP_SYS_ADMIN and
// DEVEXCL_MARK_ALLOW_KERNEL_BUGS, and `make repro` does it in a VM of its own.
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/unique_fd.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kernel_log.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/numa.hpp"
#include "lib/pagemap.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

const std::size_t kPage = TestMemory::page_size();

class KnownKernelBugs : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    }
};

TEST_F(KnownKernelBugs, ThpPagesAreRefusedBeforeTheKernelIsCalledWhereMarkingThemIsUnsafe) {
    auto mem = TestMemory::create(MemoryKind::AnonThp);
    if (!mem->skip_reason().empty()) {
        GTEST_SKIP() << mem->skip_reason();
    }
    Device dev = Device::open();
    MarkResult mark = dev.mark(mem->addr(), mem->length());
    auto st = dev.status(mem->addr(), mem->length());
    if (!kernel_has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE)) {
        // Since 6.15, make_device_exclusive() converts one PTE of a THP.
        EXPECT_TRUE(mark.all_held());
        return;
    }
    EXPECT_EQ(mark.marked, 0u);
    EXPECT_EQ(mark.failed, mem->pages());
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        SCOPED_TRACE("page " + std::to_string(i));
        EXPECT_EQ(mark.pages[i].code, MarkCode::ThpKernelBug);
        EXPECT_EQ(mark.pages[i].error, EOPNOTSUPP);
        EXPECT_EQ(st[i].device, DeviceState::NeverHeld);
        // Nothing was converted, and looking did not split the PMD mapping.
        EXPECT_EQ(st[i].pte, PteKind::Present);
        EXPECT_TRUE(st[i].pte_flags & DEVEXCL_PTEF_PMD);
    }
    auto pm = read_pagemap(mem->addr(), mem->pages());
    EXPECT_EQ(kpagecount(pm[0].pfn()), 1u) << "the mapcount was never dropped";
    EXPECT_TRUE(has_flag(kpageflags(pm[0].pfn()), kKpfThp));
    Counters c = dev.counters();
    EXPECT_EQ(c.held, 0u);
    EXPECT_EQ(c.refused, mem->pages());
}

// A batch that runs from order-0 pages into a PTE-mapped THP is cut where
// the THP starts: the order-0 pages are marked, the THP's pages refused.
TEST_F(KnownKernelBugs, ABatchIsCutWhereAPteMappedThpBegins) {
    if (!kernel_has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE)) {
        GTEST_SKIP() << "this kernel marks THP pages one PTE at a time";
    }
    auto mem = TestMemory::create(MemoryKind::AnonThp);
    if (!mem->skip_reason().empty()) {
        GTEST_SKIP() << mem->skip_reason();
    }
    constexpr std::size_t kOrder0 = 64, kBatch = 128;
    // Zapping the first pages splits the PMD mapping; writing them again
    // maps order-0 pages into the page table that is now there.
    ASSERT_EQ(::madvise(reinterpret_cast<void*>(mem->addr()), kOrder0 * kPage, MADV_DONTNEED), 0);
    for (std::size_t i = 0; i < kOrder0; ++i) {
        *mem->word(i) = mem->initial_word(i);
    }
    auto pm = read_pagemap(mem->addr(), kBatch);
    ASSERT_FALSE(has_flag(kpageflags(pm[0].pfn()), kKpfThp));
    ASSERT_TRUE(has_flag(kpageflags(pm[kOrder0].pfn()), kKpfThp));

    Device dev = Device::open();
    MarkResult mark = dev.mark(mem->addr(), kBatch * kPage);
    auto st = dev.status(mem->addr(), kBatch * kPage);
    for (std::size_t i = 0; i < kBatch; ++i) {
        SCOPED_TRACE("page " + std::to_string(i));
        if (i < kOrder0) {
            EXPECT_EQ(mark.pages[i].code, MarkCode::Marked);
            EXPECT_EQ(st[i].pte, PteKind::DeviceExclusiveWrite);
        } else {
            EXPECT_EQ(mark.pages[i].code, MarkCode::ThpKernelBug);
            EXPECT_EQ(st[i].pte, PteKind::Present);
            EXPECT_FALSE(st[i].pte_flags & DEVEXCL_PTEF_PMD);
        }
    }
    EXPECT_EQ(dev.counters().held, kOrder0);
}

// The outside tester's steps, on the default path: on 6.1 with the marked
// head converting the folio, the CPU read restored one PTE and move_pages()
// then hit "kernel BUG at mm/rmap.c" in try_to_migrate_one(), which took
// pte_pfn() of a device-exclusive entry. A panic ends the whole VM run.
// Where the THP is refused this guards the default path end to end; on a
// kernel without the bug it checks that migration copes with the entries.
TEST_F(KnownKernelBugs, MarkingAThpThenCpuReadThenMovePagesLeavesTheKernelRunning) {
    auto mem = TestMemory::create(MemoryKind::AnonThp);
    if (!mem->skip_reason().empty()) {
        GTEST_SKIP() << mem->skip_reason();
    }
    KernelLog klog;
    Device dev = Device::open();
    MarkResult mark = dev.mark(mem->addr(), mem->mark_pages() * kPage);
    for (std::size_t i = 0; i < mem->mark_pages(); ++i) {
        EXPECT_EQ(mark.pages[i].code, mem->expected_mark().code) << "page " << i;
    }
    EXPECT_EQ(*mem->word(1), mem->initial_word(1));
    const int from = node_of(mem->page_addr(1));
    ASSERT_GE(from, 0);
    EXPECT_EQ(move_page(mem->page_addr(1), other_node(from)), other_node(from));
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        ASSERT_EQ(*mem->word(i), mem->initial_word(i)) << "page " << i;
    }
    EXPECT_TRUE(klog.messages_containing("kernel BUG").empty());
}

// A mark whose range runs from a plain anonymous VMA into one registered
// for userfaultfd MISSING faults. GUP inside make_device_exclusive_range()
// cannot wait for the handler, and 6.1 with DEBUG_VM prints
// "FAULT_FLAG_ALLOW_RETRY missing" and a stack dump: devexcl must refuse
// the uffd pages before the kernel faults them, in every VMA of the range.
TEST_F(KnownKernelBugs, AMarkRunningIntoAUffdMissingVmaRefusesItsPagesWithoutAStackDump) {
    constexpr std::size_t kHalf = 8;
    Mapping both(2 * kHalf * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    std::memset(both.data(), 0x5a, kHalf * kPage);  // only the anonymous half is populated
    UniqueFd uffd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
    if (!uffd) {
        GTEST_SKIP() << "userfaultfd: " << std::strerror(errno);
    }
    uffdio_api api{};
    api.api = UFFD_API;
    ASSERT_EQ(::ioctl(uffd.get(), UFFDIO_API, &api), 0) << std::strerror(errno);
    uffdio_register reg{};
    reg.range.start = both.address() + kHalf * kPage;
    reg.range.len = kHalf * kPage;
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    ASSERT_EQ(::ioctl(uffd.get(), UFFDIO_REGISTER, &reg), 0) << std::strerror(errno);

    KernelLog klog;
    Device dev = Device::open();
    MarkResult mark = dev.mark(both.address(), both.size());
    for (std::size_t i = 0; i < 2 * kHalf; ++i) {
        SCOPED_TRACE("page " + std::to_string(i));
        if (i < kHalf) {
            EXPECT_EQ(mark.pages[i].code, MarkCode::Marked);
        } else {
            EXPECT_EQ(mark.pages[i].code, MarkCode::Userfaultfd);
            EXPECT_EQ(mark.pages[i].error, EFAULT);
        }
    }
    EXPECT_TRUE(klog.messages_containing("FAULT_FLAG_ALLOW_RETRY missing").empty());
    EXPECT_TRUE(klog.messages_containing("Call Trace").empty());
    auto st = dev.status(both.address(), both.size());
    for (std::size_t i = kHalf; i < 2 * kHalf; ++i) {
        EXPECT_EQ(st[i].pte, PteKind::None) << "page " << i << " was faulted in";
    }
}

}  // namespace
