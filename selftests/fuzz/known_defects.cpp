#include "known_defects.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>

#include "devexcl/device.hpp"
#include "devexcl/mapping.hpp"
#include "report.hpp"

namespace devexcl::fuzz {

namespace {

constexpr int kMpolMfMove = 1 << 1;  // MPOL_MF_MOVE of <numaif.h>

std::string describe_shift(const MarkResult& marked, const std::vector<PageStatus>& st,
                           const std::uint64_t* read, const std::uint64_t (&words)[2]) {
    std::string seen =
        "MARK of two pages of one private mapping while the first migrates: results " +
        std::string(to_string(marked.pages[0].code)) + ", " +
        std::string(to_string(marked.pages[1].code)) + "; STATUS: page 0 " +
        std::string(to_string(st[0].device)) + " (pte " + std::string(to_string(st[0].pte)) +
        "), page 1 " + std::string(to_string(st[1].device)) + " (pte " +
        std::string(to_string(st[1].pte)) + ")";
    if (read != nullptr) {
        seen += "; a device READ of page 0 returns " + hex(*read) + " (page 0 holds " +
                hex(words[0]) + ", page 1 " + hex(words[1]) + ")";
    }
    return seen;
}

}  // namespace

Reproduction refused_first_page_shifts_the_held_pages(std::uint64_t page_size,
                                                      std::chrono::milliseconds budget) {
    Mapping pair(2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    ::madvise(pair.data(), pair.size(), MADV_NOHUGEPAGE);
    const std::uint64_t words[2] = {0x1111, 0x2222};
    std::memcpy(pair.as<char>(), &words[0], 8);
    std::memcpy(pair.as<char>() + page_size, &words[1], 8);

    // Migrates page 0 back and forth: its folio is locked while it moves.
    auto migrate = [&](std::stop_token stop) {
        void* page = pair.data();
        int node = 1;
        while (!stop.stop_requested()) {
            int status = 0;
            ::syscall(SYS_move_pages, 0, 1, &page, &node, &status, kMpolMfMove);
            node ^= 1;
        }
    };
    std::optional<std::jthread> migrator;
    migrator.emplace(migrate);
    const auto deadline = std::chrono::steady_clock::now() + budget;
    unsigned marks = 0, first_refused = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        Device dev = Device::open();
        const MarkResult marked = dev.mark(pair.address(), 2 * page_size);
        ++marks;
        if (marked.pages[0].held() || !marked.pages[1].held()) {
            continue;  // closing the context gives back what it took
        }
        ++first_refused;
        // Look without a migration revoking what is looked at.
        migrator.reset();
        const auto st = dev.status(pair.address(), 2 * page_size);
        // Nothing touches page 1: recorded in place, it is held. (Page 0's
        // entry, which holds page 1's frame if the defect is there, may have
        // been revoked by a migration meanwhile.)
        if (st[1].device != DeviceState::Held) {
            if (st[0].device == DeviceState::Held) {
                // The device's access to "page 0" reaches page 1's frame.
                const std::uint64_t read = dev.access(pair.address(), AccessOp::Read).old_value;
                return {true, true, describe_shift(marked, st, &read, words)};
            }
            return {true, true, describe_shift(marked, st, nullptr, words)};
        }
        migrator.emplace(migrate);
    }
    return {first_refused > 0, false,
            std::to_string(marks) + " marks of two pages while the first migrated; " +
                std::to_string(first_refused) +
                " refused the first page and took the second, and recorded it in place"};
}

}  // namespace devexcl::fuzz
