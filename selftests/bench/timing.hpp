// Clock and order statistics shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace devexcl::bench {

// Seconds on the monotonic clock.
inline double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The p-quantile (0..1) of a non-empty sample, nearest rank below.
inline double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

inline double median(const std::vector<double>& v) {
    return percentile(v, 0.5);
}

}  // namespace devexcl::bench
