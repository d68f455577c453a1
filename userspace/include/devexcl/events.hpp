// Revocation events from the "devexcl" generic netlink family.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devexcl/netlink_error.hpp"
#include "devexcl/types.hpp"

namespace devexcl {

// Defined in the library (lib/genl_socket.hpp): libnl's types stay out of
// the installed headers.
class GenlSocket;

struct Event {
    std::uint64_t ctx_id = 0;
    pid_t target_pid = 0;
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // end of the last revoked page
    std::uint64_t npages = 0;
    Cause cause = Cause::None;
    std::uint64_t seq = 0;
    pid_t trigger_pid = 0;  // 0: unknown, or not visible in our pid namespace
    std::string trigger_comm;
    std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC of the revocation
    std::uint64_t dropped = 0;       // events lost to us since the previous one
};

struct EventFilter {
    std::uint64_t ctx_id = 0;  // 0: any context
    pid_t target_pid = 0;      // 0: any target
};

// An RAII subscription: a netlink socket subscribed to the events this
// process is entitled to (its own contexts', or all with CAP_SYS_ADMIN).
class EventListener {
public:
    // `rcvbuf`: the socket's receive buffer in bytes (0: the default).
    explicit EventListener(EventFilter filter = EventFilter{}, int rcvbuf = 0);
    EventListener(EventListener&&) noexcept;
    EventListener& operator=(EventListener&&) noexcept;
    ~EventListener();

    // The next event, waiting up to `timeout`; nullopt on timeout.
    [[nodiscard]] std::optional<Event> next(std::chrono::milliseconds timeout);
    // The first event that satisfies `pred`, within `timeout`. Events it
    // skips stay available to later calls.
    [[nodiscard]] std::optional<Event> wait_for(const std::function<bool(const Event&)>& pred,
                                                std::chrono::milliseconds timeout);
    // Every event that arrives until none has for `quiet`.
    std::vector<Event> drain(std::chrono::milliseconds quiet);

    // The socket, for poll(): readable when events are waiting.
    [[nodiscard]] int fd() const;

private:
    // Reads what the socket has into backlog_; false if nothing came in `timeout`.
    bool receive(std::chrono::milliseconds timeout);

    std::unique_ptr<GenlSocket> socket_;
    std::deque<Event> backlog_;
};

}  // namespace devexcl
