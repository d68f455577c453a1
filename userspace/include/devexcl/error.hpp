// Errors carry the errno: std::system_error in std::generic_category.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

namespace devexcl {

inline std::error_code errno_code(int err) {
    return {err, std::generic_category()};
}

[[noreturn]] inline void throw_errno(int err, std::string_view what) {
    throw std::system_error(errno_code(err), std::string(what));
}

[[noreturn]] inline void throw_last_errno(std::string_view what) {
    throw_errno(errno, what);
}

// "what subject", e.g. "open /proc/1/pagemap": errno is read before the
// message is built, whose allocation could change it.
[[noreturn]] inline void throw_last_errno(std::string_view what, std::string_view subject) {
    const int err = errno;
    std::string message(what);
    message.append(" ").append(subject);
    throw_errno(err, message);
}

// The errno an exception carries, or 0 if it is not an errno-carrying system_error.
inline int errno_of(const std::system_error& e) {
    return e.code().category() == std::generic_category() ||
                   e.code().category() == std::system_category()
               ? e.code().value()
               : 0;
}

}  // namespace devexcl
