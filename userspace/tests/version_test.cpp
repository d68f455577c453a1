// The rule for which loaded module serves this library, and the error that
// says what to do when none does.
#include "devexcl/version.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/uapi.hpp"

using devexcl::AbiVersion;

namespace {

// The errno and text require_compatible_abi() throws, or 0 and "".
std::pair<int, std::string> refusal(AbiVersion module, AbiVersion built_for) {
    try {
        devexcl::require_compatible_abi(module, built_for);
    } catch (const std::system_error& e) {
        return {devexcl::errno_of(e), e.what()};
    }
    return {0, ""};
}

}  // namespace

TEST(AbiVersion, TheLibraryIsBuiltForTheHeadersAbi) {
    const devexcl::LibraryVersion v = devexcl::library_version();
    EXPECT_EQ(v.abi, (AbiVersion{DEVEXCL_ABI_MAJOR, DEVEXCL_ABI_MINOR}));
    EXPECT_EQ(v.major, unsigned{DEVEXCL_VERSION_MAJOR});
    EXPECT_EQ(v.minor, unsigned{DEVEXCL_VERSION_MINOR});
    EXPECT_EQ(v.patch, unsigned{DEVEXCL_VERSION_PATCH});
    EXPECT_EQ(v.string(), std::to_string(DEVEXCL_VERSION_MAJOR) + "." +
                              std::to_string(DEVEXCL_VERSION_MINOR) + "." +
                              std::to_string(DEVEXCL_VERSION_PATCH));
    EXPECT_EQ((AbiVersion{1, 4}).string(), "1.4");
}

TEST(AbiVersion, SameMajorAndAtLeastTheMinorIsCompatible) {
    EXPECT_TRUE(devexcl::abi_compatible({1, 4}, {1, 4}));
    EXPECT_TRUE(devexcl::abi_compatible({1, 9}, {1, 4}));  // a minor bump only adds
    EXPECT_FALSE(devexcl::abi_compatible({1, 3}, {1, 4}));
    EXPECT_FALSE(devexcl::abi_compatible({1, 0}, {1, 4}));
    EXPECT_FALSE(devexcl::abi_compatible({2, 4}, {1, 4}));  // a major bump breaks
    EXPECT_FALSE(devexcl::abi_compatible({0, 9}, {1, 4}));
    EXPECT_FALSE(devexcl::abi_compatible({2, 0}, {1, 9}));
    static_assert(devexcl::abi_compatible({1, 5}, {1, 4}), "usable at compile time");
}

TEST(AbiVersion, CompatibleModulesAreNotRefused) {
    EXPECT_EQ(refusal({1, 4}, {1, 4}).first, 0);
    EXPECT_EQ(refusal({1, 7}, {1, 4}).first, 0);
    EXPECT_EQ(devexcl::abi_mismatch_message({1, 7}, {1, 4}), "");
}

TEST(AbiVersion, AnOlderMinorIsRefusedWithBothVersionsAndWhatToDo) {
    const auto [err, what] = refusal({1, 3}, {1, 4});
    EXPECT_EQ(err, EPROTO);
    EXPECT_NE(what.find("devexcl.ko speaks ABI 1.3"), std::string::npos) << what;
    EXPECT_NE(what.find("libdevexcl " + devexcl::library_version().string() + " needs 1.4"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("rmmod, insmod"), std::string::npos) << what;
    EXPECT_NE(what.find("rebuild libdevexcl"), std::string::npos) << what;
}

TEST(AbiVersion, AnotherMajorIsRefusedEitherWay) {
    for (const AbiVersion module : {AbiVersion{2, 0}, AbiVersion{0, 9}}) {
        const auto [err, what] = refusal(module, {1, 4});
        EXPECT_EQ(err, EPROTO);
        EXPECT_NE(what.find("speaks ABI " + module.string()), std::string::npos) << what;
        EXPECT_NE(what.find("was built for 1.4"), std::string::npos) << what;
        EXPECT_NE(what.find("major change"), std::string::npos) << what;
        EXPECT_NE(what.find("rebuild libdevexcl and its programs"), std::string::npos) << what;
        EXPECT_NE(what.find("1.4 or a later 1.x"), std::string::npos) << what;
    }
}

TEST(AbiVersion, TheModulesAnswerIsJudgedByTheLibrarysAbi) {
    devexcl::Version v;
    v.abi_major = DEVEXCL_ABI_MAJOR;
    v.abi_minor = DEVEXCL_ABI_MINOR;
    EXPECT_TRUE(v.compatible());
    EXPECT_EQ(v.abi(), devexcl::library_version().abi);
    v.abi_minor = DEVEXCL_ABI_MINOR + 1;
    EXPECT_TRUE(v.compatible());
    if (DEVEXCL_ABI_MINOR > 0) {
        v.abi_minor = DEVEXCL_ABI_MINOR - 1;
        EXPECT_FALSE(v.compatible());
    }
    v.abi_major = DEVEXCL_ABI_MAJOR + 1;
    v.abi_minor = DEVEXCL_ABI_MINOR;
    EXPECT_FALSE(v.compatible());
}
