#include "run_as.hpp"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace devexcl::test {

int run_as(uid_t uid, gid_t gid, const std::function<int()>& step) {
    pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        // setgroups before setgid/setuid: afterwards we no longer may.
        if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
            ::setresuid(uid, uid, uid) != 0) {
            ::_exit(254);
        }
        // Leaving root drops every capability; make sure of it.
        if (::getuid() != uid || ::geteuid() != uid) {
            ::_exit(254);
        }
        int result = step();
        ::_exit(result & 0xff);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    if (WIFSIGNALED(status)) {
        return -WTERMSIG(status);
    }
    int code = WEXITSTATUS(status);
    return code == 254 ? -1 : code;
}

}  // namespace devexcl::test
