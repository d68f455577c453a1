// The fuzzer's own memory, which its main context marks: a fixed layout of
// private, read-only, inaccessible and shared pages with a hole, far from
// every other mapping, so that the fuzzer knows what any range of addresses
// around it holds. It also keeps the model of what the device should hold
// and of every word the device wrote.
#pragma once

#include <cstdint>
#include <vector>

#include "devexcl/mapping.hpp"
#include "facts.hpp"
#include "rng.hpp"

namespace devexcl::fuzz {

enum class PageKind { Unmapped, Anon, NoAccess, ReadOnly, Shared };

// The device's view of a page, as the fuzzer expects it.
enum class Hold { Never, Held, Revoked };

class Arena : public TargetSpace {
public:
    // Maps the layout at `base` (MAP_FIXED_NOREPLACE) in the calling process.
    Arena(std::uint64_t base, std::uint64_t page_size);

    Tri mapped(std::uint64_t start, std::uint64_t end) const override;
    PageKind kind(std::uint64_t addr) const;

    std::uint64_t base() const { return base_; }
    std::uint64_t end() const { return base_ + pages_ * page_; }
    std::uint64_t page_size() const { return page_; }
    bool contains(std::uint64_t addr) const { return addr >= base_ && addr < end(); }

    // A page-aligned address: mostly in the arena, sometimes up to a GiB
    // around it, where nothing is mapped.
    std::uint64_t address(Rng& rng) const;
    // A length in pages that mostly keeps a range from `start` in the arena.
    std::uint64_t length(Rng& rng, std::uint64_t start) const;

    // The model: what the device holds, and what each word holds.
    Hold hold(std::uint64_t addr) const;
    void set_hold(std::uint64_t addr, Hold hold);
    std::uint64_t held_pages() const;
    bool ever_held(std::uint64_t addr) const;
    // The context was bound again: it has never held anything.
    void forget_holds();
    std::uint64_t& word(std::uint64_t addr);

    // The CPU reads or writes a word of a page (the device loses it).
    void cpu_touch(Rng& rng, std::uint64_t addr);

private:
    std::uint64_t index(std::uint64_t addr) const { return (addr - base_) / page_; }

    std::uint64_t base_;
    std::uint64_t page_;
    std::uint64_t pages_;
    std::vector<PageKind> kinds_;
    std::vector<Hold> holds_;
    std::vector<bool> ever_held_;
    std::vector<std::uint64_t> words_;  // the device-visible value of every word
    Mapping reservation_;
};

}  // namespace devexcl::fuzz
