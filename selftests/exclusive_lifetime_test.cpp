// Lifetimes and binding: close with pages held, a target that exits or is
// killed first, a mark that is killed mid-way, binding by pid and pidfd.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/module_stats.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/pagemap.hpp"
#include "lib/target_process.hpp"
#include "lib/wait.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

const std::size_t kPage = TestMemory::page_size();

class Lifetime : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    }
};

TEST_F(Lifetime, CloseWithPagesHeldRestoresTheCpuMappings) {
    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    {
        Device dev = Device::open();
        ASSERT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
        auto pm = read_pagemap(mem->addr(), mem->pages());
        for (const auto& e : pm) {
            ASSERT_TRUE(e.swap());
        }
    }
    // Not touched by the process: close() faulted the mappings back.
    auto pm = read_pagemap(mem->addr(), mem->pages());
    for (std::size_t i = 0; i < pm.size(); ++i) {
        EXPECT_TRUE(pm[i].present()) << "page " << i;
        EXPECT_EQ(kpagecount(pm[i].pfn()), 1u);
    }
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        EXPECT_EQ(*mem->word(i), mem->initial_word(i));
    }
}

TEST_F(Lifetime, ClosingAnotherProcessesContextRestoresItsMappings) {
    TargetProcess target(MemoryKind::PrivateAnon);
    {
        Device dev = Device::open();
        dev.bind(target.pid());
        ASSERT_TRUE(dev.mark(target.addr(), target.length()).all_held());
        EXPECT_TRUE(read_pagemap_one(target.addr(), target.pid()).swap());
    }
    auto pm = read_pagemap(target.addr(), target.length() / kPage, target.pid());
    for (const auto& e : pm) {
        EXPECT_TRUE(e.present());
    }
    int status = target.finish();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "target saw wrong data";
}

TEST_F(Lifetime, TargetKilledWhileHeldThenClose) {
    TargetProcess target(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    dev.bind(target.pid());
    ASSERT_TRUE(dev.mark(target.addr(), target.length()).all_held());
    int status = target.kill_now();
    EXPECT_TRUE(WIFSIGNALED(status));
    auto st = dev.status(target.addr(), target.length());
    for (const auto& s : st) {
        EXPECT_EQ(s.device, DeviceState::Revoked);
        EXPECT_EQ(s.cause, Cause::Release);
        EXPECT_EQ(s.pte, PteKind::NoVma);
    }
    Counters c = dev.counters();
    EXPECT_EQ(c.held, 0u);
    EXPECT_EQ(c.revoked_by(Cause::Release), target.length() / kPage);
    EXPECT_EQ(c.target_pid, 0u);
    // The context outlives its target: access and release answer sensibly.
    try {
        dev.access(target.addr(), AccessOp::Read, 0, 0, /*reacquire=*/true);
        ADD_FAILURE() << "reacquire in an exited process succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(errno_of(e), ESRCH);
    }
    EXPECT_EQ(dev.release(target.addr(), target.length()).released, 0u);
}

TEST_F(Lifetime, BindByPidfdActsOnTheTarget) {
    TargetProcess target(MemoryKind::PrivateAnon);
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, target.pid(), 0)));
    ASSERT_TRUE(pidfd) << std::strerror(errno);
    Device dev = Device::open();
    dev.bind_pidfd(pidfd.get());
    EXPECT_EQ(dev.counters().target_pid, static_cast<std::uint64_t>(target.pid()));
    ASSERT_TRUE(dev.mark(target.addr(), target.length()).all_held());
    // The device's atomics land in the target's memory.
    AccessResult r = dev.access(target.addr(), AccessOp::Cmpxchg, 0, 0xD0E0000000000000ULL);
    EXPECT_EQ(r.old_value, 0xD0E0000000000000ULL);
    EXPECT_EQ(r.path, AccessPath::Held);
    r = dev.access(target.addr(), AccessOp::Xchg, 0xD0E0000000000000ULL);
    EXPECT_EQ(r.old_value, 0u);
    EXPECT_EQ(dev.release(target.addr(), target.length()).released, target.length() / kPage);
    int status = target.finish();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(Lifetime, RebindAfterReleaseMovesToTheNewTarget) {
    TargetProcess target(MemoryKind::PrivateAnon);
    auto mine = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mine->addr(), mine->length()).all_held());
    dev.release(mine->addr(), mine->length());
    dev.bind(target.pid());
    ASSERT_TRUE(dev.mark(target.addr(), target.length()).all_held());
    EXPECT_TRUE(read_pagemap_one(target.addr(), target.pid()).swap());
    EXPECT_TRUE(read_pagemap_one(mine->addr()).present()) << "our own memory is not touched";
    dev.release(target.addr(), target.length());
    dev.bind(::getpid());
    EXPECT_EQ(dev.counters().target_pid, static_cast<std::uint64_t>(::getpid()));
}

// A rebind starts the context afresh: the old target's pages, revocation
// log and counters are gone, and only the batch numbers carry on, so that
// each stays unique for the context's id in events.
TEST_F(Lifetime, RebindForgetsThePreviousTargetsState) {
    TargetProcess target(MemoryKind::PrivateAnon);
    auto mine = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mine->addr(), mine->length()).all_held());
    EXPECT_EQ(*mine->word(0), mine->initial_word(0));  // revokes page 0: cpu-fault
    dev.release(mine->addr(), mine->length());         // the rest: released
    const std::uint64_t old_seq = dev.revocations().back().seq;
    ASSERT_GE(old_seq, 2u);

    dev.bind(target.pid());
    for (std::uint64_t start : {mine->addr(), target.addr()}) {
        for (const auto& s : dev.status(start, mine->length())) {
            EXPECT_EQ(s.device, DeviceState::NeverHeld);
        }
    }
    devexcl_access req{};
    req.addr = target.addr();
    req.op = DEVEXCL_OP_READ;
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_ACCESS, &req), std::errc::no_such_file_or_directory);
    req.addr = mine->addr();
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_ACCESS, &req), std::errc::no_such_file_or_directory)
        << "not ESTALE: the revoked page was the previous target's";
    EXPECT_TRUE(dev.revocations().empty());
    devexcl_revocations raw{};
    ASSERT_FALSE(dev.try_ioctl(DEVEXCL_IOC_REVOCATIONS, &raw));
    EXPECT_EQ(raw.count, 0u);
    EXPECT_EQ(raw.latest_seq, old_seq) << "the numbering carries on";
    Counters c = dev.counters();
    EXPECT_EQ(c.marked, 0u);
    EXPECT_EQ(c.released, 0u);
    EXPECT_EQ(c.revocations, 0u);
    EXPECT_EQ(c.revoked_by(Cause::CpuFault), 0u);
    EXPECT_EQ(c.target_pid, static_cast<std::uint64_t>(target.pid()));

    ASSERT_TRUE(dev.mark(target.addr(), target.length()).all_held());
    dev.release(target.addr(), target.length());
    auto log = dev.revocations();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].seq, old_seq + 1) << "batch numbers carry on across a rebind";
    EXPECT_EQ(log[0].cause, Cause::Released);
    EXPECT_EQ(dev.counters().marked, target.length() / kPage);
}

// Killable means the kernel stops marking, not only that the task dies on
// its way back to user space: the module's own count of pages marked must
// stop short of the gibibyte.
TEST_F(Lifetime, AMarkOfAGibibyteIsKillable) {
    const std::uint64_t pages = (1UL << 30) / kPage;
    ModuleStatsReader stats;
    const std::uint64_t before = stats.read().at("pages_marked");
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const std::size_t length = 1UL << 30;
        Mapping big(length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
        // Faulting in and converting 262144 pages takes seconds under TCG.
        static_cast<void>(Device::open().mark(big.address(), length));  // killed in it
        ::_exit(0);
    }
    // Kill it once the mark is under way (a bounded wait, not a timed assertion).
    std::uint64_t marked = 0;
    wait_until(
        [&] {
            marked = stats.read().at("pages_marked") - before;
            return marked != 0;
        },
        std::chrono::seconds(10));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    const std::uint64_t total = stats.read().at("pages_marked") - before;
    EXPECT_GT(marked, 0u) << "the mark never started";
    EXPECT_LT(total, pages) << "the mark ran to completion instead of being killed";
}

}  // namespace
