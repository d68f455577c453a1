// The binder: a process of its own whose contexts are bound to the churn
// process (and, briefly, to the churn's short-lived children). It marks,
// accesses (with and without DEVEXCL_ACCESS_REACQUIRE), statuses and
// releases the pages the churn keeps changing. Errnos and per-page results
// that only a race can explain are allowed exactly when the churn's slot
// generations show that race could have happened during the call.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "churn.hpp"
#include "facts.hpp"
#include "report.hpp"

namespace devexcl::fuzz {

// Runs in the forked binder process until tally.stop; returns its exit status.
int binder_main(ChurnTable& table, Tally& tally, pid_t churn, std::uint64_t seed,
                const KernelFacts& kernel);

}  // namespace devexcl::fuzz
