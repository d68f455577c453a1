#include "arena.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "devexcl/error.hpp"

namespace devexcl::fuzz {

namespace {

// The layout, in pages from the base: guards of PROT_NONE, two private
// anonymous stretches with a hole, inaccessible and read-only pages
// between them, and shared pages last, so that no private page follows a
// shared one. (A mark batch that starts on a refused page records the
// pages after it one page too low, a module defect; see known_defects.hpp.
// Batches no longer span VMAs, but the layout keeps clear of it anyway.)
struct Stretch {
    std::uint64_t pages;
    PageKind kind;
};

constexpr Stretch kLayout[] = {
    {16, PageKind::NoAccess}, {256, PageKind::Anon},    {16, PageKind::Unmapped},
    {16, PageKind::NoAccess}, {16, PageKind::ReadOnly}, {192, PageKind::Anon},
    {16, PageKind::Shared},   {16, PageKind::NoAccess},
};

// How far around the arena generated addresses reach: nothing else is there.
constexpr std::uint64_t kReach = 1ULL << 30;

std::uint64_t initial_word(std::uint64_t page_index) {
    return 0x5eed000000000000ULL | page_index;
}

}  // namespace

Arena::Arena(std::uint64_t base, std::uint64_t page_size) : base_(base), page_(page_size) {
    pages_ = 0;
    for (const auto& s : kLayout) {
        kinds_.insert(kinds_.end(), s.pages, s.kind);
        pages_ += s.pages;
    }
    holds_.assign(pages_, Hold::Never);
    ever_held_.assign(pages_, false);
    words_.assign(pages_ * page_ / sizeof(std::uint64_t), 0);

    reservation_ =
        Mapping(pages_ * page_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0,
                reinterpret_cast<void*>(base_));
    if (reservation_.address() != base_) {
        throw_errno(EEXIST, "arena base is taken");
    }
    ::madvise(reservation_.data(), reservation_.size(), MADV_NOHUGEPAGE);
    std::uint64_t at = base_;
    for (const auto& s : kLayout) {
        void* p = reinterpret_cast<void*>(at);
        const std::size_t len = s.pages * page_;
        switch (s.kind) {
            case PageKind::Unmapped:
                if (::munmap(p, len) != 0) {
                    throw_last_errno("munmap arena hole");
                }
                break;
            case PageKind::Anon:
            case PageKind::ReadOnly:
                if (::mprotect(p, len, PROT_READ | PROT_WRITE) != 0) {
                    throw_last_errno("mprotect arena");
                }
                break;
            case PageKind::Shared:
                if (::mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
                           -1, 0) == MAP_FAILED) {
                    throw_last_errno("mmap shared stretch");
                }
                break;
            case PageKind::NoAccess:
                break;
        }
        // Every accessible page is faulted in with its pattern.
        if (s.kind == PageKind::Anon || s.kind == PageKind::ReadOnly ||
            s.kind == PageKind::Shared) {
            for (std::uint64_t i = 0; i < s.pages; ++i) {
                const std::uint64_t page = at + i * page_;
                const std::uint64_t value = initial_word(index(page));
                std::memcpy(reinterpret_cast<void*>(page), &value, sizeof(value));
                word(page) = value;
            }
        }
        if (s.kind == PageKind::ReadOnly && ::mprotect(p, len, PROT_READ) != 0) {
            throw_last_errno("mprotect read-only stretch");
        }
        at += len;
    }
}

PageKind Arena::kind(std::uint64_t addr) const {
    return contains(addr) ? kinds_[index(addr)] : PageKind::Unmapped;
}

Tri Arena::mapped(std::uint64_t start, std::uint64_t end) const {
    if (start >= end) {
        return Tri::Yes;
    }
    if (start < base_ || end > this->end()) {
        return Tri::No;  // nothing is mapped around the arena
    }
    for (std::uint64_t a = start & ~(page_ - 1); a < end; a += page_) {
        if (kind(a) == PageKind::Unmapped) {
            return Tri::No;
        }
    }
    return Tri::Yes;
}

std::uint64_t Arena::address(Rng& rng) const {
    if (rng.percent(90)) {
        return base_ + rng.below(pages_) * page_;
    }
    // Around it: unmapped, within the reach that nothing else uses.
    const std::uint64_t offset = (1 + rng.below(kReach / page_)) * page_;
    return rng.percent(50) ? base_ - offset : end() + offset - page_;
}

std::uint64_t Arena::length(Rng& rng, std::uint64_t start) const {
    const std::uint64_t left = contains(start) ? (end() - start) / page_ : 1;
    switch (rng.below(8)) {
        case 0:
            return 1;
        case 1:
            return std::max<std::uint64_t>(1, left);  // to the arena's end
        default:
            return 1 + rng.below(std::min<std::uint64_t>(left, 64));
    }
}

Hold Arena::hold(std::uint64_t addr) const {
    return contains(addr) ? holds_[index(addr)] : Hold::Never;
}

void Arena::set_hold(std::uint64_t addr, Hold hold) {
    if (!contains(addr)) {
        return;
    }
    holds_[index(addr)] = hold;
    if (hold == Hold::Held) {
        ever_held_[index(addr)] = true;
    }
}

std::uint64_t Arena::held_pages() const {
    return static_cast<std::uint64_t>(std::count(holds_.begin(), holds_.end(), Hold::Held));
}

bool Arena::ever_held(std::uint64_t addr) const {
    return contains(addr) && ever_held_[index(addr)];
}

void Arena::forget_holds() {
    holds_.assign(pages_, Hold::Never);
    ever_held_.assign(pages_, false);
}

std::uint64_t& Arena::word(std::uint64_t addr) {
    return words_[(addr - base_) / sizeof(std::uint64_t)];
}

void Arena::cpu_touch(Rng& rng, std::uint64_t addr) {
    if (kind(addr) != PageKind::Anon) {
        return;
    }
    auto* p = reinterpret_cast<volatile std::uint64_t*>(addr);
    if (rng.percent(50)) {
        (void)*p;
    } else {
        const std::uint64_t value = rng.next();
        *p = value;
        word(addr) = value;
    }
    if (hold(addr) == Hold::Held) {
        set_hold(addr, Hold::Revoked);
    }
}

}  // namespace devexcl::fuzz
