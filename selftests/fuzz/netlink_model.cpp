#include "netlink_model.hpp"

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "devexcl/uapi.hpp"
#include "errno_rules.hpp"

namespace devexcl::fuzz {

namespace {

template <typename T>
T load(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

// devexcl_nl_policy: the type and checks of each attribute.
enum class Policy { Unspec, U64, U32Pid, U32Flags };

Policy policy_of(unsigned type) {
    switch (type) {
        case DEVEXCL_A_FILTER_CTX_ID:
        case DEVEXCL_A_START:
        case DEVEXCL_A_END:
        case DEVEXCL_A_CURSOR:
        case DEVEXCL_A_ADDR:
            return Policy::U64;
        case DEVEXCL_A_FILTER_PID:
        case DEVEXCL_A_PID:
            return Policy::U32Pid;
        case DEVEXCL_A_FLAGS:
            return Policy::U32Flags;
        default:
            return Policy::Unspec;
    }
}

struct Attrs {
    const std::uint8_t* tb[DEVEXCL_A_MAX + 1] = {};
    std::uint64_t u64(int type) const { return load<std::uint64_t>(tb[type] + NLA_HDRLEN); }
    std::uint32_t u32(int type) const { return load<std::uint32_t>(tb[type] + NLA_HDRLEN); }
};

// __nla_validate_parse() with NL_VALIDATE_STRICT: 0, or the first error.
int parse_attrs(const std::uint8_t* head, int len, Attrs& attrs) {
    int rem = len;
    const std::uint8_t* nla = head;
    while (rem >= static_cast<int>(NLA_HDRLEN)) {
        const auto nla_len = load<std::uint16_t>(nla);
        if (nla_len < NLA_HDRLEN || nla_len > rem) {
            break;
        }
        const auto raw_type = load<std::uint16_t>(nla + 2);
        const unsigned type = raw_type & NLA_TYPE_MASK;
        const int attrlen = nla_len - NLA_HDRLEN;
        if (type == 0 || type > DEVEXCL_A_MAX) {
            return EINVAL;  // Unknown attribute type
        }
        const Policy pt = policy_of(type);
        if (pt == Policy::Unspec) {
            return EINVAL;  // Unsupported attribute (NL_VALIDATE_UNSPEC)
        }
        const int want = pt == Policy::U64 ? 8 : 4;
        if (attrlen != want) {
            return EINVAL;  // invalid attribute length
        }
        if (raw_type & NLA_F_NESTED) {
            return EINVAL;  // NLA_F_NESTED not expected
        }
        if (pt == Policy::U32Pid) {
            const auto v = load<std::uint32_t>(nla + NLA_HDRLEN);
            if (v < 1 || v > INT_MAX) {
                return ERANGE;
            }
        }
        if (pt == Policy::U32Flags) {
            const auto v = load<std::uint32_t>(nla + NLA_HDRLEN);
            if (v & ~static_cast<std::uint32_t>(DEVEXCL_INSPECT_WALK_RMAP |
                                                DEVEXCL_INSPECT_EMPTY_RUNS)) {
                return EINVAL;  // reserved bit set
            }
        }
        attrs.tb[type] = nla;
        const int step = NLA_ALIGN(nla_len);
        nla += step;
        rem -= step;
    }
    return rem > 0 ? EINVAL : 0;  // bytes leftover after parsing attributes
}

// inspect_dump_begin(): the first dumpit call's checks.
void inspect_rule(MessageExpect& m, const Attrs& a, const ModelWorld& world) {
    const std::uint64_t page = world.kernel.page_size;
    if (!a.tb[DEVEXCL_A_PID] || !a.tb[DEVEXCL_A_START] || !a.tb[DEVEXCL_A_END]) {
        m.result.defect(EINVAL);
        return;
    }
    const std::uint64_t start = a.u64(DEVEXCL_A_START);
    const std::uint64_t end = a.u64(DEVEXCL_A_END);
    if (start % page != 0 || end % page != 0 || end <= start) {
        m.result.defect(EINVAL);
        return;
    }
    if (end > world.kernel.task_size_max) {
        m.result.defect(EFAULT);
        return;
    }
    const std::uint64_t cursor = a.tb[DEVEXCL_A_CURSOR] ? a.u64(DEVEXCL_A_CURSOR) : start;
    if (cursor % page != 0 || cursor < start || cursor > end) {
        m.result.defect(EINVAL);
        return;
    }
    const ProcessFacts p = world.process(a.u32(DEVEXCL_A_PID));
    process_rule(m.result, p);
    m.dump_start = cursor;
    m.dump_end = end;
    m.dump_pid = a.u32(DEVEXCL_A_PID);
    m.dump_may_end_early = p.may_exit || p.unsure;
}

// devexcl_nl_inspect_vma(): its checks, in its order.
void inspect_vma_rule(MessageExpect& m, const Attrs& a, const ModelWorld& world) {
    if (!a.tb[DEVEXCL_A_PID] || !a.tb[DEVEXCL_A_ADDR]) {
        m.result.defect(EINVAL);
        return;
    }
    if (a.u64(DEVEXCL_A_ADDR) >= world.kernel.task_size_max) {
        m.result.defect(EFAULT);
        return;
    }
    const std::uint32_t flags = a.tb[DEVEXCL_A_FLAGS] ? a.u32(DEVEXCL_A_FLAGS) : 0;
    if (flags & ~static_cast<std::uint32_t>(DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK)) {
        m.result.defect(EINVAL);
        return;
    }
    process_rule(m.result, world.process(a.u32(DEVEXCL_A_PID)));
    if ((flags & DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK) && !world.kernel.per_vma_lock) {
        m.result.defect(EOPNOTSUPP);
    }
    m.result.allow(EFAULT);  // whether a VMA is there is the target's business
}

MessageExpect model_message(const std::uint8_t* msg, std::uint32_t len, const ModelWorld& world,
                            SocketModel& socket) {
    MessageExpect m;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg);
    const std::uint16_t flags = load<std::uint16_t>(msg + offsetof(nlmsghdr, nlmsg_flags));
    const std::uint16_t type = load<std::uint16_t>(msg + offsetof(nlmsghdr, nlmsg_type));
    (void)nlh;
    m.seq = load<std::uint32_t>(msg + offsetof(nlmsghdr, nlmsg_seq));
    m.ack_requested = flags & NLM_F_ACK;
    // Not a request, or a control message: acked if asked, else ignored.
    if (!(flags & NLM_F_REQUEST) || type < NLMSG_MIN_TYPE) {
        m.silent = !m.ack_requested;
        m.success = Success::Ack;
        return m;
    }
    if (type != world.family) {
        m.result.defect(ENOENT);  // no such family (the fuzzer uses unregistered ids)
        return m;
    }
    if (len < NLMSG_HDRLEN + GENL_HDRLEN) {
        m.result.defect(EINVAL);
        return m;
    }
    const std::uint8_t cmd = msg[NLMSG_HDRLEN];
    const std::uint16_t reserved =
        load<std::uint16_t>(msg + NLMSG_HDRLEN + offsetof(genlmsghdr, reserved));
    // genl_header_check(): devexcl validates every command.
    std::uint16_t checked = flags;
    const bool dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
    if (dump) {
        checked &= ~NLM_F_DUMP;
    }
    if (reserved != 0 || (checked & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO))) {
        m.result.defect(EINVAL);
        return m;
    }
    const bool known = cmd == DEVEXCL_CMD_SUBSCRIBE || cmd == DEVEXCL_CMD_UNSUBSCRIBE ||
                       cmd == DEVEXCL_CMD_INSPECT || cmd == DEVEXCL_CMD_GET_STATS ||
                       cmd == DEVEXCL_CMD_INSPECT_VMA;
    if (!known || dump != (cmd == DEVEXCL_CMD_INSPECT)) {
        m.result.defect(EOPNOTSUPP);  // no such op, or no doit/dumpit for it
        return m;
    }
    Attrs attrs;
    const std::uint32_t hdrlen = NLMSG_HDRLEN + NLMSG_ALIGN(GENL_HDRLEN);
    if (dump) {
        // __netlink_dump_start(): one dump at a time per socket, checked
        // before the attributes are parsed.
        if (socket.dumping == Tri::Yes) {
            m.result.defect(EBUSY);
            return m;
        }
        if (socket.dumping == Tri::Maybe) {
            m.result.allow(EBUSY);
        }
    }
    if (int err = parse_attrs(msg + hdrlen, static_cast<int>(len - hdrlen), attrs)) {
        m.result.defect(err);
        return m;
    }
    switch (cmd) {
        case DEVEXCL_CMD_SUBSCRIBE:
            if (attrs.tb[DEVEXCL_A_FILTER_PID]) {
                const ProcessFacts p = world.process(attrs.u32(DEVEXCL_A_FILTER_PID));
                if (p.unsure || p.may_exit) {
                    m.result.allow(ESRCH);
                } else if (!p.exists) {
                    m.result.defect(ESRCH);
                }
            }
            m.subscribes = true;
            break;
        case DEVEXCL_CMD_UNSUBSCRIBE:
            if (socket.subscribed == Tri::No) {
                m.result.defect(ENOENT);
            } else if (socket.subscribed == Tri::Maybe) {
                m.result.allow(ENOENT);
            }
            m.unsubscribes = true;
            break;
        case DEVEXCL_CMD_GET_STATS:
            m.success = Success::Stats;
            break;
        case DEVEXCL_CMD_INSPECT_VMA:
            inspect_vma_rule(m, attrs, world);
            m.success = Success::Vma;
            break;
        case DEVEXCL_CMD_INSPECT:
            inspect_rule(m, attrs, world);
            // A full receive queue (see NetlinkFuzzer::Dump::deferred).
            m.result.allow(ENOBUFS);
            m.success = Success::Dump;
            break;
    }
    return m;
}

// What a message that may succeed or fail leaves of a socket's state.
Tri after(Tri before, bool on_success, const Expect& result) {
    const Tri if_ok = on_success ? Tri::Yes : Tri::No;
    if (!result.may_succeed) {
        return before;
    }
    if (result.errors.empty() || before == if_ok) {
        return if_ok;
    }
    return Tri::Maybe;
}

}  // namespace

std::vector<MessageExpect> model_datagram(const std::uint8_t* data, std::size_t len,
                                          const ModelWorld& world, SocketModel& socket) {
    std::vector<MessageExpect> out;
    std::size_t off = 0;
    // netlink_rcv_skb()
    while (len - off >= NLMSG_HDRLEN) {
        const auto msg_len = load<std::uint32_t>(data + off);
        if (msg_len < NLMSG_HDRLEN || len - off < msg_len) {
            break;
        }
        MessageExpect m = model_message(data + off, msg_len, world, socket);
        m.offset = off;
        if (m.subscribes) {
            socket.subscribed = after(socket.subscribed, true, m.result);
        }
        if (m.unsubscribes) {
            socket.subscribed = after(socket.subscribed, false, m.result);
        }
        // A dump of an empty rest (cursor == end) ends in its first call.
        if (m.success == Success::Dump && m.dump_start < m.dump_end) {
            socket.dumping = after(socket.dumping, true, m.result);
        }
        out.push_back(m);
        std::size_t step = NLMSG_ALIGN(msg_len);
        off += std::min(step, len - off);
    }
    return out;
}

}  // namespace devexcl::fuzz
