// Test parameters from the environment: durations and counts that a make
// target sets (`make soak`, `make cycles`) and the normal suite leaves at
// their short defaults. A parameter, never an assertion.
#pragma once

#include <cstdint>

namespace devexcl::test {

// The non-negative integer in environment variable `name`, or `fallback`
// if it is unset or empty. Anything else throws std::invalid_argument:
// a typo in a make variable must not silently run the default.
std::uint64_t env_number(const char* name, std::uint64_t fallback);

}  // namespace devexcl::test
