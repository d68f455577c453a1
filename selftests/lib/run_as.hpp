// Runs a test step in a forked child, optionally as an unprivileged uid, so
// permission rules can be checked even though the suite runs as root.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>

#include "devexcl/uapi.hpp"

namespace devexcl::test {

inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNobodyGid = 65534;

// Runs `step` in a forked child. Returns what `step` returned (0..255), or
// -signal if the child died of a signal, or -1 if fork/wait failed.
int run_in_child(const std::function<int()>& step);

// Like run_in_child, with the child dropped to uid/gid with no
// supplementary groups (and so no capabilities) first. A failed drop is -1.
int run_as(uid_t uid, gid_t gid, const std::function<int()>& step);

inline int run_as_nobody(const std::function<int()>& step) {
    return run_as(kNobodyUid, kNobodyGid, step);
}

// The node opened to everyone for the duration of a scope, as an admin
// might; back to 0600 however the scope is left (a failed ASSERT too).
class WorldAccessibleNode {
public:
    WorldAccessibleNode() { ::chmod(DEVEXCL_DEVICE_PATH, 0666); }
    ~WorldAccessibleNode() { ::chmod(DEVEXCL_DEVICE_PATH, 0600); }
    WorldAccessibleNode(const WorldAccessibleNode&) = delete;
    WorldAccessibleNode& operator=(const WorldAccessibleNode&) = delete;
};

}  // namespace devexcl::test
