// One open /dev/devexcl: one simulated device context in the kernel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "devexcl/rmap_types.hpp"
#include "devexcl/types.hpp"
#include "devexcl/uapi.hpp"
#include "devexcl/unique_fd.hpp"
#include "devexcl/version.hpp"

namespace devexcl {

struct Version {
    std::uint64_t abi_major = 0;
    std::uint64_t abi_minor = 0;
    std::uint64_t features = 0;
    std::uint64_t page_size = 0;
    std::uint64_t max_range_bytes = 0;
    // DEVEXCL_KFEAT_* bits: what the running kernel does (ABI 1.3; 0 before).
    std::uint64_t kernel_features = 0;
    // LINUX_VERSION_CODE of the running kernel, for display (0 before ABI 1.3).
    std::uint64_t kernel_version = 0;

    [[nodiscard]] AbiVersion abi() const { return {abi_major, abi_minor}; }
    // The module serves this library: abi_compatible() with the ABI the
    // library was built for (library_version().abi).
    [[nodiscard]] bool compatible() const;
    // A DEVEXCL_FEAT_* bit, including the DEVEXCL_FEAT_KBUG_* known kernel bugs.
    [[nodiscard]] bool has(std::uint64_t feature) const { return (features & feature) == feature; }
    // A DEVEXCL_KFEAT_* bit.
    [[nodiscard]] bool kernel_has(std::uint64_t feature) const {
        return (kernel_features & feature) == feature;
    }
    // The kernel can make device-exclusive entries (CONFIG_DEVICE_PRIVATE):
    // without it, mark and access fail with EOPNOTSUPP.
    [[nodiscard]] bool device_exclusive() const {
        return kernel_has(DEVEXCL_KFEAT_DEVICE_EXCLUSIVE);
    }
    // "6.12.118" (the patch level saturates at 255 in the kernel's encoding).
    [[nodiscard]] std::string kernel_version_string() const;
};

// DEVEXCL_IOC_BUSY's report: invalidations of this device's ranges.
struct BusyReport {
    std::uint64_t waiting = 0;  // waiting for the device now
    std::uint64_t waited = 0;   // that have waited since the context was bound
};

// Whether marking steers around the running kernel's known bugs (the
// default) or, for CAP_SYS_ADMIN, walks into them to reproduce them.
enum class MarkMode { AvoidKernelBugs, AllowKernelBugs };

// Whether Device::open() checks the module's ABI. Skip is for tools that
// report a mismatch themselves (`devexcl version`); anything else that
// skips it may misread what the module answers.
enum class AbiCheck { Require, Skip };

// Every method throws std::system_error carrying the ioctl's errno.
class Device {
public:
    // Opens the device node: a new context acting on the caller's process.
    // Then asks the module's version and, unless `check` is Skip, throws
    // std::system_error(EPROTO) naming both versions if the module cannot
    // serve this library (see require_compatible_abi()).
    [[nodiscard]] static Device open(const std::string& path = DEVEXCL_DEVICE_PATH,
                                     AbiCheck check = AbiCheck::Require);

    explicit Device(UniqueFd fd) : fd_(std::move(fd)) {}

    [[nodiscard]] Version version() const;

    // Act on another process (needs ptrace-level rights over it).
    void bind(pid_t pid);
    void bind_pidfd(int pidfd);

    // Take device-exclusive access to [start, start + length). Refused pages
    // are reported per page, not thrown: the result is the only way to know.
    [[nodiscard]] MarkResult mark(std::uint64_t start, std::uint64_t length,
                                  MarkMode mode = MarkMode::AvoidKernelBugs);
    // Give pages back to the CPU; their mappings are faulted back in.
    ReleaseResult release(std::uint64_t start, std::uint64_t length);
    // The device's and the CPU's view of each page.
    [[nodiscard]] std::vector<PageStatus> status(std::uint64_t start, std::uint64_t length) const;

    // One 64-bit device access. Without `reacquire`, a page the device does
    // not hold fails with ENOENT (never held) or ESTALE (revoked).
    AccessResult access(std::uint64_t addr, AccessOp op, std::uint64_t value = 0,
                        std::uint64_t expected = 0, bool reacquire = false);

    [[nodiscard]] Counters counters() const;

    // A busy device: until idle(), or `timeout` (at most DEVEXCL_BUSY_MAX_MS),
    // every invalidation of its ranges that may sleep waits for it, holding
    // the locks of the path that invalidates (see DEVEXCL_IOC_BUSY).
    BusyReport busy(std::chrono::milliseconds timeout);
    BusyReport idle();
    [[nodiscard]] BusyReport busy_report() const;
    // The most recent revocation batches, oldest first.
    [[nodiscard]] std::vector<Revocation> revocations(
        std::size_t max = DEVEXCL_REVOCATION_LOG) const;

    // rmap inspection of any process the caller may inspect (independent of bind()).
    // One page, with up to `max_mappings` of its mappings.
    [[nodiscard]] PageInspection inspect_page(
        pid_t pid, std::uint64_t addr, std::size_t max_mappings = DEVEXCL_MAX_RMAP_ENTRIES) const;
    // Every page of [start, start + length), following the kernel's cursor;
    // with `walk_rmap`, each record also counts the page's mappings.
    [[nodiscard]] std::vector<PageInfo> inspect_range(pid_t pid, std::uint64_t start,
                                                      std::uint64_t length,
                                                      bool walk_rmap = false) const;
    // The VMA containing `addr`, its lock and (under the mmap_lock) its anon_vma_chain.
    [[nodiscard]] VmaInspection inspect_vma(pid_t pid, std::uint64_t addr,
                                            VmaLookup lookup = VmaLookup::UnderMmapLock) const;

    // Issues a raw ioctl; returns the errno as an error_code instead of throwing.
    [[nodiscard]] std::error_code try_ioctl(unsigned long request, void* arg) const noexcept;

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    // Issues an ioctl and throws std::system_error("what") on failure.
    void ioctl_or_throw(unsigned long request, void* arg, const char* what) const;

    UniqueFd fd_;
};

}  // namespace devexcl
