// Known 6.1 behaviour of device-exclusive entries, each asserted exactly and
// named for what it is, so that a kernel that changes it (6.15 keeps the
// mapcount, converts single PTEs, handles THP) shows up as an explained
// difference. Sources: mm/rmap.c make_device_exclusive_range() and
// mm/memory.c restore_exclusive_pte() of 6.1, and ../shared/reference.
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "lib/cpu_pin.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/lru_batches.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/pagemap.hpp"
#include "lib/sysfs.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

const std::size_t kPage = TestMemory::page_size();

class Kernel61 : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    }

    // Builds `kind`, or skips when the kernel cannot provide it.
    std::unique_ptr<TestMemory> make(MemoryKind kind) {
        auto mem = TestMemory::create(kind);
        if (!mem->skip_reason().empty()) {
            skip_reason_ = mem->skip_reason();
        }
        return mem;
    }

    std::string skip_reason_;
};

// Only with the known-bug opt-in: by default devexcl refuses THP pages on
// this kernel (known_kernel_bugs_test.cpp says why). Nothing here migrates
// or reclaims the converted folio, which is what would crash.
TEST_F(Kernel61, WithKernelBugsAllowedThpTailsAreRefusedAndTheHeadConvertsTheWholeFolio) {
    if (!kernel_has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE)) {
        GTEST_SKIP() << "this kernel converts one PTE of a THP (make_device_exclusive(), 6.15)";
    }
    auto mem = make(MemoryKind::AnonThp);
    if (!skip_reason_.empty()) {
        GTEST_SKIP() << skip_reason_;
    }
    Device dev = Device::open();
    MarkResult mark = dev.mark(mem->addr(), 8 * kPage, MarkMode::AllowKernelBugs);
    EXPECT_EQ(mark.pages[0].code, MarkCode::Marked);
    for (std::size_t i = 1; i < 8; ++i) {
        EXPECT_EQ(mark.pages[i].code, MarkCode::ThpTail) << "page " << i;
        EXPECT_EQ(mark.pages[i].error, EOPNOTSUPP);
    }
    // The head's rmap walk converted every PTE of the folio, also the 504
    // pages that were never asked for; the device holds only the head.
    auto st = dev.status(mem->addr(), mem->length());
    std::size_t exclusive = 0;
    for (const auto& s : st) {
        exclusive += s.pte == PteKind::DeviceExclusiveWrite;
    }
    EXPECT_EQ(exclusive, mem->pages());
    EXPECT_EQ(st[0].device, DeviceState::Held);
    EXPECT_EQ(st[511].device, DeviceState::NeverHeld);
    EXPECT_EQ(dev.counters().held, 1u);
    // The whole folio has mapcount 0 now.
    auto pm = read_pagemap(mem->addr(), mem->pages());
    EXPECT_EQ(kpagecount(pm[0].pfn()), 0u);
    EXPECT_EQ(kpagecount(pm[511].pfn()), 0u);
    EXPECT_TRUE(has_flag(kpageflags(pm[0].pfn()), kKpfThp));
    // Unmap before the context closes: closing would restore the head's
    // PTE and leave the folio partly exclusive, the crashing state, until
    // the unmap; unmapping first revokes the hold and zaps every entry.
    mem.reset();
}

// A batch whose first page the kernel refuses (a THP tail, 6.1's PageTail
// check, which converts nothing) and whose next pages it takes: each page
// taken must be held at its own address, with its own frame. (The module
// once recorded them one index too low; the fuzzer found it.)
TEST_F(Kernel61, WithKernelBugsAllowedPagesAfterARefusedFirstPageAreHeldAtTheirOwnAddresses) {
    if (!kernel_has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE)) {
        GTEST_SKIP() << "this kernel marks THP tails (make_device_exclusive(), 6.15)";
    }
    constexpr std::size_t kHuge = 2UL << 20, kAfter = 8;
    const std::size_t thp_pages = kHuge / kPage;
    // A 2 MiB aligned THP and, in the same VMA, order-0 pages after it:
    // the VMA ends before the next PMD range is whole.
    Mapping room(2 * kHuge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    const std::uint64_t base = (room.address() + kHuge - 1) & ~(kHuge - 1);
    const std::size_t length = kHuge + kAfter * kPage;
    ASSERT_EQ(::mprotect(reinterpret_cast<void*>(base), length, PROT_READ | PROT_WRITE), 0);
    ASSERT_EQ(::madvise(reinterpret_cast<void*>(base), length, MADV_HUGEPAGE), 0);
    auto word = [&](std::size_t page) {
        return reinterpret_cast<volatile std::uint64_t*>(base + page * kPage);
    };
    for (std::size_t i = 0; i < thp_pages + kAfter; ++i) {
        *word(i) = 0xA11CE000 + i;
    }
    auto pm = read_pagemap(base, thp_pages + kAfter);
    if (!has_flag(kpageflags(pm[0].pfn()), kKpfThp)) {
        GTEST_SKIP() << "the kernel did not back the range with a THP";
    }
    ASSERT_FALSE(has_flag(kpageflags(pm[thp_pages].pfn()), kKpfThp));

    const std::uint64_t start = base + (thp_pages - 1) * kPage;  // the THP's last tail
    Device dev = Device::open();
    MarkResult mark = dev.mark(start, (1 + kAfter) * kPage, MarkMode::AllowKernelBugs);
    EXPECT_EQ(mark.pages[0].code, MarkCode::ThpTail);
    auto st = dev.status(start, (1 + kAfter) * kPage);
    EXPECT_EQ(st[0].device, DeviceState::NeverHeld);
    EXPECT_EQ(st[0].pte, PteKind::Present);
    for (std::size_t i = 1; i <= kAfter; ++i) {
        SCOPED_TRACE("page " + std::to_string(i));
        EXPECT_EQ(mark.pages[i].code, MarkCode::Marked);
        EXPECT_EQ(st[i].device, DeviceState::Held);
        // The device reads the page it holds, not its neighbour's frame.
        EXPECT_EQ(dev.access(start + i * kPage, AccessOp::Read).old_value,
                  0xA11CE000 + thp_pages - 1 + i);
    }
    EXPECT_EQ(dev.counters().held, kAfter);
}

TEST_F(Kernel61, KpagecountWhileExclusiveIsTheKernelsAndOneAfterRestore) {
    auto mem = make(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    auto before = read_pagemap_one(mem->addr());
    ASSERT_TRUE(before.present());
    EXPECT_EQ(kpagecount(before.pfn()), 1u);
    EXPECT_TRUE(has_flag(kpageflags(before.pfn()), kKpfMmap));

    ASSERT_TRUE(dev.mark(mem->addr(), kPage).all_held());
    auto during = read_pagemap_one(mem->addr());
    ASSERT_TRUE(during.swap());
    EXPECT_EQ(during.pfn(), before.pfn()) << "the entry names the same page";
    const bool kept = kernel_shows(Behaviour::MapcountKeptWhileExclusive);
    EXPECT_EQ(kpagecount(during.pfn()), kept ? 1u : 0u)
        << behaviour_reason(Behaviour::MapcountKeptWhileExclusive);
    EXPECT_EQ(has_flag(kpageflags(during.pfn()), kKpfMmap), kept);
    EXPECT_TRUE(has_flag(kpageflags(during.pfn()), kKpfAnon));
    // 6.1: PM_MMAP_EXCLUSIVE needs mapcount 1; 7.x: a present entry.
    EXPECT_FALSE(during.exclusively_mapped());

    EXPECT_EQ(*mem->word(0), mem->initial_word(0));
    auto after = read_pagemap_one(mem->addr());
    ASSERT_TRUE(after.present());
    EXPECT_EQ(after.pfn(), before.pfn());
    EXPECT_EQ(kpagecount(after.pfn()), 1u) << "page_add_anon_rmap() on restore";
}

TEST_F(Kernel61, AnMlockedPageIsMlockedWhileExclusiveAsTheKernelSaysAndAfterRestore) {
    auto mem = make(MemoryKind::Mlocked);
    Device dev = Device::open();
    auto pm = read_pagemap(mem->addr(), mem->pages());
    for (const auto& e : pm) {
        ASSERT_TRUE(has_flag(kpageflags(e.pfn()), kKpfMlocked));
    }
    // munlock is batched per CPU: the marking's munlocks wait in this CPU's
    // batch until it drains. Not by compaction's lru_add_drain_all(): 7.x
    // would migrate the still-mlocked exclusive pages away from these PFNs.
    PinnedToThisCpu pinned;
    ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
    drain_this_cpus_lru_batches();
    EXPECT_EQ(dev.counters().held, mem->pages()) << "nothing revoked the device meanwhile";
    const bool kept = kernel_shows(Behaviour::MlockKeptWhileExclusive);
    for (std::size_t i = 0; i < pm.size(); ++i) {
        EXPECT_EQ(read_pagemap_one(mem->addr() + i * kPage).pfn(), pm[i].pfn());
        EXPECT_EQ(has_flag(kpageflags(pm[i].pfn()), kKpfMlocked), kept)
            << "page " << i << ": " << behaviour_reason(Behaviour::MlockKeptWhileExclusive);
    }
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_EQ(*mem->word(i), mem->initial_word(i));
    }
    for (std::size_t i = 0; i < pm.size(); ++i) {
        EXPECT_TRUE(has_flag(kpageflags(pm[i].pfn()), kKpfMlocked))
            << "page " << i << ": mlocked after the restore";
    }
}

TEST_F(Kernel61, SoftDirtyOnAReadRestoreIsTheKernelsRule) {
    auto mem = make(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
    // clear_refs revokes the device (SOFT_DIRTY) and clears the swap PTE's bit.
    write_file("/proc/self/clear_refs", "4");
    auto st = dev.status(mem->addr(), mem->length());
    auto pm = read_pagemap(mem->addr(), mem->pages());
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_EQ(st[i].device, DeviceState::Revoked);
        EXPECT_EQ(st[i].cause, Cause::SoftDirty);
        EXPECT_EQ(st[i].pte, PteKind::DeviceExclusiveWrite);
        EXPECT_FALSE(pm[i].soft_dirty()) << "page " << i;
    }
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_EQ(*mem->word(i), mem->initial_word(i));
    }
    pm = read_pagemap(mem->addr(), mem->pages());
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_TRUE(pm[i].present());
        EXPECT_EQ(pm[i].soft_dirty(), kernel_shows(Behaviour::ReadRestoreSetsSoftDirty))
            << "page " << i << ": " << behaviour_reason(Behaviour::ReadRestoreSetsSoftDirty);
    }
}

TEST_F(Kernel61, ForkRestoresTheEntryInTheParentThenCows) {
    auto mem = make(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mem->addr(), kPage).all_held());
    const std::uint64_t pfn = read_pagemap_one(mem->addr()).pfn();

    int go[2], ready[2];
    ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        char c = 0;
        // Touch nothing until the parent has looked.
        if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) {
            ::_exit(1);
        }
        *mem->word(0) = 42;
        ::_exit(*mem->word(0) == 42 ? 0 : 2);
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    // copy_nonpresent_pte() restored the parent's PTE, then copied it as a
    // COW PTE: both map the same page read-only, mapcount 2.
    auto st = dev.status(mem->addr(), kPage);
    EXPECT_EQ(st[0].device, DeviceState::Revoked);
    EXPECT_EQ(st[0].cause, Cause::ProtectionPage);
    EXPECT_EQ(st[0].pte, PteKind::Present);
    EXPECT_FALSE(st[0].pte_flags & DEVEXCL_PTEF_WRITE);
    auto parent_pm = read_pagemap_one(mem->addr());
    auto child_pm = read_pagemap_one(mem->addr(), pid);
    EXPECT_TRUE(parent_pm.present());
    EXPECT_TRUE(child_pm.present());
    EXPECT_EQ(parent_pm.pfn(), pfn);
    EXPECT_EQ(child_pm.pfn(), pfn);
    EXPECT_EQ(kpagecount(pfn), 2u);

    ASSERT_EQ(::write(go[1], &c, 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(*mem->word(0), mem->initial_word(0)) << "the child's write COWed";
    EXPECT_EQ(kpagecount(pfn), 1u);
    for (int fd : {go[0], go[1], ready[0], ready[1]}) {
        ::close(fd);
    }
}

TEST_F(Kernel61, HugetlbIsRefusedWithEopnotsupp) {
    auto mem = make(MemoryKind::Hugetlb);
    if (!skip_reason_.empty()) {
        GTEST_SKIP() << skip_reason_;
    }
    Device dev = Device::open();
    MarkResult mark = dev.mark(mem->addr(), mem->length());
    EXPECT_EQ(mark.marked, 0u);
    for (const auto& p : mark.pages) {
        EXPECT_EQ(p.code, MarkCode::Hugetlb);
        EXPECT_EQ(p.error, EOPNOTSUPP);
    }
    auto st = dev.status(mem->addr(), mem->length());
    EXPECT_EQ(st[0].pte, PteKind::Present);
    EXPECT_TRUE(st[0].pte_flags & DEVEXCL_PTEF_PMD);
    EXPECT_TRUE(st[0].pte_flags & DEVEXCL_PTEF_HUGETLB);
}

TEST_F(Kernel61, UffdWriteProtectRevokesAndAProtectedRangeCannotBeMarked) {
    auto mem = make(MemoryKind::UffdWp);
    if (!skip_reason_.empty()) {
        GTEST_SKIP() << skip_reason_;
    }
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());

    uffdio_writeprotect wp{};
    wp.range.start = mem->addr();
    wp.range.len = mem->length();
    wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
    ASSERT_EQ(::ioctl(mem->uffd(), UFFDIO_WRITEPROTECT, &wp), 0) << std::strerror(errno);
    auto st = dev.status(mem->addr(), mem->length());
    auto pm = read_pagemap(mem->addr(), mem->pages());
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_EQ(st[i].device, DeviceState::Revoked);
        EXPECT_EQ(st[i].cause, Cause::ProtectionVma);
        // change_pte_range() sets uffd-wp on the swap PTE and, as for any
        // write-protection, turns a write entry into a read entry (to 6.14).
        EXPECT_EQ(st[i].pte, write_protected_exclusive_kind())
            << behaviour_reason(Behaviour::ExclusiveEntryHasOneKind);
        EXPECT_TRUE(st[i].pte_flags & DEVEXCL_PTEF_UFFD_WP);
        EXPECT_TRUE(pm[i].uffd_wp()) << "page " << i;
    }
    // GUP's write fault on a wp-protected PTE cannot wait for the uffd
    // handler (handle_userfault() would fail it with SIGBUS, i.e. EFAULT,
    // and dump a stack under DEBUG_VM), so devexcl refuses the pages first.
    MarkResult again = dev.mark(mem->addr(), mem->length());
    for (const auto& p : again.pages) {
        EXPECT_EQ(p.code, MarkCode::Userfaultfd);
        EXPECT_EQ(p.error, EFAULT);
    }
    // The data is intact: a read restores the entries (read-only, uffd-wp kept).
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_EQ(*mem->word(i), mem->initial_word(i));
    }
}

TEST_F(Kernel61, PrivateFilePagesAreMarkedAfterTheMarksOwnCowRetry) {
    auto mem = make(MemoryKind::PrivateFile);
    Device dev = Device::open();
    auto before = read_pagemap(mem->addr(), mem->pages());
    for (const auto& e : before) {
        ASSERT_TRUE(e.file_or_shared_anon()) << "starts as page-cache pages";
    }
    // GUP(FOLL_WRITE) COWs each page inside make_device_exclusive_range();
    // the COW's MMU_NOTIFY_CLEAR invalidates the first attempt, and the
    // retry marks the new anonymous pages.
    ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
    EXPECT_GE(dev.counters().mark_retries, 1u);
    auto after = read_pagemap(mem->addr(), mem->pages());
    for (const auto& e : after) {
        EXPECT_TRUE(e.swap());
        EXPECT_FALSE(e.file_or_shared_anon()) << "now an anonymous COW copy";
    }
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_EQ(*mem->word(i), mem->initial_word(i));
    }
}

TEST_F(Kernel61, KsmPagesAreUnsharedByMarking) {
    auto mem = make(MemoryKind::KsmMerged);
    Device dev = Device::open();
    auto before = read_pagemap(mem->addr(), mem->pages());
    const std::uint64_t ksm_pfn = before[0].pfn();
    ASSERT_TRUE(has_flag(kpageflags(ksm_pfn), kKpfKsm));
    ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
    auto after = read_pagemap(mem->addr(), mem->pages());
    for (std::size_t i = 0; i < after.size(); ++i) {
        EXPECT_NE(after[i].pfn(), ksm_pfn) << "page " << i << ": FOLL_WRITE unshared it";
        // The copy is not KSM, though 6.12's kpageflags says so of every anon page.
        EXPECT_EQ(has_flag(kpageflags(after[i].pfn()), kKpfKsm),
                  kernel_shows(Behaviour::KpageflagsKsmOnEveryAnonPage))
            << behaviour_reason(Behaviour::KpageflagsKsmOnEveryAnonPage);
        for (std::size_t j = 0; j < i; ++j) {
            EXPECT_NE(after[i].pfn(), after[j].pfn());
        }
    }
}

}  // namespace
