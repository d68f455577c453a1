// devexcl: command-line front end to /dev/devexcl.
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "commands.hpp"
#include "devexcl/error.hpp"
#include "help_render.hpp"
#include "options.hpp"

int main(int argc, char** argv) {
    using namespace devexcl::cli;
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        Invocation inv = parse_invocation(args);
        if (inv.man) {
            std::cout << man_page();
            return 0;
        }
        if (inv.help) {
            std::cout << usage();
            return 0;
        }
        return run_command(inv, std::cout);
    } catch (const UsageError& e) {
        std::cerr << "devexcl: " << e.what() << "\n\n" << usage();
        return 2;
    } catch (const std::system_error& e) {
        int err = devexcl::errno_of(e);
        std::cerr << "devexcl: " << e.what();
        if (err != 0) {
            std::cerr << " (errno " << err << ")";
        }
        std::cerr << '\n';
        return 1;
    }
}
