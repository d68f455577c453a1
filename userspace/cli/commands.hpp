// The CLI's subcommands: each reads the Invocation and writes its report to `out`.
#pragma once

#include <ostream>

#include "options.hpp"

namespace devexcl::cli {

// Runs inv.command; returns the process exit status. Throws UsageError or
// std::system_error (with the errno) on failure.
int run_command(const Invocation& inv, std::ostream& out);

}  // namespace devexcl::cli
