// A busy device (DEVEXCL_IOC_BUSY): an invalidation of its ranges waits
// for it, in the invalidating task, as it would for a real driver whose
// invalidate callback waits for the device's work in flight. The page
// stays the device's until the wait ends; then the revocation proceeds.
// On every kernel.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <thread>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/wait.hpp"

using namespace devexcl;
using namespace devexcl::test;
using namespace std::chrono_literals;

namespace {

class DeviceBusy : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        page_ = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        mem_ = Mapping(4 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        for (std::uint64_t i = 0; i < 4; ++i) {
            mem_.as<std::uint64_t>()[i * page_ / 8] = 0xb000 + i;
        }
    }

    std::uint64_t page_ = 0;
    Mapping mem_;
};

TEST_F(DeviceBusy, ACpuFaultWaitsForTheBusyDeviceAndThenRevokes) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Device dev = Device::open();
    const std::uint64_t at = mem_.address() + page_;
    ASSERT_TRUE(dev.mark(at, page_).all_held());
    EXPECT_EQ(dev.busy(10s).waiting, 0u);
    std::thread writer([&] { mem_.as<volatile std::uint64_t>()[page_ / 8] = 0xfeed; });
    const bool parked = wait_until([&] { return dev.busy_report().waiting == 1; }, 10s);
    if (parked) {
        EXPECT_EQ(dev.status(at, page_)[0].device, DeviceState::Held)
            << "the revocation waits for the device";
    }
    const BusyReport after = dev.idle();
    writer.join();
    ASSERT_TRUE(parked) << "the CPU fault never reached the device's invalidation";
    EXPECT_EQ(after.waited, 1u);
    const PageStatus st = dev.status(at, page_)[0];
    EXPECT_EQ(st.device, DeviceState::Revoked);
    EXPECT_EQ(st.cause, Cause::CpuFault);
    EXPECT_EQ(mem_.as<std::uint64_t>()[page_ / 8], 0xfeedu);
    EXPECT_EQ(dev.busy_report().waiting, 0u);
}

TEST_F(DeviceBusy, AnIdleDeviceMakesNobodyWait) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mem_.address(), 2 * page_).all_held());
    dev.busy(10s);
    dev.idle();
    mem_.as<std::uint64_t>()[0] = 1;  // no second thread: a wait would hang this one
    EXPECT_EQ(dev.busy_report().waited, 0u);
    EXPECT_EQ(dev.status(mem_.address(), page_)[0].device, DeviceState::Revoked);
}

TEST_F(DeviceBusy, BadRequestsAreRefusedAndChangeNothing) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(mem_.address(), page_).all_held());
    devexcl_busy req{};
    req.timeout_ms = DEVEXCL_BUSY_MAX_MS + 1;
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_BUSY, &req).value(), EINVAL) << "timeout above the cap";
    req = {};
    req.timeout_ms = 1000;
    req.flags = DEVEXCL_BUSY_QUERY;
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_BUSY, &req).value(), EINVAL) << "a query with a timeout";
    req = {};
    req.flags = 2;
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_BUSY, &req).value(), EINVAL) << "an unknown flag";
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_BUSY, nullptr).value(), EFAULT);
    // None of them made the device busy: this fault does not wait.
    mem_.as<std::uint64_t>()[0] = 2;
    EXPECT_EQ(dev.busy_report().waited, 0u);
    EXPECT_EQ(dev.status(mem_.address(), page_)[0].device, DeviceState::Revoked);
}

}  // namespace
