// rmap inspection on live processes: the structure of the anon_vma tree a
// fork chain builds on 6.1, anon_vma reuse, COW, mremap, VMA splits, KSM,
// THP, device-exclusive entries, and agreement with pagemap/kpage*.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/unique_fd.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/pagemap.hpp"
#include "lib/process_chain.hpp"
#include "lib/run_as.hpp"
#include "lib/sysfs.hpp"
#include "lib/wait.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

const std::size_t kPage = TestMemory::page_size();

class Rmap : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        dev_.emplace(Device::open());
    }
    Device& dev() { return *dev_; }

    std::optional<Device> dev_;
};

std::set<pid_t> mapper_pids(const PageInspection& p) {
    std::set<pid_t> out;
    for (const auto& m : p.mappings) {
        out.insert(m.pid);
    }
    return out;
}

// The id of the chain's one root; a chain has exactly one, wherever it sits.
std::uint64_t only_root(const std::vector<AnonVmaInfo>& chain) {
    std::vector<std::uint64_t> roots;
    for (const AnonVmaInfo& a : chain) {
        if (a.is_root()) {
            roots.push_back(a.id);
        }
    }
    EXPECT_EQ(roots.size(), 1u) << "roots in a chain of " << chain.size();
    return roots.empty() ? 0 : roots.front();
}

TEST_F(Rmap, APrivatePageHasOneMappingThatMatchesTheMapcount) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    const pid_t me = ::getpid();
    PageInspection p = dev().inspect_page(me, mem->addr() + 123);
    EXPECT_EQ(p.page.addr, mem->addr()) << "the address is rounded down to its page";
    EXPECT_EQ(p.page.pte, PteKind::Present);
    EXPECT_TRUE(p.page.pte_flags & DEVEXCL_PTEF_WRITE);
    EXPECT_TRUE(p.page.has(DEVEXCL_PAGE_ANON));
    EXPECT_TRUE(p.page.has(DEVEXCL_PAGE_SWAPBACKED));
    EXPECT_TRUE(p.page.has(DEVEXCL_PAGE_ANON_EXCLUSIVE));
    EXPECT_FALSE(p.page.has(DEVEXCL_PAGE_LARGE));
    EXPECT_EQ(p.page.mapping, MappingKind::Anon);
    EXPECT_EQ(p.page.index, mem->addr() / kPage) << "anon index: the address in pages";
    EXPECT_EQ(p.page.mapcount, 1);
    EXPECT_EQ(p.page.folio_mapcount, 1);
    EXPECT_GE(p.page.refcount, 1u);
    EXPECT_TRUE(p.page.walked());
    EXPECT_FALSE(p.page.mapcount_mismatch());
    ASSERT_EQ(p.page.nr_mappings, 1u);
    ASSERT_EQ(p.mappings.size(), 1u);
    EXPECT_EQ(p.mappings[0].pid, me);
    EXPECT_EQ(p.mappings[0].tgid, me);
    EXPECT_EQ(p.mappings[0].vaddr, mem->addr());
    EXPECT_EQ(p.mappings[0].pte, PteKind::Present);
    EXPECT_FALSE(p.mappings[0].redacted);
    // Never forked: the page's anon_vma is the VMA's own and the root.
    VmaInspection v = dev().inspect_vma(me, mem->addr());
    EXPECT_EQ(p.page.anon_vma_id, v.anon_vma_id);
    EXPECT_EQ(p.page.root_anon_vma_id, v.anon_vma_id);
    EXPECT_EQ(p.mappings[0].anon_vma_id, v.anon_vma_id);
    EXPECT_EQ(v.start, mem->addr());
    EXPECT_EQ(v.end, mem->addr() + mem->length());
    ASSERT_EQ(v.chain_len, 1u);
    EXPECT_TRUE(v.chain[0].is_root());
    EXPECT_EQ(v.chain[0].parent_id, v.chain[0].id) << "a root is its own parent";
    EXPECT_EQ(v.chain[0].num_children, 1u) << "a root counts itself as its child";
    EXPECT_EQ(v.chain[0].num_active_vmas, 1u);
}

TEST_F(Rmap, AForkChainSharesOneRootAndEachGenerationAddsOneAnonVma) {
    constexpr int kDepth = 4;
    ProcessChain chain(kDepth, 1);
    const auto& pids = chain.pids();
    std::vector<VmaInspection> vmas;
    for (int i = 0; i < kDepth; ++i) {
        vmas.push_back(dev().inspect_vma(pids[i], chain.addr()));
    }
    const std::uint64_t root = vmas[0].anon_vma_id;
    for (int i = 0; i < kDepth; ++i) {
        SCOPED_TRACE("generation " + std::to_string(i));
        const VmaInspection& v = vmas[i];
        // anon_vma_fork(): the child VMA gets all its parent's anon_vmas
        // (anon_vma_clone) plus one of its own, whose parent is the parent's.
        ASSERT_EQ(v.chain_len, static_cast<std::uint64_t>(i + 1));
        EXPECT_EQ(v.chain[0].id, v.anon_vma_id) << "same_vma order: its own first";
        EXPECT_EQ(only_root(v.chain), root);
        for (const AnonVmaInfo& a : v.chain) {
            EXPECT_EQ(a.root_id, root);
        }
        if (i > 0) {
            EXPECT_EQ(v.chain[0].parent_id, vmas[i - 1].anon_vma_id);
            // Everything older is the parent's chain, in this kernel's clone order.
            const auto cloned = cloned_chain_order(vmas[i - 1].chain);
            for (int k = 1; k <= i; ++k) {
                EXPECT_EQ(v.chain[k].id, cloned[k - 1].id)
                    << behaviour_name(Behaviour::CloneReversesAnonVmaChain) << " "
                    << kernel_shows(Behaviour::CloneReversesAnonVmaChain) << ": "
                    << behaviour_reason(Behaviour::CloneReversesAnonVmaChain);
            }
        }
        // num_children counts anon_vmas whose parent it is, the root itself
        // included; each anon_vma is the ->anon_vma of exactly one VMA.
        const std::uint64_t children = (i == 0 ? 1 : 0) + (i + 1 < kDepth ? 1 : 0);
        EXPECT_EQ(v.chain[0].num_children, children);
        EXPECT_EQ(v.chain[0].num_active_vmas, 1u);
    }
    // The page was faulted in by P0: it belongs to the root, and every
    // member maps it (nobody wrote since the forks).
    PageInspection p = dev().inspect_page(pids[0], chain.addr());
    EXPECT_EQ(p.page.anon_vma_id, root);
    EXPECT_EQ(p.page.root_anon_vma_id, root);
    EXPECT_EQ(p.page.mapcount, kDepth);
    EXPECT_EQ(p.page.nr_mappings, static_cast<std::uint64_t>(kDepth));
    EXPECT_FALSE(p.page.mapcount_mismatch());
    EXPECT_FALSE(p.page.has(DEVEXCL_PAGE_ANON_EXCLUSIVE)) << "fork cleared it";
    EXPECT_EQ(mapper_pids(p), std::set<pid_t>(pids.begin(), pids.end()));
    for (const RmapEntry& m : p.mappings) {
        auto it = std::find(pids.begin(), pids.end(), m.pid);
        ASSERT_NE(it, pids.end());
        EXPECT_EQ(m.anon_vma_id, vmas[it - pids.begin()].anon_vma_id);
        EXPECT_EQ(m.vaddr, chain.addr());
        EXPECT_FALSE(m.pte_flags & DEVEXCL_PTEF_WRITE) << "COW-protected";
    }
}

TEST_F(Rmap, AParentForkingShortLivedChildrenKeepsItsChainAndItsChildCount) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    const pid_t me = ::getpid();
    const VmaInspection before = dev().inspect_vma(me, mem->addr());
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(run_in_child([&] {
                      // The child's VMA: its own anon_vma under ours.
                      Device d = Device::open();
                      VmaInspection v = d.inspect_vma(::getpid(), mem->addr());
                      return v.chain_len == 2 && v.chain[1].id == before.anon_vma_id ? 0 : 1;
                  }),
                  0);
    }
    // Each exited child's anon_vma was freed with its last VMA: the root is
    // back to counting only itself, and our chain never grew.
    const VmaInspection after = dev().inspect_vma(me, mem->addr());
    EXPECT_EQ(after.chain_len, 1u);
    EXPECT_EQ(after.chain[0].id, before.anon_vma_id);
    EXPECT_EQ(after.chain[0].num_children, 1u);
    EXPECT_EQ(after.chain[0].num_active_vmas, 1u);
}

TEST_F(Rmap, AnonVmasAreReusedSoAChainOfExitingForkersStaysAtThree) {
    // Each generation forks the next and exits (a daemon that re-forks).
    // anon_vma_clone() lets the child's VMA reuse an ancestor's anon_vma
    // that has no VMAs left and fewer than two children (never the root),
    // so from the third generation on no anon_vma is added: the chain
    // stays root + two, instead of growing by one per generation.
    for (int generations : {1, 2, 3, 6, 12}) {
        SCOPED_TRACE(std::to_string(generations) + " generations");
        ProcessChain chain(generations, 1, /*forkers_exit=*/true);
        ASSERT_EQ(chain.pids().size(), 1u);
        VmaInspection v = dev().inspect_vma(chain.pids()[0], chain.addr());
        EXPECT_EQ(v.chain_len, static_cast<std::uint64_t>(std::min(generations, 3)));
        std::set<std::uint64_t> roots;
        for (const AnonVmaInfo& a : v.chain) {
            roots.insert(a.root_id);
        }
        EXPECT_EQ(roots.size(), 1u);
        const std::uint64_t root = only_root(v.chain);
        PageInspection p = dev().inspect_page(chain.pids()[0], chain.addr());
        EXPECT_EQ(p.page.mapcount, 1) << "every forker has exited";
        EXPECT_EQ(p.page.nr_mappings, 1u);
        EXPECT_EQ(p.page.root_anon_vma_id, root);
        EXPECT_EQ(p.page.anon_vma_id, root) << "faulted in by the first generation";
        if (!kernel_shows(Behaviour::CloneReversesAnonVmaChain)) {
            EXPECT_EQ(v.chain.back().id, root) << "kept order: the root stays last";
        }
    }
}

TEST_F(Rmap, CowAfterForkSplitsOneSharedPageIntoTwo) {
    ProcessChain chain(2, 1);
    const pid_t parent = chain.pids()[0], child = chain.pids()[1];
    const VmaInspection pv = dev().inspect_vma(parent, chain.addr());
    const VmaInspection cv = dev().inspect_vma(child, chain.addr());

    PageInspection before = dev().inspect_page(parent, chain.addr());
    EXPECT_EQ(before.page.mapcount, 2);
    EXPECT_EQ(mapper_pids(before), (std::set<pid_t>{parent, child}));
    EXPECT_EQ(before.page.anon_vma_id, pv.anon_vma_id);

    chain.write(1, 0, 77);
    PageInspection parent_page = dev().inspect_page(parent, chain.addr());
    PageInspection child_page = dev().inspect_page(child, chain.addr());
    EXPECT_NE(parent_page.page.pfn, child_page.page.pfn);
    EXPECT_EQ(parent_page.page.pfn, before.page.pfn) << "the parent keeps the original";
    EXPECT_EQ(parent_page.page.mapcount, 1);
    EXPECT_EQ(mapper_pids(parent_page), (std::set<pid_t>{parent}));
    EXPECT_EQ(parent_page.page.anon_vma_id, pv.anon_vma_id);
    EXPECT_EQ(child_page.page.mapcount, 1);
    EXPECT_EQ(mapper_pids(child_page), (std::set<pid_t>{child}));
    // The COW copy is a new page of the child's own anon_vma, under the same root.
    EXPECT_EQ(child_page.page.anon_vma_id, cv.anon_vma_id);
    EXPECT_EQ(child_page.page.root_anon_vma_id, pv.anon_vma_id);
    EXPECT_TRUE(child_page.page.has(DEVEXCL_PAGE_ANON_EXCLUSIVE));
}

// The state letter of /proc/PID/stat, after the parenthesised comm.
char process_state(pid_t pid) {
    const std::string line = read_file("/proc/" + std::to_string(pid) + "/stat");
    const std::size_t paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

// When a process's leader thread exits, 6.1's mm_update_next_owner() hands
// mm->owner to a thread still using the mm; the mapping is named after it.
TEST_F(Rmap, AMappingIsNamedAfterALiveThreadOnceItsLeaderHasExited) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    int tid_pipe[2], release[2];
    ASSERT_EQ(::pipe(tid_pipe), 0);
    ASSERT_EQ(::pipe(release), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(release[1]);
        // By value: this thread's stack is gone once it has exited.
        std::thread([tid_fd = tid_pipe[1], release_fd = release[0]] {
            ::prctl(PR_SET_NAME, "devexcl-heir");
            const auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
            (void)!::write(tid_fd, &tid, sizeof(tid));
            char c;
            (void)!::read(release_fd, &c, 1);  // EOF when the test is done
            ::_exit(0);
        }).detach();
        ::syscall(SYS_exit, 0);  // this thread only, not the group
    }
    ::close(release[0]);
    ::close(tid_pipe[1]);
    pid_t heir = 0;
    ASSERT_EQ(::read(tid_pipe[0], &heir, sizeof(heir)), static_cast<ssize_t>(sizeof(heir)));
    ::close(tid_pipe[0]);
    // A zombie leader has been through exit_mm(), which moves mm->owner.
    wait_until([&] { return process_state(child) == 'Z'; }, std::chrono::seconds(10));
    EXPECT_EQ(process_state(child), 'Z') << "the leader never exited";

    PageInspection p = dev().inspect_page(::getpid(), mem->addr());
    ::close(release[1]);
    ::waitpid(child, nullptr, 0);
    ASSERT_EQ(p.page.nr_mappings, 2u);
    ASSERT_EQ(p.mappings.size(), 2u);
    const auto in_child = std::find_if(p.mappings.begin(), p.mappings.end(),
                                       [&](const RmapEntry& m) { return m.tgid == child; });
    ASSERT_NE(in_child, p.mappings.end());
    EXPECT_EQ(in_child->pid, heir);
    EXPECT_EQ(in_child->comm, "devexcl-heir");
    EXPECT_EQ(in_child->vaddr, mem->addr());
    EXPECT_FALSE(in_child->redacted);
}

// A process that shares the caller's mm through CLONE_VM, without being in
// its thread group, is shown that mm's mappings: they are its own, even
// though mm->owner names the other process.
TEST_F(Rmap, ACloneVmProcessSeesTheMappingsOfItsOwnMmUnredacted) {
    WorldAccessibleNode open_to_all;
    int result = run_as_nobody([] {
        auto mem = TestMemory::create(MemoryKind::PrivateAnon);
        struct Shared {
            std::uint64_t addr;
            int verdict;
        } shared{mem->addr(), 10};
        static std::vector<char> stack(256 * 1024);
        // Like vfork: this process waits, so the child may use its heap and TLS.
        const pid_t sharer = ::clone(
            +[](void* arg) -> int {
                auto* s = static_cast<Shared*>(arg);
                try {
                    PageInspection p = Device::open().inspect_page(::getpid(), s->addr);
                    const bool ok = p.page.nr_mappings == 1 && p.page.nr_redacted == 0 &&
                                    p.mappings.size() == 1 && !p.mappings[0].redacted &&
                                    p.mappings[0].tgid == ::getppid() &&
                                    p.mappings[0].vaddr == s->addr;
                    s->verdict = ok ? 0 : 11;
                } catch (const std::exception&) {
                    s->verdict = 12;
                }
                return 0;
            },
            stack.data() + stack.size(), CLONE_VM | SIGCHLD, &shared);
        if (sharer < 0 || ::waitpid(sharer, nullptr, 0) != sharer) {
            return 13;
        }
        return shared.verdict;
    });
    EXPECT_EQ(result, 0) << "11: redacted or wrong mapping, 12: the inspection failed";
}

TEST_F(Rmap, MremapKeepsTheAnonVmaAndTheIndex) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    const pid_t me = ::getpid();
    PageInspection before = dev().inspect_page(me, mem->page_addr(2));
    VmaInspection vma_before = dev().inspect_vma(me, mem->addr());
    Mapping window(2 * mem->length(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    void* moved = ::mremap(reinterpret_cast<void*>(mem->addr()), mem->length(), mem->length(),
                           MREMAP_MAYMOVE | MREMAP_FIXED, window.data());
    ASSERT_EQ(moved, window.data()) << std::strerror(errno);
    mem->adopt_moved(window.address());
    PageInspection after = dev().inspect_page(me, mem->page_addr(2));
    VmaInspection vma_after = dev().inspect_vma(me, mem->addr());
    EXPECT_EQ(after.page.pfn, before.page.pfn);
    EXPECT_EQ(after.page.anon_vma_id, before.page.anon_vma_id);
    EXPECT_EQ(after.page.index, before.page.index) << "the pgoff moves with the VMA";
    EXPECT_EQ(vma_after.pgoff, vma_before.pgoff);
    EXPECT_EQ(vma_after.anon_vma_id, vma_before.anon_vma_id);
    ASSERT_EQ(after.mappings.size(), 1u);
    EXPECT_EQ(after.mappings[0].vaddr, mem->page_addr(2)) << "found at its new address";
    // The front of the window now belongs to mem; unmap only the reserved rest.
    char* rest = static_cast<char*>(window.release()) + mem->length();
    ::munmap(rest, mem->length());
}

TEST_F(Rmap, MprotectOfTheMiddleSplitsTheVmaInThreeThatShareTheAnonVma) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    const pid_t me = ::getpid();
    const std::uint64_t id = dev().inspect_vma(me, mem->addr()).anon_vma_id;
    ASSERT_EQ(::mprotect(reinterpret_cast<void*>(mem->page_addr(3)), 2 * kPage, PROT_READ), 0);
    VmaInspection a = dev().inspect_vma(me, mem->page_addr(0));
    VmaInspection b = dev().inspect_vma(me, mem->page_addr(3));
    VmaInspection c = dev().inspect_vma(me, mem->page_addr(7));
    EXPECT_EQ(a.end, mem->page_addr(3));
    EXPECT_EQ(b.start, mem->page_addr(3));
    EXPECT_EQ(b.end, mem->page_addr(5));
    EXPECT_EQ(c.start, mem->page_addr(5));
    EXPECT_TRUE(a.flags & 0x2) << "VM_WRITE";
    EXPECT_FALSE(b.flags & 0x2);
    EXPECT_TRUE(c.flags & 0x2);
    for (const VmaInspection* v : {&a, &b, &c}) {
        EXPECT_EQ(v->anon_vma_id, id);
        EXPECT_EQ(v->chain_len, 1u);
        EXPECT_EQ(v->chain[0].num_active_vmas, 3u) << "three VMAs point at it now";
    }
    EXPECT_EQ(b.pgoff, a.pgoff + 3);
}

TEST_F(Rmap, KsmPagesReportKsmAndEveryMapper) {
    auto mem = TestMemory::create(MemoryKind::KsmMerged);
    const pid_t me = ::getpid();
    PageInspection p = dev().inspect_page(me, mem->page_addr(3));
    EXPECT_TRUE(p.page.has(DEVEXCL_PAGE_KSM));
    EXPECT_EQ(p.page.mapping, MappingKind::Ksm);
    EXPECT_EQ(p.page.anon_vma_id, 0u) << "a KSM page's mapping is its stable node";
    EXPECT_EQ(p.page.mapcount, static_cast<int>(mem->pages()));
    EXPECT_TRUE(p.page.walked());
    EXPECT_EQ(p.page.nr_mappings, mem->pages());
    EXPECT_FALSE(p.page.mapcount_mismatch());
    std::set<std::uint64_t> vaddrs;
    for (const RmapEntry& m : p.mappings) {
        EXPECT_EQ(m.pid, me);
        vaddrs.insert(m.vaddr);
    }
    EXPECT_EQ(vaddrs.size(), mem->pages());
    EXPECT_EQ(*vaddrs.begin(), mem->addr());
}

TEST_F(Rmap, AThpReportsItsOrderAndPerSubpageMapcounts) {
    auto mem = TestMemory::create(MemoryKind::AnonThp);
    if (!mem->skip_reason().empty()) {
        GTEST_SKIP() << mem->skip_reason();
    }
    const pid_t me = ::getpid();
    PageInspection head = dev().inspect_page(me, mem->page_addr(0));
    PageInspection sub = dev().inspect_page(me, mem->page_addr(5));
    for (const PageInspection* p : {&head, &sub}) {
        EXPECT_EQ(p->page.folio_order, 9u);
        EXPECT_TRUE(p->page.has(DEVEXCL_PAGE_THP));
        EXPECT_TRUE(p->page.pte_flags & DEVEXCL_PTEF_PMD) << "PMD-mapped";
        // One PMD mapping: the entire mapcount, seen by every subpage.
        EXPECT_EQ(p->page.mapcount, 1);
        EXPECT_EQ(p->page.folio_mapcount, 1);
        EXPECT_EQ(p->page.nr_mappings, 1u);
        EXPECT_FALSE(p->page.mapcount_mismatch());
    }
    EXPECT_TRUE(head.page.has(DEVEXCL_PAGE_HEAD));
    EXPECT_TRUE(sub.page.has(DEVEXCL_PAGE_TAIL));
    EXPECT_EQ(sub.page.index, head.page.index + 5);
    EXPECT_EQ(sub.page.pfn, head.page.pfn + 5);

    // Splitting the PMD (mprotect of one subpage) PTE-maps the THP: every
    // subpage now has its own mapcount and the folio's is their sum.
    ASSERT_EQ(::mprotect(reinterpret_cast<void*>(mem->page_addr(100)), kPage, PROT_READ), 0);
    PageInspection split = dev().inspect_page(me, mem->page_addr(5));
    EXPECT_FALSE(split.page.pte_flags & DEVEXCL_PTEF_PMD);
    EXPECT_EQ(split.page.folio_order, 9u) << "the folio itself is not split";
    EXPECT_EQ(split.page.mapcount, 1);
    EXPECT_EQ(split.page.folio_mapcount, 512);
    EXPECT_EQ(split.page.nr_mappings, 1u);
    EXPECT_FALSE(split.page.mapcount_mismatch());
}

TEST_F(Rmap, ADeviceExclusivePageIsFoundWithTheKernelsMapcountUntilRestored) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    const pid_t me = ::getpid();
    Device device = Device::open();
    ASSERT_TRUE(device.mark(mem->addr(), kPage).all_held());
    PageInspection p = dev().inspect_page(me, mem->addr());
    EXPECT_EQ(p.page.pte, PteKind::DeviceExclusiveWrite);
    EXPECT_TRUE(p.page.has(DEVEXCL_PAGE_ANON));
    const bool kept = kernel_shows(Behaviour::MapcountKeptWhileExclusive);
    EXPECT_EQ(p.page.mapcount, kept ? 1 : 0)
        << behaviour_reason(Behaviour::MapcountKeptWhileExclusive);
    ASSERT_EQ(p.page.nr_mappings, 1u) << "the rmap walk still finds the entry";
    EXPECT_EQ(p.mappings[0].pte, PteKind::DeviceExclusiveWrite);
    EXPECT_EQ(p.mappings[0].pid, me);
    // One mapping found: a mismatch exactly where the kernel dropped the mapcount.
    EXPECT_EQ(p.page.mapcount_mismatch(), !kept);

    EXPECT_EQ(*mem->word(0), mem->initial_word(0));
    PageInspection restored = dev().inspect_page(me, mem->addr());
    EXPECT_EQ(restored.page.pte, PteKind::Present);
    EXPECT_EQ(restored.page.mapcount, 1);
    EXPECT_EQ(restored.page.nr_mappings, 1u);
    EXPECT_FALSE(restored.page.mapcount_mismatch());
}

TEST_F(Rmap, FileAndShmemPagesReportTheirMappingIndexAndMappers) {
    auto memfd = TestMemory::create(MemoryKind::Memfd);
    const pid_t me = ::getpid();
    PageInspection p = dev().inspect_page(me, memfd->page_addr(3));
    EXPECT_EQ(p.page.mapping, MappingKind::Shmem);
    EXPECT_FALSE(p.page.has(DEVEXCL_PAGE_ANON));
    EXPECT_EQ(p.page.index, 3u) << "the offset in the file, in pages";
    EXPECT_EQ(p.page.anon_vma_id, 0u);
    EXPECT_EQ(p.page.mapcount, 1);
    EXPECT_EQ(p.page.nr_mappings, 1u);
    // A second, forked mapper shares the same page-cache page.
    int status = run_in_child([&] {
        // fork() does not copy shared PTEs: fault the page in here first.
        (void)*memfd->word(3);
        Device d = Device::open();
        PageInspection q = d.inspect_page(::getppid(), memfd->page_addr(3));
        return q.page.mapcount == 2 && q.page.nr_mappings == 2 ? 0 : 1;
    });
    EXPECT_EQ(status, 0);
}

// A COWed page of a MAP_PRIVATE file mapping is anonymous. 7.x indexes it by
// the VMA's own anonymous page offset and keys the anon_vma tree by it (the
// row); the walk must search that tree with the same key, or 7.x's
// _subtree_search() follows a NULL child: the fuzzer found that. Shared
// after fork, the page has both processes as mappers.
TEST_F(Rmap, ACowedPageOfAPrivateFileMappingIsFoundInBothProcessesAfterFork) {
    UniqueFd fd(::memfd_create("devexcl-private-file", MFD_CLOEXEC));
    ASSERT_TRUE(fd) << std::strerror(errno);
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(16 * kPage)), 0);
    // File pages 8 to 15, so that the file offset is not the address.
    Mapping map(8 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(),
                static_cast<off_t>(8 * kPage));
    const std::uint64_t addr = map.address() + 3 * kPage;
    *reinterpret_cast<volatile std::uint64_t*>(addr) = 0xc0c0;  // the COW: now anonymous
    const std::uint64_t expected_index =
        kernel_shows(Behaviour::AnonIndexIsVmaAnonPgoff) ? addr / kPage : std::uint64_t{8 + 3};
    PageInspection alone = dev().inspect_page(::getpid(), addr);
    EXPECT_EQ(alone.page.mapping, MappingKind::Anon);
    EXPECT_EQ(alone.page.index, expected_index)
        << "row " << behaviour_name(Behaviour::AnonIndexIsVmaAnonPgoff);
    EXPECT_EQ(alone.page.nr_mappings, 1u);
    const pid_t parent = ::getpid();
    const int status = run_in_child([&] {
        Device d = Device::open();
        PageInspection p = d.inspect_page(parent, addr);
        std::set<pid_t> pids;
        for (const RmapEntry& m : p.mappings) {
            if (m.vaddr == addr) {
                pids.insert(m.pid);
            }
        }
        if ((p.page.rmap_flags & DEVEXCL_RMAP_WALKED) == 0 || p.page.nr_mappings != 2) {
            return 1;
        }
        return pids == std::set<pid_t>{parent, ::getpid()} && p.page.index == expected_index ? 0
                                                                                             : 2;
    });
    EXPECT_EQ(status, 0) << "1: not both mappers found; 2: wrong mappers or index";
    EXPECT_EQ(dev().inspect_page(::getpid(), addr).page.nr_mappings, 1u) << "the child is gone";
}

// Every field that /proc/PID/pagemap, /proc/kpagecount and /proc/kpageflags
// also report agrees with them, page by page over a mixed range.
TEST_F(Rmap, AMixedRangeAgreesWithPagemapKpagecountAndKpageflags) {
    const pid_t me = ::getpid();
    constexpr std::size_t kPages = 16;
    Mapping m(kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    // Clear soft-dirty (and VM_SOFTDIRTY) first, so pagemap's bit 55 comes
    // from the entries alone.
    write_file("/proc/self/clear_refs", "4");
    auto* w = m.as<std::uint64_t>();
    for (std::size_t i = 0; i < 8; ++i) {
        w[i * kPage / 8] = i;  // present, dirty anon
    }
    for (std::size_t i = 8; i < 12; ++i) {
        (void)*reinterpret_cast<volatile std::uint64_t*>(&w[i * kPage / 8]);  // zero page
    }
    // 12..15 untouched: none. Then 2..4 device-exclusive (where the kernel
    // can make the entry), 6 mlocked.
    Device device = Device::open();
    const bool exclusive = kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE);
    if (exclusive) {
        ASSERT_TRUE(device.mark(m.address() + 2 * kPage, 3 * kPage).all_held());
    }
    ASSERT_EQ(::mlock(m.as<char>() + 6 * kPage, kPage), 0);

    std::vector<PageInfo> info = dev().inspect_range(me, m.address(), m.size(), true);
    auto pm = read_pagemap(m.address(), kPages);
    ASSERT_EQ(info.size(), kPages);
    for (std::size_t i = 0; i < kPages; ++i) {
        SCOPED_TRACE("page " + std::to_string(i));
        const PageInfo& p = info[i];
        EXPECT_EQ(p.addr, m.address() + i * kPage);
        EXPECT_EQ(pm[i].present(), p.pte == PteKind::Present);
        EXPECT_EQ(pm[i].swap(), p.pte == PteKind::DeviceExclusiveWrite);
        EXPECT_EQ(pm[i].soft_dirty(), (p.pte_flags & DEVEXCL_PTEF_SOFT_DIRTY) != 0);
        EXPECT_EQ(pm[i].uffd_wp(), (p.pte_flags & DEVEXCL_PTEF_UFFD_WP) != 0);
        if (p.pte == PteKind::None) {
            EXPECT_EQ(pm[i].raw, 0u);
            continue;
        }
        EXPECT_EQ(pm[i].pfn(), p.pfn);
        if (p.has(DEVEXCL_PAGE_ZERO)) {
            EXPECT_TRUE(has_flag(kpageflags(p.pfn), kKpfZeroPage));
            continue;
        }
        // pagemap: PM_MMAP_EXCLUSIVE iff page_mapcount() == 1 (7.x: of a present
        // entry only; 6.1 drops an exclusive entry's mapcount); PM_FILE iff not anon.
        EXPECT_EQ(pm[i].exclusively_mapped(), p.mapcount == 1 && p.pte == PteKind::Present);
        EXPECT_EQ(pm[i].file_or_shared_anon(), !p.has(DEVEXCL_PAGE_ANON));
        EXPECT_EQ(kpagecount(p.pfn), static_cast<std::uint64_t>(p.mapcount));
        // Flags that can change under us (LRU batching) are compared only
        // when kpageflags read the same before and after.
        const std::uint64_t k1 = kpageflags(p.pfn);
        const PageInfo again = dev().inspect_range(me, p.addr, kPage, false).at(0);
        const std::uint64_t k2 = kpageflags(p.pfn);
        EXPECT_EQ(has_flag(k1, kKpfAnon), again.has(DEVEXCL_PAGE_ANON));
        EXPECT_EQ(
            has_flag(k1, kKpfKsm),
            again.has(DEVEXCL_PAGE_KSM) || (again.has(DEVEXCL_PAGE_ANON) &&
                                            kernel_shows(Behaviour::KpageflagsKsmOnEveryAnonPage)))
            << behaviour_reason(Behaviour::KpageflagsKsmOnEveryAnonPage);
        EXPECT_EQ(has_flag(k1, kKpfThp), again.has(DEVEXCL_PAGE_THP));
        EXPECT_EQ(has_flag(k1, kKpfHuge), again.has(DEVEXCL_PAGE_HUGETLB));
        EXPECT_EQ(has_flag(k1, kKpfSwapbacked), again.has(DEVEXCL_PAGE_SWAPBACKED));
        EXPECT_EQ(has_flag(k1, kKpfMmap), again.mapcount > 0);
        EXPECT_EQ(has_flag(k1, kKpfAnonExclusive), again.has(DEVEXCL_PAGE_ANON_EXCLUSIVE));
        for (auto [bit, flag] :
             {std::pair{kKpfLru, DEVEXCL_PAGE_LRU}, std::pair{kKpfLocked, DEVEXCL_PAGE_LOCKED},
              std::pair{kKpfDirty, DEVEXCL_PAGE_DIRTY},
              std::pair{kKpfMlocked, DEVEXCL_PAGE_MLOCKED}}) {
            if (has_flag(k1, bit) == has_flag(k2, bit)) {
                EXPECT_EQ(has_flag(k1, bit), again.has(flag)) << "kpageflags bit " << bit;
            }
        }
    }
    // The mix itself is what was built.
    EXPECT_EQ(info[0].pte, PteKind::Present);
    EXPECT_TRUE(info[9].has(DEVEXCL_PAGE_ZERO));
    EXPECT_EQ(info[14].pte, PteKind::None);
    EXPECT_FALSE(info[14].has_page());
    if (!exclusive) {
        EXPECT_EQ(info[3].pte, PteKind::Present);
        return;
    }
    EXPECT_EQ(info[3].pte, PteKind::DeviceExclusiveWrite);
    const bool kept = kernel_shows(Behaviour::MapcountKeptWhileExclusive);
    EXPECT_EQ(info[3].mapcount, kept ? 1 : 0)
        << behaviour_reason(Behaviour::MapcountKeptWhileExclusive);
    EXPECT_EQ(info[3].mapcount_mismatch(), !kept);
}

TEST_F(Rmap, RangeInspectionResumesFromTheCursor) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    std::vector<devexcl_page_info> raw(3);
    devexcl_inspect_range_req req{};
    req.pid = static_cast<std::uint64_t>(::getpid());
    req.start = mem->addr();
    req.length = mem->length();
    req.records = reinterpret_cast<std::uintptr_t>(raw.data());
    req.max_records = raw.size();
    std::vector<std::uint64_t> seen;
    for (int call = 0; req.cursor != req.start + req.length; ++call) {
        ASSERT_LT(call, 10);
        ASSERT_FALSE(dev().try_ioctl(DEVEXCL_IOC_INSPECT_RANGE, &req));
        for (std::uint64_t i = 0; i < req.count; ++i) {
            seen.push_back(raw[i].addr);
        }
    }
    ASSERT_EQ(seen.size(), mem->pages());
    for (std::size_t i = 0; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i], mem->page_addr(i));
    }
}

// --- Security ---

TEST_F(Rmap, AnUnprivilegedUserIsDeniedAForeignProcess) {
    WorldAccessibleNode open_to_all;
    int err = run_as_nobody([] {
        Device d = Device::open();
        devexcl_inspect_page_req page{};
        page.pid = 1;
        page.addr = 0x400000;
        devexcl_inspect_vma_req vma{};
        vma.pid = 1;
        vma.addr = 0x400000;
        std::vector<devexcl_page_info> raw(1);
        devexcl_inspect_range_req range{};
        range.pid = 1;
        range.start = 0x400000;
        range.length = 4096;
        range.records = reinterpret_cast<std::uintptr_t>(raw.data());
        range.max_records = 1;
        auto a = d.try_ioctl(DEVEXCL_IOC_INSPECT_PAGE, &page);
        auto b = d.try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &vma);
        auto c = d.try_ioctl(DEVEXCL_IOC_INSPECT_RANGE, &range);
        return a.value() == EPERM && b.value() == EPERM && c.value() == EPERM ? EPERM : 1;
    });
    EXPECT_EQ(err, EPERM);
}

TEST_F(Rmap, MappingsInProcessesTheCallerMayNotInspectAreCountedButRedacted) {
    WorldAccessibleNode open_to_all;
    int result = run_as_nobody([] {
        auto mem = TestMemory::create(MemoryKind::PrivateAnon);
        int hold[2];
        if (::pipe(hold) != 0) {
            return 10;
        }
        pid_t sibling = ::fork();
        if (sibling == 0) {
            char c;
            ::close(hold[1]);
            ::read(hold[0], &c, 1);
            ::_exit(0);
        }
        Device d = Device::open();
        PageInspection p = d.inspect_page(::getpid(), mem->addr());
        ::close(hold[1]);
        ::waitpid(sibling, nullptr, 0);
        if (p.page.nr_mappings != 2 || p.page.nr_redacted != 1 || p.mappings.size() != 2) {
            return 11;
        }
        if (p.page.pfn != 0) {
            return 12;  // PFNs are for CAP_SYS_ADMIN only
        }
        int visible = 0, redacted = 0;
        for (const RmapEntry& m : p.mappings) {
            if (m.redacted) {
                redacted += m.pid == 0 && m.vaddr == 0 && m.comm.empty() && m.mm_id == 0;
            } else {
                visible += m.pid == ::getpid() && m.vaddr == mem->addr();
            }
        }
        return visible == 1 && redacted == 1 ? 0 : 13;
    });
    EXPECT_EQ(result, 0);
}

// The kernel half with 5-level paging, which TCG's `-cpu max` offers (the
// direct map is at 0xff11..., below the 4-level 0xffff8...).
bool looks_like_kernel_address(std::uint64_t v) {
    return v >= 0xff00000000000000ULL;
}

template <typename T>
void expect_no_kernel_addresses(const T& raw, const char* what) {
    static_assert(sizeof(T) % 8 == 0);
    std::uint64_t words[sizeof(T) / 8];
    std::memcpy(words, &raw, sizeof(T));
    for (std::size_t i = 0; i < sizeof(T) / 8; ++i) {
        EXPECT_FALSE(looks_like_kernel_address(words[i]))
            << what << " word " << i << " = 0x" << std::hex << words[i];
    }
}

TEST_F(Rmap, NoOutputLooksLikeAKernelAddress) {
    ProcessChain chain(3, 4);
    const pid_t pid = chain.pids()[2];
    std::vector<devexcl_rmap_entry> entries(16);
    devexcl_inspect_page_req page{};
    page.pid = static_cast<std::uint64_t>(pid);
    page.addr = chain.addr();
    page.entries = reinterpret_cast<std::uintptr_t>(entries.data());
    page.max_entries = entries.size();
    ASSERT_FALSE(dev().try_ioctl(DEVEXCL_IOC_INSPECT_PAGE, &page));
    expect_no_kernel_addresses(page, "inspect_page");
    for (std::uint64_t i = 0; i < page.info.nr_returned; ++i) {
        expect_no_kernel_addresses(entries[i], "rmap entry");
    }
    std::vector<devexcl_anon_vma_info> chain_info(16);
    devexcl_inspect_vma_req vma{};
    vma.pid = static_cast<std::uint64_t>(pid);
    vma.addr = chain.addr();
    vma.chain = reinterpret_cast<std::uintptr_t>(chain_info.data());
    vma.max_chain = chain_info.size();
    ASSERT_FALSE(dev().try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &vma));
    expect_no_kernel_addresses(vma, "inspect_vma");
    for (std::uint64_t i = 0; i < vma.returned; ++i) {
        expect_no_kernel_addresses(chain_info[i], "anon_vma");
    }
    for (const PageInfo& p : dev().inspect_range(pid, chain.addr(), 4 * kPage, true)) {
        EXPECT_FALSE(looks_like_kernel_address(p.anon_vma_id));
        EXPECT_FALSE(looks_like_kernel_address(p.root_anon_vma_id));
    }
}

// --- Bad input: errno asserted; inspection changes nothing by construction. ---

TEST_F(Rmap, BadInputsGetPreciseErrnos) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    const auto me = static_cast<std::uint64_t>(::getpid());
    std::vector<devexcl_rmap_entry> entries(4);
    auto page_req = [&] {
        devexcl_inspect_page_req r{};
        r.pid = me;
        r.addr = mem->addr();
        r.entries = reinterpret_cast<std::uintptr_t>(entries.data());
        r.max_entries = entries.size();
        return r;
    };
    auto page = [&](devexcl_inspect_page_req r) {
        return dev().try_ioctl(DEVEXCL_IOC_INSPECT_PAGE, &r).value();
    };
    auto r = page_req();
    r.pid = 0;
    EXPECT_EQ(page(r), EINVAL);
    r.pid = 1ULL << 33;
    EXPECT_EQ(page(r), EINVAL);
    r = page_req();
    r.pid = static_cast<std::uint64_t>(read_number("/proc/sys/kernel/pid_max") - 1);
    EXPECT_EQ(page(r), ESRCH);
    r = page_req();
    r.addr = 0xffff888000000000ULL;
    EXPECT_EQ(page(r), EFAULT);
    r = page_req();
    r.addr = 4096;  // nothing is mapped at the first page
    EXPECT_EQ(page(r), EFAULT);
    r = page_req();
    r.flags = 1;
    EXPECT_EQ(page(r), EINVAL);
    r = page_req();
    r.reserved = 1;
    EXPECT_EQ(page(r), EINVAL);
    r = page_req();
    r.max_entries = DEVEXCL_MAX_RMAP_ENTRIES + 1;
    EXPECT_EQ(page(r), EINVAL);
    r = page_req();
    r.entries = 0;
    EXPECT_EQ(page(r), EINVAL);
    r = page_req();
    r.entries = 8;
    EXPECT_EQ(page(r), EFAULT);
    EXPECT_EQ(dev().try_ioctl(DEVEXCL_IOC_INSPECT_PAGE, reinterpret_cast<void*>(8)).value(),
              EFAULT);

    std::vector<devexcl_page_info> records(4);
    auto range_req = [&] {
        devexcl_inspect_range_req q{};
        q.pid = me;
        q.start = mem->addr();
        q.length = mem->length();
        q.records = reinterpret_cast<std::uintptr_t>(records.data());
        q.max_records = records.size();
        return q;
    };
    auto range = [&](devexcl_inspect_range_req q) {
        return dev().try_ioctl(DEVEXCL_IOC_INSPECT_RANGE, &q).value();
    };
    auto q = range_req();
    q.start += 1;
    EXPECT_EQ(range(q), EINVAL);
    q = range_req();
    q.length = 0;
    EXPECT_EQ(range(q), EINVAL);
    q = range_req();
    q.length = dev().version().max_range_bytes + kPage;
    EXPECT_EQ(range(q), E2BIG);
    q = range_req();
    q.cursor = mem->addr() + mem->length() + kPage;
    EXPECT_EQ(range(q), EINVAL) << "a cursor past the end";
    q.cursor = mem->addr() - kPage;
    EXPECT_EQ(range(q), EINVAL) << "a cursor before the start";
    q.cursor = mem->addr() + 100;
    EXPECT_EQ(range(q), EINVAL) << "an unaligned cursor";
    q = range_req();
    q.max_records = 0;
    EXPECT_EQ(range(q), EINVAL);
    q.max_records = DEVEXCL_MAX_RANGE_RECORDS + 1;
    EXPECT_EQ(range(q), EINVAL);
    q = range_req();
    q.flags = DEVEXCL_INSPECT_EMPTY_RUNS;
    EXPECT_EQ(range(q), EINVAL) << "runs are for dumps: the ioctl's array has a record a page";
    q.flags = DEVEXCL_INSPECT_EMPTY_RUNS << 1;
    EXPECT_EQ(range(q), EINVAL) << "the first unknown flag";
    q = range_req();
    q.records = 0xffff888000000000ULL;
    EXPECT_EQ(range(q), EFAULT);

    devexcl_inspect_vma_req v{};
    v.pid = me;
    v.addr = 4096;
    EXPECT_EQ(dev().try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &v).value(), EFAULT);
    v.addr = mem->addr();
    v.max_chain = 4;
    EXPECT_EQ(dev().try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &v).value(), EINVAL) << "room, no buffer";
    v.chain = 8;
    EXPECT_EQ(dev().try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &v).value(), EFAULT);
    v.chain = 0;
    v.max_chain = 0;
    v.flags = DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK << 1;
    EXPECT_EQ(dev().try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &v).value(), EINVAL) << "an unknown flag";
    // vma_lock (a reserved zero before ABI 1.4) is out only: what came in is overwritten.
    v.flags = 0;
    v.vma_lock = ~0ULL;
    EXPECT_FALSE(dev().try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &v));
    EXPECT_EQ((v.vma_lock & DEVEXCL_VMA_LOCK_PRESENT) != 0,
              kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK));
}

}  // namespace
