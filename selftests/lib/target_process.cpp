#include "target_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devexcl/error.hpp"

namespace devexcl::test {

TargetProcess::TargetProcess(MemoryKind kind) {
    int to_child[2], to_parent[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(to_parent, O_CLOEXEC) != 0) {
        throw_last_errno("pipe2");
    }
    pid_ = ::fork();
    if (pid_ < 0) {
        throw_last_errno("fork");
    }
    if (pid_ == 0) {
        auto mem = TestMemory::create(kind);
        std::uint64_t msg[2] = {mem->addr(), mem->length()};
        char c;
        if (::write(to_parent[1], msg, sizeof(msg)) != sizeof(msg) ||
            ::read(to_child[0], &c, 1) != 1) {
            ::_exit(1);
        }
        ::_exit(*mem->word(0) == mem->initial_word(0) ? 0 : 3);
    }
    ::close(to_child[0]);
    ::close(to_parent[1]);
    to_child_.reset(to_child[1]);
    from_child_.reset(to_parent[0]);
    std::uint64_t msg[2] = {};
    if (::read(from_child_.get(), msg, sizeof(msg)) != sizeof(msg)) {
        throw_last_errno("read from target");
    }
    addr_ = msg[0];
    length_ = msg[1];
}

TargetProcess::~TargetProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

int TargetProcess::finish() {
    char c = 0;
    if (::write(to_child_.get(), &c, 1) != 1) {
        throw_last_errno("write to target");
    }
    return reap();
}

int TargetProcess::kill_now() {
    ::kill(pid_, SIGKILL);
    return reap();
}

int TargetProcess::reap() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

}  // namespace devexcl::test
