#include "devexcl/range_inspector.hpp"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "devexcl/uapi.hpp"

namespace devexcl {

RangeInspector::RangeInspector() = default;

std::uint64_t RangeInspector::inspect(pid_t pid, std::uint64_t start, std::uint64_t end,
                                      bool walk_rmap,
                                      const std::function<void(const PageInfo&)>& on_record,
                                      const std::function<void(std::uint64_t)>& on_progress,
                                      std::uint64_t cursor) {
    return inspect_batches(
        pid, start, end, walk_rmap,
        [&](std::span<const devexcl_page_info> records) {
            for (const devexcl_page_info& raw : records) {
                on_record(PageInfo::from_raw(raw));
            }
        },
        on_progress, cursor);
}

std::uint64_t RangeInspector::inspect_batches(
    pid_t pid, std::uint64_t start, std::uint64_t end, bool walk_rmap,
    const std::function<void(std::span<const devexcl_page_info>)>& on_batch,
    const std::function<void(std::uint64_t)>& on_progress, std::uint64_t cursor) {
    auto msg = socket_.message(DEVEXCL_CMD_INSPECT, /*dump=*/true);
    nla_put_u32(msg.get(), DEVEXCL_A_PID, static_cast<std::uint32_t>(pid));
    nla_put_u64(msg.get(), DEVEXCL_A_START, start);
    nla_put_u64(msg.get(), DEVEXCL_A_END, end);
    if (cursor != 0) {
        nla_put_u64(msg.get(), DEVEXCL_A_CURSOR, cursor);
    }
    if (walk_rmap) {
        nla_put_u32(msg.get(), DEVEXCL_A_FLAGS, DEVEXCL_INSPECT_WALK_RMAP);
    }
    std::uint64_t last = cursor != 0 ? cursor : start;
    socket_.stream(
        msg.get(),
        [&](const nlmsghdr* nlh) {
            auto* gnlh = static_cast<genlmsghdr*>(nlmsg_data(const_cast<nlmsghdr*>(nlh)));
            nlattr* attr;
            int rem;
            nla_for_each_attr(attr, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
                if (nla_type(attr) == DEVEXCL_A_PAGE_INFOS) {
                    // The kernel aligns the array to 8 bytes (nla_reserve_64bit).
                    on_batch({static_cast<const devexcl_page_info*>(nla_data(attr)),
                              static_cast<std::size_t>(nla_len(attr)) / sizeof(devexcl_page_info)});
                } else if (nla_type(attr) == DEVEXCL_A_CURSOR) {
                    last = nla_get_u64(attr);
                }
            }
            if (on_progress) {
                on_progress(last);
            }
        },
        "DEVEXCL_CMD_INSPECT dump");
    return last;
}

}  // namespace devexcl
