#include "devexcl/range_inspector.hpp"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <array>

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

std::map<std::string, std::uint64_t> module_stats() {
    static const std::array<std::pair<int, const char*>, 12> names = {{
        {DEVEXCL_STAT_CONTEXTS_OPEN, "contexts_open"},
        {DEVEXCL_STAT_CONTEXTS_TOTAL, "contexts_total"},
        {DEVEXCL_STAT_PAGES_MARKED, "pages_marked"},
        {DEVEXCL_STAT_PAGES_REVOKED, "pages_revoked"},
        {DEVEXCL_STAT_REVOCATIONS, "revocations"},
        {DEVEXCL_STAT_DEVICE_OPS, "device_ops"},
        {DEVEXCL_STAT_SUBSCRIBERS, "subscribers"},
        {DEVEXCL_STAT_EVENTS_SENT, "events_sent"},
        {DEVEXCL_STAT_EVENTS_DROPPED, "events_dropped"},
        {DEVEXCL_STAT_EVENTS_LOST, "events_lost"},
        {DEVEXCL_STAT_DUMPS, "dumps"},
        {DEVEXCL_STAT_DUMP_RECORDS, "dump_records"},
    }};
    GenlSocket socket;
    std::map<std::string, std::uint64_t> out;
    auto msg = socket.message(DEVEXCL_CMD_GET_STATS);
    socket.transact(
        msg.get(),
        [&](nl_msg* reply) {
            nlattr* tb[DEVEXCL_A_MAX + 1] = {};
            if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, DEVEXCL_A_MAX, nullptr) < 0 ||
                tb[DEVEXCL_A_STATS] == nullptr) {
                return;
            }
            nlattr* stats[DEVEXCL_STAT_MAX + 1] = {};
            if (nla_parse_nested(stats, DEVEXCL_STAT_MAX, tb[DEVEXCL_A_STATS], nullptr) < 0) {
                return;
            }
            for (const auto& [id, name] : names) {
                if (stats[id] != nullptr) {
                    out[name] = nla_get_u64(stats[id]);
                }
            }
        },
        "DEVEXCL_CMD_GET_STATS");
    return out;
}

}  // namespace devexcl
