// The per-VMA lock as INSPECT_VMA reports it, made to happen and observed.
// 6.4 added per-VMA locks; 6.15 replaced their rwsem with vm_refcnt
// (DEVEXCL_KFEAT_VMA_REFCNT). A busy device (DEVEXCL_IOC_BUSY) holds an
// invalidation, and with it whatever lock the invalidating path holds, for
// as long as the test looks: a fault on a held page keeps its VMA read
// lock; mprotect keeps the mmap_lock for writing and the VMA write-locked.
// 6.1 has no per-VMA locks: its tests say so and skip.
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "devexcl/unique_fd.hpp"
#include "lib/kernel_behaviour.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/wait.hpp"

using namespace devexcl;
using namespace devexcl::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNoPerVmaLocks = "this kernel has no per-VMA locks (6.4)";

class VmaLockTest : public testing::Test {
protected:
    void SetUp() override {
        ensure_module_loaded();
        page_ = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        mem_ = Mapping(4 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        for (std::uint64_t i = 0; i < 4; ++i) {
            mem_.as<std::uint64_t>()[i * page_ / 8] = 0x1000 + i;
        }
    }

    VmaLock lock(VmaLookup lookup = VmaLookup::WithoutMmapLock) const {
        return dev_.inspect_vma(::getpid(), mem_.address(), lookup).lock;
    }

    // Holds page 1 and makes the device busy, so that invalidations wait.
    void hold_and_busy() {
        ASSERT_TRUE(dev_.mark(mem_.address() + page_, page_).all_held());
        dev_.busy(15s);
    }

    bool one_waiting() {
        return wait_until([&] { return dev_.busy_report().waiting == 1; }, 10s);
    }

    std::uint64_t page_ = 0;
    Mapping mem_;
    Device dev_ = Device::open();
};

TEST_F(VmaLockTest, AnIdleVmaIsAttachedWithNoReaderAndNoWriter) {
    const VmaLock under_mmap_lock = lock(VmaLookup::UnderMmapLock);
    if (!kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK)) {
        EXPECT_FALSE(under_mmap_lock.present);
        EXPECT_EQ(to_string(under_mmap_lock), "no per-VMA locks");
        devexcl_inspect_vma_req req{};
        req.pid = static_cast<std::uint64_t>(::getpid());
        req.addr = mem_.address();
        req.flags = DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK;
        EXPECT_EQ(dev_.try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &req).value(), EOPNOTSUPP)
            << "VMAs are not RCU-freed without per-VMA locks";
        GTEST_SKIP() << kNoPerVmaLocks << ": the report says so";
    }
    for (const VmaLock& l : {under_mmap_lock, lock(VmaLookup::WithoutMmapLock)}) {
        EXPECT_TRUE(l.present);
        EXPECT_TRUE(l.attached);
        EXPECT_EQ(l.readers, 0u);
        EXPECT_FALSE(l.writer);
        EXPECT_FALSE(l.write_locked) << "no mmap_lock write section is open";
    }
}

// handle_userfault() drops the fault's lock, VMA or mmap_lock, before it
// sleeps (6.12 fs/userfaultfd.c:510, 7.3 mm/userfaultfd.c:2979): a parked
// fault holds no reader, whichever lock it was taken under.
TEST_F(VmaLockTest, AFaultParkedInAUserfaultfdHandlerHoldsNoReader) {
    if (!kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK)) {
        GTEST_SKIP() << kNoPerVmaLocks;
    }
    Mapping missing(page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    UniqueFd uffd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC)));
    ASSERT_TRUE(uffd) << std::strerror(errno);
    uffdio_api api{};
    api.api = UFFD_API;
    ASSERT_EQ(::ioctl(uffd.get(), UFFDIO_API, &api), 0) << std::strerror(errno);
    uffdio_register reg{};
    reg.range.start = missing.address();
    reg.range.len = page_;
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    ASSERT_EQ(::ioctl(uffd.get(), UFFDIO_REGISTER, &reg), 0) << std::strerror(errno);

    std::thread toucher([&] { (void)missing.as<volatile std::uint64_t>()[0]; });
    pollfd pfd{uffd.get(), POLLIN, 0};
    const bool parked = ::poll(&pfd, 1, 10000) == 1;
    uffd_msg msg{};
    if (parked) {
        ASSERT_EQ(::read(uffd.get(), &msg, sizeof(msg)), static_cast<ssize_t>(sizeof(msg)));
        for (VmaLookup lookup : {VmaLookup::UnderMmapLock, VmaLookup::WithoutMmapLock}) {
            const VmaLock l = dev_.inspect_vma(::getpid(), missing.address(), lookup).lock;
            EXPECT_TRUE(l.attached);
            EXPECT_EQ(l.readers, 0u) << "the parked fault released its lock";
            EXPECT_FALSE(l.writer);
        }
    }
    uffdio_zeropage zero{};
    zero.range.start = missing.address();
    zero.range.len = page_;
    EXPECT_EQ(::ioctl(uffd.get(), UFFDIO_ZEROPAGE, &zero), 0) << std::strerror(errno);
    toucher.join();
    ASSERT_TRUE(parked) << "the fault never reached the userfaultfd";
    EXPECT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
}

// A CPU fault on a held page runs under the VMA's read lock on these
// kernels (lock_vma_under_rcu(), then do_swap_page() ->
// remove_device_exclusive_entry(), which notifies): while the busy device
// holds that invalidation, the reader is there to see.
TEST_F(VmaLockTest, AFaultOnAHeldPageIsAReaderWhileTheDeviceIsBusy) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    if (!kernel_shows(Behaviour::FaultOnHeldPageTakesVmaReadLock)) {
        GTEST_SKIP() << kNoPerVmaLocks << ", row "
                     << behaviour_name(Behaviour::FaultOnHeldPageTakesVmaReadLock);
    }
    hold_and_busy();
    std::uint64_t read_back = 0;
    std::thread reader([&] { read_back = mem_.as<volatile std::uint64_t>()[page_ / 8]; });
    const bool parked = one_waiting();
    VmaLock seen[2];
    if (parked) {
        seen[0] = lock(VmaLookup::UnderMmapLock);
        seen[1] = lock(VmaLookup::WithoutMmapLock);
    }
    dev_.idle();
    reader.join();
    ASSERT_TRUE(parked) << "the fault never reached the device's invalidation";
    for (const VmaLock& l : seen) {
        EXPECT_TRUE(l.attached);
        EXPECT_EQ(l.readers, 1u) << "the faulting thread, under the VMA's read lock";
        EXPECT_FALSE(l.writer);
        EXPECT_FALSE(l.write_locked);
    }
    EXPECT_EQ(lock().readers, 0u) << "the fault let go";
    EXPECT_EQ(read_back, 0x1001u);
}

// mprotect() takes the mmap_lock for writing, then vma_start_write() waits
// for the VMA's readers: 6.12's down_write() queues behind them (the
// rwsem's waiter bit), 7.3 sets VM_REFCNT_EXCLUDE_READERS_FLAG and waits
// for vm_refcnt to drain (include/linux/mmap_lock.h, mm/mmap_lock.c).
TEST_F(VmaLockTest, AWriterWaitingForAReaderIsSeenExcludingReaders) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    if (!kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK)) {
        GTEST_SKIP() << kNoPerVmaLocks;
    }
    hold_and_busy();
    // A read: the page is read-only once mprotect() is through, and a
    // write fault retried after it would be a SIGSEGV.
    std::thread reader([&] { (void)mem_.as<volatile std::uint64_t>()[page_ / 8]; });
    const bool parked = one_waiting();
    std::thread writer;
    VmaLock seen;
    bool excluding = false;
    if (parked) {
        writer = std::thread([&] { ::mprotect(mem_.data(), mem_.size(), PROT_READ); });
        excluding = wait_until(
            [&] {
                seen = lock();
                return seen.writer;
            },
            10s);
    }
    dev_.idle();
    reader.join();
    if (writer.joinable()) {
        writer.join();
    }
    ASSERT_TRUE(parked) << "the fault never reached the device's invalidation";
    ASSERT_TRUE(excluding) << "no writer was seen waiting; last: " << to_string(seen);
    EXPECT_TRUE(seen.attached);
    EXPECT_EQ(seen.readers, 1u) << "the reader it waits for";
    EXPECT_FALSE(seen.write_locked) << "vm_lock_seq is set once the readers are gone";
    const VmaLock after = lock();
    EXPECT_FALSE(after.writer);
    EXPECT_FALSE(after.write_locked) << "mmap_write_unlock() ended the write section";
}

// Inside the write section, after vma_start_write(): the VMA's
// vm_lock_seq equals the mm's mmap_lock sequence until mmap_write_unlock().
TEST_F(VmaLockTest, AVmaInAnMmapWriteSectionShowsItIsWriteLocked) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    if (!kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK)) {
        GTEST_SKIP() << kNoPerVmaLocks;
    }
    hold_and_busy();
    // change_protection() notifies with the mmap_lock held for writing.
    std::thread writer([&] { ::mprotect(mem_.data(), mem_.size(), PROT_READ); });
    const bool parked = one_waiting();
    VmaLock seen;
    if (parked) {
        seen = lock();
    }
    dev_.idle();
    writer.join();
    ASSERT_TRUE(parked) << "mprotect never reached the device's invalidation";
    EXPECT_TRUE(seen.attached);
    EXPECT_TRUE(seen.write_locked);
    EXPECT_EQ(seen.readers, 0u);
    EXPECT_FALSE(seen.writer) << "the exclusion ends once vm_lock_seq is set";
    EXPECT_FALSE(lock().write_locked) << "mmap_write_unlock() ended the write section";
}

// munmap() detaches the VMA and clears it from the mm's tree before it
// zaps the pages (6.12 mm/vma.c:1260 and :1368, then vms_clear_ptes()):
// once the zap notifies, the VMA is not found by address any more, with
// or without the mmap_lock. A detached VMA cannot be caught this way.
TEST_F(VmaLockTest, AVmaBeingUnmappedIsGoneFromTheTreeBeforeItsPagesAreZapped) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    if (!kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK)) {
        GTEST_SKIP() << kNoPerVmaLocks;
    }
    hold_and_busy();
    const std::uint64_t addr = mem_.address();
    std::thread unmapper([&] { ::munmap(mem_.data(), mem_.size()); });
    const bool parked = one_waiting();
    std::error_code found;
    if (parked) {
        devexcl_inspect_vma_req req{};
        req.pid = static_cast<std::uint64_t>(::getpid());
        req.addr = addr;
        req.flags = DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK;
        found = dev_.try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &req);
    }
    dev_.idle();
    unmapper.join();
    static_cast<void>(mem_.release());  // already unmapped
    ASSERT_TRUE(parked) << "munmap never reached the device's invalidation";
    EXPECT_EQ(found.value(), EFAULT) << "no VMA at the address while its pages are zapped";
    EXPECT_EQ(dev_.status(addr + page_, page_)[0].cause, Cause::Unmap);
}

TEST_F(VmaLockTest, BadLockFreeRequestsAreRefused) {
    devexcl_inspect_vma_req req{};
    req.pid = static_cast<std::uint64_t>(::getpid());
    req.addr = mem_.address();
    req.flags = 2;
    EXPECT_EQ(dev_.try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &req).value(), EINVAL) << "unknown flag";
    devexcl_anon_vma_info chain[4];
    req.flags = DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK;
    req.chain = reinterpret_cast<std::uint64_t>(chain);
    req.max_chain = 4;
    EXPECT_EQ(dev_.try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &req).value(), EINVAL)
        << "the chain is only read under the mmap_lock";
    req.chain = 0;
    req.max_chain = 0;
    req.addr = 0x1000;  // below mmap_min_addr: never a VMA
    EXPECT_EQ(dev_.try_ioctl(DEVEXCL_IOC_INSPECT_VMA, &req).value(),
              kernel_does(DEVEXCL_KFEAT_PER_VMA_LOCK) ? EFAULT : EOPNOTSUPP);
}

}  // namespace
