#include "run_as.hpp"

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

namespace devexcl::test {

namespace {

constexpr int kSetupFailed = 254;

}  // namespace

int run_in_child(const std::function<int()>& step) {
    pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        ::_exit(step() & 0xff);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    if (WIFSIGNALED(status)) {
        return -WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

int run_as(uid_t uid, gid_t gid, const std::function<int()>& step) {
    int result = run_in_child([&] {
        // setgroups before setgid/setuid: afterwards we no longer may.
        if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
            ::setresuid(uid, uid, uid) != 0 || ::geteuid() != uid) {
            return kSetupFailed;
        }
        return step();
    });
    return result == kSetupFailed ? -1 : result;
}

}  // namespace devexcl::test
