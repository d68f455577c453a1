// Load/unload cycles of devexcl.ko: DEVEXCL_CYCLES of them (default 100),
// each leaving things in flight (in_flight.hpp), one kind or several at
// once, in rotation. delete_module(O_NONBLOCK) must be refused exactly
// while something that holds a module reference is alive, and succeed
// exactly when nothing does: /sys/module/devexcl/refcnt must equal the
// number of those things at every step. Every cycle starts from a fresh
// load whose counters are all 0, and ends with its gauges back at 0
// (contexts open, pages held, subscribers but the ones kept on purpose).
// Whatever outlives the module must be harmless after the unload.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "devexcl/module_stats.hpp"
#include "devexcl/uapi.hpp"
#include "in_flight.hpp"
#include "lib/env.hpp"
#include "lib/kmodule.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

using Kinds = std::vector<InFlightKind>;

// Each kind alone, then several at once; a cycle takes the next entry.
// They start in the order given, so the kinds that fork come first: a
// target process (HeldMarks) keeps the files and sockets open at its fork.
const std::vector<Kinds> kSchedule = {
    {InFlightKind::OpenFile},
    {InFlightKind::HeldMarks},
    {InFlightKind::KilledHolder},
    {InFlightKind::Subscription},
    {InFlightKind::HalfReadDump},
    {InFlightKind::OpenFile, InFlightKind::Subscription},
    {InFlightKind::HeldMarks, InFlightKind::HalfReadDump},
    {InFlightKind::KilledHolder, InFlightKind::Subscription, InFlightKind::HalfReadDump},
    {InFlightKind::HeldMarks, InFlightKind::KilledHolder, InFlightKind::OpenFile,
     InFlightKind::Subscription, InFlightKind::HalfReadDump},
};

const Kinds& kinds_of(int cycle) {
    return kSchedule[static_cast<std::size_t>(cycle) % kSchedule.size()];
}

// Each kind's two forms alternate from one round of the schedule to the next.
int variant_of(int cycle) {
    return static_cast<int>(static_cast<std::size_t>(cycle) / kSchedule.size() % 2);
}

int cycle_count() {
    return static_cast<int>(env_number("DEVEXCL_CYCLES", 100));
}

// Prints how long all the cycles took: a figure, not an assertion.
class CycleClock : public testing::Environment {
public:
    void SetUp() override { start_ = std::chrono::steady_clock::now(); }
    void TearDown() override {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
        std::printf("# %d load/unload cycles in %.1f s\n", cycle_count(), took.count());
    }

private:
    std::chrono::steady_clock::time_point start_;
};
// GoogleTest owns and deletes the environment.
const auto* const kClock =
    testing::AddGlobalTestEnvironment(std::make_unique<CycleClock>().release());

class ModuleCycle : public testing::TestWithParam<int> {};

TEST_P(ModuleCycle, RmmodIsRefusedExactlyWhileInUse) {
    const int cycle = GetParam();
    if (module_loaded()) {
        ASSERT_FALSE(unload_module()) << "devexcl was loaded and in use before the cycles";
    }
    ASSERT_FALSE(load_module());
    ASSERT_EQ(module_refcount(), 0);
    for (const auto& [name, value] : module_stats()) {
        EXPECT_EQ(value, 0u) << name << " of a fresh load";
    }

    struct Item {
        InFlightKind kind;
        std::unique_ptr<InFlight> thing;
        bool alive = true;
    };
    std::vector<Item> items;
    for (InFlightKind kind : kinds_of(cycle)) {
        items.push_back({kind, start_in_flight(kind, variant_of(cycle))});
    }
    // Which one ends last turns with the cycle.
    std::rotate(items.begin(), items.begin() + cycle % static_cast<int>(items.size()), items.end());
    auto pinning = [&] {
        return std::count_if(items.begin(), items.end(),
                             [](const Item& i) { return i.alive && i.thing->pins_module(); });
    };
    for (Item& item : items) {
        const long long pins = pinning();
        EXPECT_EQ(module_refcount(), pins) << "before " << kind_name(item.kind) << " ends";
        if (pins > 0) {
            EXPECT_EQ(unload_module(), std::errc::operation_would_block)
                << "with " << pins << " thing(s) in use, before " << kind_name(item.kind)
                << " ends";
            ASSERT_TRUE(module_loaded());
        }
        item.thing->end();
        item.alive = false;
    }

    ModuleStats stats = module_stats();
    const auto kept = std::count_if(items.begin(), items.end(),
                                    [](const Item& i) { return i.thing->subscribed_after_end(); });
    EXPECT_EQ(stats["contexts_open"], 0u);
    EXPECT_EQ(stats["pages_marked"], stats["pages_revoked"]) << "pages are still held";
    EXPECT_EQ(stats["subscribers"], static_cast<std::uint64_t>(kept));
    EXPECT_EQ(stats["events_lost"], 0u);
    EXPECT_EQ(module_refcount(), 0);
    ASSERT_FALSE(unload_module()) << "nothing is in use";
    EXPECT_FALSE(module_loaded());
    EXPECT_NE(::access(DEVEXCL_DEVICE_PATH, F_OK), 0) << "the node outlived the module";
    for (Item& item : items) {
        item.thing->check_after_unload();
    }
}

std::string cycle_name(const testing::TestParamInfo<int>& info) {
    char number[16];
    std::snprintf(number, sizeof(number), "c%03d", info.param);
    std::string name = number;
    for (InFlightKind kind : kinds_of(info.param)) {
        name += "_";
        name += kind_name(kind);
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Cycles, ModuleCycle, testing::Range(0, cycle_count()), cycle_name);

}  // namespace
