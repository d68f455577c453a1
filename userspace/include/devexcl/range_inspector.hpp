// Streams rmap inspection records of large ranges through the netlink dump
// (DEVEXCL_CMD_INSPECT).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "devexcl/netlink_error.hpp"
#include "devexcl/rmap_types.hpp"

namespace devexcl {

// Defined in the library (lib/genl_socket.hpp): libnl's types stay out of
// the installed headers.
class GenlSocket;

// How the kernel sends the pages of a dump. Consumers see one record per
// page either way. Runs need a module of ABI 1.1 or later; a 1.0 module
// refuses the flag with EINVAL.
enum class DumpFormat {
    EmptyRuns,    // runs of empty pages (struct devexcl_empty_run), records for the rest
    EveryRecord,  // one struct devexcl_page_info per page, as the ioctl
};

class RangeInspector {
public:
    explicit RangeInspector(DumpFormat format = DumpFormat::EmptyRuns);
    RangeInspector(RangeInspector&&) noexcept;
    RangeInspector& operator=(RangeInspector&&) noexcept;
    ~RangeInspector();

    // Calls `on_record` for every page of [start, end) of `pid`, in order,
    // and `on_progress` with the cursor after every message. Resumes from
    // `cursor` if it is non-zero. Returns the final cursor (== end when the
    // dump completed). Throws NetlinkError (with the extack message).
    std::uint64_t inspect(pid_t pid, std::uint64_t start, std::uint64_t end, bool walk_rmap,
                          const std::function<void(const PageInfo&)>& on_record,
                          const std::function<void(std::uint64_t)>& on_progress = {},
                          std::uint64_t cursor = 0);

    // The same, handing over the kernel's records as they arrive, in place,
    // a message's array at a time: for consumers of millions of records.
    // The pages of a run come as records built for them, up to
    // kMaxRunBatch at a time. A span is valid only during its call.
    // A dump that does not add up (arrays or runs out of place, a cursor
    // elsewhere) throws NetlinkError with EPROTO.
    std::uint64_t inspect_batches(
        pid_t pid, std::uint64_t start, std::uint64_t end, bool walk_rmap,
        const std::function<void(std::span<const devexcl_page_info>)>& on_batch,
        const std::function<void(std::uint64_t)>& on_progress = {}, std::uint64_t cursor = 0);

    static constexpr std::size_t kMaxRunBatch = 4096;

private:
    void expand_run(const devexcl_empty_run& run,
                    const std::function<void(std::span<const devexcl_page_info>)>& on_batch);

    DumpFormat format_;
    std::uint64_t page_size_;
    std::unique_ptr<GenlSocket> socket_;
    std::vector<devexcl_page_info> run_records_;
};

}  // namespace devexcl
