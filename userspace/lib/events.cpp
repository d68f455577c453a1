#include "devexcl/events.hpp"

#include <linux/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "devexcl/error.hpp"
#include "devexcl/uapi.hpp"
#include "genl_socket.hpp"
#include "nl_errno.hpp"

namespace devexcl {

namespace {

// Appends the events of one DEVEXCL_CMD_EVENT message to `backlog`.
void parse_event(const nlmsghdr* nlh, std::deque<Event>* backlog) {
    auto* gnlh = static_cast<genlmsghdr*>(nlmsg_data(nlh));
    if (nlh->nlmsg_type < NLMSG_MIN_TYPE || gnlh->cmd != DEVEXCL_CMD_EVENT) {
        return;
    }
    nlattr* attr;
    int rem;
    nla_for_each_attr(attr, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
        if (nla_type(attr) != DEVEXCL_A_EVENTS) {
            continue;
        }
        // The kernel aligns the array to 8 bytes (nla_reserve_64bit).
        const auto* raw = static_cast<const devexcl_event*>(nla_data(attr));
        const std::size_t n = static_cast<std::size_t>(nla_len(attr)) / sizeof(devexcl_event);
        for (std::size_t i = 0; i < n; ++i) {
            const devexcl_event& r = raw[i];
            Event e;
            e.ctx_id = r.ctx_id;
            e.target_pid = static_cast<pid_t>(r.target_pid);
            e.start = r.start;
            e.end = r.end;
            e.npages = r.npages;
            e.cause = static_cast<Cause>(r.cause);
            e.seq = r.seq;
            e.trigger_pid = static_cast<pid_t>(r.trigger_pid);
            e.trigger_comm.assign(r.trigger_comm,
                                  ::strnlen(r.trigger_comm, sizeof(r.trigger_comm)));
            e.timestamp_ns = r.timestamp_ns;
            e.dropped = r.dropped;
            backlog->push_back(std::move(e));
        }
    }
}

}  // namespace

EventListener::EventListener(EventFilter filter, int rcvbuf)
    : socket_(std::make_unique<GenlSocket>()) {
    static constexpr const char* what = "DEVEXCL_CMD_SUBSCRIBE";
    auto msg = socket_->message(DEVEXCL_CMD_SUBSCRIBE);
    if (filter.ctx_id != 0) {
        put_u64(msg.get(), DEVEXCL_A_FILTER_CTX_ID, filter.ctx_id, what);
    }
    if (filter.target_pid != 0) {
        put_u32(msg.get(), DEVEXCL_A_FILTER_PID, static_cast<std::uint32_t>(filter.target_pid),
                what);
    }
    // Events are unsolicited (sequence 0), and one may arrive before the
    // subscription's ack: no sequence check, and keep what arrives.
    nl_socket_disable_seq_check(socket_->get());
    socket_->transact(
        msg.get(), [this](nl_msg* m) { parse_event(nlmsg_hdr(m), &backlog_); }, what);
    // Drops are reported in-band (DEVEXCL_A_DROPPED); no ENOBUFS on read.
    socket_->enable(NETLINK_NO_ENOBUFS, "NETLINK_NO_ENOBUFS");
    if (rcvbuf > 0) {
        check_nl(nl_socket_set_buffer_size(socket_->get(), rcvbuf, 0), "event socket buffer size");
    }
}

EventListener::EventListener(EventListener&&) noexcept = default;
EventListener& EventListener::operator=(EventListener&&) noexcept = default;
EventListener::~EventListener() = default;

int EventListener::fd() const {
    return socket_->fd();
}

bool EventListener::receive(std::chrono::milliseconds timeout) {
    pollfd pfd{socket_->fd(), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (n < 0) {
        if (errno == EINTR) {
            return false;
        }
        throw_last_errno("poll netlink");
    }
    if (n == 0) {
        return false;
    }
    const std::size_t before = backlog_.size();
    // Read everything queued, parsing each datagram's messages in place.
    while (socket_->receive(
        MSG_DONTWAIT, [this](const nlmsghdr* nlh) { parse_event(nlh, &backlog_); },
        "receive devexcl events")) {
    }
    return backlog_.size() > before;
}

std::optional<Event> EventListener::next(std::chrono::milliseconds timeout) {
    // The common case, kept cheap for listeners that must keep up with bursts.
    if (backlog_.empty() && !receive(timeout)) {
        return std::nullopt;
    }
    Event e = std::move(backlog_.front());
    backlog_.pop_front();
    return e;
}

std::optional<Event> EventListener::wait_for(const std::function<bool(const Event&)>& pred,
                                             std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t checked = 0;
    for (;;) {
        for (; checked < backlog_.size(); ++checked) {
            if (pred(backlog_[checked])) {
                Event e = backlog_[checked];
                backlog_.erase(backlog_.begin() + static_cast<long>(checked));
                return e;
            }
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        receive(left);
    }
}

std::vector<Event> EventListener::drain(std::chrono::milliseconds quiet) {
    while (receive(quiet)) {
    }
    std::vector<Event> out(backlog_.begin(), backlog_.end());
    backlog_.clear();
    return out;
}

}  // namespace devexcl
