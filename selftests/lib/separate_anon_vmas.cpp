#include "separate_anon_vmas.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include "devexcl/error.hpp"

namespace devexcl::test {

namespace {

void madvise_or_throw(std::uint64_t addr, std::uint64_t length, int advice, const char* what) {
    if (::madvise(reinterpret_cast<void*>(addr), length, advice) != 0) {
        throw_last_errno(what);
    }
}

}  // namespace

SeparateAnonVmas::SeparateAnonVmas(std::size_t pages)
    : page_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))),
      pages_(pages),
      whole_((2 * pages + 3) * page_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE) {
    src_ = whole_.address() + page_;
    dst_ = src_ + length() + page_;
    for (std::uint64_t start : {src_, dst_}) {
        if (::mprotect(reinterpret_cast<void*>(start), length(), PROT_READ | PROT_WRITE) != 0) {
            throw_last_errno("mprotect");
        }
        // Order-0 folios only: a move would split a THP first.
        madvise_or_throw(start, length(), MADV_NOHUGEPAGE, "madvise(MADV_NOHUGEPAGE)");
    }
}

void SeparateAnonVmas::give_each_an_anon_vma() {
    *reinterpret_cast<volatile std::uint64_t*>(src_) = 0;
    *reinterpret_cast<volatile std::uint64_t*>(dst_) = 0;
    madvise_or_throw(dst_, page_, MADV_DONTNEED, "madvise(MADV_DONTNEED)");
}

}  // namespace devexcl::test
