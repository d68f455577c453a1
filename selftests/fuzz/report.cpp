#include "report.hpp"

#include <unistd.h>

#include <array>

namespace devexcl::fuzz {

std::string_view role_name(Role role) {
    static constexpr std::array<std::string_view, kRoles> names = {"ioctl", "netlink", "binder",
                                                                   "churn", "nobody"};
    return names[static_cast<int>(role)];
}

void Report::flush() {
    tally_.calls[static_cast<int>(role_)].fetch_add(pending_calls_, std::memory_order_relaxed);
    pending_calls_ = 0;
}

void Report::fail(const std::string& what) {
    ++local_failures_;
    tally_.failures[static_cast<int>(role_)].fetch_add(1, std::memory_order_relaxed);
    if (local_failures_ <= kPrintAtMost) {
        note("FAIL " + what);
    } else if (local_failures_ == kPrintAtMost + 1) {
        note("further failures are counted, not printed");
    }
}

void Report::note(const std::string& what) {
    // One write per line: the processes of the run share stdout.
    std::string line = "# [" + std::string(role_name(role_)) + " " + std::to_string(::getpid()) +
                       "] " + what + "\n";
    std::fflush(stdout);
    [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, line.data(), line.size());
}

std::string hex(std::uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

}  // namespace devexcl::fuzz
