// The "devexcl" generic netlink family, through libnl: events and their
// entitlement and drop accounting, rmap dumps and their consistency, stats,
// and malformed requests (errno and extack message asserted).
#include <fcntl.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/events.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/module_stats.hpp"
#include "devexcl/range_inspector.hpp"
#include "devexcl/unique_fd.hpp"
#include "devexcl/vma_inspector.hpp"
#include "genl_socket.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/run_as.hpp"
#include "lib/sysfs.hpp"
#include "lib/wait.hpp"

using namespace devexcl;
using namespace devexcl::test;
using namespace std::chrono_literals;

namespace {

const std::size_t kPage = TestMemory::page_size();

class Netlink : public testing::Test {
protected:
    void SetUp() override { ensure_module_loaded(); }
};

TEST_F(Netlink, StatsCountContextsAndMarks) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    auto before = module_stats();
    ASSERT_TRUE(before.count("contexts_open"));
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
    auto during = module_stats();
    EXPECT_EQ(during["contexts_open"], before["contexts_open"] + 1);
    EXPECT_EQ(during["contexts_total"], before["contexts_total"] + 1);
    EXPECT_EQ(during["pages_marked"], before["pages_marked"] + mem->pages());
}

TEST_F(Netlink, ACpuFaultProducesOneEventWithCauseRangeAndTrigger) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    const std::uint64_t ctx = dev.counters().context_id;
    EventListener listener({ctx, 0});
    ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
    EXPECT_EQ(*mem->word(5), mem->initial_word(5));
    auto ev = listener.next(10s);
    ASSERT_TRUE(ev.has_value()) << "no event within 10 s";
    EXPECT_EQ(ev->ctx_id, ctx);
    EXPECT_EQ(ev->target_pid, ::getpid());
    EXPECT_EQ(ev->cause, Cause::CpuFault);
    EXPECT_EQ(ev->start, mem->page_addr(5));
    EXPECT_EQ(ev->end, mem->page_addr(6));
    EXPECT_EQ(ev->npages, 1u);
    EXPECT_EQ(ev->trigger_pid, ::getpid());
    EXPECT_FALSE(ev->trigger_comm.empty());
    EXPECT_EQ(ev->dropped, 0u);
    // The whole log: exactly one batch, so exactly one event was due.
    auto log = dev.revocations();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(ev->seq, log[0].seq);
    EXPECT_GT(ev->timestamp_ns, 0u);
}

// A filter may name any thread: it selects the thread's process, which is
// what contexts record as their target.
TEST_F(Netlink, APidFilterNamingAThreadSelectsItsProcess) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    std::thread thread([&] {
        tid = static_cast<pid_t>(::gettid());
        while (!done.load()) {
            std::this_thread::sleep_for(1ms);
        }
    });
    while (tid.load() == 0) {
        std::this_thread::sleep_for(1ms);
    }
    EventListener listener({0, tid.load()});
    done = true;
    thread.join();
    ASSERT_TRUE(dev.mark(mem->addr(), kPage).all_held());
    (void)*mem->word(0);
    auto ev = listener.next(10s);
    ASSERT_TRUE(ev.has_value()) << "the thread's process was not matched";
    EXPECT_EQ(ev->target_pid, ::getpid());
    EXPECT_EQ(ev->cause, Cause::CpuFault);
}

TEST_F(Netlink, DumpMatchesTheIoctlRecordForRecord) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    // Without CONFIG_DEVICE_PRIVATE the dump is checked on present pages only.
    const bool exclusive = kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE);
    if (exclusive) {
        ASSERT_TRUE(dev.mark(mem->addr(), 2 * kPage).all_held());
    }
    RangeInspector inspector;
    std::vector<PageInfo> dumped;
    std::uint64_t cursor = inspector.inspect(::getpid(), mem->addr(), mem->addr() + mem->length(),
                                             true, [&](const PageInfo& p) { dumped.push_back(p); });
    EXPECT_EQ(cursor, mem->addr() + mem->length());
    auto direct = dev.inspect_range(::getpid(), mem->addr(), mem->length(), true);
    ASSERT_EQ(dumped.size(), direct.size());
    for (std::size_t i = 0; i < dumped.size(); ++i) {
        EXPECT_EQ(dumped[i].addr, direct[i].addr);
        EXPECT_EQ(dumped[i].pte, direct[i].pte);
        EXPECT_EQ(dumped[i].pfn, direct[i].pfn);
        EXPECT_EQ(dumped[i].mapcount, direct[i].mapcount);
        EXPECT_EQ(dumped[i].nr_mappings, direct[i].nr_mappings);
        EXPECT_EQ(dumped[i].anon_vma_id, direct[i].anon_vma_id);
    }
    if (!exclusive) {
        EXPECT_EQ(dumped[0].pte, PteKind::Present);
        return;
    }
    EXPECT_EQ(dumped[0].pte, PteKind::DeviceExclusiveWrite);
    EXPECT_EQ(dumped[0].mapcount_mismatch(), !kernel_shows(Behaviour::MapcountKeptWhileExclusive))
        << behaviour_reason(Behaviour::MapcountKeptWhileExclusive);
}

// --- Dumps ---

// What a page the tests mark shows: device-exclusive, or still present on
// a kernel that cannot make the entry (no CONFIG_DEVICE_PRIVATE).
PteKind marked_pte() {
    return kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE) ? PteKind::DeviceExclusiveWrite
                                                       : PteKind::Present;
}

bool same_view(const PageInfo& a, const PageInfo& b) {
    // LRU and the refcount move on their own (per-CPU LRU batches hold references).
    const std::uint64_t volatile_flags = DEVEXCL_PAGE_LRU;
    return a.addr == b.addr && a.pte == b.pte && a.pte_flags == b.pte_flags &&
           (a.page_flags & ~volatile_flags) == (b.page_flags & ~volatile_flags) &&
           a.mapping == b.mapping && a.folio_order == b.folio_order && a.mapcount == b.mapcount &&
           a.folio_mapcount == b.folio_mapcount && a.index == b.index && a.pfn == b.pfn &&
           a.anon_vma_id == b.anon_vma_id && a.root_anon_vma_id == b.root_anon_vma_id &&
           a.rmap_flags == b.rmap_flags && a.nr_mappings == b.nr_mappings;
}

TEST_F(Netlink, AGibibyteDumpCompletesAndAgreesWithTheIoctlOnASample) {
    const std::size_t length = 1UL << 30;
    const std::size_t pages = length / kPage;
    Mapping big(length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    ASSERT_EQ(::madvise(big.data(), length, MADV_NOHUGEPAGE), 0);
    // A mix: every 16th page written, every 64th of those device-exclusive.
    for (std::size_t i = 0; i < pages; i += 16) {
        big.as<char>()[i * kPage] = 1;
    }
    Device dev = Device::open();
    for (std::size_t i = 0; i < pages && kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE); i += 1024) {
        ASSERT_TRUE(dev.mark(big.address() + i * kPage, kPage).all_held());
    }
    RangeInspector inspector;
    std::vector<PageInfo> records;
    records.reserve(pages);
    std::uint64_t messages = 0;
    std::uint64_t cursor = inspector.inspect(
        ::getpid(), big.address(), big.address() + length, /*walk_rmap=*/false,
        [&](const PageInfo& p) { records.push_back(p); }, [&](std::uint64_t) { ++messages; });
    EXPECT_EQ(cursor, big.address() + length);
    ASSERT_EQ(records.size(), pages);
    for (std::size_t i = 0; i < pages; ++i) {
        ASSERT_EQ(records[i].addr, big.address() + i * kPage) << "record " << i;
    }
    EXPECT_GT(messages, 1u) << "streamed in many messages";
    std::mt19937_64 rng(42);
    for (int k = 0; k < 500; ++k) {
        std::size_t i = rng() % pages;
        if (k % 5 == 0) {
            i = (rng() % (pages / 1024)) * 1024;  // an exclusive page
        }
        PageInfo direct = dev.inspect_range(::getpid(), big.address() + i * kPage, kPage).at(0);
        EXPECT_TRUE(same_view(records[i], direct)) << "page " << i;
    }
    EXPECT_EQ(records[0].pte, marked_pte());
    EXPECT_EQ(records[16].pte, PteKind::Present);
    EXPECT_EQ(records[17].pte, PteKind::None);
}

TEST_F(Netlink, ADumpResumesFromACursor) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    RangeInspector inspector;
    std::vector<std::uint64_t> addrs;
    inspector.inspect(
        ::getpid(), mem->addr(), mem->addr() + mem->length(), false,
        [&](const PageInfo& p) { addrs.push_back(p.addr); }, {}, mem->page_addr(5));
    ASSERT_EQ(addrs.size(), 3u);
    EXPECT_EQ(addrs[0], mem->page_addr(5));
    EXPECT_EQ(addrs[2], mem->page_addr(7));
}

// 16 pages: 0, 4 and 5 written (5 device-exclusive where the kernel can
// make the entry, present where not), 8 read (the zero
// page), the rest holes, and the last 4 unmapped again. Tests check that
// the gap is still unmapped after their dumps: a mapping that landed there
// would explain a failure.
class SparseLayout {
public:
    static constexpr std::size_t kPages = 16;

    SparseLayout() : mem_(kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS) {
        if (::madvise(mem_.data(), mem_.size(), MADV_NOHUGEPAGE) != 0) {
            throw_last_errno("madvise");
        }
        for (std::size_t i : {0, 4, 5}) {
            mem_.as<char>()[i * kPage] = 1;
        }
        (void)mem_.as<volatile char>()[8 * kPage];
        if (!kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE)) {
            return;
        }
        if (auto r = dev_.mark(page(5), kPage); !r.all_held()) {
            throw std::system_error(r.pages.empty() ? 0 : r.pages[0].error, std::generic_category(),
                                    "mark page 5");
        }
    }
    void unmap_tail() {
        if (::munmap(mem_.as<char>() + 12 * kPage, 4 * kPage) != 0) {
            throw_last_errno("munmap");
        }
        mem_ = Mapping::adopt(mem_.release(), 12 * kPage);
    }
    bool tail_unmapped() const {
        // msync() fails with ENOMEM on a range with unmapped pages.
        return ::msync(reinterpret_cast<void*>(page(12)), 4 * kPage, MS_ASYNC) != 0 &&
               errno == ENOMEM;
    }
    std::uint64_t page(std::size_t i) const { return mem_.address() + i * kPage; }
    std::uint64_t end() const { return page(kPages); }
    Device& dev() { return dev_; }

private:
    Mapping mem_;
    Device dev_ = Device::open();
};

// One attribute of a dump message, as the kernel laid it out.
struct DumpAttr {
    int type;
    std::vector<devexcl_page_info> records;
    devexcl_empty_run run{};
    bool aligned;  // the payload starts 8-byte aligned in the (aligned) buffer
};

// The attributes of one dump message, pads left out, payloads copied.
std::vector<DumpAttr> dump_attrs(const nlmsghdr* nlh) {
    auto* gnlh = static_cast<genlmsghdr*>(nlmsg_data(const_cast<nlmsghdr*>(nlh)));
    std::vector<DumpAttr> attrs;
    nlattr* attr;
    int rem;
    nla_for_each_attr(attr, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
        if (nla_type(attr) == DEVEXCL_A_PAD) {
            continue;
        }
        DumpAttr a{
            nla_type(attr), {}, {}, reinterpret_cast<std::uintptr_t>(nla_data(attr)) % 8 == 0};
        if (a.type == DEVEXCL_A_PAGE_INFOS) {
            a.records.resize(static_cast<std::size_t>(nla_len(attr)) / sizeof(devexcl_page_info));
            std::memcpy(a.records.data(), nla_data(attr),
                        a.records.size() * sizeof(devexcl_page_info));
        } else if (a.type == DEVEXCL_A_EMPTY_RUN) {
            if (static_cast<std::size_t>(nla_len(attr)) != sizeof(devexcl_empty_run)) {
                ADD_FAILURE() << "a run of " << nla_len(attr) << " bytes";
                continue;
            }
            std::memcpy(&a.run, nla_data(attr), sizeof(a.run));
        }
        attrs.push_back(std::move(a));
    }
    return attrs;
}

TEST_F(Netlink, EmptyRunsCarryHolesAndGapsBetweenArraysOfRecords) {
    SparseLayout layout;
    GenlSocket sock;
    layout.unmap_tail();
    auto msg = sock.message(DEVEXCL_CMD_INSPECT, /*dump=*/true);
    nla_put_u32(msg.get(), DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
    nla_put_u64(msg.get(), DEVEXCL_A_START, layout.page(0));
    nla_put_u64(msg.get(), DEVEXCL_A_END, layout.end());
    nla_put_u32(msg.get(), DEVEXCL_A_FLAGS, DEVEXCL_INSPECT_EMPTY_RUNS);
    std::vector<DumpAttr> attrs;
    sock.stream(msg.get(), [&](const nlmsghdr* nlh) {
        for (DumpAttr& a : dump_attrs(nlh)) {
            attrs.push_back(std::move(a));
        }
    });
    auto addrs = [](const DumpAttr& a) {
        std::vector<std::uint64_t> v;
        for (const auto& r : a.records) {
            v.push_back(r.addr);
        }
        return v;
    };
    auto is_run = [](const DumpAttr& a, std::uint64_t addr, std::uint64_t npages, int kind) {
        return a.type == DEVEXCL_A_EMPTY_RUN && a.run.addr == addr && a.run.npages == npages &&
               a.run.pte_kind == kind && a.run.pte_flags == 0;
    };
    // Pages 0 | 1-3 | 4-5 | 6-7 | 8 (the zero page: a record) | 9-11 | 12-15 unmapped.
    ASSERT_EQ(attrs.size(), 8u);
    EXPECT_EQ(attrs[0].type, DEVEXCL_A_PAGE_INFOS);
    EXPECT_EQ(addrs(attrs[0]), std::vector<std::uint64_t>{layout.page(0)});
    EXPECT_TRUE(is_run(attrs[1], layout.page(1), 3, DEVEXCL_PTE_NONE));
    EXPECT_EQ(addrs(attrs[2]), (std::vector<std::uint64_t>{layout.page(4), layout.page(5)}));
    EXPECT_EQ(attrs[2].records[1].pte_kind, kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE)
                                                ? DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE
                                                : DEVEXCL_PTE_PRESENT);
    EXPECT_TRUE(is_run(attrs[3], layout.page(6), 2, DEVEXCL_PTE_NONE));
    EXPECT_EQ(addrs(attrs[4]), std::vector<std::uint64_t>{layout.page(8)});
    EXPECT_TRUE(attrs[4].records[0].page_flags & DEVEXCL_PAGE_ZERO);
    EXPECT_TRUE(is_run(attrs[5], layout.page(9), 3, DEVEXCL_PTE_NONE));
    EXPECT_TRUE(is_run(attrs[6], layout.page(12), 4, DEVEXCL_PTE_NO_VMA));
    EXPECT_EQ(attrs[7].type, DEVEXCL_A_CURSOR);
    // Arrays and runs; the cursor is a u64 libnl reads with memcpy().
    for (std::size_t i = 0; i + 1 < attrs.size(); ++i) {
        EXPECT_TRUE(attrs[i].aligned) << "attribute " << i << " payload not 8-byte aligned";
    }
    EXPECT_TRUE(layout.tail_unmapped());
}

TEST_F(Netlink, EmptyRunsExpandToTheRecordsOfEveryRecordDumpsAndTheIoctl) {
    SparseLayout layout;
    RangeInspector runs(DumpFormat::EmptyRuns), every(DumpFormat::EveryRecord);
    layout.unmap_tail();
    for (bool walk_rmap : {false, true}) {
        std::vector<PageInfo> from_runs, from_every;
        runs.inspect(::getpid(), layout.page(0), layout.end(), walk_rmap,
                     [&](const PageInfo& p) { from_runs.push_back(p); });
        every.inspect(::getpid(), layout.page(0), layout.end(), walk_rmap,
                      [&](const PageInfo& p) { from_every.push_back(p); });
        auto direct = layout.dev().inspect_range(::getpid(), layout.page(0),
                                                 layout.end() - layout.page(0), walk_rmap);
        ASSERT_EQ(from_runs.size(), SparseLayout::kPages);
        ASSERT_EQ(from_every.size(), SparseLayout::kPages);
        ASSERT_EQ(direct.size(), SparseLayout::kPages);
        for (std::size_t i = 0; i < SparseLayout::kPages; ++i) {
            EXPECT_TRUE(same_view(from_runs[i], direct[i]))
                << "page " << i << " rmap " << walk_rmap;
            EXPECT_TRUE(same_view(from_every[i], direct[i]))
                << "page " << i << " rmap " << walk_rmap;
        }
        EXPECT_EQ(from_runs[12].pte, PteKind::NoVma);
        EXPECT_EQ(from_runs[5].pte, marked_pte());
    }
    EXPECT_TRUE(layout.tail_unmapped());
}

// netlink sizes a dump's first skb before the first callback, from what
// the socket last read: nothing, on a socket that only sent the request.
TEST_F(Netlink, ADumpOnASocketThatHasReadNothingStillFillsLargeAlignedMessages) {
    const std::size_t pages = 1024;
    Mapping mem(pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    ASSERT_EQ(::madvise(mem.data(), mem.size(), MADV_NOHUGEPAGE), 0);
    for (std::size_t i = 0; i < pages; ++i) {
        mem.as<char>()[i * kPage] = 1;
    }
    GenlSocket resolver;
    const int family = genl_ctrl_resolve(resolver.get(), DEVEXCL_GENL_NAME);
    ASSERT_GT(family, 0);
    for (std::uint32_t flags : {0u, static_cast<std::uint32_t>(DEVEXCL_INSPECT_EMPTY_RUNS)}) {
        UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
        ASSERT_GE(fd.get(), 0) << std::strerror(errno);
        std::unique_ptr<nl_msg, void (*)(nl_msg*)> msg(nlmsg_alloc(), nlmsg_free);
        ASSERT_NE(msg, nullptr);
        ASSERT_NE(genlmsg_put(msg.get(), NL_AUTO_PORT, 1, family, 0, NLM_F_REQUEST | NLM_F_DUMP,
                              DEVEXCL_CMD_INSPECT, DEVEXCL_GENL_VERSION),
                  nullptr);
        nla_put_u32(msg.get(), DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
        nla_put_u64(msg.get(), DEVEXCL_A_START, mem.address());
        nla_put_u64(msg.get(), DEVEXCL_A_END, mem.address() + mem.size());
        nla_put_u32(msg.get(), DEVEXCL_A_FLAGS, flags);
        const nlmsghdr* request = nlmsg_hdr(msg.get());
        ASSERT_EQ(::send(fd.get(), request, request->nlmsg_len, 0),
                  static_cast<ssize_t>(request->nlmsg_len));
        std::vector<std::uint64_t> buffer(GenlSocket::kReceiveBuffer / sizeof(std::uint64_t));
        const ssize_t got = ::recv(fd.get(), buffer.data(), GenlSocket::kReceiveBuffer, 0);
        ASSERT_GT(got, 0) << std::strerror(errno);
        auto* nlh = reinterpret_cast<nlmsghdr*>(buffer.data());
        ASSERT_EQ(nlh->nlmsg_type, family) << "flags " << flags << ": an error or an empty dump";
        // Nearly the dump's 64 KiB, where netlink would take at most 32 KiB from a read.
        EXPECT_GT(nlh->nlmsg_len, 60u * 1024) << "flags " << flags;
        std::size_t records = 0;
        for (const DumpAttr& a : dump_attrs(nlh)) {
            if (a.type == DEVEXCL_A_PAGE_INFOS) {
                EXPECT_TRUE(a.aligned) << "flags " << flags;
                records += a.records.size();
            }
        }
        EXPECT_GT(records, 256u) << "flags " << flags;
    }
}

TEST_F(Netlink, AnUntouchedGibibyteComesAsRunsOfBoundedMessages) {
    const std::size_t length = 1UL << 30;
    const std::size_t pages = length / kPage;
    Mapping big(length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    RangeInspector inspector;
    std::uint64_t last = big.address(), expected = big.address(), widest = 0, holes = 0;
    bool in_order = true;
    inspector.inspect(
        ::getpid(), big.address(), big.address() + length, false,
        [&](const PageInfo& p) {
            in_order = in_order && p.addr == expected;
            expected += kPage;
            holes += p.pte == PteKind::None && !p.has_page();
        },
        [&](std::uint64_t cursor) {
            widest = std::max(widest, (cursor - last) / kPage);
            last = cursor;
        });
    EXPECT_TRUE(in_order) << "runs longer than a batch expand to consecutive addresses";
    EXPECT_EQ(expected, big.address() + length);
    EXPECT_EQ(holes, pages);
    // The work of one callback, under the target's mmap_lock, is bounded.
    EXPECT_EQ(widest, std::uint64_t{DEVEXCL_DUMP_MAX_PAGES});
    EXPECT_EQ(last, big.address() + length);
}

TEST_F(Netlink, EachDumpFormatAsksForWhatItNames) {
    // 16 MiB of holes: one message with runs, 32 of 128 records without.
    const std::size_t length = 16UL << 20;
    Mapping holes(length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    auto messages = [&](DumpFormat format) {
        RangeInspector inspector(format);
        std::uint64_t count = 0;
        inspector.inspect(
            ::getpid(), holes.address(), holes.address() + length, false, [](const PageInfo&) {},
            [&](std::uint64_t) { ++count; });
        return count;
    };
    EXPECT_EQ(messages(DumpFormat::EmptyRuns), 1u);
    EXPECT_GE(messages(DumpFormat::EveryRecord), length / kPage / 512);
}

// A target that keeps changing its memory: munmap, mmap, writes, all racing the dump.
class MutatingTarget {
public:
    MutatingTarget(std::size_t pages) : pages_(pages) {
        int ready[2];
        if (::pipe2(ready, O_CLOEXEC) != 0) {
            throw_last_errno("pipe2");
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            const std::size_t page = TestMemory::page_size();
            auto* base = static_cast<char*>(::mmap(nullptr, pages * page, PROT_READ | PROT_WRITE,
                                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
            std::uint64_t addr = reinterpret_cast<std::uintptr_t>(base);
            if (::write(ready[1], &addr, sizeof(addr)) != sizeof(addr)) {
                ::_exit(1);
            }
            std::mt19937 rng(7);
            for (;;) {
                std::size_t i = rng() % pages;
                switch (rng() % 4) {
                    case 0:
                        ::munmap(base + i * page, page);
                        break;
                    case 1:
                        ::mmap(base + i * page, page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                        break;
                    case 2:
                        ::madvise(base + i * page, page, MADV_DONTNEED);
                        break;
                    default:
                        ::mmap(base + i * page, page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                        base[i * page] = 1;
                }
            }
        }
        ::close(ready[1]);
        if (::read(ready[0], &addr_, sizeof(addr_)) != sizeof(addr_)) {
            throw_last_errno("read target address");
        }
        ::close(ready[0]);
    }
    ~MutatingTarget() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    MutatingTarget(const MutatingTarget&) = delete;
    MutatingTarget& operator=(const MutatingTarget&) = delete;

    pid_t pid() const { return pid_; }
    std::uint64_t addr() const { return addr_; }
    std::size_t length() const { return pages_ * TestMemory::page_size(); }

private:
    std::size_t pages_;
    pid_t pid_ = -1;
    std::uint64_t addr_ = 0;
};

TEST_F(Netlink, ADumpOfAMutatingTargetListsEveryPageExactlyOnceInOrder) {
    MutatingTarget target(16384);
    RangeInspector inspector;
    for (int round = 0; round < 5; ++round) {
        std::uint64_t expected = target.addr();
        bool in_order = true;
        inspector.inspect(target.pid(), target.addr(), target.addr() + target.length(), true,
                          [&](const PageInfo& p) {
                              in_order = in_order && p.addr == expected;
                              expected += kPage;
                          });
        EXPECT_TRUE(in_order) << "round " << round;
        EXPECT_EQ(expected, target.addr() + target.length()) << "round " << round;
    }
}

TEST_F(Netlink, ATargetThatExitsMidDumpEndsItWithEsrch) {
    MutatingTarget target(65536);
    RangeInspector inspector;
    std::uint64_t records = 0;
    bool killed = false;
    try {
        inspector.inspect(target.pid(), target.addr(), target.addr() + target.length(), false,
                          [&](const PageInfo&) {
                              if (++records == 1000 && !killed) {
                                  ::kill(target.pid(), SIGKILL);
                                  ::waitpid(target.pid(), nullptr, 0);
                                  killed = true;
                              }
                          });
        ADD_FAILURE() << "the dump outlived its target";
    } catch (const NetlinkError& e) {
        EXPECT_EQ(errno_of(e), ESRCH) << e.what();
    }
    EXPECT_TRUE(killed);
    EXPECT_LT(records, 65536u);
}

// --- Entitlement and drops ---

TEST_F(Netlink, AnUnprivilegedListenerGetsNoEventAboutAnotherUsersProcess) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    WorldAccessibleNode open_to_all;
    int subscribed[2], revoked[2];
    ASSERT_EQ(::pipe(subscribed), 0);
    ASSERT_EQ(::pipe(revoked), 0);
    pid_t child = ::fork();
    if (child == 0) {
        ::close(subscribed[0]);
        ::close(revoked[1]);
        int ret = run_as_nobody([&] {
            EventListener listener;  // not CAP_SYS_ADMIN: only its own contexts
            char c = 0;
            if (::write(subscribed[1], &c, 1) != 1 || ::read(revoked[0], &c, 1) != 1) {
                return 10;
            }
            // Its own revocation is queued after root's: had root's been
            // delivered here, it would arrive first.
            auto mem = TestMemory::create(MemoryKind::PrivateAnon);
            Device dev = Device::open();
            const std::uint64_t mine = dev.counters().context_id;
            if (!dev.mark(mem->addr(), kPage).all_held()) {
                return 11;
            }
            (void)*mem->word(0);
            auto ev = listener.next(10s);
            if (!ev) {
                return 12;  // not even its own event
            }
            return ev->ctx_id == mine && ev->target_pid == ::getpid() ? 0 : 13;
        });
        ::_exit(ret);
    }
    ::close(subscribed[1]);
    ::close(revoked[0]);
    char c;
    ASSERT_EQ(::read(subscribed[0], &c, 1), 1);
    {
        // Root's own context: a revocation the unprivileged listener must not see.
        auto mem = TestMemory::create(MemoryKind::PrivateAnon);
        Device dev = Device::open();
        ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
        for (std::size_t i = 0; i < mem->pages(); ++i) {
            (void)*mem->word(i);
        }
    }
    ASSERT_EQ(::write(revoked[1], &c, 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "13: it received root's event; 12: not even its own";
}

TEST_F(Netlink, ATinySocketBufferLosesEventsButCountsEveryOne) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    ModuleStatsReader stats;
    auto stats_before = stats.read();
    // The smallest receive buffer the kernel allows holds a handful of events.
    EventListener listener({dev.counters().context_id, 0}, /*rcvbuf=*/1);
    constexpr int kEvents = 300;
    for (int i = 0; i < kEvents; ++i) {
        ASSERT_TRUE(dev.mark(mem->addr(), kPage).all_held());
        (void)*mem->word(0);
    }
    // Wait until the kernel tried to deliver all of them.
    wait_until(
        [&] {
            auto s = stats.read();
            return (s["events_sent"] - stats_before["events_sent"]) +
                       (s["events_dropped"] - stats_before["events_dropped"]) >=
                   static_cast<std::uint64_t>(kEvents);
        },
        30s, 10ms);
    std::vector<Event> got = listener.drain(200ms);
    ASSERT_FALSE(got.empty());
    ASSERT_LT(got.size(), static_cast<std::size_t>(kEvents)) << "nothing overflowed";
    // One more revocation: delivery resumes, and the events that arrive say
    // how many were lost. The wait above counts module-wide deliveries, so
    // some of ours may still come before it: read up to its sequence number.
    ASSERT_TRUE(dev.mark(mem->addr(), kPage).all_held());
    (void)*mem->word(0);
    const std::uint64_t last_seq = kEvents + 1;
    while (got.back().seq != last_seq) {
        auto e = listener.next(10s);
        ASSERT_TRUE(e.has_value()) << "no event after seq " << got.back().seq;
        got.push_back(*e);
    }
    std::uint64_t dropped = 0;
    for (const Event& e : got) {
        dropped += e.dropped;
    }
    EXPECT_GT(dropped, 0u) << "the loss was never reported";
    EXPECT_EQ(got.size() + dropped, last_seq)
        << "received " << got.size() << ", reported dropped " << dropped;
    auto stats_after = stats.read();
    EXPECT_EQ(stats_after["events_dropped"] - stats_before["events_dropped"], dropped);
}

// DEVEXCL_CMD_INSPECT_VMA answers what DEVEXCL_IOC_INSPECT_VMA answers.
TEST_F(Netlink, VmaInspectionAgreesWithTheIoctl) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    const VmaInspection by_ioctl = dev.inspect_vma(::getpid(), mem->addr());
    const VmaInspection by_netlink = VmaInspector{}.inspect(::getpid(), mem->addr());
    EXPECT_EQ(by_netlink.start, by_ioctl.start);
    EXPECT_EQ(by_netlink.end, by_ioctl.end);
    EXPECT_EQ(by_netlink.flags, by_ioctl.flags);
    EXPECT_EQ(by_netlink.pgoff, by_ioctl.pgoff);
    EXPECT_EQ(by_netlink.mm_id, by_ioctl.mm_id);
    ASSERT_NE(by_ioctl.anon_vma_id, 0u) << "the memory was written";
    EXPECT_EQ(by_netlink.anon_vma_id, by_ioctl.anon_vma_id);
    EXPECT_EQ(by_netlink.chain_len, by_ioctl.chain_len);
    ASSERT_EQ(by_netlink.chain.size(), by_ioctl.chain.size());
    for (std::size_t i = 0; i < by_ioctl.chain.size(); ++i) {
        EXPECT_EQ(by_netlink.chain[i].id, by_ioctl.chain[i].id);
        EXPECT_EQ(by_netlink.chain[i].num_active_vmas, by_ioctl.chain[i].num_active_vmas);
    }
    EXPECT_EQ(by_netlink.lock.present, kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK));
    EXPECT_EQ(by_netlink.lock.attached, by_ioctl.lock.attached);
    if (!kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK)) {
        try {
            (void)VmaInspector{}.inspect(::getpid(), mem->addr(), VmaLookup::WithoutMmapLock);
            ADD_FAILURE() << "a lock-free lookup without per-VMA locks";
        } catch (const NetlinkError& e) {
            EXPECT_EQ(errno_of(e), EOPNOTSUPP) << e.what();
            EXPECT_FALSE(e.extack().empty());
        }
        return;
    }
    const VmaInspection unlocked =
        VmaInspector{}.inspect(::getpid(), mem->addr(), VmaLookup::WithoutMmapLock);
    EXPECT_EQ(unlocked.start, by_ioctl.start);
    EXPECT_EQ(unlocked.anon_vma_id, by_ioctl.anon_vma_id);
    EXPECT_TRUE(unlocked.chain.empty()) << "no chain without the mmap_lock";
    EXPECT_EQ(unlocked.chain_len, 0u);
    EXPECT_TRUE(unlocked.lock.attached);
}

// --- Malformed requests: errno and extack message ---

class MalformedNetlink : public Netlink {
protected:
    // Sends `cmd` with `fill`ing attributes; returns the error it gets.
    std::optional<NetlinkError> send(int cmd, bool dump, const std::function<void(nl_msg*)>& fill) {
        GenlSocket sock;
        auto msg = sock.message(cmd, dump);
        fill(msg.get());
        try {
            sock.transact(msg.get(), {}, "malformed request");
        } catch (const NetlinkError& e) {
            return e;
        }
        return std::nullopt;
    }
    std::optional<NetlinkError> inspect(const std::function<void(nl_msg*)>& fill) {
        return send(DEVEXCL_CMD_INSPECT, true, fill);
    }
    void put_valid_range(nl_msg* m) {
        nla_put_u64(m, DEVEXCL_A_START, mem_->addr());
        nla_put_u64(m, DEVEXCL_A_END, mem_->addr() + mem_->length());
    }
    void SetUp() override {
        Netlink::SetUp();
        mem_ = TestMemory::create(MemoryKind::PrivateAnon);
    }
    std::unique_ptr<TestMemory> mem_;
};

// Non-fatal, as its name says: the other requests of a test still run.
#define EXPECT_ERROR(result, err)                                                  \
    do {                                                                           \
        auto r_ = (result);                                                        \
        if (!r_.has_value()) {                                                     \
            ADD_FAILURE() << "the request succeeded";                              \
            break;                                                                 \
        }                                                                          \
        EXPECT_EQ(errno_of(*r_), (err)) << r_->what();                             \
        EXPECT_FALSE(r_->extack().empty()) << "no extack message: " << r_->what(); \
    } while (0)

TEST_F(MalformedNetlink, MissingAttributes) {
    EXPECT_ERROR(inspect([&](nl_msg* m) { put_valid_range(m); }), EINVAL);
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
                     nla_put_u64(m, DEVEXCL_A_START, mem_->addr());
                 }),
                 EINVAL);
}

TEST_F(MalformedNetlink, WrongTypes) {
    // A u64 where a u32 belongs, and a u8 where a u64 belongs.
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u64(m, DEVEXCL_A_PID, static_cast<std::uint64_t>(::getpid()));
                     put_valid_range(m);
                 }),
                 EINVAL);
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
                     nla_put_u8(m, DEVEXCL_A_START, 1);
                     nla_put_u64(m, DEVEXCL_A_END, mem_->addr() + mem_->length());
                 }),
                 EINVAL);
}

TEST_F(MalformedNetlink, OversizedAndOutOfRangeValues) {
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, 0x80000000u);
                     put_valid_range(m);
                 }),
                 ERANGE);
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, 0);
                     put_valid_range(m);
                 }),
                 ERANGE);
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
                     put_valid_range(m);
                     nla_put_u32(m, DEVEXCL_A_FLAGS, 0x80);
                 }),
                 EINVAL);
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
                     nla_put_u64(m, DEVEXCL_A_START, mem_->addr());
                     nla_put_u64(m, DEVEXCL_A_END, 0xffff888000000000ULL);
                 }),
                 EFAULT);
    EXPECT_ERROR(inspect([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
                     nla_put_u64(m, DEVEXCL_A_START, mem_->addr() + mem_->length());
                     nla_put_u64(m, DEVEXCL_A_END, mem_->addr());
                 }),
                 EINVAL);
}

TEST_F(MalformedNetlink, UnknownAttributeAndUnknownCommand) {
    EXPECT_ERROR(
        send(DEVEXCL_CMD_GET_STATS, false, [](nl_msg* m) { nla_put_u32(m, DEVEXCL_A_MAX + 5, 1); }),
        EINVAL);
    // 6.1's genl core rejects a command no op is registered for before
    // the family sees it, without an extack message: EOPNOTSUPP, bare.
    auto r = send(DEVEXCL_CMD_MAX + 20, false, [](nl_msg*) {});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(errno_of(*r), EOPNOTSUPP);
    EXPECT_TRUE(r->extack().empty()) << r->extack();
    // The kernel-to-user EVENT command cannot be sent to the kernel either.
    r = send(DEVEXCL_CMD_EVENT, false, [](nl_msg*) {});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(errno_of(*r), EOPNOTSUPP);
}

TEST_F(MalformedNetlink, VmaInspectionErrors) {
    const auto self = static_cast<std::uint32_t>(::getpid());
    auto vma = [&](const std::function<void(nl_msg*)>& fill) {
        return send(DEVEXCL_CMD_INSPECT_VMA, false, fill);
    };
    EXPECT_ERROR(vma([&](nl_msg* m) { nla_put_u64(m, DEVEXCL_A_ADDR, mem_->addr()); }), EINVAL);
    EXPECT_ERROR(vma([&](nl_msg* m) { nla_put_u32(m, DEVEXCL_A_PID, self); }), EINVAL);
    EXPECT_ERROR(vma([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, self);
                     nla_put_u32(m, DEVEXCL_A_ADDR, 0x1000);
                 }),
                 EINVAL);
    EXPECT_ERROR(vma([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, self);
                     nla_put_u64(m, DEVEXCL_A_ADDR, 0xffff888000000000ULL);
                 }),
                 EFAULT);
    EXPECT_ERROR(vma([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, self);
                     nla_put_u64(m, DEVEXCL_A_ADDR, 0x1000);
                 }),
                 EFAULT);
    // A flag of the page dumps, and one nobody defines.
    for (std::uint32_t flags : {std::uint32_t{DEVEXCL_INSPECT_EMPTY_RUNS}, 0x80u}) {
        EXPECT_ERROR(vma([&](nl_msg* m) {
                         nla_put_u32(m, DEVEXCL_A_PID, self);
                         nla_put_u64(m, DEVEXCL_A_ADDR, mem_->addr());
                         nla_put_u32(m, DEVEXCL_A_FLAGS, flags);
                     }),
                     EINVAL);
    }
    const auto pid_max = read_number("/proc/sys/kernel/pid_max");
    EXPECT_ERROR(vma([&](nl_msg* m) {
                     nla_put_u32(m, DEVEXCL_A_PID, static_cast<std::uint32_t>(pid_max - 1));
                     nla_put_u64(m, DEVEXCL_A_ADDR, mem_->addr());
                 }),
                 ESRCH);
}

TEST_F(MalformedNetlink, ADumpWithABogusCursor) {
    for (std::uint64_t cursor :
         {mem_->addr() - kPage, mem_->addr() + mem_->length() + kPage, mem_->addr() + 123}) {
        EXPECT_ERROR(inspect([&](nl_msg* m) {
                         nla_put_u32(m, DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
                         put_valid_range(m);
                         nla_put_u64(m, DEVEXCL_A_CURSOR, cursor);
                     }),
                     EINVAL);
    }
}

TEST_F(MalformedNetlink, SubscriptionErrors) {
    const auto pid_max = read_number("/proc/sys/kernel/pid_max");
    EXPECT_ERROR(send(DEVEXCL_CMD_SUBSCRIBE, false,
                      [&](nl_msg* m) {
                          nla_put_u32(m, DEVEXCL_A_FILTER_PID,
                                      static_cast<std::uint32_t>(pid_max - 1));
                      }),
                 ESRCH);
    EXPECT_ERROR(send(DEVEXCL_CMD_UNSUBSCRIBE, false, [](nl_msg*) {}), ENOENT);
}

TEST_F(MalformedNetlink, ForeignProcessAsNobodyIsEperm) {
    WorldAccessibleNode open_to_all;
    int ret = run_as_nobody([&] {
        auto r = inspect([&](nl_msg* m) {
            nla_put_u32(m, DEVEXCL_A_PID, 1);
            nla_put_u64(m, DEVEXCL_A_START, 0x400000);
            nla_put_u64(m, DEVEXCL_A_END, 0x401000);
        });
        return r && errno_of(*r) == EPERM && !r->extack().empty() ? 0 : 1;
    });
    EXPECT_EQ(ret, 0);
}

}  // namespace
