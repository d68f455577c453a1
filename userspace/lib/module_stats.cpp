#include "devexcl/module_stats.hpp"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <array>
#include <utility>

#include "devexcl/uapi.hpp"
#include "genl_socket.hpp"

namespace devexcl {

ModuleStatsReader::ModuleStatsReader() : socket_(std::make_unique<GenlSocket>()) {}
ModuleStatsReader::ModuleStatsReader(ModuleStatsReader&&) noexcept = default;
ModuleStatsReader& ModuleStatsReader::operator=(ModuleStatsReader&&) noexcept = default;
ModuleStatsReader::~ModuleStatsReader() = default;

ModuleStats ModuleStatsReader::read() {
    static constexpr const char* what = "DEVEXCL_CMD_GET_STATS";
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
    auto msg = socket_->message(DEVEXCL_CMD_GET_STATS);
    bool answered = false;
    socket_->transact(
        msg.get(),
        [&](nl_msg* reply) {
            nlattr* tb[DEVEXCL_A_MAX + 1] = {};
            parse_reply(reply, tb, DEVEXCL_A_MAX, what);
            if (tb[DEVEXCL_A_STATS] == nullptr) {
                throw NetlinkError(EPROTO, what, "the reply has no DEVEXCL_A_STATS");
            }
            nlattr* stats[DEVEXCL_STAT_MAX + 1] = {};
            if (const int err =
                    nla_parse_nested(stats, DEVEXCL_STAT_MAX, tb[DEVEXCL_A_STATS], nullptr);
                err < 0) {
                throw NetlinkError(
                    EPROTO, what,
                    std::string("DEVEXCL_A_STATS does not parse: ") + nl_geterror(err));
            }
            answered = true;
            for (const auto& [id, name] : names) {
                if (stats[id] != nullptr) {
                    out[name] = nla_get_u64(stats[id]);
                }
            }
        },
        what);
    if (!answered) {
        throw NetlinkError(EPROTO, what, "no reply before the ack");
    }
    return out;
}

ModuleStats module_stats() {
    return ModuleStatsReader{}.read();
}

}  // namespace devexcl
