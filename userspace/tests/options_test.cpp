#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "options.hpp"

using devexcl::cli::Invocation;
using devexcl::cli::parse_invocation;
using devexcl::cli::parse_number;
using devexcl::cli::parse_seconds;
using devexcl::cli::parse_size;
using devexcl::cli::run_command;
using devexcl::cli::UsageError;

TEST(Options, CommandAndArguments) {
    Invocation inv = parse_invocation({"mark", "123", "0x1000", "8k"});
    EXPECT_EQ(inv.command, "mark");
    EXPECT_EQ(inv.args, (std::vector<std::string>{"123", "0x1000", "8k"}));
    EXPECT_FALSE(inv.json);
    EXPECT_EQ(inv.device, "/dev/devexcl");
}

TEST(Options, GlobalOptionsAnywhere) {
    Invocation inv = parse_invocation({"--json", "version", "--device", "/tmp/x"});
    EXPECT_TRUE(inv.json);
    EXPECT_EQ(inv.device, "/tmp/x");
    EXPECT_EQ(inv.command, "version");
    EXPECT_TRUE(inv.args.empty());
    EXPECT_EQ(parse_invocation({"--device=/d", "version"}).device, "/d");
}

TEST(Options, HelpNeedsNoCommand) {
    EXPECT_TRUE(parse_invocation({"--help"}).help);
    EXPECT_TRUE(parse_invocation({"-h"}).help);
    EXPECT_TRUE(parse_invocation({"help"}).help);
}

TEST(Options, Rejections) {
    EXPECT_THROW(parse_invocation({}), UsageError);
    EXPECT_THROW(parse_invocation({"--bogus"}), UsageError);
    EXPECT_THROW(parse_invocation({"version", "--device"}), UsageError);
}

TEST(Options, DoubleDashPassesDashedArguments) {
    Invocation inv = parse_invocation({"mark", "--", "-1"});
    EXPECT_EQ(inv.args, (std::vector<std::string>{"-1"}));
}

TEST(Options, Numbers) {
    EXPECT_EQ(parse_number("4096", "n"), 4096u);
    EXPECT_EQ(parse_number("0x7f0000001000", "n"), 0x7f0000001000u);
    EXPECT_THROW(parse_number("", "n"), UsageError);
    EXPECT_THROW(parse_number("-1", "n"), UsageError);
    EXPECT_THROW(parse_number("12abc", "n"), UsageError);
    EXPECT_THROW(parse_number("99999999999999999999999", "n"), UsageError);
}

TEST(Options, Sizes) {
    EXPECT_EQ(parse_size("4k", "len"), 4096u);
    EXPECT_EQ(parse_size("2M", "len"), 2u << 20);
    EXPECT_EQ(parse_size("1G", "len"), 1u << 30);
    EXPECT_EQ(parse_size("0x2000", "len"), 0x2000u);
    EXPECT_THROW(parse_size("G", "len"), UsageError);
    EXPECT_THROW(parse_size("99999999999999G", "len"), UsageError);
}

TEST(Options, WatchAndStatsRejectBadArgumentsBeforeTouchingTheKernel) {
    std::ostringstream out;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"watch", "--pid"},
             {"watch", "--pid", "0"},
             {"watch", "--ctx", "x"},
             {"watch", "--bogus"},
             {"watch", "5", "6"},
             {"stats", "extra"},
         }) {
        EXPECT_THROW(run_command(parse_invocation(args), out), UsageError) << args.back();
    }
}

// `watch` and `hold` read SECONDS alike: fractions allowed, never negative.
TEST(Options, SecondsTakeFractionsButNotNegativesOrJunk) {
    EXPECT_DOUBLE_EQ(parse_seconds("1.5"), 1.5);
    EXPECT_DOUBLE_EQ(parse_seconds("60"), 60.0);
    EXPECT_THROW(parse_seconds("-1"), UsageError);
    EXPECT_THROW(parse_seconds("1s"), UsageError);
    EXPECT_THROW(parse_seconds(""), UsageError);
    EXPECT_THROW(parse_seconds("nan"), UsageError);
}
