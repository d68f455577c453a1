// UFFDIO_MOVE (6.8) of a page the device holds. move_pages_ptes() starts
// an MMU_NOTIFY_CLEAR over the source before it looks at the entry (6.12
// mm/userfaultfd.c:1191, 7.3 :1519), then refuses a device-exclusive
// entry, which is neither swap nor migration, with EFAULT. So the move
// fails and the device loses the page all the same, while the entry stays
// device-exclusive until the CPU touches it; after that, the retried move
// succeeds. On 6.1 there is no UFFDIO_MOVE: the test says so and skips.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <optional>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/pagemap.hpp"
#include "lib/uffd_move.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

class UffdMove : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        if (!kernel_shows(Behaviour::UffdMoveOfHeldPageRevokesThenFails)) {
            GTEST_SKIP() << behaviour_name(Behaviour::UffdMoveOfHeldPageRevokesThenFails) << ": "
                         << behaviour_cell(Behaviour::UffdMoveOfHeldPageRevokesThenFails);
        }
        page_ = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        src_ = Mapping(4 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        dst_ = Mapping(4 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        for (std::uint64_t i = 0; i < 4; ++i) {
            src_.as<std::uint64_t>()[i * page_ / 8] = 0x5000 + i;
        }
        uffd_.emplace();
        for (const Mapping* m : {&src_, &dst_}) {
            uffd_->register_missing(m->address(), m->size());
        }
    }

    // Moves one page from src_ page `i` to dst_ page `i`; the errno, or 0.
    int move(std::uint64_t i, std::int64_t* moved) {
        const MoveOutcome out =
            uffd_->move(dst_.address() + i * page_, src_.address() + i * page_, page_);
        *moved = out.move;
        return out.error;
    }

    std::uint64_t page_ = 0;
    Mapping src_, dst_;
    std::optional<UffdMover> uffd_;
};

TEST_F(UffdMove, MovingAHeldPageFailsWithEfaultAndStillRevokesIt) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Device dev = Device::open();
    const std::uint64_t at = src_.address() + page_;
    ASSERT_TRUE(dev.mark(at, page_).all_held());
    std::int64_t moved = 0;
    EXPECT_EQ(move(1, &moved), EFAULT) << "a device-exclusive source entry";
    EXPECT_EQ(moved, -EFAULT);
    const PageStatus st = dev.status(at, page_)[0];
    EXPECT_EQ(st.device, DeviceState::Revoked) << "the CLEAR came before the refusal";
    EXPECT_EQ(st.cause, Cause::Clear);
    EXPECT_TRUE(st.pte == PteKind::DeviceExclusiveWrite || st.pte == PteKind::DeviceExclusiveRead)
        << "nothing restored the entry: " << to_string(st.pte);
    EXPECT_FALSE(read_pagemap_one(dst_.address() + page_).present()) << "nothing moved";

    // The CPU takes the page back; the retried move then succeeds.
    EXPECT_EQ(src_.as<std::uint64_t>()[page_ / 8], 0x5001u);
    EXPECT_EQ(move(1, &moved), 0) << "after the CPU restored the entry";
    EXPECT_EQ(moved, static_cast<std::int64_t>(page_));
    EXPECT_EQ(dst_.as<std::uint64_t>()[page_ / 8], 0x5001u) << "the data moved";
    EXPECT_FALSE(read_pagemap_one(at).present()) << "the source is empty";
}

TEST_F(UffdMove, AnUnheldNeighbourMovesAndTheDeviceKeepsItsOtherPages) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(src_.address() + 2 * page_, 2 * page_).all_held());
    std::int64_t moved = 0;
    EXPECT_EQ(move(0, &moved), 0);
    EXPECT_EQ(moved, static_cast<std::int64_t>(page_));
    EXPECT_EQ(dst_.as<std::uint64_t>()[0], 0x5000u);
    for (const PageStatus& st : dev.status(src_.address() + 2 * page_, 2 * page_)) {
        EXPECT_EQ(st.device, DeviceState::Held) << "the move's CLEAR covered page 0 only";
    }
}

}  // namespace
