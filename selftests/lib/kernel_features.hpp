// The running kernel's features and known bugs as the module reports them
// (DEVEXCL_IOC_VERSION feature bits): the one key of every per-kernel
// expectation, never uname.
#pragma once

#include <cstdint>

#include <gtest/gtest.h>

#include "devexcl/uapi.hpp"

namespace devexcl::test {

// True if the loaded module reports every bit of `feature` (DEVEXCL_FEAT_*).
bool kernel_has(std::uint64_t feature);

// True if the running kernel does every bit of `kernel_feature` (DEVEXCL_KFEAT_*).
bool kernel_does(std::uint64_t kernel_feature);

// Why a case that marks pages skips on a kernel without device-exclusive
// entries: the option it would need.
inline constexpr const char* kNeedsDevicePrivate =
    "needs CONFIG_DEVICE_PRIVATE: this kernel cannot make device-exclusive entries";

}  // namespace devexcl::test

// Skips the running test on a kernel that cannot make device-exclusive
// entries (DEVEXCL_KFEAT_DEVICE_EXCLUSIVE clear), naming the option. In a
// fixture's SetUp() it skips the test body.
#define DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE()                                   \
    do {                                                                     \
        if (!::devexcl::test::kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE)) { \
            GTEST_SKIP() << ::devexcl::test::kNeedsDevicePrivate;            \
        }                                                                    \
    } while (0)
