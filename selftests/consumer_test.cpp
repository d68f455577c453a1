// The consumers: userspace/examples/consumer built outside the tree against
// libdevexcl installed in a staging prefix, once through pkg-config
// (--static), once through find_package(devexcl) (scripts/build-consumers.sh),
// both statically linked. Each must run here, where there is no shared
// library, and do what a user's program would: mark, device atomic, CPU
// fault, event.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "devexcl/version.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

struct ProgramRun {
    std::string out;
    int status = -1;
};

// The VM's programs are installed side by side (/opt/devexcl).
std::string beside_this_program(const std::string& name) {
    return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
}

ProgramRun run(const std::string& cmdline) {
    ProgramRun r;
    FILE* pipe = ::popen((cmdline + " </dev/null 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        return r;
    }
    std::array<char, 4096> buf;
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) {
        r.out.append(buf.data(), n);
    }
    const int status = ::pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class Consumer : public testing::TestWithParam<const char*> {
protected:
    void SetUp() override { ensure_module_loaded(); }
    std::string path() const { return beside_this_program(GetParam()); }
};

TEST_P(Consumer, LinksTheLibraryOfThisBuild) {
    const ProgramRun r = run(path() + " --library-version");
    EXPECT_EQ(r.status, 0) << r.out;
    const LibraryVersion lib = library_version();
    EXPECT_EQ(r.out, "libdevexcl " + lib.string() + ", for module ABI " + lib.abi.string() + "\n");
}

TEST_P(Consumer, MarksDoesAnAtomicAndReceivesTheCpuFaultsRevocation) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    const ProgramRun r = run(path());
    EXPECT_EQ(r.status, 0) << r.out;
    const std::string expected[] = {
        "consumer: libdevexcl " + library_version().string() + ", module ABI " +
            library_version().abi.string() + "\n",
        "consumer: marked 1 page device-exclusive\n",
        "consumer: device add 1: 41 -> 42\n",
        "consumer: CPU read 42\n",
        "consumer: event cpu-fault, 1 page, by pid ",
        "consumer: ok\n",
    };
    std::size_t at = 0;
    for (const std::string& line : expected) {
        const std::size_t found = r.out.find(line, at);
        ASSERT_NE(found, std::string::npos) << "missing, in order: " << line << "\n" << r.out;
        at = found + line.size();
    }
}

INSTANTIATE_TEST_SUITE_P(Installed, Consumer,
                         testing::Values("devexcl-consumer-pkgconfig", "devexcl-consumer-cmake"),
                         [](const testing::TestParamInfo<const char*>& info) {
                             return std::string(info.param).find("cmake") != std::string::npos
                                        ? "CMakeFindPackage"
                                        : "PkgConfigStatic";
                         });

}  // namespace
