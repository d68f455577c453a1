// A kernel built without CONFIG_DEVICE_PRIVATE (Debian's stock 6.1 and
// 6.12) has no make_device_exclusive*(): the module still loads there, says
// so in its feature bits, and refuses marking and device access with
// EOPNOTSUPP while inspection keeps working. On a kernel with the option
// the same bit must say so and marking must work.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/rmap_types.hpp"
#include "devexcl/uapi.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

const std::uint64_t kPage = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));

int errno_of_call(const auto& call) {
    try {
        call();
    } catch (const std::system_error& e) {
        return errno_of(e);
    }
    return 0;
}

class WithoutDevicePrivate : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        if (kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE)) {
            GTEST_SKIP() << "this kernel has CONFIG_DEVICE_PRIVATE: marking works here "
                            "(WithDevicePrivate checks it)";
        }
        mem_ = Mapping(4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        for (std::uint64_t i = 0; i < 4; ++i) {
            mem_.as<std::uint64_t>()[i * kPage / 8] = 0xc0de00 + i;
        }
    }

    Mapping mem_;
};

TEST_F(WithoutDevicePrivate, MarkAnswersEopnotsuppAndChangesNothing) {
    Device dev = Device::open();
    const Counters before = dev.counters();
    EXPECT_EQ(errno_of_call([&] { (void)dev.mark(mem_.address(), 4 * kPage); }), EOPNOTSUPP);
    // Even for arguments that would be refused otherwise: the operation is absent.
    EXPECT_EQ(errno_of_call([&] { (void)dev.mark(mem_.address() + 1, 0); }), EOPNOTSUPP);
    const Counters after = dev.counters();
    EXPECT_EQ(after.marked, before.marked);
    EXPECT_EQ(after.refused, before.refused);
    EXPECT_EQ(after.held, 0u);
    for (const PageStatus& s : dev.status(mem_.address(), 4 * kPage)) {
        EXPECT_EQ(s.device, DeviceState::NeverHeld);
        EXPECT_EQ(s.pte, PteKind::Present) << "the CPU's PTE was left alone";
    }
    for (std::uint64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(mem_.as<std::uint64_t>()[i * kPage / 8], 0xc0de00 + i);
    }
}

TEST_F(WithoutDevicePrivate, DeviceAccessAnswersEopnotsupp) {
    Device dev = Device::open();
    EXPECT_EQ(errno_of_call([&] { (void)dev.access(mem_.address(), AccessOp::Add, 1); }),
              EOPNOTSUPP);
    EXPECT_EQ(errno_of_call([&] {
                  (void)dev.access(mem_.address(), AccessOp::Add, 1, 0, /*reacquire=*/true);
              }),
              EOPNOTSUPP);
    EXPECT_EQ(dev.counters().device_ops, 0u);
    EXPECT_EQ(mem_.as<std::uint64_t>()[0], 0xc0de00u) << "nothing was written";
}

TEST_F(WithoutDevicePrivate, InspectionStillReportsThePage) {
    Device dev = Device::open();
    const PageInspection found = dev.inspect_page(::getpid(), mem_.address());
    EXPECT_EQ(found.page.pte, PteKind::Present);
    EXPECT_EQ(found.page.mapping, MappingKind::Anon);
    EXPECT_EQ(found.page.mapcount, 1);
    EXPECT_TRUE(found.page.walked());
    ASSERT_EQ(found.mappings.size(), 1u);
    EXPECT_EQ(found.mappings[0].vaddr, mem_.address());
}

TEST(WithDevicePrivate, MarkingWorksWhereTheFeatureBitSaysSo) {
    ensure_module_loaded();
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Mapping mem(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    mem.as<std::uint64_t>()[0] = 1;
    Device dev = Device::open();
    EXPECT_TRUE(dev.mark(mem.address(), kPage).all_held());
}

}  // namespace
