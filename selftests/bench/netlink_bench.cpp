// Benchmarks for the generic netlink family, in one VM boot with their
// baselines. They print figures and ratios; they assert nothing.
//
//   latency: CPU write fault -> revocation event received, over 10k faults
//   dump:    records/s of rmap dumps (runs of empty pages, or a record a
//            page) vs the INSPECT_RANGE ioctl: a sparse GiB, a dense 256 MiB
//   fault:   a revoking fault with a subscribed listener vs without
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/populated.hpp"
#include "bench/timing.hpp"
#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/events.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/range_inspector.hpp"
#include "lib/cpu_pin.hpp"

using namespace devexcl;
using namespace devexcl::bench;
using devexcl::test::pin_to_cpu;
using namespace std::chrono_literals;

namespace {

constexpr int kRounds = 3;

// Latencies from a CPU write fault on a held page to its event arriving.
// `gap`: the pause before each fault; 0 runs them back to back.
std::vector<double> fault_to_event_latencies(int faults, std::chrono::microseconds gap) {
    Mapping buf(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    auto* word = buf.as<volatile std::uint64_t>();
    *word = 0;
    Device dev = Device::open();
    EventListener listener({dev.counters().context_id, 0});
    std::vector<double> latency;
    latency.reserve(static_cast<std::size_t>(faults));
    for (int k = -100; k < faults; ++k) {  // the first 100 warm TCG up
        if (dev.mark(buf.address(), kPage).marked != 1) {
            throw std::runtime_error("mark failed");
        }
        if (gap.count() > 0) {
            std::this_thread::sleep_for(gap);
        }
        const double t0 = now_s();
        *word = static_cast<std::uint64_t>(k);
        auto ev = listener.next(5s);
        const double t1 = now_s();
        if (!ev || ev->cause != Cause::CpuFault) {
            throw std::runtime_error("no cpu-fault event within 5 s");
        }
        if (k >= 0) {
            latency.push_back(t1 - t0);
        }
    }
    return latency;
}

void bench_latency() {
    constexpr int kFaults = 10000;
    // An event after a quiet spell is sent at once; events of a stream are
    // batched and wait for the next poll, at most a jiffy.
    const auto isolated = fault_to_event_latencies(kFaults, 3ms);
    const auto stream = fault_to_event_latencies(kFaults, 0us);
    std::printf("# event latency, CPU write fault to event received, %d faults each:\n", kFaults);
    std::printf("#   isolated (3 ms apart)      median %8.1f us  p99 %8.1f us\n",
                median(isolated) * 1e6, percentile(isolated, 0.99) * 1e6);
    std::printf("#   back to back (a stream)    median %8.1f us  p99 %8.1f us\n",
                median(stream) * 1e6, percentile(stream, 0.99) * 1e6);
}

// Seconds per round of reading every record of `mem` through each reader,
// alternated so all see the same machine, in an order that rotates so no
// reader always follows the same one. Each counts the records that have a
// page, the same per-record work for all three.
struct DumpRounds {
    double ioctl_s, runs_s, every_s;
    std::uint64_t runs_messages, every_messages;
};

DumpRounds dump_rounds(const Mapping& mem, std::size_t present) {
    const pid_t me = ::getpid();
    const std::uint64_t start = mem.address(), end = mem.address() + mem.size();
    Device dev = Device::open();
    std::vector<devexcl_page_info> raw(DEVEXCL_MAX_RANGE_RECORDS);
    auto check = [&](const char* reader, std::uint64_t records) {
        if (records != present) {
            throw std::runtime_error(std::string(reader) + " saw " + std::to_string(records) +
                                     " pages");
        }
    };
    auto ioctl_round = [&] {
        std::uint64_t records = 0;
        devexcl_inspect_range_req req{};
        req.pid = static_cast<std::uint64_t>(me);
        req.start = start;
        req.length = mem.size();
        req.records = reinterpret_cast<std::uintptr_t>(raw.data());
        req.max_records = raw.size();
        req.cursor = req.start;
        double t0 = now_s();
        while (req.cursor < end) {
            if (auto ec = dev.try_ioctl(DEVEXCL_IOC_INSPECT_RANGE, &req)) {
                throw std::system_error(ec, "INSPECT_RANGE");
            }
            for (std::uint64_t i = 0; i < req.count; ++i) {
                records += PageInfo::from_raw(raw[i]).has_page();
            }
        }
        double dt = now_s() - t0;
        check("ioctl", records);
        return dt;
    };
    auto dump_round = [&](const char* reader, RangeInspector& inspector, std::uint64_t& messages) {
        std::uint64_t records = 0;
        messages = 0;
        double t0 = now_s();
        inspector.inspect_batches(
            me, start, end, false,
            [&](std::span<const devexcl_page_info> batch) {
                for (const devexcl_page_info& raw_record : batch) {
                    records += PageInfo::from_raw(raw_record).has_page();
                }
            },
            [&](std::uint64_t) { ++messages; });
        double dt = now_s() - t0;
        check(reader, records);
        return dt;
    };
    RangeInspector runs(DumpFormat::EmptyRuns), every(DumpFormat::EveryRecord);
    DumpRounds r{};
    std::vector<double> ioctl_t, runs_t, every_t;
    const std::function<void()> readers[] = {
        [&] { ioctl_t.push_back(ioctl_round()); },
        [&] { runs_t.push_back(dump_round("dump with runs", runs, r.runs_messages)); },
        [&] { every_t.push_back(dump_round("dump of every record", every, r.every_messages)); },
    };
    for (const auto& read : readers) {  // warm all three up
        read();
    }
    ioctl_t.clear();
    runs_t.clear();
    every_t.clear();
    for (int i = 0; i < 2 * kRounds + 1; ++i) {
        for (int k = 0; k < 3; ++k) {
            readers[(i + k) % 3]();
        }
    }
    r.ioctl_s = median(ioctl_t);
    r.runs_s = median(runs_t);
    r.every_s = median(every_t);
    return r;
}

void print_dump(const char* what, std::size_t pages, const DumpRounds& r, const char* target) {
    const double n = static_cast<double>(pages);
    std::printf("# rmap records of %s (%zu pages), median of %d alternating rounds:\n", what, pages,
                2 * kRounds + 1);
    std::printf("#   ioctl (DEVEXCL_IOC_INSPECT_RANGE, 4096 a call)  %10.0f records/s\n",
                n / r.ioctl_s);
    std::printf(
        "#   dump, runs of empty pages                       %10.0f records/s (%llu "
        "messages)\n",
        n / r.runs_s, static_cast<unsigned long long>(r.runs_messages));
    std::printf(
        "#   dump, a record for every page                   %10.0f records/s (%llu "
        "messages)\n",
        n / r.every_s, static_cast<unsigned long long>(r.every_messages));
    std::printf("#   ratio dump (runs)/ioctl                         %10.2fx%s\n",
                r.ioctl_s / r.runs_s, target);
    std::printf("#   ratio dump (every record)/ioctl                 %10.2fx\n",
                r.ioctl_s / r.every_s);
}

void bench_dump() {
    // The target's case: a sparse GiB, where most pages are empty.
    const std::size_t sparse_length = 1UL << 30;
    const std::size_t sparse_pages = sparse_length / kPage;
    DumpRounds sparse = [&] {
        Mapping big = populated(sparse_length, 16, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
        return dump_rounds(big, sparse_pages / 16);
    }();
    print_dump("1 GiB, every 16th page present", sparse_pages, sparse, " (target >= 1.0x)");
    // No empty page to collapse: what a record costs each way.
    const std::size_t dense_length = 256UL << 20;
    const std::size_t dense_pages = dense_length / kPage;
    Mapping dense_mem = populated(dense_length);
    print_dump("256 MiB, every page present", dense_pages, dump_rounds(dense_mem, dense_pages), "");
}

// Per-fault time of one round of write faults that each revoke a held page.
double revoking_round_ns(Device& dev, Mapping& buf) {
    const std::size_t pages = buf.size() / kPage;
    if (dev.mark(buf.address(), buf.size()).marked != pages) {
        throw std::runtime_error("mark failed");
    }
    double t0 = now_s();
    for (std::size_t off = 0; off < buf.size(); off += kPage) {
        buf.as<volatile char>()[off] = 3;
    }
    return (now_s() - t0) / static_cast<double>(pages) * 1e9;
}

// The faulting task runs on CPU 0, the listener on the last CPU: the
// scheduler waking the listener onto the faulting CPU would measure
// placement, not delivery.
int listener_cpu() {
    return std::max(0L, ::sysconf(_SC_NPROCESSORS_ONLN) - 1);
}

// What a listener process does with the events of one round.
enum class Listening {
    OtherContext,  // subscribed to another context's events only: queueing cost
    NoRead,        // subscribed, never reads until the round ends: + delivery
    Read,          // reads as they come, as a driver's event daemon would
};

// A listener in its own process, as a driver's event daemon would run it:
// a thread of the faulting process would also put that process's TLB
// flushes on a second CPU, which is a cost of the thread, not of delivery.
class ListenerProcess {
public:
    ListenerProcess(std::uint64_t ctx, Listening how) {
        int ready[2], stop[2];
        if (::pipe(ready) || ::pipe(stop)) {
            throw_last_errno("pipe");
        }
        pid_ = ::fork();
        if (pid_ < 0) {
            throw_last_errno("fork");
        }
        if (pid_ == 0) {
            ::close(ready[0]);
            ::close(stop[1]);
            ::_exit(child(ctx, how, ready[1], stop[0]));
        }
        ::close(ready[1]);
        ::close(stop[0]);
        from_child_ = ready[0];
        to_child_ = stop[1];
        std::uint64_t subscribed;
        if (::read(from_child_, &subscribed, sizeof(subscribed)) != sizeof(subscribed)) {
            throw std::runtime_error("listener process did not subscribe");
        }
    }
    ListenerProcess(const ListenerProcess&) = delete;
    ListenerProcess& operator=(const ListenerProcess&) = delete;
    ~ListenerProcess() {
        if (to_child_ >= 0) {
            finish();
        }
    }

    // Stops the listener; returns how many events it received.
    std::uint64_t finish() {
        std::uint64_t received = 0;
        ::close(to_child_);
        to_child_ = -1;
        if (::read(from_child_, &received, sizeof(received)) != sizeof(received)) {
            received = 0;
        }
        ::close(from_child_);
        ::waitpid(pid_, nullptr, 0);
        return received;
    }

private:
    static int child(std::uint64_t ctx, Listening how, int ready, int stop) {
        std::uint64_t received = 0;
        pin_to_cpu(listener_cpu());
        {
            EventListener listener({ctx, 0});
            // Room for a whole round unread (as root, past rmem_max).
            int bytes = 16 << 20;
            ::setsockopt(listener.fd(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes));
            (void)!::write(ready, &received, sizeof(received));
            pollfd stopped{stop, POLLIN, 0};
            if (how != Listening::Read) {
                ::poll(&stopped, 1, -1);
            }
            while (::poll(&stopped, 1, 0) == 0) {
                received += listener.next(20ms) ? 1 : 0;
            }
            received += listener.drain(100ms).size();  // what was still in flight
        }
        (void)!::write(ready, &received, sizeof(received));
        return 0;
    }

    pid_t pid_ = -1;
    int from_child_ = -1;
    int to_child_ = -1;
};

void bench_fault_overhead() {
    const std::size_t length = 32UL << 20;
    const std::size_t pages = length / kPage;
    constexpr int kCycles = 11;
    Mapping buf = populated(length);
    ::madvise(buf.data(), length, MADV_DONTFORK);  // no COW sharing with the listener
    Device dev = Device::open();
    Device other = Device::open();
    pin_to_cpu(0);
    const std::uint64_t ctx = dev.counters().context_id;
    const std::uint64_t other_ctx = other.counters().context_id;

    struct Config {
        const char* name;
        std::optional<Listening> how;
        std::vector<double> ns;
        std::uint64_t received = 0;
    };
    Config configs[] = {
        {"no subscriber", std::nullopt, {}},
        {"subscriber to another context", Listening::OtherContext, {}},
        {"listener subscribed, not reading", Listening::NoRead, {}},
        {"listener subscribed and reading", Listening::Read, {}},
    };
    revoking_round_ns(dev, buf);  // warm-up
    // Cycle through the configurations, so that all see the same machine.
    for (int i = 0; i < kCycles; ++i) {
        for (Config& c : configs) {
            if (!c.how) {
                c.ns.push_back(revoking_round_ns(dev, buf));
                continue;
            }
            ListenerProcess listener(*c.how == Listening::OtherContext ? other_ctx : ctx, *c.how);
            c.ns.push_back(revoking_round_ns(dev, buf));
            c.received += listener.finish();
        }
    }
    const double base = median(configs[0].ns);
    std::printf("# revoking write fault, %zu pages a round, median of %d rounds each;\n", pages,
                kCycles);
    std::printf("# the listener process runs on CPU %d, the faulting task on CPU 0:\n",
                listener_cpu());
    for (const Config& c : configs) {
        std::printf("#   %-34s %7.0f ns  %5.2fx", c.name, median(c.ns), median(c.ns) / base);
        if (c.how && *c.how != Listening::OtherContext) {
            std::printf("  (%llu of %llu events received)",
                        static_cast<unsigned long long>(c.received),
                        static_cast<unsigned long long>(kCycles * pages));
        }
        std::printf("\n");
    }
    std::printf("#   ratio reading listener/no subscriber %5.2fx (target <= 1.10x)\n",
                median(configs[3].ns) / base);
}

}  // namespace

int main(int argc, char** argv) {
    std::string which = argc > 1 ? argv[1] : "all";
    try {
        if (which == "all" || which == "latency") {
            bench_latency();
        }
        if (which == "all" || which == "dump") {
            bench_dump();
        }
        if (which == "all" || which == "fault") {
            bench_fault_overhead();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netlink_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
