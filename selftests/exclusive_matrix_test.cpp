// The fault/COW matrix, modelled on upstream selftests/mm/cow.c: every
// memory kind crossed with every operation, one table, each case named
// Kind_Operation. Each case marks the memory, checks the per-page mark
// result against 6.1's behaviour for that kind, runs the operation, and
// checks memory contents, the device's status (with the revocation cause),
// the CPU's page table entry and the kernel's own pagemap bits.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/events.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/pagemap.hpp"
#include "lib/run_as.hpp"
#include "lib/target_process.hpp"

using namespace devexcl;
using namespace devexcl::test;
using namespace std::chrono_literals;

namespace {

enum class Op {
    CpuRead,
    CpuWrite,
    Fork,
    MprotectRoThenRw,
    Munmap,
    MadvDontneed,
    MremapMove,
    ProcessExit,
    GupProcessVmReadv,
    GupProcMem,
    MarkTwice,
    SecondContext,
    Release,
    DeviceAtomicsWithCpuThreads,
};

// Every operation of the matrix, in test order: the name its cases carry,
// and the cause of every revocation it makes (it may make none).
struct OpInfo {
    Op op;
    const char* name;
    Cause cause;
};
constexpr OpInfo kOpInfos[] = {
    {Op::CpuRead, "CpuRead", Cause::CpuFault},
    {Op::CpuWrite, "CpuWrite", Cause::CpuFault},
    {Op::Fork, "ForkThenBothWrite", Cause::ProtectionPage},
    {Op::MprotectRoThenRw, "MprotectRoThenRw", Cause::ProtectionVma},
    {Op::Munmap, "Munmap", Cause::Unmap},
    {Op::MadvDontneed, "MadvDontneed", Cause::Clear},
    {Op::MremapMove, "MremapMove", Cause::Unmap},
    {Op::ProcessExit, "ProcessExit", Cause::Release},
    {Op::GupProcessVmReadv, "GupProcessVmReadv", Cause::CpuFault},
    {Op::GupProcMem, "GupProcMem", Cause::CpuFault},
    {Op::MarkTwice, "MarkTwice", Cause::None},
    {Op::SecondContext, "MarkFromSecondContext", Cause::OtherDevice},
    {Op::Release, "Release", Cause::Released},
    {Op::DeviceAtomicsWithCpuThreads, "DeviceAtomicsWithCpuThreads", Cause::CpuFault},
};

const OpInfo& op_info(Op op) {
    for (const OpInfo& o : kOpInfos) {
        if (o.op == op) {
            return o;
        }
    }
    std::abort();  // every Op has a row
}

std::vector<Op> all_ops() {
    std::vector<Op> ops;
    for (const OpInfo& o : kOpInfos) {
        ops.push_back(o.op);
    }
    return ops;
}

const std::size_t kPage = TestMemory::page_size();

// A reserved, aligned, PROT_NONE window that mremap(MREMAP_FIXED) can replace.
std::uint64_t reserve_window(std::size_t length, std::size_t align, Mapping& holder) {
    holder = Mapping(length + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    return (holder.address() + align - 1) & ~(align - 1);
}

class ExclusiveMatrix : public testing::TestWithParam<std::tuple<MemoryKind, Op>> {
protected:
    void SetUp() override {
        ensure_module_loaded();
        DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    }

    MemoryKind kind() const { return std::get<0>(GetParam()); }
    Op op() const { return std::get<1>(GetParam()); }
    // ProcessExit has no mem_: its child's memory is what mark_ covers.
    std::size_t n() const { return mem_ ? mem_->mark_pages() : mark_.pages.size(); }
    std::uint64_t mark_length() const { return n() * kPage; }
    bool held(std::size_t i) const { return mark_.pages[i].code == MarkCode::Marked; }
    bool private_memory() const { return !mem_->shared(); }

    // Builds the memory, marks it and checks the state right after marking.
    void build_and_mark() {
        mem_ = TestMemory::create(kind());
        if (!mem_->skip_reason().empty()) {
            GTEST_SKIP() << mem_->skip_reason();
        }
        dev_.emplace(Device::open());
        events_.emplace(EventFilter{dev_->counters().context_id, 0});
        mark_ = dev_->mark(mem_->addr(), mark_length());
        check_mark_results(mark_, *mem_);
        if (HasFatalFailure()) {
            return;  // the helper's ASSERT left mark_ too short to index
        }
        check_state_after_mark();
    }

    // Every revocation batch the context logged produced exactly one event
    // with the same cause, range, page count and triggering process. The
    // causes are the operation's own, plus CPU faults from reading the
    // memory back; when each page was revoked once, the batches together
    // are exactly the pages the device lost.
    void check_events(Cause op_cause, pid_t trigger) {
        const std::uint64_t ctx = dev_->counters().context_id;
        std::uint64_t revoked_pages = 0;
        bool op_cause_seen = false;
        for (const Revocation& rec : dev_->revocations()) {
            SCOPED_TRACE("revocation #" + std::to_string(rec.seq));
            auto ev = events_->wait_for([&](const Event& e) { return e.seq == rec.seq; }, 10s);
            ASSERT_TRUE(ev.has_value()) << "no event";
            EXPECT_EQ(ev->ctx_id, ctx);
            EXPECT_TRUE(ev->cause == op_cause || ev->cause == Cause::CpuFault)
                << to_string(ev->cause);
            op_cause_seen |= ev->cause == op_cause;
            EXPECT_EQ(ev->cause, rec.cause);
            EXPECT_EQ(ev->start, rec.start);
            EXPECT_EQ(ev->end, rec.end);
            EXPECT_EQ(ev->npages, rec.npages);
            EXPECT_LE(ev->npages, (ev->end - ev->start) / kPage);
            EXPECT_EQ(ev->trigger_pid, trigger);
            EXPECT_EQ(static_cast<pid_t>(rec.trigger_pid), trigger);
            EXPECT_EQ(ev->dropped, 0u);
            revoked_pages += ev->npages;
        }
        if (op_revokes()) {
            EXPECT_TRUE(op_cause_seen) << "no event with cause " << to_string(op_cause);
        }
        if (op() == Op::DeviceAtomicsWithCpuThreads) {
            return;  // pages are revoked, re-acquired and revoked again
        }
        std::uint64_t lost = 0;
        for (const PageStatus& st : dev_->status(mark_.start, mark_length())) {
            lost += st.device == DeviceState::Revoked;
        }
        EXPECT_EQ(revoked_pages, lost);
    }

    // Whether the operation itself takes held pages away.
    bool op_revokes() const {
        if (mark_.marked == 0 || op() == Op::MarkTwice) {
            return false;
        }
        // MADV_DONTNEED refuses VM_LOCKED; the device keeps its pages.
        return !(op() == Op::MadvDontneed && kind() == MemoryKind::Mlocked);
    }

    static void check_mark_results(const MarkResult& mark, const TestMemory& mem) {
        ASSERT_EQ(mark.pages.size(), mem.mark_pages());
        std::uint64_t expect_marked = 0;
        for (std::size_t i = 0; i < mark.pages.size(); ++i) {
            ExpectedMark want = mem.expected_mark();
            EXPECT_EQ(mark.pages[i].code, want.code)
                << "page " << i << ": " << to_string(mark.pages[i].code) << " vs "
                << to_string(want.code);
            EXPECT_EQ(mark.pages[i].error, want.error) << "page " << i;
            expect_marked += want.code == MarkCode::Marked;
        }
        EXPECT_EQ(mark.marked, expect_marked);
        EXPECT_EQ(mark.failed, mark.pages.size() - expect_marked);
    }

    void check_state_after_mark() {
        auto st = dev_->status(mem_->addr(), mark_length());
        auto pm = read_pagemap(mem_->addr(), n());
        for (std::size_t i = 0; i < n(); ++i) {
            SCOPED_TRACE("page " + std::to_string(i));
            if (held(i)) {
                EXPECT_EQ(st[i].device, DeviceState::Held);
                EXPECT_EQ(st[i].pte, PteKind::DeviceExclusiveWrite);
                // pagemap sees a swap entry; the mapcount is the kernel's rule.
                EXPECT_TRUE(pm[i].swap());
                EXPECT_FALSE(pm[i].present());
                EXPECT_EQ(kpagecount(pm[i].pfn()),
                          kernel_shows(Behaviour::MapcountKeptWhileExclusive) ? 1u : 0u)
                    << behaviour_reason(Behaviour::MapcountKeptWhileExclusive);
            } else {
                EXPECT_EQ(st[i].device, DeviceState::NeverHeld);
                EXPECT_EQ(st[i].pte, PteKind::Present);
                EXPECT_TRUE(pm[i].present());
            }
            if (kind() == MemoryKind::SoftDirtyCleared) {
                // The mark's write fault dirtied the PTE again after clear_refs.
                EXPECT_TRUE(pm[i].soft_dirty());
            }
            if (kind() == MemoryKind::UffdWp) {
                EXPECT_FALSE(pm[i].uffd_wp()) << "registered for wp, not protected";
            }
        }
    }

    // Every held page is now revoked with `cause`; unheld pages never were held.
    void expect_revoked(const std::vector<PageStatus>& st, Cause cause) {
        for (std::size_t i = 0; i < n(); ++i) {
            if (held(i)) {
                EXPECT_EQ(st[i].device, DeviceState::Revoked) << "page " << i;
                EXPECT_EQ(st[i].cause, cause)
                    << "page " << i << ": " << to_string(st[i].cause) << " vs " << to_string(cause);
                EXPECT_GT(st[i].revoke_seq, 0u);
            } else {
                EXPECT_EQ(st[i].device, DeviceState::NeverHeld) << "page " << i;
            }
        }
    }

    void expect_contents(std::uint64_t delta = 0) {
        for (std::size_t i = 0; i < n(); ++i) {
            EXPECT_EQ(*mem_->word(i), mem_->initial_word(i) + delta) << "page " << i;
        }
    }

    void expect_pte(const std::vector<PageStatus>& st, std::size_t i, PteKind kind) {
        EXPECT_EQ(st[i].pte, kind)
            << "page " << i << ": " << to_string(st[i].pte) << " vs " << to_string(kind);
    }

    // The latest revocation batch was caused by this process.
    void expect_last_trigger_is_us(Cause cause) {
        if (mark_.marked == 0) {
            return;
        }
        auto log = dev_->revocations();
        ASSERT_FALSE(log.empty());
        EXPECT_EQ(log.back().cause, cause);
        EXPECT_EQ(log.back().trigger_pid, static_cast<std::uint64_t>(::getpid()));
    }

    void run_cpu_read();
    void run_cpu_write();
    void run_fork();
    void run_mprotect();
    void run_munmap();
    void run_dontneed();
    void run_mremap();
    void run_process_exit();
    void run_gup(bool via_proc_mem);
    void run_mark_twice();
    void run_second_context();
    void run_release();
    void run_device_atomics();

    std::unique_ptr<TestMemory> mem_;
    std::optional<Device> dev_;
    std::optional<EventListener> events_;
    MarkResult mark_;
};

void ExclusiveMatrix::run_cpu_read() {
    expect_contents();
    auto st = dev_->status(mem_->addr(), mark_length());
    auto pm = read_pagemap(mem_->addr(), n());
    expect_revoked(st, Cause::CpuFault);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(st, i, PteKind::Present);
        EXPECT_TRUE(pm[i].present()) << "page " << i;
        if (held(i)) {
            // 6.1 restores a write entry writable and dirty even for a read,
            // and on x86 pte_mkdirty() sets soft-dirty too.
            EXPECT_TRUE(st[i].pte_flags & DEVEXCL_PTEF_WRITE) << "page " << i;
            EXPECT_TRUE(st[i].pte_flags & DEVEXCL_PTEF_DIRTY) << "page " << i;
            EXPECT_TRUE(pm[i].soft_dirty()) << "page " << i;
        }
    }
    expect_last_trigger_is_us(Cause::CpuFault);
}

void ExclusiveMatrix::run_cpu_write() {
    if (!mem_->writable()) {
        // A CPU write to a read-only mapping is SIGSEGV, marked or not.
        EXPECT_EQ(run_in_child([&] {
                      *mem_->word(0) = 1;
                      return 0;
                  }),
                  -SIGSEGV);
        expect_contents();
        return;
    }
    for (std::size_t i = 0; i < n(); ++i) {
        *mem_->word(i) = mem_->initial_word(i) + 1000;
    }
    expect_contents(1000);
    auto st = dev_->status(mem_->addr(), mark_length());
    expect_revoked(st, Cause::CpuFault);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(st, i, PteKind::Present);
        EXPECT_TRUE(st[i].pte_flags & DEVEXCL_PTEF_WRITE) << "page " << i;
    }
    expect_last_trigger_is_us(Cause::CpuFault);
}

void ExclusiveMatrix::run_fork() {
    const bool writable = mem_->writable();
    int child = run_in_child([&] {
        int bad = 0;
        for (std::size_t i = 0; i < n(); ++i) {
            bad |= *mem_->word(i) != mem_->initial_word(i) ? 1 : 0;
            if (writable) {
                *mem_->word(i) = mem_->initial_word(i) + 2000;
                bad |= *mem_->word(i) != mem_->initial_word(i) + 2000 ? 2 : 0;
            }
        }
        return bad;
    });
    ASSERT_EQ(child, 0) << "child saw wrong data (1) or lost its write (2)";

    auto st = dev_->status(mem_->addr(), mark_length());
    expect_revoked(st, Cause::ProtectionPage);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(st, i, PteKind::Present);
        if (held(i) && private_memory()) {
            // 6.1 restores the entry in the parent, then both COW: the
            // parent's PTE is write-protected until it writes.
            EXPECT_FALSE(st[i].pte_flags & DEVEXCL_PTEF_WRITE) << "page " << i;
        }
    }
    // The child's writes reach the parent only through shared memory.
    expect_contents(writable && !private_memory() ? 2000 : 0);
    if (writable) {
        for (std::size_t i = 0; i < n(); ++i) {
            *mem_->word(i) = mem_->initial_word(i) + 3000;
        }
        expect_contents(3000);
        st = dev_->status(mem_->addr(), mark_length());
        for (std::size_t i = 0; i < n(); ++i) {
            EXPECT_TRUE(st[i].pte_flags & DEVEXCL_PTEF_WRITE) << "page " << i;
        }
    }
}

void ExclusiveMatrix::run_mprotect() {
    ASSERT_EQ(::mprotect(reinterpret_cast<void*>(mem_->addr()), mem_->length(), PROT_READ), 0);
    auto st = dev_->status(mem_->addr(), mark_length());
    expect_revoked(st, Cause::ProtectionVma);
    for (std::size_t i = 0; i < n(); ++i) {
        // 6.1 rewrites a write entry into a read entry (mm/mprotect.c); 6.15 has one kind.
        expect_pte(st, i, held(i) ? write_protected_exclusive_kind() : PteKind::Present);
    }
    ASSERT_EQ(
        ::mprotect(reinterpret_cast<void*>(mem_->addr()), mem_->length(), PROT_READ | PROT_WRITE),
        0);
    st = dev_->status(mem_->addr(), mark_length());
    for (std::size_t i = 0; i < n(); ++i) {
        if (kind() == MemoryKind::Mlocked) {
            // A private VM_LOCKED VMA turning writable is populated for
            // COW (mprotect_fixup), which faults the read entries back.
            expect_pte(st, i, PteKind::Present);
            continue;
        }
        // Nothing else turns a read entry back into a write entry.
        expect_pte(st, i, held(i) ? write_protected_exclusive_kind() : PteKind::Present);
    }
    expect_contents();
    for (std::size_t i = 0; i < n(); ++i) {
        *mem_->word(i) = mem_->initial_word(i) + 7;
    }
    expect_contents(7);
}

void ExclusiveMatrix::run_munmap() {
    ASSERT_EQ(::munmap(reinterpret_cast<void*>(mem_->addr()), mem_->length()), 0);
    mem_->forget_mapping();
    auto st = dev_->status(mem_->addr(), mark_length());
    expect_revoked(st, Cause::Unmap);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(st, i, PteKind::NoVma);
    }
}

void ExclusiveMatrix::run_dontneed() {
    int ret = ::madvise(reinterpret_cast<void*>(mem_->addr()), mem_->length(), MADV_DONTNEED);
    auto st = dev_->status(mem_->addr(), mark_length());
    if (kind() == MemoryKind::Mlocked) {
        // MADV_DONTNEED refuses VM_LOCKED: nothing changes, the device keeps its pages.
        EXPECT_EQ(ret, -1);
        EXPECT_EQ(errno, EINVAL);
        for (std::size_t i = 0; i < n(); ++i) {
            EXPECT_EQ(st[i].device, held(i) ? DeviceState::Held : DeviceState::NeverHeld);
            expect_pte(st, i, PteKind::DeviceExclusiveWrite);
        }
        expect_contents();
        return;
    }
    ASSERT_EQ(ret, 0) << std::strerror(errno);
    expect_revoked(st, Cause::Clear);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(st, i, PteKind::None);
    }
    for (std::size_t i = 0; i < n(); ++i) {
        EXPECT_EQ(*mem_->word(i), mem_->word_after_dontneed(i)) << "page " << i;
    }
}

void ExclusiveMatrix::run_mremap() {
    const std::size_t align = mem_->length() >= (2UL << 20) ? (2UL << 20) : kPage;
    Mapping window;
    std::uint64_t dest = reserve_window(mem_->length(), align, window);
    std::uint64_t old = mem_->addr();
    void* moved = ::mremap(reinterpret_cast<void*>(old), mem_->length(), mem_->length(),
                           MREMAP_MAYMOVE | MREMAP_FIXED, reinterpret_cast<void*>(dest));
    ASSERT_NE(moved, MAP_FAILED) << std::strerror(errno);
    mem_->adopt_moved(dest);
    // The rest of the window stays reserved until `window` unmaps it; the
    // moved mapping now owns [dest, dest + length).
    auto old_st = dev_->status(old, mark_length());
    expect_revoked(old_st, Cause::Unmap);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(old_st, i, PteKind::NoVma);
    }
    auto new_st = dev_->status(dest, mark_length());
    for (std::size_t i = 0; i < n(); ++i) {
        // mremap moves the entries as they are: still device-exclusive,
        // but the device's hold was revoked with the old range.
        EXPECT_EQ(new_st[i].device, DeviceState::NeverHeld);
        expect_pte(new_st, i, held(i) ? PteKind::DeviceExclusiveWrite : PteKind::Present);
    }
    expect_contents();
    // The window's remainder must go, but not the moved pages inside it.
    void* rest = window.release();
    std::uint64_t wstart = reinterpret_cast<std::uintptr_t>(rest);
    std::size_t wlen = mem_->length() + align;
    if (dest > wstart) {
        ::munmap(rest, dest - wstart);
    }
    if (wstart + wlen > dest + mem_->length()) {
        ::munmap(reinterpret_cast<void*>(dest + mem_->length()),
                 wstart + wlen - (dest + mem_->length()));
    }
}

void ExclusiveMatrix::run_gup(bool via_proc_mem) {
    UniqueFd mem_fd;
    if (via_proc_mem) {
        mem_fd.reset(::open("/proc/self/mem", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(mem_fd) << std::strerror(errno);
    }
    for (std::size_t i = 0; i < n(); ++i) {
        std::uint64_t value = 0;
        if (via_proc_mem) {
            ASSERT_EQ(::pread(mem_fd.get(), &value, sizeof(value),
                              static_cast<off_t>(mem_->page_addr(i))),
                      static_cast<ssize_t>(sizeof(value)));
        } else {
            iovec local{&value, sizeof(value)};
            iovec remote{reinterpret_cast<void*>(mem_->page_addr(i)), sizeof(value)};
            ASSERT_EQ(::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0),
                      static_cast<ssize_t>(sizeof(value)))
                << std::strerror(errno);
        }
        EXPECT_EQ(value, mem_->initial_word(i)) << "page " << i;
    }
    // Any GUP user faults the entry back: the device loses the page.
    auto st = dev_->status(mem_->addr(), mark_length());
    expect_revoked(st, Cause::CpuFault);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(st, i, PteKind::Present);
    }
    expect_last_trigger_is_us(Cause::CpuFault);
}

void ExclusiveMatrix::run_mark_twice() {
    Counters before = dev_->counters();
    MarkResult again = dev_->mark(mem_->addr(), mark_length());
    for (std::size_t i = 0; i < n(); ++i) {
        EXPECT_EQ(again.pages[i].code, held(i) ? MarkCode::AlreadyHeld : mem_->expected_mark().code)
            << "page " << i;
    }
    auto st = dev_->status(mem_->addr(), mark_length());
    for (std::size_t i = 0; i < n(); ++i) {
        EXPECT_EQ(st[i].device, held(i) ? DeviceState::Held : DeviceState::NeverHeld);
        // A held page is skipped; a refused one stays as it was.
        expect_pte(st, i, held(i) ? PteKind::DeviceExclusiveWrite : PteKind::Present);
    }
    Counters after = dev_->counters();
    EXPECT_EQ(after.marked, before.marked) << "a held page must not be taken twice";
    EXPECT_EQ(after.held, before.held);
    expect_contents();
}

void ExclusiveMatrix::run_second_context() {
    Device second = Device::open();
    MarkResult other = second.mark(mem_->addr(), mark_length());
    check_mark_results(other, *mem_);
    if (HasFatalFailure()) {
        return;
    }
    auto first_st = dev_->status(mem_->addr(), mark_length());
    auto second_st = second.status(mem_->addr(), mark_length());
    expect_revoked(first_st, Cause::OtherDevice);
    for (std::size_t i = 0; i < n(); ++i) {
        EXPECT_EQ(second_st[i].device, held(i) ? DeviceState::Held : DeviceState::NeverHeld);
        expect_pte(second_st, i, held(i) ? PteKind::DeviceExclusiveWrite : PteKind::Present);
    }
    expect_last_trigger_is_us(Cause::OtherDevice);
}

void ExclusiveMatrix::run_release() {
    ReleaseResult r = dev_->release(mem_->addr(), mark_length());
    EXPECT_EQ(r.released, mark_.marked);
    EXPECT_EQ(r.unrestored, 0u);
    // Check before touching the memory: release must restore the CPU
    // mapping without the process faulting.
    auto st = dev_->status(mem_->addr(), mark_length());
    auto pm = read_pagemap(mem_->addr(), n());
    expect_revoked(st, Cause::Released);
    for (std::size_t i = 0; i < n(); ++i) {
        expect_pte(st, i, PteKind::Present);
        EXPECT_TRUE(pm[i].present()) << "page " << i;
    }
    EXPECT_EQ(dev_->counters().held, 0u);
    expect_contents();
}

void ExclusiveMatrix::run_device_atomics() {
    const std::uint64_t addr = mem_->page_addr(0);
    if (!mem_->markable()) {
        // The device faults and cannot take the page: the kind's errno.
        try {
            dev_->access(addr, AccessOp::Add, 1, 0, /*reacquire=*/true);
            ADD_FAILURE() << "device access to an unmarkable page succeeded";
        } catch (const std::system_error& e) {
            EXPECT_EQ(errno_of(e), mem_->expected_mark().error) << e.what();
        }
        expect_contents();
        return;
    }
    constexpr int kThreads = 2;
    constexpr int kCpuAdds = 300;
    constexpr int kDeviceAdds = 300;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    auto* word = reinterpret_cast<std::uint64_t*>(addr);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            while (!go.load()) {
            }
            for (int k = 0; k < kCpuAdds; ++k) {
                __atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
            }
        });
    }
    go = true;
    // Contention for certain: once a CPU add has landed the page is revoked,
    // so the device's first access must re-acquire it.
    while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == mem_->initial_word(0)) {
    }
    int reacquired = 0;
    for (int k = 0; k < kDeviceAdds; ++k) {
        AccessResult r = dev_->access(addr, AccessOp::Add, 1, 0, /*reacquire=*/true);
        reacquired += r.path == AccessPath::Reacquired;
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(__atomic_load_n(word, __ATOMIC_SEQ_CST),
              mem_->initial_word(0) + kThreads * kCpuAdds + kDeviceAdds);
    Counters c = dev_->counters();
    EXPECT_EQ(c.device_ops, static_cast<std::uint64_t>(kDeviceAdds));
    EXPECT_EQ(c.reacquires, static_cast<std::uint64_t>(reacquired));
    EXPECT_GT(reacquired, 0);
}

// The target is another process that exits while the device holds its pages.
void ExclusiveMatrix::run_process_exit() {
    TargetProcess target(kind());
    if (target.skipped()) {
        target.exit_untouched();
        GTEST_SKIP() << "the child could not create " << kind_name(kind());
    }
    const pid_t pid = target.pid();
    const std::uint64_t addr = target.addr();
    const std::size_t pages = target.mark_pages();

    dev_.emplace(Device::open());
    events_.emplace(EventFilter{dev_->counters().context_id, 0});
    dev_->bind(pid);
    mark_ = dev_->mark(addr, pages * kPage);
    ASSERT_EQ(mark_.pages.size(), pages);
    for (std::size_t i = 0; i < pages; ++i) {
        EXPECT_EQ(mark_.pages[i].code, expected_mark_for(kind()).code) << "page " << i;
    }
    Counters c = dev_->counters();
    EXPECT_EQ(c.target_pid, static_cast<std::uint64_t>(pid));

    // Untouched: a CPU access would revoke the pages before the exit does.
    const int status = target.exit_untouched();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    auto st = dev_->status(addr, pages * kPage);
    for (std::size_t i = 0; i < pages; ++i) {
        if (mark_.pages[i].code == MarkCode::Marked) {
            EXPECT_EQ(st[i].device, DeviceState::Revoked) << "page " << i;
            EXPECT_EQ(st[i].cause, Cause::Release) << "page " << i;
        } else {
            EXPECT_EQ(st[i].device, DeviceState::NeverHeld) << "page " << i;
        }
        EXPECT_EQ(st[i].pte, PteKind::NoVma) << "page " << i;
    }
    EXPECT_EQ(dev_->counters().target_pid, 0u) << "the target is gone";
    EXPECT_EQ(dev_->counters().held, 0u);
    // The address space is torn down by the exiting child itself.
    check_events(Cause::Release, pid);
    try {
        static_cast<void>(dev_->mark(addr, kPage));
        ADD_FAILURE() << "marking an exited process succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(errno_of(e), ESRCH);
    }
}

TEST_P(ExclusiveMatrix, Case) {
    if (op() == Op::ProcessExit) {
        run_process_exit();
        return;
    }
    build_and_mark();
    if (IsSkipped() || HasFatalFailure()) {
        return;
    }
    switch (op()) {
        case Op::CpuRead:
            run_cpu_read();
            break;
        case Op::CpuWrite:
            run_cpu_write();
            break;
        case Op::Fork:
            run_fork();
            break;
        case Op::MprotectRoThenRw:
            run_mprotect();
            break;
        case Op::Munmap:
            run_munmap();
            break;
        case Op::MadvDontneed:
            run_dontneed();
            break;
        case Op::MremapMove:
            run_mremap();
            break;
        case Op::GupProcessVmReadv:
            run_gup(false);
            break;
        case Op::GupProcMem:
            run_gup(true);
            break;
        case Op::MarkTwice:
            run_mark_twice();
            break;
        case Op::SecondContext:
            run_second_context();
            break;
        case Op::Release:
            run_release();
            break;
        case Op::DeviceAtomicsWithCpuThreads:
            run_device_atomics();
            break;
        case Op::ProcessExit:
            break;
    }
    if (!HasFatalFailure()) {
        check_events(op_info(op()).cause, ::getpid());
    }
}

INSTANTIATE_TEST_SUITE_P(KindsByOperations, ExclusiveMatrix,
                         testing::Combine(testing::ValuesIn(all_memory_kinds()),
                                          testing::ValuesIn(all_ops())),
                         [](const testing::TestParamInfo<ExclusiveMatrix::ParamType>& info) {
                             return std::string(kind_name(std::get<0>(info.param))) + "_" +
                                    op_info(std::get<1>(info.param)).name;
                         });

}  // namespace
