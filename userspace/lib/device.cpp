#include "devexcl/device.hpp"

#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "devexcl/error.hpp"

namespace devexcl {

namespace {

// Pages of a range, to size a range ioctl's per-page buffer. Beyond the
// ABI's cap the kernel answers E2BIG before writing anything: answer the
// same without first allocating a buffer for, say, 16 TiB.
std::uint64_t page_count(std::uint64_t length, const char* what) {
    static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    if (length > DEVEXCL_MAX_RANGE_BYTES) {
        throw_errno(E2BIG, what);
    }
    return length / page;
}

std::uint64_t user_ptr(const void* p) {
    return reinterpret_cast<std::uintptr_t>(p);
}

}  // namespace

Device Device::open(const std::string& path, AbiCheck check) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open", path);
    }
    Device dev(std::move(fd));
    // Before any other ioctl: a module of another ABI may lay out their
    // arguments differently, so they are not even tried.
    if (check == AbiCheck::Require) {
        require_compatible_abi(dev.version().abi(), library_version().abi, path);
    }
    return dev;
}

std::error_code Device::try_ioctl(unsigned long request, void* arg) const noexcept {
    if (::ioctl(fd_.get(), request, arg) == 0) {
        return {};
    }
    return errno_code(errno);
}

void Device::ioctl_or_throw(unsigned long request, void* arg, const char* what) const {
    if (auto ec = try_ioctl(request, arg)) {
        throw std::system_error(ec, what);
    }
}

bool Version::compatible() const {
    return abi_compatible(abi(), library_version().abi);
}

std::string Version::kernel_version_string() const {
    return std::to_string(kernel_version >> 16) + '.' +
           std::to_string((kernel_version >> 8) & 0xff) + '.' +
           std::to_string(kernel_version & 0xff);
}

Version Device::version() const {
    devexcl_version raw{};
    ioctl_or_throw(DEVEXCL_IOC_VERSION, &raw, "DEVEXCL_IOC_VERSION");
    return Version{raw.abi_major,       raw.abi_minor,       raw.features,      raw.page_size,
                   raw.max_range_bytes, raw.kernel_features, raw.kernel_version};
}

void Device::bind(pid_t pid) {
    devexcl_bind req{};
    req.pid = static_cast<std::uint64_t>(pid);
    ioctl_or_throw(DEVEXCL_IOC_BIND, &req, "DEVEXCL_IOC_BIND");
}

void Device::bind_pidfd(int pidfd) {
    devexcl_bind req{};
    req.pidfd = static_cast<std::uint64_t>(pidfd);
    req.flags = DEVEXCL_BIND_PIDFD;
    ioctl_or_throw(DEVEXCL_IOC_BIND, &req, "DEVEXCL_IOC_BIND (pidfd)");
}

MarkResult Device::mark(std::uint64_t start, std::uint64_t length, MarkMode mode) {
    std::vector<std::uint32_t> raw(page_count(length, "DEVEXCL_IOC_MARK"));
    devexcl_range_op op{};
    op.start = start;
    op.length = length;
    op.flags = mode == MarkMode::AllowKernelBugs ? DEVEXCL_MARK_ALLOW_KERNEL_BUGS : 0;
    op.results = user_ptr(raw.data());
    ioctl_or_throw(DEVEXCL_IOC_MARK, &op, "DEVEXCL_IOC_MARK");

    MarkResult result;
    result.start = start;
    result.marked = op.ok;
    result.failed = op.failed;
    result.pages.reserve(raw.size());
    for (std::uint32_t r : raw) {
        result.pages.push_back(PageMark::from_raw(r));
    }
    return result;
}

ReleaseResult Device::release(std::uint64_t start, std::uint64_t length) {
    devexcl_range_op op{};
    op.start = start;
    op.length = length;
    ioctl_or_throw(DEVEXCL_IOC_RELEASE, &op, "DEVEXCL_IOC_RELEASE");
    return {op.ok, op.failed};
}

std::vector<PageStatus> Device::status(std::uint64_t start, std::uint64_t length) const {
    std::vector<devexcl_page_status> raw(page_count(length, "DEVEXCL_IOC_STATUS"));
    devexcl_status_req req{};
    req.start = start;
    req.length = length;
    req.entries = user_ptr(raw.data());
    ioctl_or_throw(DEVEXCL_IOC_STATUS, &req, "DEVEXCL_IOC_STATUS");
    std::vector<PageStatus> out;
    out.reserve(raw.size());
    for (const auto& r : raw) {
        out.push_back(PageStatus::from_raw(r));
    }
    return out;
}

AccessResult Device::access(std::uint64_t addr, AccessOp op, std::uint64_t value,
                            std::uint64_t expected, bool reacquire) {
    devexcl_access req{};
    req.addr = addr;
    req.op = static_cast<std::uint64_t>(op);
    req.value = value;
    req.expected = expected;
    req.flags = reacquire ? DEVEXCL_ACCESS_REACQUIRE : 0;
    ioctl_or_throw(DEVEXCL_IOC_ACCESS, &req, "DEVEXCL_IOC_ACCESS");
    return {req.result, static_cast<AccessPath>(req.path)};
}

namespace {

BusyReport busy_request(const Device& dev, std::uint64_t timeout_ms, std::uint64_t flags) {
    devexcl_busy req{};
    req.timeout_ms = timeout_ms;
    req.flags = flags;
    if (const std::error_code ec = dev.try_ioctl(DEVEXCL_IOC_BUSY, &req)) {
        throw std::system_error(ec, "DEVEXCL_IOC_BUSY");
    }
    return {req.waiting, req.waited};
}

}  // namespace

BusyReport Device::busy(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) {
        throw std::system_error(EINVAL, std::generic_category(), "DEVEXCL_IOC_BUSY: no timeout");
    }
    return busy_request(*this, static_cast<std::uint64_t>(timeout.count()), 0);
}

BusyReport Device::idle() {
    return busy_request(*this, 0, 0);
}

BusyReport Device::busy_report() const {
    return busy_request(*this, 0, DEVEXCL_BUSY_QUERY);
}

Counters Device::counters() const {
    devexcl_counters raw{};
    ioctl_or_throw(DEVEXCL_IOC_COUNTERS, &raw, "DEVEXCL_IOC_COUNTERS");
    Counters c;
    c.marked = raw.marked;
    c.refused = raw.refused;
    c.held = raw.held;
    c.released = raw.released;
    c.device_ops = raw.device_ops;
    c.reacquires = raw.reacquires;
    c.mark_retries = raw.mark_retries;
    c.revocations = raw.revocations;
    for (int i = 0; i < DEVEXCL_CAUSE_COUNT; ++i) {
        c.revoked[i] = raw.revoked[i];
    }
    c.target_pid = raw.target_pid;
    c.context_id = raw.context_id;
    return c;
}

std::vector<Revocation> Device::revocations(std::size_t max) const {
    std::vector<devexcl_revocation> raw(max);
    devexcl_revocations req{};
    req.records = user_ptr(raw.data());
    req.count = max;
    ioctl_or_throw(DEVEXCL_IOC_REVOCATIONS, &req, "DEVEXCL_IOC_REVOCATIONS");
    std::vector<Revocation> out;
    for (std::uint64_t i = 0; i < req.count; ++i) {
        const auto& r = raw[i];
        out.push_back(
            {r.seq, r.start, r.end, r.npages, static_cast<Cause>(r.cause), r.trigger_pid,
             std::string(r.trigger_comm, ::strnlen(r.trigger_comm, sizeof(r.trigger_comm)))});
    }
    return out;
}

}  // namespace devexcl

namespace devexcl {

PageInspection Device::inspect_page(pid_t pid, std::uint64_t addr, std::size_t max_mappings) const {
    // Left uninitialised: the kernel writes the nr_returned entries read here,
    // and zeroing room for 4096 would cost more than a typical page's walk.
    std::unique_ptr<devexcl_rmap_entry[]> raw(new devexcl_rmap_entry[max_mappings]);
    devexcl_inspect_page_req req{};
    req.pid = static_cast<std::uint64_t>(pid);
    req.addr = addr;
    req.entries = max_mappings ? user_ptr(raw.get()) : 0;
    req.max_entries = max_mappings;
    ioctl_or_throw(DEVEXCL_IOC_INSPECT_PAGE, &req, "DEVEXCL_IOC_INSPECT_PAGE");
    PageInspection out;
    out.page = PageInfo::from_raw(req.info);
    out.mappings.reserve(req.info.nr_returned);
    for (std::uint64_t i = 0; i < req.info.nr_returned; ++i) {
        const auto& r = raw[i];
        out.mappings.push_back({static_cast<pid_t>(r.pid), static_cast<pid_t>(r.tgid), r.vaddr,
                                static_cast<PteKind>(r.pte_kind), r.pte_flags, r.redacted != 0,
                                r.mm_id, r.anon_vma_id,
                                std::string(r.comm, ::strnlen(r.comm, sizeof(r.comm)))});
    }
    return out;
}

std::vector<PageInfo> Device::inspect_range(pid_t pid, std::uint64_t start, std::uint64_t length,
                                            bool walk_rmap) const {
    const std::uint64_t pages = page_count(length, "DEVEXCL_IOC_INSPECT_RANGE");
    std::vector<devexcl_page_info> raw(
        std::clamp<std::uint64_t>(pages, 1, DEVEXCL_MAX_RANGE_RECORDS));
    std::vector<PageInfo> out;
    out.reserve(pages);
    devexcl_inspect_range_req req{};
    req.pid = static_cast<std::uint64_t>(pid);
    req.start = start;
    req.length = length;
    req.flags = walk_rmap ? DEVEXCL_INSPECT_WALK_RMAP : 0;
    req.records = user_ptr(raw.data());
    req.max_records = raw.size();
    req.cursor = start;
    while (req.cursor < start + length) {
        ioctl_or_throw(DEVEXCL_IOC_INSPECT_RANGE, &req, "DEVEXCL_IOC_INSPECT_RANGE");
        for (std::uint64_t i = 0; i < req.count; ++i) {
            out.push_back(PageInfo::from_raw(raw[i]));
        }
    }
    return out;
}

VmaInspection Device::inspect_vma(pid_t pid, std::uint64_t addr, VmaLookup lookup) const {
    const bool with_chain = lookup == VmaLookup::UnderMmapLock;
    // Left uninitialised, as in inspect_page(): the kernel writes what is read.
    std::unique_ptr<devexcl_anon_vma_info[]> raw(
        with_chain ? new devexcl_anon_vma_info[DEVEXCL_MAX_RMAP_ENTRIES] : nullptr);
    devexcl_inspect_vma_req req{};
    req.pid = static_cast<std::uint64_t>(pid);
    req.addr = addr;
    req.flags = with_chain ? 0 : DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK;
    req.chain = user_ptr(raw.get());
    req.max_chain = with_chain ? DEVEXCL_MAX_RMAP_ENTRIES : 0;
    ioctl_or_throw(DEVEXCL_IOC_INSPECT_VMA, &req, "DEVEXCL_IOC_INSPECT_VMA");
    VmaInspection out =
        VmaInspection::from_raw({req.vm_start, req.vm_end, req.vm_flags, req.vm_pgoff,
                                 req.anon_vma_id, req.mm_id, req.chain_len, req.vma_lock});
    for (std::uint64_t i = 0; i < req.returned; ++i) {
        out.chain.push_back(AnonVmaInfo::from_raw(raw[i]));
    }
    return out;
}

}  // namespace devexcl
