// Flag words as comma-separated names, for the library's *_string() helpers.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace devexcl::detail {

// "name1,name2" for the bits of `flags` that `names` knows; "-" for none.
template <typename Bits, std::size_t N>
std::string join_bits(std::uint64_t flags,
                      const std::array<std::pair<Bits, std::string_view>, N>& names) {
    std::string out;
    for (const auto& [bit, name] : names) {
        if (flags & bit) {
            if (!out.empty()) {
                out += ',';
            }
            out += name;
        }
    }
    return out.empty() ? "-" : out;
}

}  // namespace devexcl::detail
