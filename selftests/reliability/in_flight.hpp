// Things that can be in flight when devexcl.ko is asked to unload, each
// with whether it holds a reference on the module while it lasts. From the
// code: an open /dev/devexcl file does (its fops owner), and so do the
// marks of a context, which live in an open file, and a holder process
// until its exit has closed its files. A netlink dump does until it ends
// or its socket closes (__netlink_dump_start() takes a reference on the
// family's module; netlink_dump() at the end, or netlink_release(), drops
// it). A subscription does not: generic netlink takes no module reference
// for a family's sockets or for a doit request, and devexcl's exit drops
// its subscribers.
#pragma once

#include <memory>
#include <string_view>

namespace devexcl::test {

enum class InFlightKind {
    OpenFile,      // an open /dev/devexcl
    HeldMarks,     // a context holding marks (own memory, or another process's)
    KilledHolder,  // a process holding marks, SIGKILLed (idle, or mid device atomics)
    Subscription,  // a socket subscribed to events, which received one
    HalfReadDump,  // an INSPECT dump of which one message was read
};

std::string_view kind_name(InFlightKind kind);

class InFlight {
public:
    virtual ~InFlight() = default;

    // Whether it keeps the module in use until end().
    virtual bool pins_module() const = 0;
    // Whether the module still counts it as a subscriber after end().
    virtual bool subscribed_after_end() const { return false; }
    // Ends it: closes, kills and reaps, or reads to the end. Checks what it
    // can of the ending with gtest expectations.
    virtual void end() = 0;
    // After the module is gone: what is left of it is harmless.
    virtual void check_after_unload() {}
};

// Starts one of `kind`. `variant` (0 or 1) picks between its two forms:
// own memory or another process's; an idle holder or a busy one; a
// subscription kept through the unload or dropped first; a dump closed
// half-read or read to its end.
std::unique_ptr<InFlight> start_in_flight(InFlightKind kind, int variant);

}  // namespace devexcl::test
