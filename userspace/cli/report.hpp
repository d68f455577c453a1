// How each step's result is shown: a human table (runs of equal pages
// folded into one line) or one JSON object per step.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "devexcl/events.hpp"
#include "devexcl/types.hpp"

namespace devexcl::cli {

// A run of consecutive pages with equal reports: [first, first + count).
struct PageRun {
    std::size_t first = 0;
    std::size_t count = 0;
};

template <typename T, typename Equal>
std::vector<PageRun> group_runs(const std::vector<T>& items, Equal equal) {
    std::vector<PageRun> runs;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (!runs.empty() && equal(items[runs.back().first], items[i])) {
            ++runs.back().count;
        } else {
            runs.push_back({i, 1});
        }
    }
    return runs;
}

std::string hex(std::uint64_t value);
// 4096 -> "4 KiB", 1536 -> "1536 B".
std::string human_size(std::uint64_t bytes);
// EOPNOTSUPP -> "EOPNOTSUPP"; 0 -> "".
std::string errno_name(int err);

struct Reporter {
    std::ostream& out;
    bool json = false;
    std::uint64_t page_size = 4096;

    void mark(pid_t pid, const MarkResult& result) const;
    void status(pid_t pid, std::uint64_t start, const std::vector<PageStatus>& pages) const;
    void release(pid_t pid, std::uint64_t start, std::uint64_t length,
                 const ReleaseResult& result) const;
    void access(pid_t pid, std::uint64_t addr, AccessOp op, std::uint64_t value,
                std::uint64_t expected, const AccessResult& result) const;
    void counters(const Counters& c) const;
    void revocations(const std::vector<Revocation>& log) const;
    // One revocation batch; `lost`: batches lost to us before it (events only).
    void revocation(const Revocation& r, std::uint64_t lost = 0) const;
    // The start of a `hold` step: what is held, and until when.
    void hold(const Counters& c, const std::optional<double>& seconds) const;
    // A netlink revocation event, one line (or JSON object) each.
    void event(const Event& e) const;
    // The module-wide counters.
    void stats(const std::map<std::string, std::uint64_t>& stats) const;
};

}  // namespace devexcl::cli
