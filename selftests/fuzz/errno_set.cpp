#include "errno_set.hpp"

#include <cstring>

namespace devexcl::fuzz {

std::string errno_name(int err) {
    if (err == 0) {
        return "0";
    }
    const char* name = ::strerrorname_np(err);
    return name != nullptr ? name : "errno " + std::to_string(err);
}

std::string ErrnoSet::str() const {
    std::string out;
    for (int e = 1; e < kMax; ++e) {
        if (contains(e)) {
            out += (out.empty() ? "" : "|") + errno_name(e);
        }
    }
    return out.empty() ? "-" : out;
}

std::string Expect::str() const {
    std::string out = may_succeed ? "0" : "";
    if (!errors.empty()) {
        out += (out.empty() ? "" : "|") + errors.str();
    }
    return out.empty() ? "nothing" : out;
}

}  // namespace devexcl::fuzz
