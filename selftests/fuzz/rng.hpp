// The fuzzer's one source of randomness: seeded, so a run can be replayed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <vector>

namespace devexcl::fuzz {

// xoshiro256** seeded through splitmix64: fast, and the same sequence on
// every build for a given seed.
class Rng {
public:
    explicit Rng(std::uint64_t seed) {
        for (auto& s : state_) {
            seed += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            s = z ^ (z >> 31);
        }
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, n); n > 0.
    std::uint64_t below(std::uint64_t n) { return next() % n; }
    // Uniform in [lo, hi].
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
        return hi - lo == ~0ULL ? next() : lo + below(hi - lo + 1);
    }
    // True with probability 1/n.
    bool one_in(std::uint64_t n) { return below(n) == 0; }
    // True with probability percent/100.
    bool percent(unsigned percent) { return below(100) < percent; }

    template <typename T>
    const T& pick(const std::vector<T>& items) {
        return items[below(items.size())];
    }
    template <typename T>
    T pick(std::initializer_list<T> items) {
        return *std::next(items.begin(), static_cast<std::ptrdiff_t>(below(items.size())));
    }

    // A value fuzzers like: 0, all ones, powers of two and their
    // neighbours, the sign bits of 32 and 64 bits, or anything.
    std::uint64_t interesting() {
        switch (below(8)) {
            case 0:
                return pick<std::uint64_t>({0, 1, ~0ULL, 0x7fffffffULL, 0x80000000ULL,
                                            0xffffffffULL, 0x100000000ULL, 1ULL << 63});
            case 1:
            case 2: {
                const std::uint64_t p = 1ULL << below(64);
                return p + pick<std::uint64_t>({0, 1, ~0ULL});
            }
            case 3:
                return below(256);
            default:
                return next();
        }
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    std::uint64_t state_[4];
};

}  // namespace devexcl::fuzz
