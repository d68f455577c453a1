// A libnl generic netlink socket bound to the "devexcl" family, with
// errors that carry the errno and the kernel's extack message.
//
// Private to libdevexcl: it is libnl's types that it hands around, and the
// installed headers name none. The VM suite, which sends hand-made and
// malformed requests, includes it through the devexcl_internal target.
#pragma once

#include <netlink/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "devexcl/netlink_error.hpp"

namespace devexcl {

using NlMsgPtr = std::unique_ptr<nl_msg, void (*)(nl_msg*)>;

class GenlSocket {
public:
    // Connects and resolves the family; ENOENT if devexcl.ko is not loaded.
    GenlSocket();

    [[nodiscard]] nl_sock* get() const { return sock_.get(); }
    [[nodiscard]] int fd() const;

    // A new request message for `cmd` (with NLM_F_DUMP if `dump`).
    [[nodiscard]] NlMsgPtr message(int cmd, bool dump = false) const;

    // Sends `msg` and receives until the ack (or the end of the dump),
    // passing every reply to `on_reply`. Throws NetlinkError.
    void transact(nl_msg* msg, const std::function<void(nl_msg*)>& on_reply = {},
                  const char* what = "netlink request");

    // Like transact(), for dumps of many large messages: each reply is
    // handed over in place, in one receive buffer, without the copy
    // nl_recvmsgs() makes of every message. If the consumer throws part-way,
    // the socket is replaced (the kernel may still be dumping into it).
    void stream(nl_msg* msg, const std::function<void(const nlmsghdr*)>& on_reply,
                const char* what = "netlink dump");

    // Receives one datagram (retrying on EINTR) into the socket's buffer
    // and hands each of its messages over in place. False if `flags` has
    // MSG_DONTWAIT and nothing is queued. Throws NetlinkError, EIO when the
    // socket was closed.
    bool receive(int flags, const std::function<void(const nlmsghdr*)>& on_message,
                 const char* what);

    // setsockopt(SOL_NETLINK, `option`, 1); throws NetlinkError with its errno.
    void enable(int option, const char* what);

    // Large enough for the module's biggest dump message (64 KiB).
    static constexpr std::size_t kReceiveBuffer = 128 * 1024;

private:
    std::unique_ptr<nl_sock, void (*)(nl_sock*)> sock_;
    int family_ = -1;
    void reconnect();
    std::vector<unsigned char> rx_;
};

// Parses a reply's attributes into tb[0..maxtype]; throws NetlinkError
// (EPROTO) for a reply that does not parse: libdevexcl and the module
// disagree on the protocol.
void parse_reply(nl_msg* reply, nlattr** tb, int maxtype, std::string_view what);

// Append an attribute to a request, or throw NetlinkError (EMSGSIZE) if it
// does not fit; `what` names the request.
void put_u32(nl_msg* msg, int type, std::uint32_t value, std::string_view what);
void put_u64(nl_msg* msg, int type, std::uint64_t value, std::string_view what);

}  // namespace devexcl
