// Benchmarks for rmap inspection, in one VM boot with their baselines.
// They print figures and ratios; they assert nothing.
//
//   range:   64 MiB through DEVEXCL_IOC_INSPECT_RANGE vs reading pagemap,
//            kpagecount and kpageflags for the same pages
//   sharing: inspecting one page shared by K forked processes, K = 1 to 512,
//            with the TLB emptied before each call and back to back. Back to
//            back, the K = 8..64 working set stays in TCG's software TLB and
//            K = 512's does not, so only the cold figures compare like with
//            like across K.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "bench/populated.hpp"
#include "bench/timing.hpp"
#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/unique_fd.hpp"
#include "lib/pagemap.hpp"

using namespace devexcl;
using namespace devexcl::bench;

namespace {

UniqueFd open_or_throw(const char* path) {
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open", path);
    }
    return fd;
}

void pread_or_throw(int fd, void* buf, std::size_t n, std::uint64_t offset, const char* what) {
    if (::pread(fd, buf, n, static_cast<off_t>(offset)) != static_cast<ssize_t>(n)) {
        throw_last_errno(what);
    }
}

// What a tool without devexcl does for a range: the PTE view from pagemap,
// then each present page's mapcount and flags from /proc/kpage*.
double procfs_round(const Mapping& buf) {
    const std::size_t pages = buf.size() / kPage;
    UniqueFd pagemap = open_or_throw("/proc/self/pagemap");
    UniqueFd kpagecount = open_or_throw("/proc/kpagecount");
    UniqueFd kpageflags = open_or_throw("/proc/kpageflags");
    std::vector<std::uint64_t> entries(pages);
    std::uint64_t present = 0, mapped = 0;
    const double t0 = now_s();
    pread_or_throw(pagemap.get(), entries.data(), pages * 8, buf.address() / kPage * 8,
                   "read pagemap");
    for (std::uint64_t raw : entries) {
        const test::PagemapEntry e{raw};
        if (!e.present()) {
            continue;
        }
        std::uint64_t count, flags;
        pread_or_throw(kpagecount.get(), &count, 8, e.pfn() * 8, "read kpagecount");
        pread_or_throw(kpageflags.get(), &flags, 8, e.pfn() * 8, "read kpageflags");
        present += 1;
        mapped += count != 0 && test::has_flag(flags, test::kKpfLru);
    }
    const double dt = now_s() - t0;
    if (present != pages || mapped != pages) {
        throw std::runtime_error("procfs saw " + std::to_string(present) + " present, " +
                                 std::to_string(mapped) + " mapped lru pages");
    }
    return dt;
}

double devexcl_round(const Device& dev, const Mapping& buf, bool walk_rmap) {
    const std::size_t pages = buf.size() / kPage;
    const double t0 = now_s();
    std::vector<PageInfo> records =
        dev.inspect_range(::getpid(), buf.address(), buf.size(), walk_rmap);
    std::uint64_t mapped = 0;
    for (const PageInfo& p : records) {
        mapped += p.mapcount == 1 && (!walk_rmap || p.nr_mappings == 1);
    }
    const double dt = now_s() - t0;
    if (records.size() != pages || mapped != pages) {
        throw std::runtime_error("devexcl saw " + std::to_string(mapped) + " mapped pages");
    }
    return dt;
}

void bench_range() {
    constexpr int kRounds = 7;
    const std::size_t length = 64UL << 20;
    const std::size_t pages = length / kPage;
    Mapping buf = populated(length);
    Device dev = Device::open();
    std::vector<double> procfs, bare, walked;
    // Warm all three up, then alternate them so that they share the machine.
    procfs_round(buf);
    devexcl_round(dev, buf, false);
    devexcl_round(dev, buf, true);
    for (int i = 0; i < kRounds; ++i) {
        procfs.push_back(procfs_round(buf));
        bare.push_back(devexcl_round(dev, buf, false));
        walked.push_back(devexcl_round(dev, buf, true));
    }
    const double base = static_cast<double>(pages) / median(procfs);
    auto line = [&](const char* what, double seconds) {
        const double rate = static_cast<double>(pages) / seconds;
        std::printf("#   %-44s %9.0f pages/s  %5.2fx\n", what, rate, rate / base);
    };
    std::printf("# inspect 64 MiB (%zu present pages), median of %d alternating rounds:\n", pages,
                kRounds);
    line("pagemap + kpagecount + kpageflags", median(procfs));
    line("DEVEXCL_IOC_INSPECT_RANGE", median(bare));
    line("DEVEXCL_IOC_INSPECT_RANGE, rmap walked", median(walked));
    std::printf("#   ratio walked/procfs %.2fx (target >= 1.0x)\n",
                median(procfs) / median(walked));
}

// K children of this process, each mapping the page at `addr` that this
// process wrote before forking them, all waiting until destroyed.
class ForkedSharers {
public:
    explicit ForkedSharers(int k) {
        int release[2], ready[2];
        if (::pipe(release) != 0 || ::pipe(ready) != 0) {
            throw_last_errno("pipe");
        }
        release_ = UniqueFd(release[1]);
        for (int i = 0; i < k; ++i) {
            pid_t pid = ::fork();
            if (pid < 0) {
                throw_last_errno("fork");
            }
            if (pid == 0) {
                char c = 0;
                ::close(release[1]);
                (void)!::write(ready[1], &c, 1);
                (void)!::read(release[0], &c, 1);  // EOF when the parent lets go
                ::_exit(0);
            }
            children_.push_back(pid);
        }
        ::close(release[0]);
        ::close(ready[1]);
        // Measure only once every child is asleep.
        char c;
        for (int i = 0; i < k; ++i) {
            if (::read(ready[0], &c, 1) != 1) {
                throw_last_errno("wait for the children");
            }
        }
        ::close(ready[0]);
    }
    ForkedSharers(const ForkedSharers&) = delete;
    ForkedSharers& operator=(const ForkedSharers&) = delete;
    ~ForkedSharers() {
        release_.reset();
        for (pid_t pid : children_) {
            ::waitpid(pid, nullptr, 0);
        }
    }

private:
    UniqueFd release_;
    std::vector<pid_t> children_;
};

// Empties this CPU's TLB, QEMU's software TLB included: zapping more than
// tlb_single_page_flush_ceiling (33) pages makes x86 flush the whole TLB with
// a CR3 write, and TCG drops every cached translation on a CR3 write.
class TlbFlusher {
public:
    void flush() {
        for (std::size_t off = 0; off < junk_.size(); off += kPage) {
            junk_.as<char>()[off] = 1;
        }
        ::madvise(junk_.data(), junk_.size(), MADV_DONTNEED);
    }

private:
    Mapping junk_{256 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS};
};

struct SharingTimes {
    double cold;      // TLB emptied before each call, as for a one-off inspection
    double warm;      // back-to-back calls
    double counting;  // back-to-back, no entries asked for: the walk without matching
};

double slope_ratio(const std::map<int, SharingTimes>& t, double SharingTimes::*which,
                   const char* label) {
    const double low = (t.at(64).*which - t.at(8).*which) / (64 - 8);
    const double high = (t.at(512).*which - t.at(64).*which) / (512 - 64);
    std::printf("#   %s: slope K=8..64 %.2f us/mapping, K=64..512 %.2f us/mapping, ratio %.2fx\n",
                label, low * 1e6, high * 1e6, high / low);
    return high / low;
}

void bench_sharing(const std::vector<int>& extra_ks) {
    constexpr int kCalls = 201;
    std::vector<int> ks = {1, 8, 64, 128, 256, 512};
    ks.insert(ks.end(), extra_ks.begin(), extra_ks.end());
    std::sort(ks.begin(), ks.end());
    ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
    Mapping page(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    page.as<char>()[0] = 1;
    Device dev = Device::open();
    TlbFlusher tlb;
    std::map<int, SharingTimes> times;
    std::printf(
        "# inspect one page mapped by this process and K forked children, "
        "median of %d calls:\n"
        "#             cold TLB               warm    counting only\n",
        kCalls);
    for (int k : ks) {
        ForkedSharers sharers(k);
        auto time_calls = [&](std::size_t max_mappings, bool cold) {
            static_cast<void>(
                dev.inspect_page(::getpid(), page.address(), max_mappings));  // warm-up
            std::vector<double> t;
            for (int i = 0; i < kCalls; ++i) {
                if (cold) {
                    tlb.flush();
                }
                const double t0 = now_s();
                PageInspection insp = dev.inspect_page(::getpid(), page.address(), max_mappings);
                t.push_back(now_s() - t0);
                if (insp.page.nr_mappings != static_cast<std::uint64_t>(k) + 1 ||
                    insp.mappings.size() != std::min<std::size_t>(k + 1, max_mappings)) {
                    throw std::runtime_error("found " + std::to_string(insp.page.nr_mappings) +
                                             " mappings, not " + std::to_string(k + 1));
                }
            }
            return median(t);
        };
        const SharingTimes& t = times[k] = {
            .cold = time_calls(DEVEXCL_MAX_RMAP_ENTRIES, true),
            .warm = time_calls(DEVEXCL_MAX_RMAP_ENTRIES, false),
            .counting = time_calls(0, false),
        };
        std::printf("#   K = %3d  %7.1f us (%.2f us/mapping)  %7.1f us  %7.1f us\n", k,
                    t.cold * 1e6, t.cold * 1e6 / (k + 1), t.warm * 1e6, t.counting * 1e6);
    }
    const double cold = slope_ratio(times, &SharingTimes::cold, "cold TLB");
    slope_ratio(times, &SharingTimes::warm, "warm    ");
    std::printf("#   cold-TLB ratio of slopes %.2fx (target within 1.2x: 0.83x to 1.20x)\n", cold);
}

}  // namespace

int main(int argc, char** argv) {
    std::string which = argc > 1 ? argv[1] : "all";
    try {
        if (which == "all" || which == "range") {
            bench_range();
        }
        if (which == "all" || which == "sharing") {
            // Further K values to sample the curve with, e.g. `sharing 96 192 384`.
            std::vector<int> extra_ks;
            for (int i = 2; i < argc; ++i) {
                extra_ks.push_back(std::stoi(argv[i]));
            }
            bench_sharing(extra_ks);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rmap_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
