// Each ioctl argument as one line, for failure messages that can be replayed.
#pragma once

#include <cstdint>
#include <string>

#include "devexcl/uapi.hpp"

namespace devexcl::fuzz {

std::string describe(const devexcl_bind& a);
std::string describe(const devexcl_range_op& a);
std::string describe(const devexcl_status_req& a);
std::string describe(const devexcl_access& a);
std::string describe(const devexcl_revocations& a);
std::string describe(const devexcl_inspect_page_req& a);
std::string describe(const devexcl_inspect_range_req& a);
std::string describe(const devexcl_inspect_vma_req& a);

// "NAME{...} at ARG"
template <typename T>
std::string describe_call(const char* name, const T& arg, std::uint64_t at);

}  // namespace devexcl::fuzz
