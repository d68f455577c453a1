#include "devexcl/module_stats.hpp"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <array>
#include <utility>

#include "devexcl/uapi.hpp"

namespace devexcl {

ModuleStats ModuleStatsReader::read() {
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
    ModuleStats out;
    auto msg = socket_.message(DEVEXCL_CMD_GET_STATS);
    socket_.transact(
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

ModuleStats module_stats() {
    return ModuleStatsReader{}.read();
}

}  // namespace devexcl
