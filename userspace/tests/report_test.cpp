#include "report.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace devexcl;
using namespace devexcl::cli;

TEST(Report, RunsFoldEqualNeighbours) {
    std::vector<int> v = {1, 1, 2, 2, 2, 1};
    auto runs = group_runs(v, [](int a, int b) { return a == b; });
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].first, 0u);
    EXPECT_EQ(runs[0].count, 2u);
    EXPECT_EQ(runs[1].first, 2u);
    EXPECT_EQ(runs[1].count, 3u);
    EXPECT_EQ(runs[2].first, 5u);
    EXPECT_TRUE(group_runs(std::vector<int>{}, [](int, int) { return true; }).empty());
}

TEST(Report, SizesAndErrnoNames) {
    EXPECT_EQ(human_size(4096), "4 KiB");
    EXPECT_EQ(human_size(64 << 20), "64 MiB");
    EXPECT_EQ(human_size(1536), "1536 B");
    EXPECT_EQ(hex(0x7f0000001000), "0x7f0000001000");
    EXPECT_EQ(errno_name(EOPNOTSUPP), "EOPNOTSUPP");
    EXPECT_EQ(errno_name(0), "");
}

MarkResult sample_mark() {
    MarkResult r;
    r.start = 0x10000;
    r.pages = {{MarkCode::Marked, 0},
               {MarkCode::Marked, 0},
               {MarkCode::ThpTail, EOPNOTSUPP},
               {MarkCode::Marked, 0}};
    r.marked = 3;
    r.failed = 1;
    return r;
}

TEST(Report, MarkTableFoldsRunsAndNamesErrnos) {
    std::ostringstream out;
    Reporter{out, false, 4096}.mark(42, sample_mark());
    EXPECT_EQ(out.str(),
              "mark pid 42 0x10000 +16 KiB: 4 pages, 3 marked, 1 refused\n"
              "  first    last     pages  result    errno\n"
              "  0x10000  0x11000  2      marked\n"
              "  0x12000  0x12000  1      thp-tail  EOPNOTSUPP\n"
              "  0x13000  0x13000  1      marked\n");
}

TEST(Report, MarkJsonHasOneObjectWithEveryPage) {
    std::ostringstream out;
    Reporter{out, true, 4096}.mark(42, sample_mark());
    EXPECT_EQ(out.str(),
              R"({"step":"mark","pid":42,"start":65536,"pages":4,"marked":3,"failed":1,)"
              R"("results":[{"result":"marked","errno":""},{"result":"marked","errno":""},)"
              R"({"result":"thp-tail","errno":"EOPNOTSUPP"},{"result":"marked","errno":""}]})"
              "\n");
}

TEST(Report, StatusShowsBothViews) {
    PageStatus held{DeviceState::Held, Cause::None, PteKind::DeviceExclusiveWrite,
                    DEVEXCL_PTEF_SOFT_DIRTY, 0};
    PageStatus revoked{DeviceState::Revoked, Cause::CpuFault, PteKind::Present,
                       DEVEXCL_PTEF_WRITE | DEVEXCL_PTEF_DIRTY, 3};
    std::ostringstream out;
    Reporter{out, false, 4096}.status(42, 0x10000, {held, held, revoked});
    EXPECT_EQ(out.str(),
              "status pid 42 0x10000 +12 KiB:\n"
              "  first    last     pages  device   cause      seq  cpu pte                 "
              "flags\n"
              "  0x10000  0x11000  2      held     -          -    device-exclusive-write  "
              "soft-dirty\n"
              "  0x12000  0x12000  1      revoked  cpu-fault  3    present                 "
              "write,dirty\n");
}

TEST(Report, AtomicLinesSayWhatHappened) {
    std::ostringstream out;
    Reporter rep{out, false, 4096};
    rep.access(1, 0x1000, AccessOp::Add, 5, 0, {10, AccessPath::Held});
    rep.access(1, 0x1000, AccessOp::Cmpxchg, 7, 15, {15, AccessPath::Reacquired});
    rep.access(1, 0x1000, AccessOp::Cmpxchg, 7, 1, {15, AccessPath::Held});
    EXPECT_EQ(out.str(),
              "atomic pid 1 add at 0x1000: 0xa -> 0xf (page held)\n"
              "atomic pid 1 cmpxchg at 0x1000: swapped 0xf -> 0x7 (device fault: page "
              "re-acquired)\n"
              "atomic pid 1 cmpxchg at 0x1000: not swapped, 0xf (page held)\n");
}

Event sample_event() {
    Event e;
    e.ctx_id = 0x1a2b;
    e.target_pid = 345;
    e.start = 0x7f0000000000;
    e.end = 0x7f0000002000;
    e.npages = 2;
    e.cause = Cause::CpuFault;
    e.seq = 7;
    e.trigger_pid = 345;
    e.trigger_comm = "target";
    e.timestamp_ns = 12'345'678'000;
    return e;
}

TEST(Report, AnEventIsOneLineAndSaysWhatWasLostBeforeIt) {
    std::ostringstream out;
    Event e = sample_event();
    Reporter{out, false}.event(e);
    EXPECT_EQ(out.str(),
              "   12.345678 ctx 0x1a2b pid 345 #7 cpu-fault 0x7f0000000000-0x7f0000002000 2 pages "
              "by 345 (target)\n");
    out.str("");
    e.dropped = 3;
    e.trigger_pid = 0;
    Reporter{out, false}.event(e);
    EXPECT_EQ(out.str(),
              "(3 event(s) lost before this one)\n"
              "   12.345678 ctx 0x1a2b pid 345 #7 cpu-fault 0x7f0000000000-0x7f0000002000 2 pages "
              "by unknown\n");
}

TEST(Report, AnEventInJsonIsOneObjectPerLine) {
    std::ostringstream out;
    Reporter{out, true}.event(sample_event());
    EXPECT_EQ(out.str(),
              R"({"event":"revocation","ctx":6699,"target_pid":345,"seq":7,)"
              R"("start":139637976727552,"end":139637976735744,"pages":2,"cause":"cpu-fault",)"
              R"("trigger_pid":345,"trigger_comm":"target","timestamp_ns":12345678000,)"
              R"("dropped":0})"
              "\n");
}
