#include "devexcl/types.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace devexcl;

TEST(Types, MarkResultWordDecodes) {
    PageMark p = PageMark::from_raw(DEVEXCL_MARK_NOT_ANON | (EOPNOTSUPP << 8));
    EXPECT_EQ(p.code, MarkCode::NotAnon);
    EXPECT_EQ(p.error, EOPNOTSUPP);
    EXPECT_FALSE(p.held());
    EXPECT_TRUE(PageMark::from_raw(DEVEXCL_MARK_ALREADY_HELD).held());
}

TEST(Types, EveryCodeHasADistinctName) {
    std::set<std::string> names;
    for (int c = DEVEXCL_MARK_NOT_REACHED; c <= DEVEXCL_MARK_THP_KERNEL_BUG; ++c) {
        names.insert(std::string(to_string(static_cast<MarkCode>(c))));
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(DEVEXCL_MARK_THP_KERNEL_BUG + 1));
    EXPECT_EQ(names.count("unknown"), 0u);

    names.clear();
    for (int c = DEVEXCL_CAUSE_NONE; c <= DEVEXCL_CAUSE_UNKNOWN; ++c) {
        names.insert(std::string(to_string(static_cast<Cause>(c))));
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(DEVEXCL_CAUSE_UNKNOWN + 1));

    names.clear();
    for (int k = DEVEXCL_PTE_NONE; k <= DEVEXCL_PTE_NO_VMA; ++k) {
        names.insert(std::string(to_string(static_cast<PteKind>(k))));
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(DEVEXCL_PTE_NO_VMA + 1));
    EXPECT_EQ(names.count("unknown"), 0u);
}

TEST(Types, PteFlagsString) {
    EXPECT_EQ(pte_flags_string(0), "-");
    EXPECT_EQ(pte_flags_string(DEVEXCL_PTEF_WRITE | DEVEXCL_PTEF_UFFD_WP | DEVEXCL_PTEF_PMD),
              "write,uffd-wp,pmd");
}

TEST(Types, AccessOpNamesRoundTrip) {
    for (AccessOp op :
         {AccessOp::Read, AccessOp::Write, AccessOp::Add, AccessOp::Xchg, AccessOp::Cmpxchg}) {
        AccessOp parsed{};
        ASSERT_TRUE(parse_access_op(to_string(op), parsed));
        EXPECT_EQ(parsed, op);
    }
    AccessOp dummy{};
    EXPECT_FALSE(parse_access_op("sub", dummy));
}
