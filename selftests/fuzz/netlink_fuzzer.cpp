#include "netlink_fuzzer.hpp"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netlink/genl/ctrl.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "devexcl/error.hpp"
#include "devexcl/uapi.hpp"
#include "genl_socket.hpp"

namespace devexcl::fuzz {

namespace {

constexpr int kSockets = 4;
constexpr std::size_t kRxBuffer = 256 * 1024;
constexpr int kRcvBuf = 1 << 20;

template <typename T>
T load(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

const std::uint8_t* attr_data(const nlattr* a) {
    return reinterpret_cast<const std::uint8_t*>(a) + NLA_HDRLEN;
}

// Calls f(type, payload, len) for each attribute after the genl header;
// false if they do not add up.
template <typename F>
bool for_each_attr(const nlmsghdr* nlh, F&& f) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(nlh) + NLMSG_HDRLEN + GENL_HDRLEN;
    int rem = static_cast<int>(nlh->nlmsg_len) - NLMSG_HDRLEN - GENL_HDRLEN;
    while (rem >= static_cast<int>(NLA_HDRLEN)) {
        const auto* a = reinterpret_cast<const nlattr*>(p);
        if (a->nla_len < NLA_HDRLEN || a->nla_len > rem) {
            return false;
        }
        f(a->nla_type & NLA_TYPE_MASK, attr_data(a), a->nla_len - NLA_HDRLEN);
        p += NLA_ALIGN(a->nla_len);
        rem -= NLA_ALIGN(a->nla_len);
    }
    return rem <= 0;
}

}  // namespace

NetlinkFuzzer::NetlinkFuzzer(Rng& rng, Report& report, const KernelFacts& kernel,
                             const Processes& processes, const Arena& arena)
    : rng_(rng), report_(report), kernel_(kernel), processes_(processes), arena_(arena) {
    GenlSocket resolver;
    const int family = genl_ctrl_resolve(resolver.get(), DEVEXCL_GENL_NAME);
    if (family < 0) {
        throw_errno(ENOENT, "resolve the devexcl family");
    }
    world_.family = static_cast<std::uint16_t>(family);
    world_.kernel = kernel;
    world_.process = [this](std::uint64_t pid) { return processes_.facts_for(pid); };
    rx_.resize(kRxBuffer);
}

NetlinkFuzzer::Socket NetlinkFuzzer::open_socket() const {
    Socket s;
    s.fd.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
    if (!s.fd) {
        throw_last_errno("netlink socket");
    }
    const int on = 1;
    ::setsockopt(s.fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
    ::setsockopt(s.fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
    ::setsockopt(s.fd.get(), SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on));
    // Room for a dump message, events and answers at once (unprivileged:
    // as much as rmem_max allows).
    if (::setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kRcvBuf, sizeof(kRcvBuf)) != 0) {
        ::setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVBUF, &kRcvBuf, sizeof(kRcvBuf));
    }
    timeval tv{5, 0};
    ::setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    if (::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        throw_last_errno("bind netlink socket");
    }
    return s;
}

std::uint32_t NetlinkFuzzer::drops(const Socket& s) const {
    std::uint32_t mem[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof(mem);
    if (::getsockopt(s.fd.get(), SOL_SOCKET, SO_MEMINFO, mem, &len) != 0) {
        return 0;
    }
    return mem[SK_MEMINFO_DROPS];
}

void NetlinkFuzzer::put_attr(std::vector<std::uint8_t>& out, std::uint16_t type, const void* data,
                             std::size_t len) {
    const std::size_t at = out.size();
    nlattr a{static_cast<std::uint16_t>(NLA_HDRLEN + len), type};
    out.resize(at + NLA_ALIGN(NLA_HDRLEN + len), 0);
    std::memcpy(out.data() + at, &a, sizeof(a));
    if (len > 0) {
        std::memcpy(out.data() + at + NLA_HDRLEN, data, len);
    }
}

std::uint64_t NetlinkFuzzer::dump_address() {
    return arena_.address(rng_);
}

void NetlinkFuzzer::attributes(std::vector<std::uint8_t>& out, int cmd) {
    struct Attr {
        std::uint16_t type;
        std::vector<std::uint8_t> payload;
    };
    std::vector<Attr> attrs;
    auto u32 = [](std::uint32_t v) {
        std::vector<std::uint8_t> b(4);
        std::memcpy(b.data(), &v, 4);
        return b;
    };
    auto u64 = [](std::uint64_t v) {
        std::vector<std::uint8_t> b(8);
        std::memcpy(b.data(), &v, 8);
        return b;
    };
    auto pid = [&]() -> std::uint32_t {
        return rng_.percent(60) ? static_cast<std::uint32_t>(processes_.self())
                                : static_cast<std::uint32_t>(processes_.pick(rng_).value);
    };
    const std::uint64_t page = kernel_.page_size;
    if (cmd == DEVEXCL_CMD_INSPECT) {
        std::uint64_t start = dump_address();
        std::uint64_t end = start + (1 + rng_.below(rng_.percent(95) ? 64 : 20000)) * page;
        switch (rng_.below(40)) {
            case 0:  // the whole user address space: read part-way, abandoned
                start = 0;
                end = kernel_.task_size_max;
                break;
            case 1:  // bogus: unaligned, reversed, empty, beyond user space
            case 2:
            case 3:
            case 4:
                start = rng_.pick<std::uint64_t>({start + 1, end, start});
                end = rng_.pick<std::uint64_t>({end + 8, start, start, kernel_.task_size_max + page,
                                                ~0ULL & ~(page - 1), rng_.interesting()});
                break;
            default:
                break;
        }
        if (!rng_.one_in(20)) {
            attrs.push_back({DEVEXCL_A_PID, u32(pid())});
        }
        if (!rng_.one_in(20)) {
            attrs.push_back({DEVEXCL_A_START, u64(start)});
        }
        if (!rng_.one_in(20)) {
            attrs.push_back({DEVEXCL_A_END, u64(end)});
        }
        if (rng_.percent(30)) {
            const std::uint64_t cursor =
                rng_.percent(60) && end > start && end - start < (1ULL << 40)
                    ? start + rng_.below((end - start) / page + 1) * page
                    : rng_.pick<std::uint64_t>(
                          {start - page, end + page, start + 8, 0, ~0ULL, rng_.interesting()});
            attrs.push_back({DEVEXCL_A_CURSOR, u64(cursor)});
        }
        if (rng_.percent(50)) {
            attrs.push_back(
                {DEVEXCL_A_FLAGS,
                 u32(rng_.percent(90) ? static_cast<std::uint32_t>(rng_.below(4))
                                      : static_cast<std::uint32_t>(rng_.interesting()))});
        }
    } else if (cmd == DEVEXCL_CMD_INSPECT_VMA) {
        if (!rng_.one_in(20)) {
            attrs.push_back({DEVEXCL_A_PID, u32(pid())});
        }
        if (!rng_.one_in(20)) {
            attrs.push_back(
                {DEVEXCL_A_ADDR, u64(rng_.percent(80) ? dump_address() : rng_.interesting())});
        }
        if (rng_.percent(40)) {
            attrs.push_back(
                {DEVEXCL_A_FLAGS,
                 u32(rng_.percent(90) ? static_cast<std::uint32_t>(rng_.below(4))
                                      : static_cast<std::uint32_t>(rng_.interesting()))});
        }
    } else if (cmd == DEVEXCL_CMD_SUBSCRIBE) {
        if (rng_.percent(40)) {
            attrs.push_back({DEVEXCL_A_FILTER_PID, u32(pid())});
        }
        if (rng_.percent(30)) {
            attrs.push_back({DEVEXCL_A_FILTER_CTX_ID, u64(rng_.next())});
        }
    }
    // Corruptions: wrong lengths, flags, types; duplicates; garbage.
    if (rng_.percent(25)) {
        std::vector<Attr> duplicates;
        for (auto& a : attrs) {
            switch (rng_.below(12)) {
                case 0:
                    a.payload.resize(rng_.below(13), 0x5a);
                    break;
                case 1:
                    a.type |= NLA_F_NESTED;
                    break;
                case 2:
                    a.type |= NLA_F_NET_BYTEORDER;  // not checked by 6.1: no effect
                    break;
                case 3:
                    a.type = static_cast<std::uint16_t>(rng_.pick<unsigned>(
                        {0, DEVEXCL_A_PAD, DEVEXCL_A_EVENTS, DEVEXCL_A_PAGE_INFOS, DEVEXCL_A_STATS,
                         DEVEXCL_A_EMPTY_RUN, DEVEXCL_A_MAX + 1, 0x3fff,
                         static_cast<unsigned>(rng_.below(64))}));
                    break;
                case 4:
                    duplicates.push_back(a);  // a duplicate: the last one counts
                    break;
                default:
                    break;
            }
        }
        attrs.insert(attrs.end(), duplicates.begin(), duplicates.end());
    }
    if (rng_.percent(8)) {  // nested garbage
        std::vector<std::uint8_t> inner;
        for (unsigned i = 0, n = rng_.below(4); i < n; ++i) {
            std::vector<std::uint8_t> junk(rng_.below(16));
            for (auto& b : junk) {
                b = static_cast<std::uint8_t>(rng_.next());
            }
            put_attr(inner, static_cast<std::uint16_t>(rng_.below(0x4000)), junk.data(),
                     junk.size());
        }
        attrs.insert(
            attrs.begin() + static_cast<std::ptrdiff_t>(rng_.below(attrs.size() + 1)),
            {static_cast<std::uint16_t>(NLA_F_NESTED | rng_.below(DEVEXCL_A_MAX + 3)), inner});
    }
    for (const auto& a : attrs) {
        put_attr(out, a.type, a.payload.data(), a.payload.size());
    }
    if (rng_.percent(4)) {  // trailing bytes that are no attribute
        for (unsigned i = 0, n = rng_.between(1, 7); i < n; ++i) {
            out.push_back(static_cast<std::uint8_t>(rng_.next()));
        }
    }
}

void NetlinkFuzzer::message(std::vector<std::uint8_t>& out, std::uint32_t seq) {
    const std::size_t at = out.size();
    nlmsghdr h{};
    genlmsghdr g{};
    const unsigned roll = rng_.below(100);
    if (roll < 40) {
        g.cmd = DEVEXCL_CMD_INSPECT;
    } else if (roll < 52) {
        g.cmd = DEVEXCL_CMD_GET_STATS;
    } else if (roll < 60) {
        g.cmd = DEVEXCL_CMD_INSPECT_VMA;
    } else if (roll < 72) {
        g.cmd = DEVEXCL_CMD_SUBSCRIBE;
    } else if (roll < 84) {
        g.cmd = DEVEXCL_CMD_UNSUBSCRIBE;
    } else {
        g.cmd = static_cast<std::uint8_t>(
            rng_.pick<unsigned>({DEVEXCL_CMD_UNSPEC, DEVEXCL_CMD_EVENT, DEVEXCL_CMD_MAX + 1,
                                 static_cast<unsigned>(rng_.below(256))}));
    }
    g.version = rng_.percent(90) ? DEVEXCL_GENL_VERSION : static_cast<std::uint8_t>(rng_.next());
    g.reserved = rng_.percent(95) ? 0 : static_cast<std::uint16_t>(rng_.next());
    h.nlmsg_type = world_.family;
    if (rng_.percent(3)) {
        h.nlmsg_type = static_cast<std::uint16_t>(rng_.between(1, NLMSG_MIN_TYPE - 1));
    } else if (rng_.percent(3)) {
        // Far above any id generic netlink allocates: no such family.
        h.nlmsg_type = static_cast<std::uint16_t>(rng_.between(0x1000, 0xffff));
    }
    h.nlmsg_flags = NLM_F_REQUEST;
    if (rng_.percent(3)) {
        h.nlmsg_flags = 0;
    }
    if (rng_.percent(50)) {
        h.nlmsg_flags |= NLM_F_ACK;
    }
    if ((g.cmd == DEVEXCL_CMD_INSPECT) != rng_.percent(5)) {
        h.nlmsg_flags |= NLM_F_DUMP;
    }
    if (rng_.percent(5)) {
        h.nlmsg_flags |= NLM_F_ECHO;
    }
    if (rng_.percent(4)) {
        h.nlmsg_flags |= static_cast<std::uint16_t>(
            rng_.pick<unsigned>({NLM_F_MULTI, NLM_F_ROOT, NLM_F_MATCH, NLM_F_ATOMIC,
                                 NLM_F_DUMP_INTR, 1u << rng_.below(16)}));
    }
    h.nlmsg_seq = seq;
    h.nlmsg_pid = rng_.percent(90) ? 0 : static_cast<std::uint32_t>(rng_.next());
    out.resize(at + NLMSG_HDRLEN + GENL_HDRLEN);
    std::memcpy(out.data() + at + NLMSG_HDRLEN, &g, sizeof(g));
    if (rng_.percent(3)) {  // a body of random bytes
        for (unsigned i = 0, n = rng_.below(64); i < n; ++i) {
            out.push_back(static_cast<std::uint8_t>(rng_.next()));
        }
    } else {
        attributes(out, g.cmd);
    }
    std::size_t len = out.size() - at;
    if (rng_.percent(4)) {  // a length that cuts the message, or claims more
        len = rng_.percent(70) ? rng_.below(len + 1) : len + rng_.between(1, 64);
    }
    h.nlmsg_len = static_cast<std::uint32_t>(len);
    std::memcpy(out.data() + at, &h, sizeof(h));
    // Where the kernel looks for the next message depends on the claimed
    // length; the model reads the same bytes, so any length is fine.
    out.resize(at + NLMSG_ALIGN(out.size() - at), 0);
}

std::vector<std::uint8_t> NetlinkFuzzer::datagram(Socket& s) {
    (void)s;
    std::vector<std::uint8_t> out;
    const unsigned n = rng_.percent(60) ? 1 : rng_.between(2, 4);
    for (unsigned i = 0; i < n; ++i) {
        message(out, seq_++);
    }
    if (rng_.percent(3)) {  // cut the datagram itself
        out.resize(rng_.below(out.size() + 1));
    }
    return out;
}

void NetlinkFuzzer::step() {
    if (sockets_.empty()) {
        for (int i = 0; i < kSockets; ++i) {
            sockets_.push_back(open_socket());
        }
    }
    Socket& s = sockets_[rng_.below(sockets_.size())];
    if (rng_.percent(3)) {  // abandon: its dump and subscription end with it
        s = open_socket();
        return;
    }
    // A dump's last message read may already have made the kernel queue
    // its end: whether it still runs is not known until that is read.
    s.model.dumping = s.dump ? Tri::Maybe : Tri::No;
    std::vector<std::uint8_t> bytes;
    std::vector<Answer> answers;
    const bool continue_dump = s.dump && rng_.percent(20);
    while (!continue_dump) {
        bytes = datagram(s);
        SocketModel model = s.model;
        answers.clear();
        for (auto& m : model_datagram(bytes.data(), bytes.size(), world_, model)) {
            answers.push_back(Answer{m});
        }
        // Cut or mis-sized messages can put any bytes where the kernel
        // reads a sequence number: answers must stay matchable.
        if (seqs_distinct(s, answers)) {
            break;
        }
    }
    for (std::size_t i = 0; i < std::max<std::size_t>(answers.size(), bytes.empty() ? 0 : 1); ++i) {
        report_.count_call();
    }
    exchange(s, bytes, answers);
}

bool NetlinkFuzzer::seqs_distinct(const Socket& s, const std::vector<Answer>& answers) const {
    for (std::size_t i = 0; i < answers.size(); ++i) {
        const std::uint32_t seq = answers[i].expect.seq;
        if (seq == 0 || seq >= seq_ || (s.dump && seq == s.dump->seq)) {
            return false;
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (answers[j].expect.seq == seq) {
                return false;
            }
        }
    }
    return true;
}

void NetlinkFuzzer::exchange(Socket& s, const std::vector<std::uint8_t>& bytes,
                             std::vector<Answer>& answers) {
    const std::uint32_t drops_before = drops(s);
    if (!bytes.empty()) {
        if (::send(s.fd.get(), bytes.data(), bytes.size(), 0) < 0) {
            report_.fail("send of a " + std::to_string(bytes.size()) +
                         "-byte datagram: " + errno_name(errno));
            return;
        }
    }
    // The sentinel: an ack that comes after every answer of the datagram.
    const std::uint32_t sentinel = seq_++;
    nlmsghdr noop{NLMSG_HDRLEN, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, sentinel, 0};
    if (::send(s.fd.get(), &noop, sizeof(noop), 0) < 0) {
        report_.fail("send of the sentinel: " + errno_name(errno));
        return;
    }
    bool done = false;
    while (!done) {
        const ssize_t got = ::recv(s.fd.get(), rx_.data(), rx_.size(), 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (drops(s) == drops_before) {
                report_.fail("no ack for the sentinel: " + errno_name(errno));
            }
            break;
        }
        int n = static_cast<int>(got);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx_.data()); NLMSG_OK(nlh, n);
             nlh = NLMSG_NEXT(nlh, n)) {
            dispatch(s, nlh, sentinel, done, answers);
        }
    }
    const bool dropped = drops(s) != drops_before;
    if (dropped) {
        report_.note("the socket dropped answers meanwhile: missing ones are not judged");
    }
    for (auto& a : answers) {
        judge(s, a, dropped);
    }
}

void NetlinkFuzzer::dispatch(Socket& s, const nlmsghdr* nlh, std::uint32_t sentinel, bool& done,
                             std::vector<Answer>& answers) {
    if (nlh->nlmsg_type == world_.family && nlh->nlmsg_seq == 0) {
        check_event(nlh);
        return;
    }
    if (nlh->nlmsg_seq == sentinel) {
        const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(nlh));
        if (nlh->nlmsg_type != NLMSG_ERROR || err->error != 0) {
            report_.fail("the sentinel got type " + std::to_string(nlh->nlmsg_type));
        }
        done = true;
        return;
    }
    if (s.dump && nlh->nlmsg_seq == s.dump->seq) {
        dump_message(s, nlh);
        return;
    }
    for (auto& a : answers) {
        if (a.expect.seq != nlh->nlmsg_seq) {
            continue;
        }
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            const int e = -static_cast<const nlmsgerr*>(NLMSG_DATA(nlh))->error;
            if (a.error != -1) {
                ++a.extra;
            }
            a.error = e;
            // netlink_dump() found the socket's queue full before the first
            // dumpit: it answers ENOBUFS yet leaves the dump running, and
            // each read of the socket goes on with it (6.1
            // net/netlink/af_netlink.c:2213, __netlink_dump_start()).
            if (e == ENOBUFS && a.expect.success == Success::Dump && !s.dump) {
                s.dump = Dump{a.expect.seq,   a.expect.dump_start, a.expect.dump_end, true, 0,
                              a.expect.result};
            }
        } else if (nlh->nlmsg_type == NLMSG_DONE) {
            a.done = nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int) ? -load<int>(NLMSG_DATA(nlh)) : 0;
        } else if (nlh->nlmsg_type == world_.family) {
            const auto* g = static_cast<const genlmsghdr*>(NLMSG_DATA(nlh));
            if (g->cmd == DEVEXCL_CMD_GET_STATS && a.expect.success == Success::Stats) {
                a.reply = true;
                check_stats(nlh);
            } else if (g->cmd == DEVEXCL_CMD_INSPECT_VMA && a.expect.success == Success::Vma) {
                a.reply = true;
                check_vma(nlh);
            } else if (g->cmd == DEVEXCL_CMD_INSPECT && a.expect.success == Success::Dump) {
                if (!a.dump_data) {
                    a.dump_data = true;
                    s.dump = Dump{a.expect.seq,
                                  a.expect.dump_start,
                                  a.expect.dump_end,
                                  a.expect.dump_may_end_early,
                                  0,
                                  std::nullopt};
                }
                dump_message(s, nlh);
            } else {
                ++a.extra;
            }
        } else {
            ++a.extra;
        }
        return;
    }
    report_.fail("an answer nobody asked for: type " + std::to_string(nlh->nlmsg_type) + " seq " +
                 std::to_string(nlh->nlmsg_seq));
}

void NetlinkFuzzer::dump_message(Socket& s, const nlmsghdr* nlh) {
    Dump& d = *s.dump;
    if (nlh->nlmsg_type == NLMSG_DONE) {
        const int err =
            nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int) ? -load<int>(NLMSG_DATA(nlh)) : 0;
        const bool early_ok = err == ESRCH && d.may_end_early;
        if (d.deferred && err != 0) {
            report_.check(err, *d.deferred,
                          [] { return std::string("a dump resumed after ENOBUFS"); });
        } else if ((err != 0 && !early_ok) || (err == 0 && d.next != d.end)) {
            report_.fail("dump ended with " + errno_name(err) + " at " + hex(d.next) + " of [.., " +
                         hex(d.end) + ")");
        }
        s.dump.reset();
        return;
    }
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        const int err = -static_cast<const nlmsgerr*>(NLMSG_DATA(nlh))->error;
        report_.fail("dump message of type NLMSG_ERROR " + errno_name(err));
        return;
    }
    ++d.messages;
    std::uint64_t cursor = 0;
    bool ok = for_each_attr(nlh, [&](unsigned type, const std::uint8_t* data, int len) {
        if (type == DEVEXCL_A_PAGE_INFOS && len % sizeof(devexcl_page_info) == 0) {
            for (int off = 0; off < len; off += sizeof(devexcl_page_info)) {
                const auto info = load<devexcl_page_info>(data + off);
                if (info.addr != d.next || (!kernel_.root && info.pfn != 0)) {
                    report_.fail("dump record at " + hex(info.addr) + ", expected " + hex(d.next));
                }
                d.next += kernel_.page_size;
            }
        } else if (type == DEVEXCL_A_EMPTY_RUN && len == sizeof(devexcl_empty_run)) {
            const auto run = load<devexcl_empty_run>(data);
            if (run.addr != d.next || run.npages == 0) {
                report_.fail("dump run at " + hex(run.addr) + " of " + std::to_string(run.npages) +
                             ", expected " + hex(d.next));
            }
            d.next = run.addr + run.npages * kernel_.page_size;
        } else if (type == DEVEXCL_A_CURSOR && len == 8) {
            cursor = load<std::uint64_t>(data);
        } else if (type != DEVEXCL_A_PAD) {
            report_.fail("dump attribute " + std::to_string(type) + " of " + std::to_string(len) +
                         " bytes");
        }
    });
    if (!ok || cursor != d.next || d.next > d.end) {
        report_.fail("dump message: cursor " + hex(cursor) + ", records reached " + hex(d.next));
    }
}

void NetlinkFuzzer::check_event(const nlmsghdr* nlh) {
    const auto* g = static_cast<const genlmsghdr*>(NLMSG_DATA(nlh));
    bool ok = g->cmd == DEVEXCL_CMD_EVENT;
    ok = ok && for_each_attr(nlh, [&](unsigned type, const std::uint8_t* data, int len) {
             if (type == DEVEXCL_A_PAD) {
                 return;
             }
             if (type != DEVEXCL_A_EVENTS || len == 0 || len % sizeof(devexcl_event) != 0) {
                 ok = false;
                 return;
             }
             for (int off = 0; off < len; off += sizeof(devexcl_event)) {
                 const auto e = load<devexcl_event>(data + off);
                 if (e.cause == 0 || e.cause >= DEVEXCL_CAUSE_COUNT || e.npages == 0 ||
                     e.end <= e.start || e.seq == 0 || e.reserved != 0) {
                     ok = false;
                 }
             }
         });
    if (!ok) {
        report_.fail("a malformed event message");
    }
}

void NetlinkFuzzer::check_stats(const nlmsghdr* nlh) {
    int found = 0;
    bool ok = for_each_attr(nlh, [&](unsigned type, const std::uint8_t* data, int len) {
        if (type != DEVEXCL_A_STATS) {
            return;
        }
        int rem = len;
        const std::uint8_t* p = data;
        while (rem >= static_cast<int>(NLA_HDRLEN)) {
            const auto a = load<nlattr>(p);
            if (a.nla_len < NLA_HDRLEN || a.nla_len > rem) {
                break;
            }
            const unsigned t = a.nla_type & NLA_TYPE_MASK;
            if (t >= DEVEXCL_STAT_CONTEXTS_OPEN && t <= DEVEXCL_STAT_MAX &&
                a.nla_len == NLA_HDRLEN + 8) {
                ++found;
                const auto v = load<std::uint64_t>(p + NLA_HDRLEN);
                if ((t == DEVEXCL_STAT_SUBSCRIBERS && v > 64) ||
                    (t == DEVEXCL_STAT_CONTEXTS_OPEN && v == 0)) {
                    report_.fail("stats: counter " + std::to_string(t) + " is " +
                                 std::to_string(v));
                }
            }
            p += NLA_ALIGN(a.nla_len);
            rem -= NLA_ALIGN(a.nla_len);
        }
    });
    if (!ok || found != DEVEXCL_STAT_MAX - DEVEXCL_STAT_CONTEXTS_OPEN + 1) {
        report_.fail("a GET_STATS reply with " + std::to_string(found) + " counters");
    }
}

// One VMA, its bounds sane, and a chain of whole records no longer than it says.
void NetlinkFuzzer::check_vma(const nlmsghdr* nlh) {
    std::optional<devexcl_vma_info> vma;
    int chain_bytes = -1;
    bool ok = for_each_attr(nlh, [&](unsigned type, const std::uint8_t* data, int len) {
        if (type == DEVEXCL_A_VMA && len == static_cast<int>(sizeof(devexcl_vma_info))) {
            vma = load<devexcl_vma_info>(data);
        } else if (type == DEVEXCL_A_ANON_VMA_CHAIN) {
            chain_bytes = len;
        }
    });
    const std::size_t entry = sizeof(devexcl_anon_vma_info);
    if (!ok || !vma || vma->vm_start >= vma->vm_end || vma->vm_end > kernel_.task_size_max ||
        (chain_bytes > 0 && (chain_bytes % entry != 0 || chain_bytes / entry > vma->chain_len ||
                             chain_bytes / entry > DEVEXCL_NL_MAX_CHAIN))) {
        report_.fail("a malformed INSPECT_VMA reply");
    }
}

void NetlinkFuzzer::judge(Socket& s, Answer& a, bool dropped) {
    const MessageExpect& m = a.expect;
    auto describe = [&] {
        return "netlink seq " + std::to_string(m.seq) + " (message at byte " +
               std::to_string(m.offset) + ")";
    };
    const bool answered = a.error != -1 || a.reply || a.dump_data || a.done != -1;
    if (m.silent) {
        if (answered) {
            report_.fail(describe() + ": an answer to a message the kernel must ignore");
        }
        return;
    }
    if (a.extra != 0) {
        report_.fail(describe() + ": " + std::to_string(a.extra) + " unexpected answer(s)");
    }
    // The errno: an error ack, or a dump's NLMSG_DONE.
    int err = a.error > 0 ? a.error : 0;
    if (err == 0 && a.done > 0 && !a.dump_data) {
        err = a.done;
    }
    if (!answered) {
        const bool may_be_silent =
            m.result.may_succeed && !m.ack_requested && m.success == Success::Ack;
        if (!may_be_silent && !dropped) {
            report_.fail(describe() + ": no answer, allowed " + m.result.str());
        }
        if (!dropped && m.success == Success::Ack) {
            err = 0;
        } else {
            return;
        }
    }
    report_.check(err, m.result, describe);
    if (err != 0) {
        return;
    }
    if ((m.success == Success::Stats || m.success == Success::Vma) && !a.reply && !dropped) {
        report_.fail(describe() + ": a request succeeded without its reply");
    }
    if (m.success == Success::Dump && !a.dump_data && a.done != 0 && !dropped) {
        report_.fail(describe() + ": a dump that succeeded sent nothing");
    }
    if (m.ack_requested && m.success != Success::Dump && a.error != 0 && !dropped) {
        report_.fail(describe() + ": no ack though NLM_F_ACK was set");
    }
    if (m.subscribes) {
        s.model.subscribed = Tri::Yes;
    }
    if (m.unsubscribes) {
        s.model.subscribed = Tri::No;
    }
}

}  // namespace devexcl::fuzz
