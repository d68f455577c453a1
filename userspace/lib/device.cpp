#include "devexcl/device.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include "devexcl/error.hpp"

namespace devexcl {

Device Device::open(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open " + path);
    }
    return Device(std::move(fd));
}

std::error_code Device::try_ioctl(unsigned long request, void* arg) const noexcept {
    if (::ioctl(fd_.get(), request, arg) == 0) {
        return {};
    }
    return errno_code(errno);
}

void Device::ioctl_or_throw(unsigned long request, void* arg, const char* what) const {
    if (auto ec = try_ioctl(request, arg)) {
        throw std::system_error(ec, what);
    }
}

Version Device::version() const {
    devexcl_version raw{};
    ioctl_or_throw(DEVEXCL_IOC_VERSION, &raw, "DEVEXCL_IOC_VERSION");
    return Version{raw.abi_major, raw.abi_minor, raw.features, raw.page_size, raw.max_range_bytes};
}

}  // namespace devexcl
