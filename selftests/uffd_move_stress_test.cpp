// Concurrent UFFDIO_MOVE (6.8) against devexcl's own rmap walk. Two mover
// threads move pages back and forth between two VMAs whose anon_vmas have
// different roots, while an inspector thread reports every page at both of
// its addresses, page by page and by range, with rmap walks. A move holds
// only the mmap_lock for reading or per-VMA locks, the folio lock and the
// page table locks (6.12 also the source anon_vma's lock), and the walk
// holds none of what would stop it, so a page may move while a report of
// it is made. What every report must still say:
// - a mapping is reported only through the anon_vma of the VMA it lies in:
//   at a src address with src's anon_vma, at a dst address with dst's;
// - never more than one mapping; a complete walk's one mapping agrees with
//   the page's anon_vma, root and index (its address's linear index);
// - a page that left the VMA's anon_vma before the walk found it is either
//   not walked at all (its anon_vma is not on the VMA's chain: then it is
//   the other VMA's; the walk says INCOMPLETE) or walked incomplete: the
//   walk holds the folio lock, as the kernel's anon walkers must (7.3
//   mm/rmap.c:3021; a move takes it, and on 7.x no anon_vma lock), and
//   rechecks folio->mapping and the index it read with the entry;
// - so a complete walk of a mapped page always finds its mapping.
// Each page carries a tag in its first and last words. The run is rounds
// of about a second; between rounds the movers stop, and each tag must be
// at exactly one of its page's two addresses: none lost, none duplicated.
//
// Two pairs of VMAs take the walk's two paths. In "alone", never forked,
// each anon_vma's tree holds its own VMA only, and the walk is the probe
// of the entry (the anon_walk_cache fast path). In "forked", a child
// forked before the parent wrote its pages again (COW: the parent's copies
// are exclusive, so they can move) keeps both trees shared, so the walk
// goes through walk_anon() and its recheck.
//
// DEVEXCL_MOVE_STRESS_SECONDS sets the duration (default 30).
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "devexcl/device.hpp"
#include "lib/anon_home.hpp"
#include "lib/env.hpp"
#include "lib/forked_child.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kmodule.hpp"
#include "lib/pagemap.hpp"
#include "lib/separate_anon_vmas.hpp"
#include "lib/uffd_move.hpp"

using namespace devexcl;
using namespace devexcl::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kPages = 16;  // per VMA
constexpr std::size_t kMovers = 2;
constexpr auto kRound = 1s;
// A page has one mapping: room for more shows a wrong report, not a truncated one.
constexpr std::size_t kMaxMappings = 4;
constexpr std::uint64_t kTagBase = 0x7e40'6d6f'7600'0000;
// Violations quoted in the failure message; all are counted.
constexpr std::size_t kQuoted = 8;

const std::uint64_t kPage = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));

std::uint64_t word(std::uint64_t addr, std::size_t i) {
    return reinterpret_cast<const volatile std::uint64_t*>(addr)[i];
}
const std::size_t kLastWord = kPage / 8 - 1;

// How the reports of one pair's pages came out.
struct ReportFigures {
    std::atomic<std::uint64_t> reports{0}, empty{0}, mapped{0};
    // Not walked: the page's anon_vma was not on the VMA's chain any more.
    std::atomic<std::uint64_t> left_before_walk{0};
    // Walked, flagged incomplete: walk_anon()'s recheck saw the folio move.
    std::atomic<std::uint64_t> incomplete{0};
    // Walked, complete, no mapping found: flagged as a mapcount mismatch.
    std::atomic<std::uint64_t> missed{0};
    // Of those, how many carried the index of the page's other address:
    // read while the page was there, before it came back.
    std::atomic<std::uint64_t> missed_with_other_index{0};
};

// Two VMAs with anon_vmas of different roots, and their pages' tags.
struct VmaPair {
    VmaPair(const char* pair_name, std::size_t pair_number)
        : name(pair_name), number(pair_number) {}

    const char* name;
    std::size_t number;
    SeparateAnonVmas vmas{kPages};
    AnonHome src, dst;
    ReportFigures figures;

    std::uint64_t tag(std::size_t i) const { return kTagBase | number << 16 | i; }
    void write_tags() {
        for (std::size_t i = 0; i < kPages; ++i) {
            auto* w = reinterpret_cast<volatile std::uint64_t*>(vmas.src(i));
            w[0] = tag(i);
            w[kLastWord] = ~tag(i);
        }
    }
    // The home of an address of this pair's, or nullptr.
    const AnonHome* home_of(std::uint64_t addr) const {
        return src.contains(addr) ? &src : dst.contains(addr) ? &dst : nullptr;
    }
    const AnonHome& other_than(const AnonHome& home) const { return &home == &src ? dst : src; }
};

// What the threads found wrong: all counted, the first few quoted.
class Violations {
public:
    void add(const std::string& what) {
        std::lock_guard<std::mutex> lock(lock_);
        if (quoted_.size() < kQuoted) {
            quoted_.push_back(what);
        }
        count_++;
    }
    std::uint64_t count() const { return count_.load(); }
    std::string quoted() const {
        std::lock_guard<std::mutex> lock(lock_);
        std::string out;
        for (const std::string& q : quoted_) {
            out += "\n  " + q;
        }
        return out;
    }

private:
    mutable std::mutex lock_;
    std::vector<std::string> quoted_;
    std::atomic<std::uint64_t> count_{0};
};

struct MoveFigures {
    std::atomic<std::uint64_t> moved{0};
    // First tries that found the page at the other end (ENOENT, EEXIST).
    std::atomic<std::uint64_t> wrong_way{0};
    // Both tries refused: another mover had the page.
    std::atomic<std::uint64_t> enoent{0}, eexist{0}, eagain{0};
};

class MoveStress {
public:
    MoveStress() {
        // The child is forked before any thread runs, and before alone's
        // VMAs have anon_vmas: anon_vma_fork() links the child's copy of a
        // VMA only into anon_vmas that exist, so alone's trees stay alone.
        forked_.vmas.give_each_an_anon_vma();
        forked_.write_tags();
        child_.emplace([](ChildChannel& ch) {
            ch.receive<char>();  // holds its copies until told or killed
            return 0;
        });
        forked_.write_tags();  // COW: the parent's pages become its own again
        alone_.vmas.give_each_an_anon_vma();
        alone_.write_tags();
        for (VmaPair* pair : pairs_) {
            uffd_.register_missing(pair->vmas.src(), pair->vmas.length());
            uffd_.register_missing(pair->vmas.dst(), pair->vmas.length());
            pair->src = AnonHome::of(dev_, me_, pair->vmas.src());
            pair->dst = AnonHome::of(dev_, me_, pair->vmas.dst());
        }
    }

    void check_setup() {
        for (const VmaPair* pair : pairs_) {
            SCOPED_TRACE(pair->name);
            ASSERT_NE(pair->src.root_id, pair->dst.root_id) << "two anon_vma roots";
        }
        // The child's VMAs hang off the parent's anon_vmas: their trees are shared.
        for (std::uint64_t addr : {forked_.vmas.src(), forked_.vmas.dst()}) {
            const VmaInspection v = dev_.inspect_vma(child_->pid(), addr);
            const std::uint64_t own = forked_.home_of(addr)->anon_vma_id;
            ASSERT_TRUE(std::any_of(v.chain.begin(), v.chain.end(), [own](const AnonVmaInfo& a) {
                return a.id == own;
            })) << "the child's VMA is on the parent's anon_vma";
        }
        check_settled("before the run");
    }

    void run(std::chrono::seconds duration) {
        const auto end = std::chrono::steady_clock::now() + duration;
        {
            std::jthread inspector(
                [this](std::stop_token stop) { guarded([&] { inspect(stop); }); });
            do {
                run_round(std::min(end, std::chrono::steady_clock::now() + kRound));
                check_tags();
                rounds_++;
            } while (std::chrono::steady_clock::now() < end && violations_.count() == 0 &&
                     !testing::Test::HasFailure());
        }  // the inspector stops here
        EXPECT_EQ(violations_.count(), 0u) << violations_.quoted();
        check_settled("after the run");
        report(duration);
        EXPECT_GT(moves_.moved.load(), 0u) << "nothing moved";
        for (const VmaPair* pair : pairs_) {
            EXPECT_GT(pair->figures.mapped.load(), 0u) << pair->name << ": no page seen mapped";
        }
    }

private:
    // A thread's exception is a violation: it stops the run, and says why.
    void guarded(const std::function<void()>& body) {
        try {
            body();
        } catch (const std::exception& e) {
            violations_.add(e.what());
        }
    }

    void run_round(std::chrono::steady_clock::time_point until) {
        std::vector<std::jthread> movers;
        for (std::size_t m = 0; m < kMovers; ++m) {
            // Each round and mover its own sequence of pages.
            const std::uint64_t seed = rounds_ * kMovers + m + 1;
            movers.emplace_back(
                [this, seed](std::stop_token stop) { guarded([&] { move_pages(stop, seed); }); });
        }
        while (std::chrono::steady_clock::now() < until && violations_.count() == 0) {
            std::this_thread::sleep_for(50ms);
        }
    }  // the movers stop and are joined here

    void move_pages(const std::stop_token& stop, std::uint64_t seed) {
        std::mt19937_64 rng(seed);
        while (!stop.stop_requested() && violations_.count() == 0) {
            const VmaPair& pair = *pairs_[rng() % pairs_.size()];
            const std::size_t i = rng() % kPages;
            // Where the page is, only the kernel knows: try one way, then the other.
            MoveOutcome out = uffd_.move(pair.vmas.dst(i), pair.vmas.src(i), kPage);
            if (out.error == ENOENT || out.error == EEXIST) {
                moves_.wrong_way++;
                out = uffd_.move(pair.vmas.src(i), pair.vmas.dst(i), kPage);
            }
            if (out.error == 0) {
                moves_.moved++;
                if (out.move != static_cast<std::int64_t>(kPage)) {
                    violations_.add("a one-page move moved " + std::to_string(out.move));
                }
            } else if (out.error == ENOENT || out.error == EEXIST || out.error == EAGAIN) {
                // The other mover moved it between the two tries, or is moving it.
                (out.error == ENOENT   ? moves_.enoent
                 : out.error == EEXIST ? moves_.eexist
                                       : moves_.eagain)++;
            } else {
                violations_.add(std::string("UFFDIO_MOVE of ") + pair.name + " page " +
                                std::to_string(i) + ": " + std::strerror(out.error));
            }
        }
    }

    void inspect(const std::stop_token& stop) {
        const Device dev = Device::open();
        while (!stop.stop_requested() && violations_.count() == 0) {
            for (VmaPair* pair : pairs_) {
                for (std::size_t i = 0; i < kPages; ++i) {
                    for (std::uint64_t addr : {pair->vmas.src(i), pair->vmas.dst(i)}) {
                        check_report(*pair, addr, dev.inspect_page(me_, addr, kMaxMappings));
                        page_reports_++;
                    }
                }
                for (std::uint64_t start : {pair->vmas.src(), pair->vmas.dst()}) {
                    for (const PageInfo& record :
                         dev.inspect_range(me_, start, pair->vmas.length(), true)) {
                        check_record(*pair, record, nullptr);
                        range_reports_++;
                    }
                }
            }
        }
    }

    void check_report(VmaPair& pair, std::uint64_t addr, const PageInspection& p) {
        if (p.page.addr != addr) {
            violation(pair, addr, p.page, "a report of another address");
            return;
        }
        check_record(pair, p.page, &p.mappings);
    }

    // One page's report; `mappings` is null for a range record, which only counts them.
    void check_record(VmaPair& pair, const PageInfo& page, const std::vector<RmapEntry>* mappings) {
        ReportFigures& f = pair.figures;
        const AnonHome& home = *pair.home_of(page.addr);
        f.reports++;
        if (!page.has_page()) {
            f.empty++;
            if (page.pte != PteKind::None) {
                violation(pair, page.addr, page, "an entry without a page");
            }
            return;
        }
        f.mapped++;
        if (page.mapping != MappingKind::Anon || page.nr_mappings > 1 ||
            (mappings && mappings->size() != page.nr_mappings)) {
            violation(pair, page.addr, page, "not one anonymous mapping");
            return;
        }
        if (mappings) {
            const std::size_t i = (page.addr - home.vm_start) / kPage;
            for (const RmapEntry& m : *mappings) {
                if (m.pid != me_ || (m.vaddr != pair.vmas.src(i) && m.vaddr != pair.vmas.dst(i))) {
                    violation(pair, page.addr, page, "a mapping at another page's address");
                    return;
                }
                if (m.anon_vma_id != pair.home_of(m.vaddr)->anon_vma_id) {
                    violation(pair, page.addr, page,
                              "a mapping through an anon_vma other than its VMA's");
                    return;
                }
            }
        }
        if (!page.walked()) {
            // The page's anon_vma was not on this VMA's chain: it had moved to the other.
            f.left_before_walk++;
            if (page.anon_vma_id != pair.other_than(home).anon_vma_id) {
                violation(pair, page.addr, page, "not walked, and not in the other VMA either");
            }
            return;
        }
        if (page.rmap_flags & DEVEXCL_RMAP_INCOMPLETE) {
            f.incomplete++;
            return;
        }
        if (page.nr_mappings == 0) {
            f.missed++;
            f.missed_with_other_index += page.index != home.index_of(page.addr);
            violation(pair, page.addr, page, "a complete walk lost the mapping");
            return;
        }
        // A complete walk found its one mapping: page and mapping agree. The
        // mapping is at this address, through this VMA's anon_vma.
        const std::uint64_t at = mappings ? mappings->front().vaddr : page.addr;
        const AnonHome& mapped_in = *pair.home_of(at);
        if (page.anon_vma_id != mapped_in.anon_vma_id ||
            page.root_anon_vma_id != mapped_in.root_id || page.index != mapped_in.index_of(at)) {
            violation(pair, page.addr, page,
                      "the page's anon_vma, root or index is not its mapping's");
        }
    }

    void violation(const VmaPair& pair, std::uint64_t addr, const PageInfo& page,
                   const char* what) {
        const AnonHome& home = *pair.home_of(addr);
        std::ostringstream s;
        s << pair.name << (&home == &pair.src ? " src" : " dst") << " page "
          << (addr - home.vm_start) / kPage << ": " << what << " (pte " << to_string(page.pte)
          << ", anon_vma " << std::hex << page.anon_vma_id << " root " << page.root_anon_vma_id
          << ", src's " << pair.src.anon_vma_id << " dst's " << pair.dst.anon_vma_id << std::dec
          << ", index " << page.index << " for " << home.index_of(addr) << ", mappings "
          << page.nr_mappings << ", mapcount " << page.mapcount << ", rmap "
          << rmap_flags_string(page.rmap_flags) << ")";
        violations_.add(s.str());
    }

    // With the movers stopped: each tag at exactly one of its page's two addresses.
    void check_tags() {
        for (const VmaPair* pair : pairs_) {
            const auto at_src = read_pagemap(pair->vmas.src(), kPages);
            const auto at_dst = read_pagemap(pair->vmas.dst(), kPages);
            for (std::size_t i = 0; i < kPages; ++i) {
                SCOPED_TRACE(std::string(pair->name) + " page " + std::to_string(i) +
                             " after round " + std::to_string(rounds_));
                ASSERT_NE(at_src[i].present(), at_dst[i].present()) << "at src and at dst";
                const std::uint64_t addr =
                    at_src[i].present() ? pair->vmas.src(i) : pair->vmas.dst(i);
                EXPECT_EQ(word(addr, 0), pair->tag(i));
                EXPECT_EQ(word(addr, kLastWord), ~pair->tag(i));
                tags_checked_++;
            }
        }
    }

    // With nothing moving: each page filed where it is mapped, its other address empty.
    void check_settled(const char* when) {
        SCOPED_TRACE(when);
        for (const VmaPair* pair : pairs_) {
            for (std::size_t i = 0; i < kPages; ++i) {
                SCOPED_TRACE(std::string(pair->name) + " page " + std::to_string(i));
                const PageInspection s = dev_.inspect_page(me_, pair->vmas.src(i), kMaxMappings);
                const PageInspection d = dev_.inspect_page(me_, pair->vmas.dst(i), kMaxMappings);
                ASSERT_NE(s.page.has_page(), d.page.has_page()) << "at src and at dst";
                const PageInspection& p = s.page.has_page() ? s : d;
                const AnonHome& home = s.page.has_page() ? pair->src : pair->dst;
                EXPECT_EQ(p.page.anon_vma_id, home.anon_vma_id);
                EXPECT_EQ(p.page.root_anon_vma_id, home.root_id);
                EXPECT_EQ(p.page.index, home.index_of(p.page.addr));
                EXPECT_EQ(p.page.mapcount, 1);
                EXPECT_TRUE(p.page.walked());
                EXPECT_FALSE(p.page.rmap_flags & DEVEXCL_RMAP_INCOMPLETE);
                ASSERT_EQ(p.mappings.size(), 1u);
                EXPECT_EQ(p.mappings[0].vaddr, p.page.addr);
                EXPECT_EQ(p.mappings[0].anon_vma_id, home.anon_vma_id);
            }
        }
    }

    void report(std::chrono::seconds duration) const {
        auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
        std::printf(
            "# uffd-move stress %llds, %llu rounds: moves %llu (first tried the wrong way %llu; "
            "lost to the other mover: ENOENT %llu, EEXIST %llu, EAGAIN %llu), tags checked %llu\n",
            static_cast<long long>(duration.count()), u(rounds_), u(moves_.moved),
            u(moves_.wrong_way), u(moves_.enoent), u(moves_.eexist), u(moves_.eagain),
            u(tags_checked_));
        std::printf("# rmap inspections %llu (%llu by page, %llu in ranges)\n",
                    u(page_reports_ + range_reports_), u(page_reports_), u(range_reports_));
        for (const VmaPair* pair : pairs_) {
            const ReportFigures& f = pair->figures;
            std::printf(
                "# %s: reports %llu, mapped %llu, empty %llu; incomplete walks %llu, not walked "
                "(the page had left for the other anon_vma) %llu, complete walks that missed the "
                "mapping %llu (a violation), %llu of them with the other address's "
                "index\n",
                pair->name, u(f.reports), u(f.mapped), u(f.empty), u(f.incomplete),
                u(f.left_before_walk), u(f.missed), u(f.missed_with_other_index));
        }
    }

    const pid_t me_ = ::getpid();
    Device dev_ = Device::open();
    VmaPair forked_{"forked", 1};
    VmaPair alone_{"alone", 2};
    const std::array<VmaPair*, 2> pairs_{&alone_, &forked_};
    std::optional<ForkedChild> child_;
    UffdMover uffd_;
    Violations violations_;
    MoveFigures moves_;
    std::atomic<std::uint64_t> page_reports_{0}, range_reports_{0};
    std::uint64_t rounds_ = 0, tags_checked_ = 0;  // the main thread's
};

TEST(UffdMoveStress, RmapReportsFollowPagesMovedBackAndForthAcrossRoots) {
    ensure_module_loaded();
    if (!kernel_shows(Behaviour::UffdMoveRehomesFolio)) {
        GTEST_SKIP() << behaviour_name(Behaviour::UffdMoveRehomesFolio) << ": "
                     << behaviour_cell(Behaviour::UffdMoveRehomesFolio);
    }
    const auto seconds = std::chrono::seconds(env_number("DEVEXCL_MOVE_STRESS_SECONDS", 30));
    MoveStress stress;
    stress.check_setup();
    if (testing::Test::HasFatalFailure()) {
        return;
    }
    stress.run(seconds);
}

}  // namespace
