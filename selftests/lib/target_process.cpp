#include "target_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devexcl/error.hpp"

namespace devexcl::test {

namespace {
// What the parent tells the target to do before it exits.
constexpr char kCheckThenExit = 'c';
constexpr char kExitUntouched = 'q';
}  // namespace

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
        const bool usable = mem->skip_reason().empty();
        std::uint64_t msg[3] = {usable ? mem->addr() : 0, usable ? mem->length() : 0,
                                usable ? mem->mark_pages() : 0};
        char how;
        if (::write(to_parent[1], msg, sizeof(msg)) != sizeof(msg) ||
            ::read(to_child[0], &how, 1) != 1) {
            ::_exit(1);
        }
        if (how == kExitUntouched || !usable) {
            ::_exit(0);
        }
        ::_exit(*mem->word(0) == mem->initial_word(0) ? 0 : 3);
    }
    ::close(to_child[0]);
    ::close(to_parent[1]);
    to_child_.reset(to_child[1]);
    from_child_.reset(to_parent[0]);
    std::uint64_t msg[3] = {};
    if (::read(from_child_.get(), msg, sizeof(msg)) != sizeof(msg)) {
        throw_last_errno("read from target");
    }
    addr_ = msg[0];
    length_ = msg[1];
    mark_pages_ = msg[2];
}

TargetProcess::~TargetProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

int TargetProcess::finish() {
    return release(kCheckThenExit);
}

int TargetProcess::exit_untouched() {
    return release(kExitUntouched);
}

int TargetProcess::release(char how) {
    if (::write(to_child_.get(), &how, 1) != 1) {
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
