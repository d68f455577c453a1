#include "user_buffers.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include "devexcl/error.hpp"

namespace devexcl::fuzz {

namespace {

constexpr std::size_t kArgsBytes = 64 * 1024;
constexpr std::size_t kDataBytes = 8 * 1024 * 1024;
constexpr std::size_t kReadOnlyBytes = 64 * 1024;

// Mapping of `usable` bytes followed by one PROT_NONE guard page.
Mapping guarded(std::size_t usable, std::size_t page) {
    Mapping m(usable + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (::mprotect(m.as<char>() + usable, page, PROT_NONE) != 0) {
        throw_last_errno("mprotect guard");
    }
    return m;
}

}  // namespace

UserBuffers::UserBuffers(const KernelFacts& kernel)
    : kernel_(kernel),
      args_(guarded(kArgsBytes, kernel.page_size)),
      data_(guarded(kDataBytes, kernel.page_size)),
      memfd_(::memfd_create("devexcl-fuzz-ro", MFD_CLOEXEC)),
      none_(64 * 1024, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS) {
    if (!memfd_ || ::ftruncate(memfd_.get(), kReadOnlyBytes) != 0) {
        throw_last_errno("memfd for read-only buffers");
    }
    ro_ = Mapping(kReadOnlyBytes, PROT_READ, MAP_SHARED, memfd_.get());
    ro_rw_ = Mapping(kReadOnlyBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_.get());
    // Faulted in: an argument read from there must not depend on a fault.
    std::memset(ro_rw_.data(), 0, kReadOnlyBytes);
    std::memset(data_.data(), 0, kDataBytes);
    args_area_ = {args_.address(), args_.address() + kArgsBytes};
    data_area_ = {data_.address(), data_.address() + kDataBytes};
    ro_area_ = {ro_.address(), ro_.address() + kReadOnlyBytes};
}

bool UserBuffers::readable(std::uint64_t ptr, std::uint64_t n) const {
    return n == 0 || args_area_.contains(ptr, n) || data_area_.contains(ptr, n) ||
           ro_area_.contains(ptr, n);
}

bool UserBuffers::writable(std::uint64_t ptr, std::uint64_t n) const {
    return n == 0 || args_area_.contains(ptr, n) || data_area_.contains(ptr, n);
}

std::uint64_t UserBuffers::never_mapped(Rng& rng) const {
    switch (rng.below(6)) {
        case 0:
            return rng.between(1, 0xffff);  // below mmap_min_addr
        case 1:
            return rng.pick<std::uint64_t>({0xffff888000000000ULL, 0xffffffff81000000ULL,
                                            0xffffc90000000000ULL, 0xffffea0000000000ULL});
        case 2:
            return ~0ULL - rng.below(0x10000);
        case 3:
            return (1ULL << 63) | rng.next();
        case 4:
            // The first page past user space, and the last user page when
            // it is unused (it always is: nothing maps there).
            return rng.pick<std::uint64_t>({kernel_.task_size_max, kernel_.task_size_max - 4096,
                                            kernel_.task_size_max + 4096});
        default:
            // Canonical-looking addresses no mapping uses: 2^47 up, with
            // 5-level paging user space, else non-canonical.
            return (1ULL << 47) + rng.below(1ULL << 40);
    }
}

std::uint64_t UserBuffers::into(Rng& rng, const Area& area, std::uint64_t need) const {
    const std::uint64_t size = area.end - area.start;
    if (need >= size) {
        return area.start;
    }
    std::uint64_t offset = rng.below(size - need + 1);
    if (!rng.one_in(8)) {
        offset &= ~7ULL;  // mostly aligned, sometimes not
    }
    return area.start + offset;
}

std::uint64_t UserBuffers::output(Rng& rng, std::uint64_t need, unsigned bad_percent) {
    if (!rng.percent(bad_percent)) {
        return need <= data_area_.end - data_area_.start ? into(rng, data_area_, need)
                                                         : data_area_.start;
    }
    switch (rng.below(5)) {
        case 0:  // runs into the guard page
            return data_area_.end - rng.below(need == 0 ? 1 : need);
        case 1:
            return into(rng, ro_area_, need);
        case 2:
            return none_.address() + rng.below(none_.size());
        case 3:
            return 0;
        default:
            return never_mapped(rng);
    }
}

void* UserBuffers::writable_alias(std::uint64_t ro_ptr) const {
    return ro_rw_.as<char>() + (ro_ptr - ro_area_.start);
}

std::uint64_t UserBuffers::place(Rng& rng, const void* arg, std::size_t size,
                                 unsigned bad_percent) {
    if (!rng.percent(bad_percent)) {
        const std::uint64_t at = into(rng, args_area_, size);
        std::memcpy(reinterpret_cast<void*>(at), arg, size);
        return at;
    }
    switch (rng.below(4)) {
        case 0: {  // read-only: the kernel reads it, cannot write it back
            const std::uint64_t at = into(rng, ro_area_, size);
            std::memcpy(writable_alias(at), arg, size);
            return at;
        }
        case 1: {  // the struct's tail in the guard page
            const std::uint64_t head = rng.below(size);
            const std::uint64_t at = args_area_.end - head;
            std::memcpy(reinterpret_cast<void*>(at), arg, head);
            return at;
        }
        case 2:
            return none_.address() + rng.below(none_.size());
        default:
            return never_mapped(rng);
    }
}

void UserBuffers::fetch(std::uint64_t addr, void* arg, std::size_t size) const {
    if (readable(addr, size)) {
        std::memcpy(arg, reinterpret_cast<const void*>(addr), size);
    }
}

}  // namespace devexcl::fuzz
