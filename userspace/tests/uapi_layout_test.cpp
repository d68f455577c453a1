// Pins the UAPI layout: a change here is an ABI break the module and every
// caller must agree on, so it has to be deliberate.
#include <gtest/gtest.h>

#include <cstddef>
#include <set>

#include "devexcl/uapi.hpp"

static_assert(sizeof(devexcl_version) == 64);
static_assert(offsetof(devexcl_version, abi_major) == 0);
static_assert(offsetof(devexcl_version, abi_minor) == 8);
static_assert(offsetof(devexcl_version, features) == 16);
static_assert(offsetof(devexcl_version, page_size) == 24);
static_assert(offsetof(devexcl_version, max_range_bytes) == 32);
static_assert(offsetof(devexcl_version, kernel_features) == 40);
static_assert(offsetof(devexcl_version, kernel_version) == 48);
static_assert(offsetof(devexcl_version, reserved) == 56);

TEST(UapiLayout, IoctlNumbersEncodeDirectionAndSize) {
    EXPECT_EQ(_IOC_TYPE(DEVEXCL_IOC_VERSION), 0xDEu);
    EXPECT_EQ(_IOC_NR(DEVEXCL_IOC_VERSION), 0x00u);
    EXPECT_EQ(_IOC_DIR(DEVEXCL_IOC_VERSION), unsigned{_IOC_READ});
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_VERSION), sizeof(devexcl_version));
}

TEST(UapiLayout, AbiVersionIsOneDotSomething) {
    EXPECT_EQ(DEVEXCL_ABI_MAJOR, 1);
}

// Device-exclusive access.
static_assert(sizeof(devexcl_bind) == 32);
static_assert(sizeof(devexcl_range_op) == 64);
static_assert(offsetof(devexcl_range_op, results) == 24);
static_assert(offsetof(devexcl_range_op, done) == 32);
static_assert(offsetof(devexcl_range_op, failed) == 48);
static_assert(sizeof(devexcl_page_status) == 16);
static_assert(offsetof(devexcl_page_status, pte_flags) == 4);
static_assert(offsetof(devexcl_page_status, revoke_seq) == 8);
static_assert(sizeof(devexcl_status_req) == 40);
static_assert(sizeof(devexcl_access) == 64);
static_assert(offsetof(devexcl_access, result) == 40);
static_assert(offsetof(devexcl_access, path) == 48);
static_assert(sizeof(devexcl_counters) == 8 * (8 + DEVEXCL_CAUSE_COUNT + 2 + 6));
static_assert(offsetof(devexcl_counters, revoked) == 64);
static_assert(offsetof(devexcl_counters, target_pid) == 64 + 8 * DEVEXCL_CAUSE_COUNT);
static_assert(sizeof(devexcl_revocation) == 64);
static_assert(offsetof(devexcl_revocation, trigger_comm) == 48);
static_assert(sizeof(devexcl_revocations) == 32);

TEST(UapiLayout, ExclusiveIoctlsHaveDistinctNumbersAndRightSizes) {
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_BIND), sizeof(devexcl_bind));
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_MARK), sizeof(devexcl_range_op));
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_RELEASE), sizeof(devexcl_range_op));
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_STATUS), sizeof(devexcl_status_req));
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_ACCESS), sizeof(devexcl_access));
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_COUNTERS), sizeof(devexcl_counters));
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_REVOCATIONS), sizeof(devexcl_revocations));
    EXPECT_EQ(_IOC_DIR(DEVEXCL_IOC_MARK), unsigned{_IOC_READ | _IOC_WRITE});
    EXPECT_EQ(_IOC_DIR(DEVEXCL_IOC_BIND), unsigned{_IOC_WRITE});
    std::set<unsigned> numbers;
    for (unsigned long cmd :
         {DEVEXCL_IOC_VERSION, DEVEXCL_IOC_BIND, DEVEXCL_IOC_MARK, DEVEXCL_IOC_RELEASE,
          DEVEXCL_IOC_STATUS, DEVEXCL_IOC_ACCESS, DEVEXCL_IOC_COUNTERS, DEVEXCL_IOC_REVOCATIONS}) {
        EXPECT_EQ(_IOC_TYPE(cmd), unsigned{DEVEXCL_IOC_MAGIC});
        numbers.insert(_IOC_NR(cmd));
    }
    EXPECT_EQ(numbers.size(), 8u);
}

// Generic netlink records.
static_assert(sizeof(devexcl_event) == 88);
static_assert(offsetof(devexcl_event, cause) == 56);
static_assert(offsetof(devexcl_event, trigger_comm) == 72);
static_assert(sizeof(devexcl_page_info) % 8 == 0, "arrays of it stay 8-byte aligned");
static_assert(sizeof(devexcl_event) % 8 == 0, "arrays of it stay 8-byte aligned");
static_assert(sizeof(devexcl_empty_run) == 24);
static_assert(offsetof(devexcl_empty_run, pte_kind) == 16);
static_assert(offsetof(devexcl_empty_run, pte_flags) == 20);
