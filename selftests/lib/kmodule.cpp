#include "kmodule.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "devexcl/error.hpp"
#include "devexcl/unique_fd.hpp"
#include "sysfs.hpp"

namespace devexcl::test {

std::string module_path() {
    const char* env = std::getenv("DEVEXCL_KO");
    return env != nullptr ? env : "/opt/devexcl/devexcl.ko";
}

bool module_loaded(const std::string& name) {
    return ::access(("/sys/module/" + name).c_str(), F_OK) == 0;
}

long long module_refcount(const std::string& name) {
    return read_number("/sys/module/" + name + "/refcnt");
}

std::error_code load_module(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return errno_code(errno);
    }
    if (::syscall(SYS_finit_module, fd.get(), "", 0) != 0) {
        return errno_code(errno);
    }
    return {};
}

std::error_code unload_module(const std::string& name) {
    if (::syscall(SYS_delete_module, name.c_str(), O_NONBLOCK) != 0) {
        return errno_code(errno);
    }
    return {};
}

void ensure_module_loaded() {
    if (module_loaded()) {
        return;
    }
    if (auto ec = load_module()) {
        throw std::system_error(ec, "finit_module " + module_path());
    }
}

}  // namespace devexcl::test
