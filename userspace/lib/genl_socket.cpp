#include "devexcl/genl_socket.hpp"

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "devexcl/error.hpp"
#include "devexcl/uapi.hpp"

namespace devexcl {

namespace {

// What one transact() learns from the kernel's replies.
struct Outcome {
    const std::function<void(nl_msg*)>* on_reply = nullptr;
    int error = 0;
    std::string extack;
    bool done = false;
};

// libnl 3.7 has no extack support: read NLMSGERR_ATTR_MSG with its
// attribute parser from the TLVs that follow `payload` bytes of the message.
std::string tlv_message(const nlmsghdr* nlh, int payload) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
        return "";
    }
    const int offset = NLMSG_HDRLEN + payload;
    const int len = static_cast<int>(nlh->nlmsg_len) - offset;
    if (len <= 0) {
        return "";
    }
    nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
    auto* head =
        reinterpret_cast<nlattr*>(const_cast<char*>(reinterpret_cast<const char*>(nlh) + offset));
    if (nla_parse(tb, NLMSGERR_ATTR_MAX, head, len, nullptr) < 0 || !tb[NLMSGERR_ATTR_MSG]) {
        return "";
    }
    return nla_get_string(tb[NLMSGERR_ATTR_MSG]);
}

// With NETLINK_CAP_ACK an error's TLVs follow the nlmsgerr (and the
// request's header only).
std::string extack_message(const nlmsgerr* err) {
    const auto* nlh =
        reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(err) - NLMSG_HDRLEN);
    return tlv_message(nlh, NLMSG_ALIGN(sizeof(*err)));
}

// How an exchange ended: its errno (0 for success) and extack message.
struct ExchangeEnd {
    int error = 0;
    std::string extack;
};

// If `nlh` ends an exchange, how: NLMSG_ERROR is an ack when its error is
// 0; NLMSG_DONE carries 0 or, for a failed dump, -errno and extack TLVs.
std::optional<ExchangeEnd> exchange_end(const nlmsghdr* nlh) {
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(nlh));
        if (err->error == 0) {
            return ExchangeEnd{};
        }
        return ExchangeEnd{-err->error, extack_message(err)};
    }
    if (nlh->nlmsg_type == NLMSG_DONE) {
        int err = 0;
        if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(err)) {
            std::memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
        }
        if (err >= 0) {
            return ExchangeEnd{};
        }
        return ExchangeEnd{-err, tlv_message(nlh, NLMSG_ALIGN(sizeof(err)))};
    }
    return std::nullopt;
}

int finish(Outcome* out, const nlmsghdr* nlh) {
    if (auto end = exchange_end(nlh)) {
        out->error = end->error;
        out->extack = std::move(end->extack);
    }
    out->done = true;
    return NL_STOP;
}

int on_error(sockaddr_nl*, nlmsgerr* err, void* arg) {
    const auto* nlh =
        reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(err) - NLMSG_HDRLEN);
    return finish(static_cast<Outcome*>(arg), nlh);
}

// The ack of a request, or NLMSG_DONE of a dump.
int on_end(nl_msg* msg, void* arg) {
    return finish(static_cast<Outcome*>(arg), nlmsg_hdr(msg));
}

int on_valid(nl_msg* msg, void* arg) {
    auto* out = static_cast<Outcome*>(arg);
    if (out->on_reply != nullptr && *out->on_reply) {
        (*out->on_reply)(msg);
    }
    return NL_OK;
}

void check(int nlerr, const char* what) {
    if (nlerr < 0) {
        throw NetlinkError(EIO, what, nl_geterror(nlerr));
    }
}

}  // namespace

GenlSocket::GenlSocket() : sock_(nl_socket_alloc(), nl_socket_free) {
    if (!sock_) {
        throw_errno(ENOMEM, "nl_socket_alloc");
    }
    if (int err = genl_connect(sock_.get()); err < 0) {
        throw NetlinkError(ECONNREFUSED, "genl_connect", nl_geterror(err));
    }
    int on = 1;
    // Extended acks carry the kernel's error message; capped acks keep them simple to find.
    ::setsockopt(fd(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
    ::setsockopt(fd(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
    family_ = genl_ctrl_resolve(sock_.get(), DEVEXCL_GENL_NAME);
    if (family_ < 0) {
        throw NetlinkError(ENOENT, "resolve generic netlink family " DEVEXCL_GENL_NAME,
                           "is devexcl.ko loaded?");
    }
}

int GenlSocket::fd() const {
    return nl_socket_get_fd(sock_.get());
}

std::unique_ptr<nl_msg, void (*)(nl_msg*)> GenlSocket::message(int cmd, bool dump) const {
    std::unique_ptr<nl_msg, void (*)(nl_msg*)> msg(nlmsg_alloc(), nlmsg_free);
    if (!msg || !genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_, 0,
                             dump ? NLM_F_DUMP : NLM_F_ACK, static_cast<std::uint8_t>(cmd),
                             DEVEXCL_GENL_VERSION)) {
        throw_errno(ENOMEM, "genlmsg_put");
    }
    return msg;
}

void GenlSocket::transact(nl_msg* msg, const std::function<void(nl_msg*)>& on_reply,
                          const char* what) {
    Outcome out;
    out.on_reply = &on_reply;
    std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_clone(nl_socket_get_cb(sock_.get())),
                                                nl_cb_put);
    nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &out);
    nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_end, &out);
    nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_end, &out);
    nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &out);
    check(nl_send_auto(sock_.get(), msg), what);
    while (!out.done) {
        int err = nl_recvmsgs(sock_.get(), cb.get());
        if (err < 0 && !out.done) {
            throw NetlinkError(EIO, what, nl_geterror(err));
        }
    }
    if (out.error != 0) {
        throw NetlinkError(out.error, what, out.extack);
    }
}

bool GenlSocket::receive(int flags, const std::function<void(const nlmsghdr*)>& on_message,
                         const char* what) {
    rx_.resize(kReceiveBuffer);
    ssize_t got;
    while ((got = ::recv(fd(), rx_.data(), rx_.size(), flags)) < 0 && errno == EINTR) {
    }
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT)) {
        return false;
    }
    if (got <= 0) {
        const int err = got < 0 ? errno : EIO;
        throw NetlinkError(err, what, got < 0 ? "recv failed" : "connection closed");
    }
    int n = static_cast<int>(got);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx_.data()); nlmsg_ok(nlh, n);
         nlh = nlmsg_next(const_cast<nlmsghdr*>(nlh), &n)) {
        on_message(nlh);
    }
    return true;
}

void GenlSocket::stream(nl_msg* msg, const std::function<void(const nlmsghdr*)>& on_reply,
                        const char* what) {
    check(nl_send_auto(sock_.get(), msg), what);
    bool ended = false;  // the kernel's last message was read: the socket is clean
    std::optional<ExchangeEnd> end;
    try {
        while (!ended) {
            // One buffer for the whole dump: nl_recv() would allocate one per message.
            receive(
                0,
                [&](const nlmsghdr* nlh) {
                    if (ended) {
                        return;
                    }
                    if ((end = exchange_end(nlh))) {
                        ended = true;
                        return;
                    }
                    on_reply(nlh);
                },
                what);
        }
    } catch (...) {
        // Given up mid-dump (a failed recv, or the consumer threw): the
        // kernel may still be dumping into this socket; go on with a new one.
        if (!ended) {
            reconnect();
        }
        throw;
    }
    if (end->error != 0) {
        throw NetlinkError(end->error, what, end->extack);
    }
}

void GenlSocket::reconnect() {
    GenlSocket fresh;
    sock_ = std::move(fresh.sock_);
    family_ = fresh.family_;
}

}  // namespace devexcl
