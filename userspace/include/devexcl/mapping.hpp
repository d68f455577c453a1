// Owning memory mapping: munmap on destruction, movable, not copyable.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "devexcl/error.hpp"

namespace devexcl {

class Mapping {
public:
    Mapping() = default;
    // mmap(hint, length, prot, flags, fd, offset); throws std::system_error.
    Mapping(std::size_t length, int prot, int flags, int fd = -1, off_t offset = 0,
            void* hint = nullptr)
        : length_(length) {
        void* p = ::mmap(hint, length, prot, flags, fd, offset);
        if (p == MAP_FAILED) {
            throw_last_errno("mmap");
        }
        addr_ = p;
    }
    // Adopts an existing mapping (e.g. the result of mremap).
    static Mapping adopt(void* addr, std::size_t length) {
        Mapping m;
        m.addr_ = addr;
        m.length_ = length;
        return m;
    }
    Mapping(Mapping&& other) noexcept
        : addr_(std::exchange(other.addr_, nullptr)), length_(std::exchange(other.length_, 0)) {}
    Mapping& operator=(Mapping&& other) noexcept {
        reset();
        addr_ = std::exchange(other.addr_, nullptr);
        length_ = std::exchange(other.length_, 0);
        return *this;
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { reset(); }

    void reset() noexcept {
        if (addr_ != nullptr) {
            ::munmap(addr_, length_);
        }
        addr_ = nullptr;
        length_ = 0;
    }
    // Gives up ownership (e.g. after munmap or mremap by the caller).
    void* release() noexcept {
        length_ = 0;
        return std::exchange(addr_, nullptr);
    }

    template <typename T = std::uint8_t>
    T* as() const {
        return static_cast<T*>(addr_);
    }
    void* data() const { return addr_; }
    std::uint64_t address() const { return reinterpret_cast<std::uintptr_t>(addr_); }
    std::size_t size() const { return length_; }

private:
    void* addr_ = nullptr;
    std::size_t length_ = 0;
};

}  // namespace devexcl
