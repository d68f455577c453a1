// A libnl generic netlink socket bound to the "devexcl" family, with
// errors that carry the errno and the kernel's extack message.
#pragma once

#include <netlink/netlink.h>

#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace devexcl {

// A failed netlink request: the errno, plus the kernel's extack message.
class NetlinkError : public std::system_error {
public:
    NetlinkError(int err, const std::string& what, std::string extack)
        : std::system_error(err, std::generic_category(),
                            extack.empty() ? what : what + ": " + extack),
          extack_(std::move(extack)) {}
    const std::string& extack() const { return extack_; }

private:
    std::string extack_;
};

class GenlSocket {
public:
    // Connects and resolves the family; ENOENT if devexcl.ko is not loaded.
    GenlSocket();

    nl_sock* get() const { return sock_.get(); }
    int fd() const;

    // A new request message for `cmd` (with NLM_F_DUMP if `dump`).
    std::unique_ptr<nl_msg, void (*)(nl_msg*)> message(int cmd, bool dump = false) const;

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

    // Large enough for the module's biggest dump message (64 KiB).
    static constexpr std::size_t kReceiveBuffer = 128 * 1024;

private:
    std::unique_ptr<nl_sock, void (*)(nl_sock*)> sock_;
    int family_ = -1;
    void reconnect();
    std::vector<unsigned char> rx_;
};

}  // namespace devexcl
