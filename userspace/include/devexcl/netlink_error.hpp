// A failed netlink request: the errno, plus the kernel's extack message.
#pragma once

#include <string>
#include <system_error>
#include <utility>

namespace devexcl {

class NetlinkError : public std::system_error {
public:
    NetlinkError(int err, const std::string& what, std::string extack)
        : std::system_error(err, std::generic_category(),
                            extack.empty() ? what : what + ": " + extack),
          extack_(std::move(extack)) {}
    // The kernel's NL_SET_ERR_MSG text, or libnl's description of its own
    // failure; empty if neither said anything.
    [[nodiscard]] const std::string& extack() const { return extack_; }

private:
    std::string extack_;
};

}  // namespace devexcl
