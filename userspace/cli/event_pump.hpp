// The wait loop of commands that print revocation events as they arrive
// (watch, hold): until a deadline, Ctrl-C/SIGTERM, or end of input.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>

#include "devexcl/events.hpp"
#include "stop_signals.hpp"

namespace devexcl::cli {

struct PumpUntil {
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool end_of_input = false;  // also stop when standard input ends
};

// Hands every event `listener` receives to `on_event`, flushing `out` after
// each burst, until `until` says stop or `on_event` returns false.
void pump_events(EventListener& listener, const StopSignals& stop, const PumpUntil& until,
                 std::ostream& out, const std::function<bool(const Event&)>& on_event);

// The deadline `seconds` from now; none without them.
std::chrono::steady_clock::time_point deadline_after(const std::optional<double>& seconds);

}  // namespace devexcl::cli
