// devexcl's tracepoints (devexcl:*) as tracefs and perf see them. One
// scenario on another process, step by step, traced into a trace instance
// of the test's own: a mark, CPU faults and a zap that revoke pages, device
// atomics, re-acquires, a re-mark, dumps and a release. Each step's events
// are held against what the ioctls answered, the revocations against the
// context's own log, the ids against those the ioctls report; and no field
// of any event may look like a kernel pointer.
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/range_inspector.hpp"
#include "devexcl/unique_fd.hpp"
#include "lib/forked_child.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/sysfs.hpp"
#include "lib/tracefs.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

const std::uint64_t kPage = TestMemory::page_size();
// The target's mapping: large enough for a dump of several messages.
constexpr std::size_t kMapPages = 1024;
// The part it fills and the device marks.
constexpr std::size_t kMarkPages = 32;
// Pages of the scenario (indices into the mapping).
constexpr std::uint32_t kReadPage = 3;
constexpr std::uint32_t kWrittenPage = 8;  // and the next one
constexpr std::uint32_t kZapFirst = 20;
constexpr std::uint32_t kZapCount = 4;
constexpr std::uint32_t kNeverMarkedPage = 40;
// From here up, a value is a kernel address on x86-64, with 4- or 5-level
// page tables. devexcl's ids have the top bit clear, so they stay below.
constexpr std::uint64_t kKernelSpace = 0xff00000000000000ULL;

const std::vector<std::string> kEvents = {"devexcl_mark", "devexcl_revoke", "devexcl_access",
                                          "devexcl_reacquire", "devexcl_dump"};

// What the target process does on command, and answers with one word.
struct Command {
    char op;  // 'r' read word 0 of the pages, 'w' add 1 to it, 'z' MADV_DONTNEED, 'q' exit
    std::uint32_t first;
    std::uint32_t count;
};

// The target: maps kMapPages private anonymous pages (no THP), fills word 0
// of the first kMarkPages, sends the address, then obeys.
int target_main(ChildChannel& ch) {
    Mapping mem(kMapPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (::madvise(mem.data(), mem.size(), MADV_NOHUGEPAGE) != 0) {
        return 2;
    }
    auto word = [&](std::uint32_t page) {
        return reinterpret_cast<volatile std::uint64_t*>(mem.address() + page * kPage);
    };
    for (std::uint32_t i = 0; i < kMarkPages; ++i) {
        *word(i) = 1000 + i;
    }
    ch.send(mem.address());
    for (;;) {
        const auto c = ch.receive<Command>();
        std::uint64_t answer = 0;
        for (std::uint32_t i = c.first; i < c.first + c.count && c.op != 'z'; ++i) {
            const std::uint64_t v = *word(i) + (c.op == 'w' ? 1 : 0);
            if (c.op == 'w') {
                *word(i) = v;
            }
            answer += v;
        }
        if (c.op == 'z' &&
            ::madvise(mem.as<char>() + c.first * kPage, c.count * kPage, MADV_DONTNEED) != 0) {
            return 3;
        }
        if (c.op == 'q') {
            return 0;
        }
        ch.send(answer);
    }
}

// The devexcl events recorded since the last step, in order.
std::vector<TraceEvent> step_events(TraceInstance& trace) {
    std::vector<TraceEvent> events = trace.take();
    std::erase_if(events, [](const TraceEvent& e) { return !e.name.starts_with("devexcl_"); });
    return events;
}

std::vector<TraceEvent> named(const std::vector<TraceEvent>& events, const std::string& name) {
    std::vector<TraceEvent> out;
    std::copy_if(events.begin(), events.end(), std::back_inserter(out),
                 [&](const TraceEvent& e) { return e.name == name; });
    return out;
}

// Every numeric field is below kernel space; negative ones are errnos.
void expect_no_kernel_pointer(const TraceEvent& ev) {
    for (const auto& [key, value] : ev.fields) {
        if (value.empty() || value[0] == '-' ||
            !std::isdigit(static_cast<unsigned char>(value[0]))) {
            continue;
        }
        EXPECT_LT(ev.u64(key), kKernelSpace) << key << " in " << ev.text;
    }
}

// The sums over a step's mark batches, each checked on its own.
struct MarkSums {
    std::uint64_t batches = 0, done = 0, converted = 0, refused = 0;
};

MarkSums check_marks(const std::vector<TraceEvent>& events, std::uint64_t ctx, std::uint64_t mm,
                     bool reacquire) {
    MarkSums sums;
    for (const TraceEvent& ev : named(events, "devexcl_mark")) {
        SCOPED_TRACE(ev.text);
        EXPECT_EQ(ev.u64("ctx"), ctx);
        EXPECT_EQ(ev.u64("mm"), mm);
        EXPECT_EQ(ev.u64("reacquire"), reacquire ? 1u : 0u);
        EXPECT_EQ(ev.s64("ret"), 0);
        EXPECT_GE(ev.s64("attempts"), 1);
        EXPECT_LE(ev.u64("done"), ev.u64("asked"));
        EXPECT_EQ(ev.u64("converted") + ev.u64("refused"), ev.u64("done"));
        ++sums.batches;
        sums.done += ev.u64("done");
        sums.converted += ev.u64("converted");
        sums.refused += ev.u64("refused");
    }
    return sums;
}

// The pages a step's revocation batches took, by cause, each batch also
// checked against itself: its range holds exactly npages held pages here,
// so its ends are held pages and npages fits between them.
std::map<std::string, std::set<std::uint64_t>> revoked_pages(
    const std::vector<TraceEvent>& events, std::uint64_t ctx, std::uint64_t base,
    const std::set<std::uint64_t>& held_before) {
    std::map<std::string, std::set<std::uint64_t>> by_cause;
    for (const TraceEvent& ev : named(events, "devexcl_revoke")) {
        SCOPED_TRACE(ev.text);
        EXPECT_EQ(ev.u64("ctx"), ctx);
        std::uint64_t n = 0;
        for (std::uint64_t a = ev.u64("start"); a < ev.u64("end"); a += kPage) {
            const std::uint64_t page = (a - base) / kPage;
            if (held_before.count(page)) {
                by_cause[ev.str("cause")].insert(page);
                ++n;
            }
        }
        EXPECT_EQ(n, ev.u64("npages"));
    }
    return by_cause;
}

std::set<std::uint64_t> page_range(std::uint64_t first, std::uint64_t count) {
    std::set<std::uint64_t> pages;
    for (std::uint64_t i = first; i < first + count; ++i) {
        pages.insert(i);
    }
    return pages;
}

class Trace : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        root_ = tracefs_root();
        if (root_.empty()) {
            GTEST_SKIP() << "no tracefs: the kernel needs CONFIG_EVENT_TRACING";
        }
        ASSERT_EQ(::access((root_ + "/events/devexcl").c_str(), F_OK), 0)
            << "tracefs has no devexcl events: was devexcl.ko built without tracepoints?";
    }

    std::string root_;
};

TEST_F(Trace, EveryEventIsListedAndNoneHasAPointerField) {
    const std::string available = read_file(root_ + "/available_events");
    for (const std::string& event : kEvents) {
        SCOPED_TRACE(event);
        EXPECT_NE(available.find("devexcl:" + event + "\n"), std::string::npos);
        const std::string format = read_file(root_ + "/events/devexcl/" + event + "/format");
        std::istringstream lines(format);
        std::string line;
        int fields = 0;
        while (std::getline(lines, line)) {
            if (line.find("field:") != std::string::npos &&
                line.find("common_") == std::string::npos) {
                ++fields;
                EXPECT_EQ(line.find('*'), std::string::npos) << "a pointer field: " << line;
            }
        }
        EXPECT_GT(fields, 0);
        EXPECT_EQ(format.find("%p"), std::string::npos) << "a pointer printed: " << format;
    }
    // TRACE_DEFINE_ENUM: the format names causes by number, so tools decode
    // them from the format alone.
    const std::string revoke = read_file(root_ + "/events/devexcl/devexcl_revoke/format");
    EXPECT_NE(revoke.find("{ 1, \"cpu-fault\" }"), std::string::npos) << revoke;
}

TEST_F(Trace, AScenarioOnAnotherProcessMatchesTheIoctlsAndTheRevocationLog) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    ForkedChild child(target_main);
    const auto base = child.channel().receive<std::uint64_t>();
    auto command = [&](char op, std::uint32_t first, std::uint32_t count) {
        child.channel().send(Command{op, first, count});
        return child.channel().receive<std::uint64_t>();
    };
    auto addr = [&](std::uint64_t page) { return base + page * kPage; };

    Device dev = Device::open();
    dev.bind(child.pid());
    const std::uint64_t ctx = dev.counters().context_id;
    const std::uint64_t mm = dev.inspect_vma(child.pid(), base).mm_id;
    ASSERT_NE(ctx, 0u);
    ASSERT_NE(mm, 0u);

    TraceInstance trace(root_, "devexcl_selftest");
    // One clock for every CPU: a task that moves keeps its events in order.
    write_file(trace.dir() + "/trace_clock", "global");
    trace.enable("devexcl");
    std::vector<TraceEvent> all;
    auto take = [&] {
        std::vector<TraceEvent> events = step_events(trace);
        all.insert(all.end(), events.begin(), events.end());
        return events;
    };

    // Mark: batches from the start, back to back, adding up to the answer.
    const MarkResult marked = dev.mark(base, kMarkPages * kPage);
    ASSERT_TRUE(marked.all_held());
    {
        SCOPED_TRACE("mark");
        const auto events = take();
        EXPECT_EQ(events.size(), named(events, "devexcl_mark").size()) << "marks only";
        const MarkSums sums = check_marks(events, ctx, mm, false);
        EXPECT_GE(sums.batches, 1u);
        EXPECT_EQ(sums.done, kMarkPages);
        EXPECT_EQ(sums.converted, marked.marked);
        EXPECT_EQ(sums.refused, marked.failed);
        std::uint64_t next = base;
        for (const TraceEvent& ev : named(events, "devexcl_mark")) {
            EXPECT_EQ(ev.u64("start"), next) << ev.text;
            next += ev.u64("done") * kPage;
        }
    }

    // The target's CPU takes pages back: a read, two writes, a zap.
    command('r', kReadPage, 1);
    command('w', kWrittenPage, 2);
    command('z', kZapFirst, kZapCount);
    {
        SCOPED_TRACE("CPU faults and MADV_DONTNEED");
        const auto events = take();
        EXPECT_EQ(events.size(), named(events, "devexcl_revoke").size()) << "revocations only";
        auto by_cause = revoked_pages(events, ctx, base, page_range(0, kMarkPages));
        std::set<std::uint64_t> cpu = {kReadPage, kWrittenPage, kWrittenPage + 1};
        EXPECT_EQ(by_cause["cpu-fault"], cpu);
        EXPECT_EQ(by_cause["clear"], page_range(kZapFirst, kZapCount));
        EXPECT_EQ(by_cause.size(), 2u);
        for (const TraceEvent& ev : events) {
            EXPECT_EQ(ev.s64("trigger"), child.pid()) << ev.text;
            EXPECT_EQ(ev.pid, child.pid()) << "recorded in the faulting task: " << ev.text;
        }
    }

    // A device atomic on a held page, and one on a revoked page without re-acquiring.
    const AccessResult added = dev.access(addr(0), AccessOp::Add, 5);
    std::error_code stale;
    try {
        dev.access(addr(kWrittenPage), AccessOp::Read);
    } catch (const std::system_error& e) {
        stale = e.code();
    }
    EXPECT_EQ(stale.value(), ESTALE);
    {
        SCOPED_TRACE("device atomics");
        const auto events = take();
        ASSERT_EQ(events.size(), 2u);
        ASSERT_EQ(events[0].name, "devexcl_access");
        EXPECT_EQ(events[0].u64("ctx"), ctx);
        EXPECT_EQ(events[0].u64("addr"), addr(0));
        EXPECT_EQ(events[0].str("op"), "add");
        EXPECT_EQ(events[0].u64("value"), 5u);
        EXPECT_EQ(events[0].u64("result"), added.old_value);
        EXPECT_EQ(events[0].u64("result"), 1000u);
        EXPECT_EQ(events[0].str("path"), "held");
        EXPECT_EQ(events[0].s64("ret"), 0);
        ASSERT_EQ(events[1].name, "devexcl_access");
        EXPECT_EQ(events[1].u64("addr"), addr(kWrittenPage));
        EXPECT_EQ(events[1].str("op"), "read");
        EXPECT_EQ(events[1].s64("ret"), -ESTALE);
    }

    // Re-acquires, as a device fault: a page the CPU took back, then one
    // the device never held.
    const std::vector<Revocation> log_before = dev.revocations();
    const auto revoked_read_page = std::find_if(
        log_before.begin(), log_before.end(),
        [&](const Revocation& r) { return r.start <= addr(kReadPage) && addr(kReadPage) < r.end; });
    ASSERT_NE(revoked_read_page, log_before.end());
    for (std::uint32_t page : {kReadPage, kNeverMarkedPage}) {
        SCOPED_TRACE("re-acquire of page " + std::to_string(page));
        const AccessResult r = dev.access(addr(page), AccessOp::Add, 1, 0, /*reacquire=*/true);
        EXPECT_EQ(r.path, AccessPath::Reacquired);
        const auto events = take();
        ASSERT_GE(events.size(), 3u);
        // Each attempt is a mark batch; then the re-acquire; then the access.
        const TraceEvent& re = events[events.size() - 2];
        const TraceEvent& access = events.back();
        ASSERT_EQ(re.name, "devexcl_reacquire");
        ASSERT_EQ(access.name, "devexcl_access");
        const MarkSums sums = check_marks(events, ctx, mm, true);
        EXPECT_EQ(sums.batches, events.size() - 2) << "nothing else";
        EXPECT_EQ(static_cast<std::int64_t>(sums.batches), re.s64("attempts"));
        EXPECT_EQ(named(events, "devexcl_mark").back().u64("converted"), 1u);
        EXPECT_EQ(re.u64("ctx"), ctx);
        EXPECT_EQ(re.u64("addr"), addr(page));
        EXPECT_EQ(re.s64("ret"), 0);
        if (page == kReadPage) {
            EXPECT_EQ(re.u64("prev_seq"), revoked_read_page->seq);
            EXPECT_EQ(re.str("prev_cause"), "cpu-fault");
        } else {
            EXPECT_EQ(re.u64("prev_seq"), 0u);
            EXPECT_EQ(re.str("prev_cause"), "none");
        }
        EXPECT_EQ(access.u64("addr"), addr(page));
        EXPECT_EQ(access.str("path"), "reacquired");
        EXPECT_EQ(access.u64("result"), r.old_value);
        EXPECT_EQ(access.s64("ret"), 0);
    }

    // Re-mark the range: batches only where the device holds nothing.
    const MarkResult remarked = dev.mark(base, kMarkPages * kPage);
    ASSERT_TRUE(remarked.all_held());
    {
        SCOPED_TRACE("re-mark");
        const auto events = take();
        EXPECT_EQ(events.size(), named(events, "devexcl_mark").size()) << "marks only";
        const MarkSums sums = check_marks(events, ctx, mm, false);
        const auto not_held = static_cast<std::uint64_t>(
            std::count_if(remarked.pages.begin(), remarked.pages.end(),
                          [](const PageMark& p) { return p.code != MarkCode::AlreadyHeld; }));
        EXPECT_EQ(not_held, 6u) << "two written, four zapped";
        EXPECT_EQ(sums.done, not_held);
        EXPECT_EQ(sums.converted, remarked.marked);
        EXPECT_EQ(sums.refused, remarked.failed);
        for (const TraceEvent& ev : named(events, "devexcl_mark")) {
            const std::uint64_t first = (ev.u64("start") - base) / kPage;
            for (std::uint64_t i = first; i < first + ev.u64("done"); ++i) {
                EXPECT_EQ(remarked.pages.at(i).code, MarkCode::Marked) << "page " << i;
            }
        }
    }

    // Dumps of the whole mapping: each message's cursor is the one the
    // reader saw, in both formats.
    for (DumpFormat format : {DumpFormat::EmptyRuns, DumpFormat::EveryRecord}) {
        const bool runs = format == DumpFormat::EmptyRuns;
        SCOPED_TRACE(runs ? "dump with runs" : "dump, a record a page");
        RangeInspector inspector(format);
        std::vector<std::uint64_t> cursors;
        std::uint64_t present = 0;
        const std::uint64_t end = addr(kMapPages);
        inspector.inspect(
            child.pid(), base, end, /*walk_rmap=*/false,
            [&](const PageInfo& p) { present += p.pte != PteKind::None; },
            [&](std::uint64_t cursor) { cursors.push_back(cursor); });
        EXPECT_EQ(present, kMarkPages + 1);
        const auto events = take();
        ASSERT_EQ(events.size(), cursors.size()) << "one event a message";
        std::uint64_t from = base, records = 0, runs_sent = 0;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const TraceEvent& ev = events[i];
            SCOPED_TRACE(ev.text);
            ASSERT_EQ(ev.name, "devexcl_dump");
            EXPECT_EQ(ev.s64("pid"), child.pid());
            EXPECT_EQ(ev.u64("mm"), mm);
            EXPECT_EQ(ev.u64("from"), from);
            EXPECT_EQ(ev.u64("cursor"), cursors[i]);
            EXPECT_EQ(ev.u64("end"), end);
            EXPECT_EQ(ev.u64("pages"), (ev.u64("cursor") - from) / kPage);
            EXPECT_GT(ev.s64("ret"), 0) << "the message's length";
            if (!runs) {
                EXPECT_EQ(ev.u64("records"), ev.u64("pages"));
                EXPECT_EQ(ev.u64("runs"), 0u);
            }
            records += ev.u64("records");
            runs_sent += ev.u64("runs");
            from = ev.u64("cursor");
        }
        EXPECT_EQ(from, end);
        if (runs) {
            // Every present page is a record; a run of holes on each side of page 40.
            EXPECT_EQ(records, kMarkPages + 1);
            EXPECT_GE(runs_sent, 2u);
        } else {
            EXPECT_EQ(records, kMapPages);
            EXPECT_GT(events.size(), 1u) << "a record a page takes several messages";
        }
    }

    // Release: every held page, in batches with the device's own cause.
    const ReleaseResult released = dev.release(base, kMapPages * kPage);
    EXPECT_EQ(released.released, kMarkPages + 1);
    {
        SCOPED_TRACE("release");
        const auto events = take();
        EXPECT_EQ(events.size(), named(events, "devexcl_revoke").size()) << "revocations only";
        std::uint64_t pages = 0;
        for (const TraceEvent& ev : events) {
            EXPECT_EQ(ev.str("cause"), "released") << ev.text;
            EXPECT_EQ(ev.s64("trigger"), ::getpid()) << ev.text;
            pages += ev.u64("npages");
        }
        EXPECT_EQ(pages, released.released);
    }

    // Every revocation event is a batch of the log, and every batch has its event.
    const std::vector<Revocation> log = dev.revocations();
    const std::vector<TraceEvent> revokes = named(all, "devexcl_revoke");
    ASSERT_EQ(revokes.size(), log.size());
    for (std::size_t i = 0; i < log.size(); ++i) {
        SCOPED_TRACE(revokes[i].text);
        EXPECT_EQ(revokes[i].u64("ctx"), ctx);
        EXPECT_EQ(revokes[i].u64("seq"), log[i].seq);
        EXPECT_EQ(revokes[i].str("cause"), to_string(log[i].cause));
        EXPECT_EQ(revokes[i].u64("start"), log[i].start);
        EXPECT_EQ(revokes[i].u64("end"), log[i].end);
        EXPECT_EQ(revokes[i].u64("npages"), log[i].npages);
        EXPECT_EQ(revokes[i].u64("trigger"), log[i].trigger_pid);
    }
    const Counters counters = dev.counters();
    EXPECT_EQ(counters.revocations, log.size());
    std::map<std::string, int> seen;
    for (const TraceEvent& ev : all) {
        expect_no_kernel_pointer(ev);
        ++seen[ev.name];
    }
    std::string counts;
    for (const auto& [name, n] : seen) {
        counts += " " + name + " " + std::to_string(n);
    }
    std::printf("# traced in %s:%s\n", root_.c_str(), counts.c_str());

    child.channel().send(Command{'q', 0, 0});
    const int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status)) << "wait status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// perf (and bpftrace, which attaches the same way) counts the tracepoint
// per task through perf_event_open(), whether or not tracefs enabled it.
TEST_F(Trace, PerfCountsEveryRevocationOfItsTask) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof(attr);
    attr.config = trace_event_id(root_, "devexcl", "devexcl_revoke");
    attr.disabled = 1;
    UniqueFd perf(
        static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC)));
    if (!perf) {
        throw_last_errno("perf_event_open devexcl:devexcl_revoke");
    }
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    ASSERT_GE(mem->pages(), 4u);
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mem->addr(), 4 * kPage).all_held());
    ASSERT_EQ(::ioctl(perf.get(), PERF_EVENT_IOC_ENABLE, 0), 0);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(*mem->word(i), mem->initial_word(i));
    }
    ASSERT_EQ(::ioctl(perf.get(), PERF_EVENT_IOC_DISABLE, 0), 0);
    std::uint64_t count = 0;
    ASSERT_EQ(::read(perf.get(), &count, sizeof(count)), static_cast<ssize_t>(sizeof(count)));
    EXPECT_EQ(count, 4u) << "one a CPU fault";
    EXPECT_EQ(count, dev.revocations().size());
}

}  // namespace
