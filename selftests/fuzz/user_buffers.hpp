// The caller's memory the fuzzer points the kernel at: valid buffers,
// buffers that end in a guard page, read-only and inaccessible memory, and
// addresses that are never user memory. Every pointer the fuzzer passes
// comes from here, so whether the kernel can read or write it is known.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "devexcl/mapping.hpp"
#include "devexcl/unique_fd.hpp"
#include "facts.hpp"
#include "rng.hpp"

namespace devexcl::fuzz {

class UserBuffers : public CallerMemory {
public:
    explicit UserBuffers(const KernelFacts& kernel);

    bool readable(std::uint64_t ptr, std::uint64_t n) const override;
    bool writable(std::uint64_t ptr, std::uint64_t n) const override;

    // A pointer to `need` bytes of output: valid (in a buffer with room) in
    // about (100 - bad_percent)% of the cases, else short, read-only,
    // inaccessible, low, or a kernel address.
    std::uint64_t output(Rng& rng, std::uint64_t need, unsigned bad_percent);

    // Copies an argument struct to memory of a random kind (mostly valid,
    // `bad_percent`% not) and returns its address for the ioctl.
    std::uint64_t place(Rng& rng, const void* arg, std::size_t size, unsigned bad_percent);
    // Copies the struct back after the call, if it is at a readable place.
    void fetch(std::uint64_t addr, void* arg, std::size_t size) const;
    // The bytes at a valid output pointer.
    const void* at(std::uint64_t ptr) const { return reinterpret_cast<const void*>(ptr); }

    // An address no user memory is at: low, kernel, non-canonical, or
    // (with 5-level paging) in the unused upper user half.
    std::uint64_t never_mapped(Rng& rng) const;

private:
    struct Area {
        std::uint64_t start = 0;
        std::uint64_t end = 0;  // the guard page after it is not part of it
        bool contains(std::uint64_t ptr, std::uint64_t n) const {
            return ptr >= start && ptr <= end && n <= end - ptr;
        }
    };
    std::uint64_t into(Rng& rng, const Area& area, std::uint64_t need) const;
    // The read-write view of the read-only area's memory.
    void* writable_alias(std::uint64_t ro_ptr) const;

    KernelFacts kernel_;
    Mapping args_;    // argument structs, a guard page after them
    Mapping data_;    // output buffers, a guard page after them
    UniqueFd memfd_;  // the read-only area's memory
    Mapping ro_;      // read-only view
    Mapping ro_rw_;   // read-write view of the same pages
    Mapping none_;    // PROT_NONE
    Area args_area_, data_area_, ro_area_;
};

}  // namespace devexcl::fuzz
