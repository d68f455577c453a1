#include "commands.hpp"

#include <functional>
#include <map>

namespace devexcl::cli {

int command_version(const Invocation& inv, std::ostream& out);

int run_command(const Invocation& inv, std::ostream& out) {
    static const std::map<std::string, std::function<int(const Invocation&, std::ostream&)>>
        commands = {
            {"version", command_version},
        };
    auto it = commands.find(inv.command);
    if (it == commands.end()) {
        throw UsageError("unknown command '" + inv.command + "'");
    }
    return it->second(inv, out);
}

}  // namespace devexcl::cli
