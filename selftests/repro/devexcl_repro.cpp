// devexcl-repro: walks into a known kernel bug on purpose, one bug per VM
// boot (`make repro`). It first says on the kernel log whether the running
// kernel has the bug, from the module's DEVEXCL_FEAT_KBUG_* bits, and so
// whether a crash is expected; the host holds the console to that.
//
//   devexcl-repro list
//   devexcl-repro BUG
#include <unistd.h>

#include <sys/utsname.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "devexcl/device.hpp"
#include "lib/kernel_features.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/numa.hpp"

using namespace devexcl;
using namespace devexcl::test;

namespace {

constexpr int kExitSkip = 77;

struct KnownBug {
    const char* name;
    std::uint64_t feature;  // DEVEXCL_FEAT_KBUG_*: the kernel has the bug
    const char* what;
    // Returns 0 if the kernel survived with the data intact, kExitSkip if
    // the kernel cannot set the scene up.
    std::function<int()> reproduce;
};

// 6.1 to 6.14: marking a THP head converts every PTE of the folio; a CPU
// read restores one, so the folio is mapped again; move_pages() then runs
// try_to_migrate_one() over the folio's PTEs, which takes pte_pfn() of the
// device-exclusive entries: "kernel BUG at mm/rmap.c". Fixed in 6.15 by
// "mm: fixes for device-exclusive entries (hmm)".
int thp_exclusive_migrate() {
    auto mem = TestMemory::create(MemoryKind::AnonThp);
    if (!mem->skip_reason().empty()) {
        std::printf("# SKIP %s\n", mem->skip_reason().c_str());
        return kExitSkip;
    }
    Device dev = Device::open();
    const std::size_t page = TestMemory::page_size();
    MarkResult mark = dev.mark(mem->addr(), 8 * page, MarkMode::AllowKernelBugs);
    std::printf("# marked %llu of 8 pages from the THP head\n",
                static_cast<unsigned long long>(mark.marked));
    if (*mem->word(1) != mem->initial_word(1)) {
        std::printf("# the CPU read page 1 wrong\n");
        return 1;
    }
    const int from = node_of(mem->page_addr(1));
    std::printf("# move_pages: page 1 from node %d to node %d\n", from, other_node(from));
    std::fflush(stdout);
    const int now = move_page(mem->page_addr(1), other_node(from));
    std::printf("# page 1 is on node %d now\n", now);
    for (std::size_t i = 0; i < mem->pages(); ++i) {
        if (*mem->word(i) != mem->initial_word(i)) {
            std::printf("# page %zu lost its data\n", i);
            return 1;
        }
    }
    return 0;
}

const std::vector<KnownBug>& known_bugs() {
    static const std::vector<KnownBug> bugs = {
        {"thp-exclusive-migrate", DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE,
         "a THP marked whole, one PTE restored, then move_pages(): try_to_migrate_one() "
         "decodes device-exclusive entries as present PTEs",
         thp_exclusive_migrate},
    };
    return bugs;
}

// To the console through the kernel log, in order with what the kernel prints.
void announce(const std::string& line) {
    std::ofstream kmsg("/dev/kmsg");
    kmsg << "<4>devexcl-repro: " << line << '\n';
    std::printf("# %s\n", line.c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: devexcl-repro list | BUG\n");
        return 2;
    }
    const std::string wanted = argv[1];
    for (const KnownBug& bug : known_bugs()) {
        if (wanted == "list") {
            std::printf("%s\t%s\n", bug.name, bug.what);
            continue;
        }
        if (wanted != bug.name) {
            continue;
        }
        try {
            utsname uts{};
            ::uname(&uts);
            const bool has_bug = kernel_has(bug.feature);
            announce(std::string(bug.name) + ": kernel " + uts.release +
                     (has_bug ? " has" : " lacks") + " the bug: expect " +
                     (has_bug ? "crash" : "clean"));
            return bug.reproduce();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "devexcl-repro: %s\n", e.what());
            return 1;
        }
    }
    if (wanted == "list") {
        return 0;
    }
    std::fprintf(stderr, "devexcl-repro: no known bug '%s' (see 'devexcl-repro list')\n",
                 wanted.c_str());
    return 2;
}
