// A VMA by netlink (DEVEXCL_CMD_INSPECT_VMA): the facts of
// Device::inspect_vma(), without a device node, over one socket.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "devexcl/netlink_error.hpp"
#include "devexcl/rmap_types.hpp"

namespace devexcl {

// Defined in the library (lib/genl_socket.hpp): libnl's types stay out of
// the installed headers.
class GenlSocket;

class VmaInspector {
public:
    // Throws NetlinkError; ENOENT if devexcl.ko is not loaded.
    VmaInspector();
    VmaInspector(VmaInspector&&) noexcept;
    VmaInspector& operator=(VmaInspector&&) noexcept;
    ~VmaInspector();

    // The VMA of `pid` containing `addr`. Under the mmap_lock the reply
    // carries the chain, at most DEVEXCL_NL_MAX_CHAIN entries of chain_len.
    // Throws NetlinkError with the kernel's errno and extack message.
    [[nodiscard]] VmaInspection inspect(pid_t pid, std::uint64_t addr,
                                        VmaLookup lookup = VmaLookup::UnderMmapLock);

private:
    std::unique_ptr<GenlSocket> socket_;
};

}  // namespace devexcl
