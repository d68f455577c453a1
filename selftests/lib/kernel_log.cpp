#include "kernel_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "devexcl/error.hpp"

namespace devexcl::test {

KernelLog::KernelLog() : fd_(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {
    if (!fd_) {
        throw_last_errno("open", "/dev/kmsg");
    }
    if (::lseek(fd_.get(), 0, SEEK_END) < 0) {
        throw_last_errno("lseek", "/dev/kmsg");
    }
}

std::vector<std::string> KernelLog::new_messages() {
    std::vector<std::string> out;
    // One record per read(); EAGAIN once caught up. EPIPE means records
    // were overwritten before we read them: carry on with the next one.
    char record[8192];
    for (;;) {
        ssize_t n = ::read(fd_.get(), record, sizeof(record));
        if (n < 0 && errno == EPIPE) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n < 0) {
            throw_last_errno("read", "/dev/kmsg");
        }
        // "PRI,SEQ,TIME,FLAGS;message\n"
        std::string line(record, static_cast<std::size_t>(n));
        auto semi = line.find(';');
        std::string text = semi == std::string::npos ? line : line.substr(semi + 1);
        if (auto nl = text.find('\n'); nl != std::string::npos) {
            text.resize(nl);
        }
        out.push_back(text);
        seen_.push_back(std::move(text));
    }
    return out;
}

std::vector<std::string> KernelLog::messages_containing(const std::string& needle) {
    new_messages();
    std::vector<std::string> hits;
    for (const auto& m : seen_) {
        if (m.find(needle) != std::string::npos) {
            hits.push_back(m);
        }
    }
    return hits;
}

}  // namespace devexcl::test
