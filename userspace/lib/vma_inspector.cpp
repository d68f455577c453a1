#include "devexcl/vma_inspector.hpp"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cerrno>
#include <cstring>

#include "devexcl/uapi.hpp"

namespace devexcl {

namespace {

void put_or_throw(int rc, const char* what) {
    if (rc < 0) {
        throw NetlinkError(EMSGSIZE, what, "the request does not fit its message");
    }
}

}  // namespace

VmaInspection VmaInspector::inspect(pid_t pid, std::uint64_t addr, VmaLookup lookup) {
    auto msg = socket_.message(DEVEXCL_CMD_INSPECT_VMA);
    put_or_throw(nla_put_u32(msg.get(), DEVEXCL_A_PID, static_cast<std::uint32_t>(pid)),
                 "DEVEXCL_CMD_INSPECT_VMA");
    put_or_throw(nla_put_u64(msg.get(), DEVEXCL_A_ADDR, addr), "DEVEXCL_CMD_INSPECT_VMA");
    if (lookup == VmaLookup::WithoutMmapLock) {
        put_or_throw(nla_put_u32(msg.get(), DEVEXCL_A_FLAGS, DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK),
                     "DEVEXCL_CMD_INSPECT_VMA");
    }
    VmaInspection out;
    bool answered = false;
    socket_.transact(
        msg.get(),
        [&](nl_msg* reply) {
            nlattr* tb[DEVEXCL_A_MAX + 1] = {};
            if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, DEVEXCL_A_MAX, nullptr) < 0 ||
                tb[DEVEXCL_A_VMA] == nullptr ||
                nla_len(tb[DEVEXCL_A_VMA]) != static_cast<int>(sizeof(devexcl_vma_info))) {
                return;
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
        "DEVEXCL_CMD_INSPECT_VMA");
    if (!answered) {
        throw NetlinkError(EPROTO, "DEVEXCL_CMD_INSPECT_VMA", "the reply has no VMA");
    }
    return out;
}

}  // namespace devexcl
