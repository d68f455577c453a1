#include "anon_vma_tree.hpp"

#include <gtest/gtest.h>

using namespace devexcl;
using namespace devexcl::cli;

namespace {

// A fork chain: 0x10 (root) <- 0x20 <- 0x30, each with one mapper.
std::vector<std::vector<AnonVmaInfo>> chains() {
    AnonVmaInfo root{0x10, 0x10, 0x10, 2, 1, 3};
    AnonVmaInfo mid{0x20, 0x10, 0x10, 1, 1, 1};
    AnonVmaInfo leaf{0x30, 0x10, 0x20, 0, 1, 1};
    return {{root}, {mid, root}, {leaf, mid, root}};
}

std::vector<RmapEntry> mappers() {
    RmapEntry a{100, 100, 0x7000, PteKind::Present, 0, false, 1, 0x10, "parent"};
    RmapEntry b{101, 101, 0x7000, PteKind::Present, 0, false, 2, 0x20, "child"};
    RmapEntry c{102, 102, 0x7000, PteKind::DeviceExclusiveWrite, 0, false, 3, 0x30, "grandchild"};
    RmapEntry hidden{0, 0, 0, PteKind::Present, 0, true, 0, 0, ""};
    return {a, b, c, hidden};
}

}  // namespace

TEST(AnonVmaTree, ParentLinksBuildTheForkTree) {
    AnonVmaTree t = build_anon_vma_tree(chains(), mappers());
    ASSERT_EQ(t.roots, (std::vector<std::uint64_t>{0x10}));
    EXPECT_EQ(t.nodes.at(0x10).children, (std::vector<std::uint64_t>{0x20}));
    EXPECT_EQ(t.nodes.at(0x20).children, (std::vector<std::uint64_t>{0x30}));
    EXPECT_TRUE(t.nodes.at(0x30).children.empty());
    EXPECT_EQ(t.nodes.at(0x20).mappings.size(), 1u);
    EXPECT_EQ(t.nodes.at(0x20).mappings[0].pid, 101);
    EXPECT_EQ(t.unplaced.size(), 1u) << "the redacted mapper";
}

TEST(AnonVmaTree, RendersIndentedWithMappersAndThePagesAnonVma) {
    std::string text = render_anon_vma_tree(build_anon_vma_tree(chains(), mappers()), 0x10);
    EXPECT_EQ(text,
              "anon_vma 0x10 [root, children 2, active vmas 1, refcount 3]  <- the page's "
              "anon_vma\n"
              "|  pid 100 (parent) maps it at 0x7000, present\n"
              "`- anon_vma 0x20 [children 1, active vmas 1, refcount 1]\n"
              "   |  pid 101 (child) maps it at 0x7000, present\n"
              "   `- anon_vma 0x30 [children 0, active vmas 1, refcount 1]\n"
              "         pid 102 (grandchild) maps it at 0x7000, device-exclusive-write\n"
              "(a mapping in a process you may not inspect, present)\n");
}
