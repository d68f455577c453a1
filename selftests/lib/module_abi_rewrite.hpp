// Runs code as if the loaded module spoke another ABI: a child, traced,
// whose DEVEXCL_IOC_VERSION answers the tracer rewrites on their way out
// of the kernel. Everything else is the real module; only the version it
// reports differs. For the library's and the CLI's refusal of a module
// whose ABI they cannot use, which a test cannot load.
#pragma once

#include <functional>
#include <string>

#include "devexcl/version.hpp"

namespace devexcl::test {

struct RewrittenRun {
    int status = -1;         // exit status; -1 if killed by a signal
    std::string output;      // stdout and stderr together
    int versions_asked = 0;  // DEVEXCL_IOC_VERSION answers rewritten
};

// Forks; the child runs `body` (it may exec: the tracing follows) with
// stdout and stderr to a pipe, and exits with what it returns (125 if it
// throws). Every successful DEVEXCL_IOC_VERSION of the child answers
// `abi` instead of the module's own.
RewrittenRun run_with_module_abi(AbiVersion abi, const std::function<int()>& body);

}  // namespace devexcl::test
