// Two private anonymous VMAs of the same size and protection, `src` and
// `dst`, that can never share an anon_vma, so a page moved from one to the
// other changes anon_vma root. find_mergeable_anon_vma() lends a VMA a
// neighbour's anon_vma only when the two are adjacent (anon_vma_compatible(),
// 6.12 mm/vma.c:1771, 7.3 :2074), so each VMA sits between PROT_NONE guard
// pages, which are never faulted and so never have an anon_vma to lend.
#pragma once

#include <cstddef>
#include <cstdint>

#include "devexcl/mapping.hpp"

namespace devexcl::test {

class SeparateAnonVmas {
public:
    // Two VMAs of `pages` pages each; neither has an anon_vma yet.
    explicit SeparateAnonVmas(std::size_t pages);

    std::uint64_t src(std::size_t page = 0) const { return src_ + page * page_; }
    std::uint64_t dst(std::size_t page = 0) const { return dst_ + page * page_; }
    std::size_t pages() const { return pages_; }
    std::uint64_t length() const { return pages_ * page_; }

    // Writes the first page of each VMA, which gives each an anon_vma of
    // its own (a root), then empties dst again: MADV_DONTNEED zaps the
    // page but leaves the VMA its anon_vma, and a move needs an empty
    // destination entry.
    void give_each_an_anon_vma();

private:
    std::uint64_t page_;
    std::size_t pages_;
    Mapping whole_;  // guard, src, guard, dst, guard
    std::uint64_t src_ = 0, dst_ = 0;
};

}  // namespace devexcl::test
