// UFFDIO_MOVE (6.8) of a page a fork child still shares. fork() made the
// page shared: it is no longer PageAnonExclusive, and move_pages_pte()
// refuses such a folio with EBUSY before it touches an entry (6.12
// mm/userfaultfd.c:1278-1281, 7.3 :1619-1622), since moving it would leave
// the child's mapping filed under an anon_vma it is not on. Nothing moves:
// both processes keep mapping the page, under the parent's anon_vma, with
// its contents.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "devexcl/device.hpp"
#include "lib/anon_home.hpp"
#include "lib/forked_child.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kmodule.hpp"
#include "lib/pagemap.hpp"
#include "lib/separate_anon_vmas.hpp"
#include "lib/uffd_move.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

constexpr std::uint64_t kTag = 0x7e40'6d6f'7665'0002;
// The child's exit status when its copy no longer holds the tag.
constexpr int kChildSawOtherData = 3;

// The shared page as the rmap files it: the parent's anon_vma, mapped by
// the parent and the child at the same address, mapcount 2, not exclusive.
void expect_shared(const Device& dev, std::uint64_t addr, const AnonHome& home, pid_t child,
                   const char* when) {
    SCOPED_TRACE(when);
    const pid_t me = ::getpid();
    const PageInspection p = dev.inspect_page(me, addr);
    EXPECT_EQ(p.page.pte, PteKind::Present);
    EXPECT_FALSE(p.page.has(DEVEXCL_PAGE_ANON_EXCLUSIVE)) << "fork shared it";
    EXPECT_EQ(p.page.anon_vma_id, home.anon_vma_id) << "still the parent's anon_vma";
    EXPECT_EQ(p.page.root_anon_vma_id, home.root_id);
    EXPECT_EQ(p.page.index, home.index_of(addr));
    EXPECT_EQ(p.page.mapcount, 2);
    EXPECT_FALSE(p.page.rmap_flags & DEVEXCL_RMAP_INCOMPLETE);
    EXPECT_FALSE(p.page.mapcount_mismatch());
    ASSERT_EQ(p.mappings.size(), 2u);
    for (pid_t pid : {me, child}) {
        const auto m = std::find_if(p.mappings.begin(), p.mappings.end(),
                                    [pid](const RmapEntry& e) { return e.pid == pid; });
        ASSERT_NE(m, p.mappings.end()) << "no mapping by pid " << pid;
        EXPECT_EQ(m->vaddr, addr) << "pid " << pid;
        EXPECT_EQ(m->pte, PteKind::Present) << "pid " << pid;
    }
}

TEST(UffdMoveAfterFork, ASharedPageIsEbusyAndStaysMappedByBoth) {
    ensure_module_loaded();
    if (!kernel_shows(Behaviour::UffdMoveOfSharedPageIsEbusy)) {
        GTEST_SKIP() << behaviour_name(Behaviour::UffdMoveOfSharedPageIsEbusy) << ": "
                     << behaviour_cell(Behaviour::UffdMoveOfSharedPageIsEbusy);
    }
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    SeparateAnonVmas vmas(1);
    vmas.give_each_an_anon_vma();
    auto* words = reinterpret_cast<volatile std::uint64_t*>(vmas.src());
    words[0] = kTag;
    words[page / 8 - 1] = ~kTag;
    // Registered once written: nothing here would resolve a missing fault.
    UffdMover uffd;
    uffd.register_missing(vmas.src(), vmas.length());
    uffd.register_missing(vmas.dst(), vmas.length());

    // The child only reads its copy, when told to: no COW, the page stays shared.
    ForkedChild child([&](ChildChannel& ch) {
        ch.receive<char>();
        const bool intact = words[0] == kTag && words[page / 8 - 1] == ~kTag;
        return intact ? 0 : kChildSawOtherData;
    });
    Device dev = Device::open();
    const AnonHome home = AnonHome::of(dev, ::getpid(), vmas.src());
    expect_shared(dev, vmas.src(), home, child.pid(), "before the move");
    const std::uint64_t pfn = read_pagemap_one(vmas.src()).pfn();

    const MoveOutcome out = uffd.move(vmas.dst(), vmas.src(), page);
    EXPECT_EQ(out.error, EBUSY) << "the source folio is not PageAnonExclusive";
    EXPECT_EQ(out.move, -EBUSY);

    expect_shared(dev, vmas.src(), home, child.pid(), "after the refused move");
    EXPECT_EQ(read_pagemap_one(vmas.src()).pfn(), pfn) << "the same page, where it was";
    EXPECT_FALSE(read_pagemap_one(vmas.dst()).present()) << "nothing moved";
    EXPECT_EQ(words[0], kTag);
    EXPECT_EQ(words[page / 8 - 1], ~kTag);
    child.channel().send('r');
    const int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status)) << "wait status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's copy changed";
}

}  // namespace
