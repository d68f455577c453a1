// devexcl-fuzz: a seeded, time-bounded malformed-input fuzzer for
// /dev/devexcl and the "devexcl" generic netlink family, run in the VM by
// `make fuzz`. See README.md, "Fuzzing".
//
//   devexcl-fuzz [--seconds N] [--seed S] [--no-thp]
//
// Processes: this one (root: ioctls on its own arena and on spare contexts,
// netlink), a churn process changing its memory, a binder marking the
// churn's pages, and an unprivileged worker (uid 65534). At the end the
// module must still work, every gauge must be back to 0, and rmmod must
// succeed. Prints KTAP; exits 0 only if every result is ok.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "arena.hpp"
#include "binder.hpp"
#include "churn.hpp"
#include "devexcl/device.hpp"
#include "devexcl/module_stats.hpp"
#include "ioctl_fuzzer.hpp"
#include "known_defects.hpp"
#include "lib/kmodule.hpp"
#include "lib/run_as.hpp"
#include "netlink_fuzzer.hpp"
#include "processes.hpp"
#include "report.hpp"
#include "shared.hpp"
#include "user_buffers.hpp"

using namespace devexcl;
using namespace devexcl::fuzz;

namespace {

// Far from every other mapping of the (static) fuzzer: see arena.hpp.
constexpr std::uint64_t kArenaBase = 0x5a0000000000ULL;
constexpr int kResults = 8;

struct Options {
    unsigned seconds = 60;
    std::uint64_t seed = 1;
    bool thp = true;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seconds" && i + 1 < argc) {
            o.seconds = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 0));
        } else if (a == "--seed" && i + 1 < argc) {
            o.seed = std::strtoull(argv[++i], nullptr, 0);
        } else if (a == "--no-thp") {
            o.thp = false;
        } else if (a == "--thp") {
            o.thp = true;
        } else {
            std::fprintf(stderr, "usage: devexcl-fuzz [--seconds N] [--seed S] [--[no-]thp]\n");
            std::exit(2);
        }
    }
    return o;
}

KernelFacts kernel_facts() {
    KernelFacts k;
    k.page_size = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    // With 5-level paging user space reaches 2^56: a mapping there succeeds.
    void* high = ::mmap(reinterpret_cast<void*>(1ULL << 52), k.page_size, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    const bool la57 = high != MAP_FAILED;
    if (la57) {
        ::munmap(high, k.page_size);
    }
    k.task_size_max = ((1ULL << (la57 ? 56 : 47)) - k.page_size);
    const Version v = Device::open().version();
    k.max_range = v.max_range_bytes;
    k.thp_kernel_bug = v.features & DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE;
    k.per_vma_lock = v.kernel_features & DEVEXCL_KFEAT_PER_VMA_LOCK;
    k.root = ::geteuid() == 0;
    return k;
}

// Forks a helper running `body`, which returns its exit status. The child
// never returns into main(): _exit() skips the parent's destructors.
pid_t spawn(const char* name, const std::function<int()>& body) {
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_NAME, name);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int status = 3;
        try {
            status = body();
        } catch (const std::exception& e) {
            std::printf("# [%s] error: %s\n", name, e.what());
        }
        std::fflush(stdout);
        ::_exit(status);
    }
    return pid;
}

// The fuzzing loop of one process: ioctls and netlink, until told to stop.
void fuzz_loop(Rng& rng, Tally& tally, IoctlFuzzer& ioctls, NetlinkFuzzer& netlink,
               const std::function<bool()>& deadline) {
    while (!tally.stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 8; ++i) {
            if (rng.percent(92)) {
                ioctls.step();
            } else {
                netlink.step();
            }
        }
        if (deadline && deadline()) {
            break;
        }
    }
}

// The unprivileged worker: the same fuzzers as uid 65534, for which every
// other process is foreign (EPERM), and MARK's admin-only flag is refused.
int nobody_main(Tally& tally, const KernelFacts& root_kernel, std::uint64_t seed, pid_t zombie,
                pid_t churn, const std::atomic<std::int32_t>& churn_child) {
    if (::setgroups(0, nullptr) != 0 ||
        ::setresgid(test::kNobodyGid, test::kNobodyGid, test::kNobodyGid) != 0 ||
        ::setresuid(test::kNobodyUid, test::kNobodyUid, test::kNobodyUid) != 0) {
        std::printf("# [nobody] cannot drop to uid 65534\n");
        return 3;
    }
    KernelFacts kernel = root_kernel;
    kernel.root = false;
    Report ioctl_report(tally, Role::Nobody);
    Rng rng(seed ^ 0x65534ULL);
    Arena arena(kArenaBase, kernel.page_size);
    UserBuffers buffers(kernel);
    Processes processes(false, zombie, churn, churn_child);
    IoctlFuzzer ioctls(rng, ioctl_report, kernel, processes, arena, buffers);
    NetlinkFuzzer netlink(rng, ioctl_report, kernel, processes, arena);
    fuzz_loop(rng, tally, ioctls, netlink, {});
    ioctls.release_all();
    return ioctl_report.failures() == 0 ? 0 : 1;
}

// KTAP results, numbered as they are printed.
class Ktap {
public:
    explicit Ktap(int planned) { std::printf("TAP version 13\n1..%d\n", planned); }
    bool result(bool ok, const std::string& name, const std::string& detail = "",
                const std::string& todo = "") {
        ++n_;
        // A TODO result is a known failure: reported, not counted.
        failed_ += ok || !todo.empty() ? 0 : 1;
        if (!detail.empty()) {
            std::printf("# %s\n", detail.c_str());
        }
        std::printf("%s %d %s%s\n", ok ? "ok" : "not ok", n_, name.c_str(),
                    ok || todo.empty() ? "" : (" # TODO " + todo).c_str());
        std::fflush(stdout);
        return ok;
    }
    void skip(const std::string& name, const std::string& detail, const std::string& reason) {
        ++n_;
        std::printf("# %s\nok %d %s # SKIP %s\n", detail.c_str(), n_, name.c_str(), reason.c_str());
        std::fflush(stdout);
    }
    int failed() const { return failed_; }

private:
    int n_ = 0;
    int failed_ = 0;
};

int wait_status(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    // fd 0 is a pidfd value the fuzzer uses as "a file that is no pidfd".
    if (::fcntl(STDIN_FILENO, F_GETFD) < 0 && ::open("/dev/null", O_RDONLY) != STDIN_FILENO) {
        std::printf("# cannot open /dev/null as stdin\n");
        return 1;
    }
    test::ensure_module_loaded();
    const KernelFacts kernel = kernel_facts();
    Ktap ktap(kResults);
    std::printf(
        "# devexcl-fuzz: seed %llu, %u s, THP churn %s; replay with "
        "'make fuzz FUZZ_SEED=%llu FUZZ_SECONDS=%u'\n",
        static_cast<unsigned long long>(opt.seed), opt.seconds, opt.thp ? "on" : "off",
        static_cast<unsigned long long>(opt.seed), opt.seconds);

    const auto began = std::chrono::steady_clock::now();
    // Where the end of a run spends its time, for CI's budget.
    auto stamp = [&](const char* what) {
        std::printf("# %.1f s: %s\n",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
                    what);
    };
    Shared<Tally> tally;
    Shared<ChurnTable> table;
    bool helpers_ok = true;
    double fuzzed = 0;  // seconds of fuzzing, for the rate
    {
        test::WorldAccessibleNode open_to_nobody;
        Zombie zombie;
        const pid_t churn =
            spawn("fuzz-churn", [&] { return churn_main(*table, opt.seed, opt.thp); });
        while (!table->ready.load()) {
            ::usleep(1000);
        }
        const pid_t nobody = spawn("fuzz-nobody", [&] {
            return nobody_main(*tally, kernel, opt.seed, zombie.pid(), churn, table->child);
        });
        const pid_t binder = spawn(
            "fuzz-binder", [&] { return binder_main(*table, *tally, churn, opt.seed, kernel); });

        {
            Report ioctl_report(*tally, Role::Ioctl);
            Report netlink_report(*tally, Role::Netlink);
            Rng rng(opt.seed);
            Arena arena(kArenaBase, kernel.page_size);
            UserBuffers buffers(kernel);
            Processes processes(true, zombie.pid(), churn, table->child);
            IoctlFuzzer ioctls(rng, ioctl_report, kernel, processes, arena, buffers);
            NetlinkFuzzer netlink(rng, netlink_report, kernel, processes, arena);
            const auto deadline = began + std::chrono::seconds(opt.seconds);
            fuzz_loop(rng, *tally, ioctls, netlink, [&] {
                int status;
                for (pid_t p : {churn, nobody, binder}) {
                    if (::waitpid(p, &status, WNOHANG) == p) {
                        ioctl_report.fail("helper " + std::to_string(p) + " ended early");
                        helpers_ok = false;
                        return true;
                    }
                }
                return std::chrono::steady_clock::now() >= deadline;
            });
            tally->stop.store(true);
            fuzzed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
            stamp("fuzzing stopped");
            ioctls.release_all();
            netlink.close_all();
            // Everyone else stops first; the churn last, so the binder never
            // sees its target exit.
            const int nobody_status = wait_status(nobody);
            const int binder_status = wait_status(binder);
            table->stop.store(true);
            const int churn_status = wait_status(churn);
            if (nobody_status != 0 || binder_status != 0 || churn_status != 0) {
                std::printf("# helper exit statuses: nobody %d, binder %d, churn %d\n",
                            nobody_status, binder_status, churn_status);
                helpers_ok = helpers_ok && nobody_status >= 0 && binder_status >= 0 &&
                             churn_status == 0 && nobody_status <= 1 && binder_status <= 1;
            }
            stamp("helpers stopped");
            const bool works = ioctls.still_works();
            ioctl_report.flush();
            netlink_report.flush();

            auto counted = [&](Role r) {
                return std::to_string(tally->calls[static_cast<int>(r)].load()) + " calls, " +
                       std::to_string(tally->failures[static_cast<int>(r)].load()) + " failures";
            };
            auto clean = [&](Role r) { return tally->failures[static_cast<int>(r)].load() == 0; };
            ktap.result(clean(Role::Ioctl), "ioctls_answer_as_the_readme_says",
                        "ioctl (root): " + counted(Role::Ioctl));
            ktap.result(clean(Role::Netlink), "netlink_answers_as_the_readme_says",
                        "netlink (root): " + counted(Role::Netlink));
            ktap.result(clean(Role::Binder) && helpers_ok, "binder_and_churn_race_cleanly",
                        "binder: " + counted(Role::Binder) +
                            "; churn: " + std::to_string(table->ops.load()) + " operations, " +
                            std::to_string(table->moved_pages.load()) + " pages moved");
            ktap.result(clean(Role::Nobody), "unprivileged_calls_answer_as_the_readme_says",
                        "nobody: " + counted(Role::Nobody));
            ktap.result(works, "module_still_marks_accesses_and_releases");
            stamp("end checks");
            Reproduction shifted;
            try {
                shifted = refused_first_page_shifts_the_held_pages(kernel.page_size,
                                                                   std::chrono::seconds(10));
            } catch (const std::exception& e) {
                shifted = {true, true, std::string("the reproducer failed: ") + e.what()};
            }
            if (!shifted.raced) {
                ktap.skip("a_refused_first_page_leaves_the_others_recorded_in_place",
                          shifted.detail, "the race it needs did not happen");
            } else {
                ktap.result(!shifted.reproduced,
                            "a_refused_first_page_leaves_the_others_recorded_in_place",
                            shifted.detail,
                            "kernel-side defect: record_held_locked() records the pages after a "
                            "refused first page of a batch one page too low");
            }
        }
    }
    // Every fd and socket of the run is closed now.
    bool gauges = false;
    std::string detail;
    try {
        stamp("every fd and socket closed");
        auto stats = module_stats();
        const std::uint64_t held = stats["pages_marked"] - stats["pages_revoked"];
        gauges = stats["contexts_open"] == 0 && stats["subscribers"] == 0 && held == 0;
        detail = "gauges: contexts_open " + std::to_string(stats["contexts_open"]) +
                 ", subscribers " + std::to_string(stats["subscribers"]) + ", pages held " +
                 std::to_string(held) + " (marked " + std::to_string(stats["pages_marked"]) +
                 ", revoked " + std::to_string(stats["pages_revoked"]) + "), dumps " +
                 std::to_string(stats["dumps"]) + ", events sent " +
                 std::to_string(stats["events_sent"]);
    } catch (const std::exception& e) {
        detail = std::string("GET_STATS: ") + e.what();
    }
    ktap.result(gauges, "gauges_return_to_zero", detail);
    const auto unloaded = test::unload_module();
    ktap.result(!unloaded, "rmmod_succeeds_once_everything_is_closed",
                unloaded ? "delete_module: " + unloaded.message() : "");

    std::uint64_t total = 0;
    for (int r = 0; r < kRoles; ++r) {
        total += tally->calls[r].load();
    }
    std::printf("# fuzz: %llu calls in %.1f s, %.0f calls/s, seed %llu\n",
                static_cast<unsigned long long>(total), fuzzed, total / fuzzed,
                static_cast<unsigned long long>(opt.seed));
    std::printf("fuzz: %d passed, %d failed\n", kResults - ktap.failed(), ktap.failed());
    return ktap.failed() == 0 ? 0 : 1;
}
