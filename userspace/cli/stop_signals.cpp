#include "stop_signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include "devexcl/error.hpp"

namespace devexcl::cli {

StopSignals::StopSignals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (::sigprocmask(SIG_BLOCK, &mask, &old_mask_) != 0) {
        throw_last_errno("sigprocmask");
    }
    fd_ = UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) {
        const int err = errno;
        ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
        throw_errno(err, "signalfd");
    }
}

StopSignals::~StopSignals() {
    // Consume what arrived, or unblocking would deliver it and kill us.
    signalfd_siginfo info;
    while (::read(fd_.get(), &info, sizeof(info)) == sizeof(info)) {
    }
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace devexcl::cli
