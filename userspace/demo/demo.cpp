// devexcl-demo: the story `make run` tells. A simulated device takes
// exclusive access to a buffer of this process, does atomics on it, loses
// a page to a CPU fault, re-acquires it, and loses everything to fork().
//
//   devexcl-demo            the narrated demo
//   devexcl-demo --target   map a buffer, print "PID ADDR LENGTH", wait for
//                           end of input: a process for the CLI to act on
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
    std::cout << ::getpid() << ' ' << cli::hex(buf.address()) << ' ' << buf.size() << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
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

    say("1. A buffer of " + std::to_string(kPages) + " pages in pid " + std::to_string(me) +
        ", page i holding 100*i. The device marks it (make_device_exclusive_range)");
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

    say("5. fork(): 6.1 restores the entries in the parent, then both sides COW");
    pid_t child = ::fork();
    if (child == 0) {
        *word(1) = 999;
        ::_exit(*word(1) == 999 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    std::cout << "child " << child << " wrote 999 to its page 1 and exited " << WEXITSTATUS(status)
              << "; the parent still reads " << *word(1) << '\n';
    rep.status(me, buf.address(), dev.status(buf.address(), buf.size()));
    rep.revocations(dev.revocations(1));

    say("6. What the context counted");
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
