#include "uffd_move.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "devexcl/error.hpp"

namespace devexcl::test {

UffdMover::UffdMover() : fd_(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK))) {
    if (!fd_) {
        throw_last_errno("userfaultfd");
    }
    uffdio_api api{};
    api.api = UFFD_API;
    api.features = UFFD_FEATURE_MOVE;
    if (::ioctl(fd_.get(), UFFDIO_API, &api) != 0) {
        throw_last_errno("UFFDIO_API with UFFD_FEATURE_MOVE");
    }
}

void UffdMover::register_missing(std::uint64_t addr, std::uint64_t length) {
    uffdio_register reg{};
    reg.range.start = addr;
    reg.range.len = length;
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (::ioctl(fd_.get(), UFFDIO_REGISTER, &reg) != 0) {
        throw_last_errno("UFFDIO_REGISTER");
    }
}

MoveOutcome UffdMover::move(std::uint64_t dst, std::uint64_t src, std::uint64_t length) const {
    uffdio_move mv{};
    mv.dst = dst;
    mv.src = src;
    mv.len = length;
    const int rc = ::ioctl(fd_.get(), UFFDIO_MOVE, &mv);
    return {rc == 0 ? 0 : errno, mv.move};
}

}  // namespace devexcl::test
