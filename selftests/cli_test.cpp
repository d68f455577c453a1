// The devexcl CLI against a real process: a chained mark, atomic, status,
// release and counters on one context, in JSON and as a table.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "devexcl/uapi.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/target_process.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

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

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

class Cli : public testing::Test {
protected:
    void SetUp() override { ensure_module_loaded(); }
};

TEST_F(Cli, ChainedStepsShareOneContextInJson) {
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
    TargetProcess target(MemoryKind::SharedAnon);
    const std::string pid = std::to_string(target.pid());
    CliRun run = run_cli("mark " + pid + " " + hex(target.addr()) + " 32k");
    EXPECT_EQ(run.status, 1) << "refused pages make mark exit 1\n" << run.out;
    EXPECT_NE(run.out.find("8 pages, 0 marked, 8 refused"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("  8      not-anon  EOPNOTSUPP"), std::string::npos) << run.out;
}

TEST_F(Cli, KernelErrorsPrintTheErrnoAndExitOne) {
    CliRun run = run_cli("mark 1 0x1000 4k");
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("Bad address"), std::string::npos) << run.out;
    run = run_cli("mark 1 0x1001 4k");
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("errno 22"), std::string::npos) << run.out;
}

TEST_F(Cli, UsageErrorsExitTwo) {
    EXPECT_EQ(run_cli("mark 1 0x1000").status, 2);
    EXPECT_EQ(run_cli("atomic 1 0x1000 frob 1").status, 2);
    EXPECT_EQ(run_cli("frobnicate").status, 2);
}

}  // namespace
