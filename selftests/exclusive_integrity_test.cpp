// Data integrity under contention: for 10 s, CPU threads and the device
// increment the same counters, the CPU's faults revoking the device's hold
// and the device re-acquiring it, over and over. The sums must be exact.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "devexcl/device.hpp"
#include "lib/kernel_features.hpp"
#include "lib/kmodule.hpp"
#include "lib/memory_kinds.hpp"

using namespace devexcl;
using namespace devexcl::test;

TEST(DataIntegrity, CpuThreadsAndDeviceAtomicsGiveExactSumsOver10Seconds) {
    DEVEXCL_REQUIRE_DEVICE_EXCLUSIVE();
    ensure_module_loaded();
    constexpr int kCpuThreads = 2;
    constexpr std::size_t kCounters = 4;  // one per page
    const auto duration = std::chrono::seconds(10);

    auto mem = TestMemory::create(MemoryKind::PrivateAnon);
    Device dev = Device::open();
    std::vector<std::uint64_t*> counters;
    for (std::size_t i = 0; i < kCounters; ++i) {
        counters.push_back(reinterpret_cast<std::uint64_t*>(mem->page_addr(i)));
        *counters.back() = 0;
    }
    // Zeroed first: a CPU write after marking would revoke the pages.
    ASSERT_TRUE(dev.mark(mem->addr(), kCounters * TestMemory::page_size()).all_held());

    std::atomic<bool> stop{false};
    std::vector<std::uint64_t> cpu_adds(kCpuThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kCpuThreads; ++t) {
        threads.emplace_back([&, t] {
            std::uint64_t n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                __atomic_fetch_add(counters[n % kCounters], 1, __ATOMIC_SEQ_CST);
                ++n;
            }
            cpu_adds[t] = n;
        });
    }

    std::uint64_t device_adds = 0, reacquired = 0;
    auto end = std::chrono::steady_clock::now() + duration;
    try {
        while (std::chrono::steady_clock::now() < end) {
            AccessResult r = dev.access(mem->page_addr(device_adds % kCounters), AccessOp::Add, 1,
                                        0, /*reacquire=*/true);
            reacquired += r.path == AccessPath::Reacquired;
            ++device_adds;
        }
    } catch (const std::system_error& e) {
        ADD_FAILURE() << "device access failed after " << device_adds << " adds: " << e.what();
    }
    stop = true;
    for (auto& t : threads) {
        t.join();
    }

    std::uint64_t total = 0, expected = device_adds;
    for (auto* c : counters) {
        total += __atomic_load_n(c, __ATOMIC_SEQ_CST);
    }
    for (auto n : cpu_adds) {
        expected += n;
    }
    Counters c = dev.counters();
    std::printf("# cpu adds %llu, device adds %llu (%llu re-acquired), revocations %llu\n",
                static_cast<unsigned long long>(expected - device_adds),
                static_cast<unsigned long long>(device_adds),
                static_cast<unsigned long long>(reacquired),
                static_cast<unsigned long long>(c.revocations));
    EXPECT_EQ(total, expected);
    EXPECT_EQ(c.device_ops, device_adds);
    EXPECT_GT(reacquired, 0u) << "the CPU never took a page back: no contention was tested";
    EXPECT_GE(c.revoked_by(Cause::CpuFault), reacquired);
}
