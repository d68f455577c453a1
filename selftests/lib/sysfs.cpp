#include "sysfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "devexcl/error.hpp"
#include "devexcl/unique_fd.hpp"

namespace devexcl::test {

void write_file(const std::string& path, const std::string& value) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open", path);
    }
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
        throw_last_errno("write", path);
    }
}

std::string read_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open", path);
    }
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    if (n < 0) {
        throw_last_errno("read", path);
    }
    return out;
}

long long read_number(const std::string& path) {
    return std::strtoll(read_file(path).c_str(), nullptr, 10);
}

unsigned long long vmstat(const std::string& name) {
    std::istringstream in(read_file("/proc/vmstat"));
    std::string key;
    unsigned long long value;
    while (in >> key >> value) {
        if (key == name) {
            return value;
        }
    }
    return 0;
}

}  // namespace devexcl::test
