// The memory kinds of the fault/COW matrix: each builds a real mapping of
// that kind in the calling process, filled with a known pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "devexcl/mapping.hpp"
#include "devexcl/types.hpp"
#include "devexcl/unique_fd.hpp"

namespace devexcl::test {

enum class MemoryKind {
    PrivateAnon,
    AnonThp,
    SharedAnon,
    PrivateFile,
    Memfd,
    Hugetlb,
    KsmMerged,
    Mlocked,
    UffdWp,
    SoftDirtyCleared,
    ZeroPage,
    ReadOnly,
};

std::string_view kind_name(MemoryKind kind);
const std::vector<MemoryKind>& all_memory_kinds();

// What marking a page of this kind gives on the running kernel.
struct ExpectedMark {
    MarkCode code;
    int error;
};

// What marking any page of a fresh mapping of `kind` gives, by default, on
// the running kernel (keyed by its feature bits).
ExpectedMark expected_mark_for(MemoryKind kind);

class TestMemory {
public:
    // Builds the kind; if the kernel cannot provide it (no THP, no huge
    // pages, no uffd), skip_reason() says why and nothing else is valid.
    static std::unique_ptr<TestMemory> create(MemoryKind kind);

    MemoryKind kind() const { return kind_; }
    const std::string& skip_reason() const { return skip_reason_; }

    std::uint64_t addr() const { return base_; }
    std::size_t length() const { return length_; }
    std::size_t pages() const { return length_ / page_size(); }
    // The part the matrix marks: the whole mapping, or its first pages
    // for huge kinds (whose effect on the rest is asserted separately).
    std::size_t mark_pages() const { return mark_pages_; }
    std::uint64_t page_addr(std::size_t i) const { return base_ + i * page_size(); }
    volatile std::uint64_t* word(std::size_t page) const {
        return reinterpret_cast<volatile std::uint64_t*>(page_addr(page));
    }
    // The pattern in word 0 of each page when created.
    std::uint64_t initial_word(std::size_t page) const;

    ExpectedMark expected_mark() const { return expected_mark_for(kind_); }
    bool markable() const { return expected_mark().code == MarkCode::Marked; }
    // Writes through this mapping are seen by other mappings (no COW on fork).
    bool shared() const;
    bool writable() const { return kind_ != MemoryKind::ReadOnly; }
    // Contents after MADV_DONTNEED: private anonymous memory reads zero.
    std::uint64_t word_after_dontneed(std::size_t page) const;

    // The userfaultfd the range is registered with (UffdWp), or -1.
    int uffd() const { return uffd_.get(); }

    // The mapping was moved or unmapped by the test: do not unmap it again.
    void forget_mapping() { mapping_.release(); }
    void adopt_moved(std::uint64_t new_addr);

    static std::size_t page_size();

private:
    explicit TestMemory(MemoryKind kind) : kind_(kind) {}

    void create_mapping();
    void fill_pattern();

    MemoryKind kind_;
    std::string skip_reason_;
    Mapping guard_low_;
    Mapping mapping_;
    Mapping guard_high_;
    UniqueFd fd_;
    UniqueFd uffd_;
    std::uint64_t base_ = 0;
    std::size_t length_ = 0;
    std::size_t mark_pages_ = 0;
};

// Ensures /proc/sys/vm/nr_hugepages is at least `pages`.
void reserve_huge_pages(unsigned pages);

}  // namespace devexcl::test
