// Runs a test step in a forked child that has dropped to an unprivileged
// uid, so permission rules can be checked even though the suite runs as root.
#pragma once

#include <sys/types.h>

#include <functional>

namespace devexcl::test {

inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNobodyGid = 65534;

// Runs `step` as uid/gid with no supplementary groups and no capabilities.
// Returns what `step` returned (0..255); a crash or failed setup is reported
// as a negative value (-signal or -1).
int run_as(uid_t uid, gid_t gid, const std::function<int()>& step);

inline int run_as_nobody(const std::function<int()>& step) {
    return run_as(kNobodyUid, kNobodyGid, step);
}

}  // namespace devexcl::test
