#include "binder.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "describe.hpp"
#include "devexcl/device.hpp"
#include "errno_rules.hpp"
#include "rng.hpp"
#include "user_buffers.hpp"

namespace devexcl::fuzz {

namespace {

constexpr std::uint64_t kMarksPerRelease = 200;
// HMM_RANGE_DEFAULT_TIMEOUT: a re-acquiring access gives up on a busy page
// only after retrying this long (less a margin for the clock's jiffies).
constexpr auto kReacquireTimeout = std::chrono::milliseconds(900);

// The binder passes only its own valid buffers and stack variables.
class ValidMemory : public CallerMemory {
public:
    bool readable(std::uint64_t, std::uint64_t) const override { return true; }
    bool writable(std::uint64_t, std::uint64_t) const override { return true; }
};

// What the slots a range covers did during a call.
struct Window {
    int first = 0, last = 0;  // slots
    std::array<std::uint64_t, kSlots> gen{};
    std::array<SlotState, kSlots> state{};
};

class Binder {
public:
    Binder(ChurnTable& table, Tally& tally, pid_t churn, std::uint64_t seed,
           const KernelFacts& kernel)
        : table_(table),
          report_(tally, Role::Binder),
          churn_(churn),
          rng_(seed ^ 0xb1dull),
          kernel_(kernel),
          buffers_(kernel),
          dev_(Device::open()),
          ever_(kSlots * kSlotBytes / kernel.page_size, Tri::No) {
        dev_.bind(churn);
    }

    int run(Tally& tally) {
        while (!tally.stop.load(std::memory_order_relaxed)) {
            step();
        }
        return report_.failures() == 0 ? 0 : 1;
    }

private:
    int call(int fd, unsigned long cmd, const void* arg) {
        report_.count_call();
        return ::ioctl(fd, cmd, arg) == 0 ? 0 : errno;
    }

    std::uint64_t page_index(std::uint64_t addr) const {
        return (addr - kChurnBase) / kernel_.page_size;
    }
    static int slot_of(std::uint64_t addr) {
        return static_cast<int>((addr - kChurnBase) / kSlotBytes);
    }

    // A range of 1..16 pages (sometimes up to 64, or a whole slot) within
    // one or two slots.
    std::pair<std::uint64_t, std::uint64_t> range() {
        const std::uint64_t pages_total = kSlots * kSlotBytes / kernel_.page_size;
        std::uint64_t n = 1 + rng_.below(16);
        if (rng_.percent(10)) {
            n = rng_.percent(80) ? 1 + rng_.below(64) : kSlotBytes / kernel_.page_size;
        }
        const std::uint64_t first = rng_.below(pages_total);
        n = std::min(n, pages_total - first);
        return {kChurnBase + first * kernel_.page_size, n * kernel_.page_size};
    }

    Window open(std::uint64_t start, std::uint64_t length) const {
        Window w;
        w.first = slot_of(start);
        w.last = slot_of(start + length - 1);
        for (int i = w.first; i <= w.last; ++i) {
            w.gen[i] = table_.slots[i].generation.load();
            w.state[i] = table_.slots[i].state.load();
        }
        return w;
    }
    // Did slot i keep its mapping during the call?
    bool stable(const Window& w, int i) const {
        return w.gen[i] % 2 == 0 && table_.slots[i].generation.load() == w.gen[i];
    }
    Tri mapped(const Window& w) const {
        bool any_unmapped = false;
        for (int i = w.first; i <= w.last; ++i) {
            if (!stable(w, i)) {
                return Tri::Maybe;
            }
            any_unmapped = any_unmapped || w.state[i] == SlotState::Unmapped;
        }
        return any_unmapped ? Tri::No : Tri::Yes;
    }

    // May page `addr` of window `w` get per-page result `raw`?
    bool result_allowed(const Window& w, std::uint64_t addr, std::uint32_t raw) const {
        if (!mark_result_consistent(raw)) {
            return false;
        }
        const int i = slot_of(addr);
        const SlotKind kind = table_.slots[i].kind;
        switch (DEVEXCL_MARK_RESULT_CODE(raw)) {
            case DEVEXCL_MARK_MARKED:
            case DEVEXCL_MARK_ALREADY_HELD:
                return kind != SlotKind::Shared;
            case DEVEXCL_MARK_PAGE_BUSY:
            case DEVEXCL_MARK_NOT_CONVERTED:
            case DEVEXCL_MARK_RETRIES_EXHAUSTED:
                return true;  // the churn touches, zaps, forks and migrates these pages
            case DEVEXCL_MARK_NOT_ANON:
                return kind == SlotKind::Shared;
            case DEVEXCL_MARK_THP_KERNEL_BUG:
                // Every page of a large folio, where the kernel has the bug.
                return kind == SlotKind::Thp && kernel_.thp_kernel_bug;
            case DEVEXCL_MARK_THP_TAIL:
                // Only where it does not (the fuzzer never asks to allow it).
                return kind == SlotKind::Thp && !kernel_.thp_kernel_bug;
            case DEVEXCL_MARK_NOT_MAPPED:
            case DEVEXCL_MARK_GUP_FAILED:
                return !stable(w, i);
            default:
                return false;
        }
    }

    void step() {
        switch (rng_.below(20)) {
            case 0 ... 6:
                mark();
                break;
            case 7 ... 12:
                access();
                break;
            case 13 ... 15:
                status();
                break;
            case 16 ... 17:
                release();
                break;
            case 18:
                bind_child();
                break;
            default:
                counters();
                break;
        }
        if (marks_ >= kMarksPerRelease) {
            release_all();
        }
    }

    void mark() {
        auto [start, length] = range();
        devexcl_range_op op{};
        op.start = start;
        op.length = length;
        const std::uint64_t pages = length / kernel_.page_size;
        op.results = buffers_.output(rng_, pages * 4, 0);
        if (rng_.one_in(10)) {  // sometimes a bad flag: refused whatever the churn does
            op.reserved = 1;
        }
        const Window w = open(start, length);
        const int err = call(dev_.fd(), DEVEXCL_IOC_MARK, &op);
        const Expect expect = mark_rule(op, reinterpret_cast<std::uint64_t>(&op), valid_, mapped(w),
                                        Tri::Yes, kernel_);
        report_.check(err, expect, [&] { return describe_call("MARK", op, 0) + " (churn)"; });
        if (err != 0) {
            return;
        }
        ++marks_;
        const auto* results = static_cast<const std::uint32_t*>(buffers_.at(op.results));
        for (std::uint64_t k = 0; k < pages; ++k) {
            const std::uint64_t addr = start + k * kernel_.page_size;
            if (!result_allowed(w, addr, results[k])) {
                report_.fail("MARK " + describe(op) + " (churn): page " + hex(addr) + " result " +
                             hex(results[k]) + " in slot " + std::to_string(slot_of(addr)) +
                             (stable(w, slot_of(addr)) ? " (stable)" : " (changing)"));
                return;
            }
            const auto code = DEVEXCL_MARK_RESULT_CODE(results[k]);
            if (code == DEVEXCL_MARK_MARKED || code == DEVEXCL_MARK_ALREADY_HELD) {
                ever_[page_index(addr)] = Tri::Yes;
            }
        }
    }

    void access() {
        auto [start, length] = range();
        (void)length;
        devexcl_access req{};
        req.addr = start + 8 * rng_.below(kernel_.page_size / 8);
        req.op = rng_.between(DEVEXCL_OP_READ, DEVEXCL_OP_CMPXCHG);
        req.flags = rng_.percent(50) ? DEVEXCL_ACCESS_REACQUIRE : 0;
        req.value = rng_.next();
        const Window w = open(start, kernel_.page_size);
        const auto began = std::chrono::steady_clock::now();
        const int err = call(dev_.fd(), DEVEXCL_IOC_ACCESS, &req);
        const auto took = std::chrono::steady_clock::now() - began;
        const int i = slot_of(req.addr);
        const Tri ever = ever_[page_index(req.addr)];
        HoldFacts hold;
        hold.may_be_held = ever != Tri::No;
        hold.may_be_revoked = ever != Tri::No;
        hold.may_be_never_held = ever != Tri::Yes;
        Expect reacquire;
        if (!stable(w, i)) {
            reacquire.allow(EFAULT);
        } else if (w.state[i] == SlotState::Unmapped) {
            reacquire.defect(EFAULT);
        }
        switch (table_.slots[i].kind) {
            case SlotKind::Shared:
                reacquire.defect(EOPNOTSUPP);
                break;
            case SlotKind::Thp:
                reacquire.allow(EOPNOTSUPP);
                break;
            case SlotKind::Anon:
                break;
        }
        if (took >= kReacquireTimeout) {
            reacquire.allow(EBUSY).allow(EAGAIN);
        }
        const Expect expect = access_rule(req, reinterpret_cast<std::uint64_t>(&req), valid_, hold,
                                          reacquire, Tri::Yes, kernel_);
        report_.check(err, expect, [&] {
            return describe_call("ACCESS", req, 0) + " (churn slot " + std::to_string(i) + ")";
        });
        if (err == 0) {
            ever_[page_index(req.addr)] = Tri::Yes;
        }
    }

    void status() {
        auto [start, length] = range();
        const std::uint64_t pages = length / kernel_.page_size;
        std::vector<devexcl_page_status> entries(pages);
        devexcl_status_req req{};
        req.start = start;
        req.length = length;
        req.entries = reinterpret_cast<std::uint64_t>(entries.data());
        const Window w = open(start, length);
        const int err = call(dev_.fd(), DEVEXCL_IOC_STATUS, &req);
        if (err != 0) {
            report_.fail("STATUS " + describe(req) + " (churn) -> " + errno_name(err));
            return;
        }
        for (std::uint64_t k = 0; k < pages; ++k) {
            const std::uint64_t addr = start + k * kernel_.page_size;
            const auto& st = entries[k];
            const int i = slot_of(addr);
            const bool never = ever_[page_index(addr)] == Tri::No;
            bool ok = st.device <= DEVEXCL_DEV_REVOKED && st.pte <= DEVEXCL_PTE_NO_VMA &&
                      (!never || st.device == DEVEXCL_DEV_NEVER_HELD) &&
                      (st.device != DEVEXCL_DEV_REVOKED ||
                       (st.cause != 0 && st.cause < DEVEXCL_CAUSE_COUNT && st.revoke_seq != 0));
            if (stable(w, i) && w.state[i] == SlotState::Unmapped) {
                ok = ok && st.pte == DEVEXCL_PTE_NO_VMA && st.device != DEVEXCL_DEV_HELD;
            }
            if (!ok) {
                report_.fail("STATUS " + describe(req) + " (churn): page " + hex(addr) +
                             " device " + std::to_string(st.device) + " cause " +
                             std::to_string(st.cause) + " pte " + std::to_string(st.pte));
                return;
            }
        }
    }

    void release() {
        auto [start, length] = range();
        devexcl_range_op op{};
        op.start = start;
        op.length = length;
        const int err = call(dev_.fd(), DEVEXCL_IOC_RELEASE, &op);
        if (err != 0 || op.ok > length / kernel_.page_size) {
            report_.fail("RELEASE " + describe(op) + " (churn) -> " + errno_name(err) + " ok " +
                         std::to_string(op.ok));
        }
    }

    void release_all() {
        marks_ = 0;
        devexcl_range_op op{};
        op.start = kChurnBase;
        op.length = kSlots * kSlotBytes;
        if (int err = call(dev_.fd(), DEVEXCL_IOC_RELEASE, &op)) {
            report_.fail("RELEASE of all churn memory -> " + errno_name(err));
        }
    }

    void counters() {
        devexcl_counters c{};
        if (int err = call(dev_.fd(), DEVEXCL_IOC_COUNTERS, &c)) {
            report_.fail("COUNTERS (churn) -> " + errno_name(err));
            return;
        }
        if (c.target_pid != static_cast<std::uint64_t>(churn_)) {
            report_.fail("COUNTERS (churn): target_pid " + std::to_string(c.target_pid));
        }
    }

    // Has the process behind `pidfd` exited (or is it about to: its mm is
    // gone before its pidfd reports the exit)?
    static bool exited(int pidfd) {
        pollfd p{pidfd, POLLIN, 0};
        return ::poll(&p, 1, 2000) == 1;
    }

    // A spare context bound to the churn's latest child, which exits at any
    // moment: ESRCH is allowed exactly when it has.
    void bind_child() {
        const pid_t child = table_.child.load();
        if (child <= 0) {
            return;
        }
        UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
        if (!pidfd) {
            return;  // reaped already
        }
        Device spare = Device::open();
        devexcl_bind req{};
        req.flags = DEVEXCL_BIND_PIDFD;
        req.pidfd = static_cast<std::uint64_t>(pidfd.get());
        int err = call(spare.fd(), DEVEXCL_IOC_BIND, &req);
        if (err != 0) {
            if (err != ESRCH || !exited(pidfd.get())) {
                report_.fail("BIND to the churn's child " + std::to_string(child) + " -> " +
                             errno_name(err));
            }
            return;
        }
        devexcl_range_op op{};
        op.start = ChurnTable::slot_start(static_cast<int>(rng_.below(kSlots)));
        op.length = (1 + rng_.below(16)) * kernel_.page_size;
        err = call(spare.fd(), DEVEXCL_IOC_MARK, &op);
        // The child's memory is what the churn had when it forked: a slot
        // may have been unmapped then.
        if (err != 0 && err != EFAULT && !(err == ESRCH && exited(pidfd.get()))) {
            report_.fail("MARK " + describe(op) + " in the churn's child -> " + errno_name(err));
        }
    }

    ChurnTable& table_;
    Report report_;
    pid_t churn_;
    Rng rng_;
    KernelFacts kernel_;
    UserBuffers buffers_;
    ValidMemory valid_;
    Device dev_;
    std::vector<Tri> ever_;  // has this context held the page (Yes), never (No)?
    std::uint64_t marks_ = 0;
};

}  // namespace

int binder_main(ChurnTable& table, Tally& tally, pid_t churn, std::uint64_t seed,
                const KernelFacts& kernel) {
    Binder binder(table, tally, churn, seed, kernel);
    return binder.run(tally);
}

}  // namespace devexcl::fuzz
