// Reading and writing the small text files of /proc and /sys.
#pragma once

#include <string>

namespace devexcl::test {

// Writes `value` to `path`; throws std::system_error with the errno.
void write_file(const std::string& path, const std::string& value);
// Reads `path` whole; throws std::system_error with the errno.
std::string read_file(const std::string& path);
// Reads the first integer of `path`.
long long read_number(const std::string& path);
// One counter of /proc/vmstat ("compact_stall"); 0 if this kernel has none by that name.
unsigned long long vmstat(const std::string& name);

}  // namespace devexcl::test
