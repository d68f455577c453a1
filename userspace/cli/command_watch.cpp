// watch [--pid P] [--ctx ID] [--count N] [SECONDS]: the live stream of
// revocation events from the module's netlink family.
#include <poll.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "commands.hpp"
#include "devexcl/events.hpp"
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
            w.seconds = static_cast<double>(parse_number(a, "seconds"));
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
    StopSignals stop;
    EventListener listener(w.filter);
    if (!has_sys_admin()) {
        std::cerr << "devexcl: without CAP_SYS_ADMIN only events of contexts this process "
                     "opened are sent; watch as root, or chain 'hold' after your steps\n";
    }
    Reporter rep{out, inv.json};
    using clock = std::chrono::steady_clock;
    const auto deadline = w.seconds ? clock::now() + std::chrono::duration_cast<clock::duration>(
                                                         std::chrono::duration<double>(*w.seconds))
                                    : clock::time_point::max();
    std::uint64_t seen = 0;
    while (!w.count || seen < *w.count) {
        // Drain what has arrived before looking at the clock or the signals.
        while (auto e = listener.next(std::chrono::milliseconds(0))) {
            rep.event(*e);
            if (w.count && ++seen >= *w.count) {
                break;
            }
        }
        out.flush();
        const auto now = clock::now();
        if ((w.count && seen >= *w.count) || now >= deadline) {
            break;
        }
        int timeout_ms = -1;
        if (deadline != clock::time_point::max()) {
            timeout_ms = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1);
        }
        pollfd fds[2] = {{stop.fd(), POLLIN, 0}, {listener.fd(), POLLIN, 0}};
        if (::poll(fds, 2, timeout_ms) > 0 && fds[0].revents != 0) {
            break;
        }
    }
    return 0;
}

}  // namespace devexcl::cli
