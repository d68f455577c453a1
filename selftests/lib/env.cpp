#include "env.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace devexcl::test {

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        return fallback;
    }
    char* end = nullptr;
    const unsigned long long n = std::strtoull(value, &end, 10);
    if (*end != '\0' || *value == '-') {
        throw std::invalid_argument(std::string(name) + "=" + value + ": not a number");
    }
    return n;
}

}  // namespace devexcl::test
