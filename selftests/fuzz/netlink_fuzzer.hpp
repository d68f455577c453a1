// Random and malformed generic netlink messages to the "devexcl" family on
// raw netlink sockets: random commands and flags, attributes of the wrong
// type and length, nested garbage, truncated messages, several messages in
// one datagram, dump requests with bogus cursors and ranges, dumps read
// part-way and abandoned. Every answer is matched to its request by
// sequence number and checked against the model (netlink_model.hpp).
//
// Each datagram is followed by a sentinel (an NLMSG_NOOP asking for an
// ack): the kernel answers requests in order while they are sent, so once
// the sentinel's ack is read, every answer of the datagram has been read,
// and a missing answer is a failure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "arena.hpp"
#include "devexcl/unique_fd.hpp"
#include "netlink_model.hpp"
#include "processes.hpp"
#include "report.hpp"
#include "rng.hpp"

struct nlmsghdr;

namespace devexcl::fuzz {

class NetlinkFuzzer {
public:
    NetlinkFuzzer(Rng& rng, Report& report, const KernelFacts& kernel, const Processes& processes,
                  const Arena& arena);

    void step();
    // Closes every socket (their subscriptions and dumps end with them).
    void close_all() { sockets_.clear(); }

private:
    // A dump in progress on a socket.
    struct Dump {
        std::uint32_t seq = 0;
        std::uint64_t next = 0;  // the address its next page must have
        std::uint64_t end = 0;
        bool may_end_early = false;
        std::uint64_t messages = 0;
        // Started by an ENOBUFS answer: the request's own checks come with its end.
        std::optional<Expect> deferred;
    };
    struct Socket {
        UniqueFd fd;
        SocketModel model;
        std::optional<Dump> dump;
    };
    // What arrived for one request of a datagram.
    struct Answer {
        MessageExpect expect;
        int error = -1;      // -1: none; 0: an ack
        bool reply = false;  // a GET_STATS or INSPECT_VMA reply
        bool dump_data = false;
        int done = -1;  // NLMSG_DONE's errno, -1 if none
        int extra = 0;  // answers beyond what a request can get
    };

    Socket open_socket() const;
    std::vector<std::uint8_t> datagram(Socket& s);
    void message(std::vector<std::uint8_t>& out, std::uint32_t seq);
    void attributes(std::vector<std::uint8_t>& out, int cmd);
    void put_attr(std::vector<std::uint8_t>& out, std::uint16_t type, const void* data,
                  std::size_t len);
    std::uint64_t dump_address();

    // Sends the datagram (if any) and a sentinel, then reads every answer
    // up to the sentinel's ack.
    void exchange(Socket& s, const std::vector<std::uint8_t>& bytes, std::vector<Answer>& answers);
    void dispatch(Socket& s, const nlmsghdr* nlh, std::uint32_t sentinel, bool& done,
                  std::vector<Answer>& answers);
    void dump_message(Socket& s, const nlmsghdr* nlh);
    void check_event(const nlmsghdr* nlh);
    void check_stats(const nlmsghdr* nlh);
    void check_vma(const nlmsghdr* nlh);
    void judge(Socket& s, Answer& a, bool dropped);
    std::uint32_t drops(const Socket& s) const;
    bool seqs_distinct(const Socket& s, const std::vector<Answer>& answers) const;

    Rng& rng_;
    Report& report_;
    KernelFacts kernel_;
    const Processes& processes_;
    const Arena& arena_;
    ModelWorld world_;
    std::vector<Socket> sockets_;
    std::uint32_t seq_ = 1;
    std::vector<std::uint8_t> rx_;
};

}  // namespace devexcl::fuzz
