#include "devexcl/version.hpp"

#include <cerrno>

#include "devexcl/error.hpp"
#include "devexcl/uapi.hpp"

namespace devexcl {

std::string AbiVersion::string() const {
    return std::to_string(major) + '.' + std::to_string(minor);
}

std::string LibraryVersion::string() const {
    return std::to_string(major) + '.' + std::to_string(minor) + '.' + std::to_string(patch);
}

LibraryVersion library_version() noexcept {
    // Compiled into the library: a caller built against other headers
    // still learns what it runs with.
    return {DEVEXCL_VERSION_MAJOR, DEVEXCL_VERSION_MINOR, DEVEXCL_VERSION_PATCH,
            AbiVersion{DEVEXCL_ABI_MAJOR, DEVEXCL_ABI_MINOR}};
}

std::string abi_mismatch_message(AbiVersion module, AbiVersion built_for) {
    if (abi_compatible(module, built_for)) {
        return {};
    }
    const std::string head = "the loaded devexcl.ko speaks ABI " + module.string() +
                             ", libdevexcl " + library_version().string();
    const std::string wanted =
        built_for.string() + " or a later " + std::to_string(built_for.major) + ".x";
    if (module.major != built_for.major) {
        return head + " was built for " + built_for.string() +
               " and a major change breaks callers: rebuild libdevexcl and its programs " +
               "against the loaded module's uapi/devexcl.h, or load (rmmod, insmod) a " +
               "devexcl.ko of ABI " + wanted;
    }
    return head + " needs " + wanted + ": load (rmmod, insmod) a devexcl.ko built from " +
           "the library's source, or rebuild libdevexcl against the loaded module's " +
           "uapi/devexcl.h";
}

void require_compatible_abi(AbiVersion module, AbiVersion built_for, const std::string& context) {
    if (const std::string message = abi_mismatch_message(module, built_for); !message.empty()) {
        throw_errno(EPROTO, context.empty() ? message : context + ": " + message);
    }
}

}  // namespace devexcl
