// watch [--pid P] [--ctx ID] [--count N] [SECONDS]: the live stream of
// revocation events from the module's netlink family.
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "commands.hpp"
#include "devexcl/events.hpp"
#include "event_pump.hpp"
#include "report.hpp"
#include "stop_signals.hpp"

namespace devexcl::cli {

namespace {

struct WatchArgs {
    EventFilter filter;
    std::optional<std::uint64_t> count;
    std::optional<double> seconds;
};

WatchArgs parse_watch_args(const std::vector<std::string>& args) {
    WatchArgs w;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) {
                throw UsageError(a + " needs a value");
            }
            return args[++i];
        };
        if (a == "--pid") {
            w.filter.target_pid = parse_pid(value());
        } else if (a == "--ctx") {
            w.filter.ctx_id = parse_number(value(), "context id");
        } else if (a == "--count") {
            w.count = parse_number(value(), "count");
        } else if (!w.seconds && !a.empty() && a[0] != '-') {
            w.seconds = parse_seconds(a);
        } else {
            throw UsageError("usage: watch [--pid P] [--ctx ID] [--count N] [SECONDS]");
        }
    }
    return w;
}

// CAP_SYS_ADMIN in the effective set: such a listener is sent every event.
bool has_sys_admin() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("CapEff:", 0) == 0) {
            return (std::stoull(line.substr(7), nullptr, 16) >> 21) & 1;
        }
    }
    return false;
}

}  // namespace

int command_watch(const Invocation& inv, std::ostream& out) {
    const WatchArgs w = parse_watch_args(inv.args);
    if (w.count && *w.count == 0) {
        return 0;
    }
    StopSignals stop;
    EventListener listener(w.filter);
    if (!has_sys_admin()) {
        std::cerr << "devexcl: without CAP_SYS_ADMIN only events of contexts this process "
                     "opened are sent; watch as root, or chain 'hold' after your steps\n";
    }
    Reporter rep{out, inv.json};
    std::uint64_t seen = 0;
    pump_events(listener, stop, PumpUntil{deadline_after(w.seconds)}, out, [&](const Event& e) {
        rep.event(e);
        return !w.count || ++seen < *w.count;
    });
    return 0;
}

}  // namespace devexcl::cli
