// The devexcl CLI against a real process: a chained mark, atomic, status,
// release and counters on one context, in JSON and as a table.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/module_stats.hpp"
#include "devexcl/uapi.hpp"
#include "devexcl/version.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/process_chain.hpp"
#include "lib/target_process.hpp"
#include "lib/wait.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

using namespace std::chrono_literals;

const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

std::string cli_path() {
    const char* env = std::getenv("DEVEXCL_CLI");
    return env != nullptr ? env : "/opt/devexcl/devexcl";
}

struct CliRun {
    std::string out;
    int status = -1;
};

CliRun run_cli(const std::string& args) {
    CliRun run;
    std::string cmd = cli_path() + " " + args + " </dev/null 2>&1";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
        return run;
    }
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        run.out.append(buf.data(), n);
    }
    int status = ::pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = haystack.find(needle); pos != std::string::npos;
         pos = haystack.find(needle, pos + 1)) {
        ++n;
    }
    return n;
}

std::string squeeze_spaces(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c != ' ' || out.empty() || out.back() != ' ') {
            out += c;
        }
    }
    return out;
}

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// The CLI as a child whose standard input the test holds, read line by line
// as it prints: for commands that run until their input ends.
class CliChild {
public:
    explicit CliChild(const std::string& args) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0) {
            return;
        }
        if (::pipe2(out, O_CLOEXEC) != 0) {
            ::close(in[0]);
            ::close(in[1]);
            return;
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(out[1], STDERR_FILENO);
            const std::string cmd = cli_path() + " " + args;
            ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        to_child_ = in[1];
        from_child_ = out[0];
        if (pid_ < 0) {
            ::close(std::exchange(to_child_, -1));
            ::close(std::exchange(from_child_, -1));
        }
    }
    CliChild(const CliChild&) = delete;
    CliChild& operator=(const CliChild&) = delete;
    ~CliChild() {
        if (pid_ > 0) {
            finish();
        }
        if (to_child_ >= 0) {
            ::close(to_child_);
        }
        if (from_child_ >= 0) {
            ::close(from_child_);
        }
    }

    // The next line the CLI prints, without its newline; nullopt if none
    // comes within `timeout` or the CLI ended.
    std::optional<std::string> next_line(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = pending_.find('\n'); nl != std::string::npos) {
                std::string line = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{from_child_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) <= 0) {
                return std::nullopt;
            }
            char buf[4096];
            const ssize_t n = ::read(from_child_, buf, sizeof(buf));
            if (n <= 0) {
                return std::nullopt;
            }
            output_.append(buf, n);
            pending_.append(buf, n);
        }
    }

    // Ends its input and reads what is left: the exit status, or -1 if it
    // did not exit within `timeout` of its input ending (it is then killed).
    int finish(std::chrono::milliseconds timeout = 60s) {
        if (pid_ <= 0) {
            return -1;
        }
        ::close(to_child_);
        to_child_ = -1;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int status = 0;
        pid_t waited;
        // Reading on: a child blocked on a full pipe would never exit.
        while ((waited = ::waitpid(pid_, &status, WNOHANG)) == 0 &&
               std::chrono::steady_clock::now() < deadline) {
            if (!next_line(10ms)) {
                std::this_thread::sleep_for(10ms);
            }
        }
        if (waited == 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
        while (next_line(0ms)) {
        }
        return waited > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    const std::string& output() const { return output_; }

private:
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string output_;
    std::string pending_;
};

class Cli : public testing::Test {
protected:
    void SetUp() override { ensure_module_loaded(); }
};

TEST_F(Cli, MarkWithoutDevicePrivateSaysWhyInOneLineAndRunsNothing) {
    if (kernel_does(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE)) {
        GTEST_SKIP() << "this kernel has CONFIG_DEVICE_PRIVATE: marking works here";
    }
    TargetProcess target(MemoryKind::PrivateAnon);
    const std::string pid = std::to_string(target.pid());
    const std::string addr = hex(target.addr());
    CliRun run = run_cli("mark " + pid + " " + addr + " 8k + status " + pid + " " + addr + " 8k");
    EXPECT_EQ(run.status, 3) << run.out;
    EXPECT_EQ(count(run.out, "\n"), 1u) << "one line, not a report: " << run.out;
    EXPECT_NE(run.out.find("CONFIG_DEVICE_PRIVATE"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("inspect"), std::string::npos) << "what still works: " << run.out;

    CliRun version = run_cli("version");
    EXPECT_EQ(version.status, 0) << version.out;
    EXPECT_NE(version.out.find(" -device-exclusive"), std::string::npos) << version.out;

    // What still works, on the same page.
    CliRun inspect = run_cli("--json inspect " + pid + " " + addr);
    EXPECT_EQ(inspect.status, 0) << inspect.out;
    EXPECT_NE(inspect.out.find(R"("pte":"present")"), std::string::npos) << inspect.out;
}

TEST_F(Cli, ChainedStepsShareOneContextInJson) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    TargetProcess target(MemoryKind::PrivateAnon);
    const std::string pid = std::to_string(target.pid());
    const std::string addr = hex(target.addr());
    CliRun run = run_cli("--json mark " + pid + " " + addr + " 32k + atomic " + pid + " " + addr +
                         " add 5 + status " + pid + " " + addr + " 32k + release " + pid + " " +
                         addr + " 32k + counters");
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find(R"("step":"mark","pid":)" + pid), std::string::npos) << run.out;
    EXPECT_NE(run.out.find(R"("marked":8,"failed":0)"), std::string::npos) << run.out;
    EXPECT_EQ(count(run.out, R"({"result":"marked","errno":""})"), 8u) << run.out;
    // The device added 5 to the pattern 0xd0e0000000000000 while holding the page.
    const std::string pattern = std::to_string(0xD0E0000000000000ULL);
    EXPECT_NE(run.out.find(R"("op":"add","value":5,"old":)" + pattern + R"(,"path":"held")"),
              std::string::npos)
        << run.out;
    EXPECT_EQ(count(run.out, R"("device":"held")"), 8u) << run.out;
    EXPECT_EQ(count(run.out, R"("pte":"device-exclusive-write")"), 8u) << run.out;
    EXPECT_NE(run.out.find(R"("released":8,"unrestored":0)"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find(R"("device_ops":1)"), std::string::npos) << run.out;
    // The target sees the device's write (pattern + 5 is not the pattern).
    int status = target.finish();
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3) << "the target did not see the device's add";
}

TEST_F(Cli, HumanTableFoldsRunsAndRefusalsExitOne) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    TargetProcess target(MemoryKind::SharedAnon);
    const std::string pid = std::to_string(target.pid());
    CliRun run = run_cli("mark " + pid + " " + hex(target.addr()) + " 32k");
    EXPECT_EQ(run.status, 1) << "refused pages make mark exit 1\n" << run.out;
    EXPECT_NE(run.out.find("8 pages, 0 marked, 8 refused"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("  8      not-anon  EOPNOTSUPP"), std::string::npos) << run.out;
}

TEST_F(Cli, KernelErrorsPrintTheErrnoAndExitOne) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    CliRun run = run_cli("mark 1 0x1000 4k");
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("Bad address"), std::string::npos) << run.out;
    run = run_cli("mark 1 0x1001 4k");
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("errno 22"), std::string::npos) << run.out;
    // Above the range cap: E2BIG, not an attempt to allocate 16 TiB of results.
    for (const char* cmd : {"status 1 0x1000 16384G", "mark 1 0x1000 16384G"}) {
        run = run_cli(cmd);
        EXPECT_EQ(run.status, 1) << cmd << "\n" << run.out;
        EXPECT_NE(run.out.find("errno 7"), std::string::npos) << cmd << "\n" << run.out;
    }
}

// Both versions, and that the library can use this module (the refusal of
// one it cannot use is abi_check_test.cpp's).
TEST_F(Cli, VersionNamesTheLibraryAndTheModulesAbi) {
    const LibraryVersion lib = library_version();
    CliRun run = run_cli("version");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("library         libdevexcl " + lib.string() + ", for module ABI " +
                           lib.abi.string() + " or a later " + std::to_string(lib.abi.major) +
                           ".x\nmodule ABI      " + lib.abi.string() + "\n"),
              std::string::npos)
        << run.out;
    run = run_cli("--json version");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find(R"({"library_version":")" + lib.string() +
                           R"(","library_abi":{"major":)" + std::to_string(lib.abi.major) +
                           R"(,"minor":)" + std::to_string(lib.abi.minor) + "}"),
              std::string::npos)
        << run.out;
    EXPECT_NE(run.out.find(R"("compatible":true)"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("incompatible"), std::string::npos) << run.out;
}

TEST_F(Cli, UsageErrorsExitTwo) {
    EXPECT_EQ(run_cli("mark 1 0x1000").status, 2);
    EXPECT_EQ(run_cli("atomic 1 0x1000 frob 1").status, 2);
    EXPECT_EQ(run_cli("frobnicate").status, 2);
}

// The CLI's `watch` is its own process: it gets every event as root.
TEST_F(Cli, WatchPrintsEachRevocationEventAsItHappens) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Mapping buf(2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    buf.as<char>()[0] = 1;
    buf.as<char>()[kPage] = 1;
    const std::string me = std::to_string(::getpid());
    ModuleStatsReader stats;
    const std::uint64_t subscribers = stats.read()["subscribers"];
    CliChild cli("--json watch --pid " + me + " --count 2 60");
    // Fault only once it listens (its subscription is synchronous, our view of it is not).
    wait_until([&] { return stats.read()["subscribers"] != subscribers; }, 10s, 10ms);
    ASSERT_GT(stats.read()["subscribers"], subscribers) << "watch never subscribed";
    Device dev = Device::open();
    ASSERT_TRUE(dev.mark(buf.address(), 2 * kPage).all_held());
    buf.as<volatile char>()[0] = 2;      // one revocation batch
    buf.as<volatile char>()[kPage] = 2;  // and another
    ASSERT_EQ(cli.finish(), 0) << cli.output();
    const std::string& out = cli.output();
    EXPECT_EQ(count(out, "\n"), 2u) << out;
    EXPECT_EQ(count(out, R"("cause":"cpu-fault")"), 2u) << out;
    EXPECT_EQ(count(out, R"("target_pid":)" + me), 2u) << out;
    EXPECT_EQ(count(out, R"("trigger_pid":)" + me), 2u) << out;
    EXPECT_NE(out.find(R"("start":)" + std::to_string(buf.address()) + R"(,"end":)" +
                       std::to_string(buf.address() + kPage) + R"(,"pages":1)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(R"("start":)" + std::to_string(buf.address() + kPage) + R"(,"end":)" +
                       std::to_string(buf.address() + 2 * kPage) + R"(,"pages":1)"),
              std::string::npos)
        << out;
}

// `hold` prints its context's revocations from the events, as they happen,
// and releases when its input ends.
TEST_F(Cli, HoldPrintsEachRevocationOfItsContextUntilInputEnds) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    Mapping buf(2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    buf.as<char>()[0] = 1;
    buf.as<char>()[kPage] = 1;
    const std::string me = std::to_string(::getpid());
    CliChild cli("--json mark " + me + " " + hex(buf.address()) + " 8k + hold");
    std::optional<std::string> line;
    while ((line = cli.next_line(60s)) && line->rfind(R"({"step":"hold")", 0) != 0) {
    }
    ASSERT_TRUE(line) << "no hold step: " << cli.output();
    EXPECT_NE(line->find(R"("held":2)"), std::string::npos) << *line;
    // Subscribed before it printed that line: these two batches are its to report.
    buf.as<volatile char>()[0] = 2;
    buf.as<volatile char>()[kPage] = 2;
    std::vector<std::string> revoked;
    while (revoked.size() < 2 && (line = cli.next_line(60s))) {
        revoked.push_back(*line);
    }
    ASSERT_EQ(revoked.size(), 2u) << cli.output();
    EXPECT_EQ(cli.finish(), 0) << cli.output();
    for (std::size_t i = 0; i < revoked.size(); ++i) {
        EXPECT_EQ(
            revoked[i].rfind(R"({"step":"revocation","seq":)" + std::to_string(i + 1) +
                                 R"(,"start":)" + std::to_string(buf.address() + i * kPage) +
                                 R"(,"end":)" + std::to_string(buf.address() + (i + 1) * kPage) +
                                 R"(,"pages":1,"cause":"cpu-fault","trigger_pid":)" + me,
                             0),
            0u)
            << revoked[i];
    }
    EXPECT_EQ(count(cli.output(), "dropped"), 0u) << cli.output();
}

TEST_F(Cli, WatchEndsAfterItsSecondsWithNothingToReport) {
    CliRun run = run_cli("watch --pid 1 1");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_EQ(run.out, "") << "a root listener gets no note and pid 1 has no context";
}

// `vma` and `tree` show the per-VMA lock: the kernel's scheme decides the words.
TEST_F(Cli, VmaAndTreeShowEachVmasLock) {
    ProcessChain chain(2, 1);
    const std::string p0 = std::to_string(chain.pids()[0]);
    const std::string p1 = std::to_string(chain.pids()[1]);
    const std::string addr = hex(chain.addr());
    const bool locks = kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK);
    const std::string idle_lock = locks ? "attached, 0 readers" : "no per-VMA locks";

    CliRun run = run_cli("vma " + p1 + " " + addr);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("vma lock: " + idle_lock + "\n"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("anon_vma_chain (2, newest first)"), std::string::npos) << run.out;

    run = run_cli("--json vma " + p0 + " " + addr);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_NE(
        run.out.find(
            locks
                ? R"("vma_lock":{"per_vma_locks":true,"attached":true,"readers":0,"writer":false,"write_locked":false})"
                : R"("vma_lock":{"per_vma_locks":false})"),
        std::string::npos)
        << run.out;

    run = run_cli("vma " + p0 + " " + addr + " --no-mmap-lock");
    if (locks) {
        ASSERT_EQ(run.status, 0) << run.out;
        EXPECT_NE(run.out.find("vma lock: attached, 0 readers\n"), std::string::npos) << run.out;
        EXPECT_EQ(run.out.find("anon_vma_chain"), std::string::npos) << "no chain without the lock";
    } else {
        EXPECT_EQ(run.status, 1) << run.out;
        EXPECT_NE(run.out.find(std::strerror(EOPNOTSUPP)), std::string::npos) << run.out;
    }

    run = run_cli("tree " + p1 + " " + addr);
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("the mappers' VMAs:"), std::string::npos) << run.out;
    EXPECT_EQ(count(run.out, idle_lock), 2u) << "one line per mapper: " << run.out;
    EXPECT_EQ(run_cli("vma " + p0 + " " + addr + " --bogus").status, 2);
}

TEST_F(Cli, StatsListsTheModuleCounters) {
    CliRun run = run_cli("--json stats");
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_EQ(run.out.rfind(R"({"step":"stats",)", 0), 0u) << run.out;
    for (const char* name : {"contexts_open", "events_sent", "events_dropped", "dump_records"}) {
        EXPECT_NE(run.out.find('"' + std::string(name) + "\":"), std::string::npos) << name;
    }
}

// Past one ioctl's 4096 records the CLI streams the netlink dump; its report
// must be the one the ioctl path would give.
TEST_F(Cli, InspectOfALargeRangeStreamsTheDump) {
    const std::size_t pages = 3 * DEVEXCL_MAX_RANGE_RECORDS;
    Mapping buf(pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    ::madvise(buf.data(), buf.size(), MADV_NOHUGEPAGE);
    for (std::size_t i = 0; i < pages / 3; ++i) {
        buf.as<char>()[i * kPage] = 1;  // the first third present, the rest never touched
    }
    const std::string me = std::to_string(::getpid());
    const std::string range = me + " " + hex(buf.address()) + " " + std::to_string(buf.size());
    const std::uint64_t records_before = module_stats()["dump_records"];
    CliRun json = run_cli("--json inspect " + range);
    ASSERT_EQ(json.status, 0) << json.out.substr(0, 2000);
    EXPECT_GE(module_stats()["dump_records"] - records_before, pages) << "not the dump";
    EXPECT_EQ(json.out.rfind(R"({"step":"inspect","pid":)" + me + R"(,"start":)" +
                                 std::to_string(buf.address()) + R"(,"pages":)" +
                                 std::to_string(pages) + R"(,"records":[{"addr":)",
                             0),
              0u)
        << json.out.substr(0, 300);
    EXPECT_EQ(count(json.out, R"("addr":)"), pages);
    EXPECT_EQ(count(json.out, R"("pte":"present")"), pages / 3);
    EXPECT_EQ(count(json.out, R"("pte":"none")"), 2 * pages / 3);
    EXPECT_EQ(json.out.substr(json.out.size() - 4), "}]}\n") << "one complete document";

    CliRun table = run_cli("inspect " + range);
    ASSERT_EQ(table.status, 0) << table.out;
    // Two rows: the present third and the untouched rest (columns squeezed).
    const std::string rows = squeeze_spaces(table.out);
    EXPECT_NE(rows.find(hex(buf.address()) + " " + hex(buf.address() + (pages / 3 - 1) * kPage) +
                        " " + std::to_string(pages / 3) + " present "),
              std::string::npos)
        << table.out;
    EXPECT_NE(rows.find(hex(buf.address() + pages / 3 * kPage) + " " +
                        hex(buf.address() + (pages - 1) * kPage) + " " +
                        std::to_string(2 * pages / 3) + " none "),
              std::string::npos)
        << table.out;
}

TEST_F(Cli, InspectOfALargeRangeReportsTheKernelsRefusal) {
    // Unaligned start: the dump's extack message reaches the user with the errno.
    CliRun run = run_cli("inspect " + std::to_string(::getpid()) + " 0x1001 64M");
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("need page-aligned START < END"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("errno 22"), std::string::npos) << run.out;
}

}  // namespace
