// inspect PID ADDR [LEN] | vma PID ADDR | tree PID ADDR: rmap inspection.
// Ranges beyond one ioctl's records stream through the netlink dump.
#include <sys/types.h>
#include <unistd.h>

#include "anon_vma_tree.hpp"
#include "commands.hpp"
#include "devexcl/device.hpp"
#include "devexcl/range_inspector.hpp"
#include "devexcl/uapi.hpp"
#include "inspect_report.hpp"
#include "progress.hpp"

namespace devexcl::cli {

int command_inspect(const Invocation& inv, std::ostream& out) {
    if (inv.args.size() != 2 && inv.args.size() != 3) {
        throw UsageError("usage: inspect PID ADDR [LEN]");
    }
    const pid_t pid = parse_pid(inv.args[0]);
    const std::uint64_t addr = parse_number(inv.args[1], "address");
    InspectReporter rep{out, inv.json};
    if (inv.args.size() == 2) {
        rep.page(pid, Device::open(inv.device).inspect_page(pid, addr));
        return 0;
    }
    const std::uint64_t length = parse_size(inv.args[2], "length");
    // The kernel's page size is ours: no device context just to ask.
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    if (length / page <= DEVEXCL_MAX_RANGE_RECORDS) {
        rep.range(pid, addr, page,
                  Device::open(inv.device).inspect_range(pid, addr, length, /*walk_rmap=*/true));
        return 0;
    }
    // More than one ioctl's worth: stream the netlink dump, never holding it.
    if (length > UINT64_MAX - addr) {
        throw UsageError("the range wraps around the address space");
    }
    RangeReport report(out, inv.json, pid, addr, length, page);
    Progress progress("inspect: pages", length / page);
    RangeInspector inspector;
    inspector.inspect(
        pid, addr, addr + length, /*walk_rmap=*/true, [&](const PageInfo& p) { report.add(p); },
        [&](std::uint64_t cursor) { progress.update((cursor - addr) / page); });
    report.finish();
    return 0;
}

int command_vma(const Invocation& inv, std::ostream& out) {
    const bool unlocked = inv.args.size() == 3 && inv.args[2] == "--no-mmap-lock";
    if (inv.args.size() != 2 && !unlocked) {
        throw UsageError("usage: vma PID ADDR [--no-mmap-lock]");
    }
    const pid_t pid = parse_pid(inv.args[0]);
    Device dev = Device::open(inv.device);
    InspectReporter{out, inv.json}.vma(
        pid, dev.inspect_vma(pid, parse_number(inv.args[1], "address"),
                             unlocked ? VmaLookup::WithoutMmapLock : VmaLookup::UnderMmapLock));
    return 0;
}

int command_tree(const Invocation& inv, std::ostream& out) {
    if (inv.args.size() != 2) {
        throw UsageError("usage: tree PID ADDR");
    }
    const pid_t pid = parse_pid(inv.args[0]);
    Device dev = Device::open(inv.device);
    PageInspection page = dev.inspect_page(pid, parse_number(inv.args[1], "address"));
    std::vector<std::vector<AnonVmaInfo>> chains;
    std::vector<MapperVma> mapper_vmas;
    for (const RmapEntry& m : page.mappings) {
        if (m.redacted) {
            continue;
        }
        try {
            VmaInspection vma = dev.inspect_vma(m.pid, m.vaddr);
            chains.push_back(std::move(vma.chain));
            mapper_vmas.push_back({m.pid, m.vaddr, std::move(vma)});
        } catch (const std::system_error&) {
            // The mapper exited or unmapped it since: its mapping stays unplaced.
        }
    }
    InspectReporter{out, inv.json}.tree(pid, page, build_anon_vma_tree(chains, page.mappings),
                                        mapper_vmas);
    return 0;
}

}  // namespace devexcl::cli
