// Benchmarks for device-exclusive access, run in one VM boot so the
// baselines share the machine. They print figures and ratios; they assert
// nothing (timing is never a test).
//
//   mark:   marking 64 MiB with devexcl vs test_hmm's HMM_DMIRROR_EXCLUSIVE
//   revoke: a CPU write fault that revokes a devexcl-held page vs a
//           first-touch anonymous write fault, with devexcl's tracepoints
//           off (compiled in, as shipped) and then with devexcl:* enabled
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "bench/populated.hpp"
#include "bench/timing.hpp"
#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/unique_fd.hpp"
#include "lib/test_hmm_uapi.h"
#include "lib/tracefs.hpp"

using namespace devexcl;
using namespace devexcl::bench;

namespace {

constexpr int kRounds = 5;

// Touching every page faults device-exclusive entries back to the CPU.
void cpu_touch(Mapping& m) {
    for (std::size_t off = 0; off < m.size(); off += kPage) {
        m.as<volatile char>()[off] = 2;
    }
}

// Runs one warm-up round (TCG translates the code paths on first use, ~3x
// slower) and kRounds timed rounds; returns the median pages/s.
double rate(std::size_t pages, const std::function<double()>& timed_round) {
    timed_round();
    std::vector<double> rates;
    for (int i = 0; i < kRounds; ++i) {
        rates.push_back(static_cast<double>(pages) / timed_round());
    }
    return median(rates);
}

void bench_mark() {
    const std::size_t length = 64UL << 20;
    const std::size_t pages = length / kPage;
    Mapping buf = populated(length);

    Device dev = Device::open();
    double devexcl_rate = rate(pages, [&] {
        double t0 = now_s();
        MarkResult r = dev.mark(buf.address(), length);
        double dt = now_s() - t0;
        if (r.marked != pages) {
            throw std::runtime_error("devexcl marked " + std::to_string(r.marked) + " of " +
                                     std::to_string(pages));
        }
        dev.release(buf.address(), length);
        return dt;
    });

    UniqueFd hmm(::open("/dev/hmm_dmirror0", O_RDWR | O_CLOEXEC));
    if (!hmm) {
        throw_last_errno("open /dev/hmm_dmirror0");
    }
    // test_hmm copies the range it marked out to this buffer, as part of the call.
    std::vector<char> mirror(length);
    double test_hmm_rate = rate(pages, [&] {
        hmm_dmirror_cmd cmd{};
        cmd.addr = buf.address();
        cmd.ptr = reinterpret_cast<std::uintptr_t>(mirror.data());
        cmd.npages = pages;
        double t0 = now_s();
        int ret = ::ioctl(hmm.get(), HMM_DMIRROR_EXCLUSIVE, &cmd);
        double dt = now_s() - t0;
        if (ret != 0 || cmd.cpages != pages) {
            throw_last_errno("HMM_DMIRROR_EXCLUSIVE");
        }
        cpu_touch(buf);
        return dt;
    });

    std::printf("# mark 64 MiB (%zu pages), median of %d rounds after a warm-up:\n", pages,
                kRounds);
    std::printf("#   devexcl DEVEXCL_IOC_MARK     %10.0f pages/s\n", devexcl_rate);
    std::printf("#   test_hmm HMM_DMIRROR_EXCLUSIVE %8.0f pages/s\n", test_hmm_rate);
    std::printf("#   ratio devexcl/test_hmm       %10.2fx (target >= 2.5x)\n",
                devexcl_rate / test_hmm_rate);
}

void bench_revoke() {
    const std::size_t length = 32UL << 20;
    const std::size_t pages = length / kPage;

    // Baseline: first-touch anonymous write faults (allocate, zero, map).
    double first_touch = median([&] {
        std::vector<double> per_fault;
        for (int i = 0; i <= kRounds; ++i) {
            Mapping m(length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            ::madvise(m.data(), length, MADV_NOHUGEPAGE);
            double t0 = now_s();
            cpu_touch(m);
            double dt = (now_s() - t0) / static_cast<double>(pages);
            if (i > 0) {
                per_fault.push_back(dt);
            }
        }
        return per_fault;
    }());

    // A write fault on a page devexcl holds: restore the PTE, run the
    // notifier, revoke and log it. Rounds alternate between devexcl:* off
    // (as shipped: compiled in, disabled) and on, recorded into a trace
    // instance of the benchmark's own, so that both see the same machine.
    Mapping buf = populated(length);
    Device dev = Device::open();
    auto revoking_round = [&] {
        if (dev.mark(buf.address(), length).marked != pages) {
            throw std::runtime_error("devexcl could not mark the buffer");
        }
        double t0 = now_s();
        cpu_touch(buf);
        return (now_s() - t0) / static_cast<double>(pages);
    };
    // Without tracefs, or with a devexcl.ko built without tracepoints, only
    // the first kind runs.
    const std::string tracefs = devexcl::test::tracefs_root();
    const bool traceable =
        !tracefs.empty() && ::access((tracefs + "/events/devexcl").c_str(), F_OK) == 0;
    std::optional<devexcl::test::TraceInstance> trace;
    if (traceable) {
        trace.emplace(tracefs, "devexcl_bench");
    }
    std::vector<double> untraced_rounds, traced_rounds;
    for (int i = 0; i <= kRounds; ++i) {
        double dt = revoking_round();
        if (i > 0) {
            untraced_rounds.push_back(dt);
        }
        if (trace) {
            trace->enable("devexcl");
            dt = revoking_round();
            trace->enable("devexcl", false);
            if (i > 0) {
                traced_rounds.push_back(dt);
            }
        }
    }
    const std::uint64_t rounds = (kRounds + 1) * (trace ? 2 : 1);
    if (dev.counters().revoked_by(Cause::CpuFault) != rounds * pages) {
        throw std::runtime_error("not every timed fault revoked a held page");
    }
    const double revoking = median(untraced_rounds);

    std::printf("# write fault, %zu pages, median of %d rounds after a warm-up:\n", pages, kRounds);
    std::printf("#   first-touch anonymous fault   %8.0f ns\n", first_touch * 1e9);
    std::printf("#   revoking fault (devexcl held) %8.0f ns\n", revoking * 1e9);
    std::printf("#   ratio revoking/first-touch    %8.2fx (target <= 1.1x)\n",
                revoking / first_touch);
    if (!trace) {
        std::printf("#   no tracefs or no devexcl:* events: the traced fault is not measured\n");
        return;
    }
    const double traced = median(traced_rounds);
    std::printf("#   revoking fault, devexcl:* on  %8.0f ns (rounds alternating with the above)\n",
                traced * 1e9);
    std::printf("#   ratio traced/first-touch      %8.2fx (traced/untraced %.2fx)\n",
                traced / first_touch, traced / revoking);
}

}  // namespace

int main(int argc, char** argv) {
    std::string which = argc > 1 ? argv[1] : "all";
    try {
        if (which == "all" || which == "mark") {
            bench_mark();
        }
        if (which == "all" || which == "revoke") {
            bench_revoke();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "exclusive_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
