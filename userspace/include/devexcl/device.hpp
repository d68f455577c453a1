// One open /dev/devexcl: one simulated device context in the kernel.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "devexcl/uapi.hpp"
#include "devexcl/unique_fd.hpp"

namespace devexcl {

struct Version {
    std::uint64_t abi_major = 0;
    std::uint64_t abi_minor = 0;
    std::uint64_t features = 0;
    std::uint64_t page_size = 0;
    std::uint64_t max_range_bytes = 0;

    // The module speaks the ABI this library was built against.
    bool compatible() const { return abi_major == DEVEXCL_ABI_MAJOR; }
};

class Device {
public:
    // Opens the device node; throws std::system_error with the open() errno.
    static Device open(const std::string& path = DEVEXCL_DEVICE_PATH);

    explicit Device(UniqueFd fd) : fd_(std::move(fd)) {}

    Version version() const;

    // Issues a raw ioctl; returns the errno as an error_code instead of throwing.
    std::error_code try_ioctl(unsigned long request, void* arg) const noexcept;

    int fd() const noexcept { return fd_.get(); }

private:
    // Issues an ioctl and throws std::system_error("what") on failure.
    void ioctl_or_throw(unsigned long request, void* arg, const char* what) const;

    UniqueFd fd_;
};

}  // namespace devexcl
