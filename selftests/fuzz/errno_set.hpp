// What a call may answer: the errnos its arguments justify, and whether it
// may succeed. The rules (errno_rules.hpp) build these from the README.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace devexcl::fuzz {

// The name of an errno ("EINVAL"), or its number if it has none.
std::string errno_name(int err);

class ErrnoSet {
public:
    ErrnoSet() = default;
    ErrnoSet(std::initializer_list<int> errs) {
        for (int e : errs) {
            add(e);
        }
    }

    ErrnoSet& add(int err) {
        if (err > 0 && err < kMax) {
            bits_[err / 64] |= 1ULL << (err % 64);
        }
        return *this;
    }
    ErrnoSet& operator|=(const ErrnoSet& other) {
        bits_[0] |= other.bits_[0];
        bits_[1] |= other.bits_[1];
        return *this;
    }
    bool contains(int err) const {
        return err > 0 && err < kMax && (bits_[err / 64] >> (err % 64)) & 1;
    }
    bool empty() const { return bits_[0] == 0 && bits_[1] == 0; }
    // "EINVAL|EFAULT", or "-" when empty.
    std::string str() const;

private:
    static constexpr int kMax = 128;
    std::uint64_t bits_[2] = {0, 0};
};

// What one call may answer. A defect in the arguments (a bad pointer, an
// unknown flag, ...) adds its errno and forbids success; a race the call
// may legitimately lose (an unmapped range, an exited target) adds its
// errno and leaves success allowed.
struct Expect {
    ErrnoSet errors;
    bool may_succeed = true;

    // An argument defect: the call must fail, with this errno among others.
    Expect& defect(int err) {
        errors.add(err);
        may_succeed = false;
        return *this;
    }
    // A legitimate race or state outcome: this errno is allowed too.
    Expect& allow(int err) {
        errors.add(err);
        return *this;
    }
    bool allows(int err) const { return err == 0 ? may_succeed : errors.contains(err); }
    // "0|EINVAL" etc.: what was allowed, for failure messages.
    std::string str() const;
};

}  // namespace devexcl::fuzz
