// The anon_vma contract, asserted on every kernel from what its mm/ code
// does (file:line below: 6.1.192, 6.12.118 and 7.3.4):
// - An mprotect split, a merge, an mremap and a fork give a VMA a copy of
//   its source's anon_vma_chain in the kernel's clone order
//   (kernel_behaviour.cpp: 7.0's rework reverses it), and num_children,
//   num_active_vmas and refcount move exactly as the kernel counts them.
// - The root is the oldest anon_vma, and outlives the process that made
//   it while others use it.
// - Only a fork reuses an idle anon_vma; splits and mremap never do.
//   Rmap.AnonVmasAreReusedSoAChainOfExitingForkersStaysAtThree has the
//   case of one idle candidate; here two are idle, and kernels take
//   different ones.
// - When the kernel's fault injection makes anon_vma_chain allocations
//   fail, a split, an mremap and a fork fail with ENOMEM and change
//   nothing; which injected failure fails them differs between kernels.
// ProcessChain members do each syscall on their own address space on
// command (fail-nth and make-it-fail are per thread); the test inspects
// them from outside with DEVEXCL_IOC_INSPECT_VMA.
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "lib/address_space.hpp"
#include "lib/fault_injection.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kmodule.hpp"
#include "lib/process_chain.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

constexpr std::size_t kPages = 8;
const std::uint64_t kPage = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
const std::uint64_t kBytes = kPages * kPage;

// What a member does on command.
enum class Op {
    Protect,      // mprotect(addr, len, prot)
    Move,         // mremap(addr, len, len, MAYMOVE | FIXED, to)
    Unmap,        // munmap(addr, len)
    Fork,         // fork; the child exits at once and is reaped
    ForkAndKeep,  // fork; the child waits for child_may_exit
    Reap,         // waitpid(child)
};

// A command and what the member saw doing it.
struct Request {
    Op op = Op::Protect;
    std::uint64_t addr = 0;
    std::uint64_t len = 0;
    std::uint64_t to = 0;
    int prot = PROT_READ | PROT_WRITE;
    unsigned fail_nth = 0;      // arm /proc/thread-self/fail-nth with it (0: no)
    bool make_it_fail = false;  // set /proc/thread-self/make-it-fail around the call
    pid_t child = -1;           // Reap: this one; Fork*: the one forked
    int rc = 0;
    int error = 0;
    unsigned fail_nth_left = 0;
    bool childless_after = false;  // the member had no child at all afterwards
};

// Where test and member meet: memory the test maps MAP_SHARED before the
// chain, so at the same address in every member and their children.
struct Mailbox {
    Request request;
    std::atomic<int> child_may_exit{0};  // for ForkAndKeep's child
};

[[noreturn]] void forked_by_member(Mailbox& box) {
    if (box.request.op == Op::ForkAndKeep) {
        // Dies with the member if the test never lets it go.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (box.child_may_exit.load() == 0) {
            ::usleep(1000);
        }
    }
    ::_exit(0);
}

// A member's step: arm its own triggers, make the call, disarm. Between
// arming and the call it allocates nothing and touches no new memory: its
// own page faults would take the injected failures.
int perform(std::uint64_t arg) {
    Mailbox& box = *reinterpret_cast<Mailbox*>(arg);
    Request& r = box.request;
    std::optional<ThreadFaults> faults;
    if (r.fail_nth != 0 || r.make_it_fail) {
        faults.emplace();
    }
    if (r.fail_nth != 0) {
        faults->fail_nth(r.fail_nth);
    }
    if (r.make_it_fail) {
        faults->make_it_fail(true);
    }
    void* const at = reinterpret_cast<void*>(r.addr);
    int rc = 0;
    switch (r.op) {
        case Op::Protect:
            rc = ::mprotect(at, r.len, r.prot);
            break;
        case Op::Move:
            rc = ::mremap(at, r.len, r.len, MREMAP_MAYMOVE | MREMAP_FIXED,
                          reinterpret_cast<void*>(r.to)) == MAP_FAILED
                     ? -1
                     : 0;
            break;
        case Op::Unmap:
            rc = ::munmap(at, r.len);
            break;
        case Op::Fork:
        case Op::ForkAndKeep: {
            // Not straight into r.child: the child shares the mailbox, and its 0 would race.
            const pid_t pid = ::fork();
            if (pid == 0) {
                forked_by_member(box);
            }
            r.child = pid;
            rc = pid < 0 ? -1 : 0;
            break;
        }
        case Op::Reap:
            rc = ::waitpid(r.child, nullptr, 0) == r.child ? 0 : -1;
            break;
    }
    r.error = rc == 0 ? 0 : errno;
    if (faults) {
        faults->make_it_fail(false);
        r.fail_nth_left = faults->fail_nth_left();
    }
    faults.reset();
    if (r.op == Op::Fork && r.child > 0) {
        ::waitpid(r.child, nullptr, 0);
    }
    r.childless_after = ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD;
    r.rc = rc;
    return 0;
}

// The mailbox, mapped before the chain that uses it.
class Commands {
public:
    Commands() : mem_(sizeof(Mailbox), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS) {
        box_ = new (mem_.data()) Mailbox{};
    }

    // Makes member `index` of `chain` carry out `r`; returns what it saw.
    const Request& order(ProcessChain& chain, int index, const Request& r) {
        box_->request = r;
        if (r.op == Op::ForkAndKeep) {
            box_->child_may_exit = 0;
        }
        EXPECT_EQ(chain.run(index, perform, reinterpret_cast<std::uint64_t>(box_)), 0)
            << "the member's step threw";
        return box_->request;
    }
    const Request& last() const { return box_->request; }
    void let_child_exit() { box_->child_may_exit = 1; }

private:
    Mapping mem_;
    Mailbox* box_ = nullptr;
};

Request protect(std::uint64_t addr, std::uint64_t len, int prot) {
    Request r;
    r.op = Op::Protect;
    r.addr = addr;
    r.len = len;
    r.prot = prot;
    return r;
}

Request move(std::uint64_t addr, std::uint64_t len, std::uint64_t to) {
    Request r;
    r.op = Op::Move;
    r.addr = addr;
    r.len = len;
    r.to = to;
    return r;
}

Request unmap(std::uint64_t addr, std::uint64_t len) {
    Request r;
    r.op = Op::Unmap;
    r.addr = addr;
    r.len = len;
    return r;
}

Request fork_op(Op op) {
    Request r;
    r.op = op;
    return r;
}

// A child a member forked and keeps alive; let go and reaped however the
// test ends.
class KeptChild {
public:
    KeptChild(Commands& commands, ProcessChain& chain, int member)
        : commands_(commands), chain_(chain), member_(member) {
        const Request& r = commands_.order(chain_, member_, fork_op(Op::ForkAndKeep));
        pid_ = r.rc == 0 ? r.child : -1;
    }
    ~KeptChild() {
        if (pid_ > 0) {
            commands_.let_child_exit();
            Request reap;
            reap.op = Op::Reap;
            reap.child = pid_;
            commands_.order(chain_, member_, reap);
        }
    }
    KeptChild(const KeptChild&) = delete;
    KeptChild& operator=(const KeptChild&) = delete;

    pid_t pid() const { return pid_; }

private:
    Commands& commands_;
    ProcessChain& chain_;
    int member_;
    pid_t pid_ = -1;
};

std::vector<std::uint64_t> ids(const std::vector<AnonVmaInfo>& chain) {
    std::vector<std::uint64_t> out;
    for (const AnonVmaInfo& a : chain) {
        out.push_back(a.id);
    }
    return out;
}

const AnonVmaInfo* find(const std::vector<AnonVmaInfo>& chain, std::uint64_t id) {
    auto it = std::find_if(chain.begin(), chain.end(), [&](const auto& a) { return a.id == id; });
    return it == chain.end() ? nullptr : &*it;
}

// A chain's anon_vmas oldest first: the root, then each one's child
// (anon_vma_fork() makes the parent's anon_vma the parent: 6.1
// mm/rmap.c:376, 7.3 mm/rmap.c:429). Empty if the chain is no such line.
std::vector<AnonVmaInfo> by_generation(const std::vector<AnonVmaInfo>& chain) {
    std::vector<AnonVmaInfo> line;
    std::copy_if(chain.begin(), chain.end(), std::back_inserter(line),
                 [](const AnonVmaInfo& a) { return a.is_root(); });
    if (line.size() != 1) {
        return {};
    }
    while (line.size() < chain.size()) {
        auto next = std::find_if(chain.begin(), chain.end(), [&](const AnonVmaInfo& a) {
            return !a.is_root() && a.parent_id == line.back().id;
        });
        if (next == chain.end()) {
            return {};
        }
        line.push_back(*next);
    }
    return line;
}

struct Counters {
    std::uint64_t num_children = 0;
    std::uint64_t num_active_vmas = 0;
    std::uint64_t refcount = 0;
};

// What the kernel keeps for generation i (0: the root) of a fork line of
// `generations` anon_vmas, with `active` VMAs on it:
// - a root counts itself as its own child (6.1 mm/rmap.c:205, 7.3 :204),
//   and each anon_vma counts the one its fork made under it (6.1 :387, 7.3 :442);
// - every anon_vma starts with one reference (6.1 :95, 7.3 :96), dropped
//   when its last VMA goes, and every other one of the tree pins the root
//   (6.1 :382, 7.3 :435).
// The same on 6.1, 6.12 and 7.3.
Counters generation(std::size_t i, std::size_t generations, std::uint64_t active) {
    const bool has_child = i + 1 < generations;
    return {(i == 0 ? 1u : 0u) + (has_child ? 1u : 0u), active, i == 0 ? generations : 1};
}

// `v`'s chain is a fork line of expected.size() generations with these
// counters, oldest first.
testing::AssertionResult is_fork_line(const VmaInspection& v,
                                      const std::vector<Counters>& expected) {
    if (v.chain_len != expected.size() || v.chain.size() != expected.size()) {
        return testing::AssertionFailure()
               << "chain of " << v.chain_len << " (" << v.chain.size() << " returned), not "
               << expected.size() << ": " << describe(v);
    }
    const std::vector<AnonVmaInfo> line = by_generation(v.chain);
    if (line.empty()) {
        return testing::AssertionFailure()
               << "not one root and a line of children: " << describe(v);
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
        const AnonVmaInfo& a = line[i];
        const Counters& e = expected[i];
        if (a.root_id != line[0].id || a.num_children != e.num_children ||
            a.num_active_vmas != e.num_active_vmas || a.refcount != e.refcount) {
            return testing::AssertionFailure()
                   << "generation " << i << " " << a.id << ": root " << a.root_id << " children "
                   << a.num_children << " active " << a.num_active_vmas << " ref " << a.refcount
                   << ", expected root " << line[0].id << " children " << e.num_children
                   << " active " << e.num_active_vmas << " ref " << e.refcount << "; "
                   << describe(v);
        }
    }
    return testing::AssertionSuccess();
}

// Counters of a line whose members all live, one VMA each but the last,
// which has `last_active`.
std::vector<Counters> live_line(std::size_t generations, std::uint64_t last_active = 1) {
    std::vector<Counters> out;
    for (std::size_t i = 0; i < generations; ++i) {
        out.push_back(generation(i, generations, i + 1 == generations ? last_active : 1));
    }
    return out;
}

std::string clone_order_row() {
    return std::string(behaviour_name(Behaviour::CloneReversesAnonVmaChain)) +
           (kernel_shows(Behaviour::CloneReversesAnonVmaChain) ? " yes: " : " no: ") +
           behaviour_reason(Behaviour::CloneReversesAnonVmaChain);
}

// A grandchild's VMA chains three anon_vmas: its own, its parent's and the
// root. It splits the VMA in three, merges it back, moves its top part and
// forks; after each step every VMA's chain and every counter is as the
// kernel computes it.
TEST(AnonVmaContract, SplitsMergesMremapAndForkCopyTheChainInCloneOrderAndCountEveryVma) {
    ensure_module_loaded();
    Device dev = Device::open();
    Commands commands;
    // A PROT_NONE window to move into: no neighbour the moved VMA could merge with.
    Mapping window(3 * kBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    ProcessChain chain(3, kPages);
    const pid_t me = chain.pids()[2];
    const std::uint64_t addr = chain.addr();
    const std::string row = clone_order_row();

    const VmaInspection source = dev.inspect_vma(me, addr);
    ASSERT_TRUE(is_fork_line(source, live_line(3)));
    EXPECT_EQ(source.chain.front().id, source.anon_vma_id)
        << "anon_vma_fork() list_add()s the new anon_vma at the head (6.1 mm/rmap.c:386, 7.3 "
           ":438)";
    const std::vector<std::uint64_t> copy = cloned_chain_order(ids(source.chain));

    // mprotect of the middle splits twice; the VMA that stays is the
    // middle (6.1 mm/mprotect.c:617,623; 7.3 mm/vma.c:1776,1784, new_below
    // then not), so below and above are the copies. Copies share the
    // anon_vma, and each is one more VMA on it (anon_vma_clone(): 6.1
    // mm/rmap.c:315-316, 7.3 :366-367); no other counter moves.
    ASSERT_EQ(commands.order(chain, 2, protect(addr + 3 * kPage, 2 * kPage, PROT_READ)).rc, 0);
    const VmaInspection below = dev.inspect_vma(me, addr);
    const VmaInspection middle = dev.inspect_vma(me, addr + 3 * kPage);
    const VmaInspection above = dev.inspect_vma(me, addr + 5 * kPage);
    EXPECT_EQ(ids(middle.chain), ids(source.chain)) << "the original VMA keeps its chain";
    EXPECT_EQ(ids(below.chain), copy) << row;
    EXPECT_EQ(ids(above.chain), copy) << row;
    for (const VmaInspection* v : {&below, &middle, &above}) {
        EXPECT_EQ(v->anon_vma_id, source.anon_vma_id) << "a split shares the anon_vma";
        EXPECT_TRUE(is_fork_line(*v, live_line(3, 3)));
    }

    // mprotect back merges the three: the one before grows over the others
    // (6.1 mm/mmap.c:1069-1075 res = prev; 7.3 mm/vma.c:1005-1022), which
    // are unlinked (6.1 mm/mmap.c:858, 7.3 mm/vma.c:434). So the merged VMA
    // has below's chain: on 7.x the original's in reverse.
    ASSERT_EQ(
        commands.order(chain, 2, protect(addr + 3 * kPage, 2 * kPage, PROT_READ | PROT_WRITE)).rc,
        0);
    const VmaInspection merged = dev.inspect_vma(me, addr);
    EXPECT_EQ(merged.start, addr);
    EXPECT_EQ(merged.end, addr + kBytes) << "the three merged into one";
    EXPECT_EQ(ids(merged.chain), copy) << row;
    EXPECT_TRUE(is_fork_line(merged, live_line(3)));

    // mremap of the top three pages: copy_vma() clones the chain (6.1
    // mm/mmap.c:3446, 7.3 mm/vma.c:2033), then the source range is unmapped,
    // splitting the VMA. From 6.12 that split makes the part left behind the
    // new VMA (new_below: 6.12 mm/vma.c:1229, 7.3 :1512; 6.1 mm/mmap.c:2488
    // keeps the original), so on 7.x it too has a copy, in reverse.
    const std::uint64_t to = window.address() + kBytes;
    ASSERT_EQ(commands.order(chain, 2, move(addr + 5 * kPage, 3 * kPage, to)).rc, 0);
    const VmaInspection left = dev.inspect_vma(me, addr);
    const VmaInspection moved = dev.inspect_vma(me, to);
    EXPECT_EQ(left.end, addr + 5 * kPage);
    EXPECT_EQ(moved.end, to + 3 * kPage);
    EXPECT_EQ(ids(moved.chain), cloned_chain_order(ids(merged.chain))) << row;
    EXPECT_EQ(ids(left.chain), cloned_chain_order(ids(merged.chain))) << row;
    EXPECT_EQ(moved.anon_vma_id, source.anon_vma_id) << "mremap never reuses an anon_vma";
    EXPECT_TRUE(is_fork_line(moved, live_line(3, 2))) << "the moved part came, the old one went";

    // A fork gives each of the two VMAs a new anon_vma under ours, in front
    // of a copy of its chain; ours then has two children, and the root two
    // more references.
    {
        KeptChild child(commands, chain, 2);
        ASSERT_GT(child.pid(), 0) << "fork failed with errno " << commands.last().error;
        for (const VmaInspection* parent : {&left, &moved}) {
            const VmaInspection v = dev.inspect_vma(child.pid(), parent->start);
            ASSERT_EQ(v.chain.size(), 4u) << describe(v);
            EXPECT_EQ(v.chain.front().id, v.anon_vma_id);
            EXPECT_EQ(v.chain.front().parent_id, source.anon_vma_id);
            const std::vector<std::uint64_t> chain_ids = ids(v.chain);
            EXPECT_EQ(std::vector<std::uint64_t>(chain_ids.begin() + 1, chain_ids.end()),
                      cloned_chain_order(ids(parent->chain)))
                << row;
            // Oldest first: P0's root (pinned by the child's two more),
            // P1's, P2's (two children now, two VMAs), the child's own.
            EXPECT_TRUE(is_fork_line(v, {{2, 1, 3 + 2}, {1, 1, 1}, {2, 2, 1}, {0, 1, 1}}));
        }
    }
    // The child's anon_vmas went with it.
    EXPECT_TRUE(is_fork_line(dev.inspect_vma(me, addr), live_line(3, 2)));
}

// Five generations, P0 to P4; P0 to P3 exit. The root, P0's, stays the
// root of P4's chain; the anon_vmas of P1 to P3 stay with no VMA and one
// child each: idle. P4's split and mremap leave them idle; its fork reuses
// one. Which one differs:
// - to 6.19 (P4's chain, same_vma order: P4, P3, P2, P1, root) the walk
//   from the root takes P1's: it then counts 1 active VMA, P2's and P3's 0;
// - on 7.3 P4's chain reads P4, P2, root, P1, P3 (each clone reversed the
//   one before), and the forward walk takes P2's: 1 active VMA, P1's and
//   P3's 0.
// num_children stays the same everywhere (root 2, P1 to P3 1, P4 0): a
// reused anon_vma is nobody's new child.
TEST(AnonVmaContract, TheRootOutlivesItsCreatorAndOnlyAForkReusesAnIdleAnonVma) {
    ensure_module_loaded();
    Device dev = Device::open();
    Commands commands;
    Mapping window(3 * kBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    constexpr std::size_t kGenerations = 5;
    ProcessChain chain(kGenerations, kPages);
    const int last = kGenerations - 1;
    const pid_t me = chain.pids()[last];
    const std::uint64_t addr = chain.addr();
    const std::string row = clone_order_row();

    const VmaInspection before = dev.inspect_vma(me, addr);
    ASSERT_TRUE(is_fork_line(before, live_line(kGenerations)));
    const std::uint64_t root = by_generation(before.chain).front().id;
    EXPECT_EQ(root, dev.inspect_vma(chain.pids()[0], addr).anon_vma_id) << "P0 made the root";

    for (int i = 0; i < last; ++i) {
        chain.leave(i);
    }
    // The root outlived P0: each survivor's VMA still has an anon_vma_chain
    // entry on it, so its interval tree is not empty and unlink_anon_vmas()
    // kept it (6.1 mm/rmap.c:417-420, 7.3 :511-514); it keeps its own
    // reference and the four it is pinned by.
    std::vector<Counters> idle_line;
    for (std::size_t i = 0; i < kGenerations; ++i) {
        idle_line.push_back(generation(i, kGenerations, i == kGenerations - 1 ? 1 : 0));
    }
    const VmaInspection alone = dev.inspect_vma(me, addr);
    EXPECT_EQ(ids(alone.chain), ids(before.chain)) << "exits leave a survivor's chain alone";
    ASSERT_TRUE(is_fork_line(alone, idle_line));
    EXPECT_EQ(by_generation(alone.chain).front().id, root);

    // A split shares the VMA's own anon_vma (6.1 mm/rmap.c:310 needs
    // !dst->anon_vma, which a split's copy never has; 7.3 :362-363 reuses
    // for VMA_OP_FORK only); merged back, moved whole: the idle ones stay idle.
    ASSERT_EQ(commands.order(chain, last, protect(addr, kPage, PROT_READ)).rc, 0);
    const VmaInspection split = dev.inspect_vma(me, addr + kPage);  // the copy
    EXPECT_EQ(split.start, addr + kPage);
    EXPECT_EQ(split.anon_vma_id, alone.anon_vma_id) << "a split never reuses";
    idle_line.back().num_active_vmas = 2;
    EXPECT_TRUE(is_fork_line(split, idle_line));
    ASSERT_EQ(commands.order(chain, last, protect(addr, kPage, PROT_READ | PROT_WRITE)).rc, 0);
    const std::uint64_t to = window.address() + kBytes;
    ASSERT_EQ(commands.order(chain, last, move(addr, kBytes, to)).rc, 0);
    const VmaInspection moved = dev.inspect_vma(me, to);
    EXPECT_EQ(moved.end, to + kBytes);
    EXPECT_EQ(moved.anon_vma_id, alone.anon_vma_id) << "mremap never reuses";
    idle_line.back().num_active_vmas = 1;
    ASSERT_TRUE(is_fork_line(moved, idle_line));

    // The fork: two idle anon_vmas, and the kernels' rules take different ones.
    auto idle = [](const AnonVmaInfo& a) { return a.num_active_vmas == 0 && a.num_children < 2; };
    const auto first_idle = std::find_if(moved.chain.begin(), moved.chain.end(), idle);
    const auto last_idle = std::find_if(moved.chain.rbegin(), moved.chain.rend(), idle);
    ASSERT_NE(first_idle, moved.chain.end());
    ASSERT_NE(first_idle->id, last_idle->id) << "the case that tells the kernels apart";
    const std::uint64_t reused = anon_vma_reused_on_fork(moved.chain);
    const std::string reuse_row =
        std::string(behaviour_name(Behaviour::ForkReusesFirstIdleAnonVmaInChainOrder)) +
        (kernel_shows(Behaviour::ForkReusesFirstIdleAnonVmaInChainOrder) ? " yes: " : " no: ") +
        behaviour_reason(Behaviour::ForkReusesFirstIdleAnonVmaInChainOrder);
    {
        KeptChild child(commands, chain, last);
        ASSERT_GT(child.pid(), 0) << "fork failed with errno " << commands.last().error;
        const VmaInspection v = dev.inspect_vma(child.pid(), to);
        EXPECT_EQ(v.anon_vma_id, reused) << reuse_row;
        EXPECT_EQ(ids(v.chain), cloned_chain_order(ids(moved.chain)))
            << "no anon_vma of its own: the reused one is already on the chain; " << row;
        for (const AnonVmaInfo& a : v.chain) {
            const AnonVmaInfo* was = find(moved.chain, a.id);
            ASSERT_NE(was, nullptr);
            EXPECT_EQ(a.num_children, was->num_children) << a.id;
            EXPECT_EQ(a.refcount, was->refcount) << a.id << ": no new anon_vma pins the root";
            EXPECT_EQ(a.num_active_vmas, was->num_active_vmas + (a.id == reused ? 1 : 0))
                << a.id << ": " << reuse_row;
        }
        const std::vector<AnonVmaInfo> line = by_generation(v.chain);
        const auto generation_reused =
            std::find_if(line.begin(), line.end(), [&](const auto& a) { return a.id == reused; });
        ASSERT_NE(generation_reused, line.end());
        std::printf("# fork reused P%zu's anon_vma (%s %s)\n",
                    static_cast<std::size_t>(generation_reused - line.begin()),
                    behaviour_name(Behaviour::ForkReusesFirstIdleAnonVmaInChainOrder),
                    kernel_shows(Behaviour::ForkReusesFirstIdleAnonVmaInChainOrder) ? "yes" : "no");
    }
    EXPECT_TRUE(is_fork_line(dev.inspect_vma(me, to), idle_line))
        << "the child's exit made it idle again";
}

// The failure path. A chain member's VMA, below every other mapping so that
// a fork copies it first (dup_mmap() walks VMAs in address order: 6.1
// kernel/fork.c:629, 7.3 mm/mmap.c:1739), chains three anon_vmas. Each
// attempt is a fresh chain; failslab considers only anon_vma_chain objects.
constexpr std::uint64_t kBelowEverything = 0x200000;  // under a static binary's 0x400000
constexpr unsigned kChain = 3;

struct Outcome {
    int rc = 0;
    int error = 0;
    unsigned fail_nth_left = 0;
    bool childless_after = false;
    std::vector<VmaInspection> before, after;
};

class AnonVmaCloneFailure : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        if (const std::string why = failslab_unavailable("anon_vma_chain"); !why.empty()) {
            GTEST_SKIP() << why;
        }
        failslab_.emplace("anon_vma_chain");
        dev_.emplace(Device::open());
    }

    // Makes the last of three generations do `op` on its VMA, with the
    // thread's fail-nth armed with `fail_nth`, or else with make-it-fail set
    // and failslab letting `budget` allocations through.
    Outcome attempt(Op op, unsigned fail_nth, std::optional<unsigned> budget = std::nullopt) {
        Commands commands;
        Mapping window(3 * kBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
        ProcessChain chain(kChain, kPages, /*forkers_exit=*/false, kBelowEverything);
        const pid_t me = chain.pids()[kChain - 1];
        const std::uint64_t hole = window.address() + kBytes;
        // A hole to move into, so that the failed mremap unmapped nothing there.
        EXPECT_EQ(commands.order(chain, kChain - 1, unmap(hole, kBytes)).rc, 0);

        Outcome out;
        out.before = inspect_every_vma(*dev_, me);
        if (out.before.empty()) {
            ADD_FAILURE() << "no VMA in " << me;
            return out;
        }
        const VmaInspection& first = out.before.front();
        EXPECT_EQ(first.start, kBelowEverything) << describe(out.before);
        EXPECT_EQ(first.end, kBelowEverything + kBytes);
        EXPECT_TRUE(is_fork_line(first, live_line(kChain)));

        Request r;
        switch (op) {
            case Op::Protect:  // the top half: one split
                r = protect(kBelowEverything + kBytes / 2, kBytes / 2, PROT_READ);
                break;
            case Op::Move:
                r = move(kBelowEverything, kBytes, hole);
                break;
            default:
                r = fork_op(op);
                break;
        }
        r.fail_nth = fail_nth;
        r.make_it_fail = budget.has_value();
        if (budget) {
            failslab_->fail_tasks_after(*budget);
        }
        const Request& seen = commands.order(chain, kChain - 1, r);
        failslab_->stop_failing_tasks();
        out.rc = seen.rc;
        out.error = seen.error;
        out.fail_nth_left = seen.fail_nth_left;
        out.childless_after = seen.childless_after;
        out.after = inspect_every_vma(*dev_, me);
        if (out.rc == 0 && op == Op::Fork) {
            EXPECT_EQ(describe(out.after), describe(out.before))
                << "the child's exit took its anon_vmas with it";
        } else if (out.rc == 0) {
            // The injected failure was absorbed: the copy is still whole.
            const std::uint64_t copy_at = op == Op::Move ? hole : kBelowEverything;
            EXPECT_EQ(ids(dev_->inspect_vma(me, copy_at).chain),
                      cloned_chain_order(ids(first.chain)))
                << clone_order_row();
        }
        return out;
    }

    // The failed call changed nothing: every VMA, chain and counter.
    static void expect_nothing_changed(const Outcome& o, Op op) {
        EXPECT_EQ(o.error, ENOMEM);
        EXPECT_EQ(describe(o.after), describe(o.before));
        if (op == Op::Fork) {
            EXPECT_TRUE(o.childless_after) << "a failed fork left a child";
        }
    }

    // fail-nth alone, n = 1 to kChain + 1: the call fails where `fails(n)`.
    void fail_nth_fails_where(Op op, const char* what, bool (*fails)(unsigned n, bool absorbs)) {
        const bool absorbs = kernel_shows(Behaviour::CloneAbsorbsAFailedAllocation);
        const std::string row =
            std::string(behaviour_name(Behaviour::CloneAbsorbsAFailedAllocation)) +
            (absorbs ? " yes: " : " no: ") +
            behaviour_reason(Behaviour::CloneAbsorbsAFailedAllocation);
        std::string seen;
        for (unsigned n = 1; n <= kChain + 1; ++n) {
            SCOPED_TRACE(std::string(what) + ", fail-nth " + std::to_string(n));
            const Outcome o = attempt(op, n);
            if (fails(n, absorbs)) {
                EXPECT_NE(o.rc, 0) << row;
                expect_nothing_changed(o, op);
            } else {
                EXPECT_EQ(o.rc, 0) << "errno " << o.error << "; " << row;
            }
            // Each call makes kChain allocations for this chain, a fork more
            // for the process's other VMAs: n beyond them is never reached.
            const bool reached = op == Op::Fork || n <= kChain;
            EXPECT_EQ(o.fail_nth_left, reached ? 0u : 1u);
            seen += " " + std::to_string(n) +
                    (o.rc != 0 ? ":ENOMEM"
                     : reached ? ":ok"
                               : ":unreached");
        }
        std::printf("# %s, chain of %u, fail-nth n:%s\n", what, kChain, seen.c_str());
    }

    // make-it-fail with every allocation after the first `budget` failing.
    void every_failure_changes_nothing(Op op, const char* what, unsigned budgets) {
        for (unsigned budget = 0; budget < budgets; ++budget) {
            SCOPED_TRACE(std::string(what) + ", " + std::to_string(budget) +
                         " allocations let through");
            const Outcome o = attempt(op, 0, budget);
            EXPECT_NE(o.rc, 0);
            expect_nothing_changed(o, op);
        }
    }

    std::optional<CacheFailslab> failslab_;
    std::optional<Device> dev_;
};

// A split's anon_vma_clone() allocates one anon_vma_chain per element
// (6.1 mm/rmap.c:291, 6.12 :293, 7.3 :346). To 6.19 a failed GFP_NOWAIT
// attempt is retried with GFP_KERNEL (6.1 :295, 6.12 :297): one injected
// failure never fails the split. On 7.3 it does, for any of the three.
TEST_F(AnonVmaCloneFailure, FailNthFailsAnMprotectSplitOnlyWhereTheCloneDoesNotRetry) {
    fail_nth_fails_where(Op::Protect, "mprotect split",
                         [](unsigned n, bool absorbs) { return !absorbs && n <= kChain; });
}

// mremap's copy_vma() clones the same way (6.1 mm/mmap.c:3446, 7.3 mm/vma.c:2033).
TEST_F(AnonVmaCloneFailure, FailNthFailsAnMremapOnlyWhereTheCloneDoesNotRetry) {
    fail_nth_fails_where(Op::Move, "mremap",
                         [](unsigned n, bool absorbs) { return !absorbs && n <= kChain; });
}

// A fork's anon_vma_fork() of the first VMA: to 6.19 the clone's three
// allocations absorb their failure, and the fork's own anon_vma_chain comes
// after them, allocated once (6.1 mm/rmap.c:367): n = 4 fails the fork.
// 7.3 allocates the fork's own first (mm/rmap.c:398), then the clone's
// three (:346, via :408): every n fails it.
TEST_F(AnonVmaCloneFailure, FailNthFailsAForkWhereNoRetryAbsorbsIt) {
    fail_nth_fails_where(Op::Fork, "fork",
                         [](unsigned n, bool absorbs) { return !absorbs || n == kChain + 1; });
}

// With make-it-fail, every allocation after the budget fails, retries
// included: whichever chain element's allocation fails first, the split
// fails and changes nothing. A budget of kChain is the split's own count.
TEST_F(AnonVmaCloneFailure, AnMprotectSplitWhoseCloneFailsAtAnyElementChangesNothing) {
    every_failure_changes_nothing(Op::Protect, "mprotect split", kChain);
    const Outcome o = attempt(Op::Protect, 0, kChain);
    EXPECT_EQ(o.rc, 0) << "the split allocates exactly " << kChain << "; errno " << o.error;
}

TEST_F(AnonVmaCloneFailure, AnMremapWhoseCloneFailsAtAnyElementChangesNothing) {
    every_failure_changes_nothing(Op::Move, "mremap", kChain);
    const Outcome o = attempt(Op::Move, 0, kChain);
    EXPECT_EQ(o.rc, 0) << "the mremap allocates exactly " << kChain << "; errno " << o.error;
}

// The first VMA's four allocations, each failing in turn: to 6.19 budget b
// < 3 fails clone element b + 1, and 3 the fork's own; on 7.3 budget 0
// fails the fork's own, and b the clone's element b. The fork fails,
// leaves no child, and the parent's anon_vmas are as they were: the child's
// partial copy is torn down before fork() returns.
TEST_F(AnonVmaCloneFailure, AForkWhoseCloneFailsAtAnyElementChangesNothingAndLeavesNoChild) {
    every_failure_changes_nothing(Op::Fork, "fork", kChain + 1);
}

}  // namespace
