#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace devexcl::cli {

Progress::Progress(std::string what, std::uint64_t total)
    : what_(std::move(what)), total_(total), shown_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
    if (shown_ && last_draw_ != std::chrono::steady_clock::time_point{}) {
        std::fputs("\r\033[K", stderr);
    }
}

void Progress::update(std::uint64_t done) {
    if (!shown_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) {
        return;
    }
    last_draw_ = now;
    const double percent = total_ ? 100.0 * static_cast<double>(done) / total_ : 100.0;
    std::fprintf(stderr, "\r%s: %llu of %llu (%.0f%%)\033[K", what_.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 percent);
}

}  // namespace devexcl::cli
