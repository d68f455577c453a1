// Ctrl-C and SIGTERM as a readable fd, for commands that run until told to
// stop: they finish their output and exit 0 instead of dying mid-line.
#pragma once

#include <signal.h>

#include "devexcl/unique_fd.hpp"

namespace devexcl::cli {

class StopSignals {
public:
    StopSignals();  // blocks SIGINT and SIGTERM; they become readable on fd()
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    ~StopSignals();  // consumes what arrived and restores the signal mask

    int fd() const { return fd_.get(); }

private:
    sigset_t old_mask_;
    UniqueFd fd_;
};

}  // namespace devexcl::cli
