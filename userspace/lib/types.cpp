#include "devexcl/types.hpp"

#include "bit_names.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace devexcl {

bool MarkResult::all_held() const {
    return std::all_of(pages.begin(), pages.end(), [](const PageMark& p) { return p.held(); });
}

PageStatus PageStatus::from_raw(const devexcl_page_status& raw) {
    return {static_cast<DeviceState>(raw.device), static_cast<Cause>(raw.cause),
            static_cast<PteKind>(raw.pte), raw.pte_flags, raw.revoke_seq};
}

std::string_view to_string(MarkCode c) {
    switch (c) {
        case MarkCode::NotReached:
            return "not-reached";
        case MarkCode::Marked:
            return "marked";
        case MarkCode::AlreadyHeld:
            return "already-held";
        case MarkCode::ThpTail:
            return "thp-tail";
        case MarkCode::NotAnon:
            return "not-anon";
        case MarkCode::Hugetlb:
            return "hugetlb";
        case MarkCode::PageBusy:
            return "page-busy";
        case MarkCode::NotMapped:
            return "not-mapped";
        case MarkCode::GupFailed:
            return "gup-failed";
        case MarkCode::NotConverted:
            return "not-converted";
        case MarkCode::RetriesExhausted:
            return "retries-exhausted";
        case MarkCode::Userfaultfd:
            return "userfaultfd";
        case MarkCode::ThpKernelBug:
            return "thp-kernel-bug";
    }
    return "unknown";
}

std::string_view to_string(Cause c) {
    switch (c) {
        case Cause::None:
            return "-";
        case Cause::CpuFault:
            return "cpu-fault";
        case Cause::OtherDevice:
            return "other-device";
        case Cause::Clear:
            return "clear";
        case Cause::Unmap:
            return "unmap";
        case Cause::ProtectionVma:
            return "protection-vma";
        case Cause::ProtectionPage:
            return "protection-page";
        case Cause::SoftDirty:
            return "soft-dirty";
        case Cause::Release:
            return "release";
        case Cause::Migrate:
            return "migrate";
        case Cause::Released:
            return "released";
        case Cause::Unknown:
            return "unknown";
    }
    return "unknown";
}

std::string_view to_string(DeviceState s) {
    switch (s) {
        case DeviceState::NeverHeld:
            return "never-held";
        case DeviceState::Held:
            return "held";
        case DeviceState::Revoked:
            return "revoked";
    }
    return "unknown";
}

std::string_view to_string(PteKind k) {
    switch (k) {
        case PteKind::None:
            return "none";
        case PteKind::Present:
            return "present";
        case PteKind::DeviceExclusiveRead:
            return "device-exclusive-read";
        case PteKind::DeviceExclusiveWrite:
            return "device-exclusive-write";
        case PteKind::Migration:
            return "migration";
        case PteKind::Swap:
            return "swap";
        case PteKind::DevicePrivate:
            return "device-private";
        case PteKind::Marker:
            return "marker";
        case PteKind::Hwpoison:
            return "hwpoison";
        case PteKind::Other:
            return "other";
        case PteKind::NoVma:
            return "no-vma";
    }
    return "unknown";
}

namespace {

constexpr std::array<std::pair<AccessOp, std::string_view>, 5> kOps = {{
    {AccessOp::Read, "read"},
    {AccessOp::Write, "write"},
    {AccessOp::Add, "add"},
    {AccessOp::Xchg, "xchg"},
    {AccessOp::Cmpxchg, "cmpxchg"},
}};

constexpr std::array<std::pair<std::uint32_t, std::string_view>, 9> kPteFlags = {{
    {DEVEXCL_PTEF_WRITE, "write"},
    {DEVEXCL_PTEF_DIRTY, "dirty"},
    {DEVEXCL_PTEF_YOUNG, "young"},
    {DEVEXCL_PTEF_SOFT_DIRTY, "soft-dirty"},
    {DEVEXCL_PTEF_UFFD_WP, "uffd-wp"},
    {DEVEXCL_PTEF_PMD, "pmd"},
    {DEVEXCL_PTEF_PUD, "pud"},
    {DEVEXCL_PTEF_ZERO_PAGE, "zero-page"},
    {DEVEXCL_PTEF_HUGETLB, "hugetlb"},
}};

}  // namespace

std::string_view to_string(AccessOp op) {
    for (const auto& [value, name] : kOps) {
        if (value == op) {
            return name;
        }
    }
    return "unknown";
}

bool parse_access_op(std::string_view name, AccessOp& op) {
    for (const auto& [value, known] : kOps) {
        if (known == name) {
            op = value;
            return true;
        }
    }
    return false;
}

std::string_view to_string(AccessPath p) {
    return p == AccessPath::Reacquired ? "reacquired" : "held";
}

std::string pte_flags_string(std::uint32_t flags) {
    return detail::join_bits(flags, kPteFlags);
}

}  // namespace devexcl
