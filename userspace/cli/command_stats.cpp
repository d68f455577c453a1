// stats: the module-wide counters, from the netlink family.
#include "commands.hpp"
#include "devexcl/module_stats.hpp"
#include "report.hpp"

namespace devexcl::cli {

int command_stats(const Invocation& inv, std::ostream& out) {
    if (!inv.args.empty()) {
        throw UsageError("usage: stats");
    }
    Reporter{out, inv.json}.stats(module_stats());
    return 0;
}

}  // namespace devexcl::cli
