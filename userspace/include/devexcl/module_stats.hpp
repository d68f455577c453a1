// The module-wide counters (DEVEXCL_CMD_GET_STATS), by name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "devexcl/netlink_error.hpp"

namespace devexcl {

// Defined in the library (lib/genl_socket.hpp): libnl's types stay out of
// the installed headers.
class GenlSocket;

using ModuleStats = std::map<std::string, std::uint64_t>;

// Reads the counters through one socket, for callers that poll them. The
// family is resolved once: a reader does not outlive a module reload.
class ModuleStatsReader {
public:
    // Throws NetlinkError; ENOENT if devexcl.ko is not loaded.
    ModuleStatsReader();
    ModuleStatsReader(ModuleStatsReader&&) noexcept;
    ModuleStatsReader& operator=(ModuleStatsReader&&) noexcept;
    ~ModuleStatsReader();

    // The counters now: "contexts_open", "events_dropped", ...
    [[nodiscard]] ModuleStats read();

private:
    std::unique_ptr<GenlSocket> socket_;
};

// One reading, on a socket of its own.
[[nodiscard]] ModuleStats module_stats();

}  // namespace devexcl
