// UFFDIO_MOVE (6.8) of an ordinary exclusive anonymous page into a VMA
// whose anon_vma has another root. The kernel moves the folio itself, not
// its contents: move_present_pte() clears the source entry, then
// folio_move_anon_rmap() points folio->mapping at the destination VMA's
// anon_vma (6.12 mm/rmap.c:1216, 7.3 :1450), whatever its root, the move
// sets folio->index to the destination's linear page index, and maps the
// same folio there (6.12 mm/userfaultfd.c:1049-1069; 7.3's batched
// move_present_ptes(), :1346-1371, with linear_anon_page_index(), which
// is linear_page_index() for an anonymous VMA). The mapcount stays 1. So
// devexcl's rmap report must follow the page to its new anon_vma, root,
// index and address.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>

#include "devexcl/device.hpp"
#include "lib/anon_home.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kmodule.hpp"
#include "lib/pagemap.hpp"
#include "lib/separate_anon_vmas.hpp"
#include "lib/uffd_move.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

constexpr std::uint64_t kTag = 0x7e40'6d6f'7665'0001;  // in the moved page's first and last word

// The page at `addr` as the rmap files it: in `home`, at that address, mapped there by us alone.
void expect_filed_in(const Device& dev, std::uint64_t addr, const AnonHome& home,
                     const char* where) {
    SCOPED_TRACE(where);
    const pid_t me = ::getpid();
    const PageInspection p = dev.inspect_page(me, addr);
    EXPECT_EQ(p.page.pte, PteKind::Present);
    EXPECT_EQ(p.page.mapping, MappingKind::Anon);
    EXPECT_TRUE(p.page.has(DEVEXCL_PAGE_ANON_EXCLUSIVE));
    EXPECT_EQ(p.page.anon_vma_id, home.anon_vma_id) << "the VMA's own anon_vma";
    EXPECT_EQ(p.page.root_anon_vma_id, home.root_id);
    EXPECT_EQ(p.page.index, home.index_of(addr)) << "the address's linear page index";
    EXPECT_EQ(p.page.mapcount, 1);
    EXPECT_TRUE(p.page.walked());
    EXPECT_FALSE(p.page.rmap_flags & DEVEXCL_RMAP_INCOMPLETE);
    EXPECT_FALSE(p.page.mapcount_mismatch());
    ASSERT_EQ(p.mappings.size(), 1u);
    EXPECT_EQ(p.mappings[0].pid, me);
    EXPECT_EQ(p.mappings[0].vaddr, addr);
    EXPECT_EQ(p.mappings[0].anon_vma_id, home.anon_vma_id);
}

TEST(UffdMoveAcrossRoots, AnExclusivePageTakesTheDestinationsAnonVmaRootAndIndex) {
    ensure_module_loaded();
    if (!kernel_shows(Behaviour::UffdMoveRehomesFolio)) {
        GTEST_SKIP() << behaviour_name(Behaviour::UffdMoveRehomesFolio) << ": "
                     << behaviour_cell(Behaviour::UffdMoveRehomesFolio);
    }
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    SeparateAnonVmas vmas(4);
    vmas.give_each_an_anon_vma();
    // Page 2 of src goes to page 1 of dst: another index within the VMA, too.
    const std::uint64_t from = vmas.src(2), to = vmas.dst(1);
    auto* words = reinterpret_cast<volatile std::uint64_t*>(from);
    words[0] = kTag;
    words[page / 8 - 1] = ~kTag;
    // Registered once written: nothing here would resolve a missing fault.
    UffdMover uffd;
    uffd.register_missing(vmas.src(), vmas.length());
    uffd.register_missing(vmas.dst(), vmas.length());

    Device dev = Device::open();
    const pid_t me = ::getpid();
    const AnonHome src = AnonHome::of(dev, me, from), dst = AnonHome::of(dev, me, to);
    ASSERT_NE(src.vm_start, dst.vm_start) << "two VMAs";
    ASSERT_NE(src.anon_vma_id, dst.anon_vma_id);
    ASSERT_NE(src.root_id, dst.root_id) << "the guards kept dst from reusing src's anon_vma";
    ASSERT_EQ(src.root_id, src.anon_vma_id) << "never forked: each is its own root";
    ASSERT_EQ(dst.root_id, dst.anon_vma_id);
    expect_filed_in(dev, from, src, "before the move, at src");
    const std::uint64_t pfn = read_pagemap_one(from).pfn();
    ASSERT_FALSE(read_pagemap_one(to).present()) << "a move needs an empty destination";

    const MoveOutcome out = uffd.move(to, from, page);
    ASSERT_EQ(out.error, 0) << "UFFDIO_MOVE";
    EXPECT_EQ(out.move, static_cast<std::int64_t>(page));

    expect_filed_in(dev, to, dst, "after the move, at dst");
    EXPECT_FALSE(read_pagemap_one(from).present()) << "the source entry is empty";
    EXPECT_EQ(read_pagemap_one(to).pfn(), pfn) << "the same folio, not a copy";
    const auto* moved = reinterpret_cast<const volatile std::uint64_t*>(to);
    EXPECT_EQ(moved[0], kTag) << "the contents moved";
    EXPECT_EQ(moved[page / 8 - 1], ~kTag);
    // The VMAs themselves are as they were: only the folio changed home.
    EXPECT_EQ(AnonHome::of(dev, me, from).anon_vma_id, src.anon_vma_id);
    EXPECT_EQ(AnonHome::of(dev, me, to).anon_vma_id, dst.anon_vma_id);
}

}  // namespace
