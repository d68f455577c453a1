// Opening a Device checks the module's ABI against the one libdevexcl was
// built for: the same major, at least its minor. A module it cannot use is
// refused with EPROTO and a message naming both versions and what to do;
// `devexcl version` reports it, every other command fails with it. No
// other module can be loaded here, so a tracer rewrites this module's
// DEVEXCL_IOC_VERSION answer (lib/module_abi_rewrite.hpp): all else is
// the real module.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/version.hpp"
#include "lib/kmodule.hpp"
#include "lib/module_abi_rewrite.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

const AbiVersion kBuiltFor = library_version().abi;

// ABIs this library must refuse: an older minor (if there is one), the
// next major, and major 0.
std::vector<AbiVersion> refused_abis() {
    std::vector<AbiVersion> out = {{kBuiltFor.major + 1, 0}, {0, kBuiltFor.minor}};
    if (kBuiltFor.minor > 0) {
        out.insert(out.begin(), {kBuiltFor.major, kBuiltFor.minor - 1});
    }
    return out;
}

// Opens the device in the traced child: "opened A.B" or "errno N: message".
int open_and_report(AbiCheck check) {
    try {
        const Device dev = Device::open(DEVEXCL_DEVICE_PATH, check);
        std::printf("opened %s\n", dev.version().abi().string().c_str());
        return 0;
    } catch (const std::system_error& e) {
        std::printf("errno %d: %s\n", errno_of(e), e.what());
        return 1;
    }
}

std::string cli() {
    return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "devexcl").string();
}

int exec_cli(const char* command) {
    const std::string path = cli();
    ::execl(path.c_str(), "devexcl", command, nullptr);
    return 127;
}

class ModuleAbi : public testing::Test {
protected:
    void SetUp() override { ensure_module_loaded(); }
};

TEST_F(ModuleAbi, TheLoadedModuleServesThisLibrary) {
    const Device dev = Device::open();
    EXPECT_EQ(dev.version().abi(), kBuiltFor);
    EXPECT_TRUE(dev.version().compatible());
    EXPECT_NO_THROW(require_compatible_abi(dev.version().abi()));
}

TEST_F(ModuleAbi, TheRewriteChangesOnlyTheAnswersAbi) {
    const RewrittenRun run =
        run_with_module_abi(kBuiltFor, [] { return open_and_report(AbiCheck::Require); });
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(run.output, "opened " + kBuiltFor.string() + "\n");
    EXPECT_EQ(run.versions_asked, 2) << "one by open(), one by the report";
}

TEST_F(ModuleAbi, OpeningRefusesAModuleOfAnotherAbiWithEproto) {
    for (const AbiVersion abi : refused_abis()) {
        SCOPED_TRACE("module ABI " + abi.string());
        const RewrittenRun run =
            run_with_module_abi(abi, [] { return open_and_report(AbiCheck::Require); });
        EXPECT_EQ(run.status, 1) << run.output;
        EXPECT_EQ(run.versions_asked, 1) << "refused before any other ioctl";
        const std::string head = "errno " + std::to_string(EPROTO) +
                                 ": " DEVEXCL_DEVICE_PATH ": the loaded devexcl.ko speaks ABI " +
                                 abi.string() + ", libdevexcl " + library_version().string();
        EXPECT_EQ(run.output.rfind(head, 0), 0u) << run.output;
        EXPECT_NE(run.output.find("rmmod, insmod"), std::string::npos) << run.output;
        EXPECT_NE(run.output.find("rebuild libdevexcl"), std::string::npos) << run.output;
    }
}

TEST_F(ModuleAbi, ANewerMinorIsServed) {
    const AbiVersion newer{kBuiltFor.major, kBuiltFor.minor + 1};
    const RewrittenRun run =
        run_with_module_abi(newer, [] { return open_and_report(AbiCheck::Require); });
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(run.output, "opened " + newer.string() + "\n");
}

TEST_F(ModuleAbi, SkippingTheCheckOpensAnyModule) {
    const AbiVersion other{kBuiltFor.major + 1, 0};
    const RewrittenRun run =
        run_with_module_abi(other, [] { return open_and_report(AbiCheck::Skip); });
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(run.output, "opened " + other.string() + "\n");
}

TEST_F(ModuleAbi, CliVersionReportsTheMismatchAndCommandsFailWithIt) {
    for (const AbiVersion abi : refused_abis()) {
        SCOPED_TRACE("module ABI " + abi.string());
        const RewrittenRun version = run_with_module_abi(abi, [] { return exec_cli("version"); });
        EXPECT_EQ(version.status, 1) << version.output;
        EXPECT_NE(version.output.find("library         libdevexcl " + library_version().string() +
                                      ", for module ABI " + kBuiltFor.string() + " or a later " +
                                      std::to_string(kBuiltFor.major) + ".x\n"),
                  std::string::npos)
            << version.output;
        EXPECT_NE(version.output.find("module ABI      " + abi.string() +
                                      "  (INCOMPATIBLE: the loaded devexcl.ko speaks ABI " +
                                      abi.string()),
                  std::string::npos)
            << version.output;

        const RewrittenRun counters = run_with_module_abi(abi, [] { return exec_cli("counters"); });
        EXPECT_EQ(counters.status, 1) << counters.output;
        EXPECT_NE(counters.output.find("speaks ABI " + abi.string()), std::string::npos)
            << counters.output;
        EXPECT_NE(counters.output.find("(errno " + std::to_string(EPROTO) + ")"), std::string::npos)
            << counters.output;
    }
}

}  // namespace
