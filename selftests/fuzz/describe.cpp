#include "describe.hpp"

#include <initializer_list>
#include <utility>

#include "report.hpp"

namespace devexcl::fuzz {

namespace {

std::string fields(std::initializer_list<std::pair<const char*, std::uint64_t>> list) {
    std::string out = "{";
    for (const auto& [name, value] : list) {
        out += (out.size() > 1 ? " " : "") + std::string(name) + "=" + hex(value);
    }
    return out + "}";
}

}  // namespace

std::string describe(const devexcl_bind& a) {
    return fields(
        {{"pid", a.pid}, {"pidfd", a.pidfd}, {"flags", a.flags}, {"reserved", a.reserved}});
}

std::string describe(const devexcl_range_op& a) {
    return fields({{"start", a.start},
                   {"length", a.length},
                   {"flags", a.flags},
                   {"results", a.results},
                   {"reserved", a.reserved}});
}

std::string describe(const devexcl_status_req& a) {
    return fields({{"start", a.start},
                   {"length", a.length},
                   {"flags", a.flags},
                   {"entries", a.entries},
                   {"reserved", a.reserved}});
}

std::string describe(const devexcl_access& a) {
    return fields({{"addr", a.addr},
                   {"op", a.op},
                   {"flags", a.flags},
                   {"value", a.value},
                   {"expected", a.expected},
                   {"reserved", a.reserved}});
}

std::string describe(const devexcl_revocations& a) {
    return fields({{"records", a.records}, {"count", a.count}, {"reserved", a.reserved}});
}

std::string describe(const devexcl_inspect_page_req& a) {
    return fields({{"pid", a.pid},
                   {"addr", a.addr},
                   {"flags", a.flags},
                   {"entries", a.entries},
                   {"max_entries", a.max_entries},
                   {"reserved", a.reserved}});
}

std::string describe(const devexcl_inspect_range_req& a) {
    return fields({{"pid", a.pid},
                   {"start", a.start},
                   {"length", a.length},
                   {"flags", a.flags},
                   {"records", a.records},
                   {"max_records", a.max_records},
                   {"cursor", a.cursor},
                   {"reserved", a.reserved}});
}

std::string describe(const devexcl_inspect_vma_req& a) {
    return fields({{"pid", a.pid},
                   {"addr", a.addr},
                   {"flags", a.flags},
                   {"chain", a.chain},
                   {"max_chain", a.max_chain},
                   {"vma_lock", a.vma_lock}});
}

template <typename T>
std::string describe_call(const char* name, const T& arg, std::uint64_t at) {
    return std::string(name) + describe(arg) + " at " + hex(at);
}

template std::string describe_call(const char*, const devexcl_bind&, std::uint64_t);
template std::string describe_call(const char*, const devexcl_range_op&, std::uint64_t);
template std::string describe_call(const char*, const devexcl_status_req&, std::uint64_t);
template std::string describe_call(const char*, const devexcl_access&, std::uint64_t);
template std::string describe_call(const char*, const devexcl_revocations&, std::uint64_t);
template std::string describe_call(const char*, const devexcl_inspect_page_req&, std::uint64_t);
template std::string describe_call(const char*, const devexcl_inspect_range_req&, std::uint64_t);
template std::string describe_call(const char*, const devexcl_inspect_vma_req&, std::uint64_t);

}  // namespace devexcl::fuzz
