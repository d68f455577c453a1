// The kernel log from a point on: what the kernel printed while a test ran,
// read from /dev/kmsg, so a test can fail on a stack dump the kernel only
// prints (dump_stack() without a WARNING) instead of leaving it to the
// console gate after the run.
#pragma once

#include <string>
#include <vector>

#include "devexcl/unique_fd.hpp"

namespace devexcl::test {

class KernelLog {
public:
    // Starts at the end of the log: only what is printed afterwards is read.
    KernelLog();

    // The message text of every record printed since construction (or the
    // last call), oldest first.
    std::vector<std::string> new_messages();

    // The messages since construction that contain `needle`.
    std::vector<std::string> messages_containing(const std::string& needle);

private:
    UniqueFd fd_;
    std::vector<std::string> seen_;
};

}  // namespace devexcl::test
