#include "known_defects.hpp"

#include <sys/mman.h>

#include <cstring>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "report.hpp"

namespace devexcl::fuzz {

std::string refused_first_page_shifts_the_held_pages(std::uint64_t page_size) {
    Mapping pair(2 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
    char* base = pair.as<char>();
    if (::mmap(base, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1,
               0) == MAP_FAILED ||
        ::mmap(base + page_size, page_size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
        throw_last_errno("mmap shared + private pages");
    }
    const std::uint64_t words[2] = {0x1111, 0x2222};
    std::memcpy(base, &words[0], 8);
    std::memcpy(base + page_size, &words[1], 8);

    Device dev = Device::open();
    const MarkResult marked = dev.mark(pair.address(), 2 * page_size);
    const auto st = dev.status(pair.address(), 2 * page_size);
    if (st[0].device != DeviceState::Held) {
        return "";
    }
    std::string seen = "MARK [shared page, private page] at " + hex(pair.address()) + ": results " +
                       std::string(to_string(marked.pages[0].code)) + ", " +
                       std::string(to_string(marked.pages[1].code)) + "; STATUS: page 0 " +
                       std::string(to_string(st[0].device)) + " (pte " +
                       std::string(to_string(st[0].pte)) + "), page 1 " +
                       std::string(to_string(st[1].device)) + " (pte " +
                       std::string(to_string(st[1].pte)) + ")";
    // The device's access to "page 0" reaches the private page's frame.
    const AccessResult a = dev.access(pair.address(), AccessOp::Read);
    seen += "; a device READ of page 0 returns " + hex(a.old_value) + " (page 0 holds " +
            hex(words[0]) + ", page 1 " + hex(words[1]) + ")";
    return seen;
}

}  // namespace devexcl::fuzz
