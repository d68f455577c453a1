// Pins the UAPI layout: a change here is an ABI break the module and every
// caller must agree on, so it has to be deliberate.
#include <gtest/gtest.h>

#include <cstddef>

#include "devexcl/uapi.hpp"

static_assert(sizeof(devexcl_version) == 64);
static_assert(offsetof(devexcl_version, abi_major) == 0);
static_assert(offsetof(devexcl_version, abi_minor) == 8);
static_assert(offsetof(devexcl_version, features) == 16);
static_assert(offsetof(devexcl_version, page_size) == 24);
static_assert(offsetof(devexcl_version, max_range_bytes) == 32);
static_assert(offsetof(devexcl_version, reserved) == 40);

TEST(UapiLayout, IoctlNumbersEncodeDirectionAndSize) {
    EXPECT_EQ(_IOC_TYPE(DEVEXCL_IOC_VERSION), 0xDEu);
    EXPECT_EQ(_IOC_NR(DEVEXCL_IOC_VERSION), 0x00u);
    EXPECT_EQ(_IOC_DIR(DEVEXCL_IOC_VERSION), unsigned{_IOC_READ});
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_VERSION), sizeof(devexcl_version));
}

TEST(UapiLayout, AbiVersionIsOneDotSomething) {
    EXPECT_EQ(DEVEXCL_ABI_MAJOR, 1);
}
