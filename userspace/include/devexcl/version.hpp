// libdevexcl's own version, the module ABI it was built for, and the rule
// that says whether a loaded devexcl.ko can serve it.
#pragma once

#include <cstdint>
#include <string>

// The release of libdevexcl. userspace/CMakeLists.txt reads these three
// lines: they are the one place the version is set (the SONAME is
// libdevexcl.so.MAJOR; devexcl.pc and the CMake package carry all three).
#define DEVEXCL_VERSION_MAJOR 1
#define DEVEXCL_VERSION_MINOR 0
#define DEVEXCL_VERSION_PATCH 0

namespace devexcl {

// A module ABI: DEVEXCL_ABI_MAJOR.DEVEXCL_ABI_MINOR of uapi/devexcl.h, or
// what DEVEXCL_IOC_VERSION answers.
struct AbiVersion {
    std::uint64_t major = 0;
    std::uint64_t minor = 0;

    bool operator==(const AbiVersion&) const = default;
    // "1.4"
    [[nodiscard]] std::string string() const;
};

struct LibraryVersion {
    unsigned major = 0;
    unsigned minor = 0;
    unsigned patch = 0;
    AbiVersion abi;  // the module ABI the library was built for

    // "1.0.0"
    [[nodiscard]] std::string string() const;
};

// The linked library's version: the one built, not the headers a caller
// compiled against.
[[nodiscard]] LibraryVersion library_version() noexcept;

// Whether a module speaking `module` serves a library built for
// `built_for`: the majors are equal (a major bump breaks old callers) and
// the module's minor is at least the library's (a minor bump only adds).
[[nodiscard]] constexpr bool abi_compatible(AbiVersion module, AbiVersion built_for) noexcept {
    return module.major == built_for.major && module.minor >= built_for.minor;
}

// Throws std::system_error(EPROTO) naming both versions and what to do
// (load a matching devexcl.ko, or rebuild against the loaded one's
// uapi/devexcl.h) unless abi_compatible(module, built_for). A non-empty
// `context` (the device path) leads the message.
void require_compatible_abi(AbiVersion module, AbiVersion built_for = library_version().abi,
                            const std::string& context = {});

// The text of that error, without throwing; empty when compatible.
[[nodiscard]] std::string abi_mismatch_message(AbiVersion module, AbiVersion built_for);

}  // namespace devexcl
