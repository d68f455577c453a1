#include "fault_injection.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "devexcl/error.hpp"
#include "sysfs.hpp"

namespace devexcl::test {

namespace {

const std::string kFailslab = "/sys/kernel/debug/failslab/";

std::string slab_dir(const std::string& cache) {
    return "/sys/kernel/slab/" + cache + "/";
}

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

// Writes a number to an open /proc file without allocating.
void write_number(const UniqueFd& fd, long long value, const char* what) {
    char text[24];
    const int n = std::snprintf(text, sizeof(text), "%lld", value);
    if (::pwrite(fd.get(), text, static_cast<std::size_t>(n), 0) != n) {
        throw_last_errno("write", what);
    }
}

}  // namespace

std::string failslab_unavailable(const std::string& cache) {
    if (!exists("/proc/thread-self/fail-nth")) {
        return "CONFIG_FAULT_INJECTION is not set: no /proc/thread-self/fail-nth";
    }
    if (!exists(kFailslab)) {
        return "CONFIG_FAILSLAB or CONFIG_FAULT_INJECTION_DEBUG_FS is not set: no " + kFailslab;
    }
    if (!exists(slab_dir(cache) + "failslab")) {
        return "no " + slab_dir(cache) + "failslab (SLUB's sysfs)";
    }
    // A merged cache's flag is every alias's (mm/slub.c failslab_store()
    // refuses it): the cache needs a slab of its own.
    if (read_number(slab_dir(cache) + "aliases") != 0) {
        return cache + " shares a merged slab cache: CONFIG_SLAB_MERGE_DEFAULT is set";
    }
    // 6.1's attribute is read-only (mm/slub.c:5622 SLAB_ATTR_RO(failslab)):
    // there only the boot can set the flag (scripts/vm.sh does).
    struct stat st {};
    if (read_number(slab_dir(cache) + "failslab") == 0 &&
        (::stat((slab_dir(cache) + "failslab").c_str(), &st) != 0 || (st.st_mode & S_IWUSR) == 0)) {
        return slab_dir(cache) + "failslab is read-only: boot with slub_debug=A," + cache;
    }
    return {};
}

CacheFailslab::CacheFailslab(const std::string& cache) {
    object_size_ = static_cast<std::uint64_t>(read_number(slab_dir(cache) + "object_size"));
    try {
        // Probability first: it is restored last, so nothing fails while
        // the other knobs go back.
        set(kFailslab + "probability", "0");
        set(kFailslab + "verbose", "0");
        set(kFailslab + "task-filter", "Y");
        set(kFailslab + "interval", "1");
        set(kFailslab + "times", "-1");
        set(kFailslab + "space", "0");
        set(kFailslab + "ignore-gfp-wait", "N");
        set(kFailslab + "cache-filter", "Y");
        // Set at boot where the attribute is read-only; left as it is then.
        if (read_number(slab_dir(cache) + "failslab") == 0) {
            set(slab_dir(cache) + "failslab", "1");
        }
    } catch (...) {
        // The destructor does not run for a constructor that threw.
        restore();
        throw;
    }
}

CacheFailslab::~CacheFailslab() {
    restore();
}

void CacheFailslab::restore() noexcept {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
        try {
            write_file(it->path, it->value);
        } catch (const std::exception& e) {
            // Nothing to do about it here but say so: later tests may fail.
            std::fprintf(stderr, "# could not restore %s: %s\n", it->path.c_str(), e.what());
        }
    }
    saved_.clear();
}

void CacheFailslab::set(const std::string& path, const std::string& value) {
    bool known = false;
    for (const Saved& s : saved_) {
        known = known || s.path == path;
    }
    if (!known) {
        std::string old = read_file(path);
        while (!old.empty() && old.back() == '\n') {
            old.pop_back();
        }
        saved_.push_back({path, old});
    }
    write_file(path, value);
}

void CacheFailslab::fail_tasks_after(unsigned allocations) {
    // An allocation passes while space > object_size, and takes it off.
    set(kFailslab + "space", std::to_string(allocations * object_size_ + 1));
    set(kFailslab + "probability", "100");
}

void CacheFailslab::stop_failing_tasks() {
    set(kFailslab + "probability", "0");
}

ThreadFaults::ThreadFaults()
    : fail_nth_(::open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC)),
      make_it_fail_(::open("/proc/thread-self/make-it-fail", O_RDWR | O_CLOEXEC)) {
    if (!fail_nth_ || !make_it_fail_) {
        throw_last_errno("open", "/proc/thread-self/fail-nth, make-it-fail");
    }
}

ThreadFaults::~ThreadFaults() {
    // Best effort: a failure here leaves only this thread armed.
    ::pwrite(make_it_fail_.get(), "0", 1, 0);
    ::pwrite(fail_nth_.get(), "0", 1, 0);
}

void ThreadFaults::fail_nth(unsigned n) {
    write_number(fail_nth_, n, "/proc/thread-self/fail-nth");
}

unsigned ThreadFaults::fail_nth_left() const {
    char text[24] = {};
    if (::pread(fail_nth_.get(), text, sizeof(text) - 1, 0) < 0) {
        throw_last_errno("read", "/proc/thread-self/fail-nth");
    }
    return static_cast<unsigned>(std::strtoul(text, nullptr, 10));
}

void ThreadFaults::make_it_fail(bool on) {
    write_number(make_it_fail_, on ? 1 : 0, "/proc/thread-self/make-it-fail");
}

}  // namespace devexcl::test
