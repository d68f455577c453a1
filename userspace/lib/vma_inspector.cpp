#include "devexcl/vma_inspector.hpp"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cerrno>
#include <cstring>

#include "devexcl/uapi.hpp"
#include "genl_socket.hpp"

namespace devexcl {

VmaInspector::VmaInspector() : socket_(std::make_unique<GenlSocket>()) {}
VmaInspector::VmaInspector(VmaInspector&&) noexcept = default;
VmaInspector& VmaInspector::operator=(VmaInspector&&) noexcept = default;
VmaInspector::~VmaInspector() = default;

VmaInspection VmaInspector::inspect(pid_t pid, std::uint64_t addr, VmaLookup lookup) {
    static constexpr const char* what = "DEVEXCL_CMD_INSPECT_VMA";
    auto msg = socket_->message(DEVEXCL_CMD_INSPECT_VMA);
    put_u32(msg.get(), DEVEXCL_A_PID, static_cast<std::uint32_t>(pid), what);
    put_u64(msg.get(), DEVEXCL_A_ADDR, addr, what);
    if (lookup == VmaLookup::WithoutMmapLock) {
        put_u32(msg.get(), DEVEXCL_A_FLAGS, DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK, what);
    }
    VmaInspection out;
    bool answered = false;
    socket_->transact(
        msg.get(),
        [&](nl_msg* reply) {
            nlattr* tb[DEVEXCL_A_MAX + 1] = {};
            parse_reply(reply, tb, DEVEXCL_A_MAX, what);
            if (tb[DEVEXCL_A_VMA] == nullptr ||
                nla_len(tb[DEVEXCL_A_VMA]) != static_cast<int>(sizeof(devexcl_vma_info))) {
                throw NetlinkError(EPROTO, what, "the reply has no VMA of the ABI's size");
            }
            devexcl_vma_info v;
            std::memcpy(&v, nla_data(tb[DEVEXCL_A_VMA]), sizeof(v));
            out = VmaInspection::from_raw(v);
            if (const nlattr* chain = tb[DEVEXCL_A_ANON_VMA_CHAIN]) {
                const std::size_t n =
                    static_cast<std::size_t>(nla_len(chain)) / sizeof(devexcl_anon_vma_info);
                const auto* base = static_cast<const unsigned char*>(nla_data(chain));
                for (std::size_t i = 0; i < n; ++i) {
                    devexcl_anon_vma_info r;
                    std::memcpy(&r, base + i * sizeof(r), sizeof(r));
                    out.chain.push_back(AnonVmaInfo::from_raw(r));
                }
            }
            answered = true;
        },
        what);
    if (!answered) {
        throw NetlinkError(EPROTO, what, "no reply before the ack");
    }
    return out;
}

}  // namespace devexcl
