// mark | status | release | atomic | hold | counters | revocations, chained
// with '+' on one device context.
#include <poll.h>
#include <unistd.h>

#include <chrono>

#include "commands.hpp"
#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "report.hpp"
#include "steps.hpp"
#include "stop_signals.hpp"

namespace devexcl::cli {

namespace {

// Keeps the context (and what it holds) alive, printing revocations as
// they happen, until SECONDS pass, Ctrl-C/SIGTERM, or EOF on stdin.
void hold(Device& dev, const Reporter& rep, const Step& step) {
    StopSignals stop;
    std::uint64_t seen = 0;
    for (const Revocation& r : dev.revocations()) {
        seen = r.seq;
    }
    using clock = std::chrono::steady_clock;
    const auto deadline = step.seconds
                              ? clock::now() + std::chrono::duration_cast<clock::duration>(
                                                   std::chrono::duration<double>(*step.seconds))
                              : clock::time_point::max();
    bool watch_stdin = !step.seconds;
    if (!rep.json && !step.seconds) {
        rep.out << "holding; Ctrl-C or end of input releases\n";
    }
    rep.out.flush();
    for (;;) {
        for (const Revocation& r : dev.revocations()) {
            if (r.seq > seen) {
                rep.revocation(r);
                seen = r.seq;
            }
        }
        rep.out.flush();
        auto now = clock::now();
        if (now >= deadline) {
            break;
        }
        int timeout_ms = 100;
        if (deadline != clock::time_point::max()) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
            timeout_ms = static_cast<int>(std::min<long long>(left + 1, timeout_ms));
        }
        pollfd fds[2] = {{stop.fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int n = ::poll(fds, watch_stdin ? 2 : 1, timeout_ms);
        if (n < 0 && errno != EINTR) {
            throw_last_errno("poll");
        }
        if (n > 0 && fds[0].revents != 0) {
            break;
        }
        if (n > 0 && watch_stdin && fds[1].revents != 0) {
            char buf[256];
            if (::read(STDIN_FILENO, buf, sizeof(buf)) <= 0) {
                break;
            }
        }
    }
}

}  // namespace

int command_steps(const Invocation& inv, std::ostream& out) {
    std::vector<Step> steps = parse_steps(inv.command, inv.args);
    Device dev = Device::open(inv.device);
    Reporter rep{out, inv.json, dev.version().page_size};
    const pid_t pid = chain_pid(steps);
    if (pid != 0) {
        dev.bind(pid);
    }
    int status = 0;
    for (const Step& s : steps) {
        switch (s.kind) {
            case StepKind::Mark: {
                MarkResult r = dev.mark(s.addr, s.length);
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
