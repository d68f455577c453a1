#include "steps.hpp"

#include <gtest/gtest.h>

using namespace devexcl;
using namespace devexcl::cli;

TEST(Steps, SingleMark) {
    auto steps = parse_steps("mark", {"123", "0x7f0000000000", "64k"});
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].kind, StepKind::Mark);
    EXPECT_EQ(steps[0].pid, 123);
    EXPECT_EQ(steps[0].addr, 0x7f0000000000u);
    EXPECT_EQ(steps[0].length, 65536u);
    EXPECT_EQ(chain_pid(steps), 123);
}

TEST(Steps, MarkAvoidsKnownKernelBugsUnlessAsked) {
    auto plain = parse_steps("mark", {"123", "0x1000", "4k"});
    EXPECT_EQ(plain[0].mark_mode, MarkMode::AvoidKernelBugs);
    auto unsafe = parse_steps("mark", {"123", "0x1000", "4k", "--allow-kernel-bugs"});
    EXPECT_EQ(unsafe[0].mark_mode, MarkMode::AllowKernelBugs);
    EXPECT_EQ(unsafe[0].length, 4096u);
    EXPECT_THROW(parse_steps("status", {"123", "0x1000", "4k", "--allow-kernel-bugs"}), UsageError);
}

TEST(Steps, ChainSharesOneProcess) {
    auto steps = parse_steps("mark", {"7", "0x1000", "8k", "+", "atomic", "7", "0x1000", "add", "5",
                                      "+", "hold", "1.5", "+", "counters"});
    ASSERT_EQ(steps.size(), 4u);
    EXPECT_EQ(steps[1].kind, StepKind::Atomic);
    EXPECT_EQ(steps[1].op, AccessOp::Add);
    EXPECT_EQ(steps[1].value, 5u);
    EXPECT_TRUE(steps[1].reacquire);
    EXPECT_EQ(steps[2].kind, StepKind::Hold);
    ASSERT_TRUE(steps[2].seconds.has_value());
    EXPECT_DOUBLE_EQ(*steps[2].seconds, 1.5);
    EXPECT_EQ(steps[3].kind, StepKind::Counters);
    EXPECT_THROW(parse_steps("mark", {"7", "0x1000", "8k", "+", "status", "8", "0x1000", "8k"}),
                 UsageError);
}

TEST(Steps, AtomicOperands) {
    auto cmp = parse_steps("atomic", {"9", "0x2000", "cmpxchg", "1", "2"});
    EXPECT_EQ(cmp[0].op, AccessOp::Cmpxchg);
    EXPECT_EQ(cmp[0].expected, 1u);
    EXPECT_EQ(cmp[0].value, 2u);
    auto rd = parse_steps("atomic", {"9", "0x2000", "read", "--no-reacquire"});
    EXPECT_EQ(rd[0].op, AccessOp::Read);
    EXPECT_FALSE(rd[0].reacquire);
    EXPECT_THROW(parse_steps("atomic", {"9", "0x2000", "read", "1"}), UsageError);
    EXPECT_THROW(parse_steps("atomic", {"9", "0x2000", "add"}), UsageError);
    EXPECT_THROW(parse_steps("atomic", {"9", "0x2000", "frob", "1"}), UsageError);
}

TEST(Steps, Rejections) {
    EXPECT_THROW(parse_steps("mark", {"0", "0x1000", "4k"}), UsageError);
    EXPECT_THROW(parse_steps("mark", {"-5", "0x1000", "4k"}), UsageError);
    EXPECT_THROW(parse_steps("mark", {"5", "0x1000"}), UsageError);
    EXPECT_THROW(parse_steps("mark", {"5", "0x1000", "4k", "+"}), UsageError);
    EXPECT_THROW(parse_steps("mark", {"5", "0x1000", "4k", "+", "+", "counters"}), UsageError);
    EXPECT_THROW(parse_steps("hold", {"-1"}), UsageError);
    EXPECT_THROW(parse_steps("counters", {"5"}), UsageError);
    EXPECT_THROW(parse_steps("status", {"5", "0x1000", "4k", "+", "frobnicate"}), UsageError);
}
