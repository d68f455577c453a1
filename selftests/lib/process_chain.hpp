// A chain of processes that share private anonymous memory through fork():
// P0 (a child of the test) maps and fills the memory, P0 forks P1, P1 forks
// P2, ... Each waits for commands from the test, so the test can look at
// the rmap of a live fork tree and make any member write (COW).
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

    // depth processes; `pages` pages of private anon memory, page i word 0 = 1000 + i.
    // With `forkers_exit`, each member forks the next and then exits: only
    // the last one stays (the anon_vma reuse scenario).
    ProcessChain(int depth, std::size_t pages, bool forkers_exit = false);
    ~ProcessChain();
    ProcessChain(const ProcessChain&) = delete;
    ProcessChain& operator=(const ProcessChain&) = delete;

    // Live members, P0 first (only the last one with forkers_exit).
    const std::vector<pid_t>& pids() const { return pids_; }
    std::uint64_t addr() const { return addr_; }

    // Makes live member `index` write `value` to word 0 of page `page`, and waits.
    void write(int index, std::size_t page, std::uint64_t value);

private:
    struct Control;
    [[noreturn]] static void member(Control* c, int depth, std::size_t pages, bool forkers_exit);

    Control* control_ = nullptr;
    pid_t first_ = -1;
    std::vector<pid_t> pids_;
    std::uint64_t addr_ = 0;
};

}  // namespace devexcl::test
