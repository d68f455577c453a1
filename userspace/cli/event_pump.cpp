#include "event_pump.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "devexcl/error.hpp"

namespace devexcl::cli {

std::chrono::steady_clock::time_point deadline_after(const std::optional<double>& seconds) {
    using clock = std::chrono::steady_clock;
    if (!seconds) {
        return clock::time_point::max();
    }
    return clock::now() +
           std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(*seconds));
}

void pump_events(EventListener& listener, const StopSignals& stop, const PumpUntil& until,
                 std::ostream& out, const std::function<bool(const Event&)>& on_event) {
    using clock = std::chrono::steady_clock;
    for (bool stopping = false;;) {
        // Drain what has arrived before looking at the clock or the signals;
        // what arrived with a stop is still reported.
        while (auto e = listener.next(std::chrono::milliseconds(0))) {
            if (!on_event(*e)) {
                out.flush();
                return;
            }
        }
        out.flush();
        const auto now = clock::now();
        if (stopping || now >= until.deadline) {
            return;
        }
        int timeout_ms = -1;
        if (until.deadline != clock::time_point::max()) {
            timeout_ms = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(until.deadline - now)
                    .count() +
                1);
        }
        pollfd fds[3] = {
            {stop.fd(), POLLIN, 0}, {listener.fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        const int n = ::poll(fds, until.end_of_input ? 3 : 2, timeout_ms);
        if (n < 0 && errno != EINTR) {
            throw_last_errno("poll");
        }
        stopping = n > 0 && fds[0].revents != 0;
        if (n > 0 && until.end_of_input && fds[2].revents != 0) {
            char buf[256];
            stopping = stopping || ::read(STDIN_FILENO, buf, sizeof(buf)) <= 0;
        }
    }
}

}  // namespace devexcl::cli
