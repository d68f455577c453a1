// A devexcl command line is a chain of steps joined by "+", all run on one
// device context (one open file), so later steps see what earlier ones did.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/types.hpp"
#include "options.hpp"

namespace devexcl::cli {

enum class StepKind { Mark, Status, Release, Atomic, Hold, Counters, Revocations };

struct Step {
    StepKind kind = StepKind::Status;
    pid_t pid = 0;  // 0 for steps that take none
    std::uint64_t addr = 0;
    std::uint64_t length = 0;
    AccessOp op = AccessOp::Read;
    std::uint64_t value = 0;
    std::uint64_t expected = 0;
    bool reacquire = true;
    MarkMode mark_mode = MarkMode::AvoidKernelBugs;  // Mark
    std::optional<double> seconds;  // Hold: none means until Ctrl-C or EOF on stdin
};

// True if `command` starts a device-context step chain.
bool is_step_command(const std::string& command);

// Parses `command args [+ command args]...`. Every step that names a pid
// must name the same one. Throws UsageError.
std::vector<Step> parse_steps(const std::string& command, const std::vector<std::string>& args);

// The pid the chain acts on, or 0 if no step names one.
pid_t chain_pid(const std::vector<Step>& steps);

}  // namespace devexcl::cli
