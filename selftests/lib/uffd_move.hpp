// A userfaultfd that can UFFDIO_MOVE (6.8): anonymous pages moved between
// the caller's own uffd-registered ranges by page table, without a copy.
// The host's 6.1 UAPI headers predate it, so its definitions are here.
#pragma once

#include <linux/userfaultfd.h>

#include <cstdint>

#include "devexcl/unique_fd.hpp"

#ifndef UFFDIO_MOVE
#define UFFD_FEATURE_MOVE (1 << 10)
#define _UFFDIO_MOVE (0x05)
struct uffdio_move {
    __u64 dst;
    __u64 src;
    __u64 len;
    __u64 mode;
    __s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif

namespace devexcl::test {

// What one UFFDIO_MOVE did.
struct MoveOutcome {
    int error = 0;          // the ioctl's errno, or 0
    std::int64_t move = 0;  // uffdio_move.move: bytes moved, or -errno
};

class UffdMover {
public:
    // A non-blocking userfaultfd with UFFD_FEATURE_MOVE; throws
    // std::system_error (EINVAL from UFFDIO_API: no UFFDIO_MOVE).
    UffdMover();

    // Registers [addr, addr + length) for missing faults: a move's
    // destination must be registered with this userfaultfd. Nothing here
    // handles a fault, so the caller must not touch an empty page there.
    void register_missing(std::uint64_t addr, std::uint64_t length);

    // Moves [src, src + length) to [dst, dst + length); thread-safe.
    MoveOutcome move(std::uint64_t dst, std::uint64_t src, std::uint64_t length) const;

private:
    UniqueFd fd_;
};

}  // namespace devexcl::test
