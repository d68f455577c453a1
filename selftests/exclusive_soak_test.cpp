// The data-integrity soak: the integrity test's CPU threads and device
// atomics adding to shared counters, through revocations and re-acquires,
// while the process forks children that read, COW and mark their copies
// and exit (some while marked, some killed), while parts of the memory are
// munmapped and mapped again, and while move_pages() moves the pages
// between NUMA nodes 0 and 1. It runs DEVEXCL_SOAK_SECONDS (default 5;
// `make soak` sets 60 or more), and every sum is exact.
//
// What is counted where:
// - The memory is kSlots slots of kSlotPages private anonymous pages
//   (MADV_NOHUGEPAGE: no THP), a 64-bit counter in word 0 of each page.
//   Only the parent's two CPU threads and its device context `dev` add to
//   the parent's counters, 1 at a time, and each counts its adds per page.
// - A slot is live or retired. Adders touch live slots only; a grace
//   period (Quiescence) separates a retirement from what follows it. A
//   retired slot's counters must equal the adds made to them since the
//   slot was last mapped (fresh memory reads zero). Then the slot is
//   munmapped and, later, mapped again at the same address, from zero. At
//   the end, every live slot's counters must equal the adds made since its
//   last mapping. So every add the parent made is checked exactly once, in
//   the generation of the slot it went to.
// - A child adds nothing to the parent's counters: its copy is a snapshot
//   taken at fork. The child checks that its copy stays frozen while the
//   parent keeps adding (COW isolates them), and that its own CPU writes
//   (kChildAdd) and a device's adds on its copy land there exactly. The
//   parent's exact sums show that none of that leaked back.
// - move_pages() moves contents and never changes them; it only adds to
//   the figures.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "lib/env.hpp"
#include "lib/forked_child.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/numa.hpp"
#include "lib/quiescence.hpp"
#include "lib/sysfs.hpp"

using namespace devexcl;
using namespace devexcl::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kSlots = 16;
constexpr std::size_t kSlotPages = 4;
constexpr std::size_t kPages = kSlots * kSlotPages;
constexpr std::size_t kCpuThreads = 2;
// Workers 0 and 1 are the CPU threads, 2 the device.
constexpr std::size_t kDeviceWorker = kCpuThreads;
constexpr std::size_t kWorkers = kCpuThreads + 1;
// At most this many slots are retired (unmapped) at once.
constexpr std::size_t kMaxRetired = kSlots / 4;
// A child's own CPU add: large, so that a leak into the parent shows in any sum.
constexpr std::uint64_t kChildAdd = 1ULL << 40;
// Bounds a wait for a stuck worker; it never measures anything.
constexpr auto kGracePeriodBound = std::chrono::milliseconds(120s);

const std::size_t kPage = TestMemory::page_size();

void no_thp(std::uint64_t addr, std::size_t length) {
    if (::madvise(reinterpret_cast<void*>(addr), length, MADV_NOHUGEPAGE) != 0) {
        throw_last_errno("madvise(MADV_NOHUGEPAGE)");
    }
}

// The counters, which slots are mapped, and what each worker added where.
class SoakMemory {
public:
    SoakMemory() : region_(kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS) {
        no_thp(region_.address(), region_.size());
        for (std::size_t p = 0; p < kPages; ++p) {
            *counter(p) = 0;  // faulted in before anyone marks or moves them
        }
        for (auto& live : live_) {
            live.store(true);
        }
    }

    std::uint64_t page_addr(std::size_t p) const { return region_.address() + p * kPage; }
    std::uint64_t slot_addr(std::size_t s) const { return page_addr(s * kSlotPages); }
    std::uint64_t* counter(std::size_t p) const {
        return reinterpret_cast<std::uint64_t*>(page_addr(p));
    }
    std::uint64_t load(std::size_t p) const {
        return __atomic_load_n(counter(p), __ATOMIC_SEQ_CST);
    }
    // Read after Quiescence::quiescent(): a slot retired before is seen retired.
    bool live(std::size_t s) const { return live_[s].load(); }
    bool page_live(std::size_t p) const { return live(p / kSlotPages); }

    // Worker `w` added 1 to page `p`. Only `w` writes its row.
    void count_add(std::size_t w, std::size_t p) {
        adds_[w][p].store(adds_[w][p].load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
    }
    std::uint64_t adds_by(std::size_t w) const {
        std::uint64_t n = 0;
        for (const auto& a : adds_[w]) {
            n += a.load(std::memory_order_relaxed);
        }
        return n;
    }
    // What page `p` must hold: every add since its slot was last mapped.
    // Exact once no worker can add to it (retired after a grace period, or
    // the workers joined).
    std::uint64_t expected(std::size_t p) const {
        std::uint64_t n = 0;
        for (const auto& row : adds_) {
            n += row[p].load(std::memory_order_relaxed);
        }
        return n - base_[p];
    }

    // The mapper's, after a grace period since retire().
    void retire(std::size_t s) { live_[s].store(false); }
    void unmap(std::size_t s) {
        if (::munmap(reinterpret_cast<void*>(slot_addr(s)), kSlotPages * kPage) != 0) {
            throw_last_errno("munmap");
        }
    }
    void remap(std::size_t s) {
        void* want = reinterpret_cast<void*>(slot_addr(s));
        void* got = ::mmap(want, kSlotPages * kPage, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (got == MAP_FAILED) {
            throw_last_errno("mmap(MAP_FIXED_NOREPLACE)");
        }
        no_thp(slot_addr(s), kSlotPages * kPage);
        for (std::size_t p = s * kSlotPages; p < (s + 1) * kSlotPages; ++p) {
            base_[p] += expected(p);  // nothing added since the last check
            *counter(p) = 0;
        }
        live_[s].store(true);
    }

private:
    Mapping region_;  // whole; munmapping it also covers the holes
    std::array<std::atomic<bool>, kSlots> live_;
    std::array<std::array<std::atomic<std::uint64_t>, kPages>, kWorkers> adds_{};
    std::array<std::uint64_t, kPages> base_{};  // the mapper's, then the test's after join
};

// What a child saw of its copy at fork.
struct Snapshot {
    std::array<std::uint64_t, kPages> value{};
    std::array<bool, kSlots> live{};

    static Snapshot take(const SoakMemory& mem) {
        Snapshot s;
        for (std::size_t i = 0; i < kSlots; ++i) {
            s.live[i] = mem.live(i);
        }
        for (std::size_t p = 0; p < kPages; ++p) {
            if (s.page_live(p)) {
                s.value[p] = mem.load(p);
            }
        }
        return s;
    }
    bool page_live(std::size_t p) const { return live[p / kSlotPages]; }
    std::size_t live_pages() const {
        std::size_t n = 0;
        for (bool l : live) {
            n += l ? kSlotPages : 0;
        }
        return n;
    }
};

// "cpu-fault 12 unmap 4": a context's revoked pages by cause.
std::string revoked_by_cause(const Counters& c) {
    std::string out;
    for (int i = 0; i < DEVEXCL_CAUSE_COUNT; ++i) {
        if (c.revoked[i] != 0) {
            out += " " + std::string(to_string(static_cast<Cause>(i))) + " " +
                   std::to_string(c.revoked[i]);
        }
    }
    return out.empty() ? " none" : out;
}

std::uint64_t revoked_total(const Counters& c) {
    std::uint64_t n = 0;
    for (std::uint64_t pages : c.revoked) {
        n += pages;
    }
    return n;
}

// How the forker's children end, in rotation.
enum class ChildKind {
    Cow,          // reads, waits while the parent adds, writes its copy, exits
    SelfMarked,   // its own context marks its copy and adds; exits while marked
    BoundExit,    // a parent-side context bound to it marks and adds; it exits while marked
    BoundKilled,  // the same, SIGKILLed while marked
};
constexpr std::array kChildKinds = {ChildKind::Cow, ChildKind::SelfMarked, ChildKind::BoundExit,
                                    ChildKind::BoundKilled};

// A child's exit codes for what it found wrong.
enum ChildFailure : int {
    kNotFrozen = 10,   // the parent's adds showed through its copy
    kLostWrite = 11,   // its own write did not land in its copy
    kDeviceSaw = 12,   // its device's atomic saw another value than its copy's
    kCpuSaw = 13,      // its CPU saw another value than its device left
    kBadCommand = 14,  // the parent's message made no sense
};

// The figures a run reports, from all threads.
struct Figures {
    std::atomic<std::uint64_t> reacquired{0}, device_marks{0}, device_marked{0}, device_refused{0},
        device_releases{0}, device_released{0};
    std::array<std::atomic<std::uint64_t>, kChildKinds.size()> forks{};
    std::atomic<std::uint64_t> unmaps{0}, remaps{0}, pages_checked_at_unmap{0}, held_at_unmap{0};
    std::atomic<std::uint64_t> parent_walk_revocations{0};
    // Held pages of a retired slot revoked between the mark and the munmap.
    std::atomic<std::uint64_t> held_revoked_before_unmap{0};
    std::mutex lock;                                             // guards the map below
    std::map<std::string, std::uint64_t> revokers_before_unmap;  // "cause by comm" -> pages
    // fork() refused with ENOMEM: a held page's folio was locked (see fork_child()).
    std::atomic<std::uint64_t> forks_refused{0};
    std::atomic<std::uint64_t> move_calls{0}, pages_on_target{0};
    std::map<int, std::uint64_t> move_errors;  // the mapper's: -errno, or the node -> pages
};

class Soak {
public:
    explicit Soak(std::chrono::seconds duration) : duration_(duration) {}

    void run() {
        const bool numa = online_nodes() >= 2;
        for (std::size_t k = 0; k < kKernelCounters.size(); ++k) {
            kernel_counters_at_start_[k] = vmstat(kKernelCounters[k]);
        }
        std::vector<std::thread> threads;
        // Named, so that a revocation's trigger comm says which thread it was.
        for (std::size_t w = 0; w < kCpuThreads; ++w) {
            threads.emplace_back([this, w] {
                named("soak-cpu" + std::to_string(w));
                guarded([&] { cpu_worker(w); });
            });
        }
        threads.emplace_back([this] {
            named("soak-device");
            guarded([&] { device_worker(); });
        });
        threads.emplace_back([this] {
            named("soak-forker");
            guarded([&] { forker(); });
        });
        threads.emplace_back([this, numa] {
            named("soak-mapper");
            guarded([&] { mapper(numa); });
        });
        const auto end = std::chrono::steady_clock::now() + duration_;
        while (!stop_.load() && std::chrono::steady_clock::now() < end) {
            std::this_thread::sleep_for(100ms);
        }
        stop_ = true;
        for (auto& t : threads) {
            t.join();
        }
        check_and_report(numa);
    }

private:
    static void named(const std::string& name) {
        ::pthread_setname_np(::pthread_self(), name.c_str());
    }

    // A thread's failure stops the run, and says why.
    void guarded(const std::function<void()>& body) {
        try {
            body();
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            stop_ = true;
        }
    }

    void cpu_worker(std::size_t w) {
        const Quiescence::Participant participant(q_, w);
        std::size_t p = w * (kPages / kCpuThreads);
        while (!stop_.load(std::memory_order_relaxed)) {
            q_.quiescent(w);
            for (int burst = 0; burst < 16; ++burst, p = (p + 1) % kPages) {
                if (mem_.page_live(p)) {
                    __atomic_fetch_add(mem_.counter(p), 1, __ATOMIC_SEQ_CST);
                    mem_.count_add(w, p);
                }
            }
        }
    }

    void device_worker() {
        const Quiescence::Participant participant(q_, kDeviceWorker);
        std::mt19937_64 rng(1);
        std::uint64_t n = 0;
        while (!stop_.load(std::memory_order_relaxed)) {
            q_.quiescent(kDeviceWorker);
            const std::size_t p = rng() % kPages, s = p / kSlotPages;
            if (!mem_.live(s)) {
                continue;
            }
            // Now and then a whole slot is marked, or given back.
            if (++n % 512 == 0) {
                MarkResult m = dev_.mark(mem_.slot_addr(s), kSlotPages * kPage);
                figures_.device_marks++;
                figures_.device_marked += m.marked;
                figures_.device_refused += m.failed;
            } else if (n % 512 == 256) {
                figures_.device_releases++;
                figures_.device_released +=
                    dev_.release(mem_.slot_addr(s), kSlotPages * kPage).released;
            }
            AccessResult r =
                dev_.access(mem_.page_addr(p), AccessOp::Add, 1, 0, /*reacquire=*/true);
            mem_.count_add(kDeviceWorker, p);
            figures_.reacquired += r.path == AccessPath::Reacquired;
        }
    }

    void forker() {
        for (std::size_t i = 0; !stop_.load(); ++i) {
            const std::size_t kind = i % kChildKinds.size();
            switch (kChildKinds[kind]) {
                case ChildKind::Cow:
                    expect_exit_0(fork_child(cow_child), "COW child");
                    break;
                case ChildKind::SelfMarked:
                    expect_exit_0(fork_child(self_marked_child), "self-marking child");
                    break;
                case ChildKind::BoundExit:
                case ChildKind::BoundKilled:
                    bound_child(kChildKinds[kind] == ChildKind::BoundKilled);
                    break;
            }
            figures_.forks[kind]++;
        }
    }

    // Forks (never while the mapper has pages of a retired slot marked: see mapper()).
    // fork() meeting a device-exclusive entry whose folio is locked (a mark
    // converting it, move_pages() migrating it) fails with ENOMEM on every
    // kernel from 6.1 to 7.x: try_restore_exclusive_pte() only trylocks, and
    // copy_pmd_range() turns copy_pte_range()'s -EBUSY into -ENOMEM. That is
    // the kernel's behaviour, so the fork is retried and counted; a run of
    // refusals would be real memory pressure, and fails.
    std::unique_ptr<ForkedChild> fork_child(int (*step)(const SoakMemory&, ChildChannel&)) {
        constexpr int kMaxRefusalsInARow = 100;
        for (int refused = 0;; ++refused) {
            try {
                std::lock_guard<std::mutex> no_unmap_in_between(fork_lock_);
                return std::make_unique<ForkedChild>(
                    [this, step](ChildChannel& channel) { return step(mem_, channel); });
            } catch (const std::system_error& e) {
                if (errno_of(e) != ENOMEM || refused == kMaxRefusalsInARow) {
                    throw;
                }
            }
            figures_.forks_refused++;
            std::this_thread::sleep_for(1ms);
        }
    }

    void expect_exit_0(const std::unique_ptr<ForkedChild>& child, const char* what) {
        const int status = child->wait();
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << what << ": wait status 0x" << std::hex << status << " (see ChildFailure)";
    }

    // In the child: its copy must stay as it was while the parent adds on.
    static int cow_child(const SoakMemory& mem, ChildChannel&) {
        const Snapshot snap = Snapshot::take(mem);
        std::this_thread::sleep_for(2ms);
        for (std::size_t p = 0; p < kPages; ++p) {
            if (snap.page_live(p) && mem.load(p) != snap.value[p]) {
                return kNotFrozen;
            }
        }
        for (std::size_t p = 0; p < kPages; ++p) {
            if (snap.page_live(p)) {
                __atomic_fetch_add(mem.counter(p), kChildAdd, __ATOMIC_SEQ_CST);
            }
        }
        for (std::size_t p = 0; p < kPages; ++p) {
            if (snap.page_live(p) && mem.load(p) != snap.value[p] + kChildAdd) {
                return kLostWrite;
            }
        }
        return 0;
    }

    // In the child: a context of its own marks its copy, adds, has its CPU
    // revoke, re-acquires, and the child exits holding it all (the file is
    // closed by the exit, after the address space is gone).
    static int self_marked_child(const SoakMemory& mem, ChildChannel&) {
        const Snapshot snap = Snapshot::take(mem);
        Device own = Device::open();
        for (std::size_t s = 0; s < kSlots; ++s) {
            if (snap.live[s]) {
                // What it takes is what its atomics find held, or re-acquire.
                static_cast<void>(own.mark(mem.slot_addr(s), kSlotPages * kPage));
            }
        }
        for (std::size_t p = 0; p < kPages; ++p) {
            if (!snap.page_live(p)) {
                continue;
            }
            if (own.access(mem.page_addr(p), AccessOp::Add, 1, 0, true).old_value !=
                snap.value[p]) {
                return kDeviceSaw;
            }
            if (mem.load(p) != snap.value[p] + 1) {
                return kCpuSaw;
            }
            own.access(mem.page_addr(p), AccessOp::Add, kChildAdd, 0, true);
        }
        ::_exit(0);  // holding every live page; `own` is closed by the exit
    }

    // In the child: reports its copy, lets the parent's context mark and
    // add, writes the even pages itself (revoking them), and waits to exit.
    static int bound_child_step(const SoakMemory& mem, ChildChannel& channel) {
        const Snapshot snap = Snapshot::take(mem);
        channel.send(snap);
        if (channel.receive<char>() != 't') {
            return kBadCommand;
        }
        for (std::size_t p = 0; p < kPages; p += 2) {
            if (snap.page_live(p)) {
                __atomic_fetch_add(mem.counter(p), kChildAdd, __ATOMIC_SEQ_CST);
            }
        }
        channel.send('d');
        return channel.receive<char>() == 'x' ? 0 : kBadCommand;
    }

    // A context of the parent's, bound to a child, holds the child's pages
    // when it exits or is killed: they are revoked with cause `release`.
    void bound_child(bool kill) {
        auto child = fork_child(bound_child_step);
        const Snapshot snap = child->channel().receive<Snapshot>();
        Device side = Device::open();
        side.bind(child->pid());
        for (std::size_t s = 0; s < kSlots; ++s) {
            if (snap.live[s]) {
                // What it takes is what its atomics find held, or re-acquire.
                static_cast<void>(side.mark(mem_.slot_addr(s), kSlotPages * kPage));
            }
        }
        for (std::size_t p = 0; p < kPages; ++p) {
            if (snap.page_live(p)) {
                EXPECT_EQ(side.access(mem_.page_addr(p), AccessOp::Add, 1, 0, true).old_value,
                          snap.value[p])
                    << "page " << p << " of a bound child";
            }
        }
        child->channel().send('t');
        child->channel().receive<char>();
        for (std::size_t p = 0; p < kPages; ++p) {
            if (snap.page_live(p)) {
                EXPECT_EQ(side.access(mem_.page_addr(p), AccessOp::Add, 1, 0, true).old_value,
                          snap.value[p] + 1 + (p % 2 == 0 ? kChildAdd : 0))
                    << "page " << p << " of a bound child, after its own writes";
            }
        }
        // Pages the child's own writes did not revoke are held, but for
        // those the parent's rmap walks revoked (see below).
        const Counters held = side.counters();
        EXPECT_LE(held.held, snap.live_pages());
        int status;
        if (kill) {
            status = child->kill_and_wait();
            EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        } else {
            child->channel().send('x');
            status = child->wait();
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
                << "bound child: wait status 0x" << std::hex << status;
        }
        const Counters after = side.counters();
        EXPECT_EQ(after.held, 0u);
        EXPECT_EQ(revoked_total(after) - revoked_total(held), held.held)
            << "every page held before the exit is revoked once; revoked:"
            << revoked_by_cause(after);
        EXPECT_LE(after.revoked_by(Cause::Release) - held.revoked_by(Cause::Release), held.held);
        // The child's pages are its own after the marks (COW), but its VMAs
        // share the parent's anon_vma: 6.1's rmap walkers for the parent's
        // pages (try_to_migrate_one() for move_pages, MMU_NOTIFY_CLEAR;
        // page_make_device_exclusive_one() for the parent's marks,
        // MMU_NOTIFY_EXCLUSIVE of another owner) call
        // mmu_notifier_invalidate_range_start() on every VMA of the walk
        // before they look at its PTE. So the child's context sees
        // invalidations of pages nobody touched, and revokes them with
        // cause clear or other-device. Those are counted; no other cause
        // may appear.
        figures_.parent_walk_revocations +=
            after.revoked_by(Cause::Clear) + after.revoked_by(Cause::OtherDevice);
        EXPECT_EQ(revoked_total(after),
                  after.revoked_by(Cause::CpuFault) + after.revoked_by(Cause::Release) +
                      after.revoked_by(Cause::Clear) + after.revoked_by(Cause::OtherDevice))
            << "revoked:" << revoked_by_cause(after);
        try {
            side.access(mem_.slot_addr(0), AccessOp::Read, 0, 0, true);
            ADD_FAILURE() << "a device access in an exited child succeeded";
        } catch (const std::system_error& e) {
            EXPECT_EQ(errno_of(e), ESRCH) << e.what();
        }
    }

    void mapper(bool numa) {
        std::mt19937_64 rng(2);
        std::vector<std::size_t> retired;
        std::array<int, kSlots> target{};
        for (std::uint64_t i = 1; !stop_.load(); ++i) {
            const std::size_t s = rng() % kSlots;
            if (numa && mem_.live(s)) {
                move_slot(s, target[s]);
                target[s] ^= 1;
            }
            if (i % 8 != 0) {
                continue;
            }
            if (!retired.empty() && (retired.size() == kMaxRetired || rng() % 2 == 0)) {
                const std::size_t back = retired[rng() % retired.size()];
                std::erase(retired, back);
                mem_.remap(back);
                figures_.remaps++;
            } else if (mem_.live(s)) {
                if (!retire_and_unmap(s, i % 16 == 0)) {
                    return;
                }
                retired.push_back(s);
            }
        }
    }

    void move_slot(std::size_t s, int node) {
        std::vector<std::uint64_t> addrs;
        for (std::size_t p = s * kSlotPages; p < (s + 1) * kSlotPages; ++p) {
            addrs.push_back(mem_.page_addr(p));
        }
        figures_.move_calls++;
        for (int status : move_pages_to(addrs, node)) {
            if (status == node) {
                figures_.pages_on_target++;
            } else {
                figures_.move_errors[status]++;
            }
        }
    }

    // Retires slot `s`, checks its sums, and unmaps it; with `marked`, the
    // device holds what it can of it at the munmap. False if a worker is stuck.
    bool retire_and_unmap(std::size_t s, bool marked) {
        mem_.retire(s);
        if (!q_.synchronize(kGracePeriodBound)) {
            ADD_FAILURE() << "a worker did not pass a quiescent point";
            stop_ = true;
            return false;
        }
        for (std::size_t p = s * kSlotPages; p < (s + 1) * kSlotPages; ++p) {
            EXPECT_EQ(mem_.load(p), mem_.expected(p))
                << "page " << p << " when its slot was unmapped";
            figures_.pages_checked_at_unmap++;
        }
        // No fork between the mark and the munmap: a fork would revoke the
        // held pages first, and the unmap count would not be exact.
        std::lock_guard<std::mutex> no_fork_in_between(fork_lock_);
        std::vector<bool> held(kSlotPages, false);
        if (marked) {
            const MarkResult m = dev_.mark(mem_.slot_addr(s), kSlotPages * kPage);
            for (std::size_t i = 0; i < kSlotPages; ++i) {
                held[i] = m.pages[i].held();
                figures_.held_at_unmap += held[i];
            }
        }
        mem_.unmap(s);
        figures_.unmaps++;
        if (marked) {
            attribute_revocations_before_unmap(s, held);
        }
        return true;
    }

    // A page the parent holds can be revoked before its munmap: by the
    // munmap itself, when the slot's VMA spans an aligned 2 MiB (the region
    // can merge with neighbouring mappings): the VMA split sends
    // MMU_NOTIFY_CLEAR for that whole 2 MiB before the unmap (see
    // vma_split_test.cpp), as `clear`, by the mapper; by a child's rmap
    // walk of its copy, which invalidates the parent's VMA too; or by the
    // kernel's own migration (compaction), which from 6.15 finds
    // device-exclusive entries through the rmap. Each page held at the
    // mark is revoked exactly once by now; those revoked before the munmap
    // are counted by cause and trigger thread, so the unmap count stays
    // exact. A CPU access would be `cpu-fault`, and nothing of ours
    // touches a retired slot, so that cause may not appear. The munmap is
    // the last thing that touches a retired slot, so the pages' revoked
    // state is still there to read.
    void attribute_revocations_before_unmap(std::size_t s, const std::vector<bool>& held) {
        const std::vector<PageStatus> st = dev_.status(mem_.slot_addr(s), kSlotPages * kPage);
        std::optional<std::vector<Revocation>> log;  // read once, if needed
        for (std::size_t i = 0; i < kSlotPages; ++i) {
            if (!held[i]) {
                continue;
            }
            EXPECT_EQ(st[i].device, DeviceState::Revoked)
                << "page " << i << " of slot " << s << ", held at the mark, after its munmap";
            if (st[i].device != DeviceState::Revoked || st[i].cause == Cause::Unmap) {
                continue;
            }
            figures_.held_revoked_before_unmap++;
            EXPECT_NE(st[i].cause, Cause::CpuFault)
                << "page " << i << " of retired slot " << s << ", held at the mark";
            if (!log) {
                log = dev_.revocations();
            }
            const Revocation* r = logged_revocation(*log, st[i].revoke_seq);
            std::string who = std::string(to_string(st[i].cause)) + " by ";
            if (!r) {
                who += "(out of the log)";
            } else {
                // The batch's size tells a one-page walk from a range operation.
                who += r->trigger_pid == static_cast<std::uint64_t>(::getpid())
                           ? "the parent's " + r->trigger_comm
                           : r->trigger_comm;
                who += " in " + std::to_string(r->npages) + "-page batches";
            }
            std::lock_guard<std::mutex> lock(figures_.lock);
            figures_.revokers_before_unmap[who]++;
        }
    }

    // The batch `seq` from a read of the context's revocation log, if still there.
    static const Revocation* logged_revocation(const std::vector<Revocation>& log,
                                               std::uint64_t seq) {
        for (const Revocation& r : log) {
            if (r.seq == seq) {
                return &r;
            }
        }
        return nullptr;
    }

    void check_and_report(bool numa) {
        for (std::size_t p = 0; p < kPages; ++p) {
            if (mem_.page_live(p)) {
                EXPECT_EQ(mem_.load(p), mem_.expected(p)) << "page " << p << " at the end";
            }
        }
        const Counters c = dev_.counters();
        const std::uint64_t device_adds = mem_.adds_by(kDeviceWorker);
        std::uint64_t cpu_adds = 0;
        for (std::size_t w = 0; w < kCpuThreads; ++w) {
            cpu_adds += mem_.adds_by(w);
        }
        report(c, cpu_adds, device_adds, numa);

        EXPECT_EQ(c.device_ops, device_adds) << "the context counted other device operations";
        EXPECT_EQ(c.revoked_by(Cause::Unmap) + figures_.held_revoked_before_unmap.load(),
                  figures_.held_at_unmap.load())
            << "each page held at a munmap is revoked by it, or before it (see "
               "attribute_revocations_before_unmap()), once";
        EXPECT_GT(figures_.reacquired.load(), 0u) << "the CPU never took a page back";
        for (std::size_t k = 0; k < kChildKinds.size(); ++k) {
            EXPECT_GT(figures_.forks[k].load(), 0u) << "no child of kind " << k;
        }
        EXPECT_GT(figures_.unmaps.load(), 0u);
        EXPECT_GT(figures_.remaps.load(), 0u);
        if (numa) {
            EXPECT_GT(figures_.pages_on_target.load(), 0u) << "move_pages never moved a page";
            // A live slot is mapped: -EFAULT (no VMA) would be a bug in the test or the kernel.
            EXPECT_EQ(figures_.move_errors.count(-EFAULT), 0u);
        }
    }

    void report(const Counters& c, std::uint64_t cpu_adds, std::uint64_t device_adds,
                bool numa) const {
        auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
        std::printf(
            "# soak %llds: cpu adds %llu (%llu, %llu), device adds %llu (%llu re-acquired)\n",
            static_cast<long long>(duration_.count()), u(cpu_adds), u(mem_.adds_by(0)),
            u(mem_.adds_by(1)), u(device_adds), u(figures_.reacquired));
        std::printf("# device marks %llu (%llu pages, %llu refused), releases %llu (%llu pages)\n",
                    u(figures_.device_marks), u(figures_.device_marked), u(figures_.device_refused),
                    u(figures_.device_releases), u(figures_.device_released));
        std::printf("# revocations %llu, pages by cause:%s\n", u(c.revocations),
                    revoked_by_cause(c).c_str());
        std::printf(
            "# forks %llu: cow %llu, self-marked %llu, bound-exit %llu, bound-killed %llu\n",
            u(figures_.forks[0] + figures_.forks[1] + figures_.forks[2] + figures_.forks[3]),
            u(figures_.forks[0]), u(figures_.forks[1]), u(figures_.forks[2]), u(figures_.forks[3]));
        std::printf("# forks refused with ENOMEM (a held page's folio locked), retried: %llu\n",
                    u(figures_.forks_refused));
        std::printf("# bound children's pages revoked by the parent's rmap walks: %llu\n",
                    u(figures_.parent_walk_revocations));
        std::printf("# munmaps %llu (%llu pages checked, %llu held), remaps %llu\n",
                    u(figures_.unmaps), u(figures_.pages_checked_at_unmap),
                    u(figures_.held_at_unmap), u(figures_.remaps));
        std::string kernel;
        for (std::size_t k = 0; k < kKernelCounters.size(); ++k) {
            kernel += std::string(" ") + kKernelCounters[k] + " " +
                      std::to_string(vmstat(kKernelCounters[k]) - kernel_counters_at_start_[k]);
        }
        std::printf("# the kernel's own work during the run (/proc/vmstat):%s\n", kernel.c_str());
        std::string revokers;
        for (const auto& [who, pages] : figures_.revokers_before_unmap) {
            revokers += " " + who + " " + std::to_string(pages);
        }
        std::printf("# held pages revoked before their munmap: %llu%s\n",
                    u(figures_.held_revoked_before_unmap), revokers.c_str());
        if (!numa) {
            std::printf("# one NUMA node: no move_pages\n");
            return;
        }
        std::string errors;
        for (const auto& [status, pages] : figures_.move_errors) {
            errors += status < 0 ? std::string(" ") + ::strerrorname_np(-status)
                                 : " left on node " + std::to_string(status);
            errors += " " + std::to_string(pages);
        }
        std::printf("# move_pages calls %llu, pages on the target node %llu, not moved:%s\n",
                    u(figures_.move_calls), u(figures_.pages_on_target),
                    errors.empty() ? " none" : errors.c_str());
    }

    // What may revoke held pages behind the test's back: compaction and reclaim.
    static constexpr std::array<const char*, 4> kKernelCounters = {
        "compact_stall", "compact_migrate_scanned", "pgmigrate_success", "pgscan_direct"};
    std::array<unsigned long long, kKernelCounters.size()> kernel_counters_at_start_{};

    const std::chrono::seconds duration_;
    SoakMemory mem_;
    Device dev_ = Device::open();
    Quiescence q_{kWorkers};
    std::mutex fork_lock_;
    std::atomic<bool> stop_{false};
    Figures figures_;
};

}  // namespace

TEST(DataIntegrity, SoakWithForksUnmapsExitsAndMigrationGivesExactSums) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    ensure_module_loaded();
    const auto seconds = std::chrono::seconds(env_number("DEVEXCL_SOAK_SECONDS", 5));
    Soak(seconds).run();
}
