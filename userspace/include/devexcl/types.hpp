// Value types for what the module reports, with names for printing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "devexcl/uapi.hpp"

namespace devexcl {

enum class MarkCode : std::uint8_t {
    NotReached = DEVEXCL_MARK_NOT_REACHED,
    Marked = DEVEXCL_MARK_MARKED,
    AlreadyHeld = DEVEXCL_MARK_ALREADY_HELD,
    ThpTail = DEVEXCL_MARK_THP_TAIL,
    NotAnon = DEVEXCL_MARK_NOT_ANON,
    Hugetlb = DEVEXCL_MARK_HUGETLB,
    PageBusy = DEVEXCL_MARK_PAGE_BUSY,
    NotMapped = DEVEXCL_MARK_NOT_MAPPED,
    GupFailed = DEVEXCL_MARK_GUP_FAILED,
    NotConverted = DEVEXCL_MARK_NOT_CONVERTED,
    RetriesExhausted = DEVEXCL_MARK_RETRIES_EXHAUSTED,
    Userfaultfd = DEVEXCL_MARK_USERFAULTFD,
    ThpKernelBug = DEVEXCL_MARK_THP_KERNEL_BUG,
};

enum class Cause : std::uint8_t {
    None = DEVEXCL_CAUSE_NONE,
    CpuFault = DEVEXCL_CAUSE_CPU_FAULT,
    OtherDevice = DEVEXCL_CAUSE_OTHER_DEVICE,
    Clear = DEVEXCL_CAUSE_CLEAR,
    Unmap = DEVEXCL_CAUSE_UNMAP,
    ProtectionVma = DEVEXCL_CAUSE_PROTECTION_VMA,
    ProtectionPage = DEVEXCL_CAUSE_PROTECTION_PAGE,
    SoftDirty = DEVEXCL_CAUSE_SOFT_DIRTY,
    Release = DEVEXCL_CAUSE_RELEASE,
    Migrate = DEVEXCL_CAUSE_MIGRATE,
    Released = DEVEXCL_CAUSE_RELEASED,
    Unknown = DEVEXCL_CAUSE_UNKNOWN,
};

enum class DeviceState : std::uint8_t {
    NeverHeld = DEVEXCL_DEV_NEVER_HELD,
    Held = DEVEXCL_DEV_HELD,
    Revoked = DEVEXCL_DEV_REVOKED,
};

enum class PteKind : std::uint8_t {
    None = DEVEXCL_PTE_NONE,
    Present = DEVEXCL_PTE_PRESENT,
    DeviceExclusiveRead = DEVEXCL_PTE_DEVICE_EXCLUSIVE_READ,
    DeviceExclusiveWrite = DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE,
    Migration = DEVEXCL_PTE_MIGRATION,
    Swap = DEVEXCL_PTE_SWAP,
    DevicePrivate = DEVEXCL_PTE_DEVICE_PRIVATE,
    Marker = DEVEXCL_PTE_MARKER,
    Hwpoison = DEVEXCL_PTE_HWPOISON,
    Other = DEVEXCL_PTE_OTHER,
    NoVma = DEVEXCL_PTE_NO_VMA,
};

enum class AccessOp : std::uint8_t {
    Read = DEVEXCL_OP_READ,
    Write = DEVEXCL_OP_WRITE,
    Add = DEVEXCL_OP_ADD,
    Xchg = DEVEXCL_OP_XCHG,
    Cmpxchg = DEVEXCL_OP_CMPXCHG,
};

enum class AccessPath : std::uint8_t {
    Held = DEVEXCL_PATH_HELD,
    Reacquired = DEVEXCL_PATH_REACQUIRED,
};

// One page's mark result: why it was or was not taken.
struct PageMark {
    MarkCode code = MarkCode::NotReached;
    int error = 0;  // errno for refusals, 0 otherwise

    static PageMark from_raw(std::uint32_t raw) {
        return {static_cast<MarkCode>(DEVEXCL_MARK_RESULT_CODE(raw)),
                static_cast<int>(DEVEXCL_MARK_RESULT_ERRNO(raw))};
    }
    bool held() const { return code == MarkCode::Marked || code == MarkCode::AlreadyHeld; }
    bool operator==(const PageMark&) const = default;
};

struct MarkResult {
    std::uint64_t start = 0;
    std::vector<PageMark> pages;
    std::uint64_t marked = 0;
    std::uint64_t failed = 0;

    bool all_held() const;
};

struct ReleaseResult {
    std::uint64_t released = 0;    // pages the device gave up
    std::uint64_t unrestored = 0;  // of those, pages whose CPU mapping could not be faulted back
};

struct PageStatus {
    DeviceState device = DeviceState::NeverHeld;
    Cause cause = Cause::None;
    PteKind pte = PteKind::None;
    std::uint32_t pte_flags = 0;
    std::uint64_t revoke_seq = 0;

    static PageStatus from_raw(const devexcl_page_status& raw);
    bool operator==(const PageStatus&) const = default;
};

struct AccessResult {
    std::uint64_t old_value = 0;  // the value before the operation (READ: the value)
    AccessPath path = AccessPath::Held;
};

struct Counters {
    std::uint64_t marked = 0;
    std::uint64_t refused = 0;
    std::uint64_t held = 0;
    std::uint64_t released = 0;
    std::uint64_t device_ops = 0;
    std::uint64_t reacquires = 0;
    std::uint64_t mark_retries = 0;
    std::uint64_t revocations = 0;
    std::uint64_t revoked[DEVEXCL_CAUSE_COUNT] = {};
    std::uint64_t target_pid = 0;
    std::uint64_t context_id = 0;

    std::uint64_t revoked_by(Cause c) const { return revoked[static_cast<int>(c)]; }
};

struct Revocation {
    std::uint64_t seq = 0;
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t npages = 0;
    Cause cause = Cause::None;
    std::uint64_t trigger_pid = 0;
    std::string trigger_comm;
};

std::string_view to_string(MarkCode c);
std::string_view to_string(Cause c);
std::string_view to_string(DeviceState s);
std::string_view to_string(PteKind k);
std::string_view to_string(AccessOp op);
std::string_view to_string(AccessPath p);
// "write,dirty,soft-dirty" or "-".
std::string pte_flags_string(std::uint32_t flags);
// Parses "read", "write", "add", "xchg", "cmpxchg"; false if unknown.
bool parse_access_op(std::string_view name, AccessOp& op);

}  // namespace devexcl
