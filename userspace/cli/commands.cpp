#include "commands.hpp"

#include "steps.hpp"

#include <functional>
#include <map>

namespace devexcl::cli {

int command_version(const Invocation& inv, std::ostream& out);
int command_steps(const Invocation& inv, std::ostream& out);
int command_inspect(const Invocation& inv, std::ostream& out);
int command_vma(const Invocation& inv, std::ostream& out);
int command_tree(const Invocation& inv, std::ostream& out);
int command_watch(const Invocation& inv, std::ostream& out);
int command_stats(const Invocation& inv, std::ostream& out);

int run_command(const Invocation& inv, std::ostream& out) {
    if (is_step_command(inv.command)) {
        return command_steps(inv, out);
    }
    static const std::map<std::string, std::function<int(const Invocation&, std::ostream&)>>
        commands = {
            {"version", command_version}, {"inspect", command_inspect}, {"vma", command_vma},
            {"tree", command_tree},       {"watch", command_watch},     {"stats", command_stats},
        };
    auto it = commands.find(inv.command);
    if (it == commands.end()) {
        throw UsageError("unknown command '" + inv.command + "'");
    }
    return it->second(inv, out);
}

}  // namespace devexcl::cli
