// The kernel's trace events through tracefs: a trace instance of one's own
// (a ring buffer the rest of the system does not share), its events
// enabled for as long as it lives, and the text of its trace parsed into
// events with their fields.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace devexcl::test {

// Where tracefs is mounted: /sys/kernel/tracing, or debugfs' tracing/.
// If the kernel has tracefs but nothing mounted it, mounts it at
// /sys/kernel/tracing (and leaves it there, as a distribution's boot
// would). Empty if the kernel has no tracefs (no CONFIG_EVENT_TRACING).
std::string tracefs_root();

// The numeric id of event `system`:`event` (events/SYSTEM/EVENT/id): what
// perf_event_open() takes as a PERF_TYPE_TRACEPOINT config. Throws
// std::system_error if there is no such event.
std::uint64_t trace_event_id(const std::string& root, const std::string& system,
                             const std::string& event);

// One line of a trace: `comm-pid [cpu] flags timestamp: name: fields`.
struct TraceEvent {
    std::string name;                           // "devexcl_revoke"
    pid_t pid = 0;                              // the thread the event was recorded in
    std::string text;                           // the whole line, for messages
    std::map<std::string, std::string> fields;  // "key=value" pairs, as printed

    bool has(const std::string& key) const { return fields.count(key) != 0; }
    // The field as printed ("cpu-fault"); throws std::out_of_range if absent.
    const std::string& str(const std::string& key) const { return fields.at(key); }
    // The field as a number, decimal or 0x hex; throws std::invalid_argument
    // if it is not one, std::out_of_range if absent.
    std::uint64_t u64(const std::string& key) const;
    std::int64_t s64(const std::string& key) const;
};

// The events of a trace's text (the instance's `trace` file), in order;
// comment lines and lines that are not events (a "lost events" note) are
// left out.
std::vector<TraceEvent> parse_trace(const std::string& text);

// A trace instance (instances/NAME) for as long as it lives. The
// destructor disables its events, clears its buffer and removes it,
// however the test ends.
class TraceInstance {
public:
    // Creates instances/NAME under `root` (EEXIST if it exists: a run that
    // was killed left it; it is removed and created afresh).
    TraceInstance(const std::string& root, const std::string& name);
    ~TraceInstance();
    TraceInstance(const TraceInstance&) = delete;
    TraceInstance& operator=(const TraceInstance&) = delete;

    // Enables (or disables) every event of `system` in this instance.
    void enable(const std::string& system, bool on = true);
    // The events recorded since the last take(), and clears the buffer.
    std::vector<TraceEvent> take();
    // The instance's directory.
    const std::string& dir() const { return dir_; }

private:
    void remove() noexcept;

    std::string dir_;
    std::vector<std::string> enabled_;
};

}  // namespace devexcl::test
