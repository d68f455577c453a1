// Pins the UAPI layout: a change here is an ABI break the module and every
// caller must agree on, so it has to be deliberate.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
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
    for (unsigned long cmd : {DEVEXCL_IOC_VERSION, DEVEXCL_IOC_BIND, DEVEXCL_IOC_MARK,
                              DEVEXCL_IOC_RELEASE, DEVEXCL_IOC_STATUS, DEVEXCL_IOC_ACCESS,
                              DEVEXCL_IOC_COUNTERS, DEVEXCL_IOC_REVOCATIONS, DEVEXCL_IOC_BUSY}) {
        EXPECT_EQ(_IOC_TYPE(cmd), unsigned{DEVEXCL_IOC_MAGIC});
        numbers.insert(_IOC_NR(cmd));
    }
    EXPECT_EQ(numbers.size(), 9u);
}

// A busy device (ABI 1.4).
static_assert(sizeof(devexcl_busy) == 32);
static_assert(offsetof(devexcl_busy, flags) == 8);
static_assert(offsetof(devexcl_busy, waiting) == 16);
static_assert(offsetof(devexcl_busy, waited) == 24);

TEST(UapiLayout, BusyIsReadWriteNumberEight) {
    EXPECT_EQ(_IOC_NR(DEVEXCL_IOC_BUSY), 0x08u);
    EXPECT_EQ(_IOC_DIR(DEVEXCL_IOC_BUSY), unsigned{_IOC_READ | _IOC_WRITE});
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_BUSY), sizeof(devexcl_busy));
    EXPECT_EQ(DEVEXCL_BUSY_QUERY, 1u);
    EXPECT_EQ(DEVEXCL_FEAT_DEVICE_BUSY, 1u << 4);
    EXPECT_EQ(DEVEXCL_KFEAT_VMA_ANON_PGOFF, 1u << 7);
}

// VMA inspection: ABI 1.4 turned the request's last reserved word into vma_lock.
static_assert(sizeof(devexcl_anon_vma_info) == 48);
static_assert(sizeof(devexcl_inspect_vma_req) == 112);
static_assert(offsetof(devexcl_inspect_vma_req, chain_len) == 80);
static_assert(offsetof(devexcl_inspect_vma_req, mm_id) == 96);
static_assert(offsetof(devexcl_inspect_vma_req, vma_lock) == 104);
static_assert(sizeof(devexcl_vma_info) == 64);
static_assert(offsetof(devexcl_vma_info, anon_vma_id) == 32);
static_assert(offsetof(devexcl_vma_info, mm_id) == 40);
static_assert(offsetof(devexcl_vma_info, chain_len) == 48);
static_assert(offsetof(devexcl_vma_info, vma_lock) == 56);

TEST(UapiLayout, VmaLockWordPacksFlagsLowAndReadersHigh) {
    EXPECT_EQ(DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK, 1u);
    EXPECT_EQ(DEVEXCL_VMA_LOCK_PRESENT, 1u);
    EXPECT_EQ(DEVEXCL_VMA_LOCK_ATTACHED, 2u);
    EXPECT_EQ(DEVEXCL_VMA_LOCK_WRITER, 4u);
    EXPECT_EQ(DEVEXCL_VMA_LOCK_WRITE_LOCKED, 8u);
    const std::uint64_t word = (std::uint64_t{3} << DEVEXCL_VMA_LOCK_READERS_SHIFT) |
                               DEVEXCL_VMA_LOCK_PRESENT | DEVEXCL_VMA_LOCK_ATTACHED;
    EXPECT_EQ(DEVEXCL_VMA_LOCK_READERS(word), 3u);
    EXPECT_EQ(_IOC_SIZE(DEVEXCL_IOC_INSPECT_VMA), sizeof(devexcl_inspect_vma_req));
}

TEST(UapiLayout, VmaNetlinkCommandAndAttributesAreAppended) {
    EXPECT_EQ(DEVEXCL_CMD_GET_STATS, 5);
    EXPECT_EQ(DEVEXCL_CMD_INSPECT_VMA, 6);
    EXPECT_EQ(DEVEXCL_A_EMPTY_RUN, 12);
    EXPECT_EQ(DEVEXCL_A_ADDR, 13);
    EXPECT_EQ(DEVEXCL_A_VMA, 14);
    EXPECT_EQ(DEVEXCL_A_ANON_VMA_CHAIN, 15);
    EXPECT_EQ(DEVEXCL_A_MAX, DEVEXCL_A_ANON_VMA_CHAIN);
    EXPECT_LE(DEVEXCL_NL_MAX_CHAIN * sizeof(devexcl_anon_vma_info) + 2 * sizeof(devexcl_vma_info),
              64u * 1024u)
        << "a reply fits the 64 KiB a reader is told to expect";
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
