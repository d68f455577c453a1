// The module's lifetime and its device node: load, node, version, unknown
// ioctls, and the module refcount that keeps rmmod away from an open file.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kmodule.hpp"
#include "lib/run_as.hpp"

using devexcl::Device;
using namespace devexcl::test;

namespace {

int open_errno(const char* path) {
    int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    ::close(fd);
    return 0;
}

}  // namespace

TEST(ModuleLifecycle, LoadCreatesTheDeviceNode) {
    if (module_loaded()) {
        ASSERT_FALSE(unload_module()) << "a previous holder kept the module busy";
    }
    ASSERT_NE(::access(DEVEXCL_DEVICE_PATH, F_OK), 0) << "node outlived the module";

    ASSERT_FALSE(load_module());
    EXPECT_TRUE(module_loaded());
    struct stat st {};
    ASSERT_EQ(::stat(DEVEXCL_DEVICE_PATH, &st), 0) << std::strerror(errno);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(ModuleLifecycle, LoadingTwiceIsEexist) {
    ensure_module_loaded();
    EXPECT_EQ(load_module(), std::errc::file_exists);
}

TEST(ModuleLifecycle, NodeIsRootOnly0600ByDefault) {
    ensure_module_loaded();
    struct stat st {};
    ASSERT_EQ(::stat(DEVEXCL_DEVICE_PATH, &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 0u);
    EXPECT_EQ(run_as_nobody([] { return open_errno(DEVEXCL_DEVICE_PATH); }), EACCES);
}

TEST(ModuleLifecycle, DeviceOpens) {
    ensure_module_loaded();
    EXPECT_NO_THROW(Device::open());
}

TEST(ModuleLifecycle, VersionMatchesTheHeader) {
    ensure_module_loaded();
    devexcl::Version v = Device::open().version();
    EXPECT_EQ(v.abi_major, std::uint64_t{DEVEXCL_ABI_MAJOR});
    EXPECT_EQ(v.abi_minor, std::uint64_t{DEVEXCL_ABI_MINOR});
    EXPECT_TRUE(v.compatible());
    EXPECT_EQ(v.page_size, static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
    EXPECT_GT(v.max_range_bytes, 0u);
    EXPECT_EQ(v.max_range_bytes % v.page_size, 0u);
}

// What the module says of the kernel is the kernel it runs on, and its
// device-exclusive bits describe one API generation (the 6.15 rework
// brought per-page marking, the kept mapcount and the single entry kind
// together, and fixed the THP bug with them).
TEST(ModuleLifecycle, VersionDescribesTheRunningKernel) {
    ensure_module_loaded();
    devexcl::Version v = Device::open().version();
    struct utsname u {};
    ASSERT_EQ(::uname(&u), 0);
    const std::string release = u.release;
    const std::string version = v.kernel_version_string();
    // The encoding saturates the patch level at 255: compare what it keeps.
    const std::string kept = version.substr(0, version.rfind('.') + 1);
    EXPECT_EQ(release.rfind(kept, 0), 0u) << "module says " << version << ", uname " << release;
    const bool per_page = v.kernel_has(DEVEXCL_KFEAT_EXCLUSIVE_PER_PAGE);
    EXPECT_EQ(v.kernel_has(DEVEXCL_KFEAT_EXCLUSIVE_KEEPS_MAPCOUNT), per_page);
    EXPECT_EQ(v.kernel_has(DEVEXCL_KFEAT_EXCLUSIVE_ONE_KIND), per_page);
    if (v.device_exclusive()) {
        // One generation or the other: the range call has the THP bug.
        EXPECT_NE(v.has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE), per_page);
    } else {
        // No CONFIG_DEVICE_PRIVATE: neither generation, and no bug to steer around.
        EXPECT_FALSE(per_page);
        EXPECT_FALSE(v.has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE));
    }
    EXPECT_EQ(v.kernel_features & ~std::uint64_t{0x1ff}, 0u) << "no bit beyond the ones defined";
    // Only 7.x has the anonymous page offset; a tree of one's own may be any 7.x.
    if (v.kernel_has(DEVEXCL_KFEAT_VMA_ANON_PGOFF)) {
        EXPECT_GE(v.kernel_version >> 16, 7u);
    }
    // The one bit that follows the version: the anon_vma rework left no other trace.
    EXPECT_EQ(v.kernel_has(DEVEXCL_KFEAT_ANON_VMA_CLONE_REWORK), (v.kernel_version >> 16) >= 7);
    if (v.kernel_has(DEVEXCL_KFEAT_VMA_REFCNT)) {
        EXPECT_TRUE(v.kernel_has(DEVEXCL_KFEAT_PER_VMA_LOCK));
    }
    // The rows the suite's expectations follow on this kernel, for the log.
    for (Behaviour b : all_behaviours()) {
        std::printf("# kernel %s: %s %s\n", version.c_str(), behaviour_name(b),
                    behaviour_cell(b).c_str());
        std::printf("# why %s: %s\n", behaviour_name(b), behaviour_reason(b));
    }
}

TEST(ModuleLifecycle, UnknownIoctlsAreEnotty) {
    ensure_module_loaded();
    Device dev = Device::open();
    devexcl_version buf{};
    // Another driver's magic, an unused number, and the right number with the
    // wrong size or direction: none may be mistaken for a known command.
    const unsigned long bogus[] = {
        _IOR('H', 0x05, devexcl_version),
        _IOR(DEVEXCL_IOC_MAGIC, 0x7f, devexcl_version),
        _IOR(DEVEXCL_IOC_MAGIC, 0x00, std::uint32_t),
        _IOW(DEVEXCL_IOC_MAGIC, 0x00, devexcl_version),
        _IO(DEVEXCL_IOC_MAGIC, 0x00),
    };
    for (unsigned long cmd : bogus) {
        EXPECT_EQ(dev.try_ioctl(cmd, &buf), std::errc::inappropriate_io_control_operation)
            << "cmd 0x" << std::hex << cmd;
    }
}

TEST(ModuleLifecycle, VersionWithABadPointerIsEfault) {
    ensure_module_loaded();
    Device dev = Device::open();
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_VERSION, reinterpret_cast<void*>(8)),
              std::errc::bad_address);
    // A kernel address must be refused, not written.
    EXPECT_EQ(dev.try_ioctl(DEVEXCL_IOC_VERSION, reinterpret_cast<void*>(0xffffffff81000000UL)),
              std::errc::bad_address);
}

TEST(ModuleLifecycle, RmmodIsRefusedWhileOpenAndSucceedsAfter) {
    ensure_module_loaded();
    {
        Device dev = Device::open();
        EXPECT_EQ(unload_module(), std::errc::operation_would_block);
        EXPECT_TRUE(module_loaded());
        EXPECT_NO_THROW(static_cast<void>(dev.version()))
            << "the refused rmmod must leave the device working";
    }
    EXPECT_FALSE(unload_module());
    EXPECT_FALSE(module_loaded());
    EXPECT_NE(::access(DEVEXCL_DEVICE_PATH, F_OK), 0);
    // Leave the module loaded for the suites that follow.
    EXPECT_FALSE(load_module());
}
