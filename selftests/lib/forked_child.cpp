#include "forked_child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "devexcl/error.hpp"

namespace devexcl::test {

namespace {

// Closes every file descriptor but stdio and `a` and `b`: the child must
// not keep the parent's files (say, an open /dev/devexcl) in use.
void keep_only(int a, int b) {
    if (a > b) {
        std::swap(a, b);
    }
    const unsigned lo = static_cast<unsigned>(a), hi = static_cast<unsigned>(b);
    if (lo > 3) {
        ::close_range(3, lo - 1, 0);
    }
    if (hi > lo + 1) {
        ::close_range(lo + 1, hi - 1, 0);
    }
    ::close_range(hi + 1, ~0U, 0);
}

}  // namespace

void ChildChannel::send_bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(out_.get(), p, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw_errno(n < 0 ? errno : EPIPE, "write to the other process");
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

void ChildChannel::receive_bytes(void* data, std::size_t size) {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t n = ::read(in_.get(), p, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw_errno(n < 0 ? errno : EPIPE, "read from the other process");
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

ForkedChild::ForkedChild(const std::function<int(ChildChannel&)>& step) {
    int to_child[2], to_parent[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0) {
        throw_last_errno("pipe2");
    }
    UniqueFd child_in(to_child[0]), parent_out(to_child[1]);
    if (::pipe2(to_parent, O_CLOEXEC) != 0) {
        throw_last_errno("pipe2");
    }
    UniqueFd parent_in(to_parent[0]), child_out(to_parent[1]);
    pid_ = ::fork();
    if (pid_ < 0) {
        throw_last_errno("fork");
    }
    if (pid_ == 0) {
        parent_in.reset();
        parent_out.reset();
        keep_only(child_in.get(), child_out.get());
        ChildChannel channel(std::move(child_in), std::move(child_out));
        int status = kThrew;
        try {
            status = step(channel);
        } catch (...) {
        }
        ::_exit(status & 0xff);
    }
    channel_ = ChildChannel(std::move(parent_in), std::move(parent_out));
}

ForkedChild::~ForkedChild() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

int ForkedChild::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) {
            throw_last_errno("waitpid");
        }
    }
    pid_ = -1;
    return status;
}

int ForkedChild::kill_and_wait() {
    ::kill(pid_, SIGKILL);
    return wait();
}

}  // namespace devexcl::test
