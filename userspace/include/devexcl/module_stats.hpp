// The module-wide counters (DEVEXCL_CMD_GET_STATS), by name.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "devexcl/genl_socket.hpp"

namespace devexcl {

using ModuleStats = std::map<std::string, std::uint64_t>;

// Reads the counters through one socket, for callers that poll them. The
// family is resolved once: a reader does not outlive a module reload.
class ModuleStatsReader {
public:
    // The counters now: "contexts_open", "events_dropped", ...
    ModuleStats read();

private:
    GenlSocket socket_;
};

// One reading, on a socket of its own.
ModuleStats module_stats();

}  // namespace devexcl
