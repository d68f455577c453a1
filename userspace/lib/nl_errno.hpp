// libnl reports its own error codes (NLE_*), not errnos: the errno each
// stands for, so that every failure carries an errno as the rest of
// libdevexcl's do.
#pragma once

#include <string_view>

namespace devexcl {

// The errno for a libnl error (negative, as libnl returns them, or not);
// EIO for a failure libnl does not name.
[[nodiscard]] int errno_from_nlerr(int nlerr) noexcept;

// Throws NetlinkError with that errno and libnl's description of `nlerr`.
[[noreturn]] void throw_nlerr(int nlerr, std::string_view what);

// Throws as throw_nlerr() if `rc` is negative (a libnl call's result).
inline void check_nl(int rc, std::string_view what) {
    if (rc < 0) {
        throw_nlerr(rc, what);
    }
}

}  // namespace devexcl
