// The running kernel's features and known bugs as the module reports them
// (DEVEXCL_IOC_VERSION feature bits): the one key of every per-kernel
// expectation, never uname.
#pragma once

#include <cstdint>

namespace devexcl::test {

// True if the loaded module reports every bit of `feature` (DEVEXCL_FEAT_*).
bool kernel_has(std::uint64_t feature);

// True if the running kernel does every bit of `kernel_feature` (DEVEXCL_KFEAT_*).
bool kernel_does(std::uint64_t kernel_feature);

}  // namespace devexcl::test
