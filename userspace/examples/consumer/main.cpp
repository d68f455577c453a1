// devexcl-consumer: a program built outside the devexcl tree, against an
// installed libdevexcl, the way a user's program is (README: "Install the
// library and CLI"). It takes device-exclusive access to a page of its
// own, does one device atomic on it, takes the page back with a CPU read,
// and receives that revocation as a netlink event.
//
//   devexcl-consumer                    the steps; exit 0 if each did what it should
//   devexcl-consumer --library-version  the linked library's version (no device needed)
#include <sys/mman.h>
#include <unistd.h>

#include <devexcl/device.hpp>
#include <devexcl/events.hpp>
#include <devexcl/mapping.hpp>
#include <devexcl/version.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using namespace std::chrono_literals;

void expect(bool ok, const std::string& what) {
    if (!ok) {
        throw std::runtime_error(what);
    }
}

int run() {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    // Refuses (EPROTO) a module whose ABI this library cannot use.
    devexcl::Device dev = devexcl::Device::open();
    const devexcl::LibraryVersion lib = devexcl::library_version();
    std::cout << "consumer: libdevexcl " << lib.string() << ", module ABI "
              << dev.version().abi().string() << '\n';

    // Subscribed before the CPU touches the page, so its event cannot be missed.
    devexcl::EventListener events({dev.counters().context_id, 0});

    devexcl::Mapping mem(page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    volatile std::uint64_t* word = mem.as<volatile std::uint64_t>();
    *word = 41;  // faulted in: an anonymous page to mark

    const devexcl::MarkResult marked = dev.mark(mem.address(), page);
    expect(marked.all_held(),
           "mark refused the page: " + std::string(devexcl::to_string(marked.pages.at(0).code)));
    std::cout << "consumer: marked 1 page device-exclusive\n";

    const devexcl::AccessResult added = dev.access(mem.address(), devexcl::AccessOp::Add, 1);
    std::cout << "consumer: device add 1: " << added.old_value << " -> " << added.old_value + 1
              << '\n';
    expect(added.old_value == 41, "the device read another value than the CPU wrote");

    // The CPU fault restores the PTE and revokes the device's access.
    const std::uint64_t seen = *word;
    std::cout << "consumer: CPU read " << seen << '\n';
    expect(seen == 42, "the CPU does not see the device's add");

    const auto event = events.wait_for(
        [&](const devexcl::Event& e) {
            return e.cause == devexcl::Cause::CpuFault && e.start == mem.address();
        },
        5s);
    expect(event.has_value(), "no cpu-fault event within 5 s");
    std::cout << "consumer: event " << devexcl::to_string(event->cause) << ", " << event->npages
              << " page, by pid " << event->trigger_pid << '\n';
    expect(event->npages == 1 && event->trigger_pid == ::getpid(),
           "the event names another range or task");

    const devexcl::PageStatus status = dev.status(mem.address(), page).at(0);
    expect(
        status.device == devexcl::DeviceState::Revoked && status.cause == devexcl::Cause::CpuFault,
        "the device still holds the page");
    std::cout << "consumer: ok\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string_view(argv[1]) == "--library-version") {
        const devexcl::LibraryVersion lib = devexcl::library_version();
        std::cout << "libdevexcl " << lib.string() << ", for module ABI " << lib.abi.string()
                  << '\n';
        return 0;
    }
    try {
        return run();
    } catch (const std::system_error& e) {
        std::cerr << "consumer: " << e.what() << " (errno " << e.code().value() << ")\n";
    } catch (const std::exception& e) {
        std::cerr << "consumer: " << e.what() << '\n';
    }
    return 1;
}
