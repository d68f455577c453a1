#include "genl_socket.hpp"

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "devexcl/error.hpp"
#include "devexcl/uapi.hpp"
#include "nl_errno.hpp"

namespace devexcl {

namespace {

// What one transact() learns from the kernel's replies.
struct Outcome {
    const std::function<void(nl_msg*)>* on_reply = nullptr;
    // What on_reply threw: kept, not thrown through libnl's C frames, and
    // rethrown once the exchange has been read to its end.
    std::exception_ptr failure;
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
    if (out->failure || out->on_reply == nullptr || !*out->on_reply) {
        return NL_OK;
    }
    try {
        (*out->on_reply)(msg);
    } catch (...) {
        out->failure = std::current_exception();
    }
    return NL_OK;
}

}  // namespace

GenlSocket::GenlSocket() : sock_(nl_socket_alloc(), nl_socket_free) {
    if (!sock_) {
        throw_errno(ENOMEM, "nl_socket_alloc");
    }
    check_nl(genl_connect(sock_.get()), "genl_connect");
    // Extended acks carry the kernel's error message; capped acks keep them simple to find.
    enable(NETLINK_EXT_ACK, "NETLINK_EXT_ACK");
    enable(NETLINK_CAP_ACK, "NETLINK_CAP_ACK");
    family_ = genl_ctrl_resolve(sock_.get(), DEVEXCL_GENL_NAME);
    if (family_ == -NLE_OBJ_NOTFOUND) {
        throw NetlinkError(ENOENT, "resolve generic netlink family " DEVEXCL_GENL_NAME,
                           "is devexcl.ko loaded?");
    }
    check_nl(family_, "resolve generic netlink family " DEVEXCL_GENL_NAME);
}

void GenlSocket::enable(int option, const char* what) {
    const int on = 1;
    if (::setsockopt(fd(), SOL_NETLINK, option, &on, sizeof(on)) != 0) {
        const int err = errno;
        throw NetlinkError(err, std::string("setsockopt ") + what, "");
    }
}

int GenlSocket::fd() const {
    return nl_socket_get_fd(sock_.get());
}

NlMsgPtr GenlSocket::message(int cmd, bool dump) const {
    NlMsgPtr msg(nlmsg_alloc(), nlmsg_free);
    if (!msg) {
        throw NetlinkError(ENOMEM, "nlmsg_alloc", "");
    }
    if (!genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_, 0,
                     dump ? NLM_F_DUMP : NLM_F_ACK, static_cast<std::uint8_t>(cmd),
                     DEVEXCL_GENL_VERSION)) {
        throw NetlinkError(EMSGSIZE, "genlmsg_put", "the headers do not fit a new message");
    }
    return msg;
}

void GenlSocket::transact(nl_msg* msg, const std::function<void(nl_msg*)>& on_reply,
                          const char* what) {
    Outcome out;
    out.on_reply = &on_reply;
    // nl_socket_get_cb() takes a reference, which the clone does not need.
    std::unique_ptr<nl_cb, void (*)(nl_cb*)> base(nl_socket_get_cb(sock_.get()), nl_cb_put);
    std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(base ? nl_cb_clone(base.get()) : nullptr,
                                                nl_cb_put);
    if (!cb) {
        throw NetlinkError(ENOMEM, what, "no memory for libnl's callbacks");
    }
    check_nl(nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &out), what);
    check_nl(nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_end, &out), what);
    check_nl(nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_end, &out), what);
    check_nl(nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &out), what);
    check_nl(nl_send_auto(sock_.get(), msg), what);
    while (!out.done) {
        const int err = nl_recvmsgs(sock_.get(), cb.get());
        if (err < 0 && !out.done) {
            // The rest of this exchange is still queued: the next request
            // would read it as its own answer. Start afresh, as stream() does.
            reconnect();
            throw_nlerr(err, what);
        }
    }
    if (out.failure) {
        std::rethrow_exception(out.failure);
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
    check_nl(nl_send_auto(sock_.get(), msg), what);
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

void parse_reply(nl_msg* reply, nlattr** tb, int maxtype, std::string_view what) {
    if (const int err = genlmsg_parse(nlmsg_hdr(reply), 0, tb, maxtype, nullptr); err < 0) {
        throw NetlinkError(EPROTO, std::string(what),
                           std::string("a reply that does not parse: ") + nl_geterror(err));
    }
}

namespace {

void put_checked(int rc, std::string_view what) {
    // nla_put() fails only for want of room in the message.
    if (rc < 0) {
        throw NetlinkError(EMSGSIZE, std::string(what), "the request does not fit its message");
    }
}

}  // namespace

void put_u32(nl_msg* msg, int type, std::uint32_t value, std::string_view what) {
    put_checked(nla_put_u32(msg, type, value), what);
}

void put_u64(nl_msg* msg, int type, std::uint64_t value, std::string_view what) {
    put_checked(nla_put_u64(msg, type, value), what);
}

void GenlSocket::reconnect() {
    GenlSocket fresh;
    sock_ = std::move(fresh.sock_);
    family_ = fresh.family_;
}

}  // namespace devexcl
