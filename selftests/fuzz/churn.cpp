#include "churn.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "rng.hpp"

namespace devexcl::fuzz {

namespace {

constexpr int kMpolMfMove = 1 << 1;  // MPOL_MF_MOVE of <numaif.h>

class Churn {
public:
    Churn(ChurnTable& table, std::uint64_t seed, bool thp)
        : table_(table),
          rng_(seed ^ 0xc4u),
          page_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) {
        for (int i = 0; i < kSlots; ++i) {
            ChurnSlot& s = table_.slots[i];
            s.kind = i >= 13 ? SlotKind::Shared : (thp && i >= 10 ? SlotKind::Thp : SlotKind::Anon);
            s.generation.store(0);
            s.state.store(SlotState::Unmapped);
            map(i);
        }
    }

    int run() {
        table_.ready.store(true);
        while (!table_.stop.load(std::memory_order_relaxed)) {
            const auto began = std::chrono::steady_clock::now();
            step();
            // At most a quarter of a vCPU: the churn only has to be there,
            // not to win (on the debug flavour a fork or a THP fault takes
            // tens of milliseconds).
            const auto took = std::chrono::steady_clock::now() - began;
            std::this_thread::sleep_for(
                std::max<std::chrono::nanoseconds>(3 * took, std::chrono::microseconds(200)));
            table_.ops.fetch_add(1, std::memory_order_relaxed);
        }
        reap();
        return 0;
    }

private:
    void* at(int i) const { return reinterpret_cast<void*>(ChurnTable::slot_start(i)); }

    // Bumps the slot's generation around a change of its mapping.
    template <typename F>
    void change(int i, F&& f) {
        ChurnSlot& s = table_.slots[i];
        s.generation.fetch_add(1);
        f(s);
        s.generation.fetch_add(1);
    }

    void map(int i) {
        change(i, [&](ChurnSlot& s) {
            const int flags = (s.kind == SlotKind::Shared ? MAP_SHARED : MAP_PRIVATE) |
                              MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
            if (::mmap(at(i), kSlotBytes, PROT_READ | PROT_WRITE, flags, -1, 0) == MAP_FAILED) {
                return;
            }
            ::madvise(at(i), kSlotBytes, s.kind == SlotKind::Thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
            touch(i, 64);
            s.state.store(SlotState::Mapped);
        });
    }

    void touch(int i, unsigned n) {
        auto* base = static_cast<volatile std::uint64_t*>(at(i));
        for (unsigned k = 0; k < n; ++k) {
            base[rng_.below(kSlotBytes / sizeof(std::uint64_t))] = rng_.next();
        }
    }

    void step() {
        const int i = static_cast<int>(rng_.below(kSlots));
        ChurnSlot& s = table_.slots[i];
        const SlotState state = s.state.load();
        if (state == SlotState::Unmapped) {
            map(i);
            return;
        }
        switch (rng_.below(10)) {
            case 0:
                change(i, [&](ChurnSlot& slot) {
                    ::munmap(at(i), kSlotBytes);
                    slot.state.store(SlotState::Unmapped);
                });
                break;
            case 1:
                change(i, [&](ChurnSlot& slot) {
                    ::mprotect(at(i), kSlotBytes, rng_.percent(50) ? PROT_READ : PROT_NONE);
                    slot.state.store(SlotState::Protected);
                    ::usleep(static_cast<useconds_t>(rng_.below(500)));
                    ::mprotect(at(i), kSlotBytes, PROT_READ | PROT_WRITE);
                    slot.state.store(SlotState::Mapped);
                });
                break;
            case 2: {
                const std::uint64_t first = rng_.below(kSlotBytes / page_);
                const std::uint64_t n = 1 + rng_.below(64);
                const std::uint64_t len = std::min(n * page_, kSlotBytes - first * page_);
                ::madvise(static_cast<char*>(at(i)) + first * page_, len, MADV_DONTNEED);
                break;
            }
            case 3:
                fork_child(i);
                break;
            case 4:
            case 5:
                move_pages(i);
                break;
            default:
                touch(i, 1 + static_cast<unsigned>(rng_.below(32)));
                break;
        }
    }

    void fork_child(int i) {
        reap();
        const pid_t pid = ::fork();
        if (pid == 0) {
            touch(i, 1);
            ::usleep(static_cast<useconds_t>(rng_.below(2000)));
            ::_exit(0);
        }
        if (pid > 0) {
            child_ = pid;
            table_.child.store(pid);
        }
    }

    void reap() {
        if (child_ > 0) {
            ::waitpid(child_, nullptr, 0);
            child_ = -1;
        }
    }

    void move_pages(int i) {
        const unsigned n = 1 + static_cast<unsigned>(rng_.below(16));
        std::vector<void*> pages(n);
        std::vector<int> nodes(n), status(n);
        const std::uint64_t first = rng_.below(kSlotBytes / page_);
        const int node = static_cast<int>(rng_.below(2));
        for (unsigned k = 0; k < n; ++k) {
            const std::uint64_t p =
                (first + (rng_.percent(70) ? k : rng_.below(kSlotBytes / page_))) %
                (kSlotBytes / page_);
            pages[k] = static_cast<char*>(at(i)) + p * page_;
            nodes[k] = node;
        }
        if (::syscall(SYS_move_pages, 0, n, pages.data(), nodes.data(), status.data(),
                      kMpolMfMove) >= 0) {
            for (int st : status) {
                table_.moved_pages.fetch_add(st == node ? 1 : 0, std::memory_order_relaxed);
            }
        }
    }

    ChurnTable& table_;
    Rng rng_;
    std::uint64_t page_;
    pid_t child_ = -1;
};

}  // namespace

int churn_main(ChurnTable& table, std::uint64_t seed, bool thp) {
    Churn churn(table, seed, thp);
    return churn.run();
}

}  // namespace devexcl::fuzz
