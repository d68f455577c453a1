// What 6.1's netlink and generic netlink core, then devexcl's handlers, do
// with the bytes of one datagram sent to the "devexcl" family: which
// messages are processed, and what each may answer. It follows
// netlink_rcv_skb(), genl_family_rcv_msg(), __nla_validate_parse() in
// strict mode against devexcl_nl_policy, and the handlers' documented
// checks, so that any bytes the fuzzer sends have a precise expectation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "errno_set.hpp"
#include "facts.hpp"

namespace devexcl::fuzz {

// A socket's state, as far as the model knows it.
struct SocketModel {
    Tri subscribed = Tri::No;
    Tri dumping = Tri::No;  // a dump of this socket has not ended yet
};

enum class Success { Silent, Ack, Stats, Vma, Dump };

// One processed message and what it may answer.
struct MessageExpect {
    std::uint32_t seq = 0;
    std::size_t offset = 0;  // in the datagram
    bool ack_requested = false;
    // Never any answer (not a request, and no ack asked for).
    bool silent = false;
    Expect result;
    // What a success looks like.
    Success success = Success::Ack;
    // For a dump request: what the handler will walk.
    std::uint64_t dump_start = 0, dump_end = 0;
    std::uint32_t dump_pid = 0;
    bool dump_may_end_early = false;  // its target may exit mid-dump (ESRCH)
    // Its effect on the socket, on success.
    bool subscribes = false, unsubscribes = false;
};

struct ModelWorld {
    std::uint16_t family = 0;
    KernelFacts kernel;
    std::function<ProcessFacts(std::uint64_t pid)> process;
};

// Every message of the datagram the kernel will process, in order.
// `socket` is advanced by what each message may do.
std::vector<MessageExpect> model_datagram(const std::uint8_t* data, std::size_t len,
                                          const ModelWorld& world, SocketModel& socket);

}  // namespace devexcl::fuzz
