// mark | status | release | atomic | hold | counters | revocations, chained
// with '+' on one device context.
#include <algorithm>
#include <iostream>
#include <set>

#include "commands.hpp"
#include "devexcl/device.hpp"
#include "devexcl/events.hpp"
#include "event_pump.hpp"
#include "report.hpp"
#include "steps.hpp"
#include "stop_signals.hpp"

namespace devexcl::cli {

namespace {

// One line: why, and what still works.
constexpr const char* kNoDeviceExclusive =
    "devexcl: this kernel cannot make pages device-exclusive (it was built without "
    "CONFIG_DEVICE_PRIVATE), so mark and atomic are unavailable; inspect, vma, tree, watch "
    "and stats work.";

Revocation to_revocation(const Event& e) {
    return Revocation{e.seq,         e.start, e.end,
                      e.npages,      e.cause, static_cast<std::uint64_t>(e.trigger_pid),
                      e.trigger_comm};
}

// Keeps the context (and what it holds) alive, printing its revocations
// as they happen, until SECONDS pass, Ctrl-C/SIGTERM, or EOF on stdin. The
// context's own events, not its log: the log keeps the last
// DEVEXCL_REVOCATION_LOG batches, and events never drop one silently. At
// the end the log supplies what no event brought: batches from just before
// the subscription, and events still a jiffy away.
void hold(Device& dev, const Reporter& rep, const Step& step) {
    StopSignals stop;
    std::uint64_t before = 0;  // the batches before the hold are not its to report
    for (const Revocation& r : dev.revocations()) {
        before = r.seq;
    }
    const Counters counters = dev.counters();
    EventListener listener({counters.context_id, 0});
    rep.hold(counters, step.seconds);
    std::set<std::uint64_t> printed;
    pump_events(listener, stop, PumpUntil{deadline_after(step.seconds), !step.seconds}, rep.out,
                [&](const Event& e) {
                    if (e.seq > before) {
                        rep.revocation(to_revocation(e), e.dropped);
                        printed.insert(e.seq);
                    }
                    return true;
                });
    for (const Revocation& r : dev.revocations()) {
        if (r.seq > before && !printed.contains(r.seq)) {
            rep.revocation(r);
        }
    }
    rep.out.flush();
}

// Marking and device access need device-exclusive entries; the other
// steps only report the context's state.
bool needs_device_exclusive(const std::vector<Step>& steps) {
    return std::any_of(steps.begin(), steps.end(), [](const Step& s) {
        return s.kind == StepKind::Mark || s.kind == StepKind::Atomic;
    });
}

}  // namespace

int command_steps(const Invocation& inv, std::ostream& out) {
    std::vector<Step> steps = parse_steps(inv.command, inv.args);
    Device dev = Device::open(inv.device);
    if (needs_device_exclusive(steps) && !dev.version().device_exclusive()) {
        // Said once, before any step runs, rather than as a bare EOPNOTSUPP.
        std::cerr << kNoDeviceExclusive << '\n';
        return 3;
    }
    Reporter rep{out, inv.json, dev.version().page_size};
    const pid_t pid = chain_pid(steps);
    if (pid != 0) {
        dev.bind(pid);
    }
    int status = 0;
    for (const Step& s : steps) {
        switch (s.kind) {
            case StepKind::Mark: {
                MarkResult r = dev.mark(s.addr, s.length, s.mark_mode);
                rep.mark(pid, r);
                status = r.all_held() ? status : 1;
                break;
            }
            case StepKind::Status:
                rep.status(pid, s.addr, dev.status(s.addr, s.length));
                break;
            case StepKind::Release:
                rep.release(pid, s.addr, s.length, dev.release(s.addr, s.length));
                break;
            case StepKind::Atomic:
                rep.access(pid, s.addr, s.op, s.value, s.expected,
                           dev.access(s.addr, s.op, s.value, s.expected, s.reacquire));
                break;
            case StepKind::Hold:
                hold(dev, rep, s);
                break;
            case StepKind::Counters:
                rep.counters(dev.counters());
                break;
            case StepKind::Revocations:
                rep.revocations(dev.revocations());
                break;
        }
        out.flush();
    }
    return status;
}

}  // namespace devexcl::cli
