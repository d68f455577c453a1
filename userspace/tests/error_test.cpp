#include "devexcl/error.hpp"

#include <gtest/gtest.h>

#include "devexcl/device.hpp"

TEST(Errors, ThrownErrorCarriesErrno) {
    try {
        devexcl::throw_errno(ENOTTY, "ioctl");
        FAIL() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_EQ(devexcl::errno_of(e), ENOTTY);
        EXPECT_EQ(e.code(), std::errc::inappropriate_io_control_operation);
    }
}

TEST(Errors, OpeningAMissingNodeReportsEnoent) {
    try {
        static_cast<void>(devexcl::Device::open("/nonexistent/devexcl"));
        FAIL() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_EQ(devexcl::errno_of(e), ENOENT);
    }
}
