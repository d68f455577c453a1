#include "devexcl/range_inspector.hpp"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "devexcl/uapi.hpp"
#include "genl_socket.hpp"

namespace devexcl {

namespace {

[[noreturn]] void throw_malformed(const char* what) {
    throw NetlinkError(EPROTO, "DEVEXCL_CMD_INSPECT dump", std::string("the kernel sent ") + what);
}

}  // namespace

RangeInspector::RangeInspector(DumpFormat format)
    : format_(format),
      page_size_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))),
      socket_(std::make_unique<GenlSocket>()) {}
RangeInspector::RangeInspector(RangeInspector&&) noexcept = default;
RangeInspector& RangeInspector::operator=(RangeInspector&&) noexcept = default;
RangeInspector::~RangeInspector() = default;

void RangeInspector::expand_run(
    const devexcl_empty_run& run,
    const std::function<void(std::span<const devexcl_page_info>)>& on_batch) {
    std::uint64_t addr = run.addr;
    for (std::uint64_t left = run.npages; left > 0;) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, kMaxRunBatch));
        run_records_.resize(n);
        for (devexcl_page_info& record : run_records_) {
            record = devexcl_page_info{};
            record.addr = addr;
            record.pte_kind = run.pte_kind;
            record.pte_flags = run.pte_flags;
            addr += page_size_;
        }
        on_batch(run_records_);
        left -= n;
    }
}

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
    static constexpr const char* what = "DEVEXCL_CMD_INSPECT dump";
    auto msg = socket_->message(DEVEXCL_CMD_INSPECT, /*dump=*/true);
    put_u32(msg.get(), DEVEXCL_A_PID, static_cast<std::uint32_t>(pid), what);
    put_u64(msg.get(), DEVEXCL_A_START, start, what);
    put_u64(msg.get(), DEVEXCL_A_END, end, what);
    if (cursor != 0) {
        put_u64(msg.get(), DEVEXCL_A_CURSOR, cursor, what);
    }
    std::uint32_t flags = walk_rmap ? DEVEXCL_INSPECT_WALK_RMAP : 0;
    if (format_ == DumpFormat::EmptyRuns) {
        flags |= DEVEXCL_INSPECT_EMPTY_RUNS;
    }
    if (flags != 0) {
        put_u32(msg.get(), DEVEXCL_A_FLAGS, flags, what);
    }
    std::uint64_t last = cursor != 0 ? cursor : start;
    std::uint64_t next = last;  // the page the next array or run must start at
    socket_->stream(
        msg.get(),
        [&](const nlmsghdr* nlh) {
            auto* gnlh = static_cast<genlmsghdr*>(nlmsg_data(const_cast<nlmsghdr*>(nlh)));
            nlattr* attr;
            int rem;
            nla_for_each_attr(attr, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
                if (nla_type(attr) == DEVEXCL_A_PAGE_INFOS) {
                    // The kernel aligns every array to 8 bytes in the message,
                    // which starts the receive buffer.
                    const auto* records = static_cast<const devexcl_page_info*>(nla_data(attr));
                    const std::size_t count =
                        static_cast<std::size_t>(nla_len(attr)) / sizeof(devexcl_page_info);
                    if (count == 0 || nla_len(attr) % sizeof(devexcl_page_info) != 0 ||
                        reinterpret_cast<std::uintptr_t>(records) % alignof(devexcl_page_info) !=
                            0 ||
                        records[0].addr != next || count > (end - next) / page_size_) {
                        throw_malformed("a record array that does not fit the dump");
                    }
                    on_batch({records, count});
                    next += count * page_size_;
                } else if (nla_type(attr) == DEVEXCL_A_EMPTY_RUN) {
                    devexcl_empty_run run{};
                    if (static_cast<std::size_t>(nla_len(attr)) != sizeof(run)) {
                        throw_malformed("a run of the wrong size");
                    }
                    std::memcpy(&run, nla_data(attr), sizeof(run));
                    if (run.addr != next || run.npages == 0 ||
                        run.npages > (end - next) / page_size_) {
                        throw_malformed("a run that does not fit the dump");
                    }
                    expand_run(run, on_batch);
                    next += run.npages * page_size_;
                } else if (nla_type(attr) == DEVEXCL_A_CURSOR) {
                    if (nla_len(attr) != sizeof(std::uint64_t)) {
                        throw_malformed("a cursor of the wrong size");
                    }
                    last = nla_get_u64(attr);
                }
            }
            if (last != next) {
                throw_malformed("a cursor that is not where the pages end");
            }
            if (on_progress) {
                on_progress(last);
            }
        },
        what);
    return last;
}

}  // namespace devexcl
