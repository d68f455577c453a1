// A chain of processes that share private anonymous memory through fork():
// P0 (a child of the test) maps and fills the memory, P0 forks P1, P1 forks
// P2, ... Each waits for commands from the test, so the test can look at
// the rmap of a live fork tree, make any member write (COW), run a step of
// its own (a syscall on its own address space) or exit.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace devexcl::test {

class ProcessChain {
public:
    static constexpr int kMax = 16;

    // What a member runs on command; `arg` is the test's (see run()).
    using Step = int (*)(std::uint64_t arg);

    // depth processes; `pages` pages of private anon memory, page i word 0 = 1000 + i.
    // With `forkers_exit`, each member forks the next and then exits: only
    // the last one stays (the anon_vma reuse scenario). A non-zero `at`
    // places the memory there (MAP_FIXED_NOREPLACE), e.g. below every other
    // mapping, so that a fork copies it first.
    ProcessChain(int depth, std::size_t pages, bool forkers_exit = false, std::uint64_t at = 0);
    ~ProcessChain();
    ProcessChain(const ProcessChain&) = delete;
    ProcessChain& operator=(const ProcessChain&) = delete;

    // Members, P0 first (only the last one with forkers_exit). Those that
    // left() stay listed, so indices do not move.
    const std::vector<pid_t>& pids() const { return pids_; }
    std::uint64_t addr() const { return addr_; }

    // Makes live member `index` write `value` to word 0 of page `page`, and waits.
    void write(int index, std::size_t page, std::uint64_t value);

    // Makes live member `index` call step(arg), waits, and returns what it
    // returned (ForkedChild::kThrew if it threw). Members are forks of the
    // test, so `step` and anything the test mapped MAP_SHARED before the
    // chain are at the same addresses in them.
    int run(int index, Step step, std::uint64_t arg);

    // Makes live member `index` exit, and waits until it has: its VMAs are
    // unlinked from their anon_vmas by then. Its child carries on,
    // reparented to the test.
    void leave(int index);

private:
    struct Control;
    [[noreturn]] static void member(Control* c, int depth, std::size_t pages, bool forkers_exit,
                                    std::uint64_t at);
    // The control slot of live member `index`.
    int slot(int index) const;

    Control* control_ = nullptr;
    pid_t first_ = -1;
    std::vector<pid_t> pids_;
    std::uint64_t addr_ = 0;
};

}  // namespace devexcl::test
