// devexcl-demo: the story `make run` tells. A simulated device takes
// exclusive access to a buffer of this process, does atomics on it, loses
// a page to a CPU fault, re-acquires it, and loses everything to fork();
// the rmap then shows parent and child sharing the pages. Where the
// running kernel differs (6.15's make_device_exclusive()), it says so.
//
//   devexcl-demo            the narrated demo
//   devexcl-demo --target   map a 16-page buffer and a 32 MiB one, print
//                           "PID ADDR LENGTH BIGADDR BIGLENGTH", then write
//                           page 0 of the small one at each "touch" line,
//                           until end of input: a process for the CLI
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>
#include <system_error>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "inspect_report.hpp"
#include "report.hpp"

using namespace devexcl;

namespace {

constexpr std::size_t kPages = 8;

void say(const std::string& text) {
    std::cout << "\n=== " << text << '\n';
}

int target_mode() {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    Mapping buf(16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    for (std::size_t i = 0; i < 16; ++i) {
        buf.as<std::uint64_t>()[i * page / 8] = i;
    }
    // Past the 4096 pages an inspection answers in one ioctl: the CLI streams it.
    Mapping big(32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    ::madvise(big.data(), big.size(), MADV_NOHUGEPAGE);
    for (std::size_t off = 0; off < big.size(); off += page) {
        big.as<std::uint8_t>()[off] = 1;
    }
    std::cout << ::getpid() << ' ' << cli::hex(buf.address()) << ' ' << buf.size() << ' '
              << cli::hex(big.address()) << ' ' << big.size() << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line == "touch") {
            buf.as<std::uint64_t>()[0] += 1;
            std::cout << "target: the CPU wrote page 0" << std::endl;
        }
    }
    return 0;
}

int demo() {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const pid_t me = ::getpid();
    Mapping buf(kPages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    auto word = [&](std::size_t i) { return &buf.as<std::uint64_t>()[i * page / 8]; };
    for (std::size_t i = 0; i < kPages; ++i) {
        *word(i) = 100 * i;
    }
    Device dev = Device::open();
    cli::Reporter rep{std::cout, false, page};

    const Version v = dev.version();
    const bool per_page = v.kernel_has(DEVEXCL_KFEAT_EXCLUSIVE_PER_PAGE);
    std::cout << "kernel " << v.kernel_version_string() << ": "
              << (per_page ? "make_device_exclusive(), one page per call, the mapcount kept (6.15+)"
                           : "make_device_exclusive_range(), the mapcount dropped (to 6.14)")
              << '\n';

    say("1. A buffer of " + std::to_string(kPages) + " pages in pid " + std::to_string(me) +
        ", page i holding 100*i. The device marks it");
    rep.mark(me, dev.mark(buf.address(), buf.size()));
    rep.status(me, buf.address(), dev.status(buf.address(), buf.size()));

    say("2. Device atomics on page 1; the CPU has no mapping, so they are exclusive");
    rep.access(me, buf.address() + page, AccessOp::Add, 5, 0,
               dev.access(buf.address() + page, AccessOp::Add, 5));
    rep.access(me, buf.address() + page, AccessOp::Cmpxchg, 7, 105,
               dev.access(buf.address() + page, AccessOp::Cmpxchg, 7, 105));
    rep.access(me, buf.address() + page, AccessOp::Read, 0, 0,
               dev.access(buf.address() + page, AccessOp::Read));

    say("3. The CPU reads page 3: the fault restores its PTE and revokes the device");
    std::cout << "CPU read page 3: " << *word(3) << '\n';
    rep.status(me, buf.address(), dev.status(buf.address(), buf.size()));
    rep.revocations(dev.revocations(1));

    say("4. The device touches page 3 again: a device fault re-acquires it");
    rep.access(me, buf.address() + 3 * page, AccessOp::Add, 1, 0,
               dev.access(buf.address() + 3 * page, AccessOp::Add, 1, 0, true));

    say("5. fork(): copy_nonpresent_pte() restores the held entries in the parent, so both "
        "processes map every page, write-protected for COW");
    int go[2];
    if (::pipe(go) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    const pid_t child = ::fork();
    if (child == 0) {
        char c;
        ::close(go[1]);
        // Wait until the parent has looked, then write: COW gives the child a copy.
        const bool told = ::read(go[0], &c, 1) == 1;
        *word(1) = 999;
        ::_exit(told && *word(1) == 999 ? 0 : 1);
    }
    ::close(go[0]);
    rep.status(me, buf.address(), dev.status(buf.address(), buf.size()));
    rep.revocations(dev.revocations(1));

    say("6. The rmap of page 2: one page, mapped by parent " + std::to_string(me) + " and child " +
        std::to_string(child) + "; the child's VMA chains its own anon_vma to ours");
    const cli::InspectReporter inspect{std::cout};
    inspect.page(me, dev.inspect_page(me, buf.address() + 2 * page));
    inspect.vma(child, dev.inspect_vma(child, buf.address()));

    say("7. The child writes 999 to its page 1 and exits; the parent's page is untouched");
    const bool told = ::write(go[1], "x", 1) == 1;
    ::close(go[1]);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::cout << "child " << child << " exited " << WEXITSTATUS(status)
              << (told ? "" : " (never told to write)") << "; the parent still reads " << *word(1)
              << '\n';

    say("8. What the context counted");
    rep.counters(dev.counters());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc > 1 && std::strcmp(argv[1], "--target") == 0) {
            return target_mode();
        }
        return demo();
    } catch (const std::system_error& e) {
        std::cerr << "devexcl-demo: " << e.what() << '\n';
        return 1;
    }
}
