#include "tracefs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "devexcl/error.hpp"
#include "devexcl/unique_fd.hpp"
#include "sysfs.hpp"

namespace devexcl::test {

namespace {

constexpr const char* kTracefs = "/sys/kernel/tracing";
// debugfs mounts tracefs here on first access (the VM's init mounts debugfs).
constexpr const char* kDebugfsTracing = "/sys/kernel/debug/tracing";

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

bool kernel_has_tracefs() {
    std::istringstream in(read_file("/proc/filesystems"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() >= 7 && line.compare(line.size() - 7, 7, "tracefs") == 0) {
            return true;
        }
    }
    return false;
}

// The number in `s`, all of it, in base 0 (decimal, 0x hex).
template <typename T, typename Parse>
T parse_whole(const std::string& s, Parse parse) {
    if (s.empty()) {
        throw std::invalid_argument("empty field");
    }
    char* end = nullptr;
    errno = 0;
    const T v = parse(s.c_str(), &end, 0);
    if (errno != 0 || end == s.c_str() || *end != '\0') {
        throw std::invalid_argument("not a number: " + s);
    }
    return v;
}

// One line of a trace, or nothing if the line is no event.
std::optional<TraceEvent> parse_line(const std::string& line) {
    if (line.empty() || line[0] == '#') {
        return std::nullopt;
    }
    // "comm-pid [cpu] flags timestamp: name: fields"; comm may hold '-'.
    const std::size_t cpu = line.find(" [");
    if (cpu == std::string::npos) {
        return std::nullopt;
    }
    const std::size_t dash = line.rfind('-', cpu);
    const std::size_t stamp_end = line.find(": ", line.find(']', cpu));
    if (dash == std::string::npos || stamp_end == std::string::npos) {
        return std::nullopt;
    }
    const std::size_t name_end = line.find(": ", stamp_end + 2);
    if (name_end == std::string::npos) {
        return std::nullopt;
    }
    TraceEvent ev;
    ev.text = line;
    ev.name = line.substr(stamp_end + 2, name_end - stamp_end - 2);
    try {
        ev.pid = static_cast<pid_t>(std::stol(line.substr(dash + 1, cpu - dash - 1)));
    } catch (const std::logic_error&) {
        return std::nullopt;
    }
    std::istringstream fields(line.substr(name_end + 2));
    std::string token;
    while (fields >> token) {
        const std::size_t eq = token.find('=');
        if (eq != std::string::npos) {
            ev.fields[token.substr(0, eq)] = token.substr(eq + 1);
        }
    }
    return ev;
}

}  // namespace

std::string tracefs_root() {
    for (const char* dir : {kTracefs, kDebugfsTracing}) {
        if (exists(std::string(dir) + "/trace")) {
            return dir;
        }
    }
    if (!exists("/proc/filesystems") || !kernel_has_tracefs()) {
        return {};
    }
    if (::mount("nodev", kTracefs, "tracefs", 0, nullptr) != 0) {
        throw_last_errno("mount tracefs on", kTracefs);
    }
    return kTracefs;
}

std::uint64_t trace_event_id(const std::string& root, const std::string& system,
                             const std::string& event) {
    return static_cast<std::uint64_t>(
        read_number(root + "/events/" + system + "/" + event + "/id"));
}

std::uint64_t TraceEvent::u64(const std::string& key) const {
    return parse_whole<std::uint64_t>(str(key), std::strtoull);
}

std::int64_t TraceEvent::s64(const std::string& key) const {
    return parse_whole<std::int64_t>(str(key), std::strtoll);
}

std::vector<TraceEvent> parse_trace(const std::string& text) {
    std::vector<TraceEvent> events;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (auto ev = parse_line(line)) {
            events.push_back(std::move(*ev));
        }
    }
    return events;
}

TraceInstance::TraceInstance(const std::string& root, const std::string& name)
    : dir_(root + "/instances/" + name) {
    if (::mkdir(dir_.c_str(), 0755) != 0) {
        if (errno != EEXIST || ::rmdir(dir_.c_str()) != 0 || ::mkdir(dir_.c_str(), 0755) != 0) {
            throw_last_errno("mkdir", dir_);
        }
    }
}

TraceInstance::~TraceInstance() {
    remove();
}

void TraceInstance::enable(const std::string& system, bool on) {
    write_file(dir_ + "/events/" + system + "/enable", on ? "1" : "0");
    if (on && std::find(enabled_.begin(), enabled_.end(), system) == enabled_.end()) {
        enabled_.push_back(system);
    }
}

std::vector<TraceEvent> TraceInstance::take() {
    // trace_pipe consumes what it returns, event by event: nothing recorded
    // between a read and a clear can fall between the two.
    const std::string path = dir_ + "/trace_pipe";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
        throw_last_errno("open", path);
    }
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n > 0) {
            text.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno == EAGAIN) {
            break;
        } else if (errno != EINTR) {
            throw_last_errno("read", path);
        }
    }
    return parse_trace(text);
}

void TraceInstance::remove() noexcept {
    for (const std::string& system : enabled_) {
        try {
            write_file(dir_ + "/events/" + system + "/enable", "0");
        } catch (const std::system_error&) {
            // Removing the instance below disables them all the same.
        }
    }
    // Clear the buffer first: its events are of no use to anyone now.
    UniqueFd trace(::open((dir_ + "/trace").c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    trace.reset();
    ::rmdir(dir_.c_str());
}

}  // namespace devexcl::test
