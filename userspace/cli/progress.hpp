// A one-line progress indicator on stderr, shown only when stderr is a
// terminal so that redirected and scripted runs stay clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace devexcl::cli {

class Progress {
public:
    Progress(std::string what, std::uint64_t total);
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    ~Progress();  // erases the line

    // Redraws at most ten times a second.
    void update(std::uint64_t done);

private:
    std::string what_;
    std::uint64_t total_;
    bool shown_;
    std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace devexcl::cli
